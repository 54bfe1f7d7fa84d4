//! Event-to-action latency of the live bot: a message arrives on the (fake) gateway, and
//! the delete request leaves for the (fake) REST API. The real bot code runs in-process
//! against the local fakes from `tests/support`; nothing reaches the internet.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use steward::discord::bot::{self, BotConfig, ShardPlan};
use support::fake_gateway::FakeGateway;
use support::fake_rest::{FakeRest, State};
use support::payloads;

const GUILD: u64 = 1;
const BOT: u64 = 42;
const MESSAGES: u64 = 10_000;
/// Messages a second the gateway delivers: a very busy server, not a flood test.
const RATE: u64 = 500;

const RULES: &str =
    "rules:\n  - name: banned\n    words: {words: [badword]}\n    actions: [delete]\n";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(measure());
}

async fn measure() {
    let gateway = FakeGateway::start(BOT, vec![GUILD]).await;
    let rest = FakeRest::start(State {
        gateway_url: gateway.url.clone(),
        bot: BOT,
        ..State::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = steward::rules::parse(RULES, "bench.yaml".as_ref(), ".".as_ref()).expect("rules");
    let config = BotConfig {
        token: "bench-token".into(),
        proxy: Some(rest.url.clone()),
        rules,
        rules_path: None,
        reload_every: Duration::from_secs(3600),
        metrics_addr: None,
        shards: ShardPlan::Auto,
        database: dir.path().join("bench.db").display().to_string(),
        dev_guild: None,
        process_timeout: steward::engine::time::Duration::from_secs(10),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = bot::run(config, async {
        let _ = stopped.await;
    });
    let (result, ()) = tokio::join!(running, drive(&gateway, &rest, stop));
    result.expect("the bot ran");
}

/// Sends the messages, collects the deletes, stops the bot and prints the figures.
async fn drive(gateway: &FakeGateway, rest: &FakeRest, stop: tokio::sync::oneshot::Sender<()>) {
    gateway.wait_for_sessions(1, Duration::from_secs(60)).await;

    let mut sent = Vec::with_capacity(MESSAGES as usize);
    let start = Instant::now();
    for i in 0..MESSAGES {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        let mut m = payloads::message(
            100_000 + i,
            10,
            payloads::user(1000 + i % 500, "member", false),
            "this is a badword",
            json!([]),
        );
        m["guild_id"] = json!(GUILD.to_string());
        m["timestamp"] = json!(steward::discord::now().rfc3339());
        sent.push(Instant::now());
        gateway.send("MESSAGE_CREATE", m);
    }
    let deadline = Instant::now() + Duration::from_secs(60);
    let latencies = loop {
        let deletes: Vec<(u64, Instant)> = rest
            .actions()
            .iter()
            .filter(|r| r.method == "DELETE")
            .filter_map(|r| Some((r.path.rsplit('/').next()?.parse::<u64>().ok()?, r.at)))
            .collect();
        if deletes.len() as u64 >= MESSAGES || Instant::now() > deadline {
            break deletes
                .into_iter()
                .map(|(id, at)| at.duration_since(sent[(id - 100_000) as usize]))
                .collect::<Vec<_>>();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let _ = stop.send(());

    let mut micros: Vec<u128> = latencies.iter().map(Duration::as_micros).collect();
    micros.sort_unstable();
    let pick = |q: f64| micros[((micros.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "{} of {MESSAGES} messages deleted at {RATE} msgs/s; message in -> delete out: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        micros.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
}
