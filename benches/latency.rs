//! Event-to-action latency of the live bot: a message arrives on the (fake) gateway, and
//! the delete request leaves for the (fake) REST API. The real bot code runs in-process
//! against the local fakes from `tests/support`; nothing reaches the internet.

#[path = "../tests/support/mod.rs"]
mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
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

/// The same rules with a message log: deletions members make are posted there.
const LOGGED_RULES: &str = "settings:\n  logs: {messages: \"330\"}\nrules:\n  - name: banned\n    \
                            words: {words: [badword]}\n    actions: [delete]\n";
const MESSAGE_LOG: u64 = 330;
/// Messages members delete themselves, each logged.
const DELETIONS: u64 = 5_000;

fn main() {
    // First, while no other thread allocates or frees.
    kept_memory();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(measure(RULES, Drive::Deletes));
    runtime.block_on(measure(LOGGED_RULES, Drive::Log));
}

/// What a run measures.
#[derive(Clone, Copy)]
enum Drive {
    /// A rule's deletion of each message.
    Deletes,
    /// The message log's post of each message its author deletes.
    Log,
}

async fn measure(rules: &str, drive: Drive) {
    let gateway = FakeGateway::start(BOT, vec![GUILD]).await;
    let rest = FakeRest::start(State {
        gateway_url: gateway.url.clone(),
        bot: BOT,
        ..State::default()
    })
    .await;
    let dir = tempfile::tempdir().expect("temp dir");
    let rules = steward::rules::parse(rules, "bench.yaml".as_ref(), ".".as_ref()).expect("rules");
    let config = BotConfig {
        token: "bench-token".into(),
        proxy: Some(rest.url.clone()),
        rules,
        rules_path: None,
        reload_every: Duration::from_secs(3600),
        metrics_addr: None,
        shards: ShardPlan::Auto,
        database: dir.path().join("bench.db").display().to_string(),
        anchor: None,
        dev_guild: None,
        process_timeout: steward::engine::time::Duration::from_secs(10),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = bot::run(config, async {
        let _ = stopped.await;
    });
    let driven = async {
        gateway.wait_for_sessions(1, Duration::from_secs(60)).await;
        match drive {
            Drive::Deletes => deletes(&gateway, &rest).await,
            Drive::Log => logged_deletions(&gateway, &rest).await,
        }
        let _ = stop.send(());
    };
    let (result, ()) = tokio::join!(running, driven);
    result.expect("the bot ran");
}

/// Sends messages with a listed word, collects the deletes and prints the figures.
async fn deletes(gateway: &FakeGateway, rest: &FakeRest) {
    let mut sent = Vec::with_capacity(MESSAGES as usize);
    let start = Instant::now();
    for i in 0..MESSAGES {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        sent.push(Instant::now());
        gateway.send("MESSAGE_CREATE", message(100_000 + i, "this is a badword"));
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
    report(
        &format!("messages deleted at {RATE} msgs/s; message in -> delete out"),
        MESSAGES,
        &latencies,
    );
}

/// Sends ordinary messages, then deletes them as their authors would, and prints how long
/// each deletion took to reach the message log.
async fn logged_deletions(gateway: &FakeGateway, rest: &FakeRest) {
    for i in 0..DELETIONS {
        gateway.send("MESSAGE_CREATE", message(200_000 + i, &format!("note {i}")));
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut sent = Vec::with_capacity(DELETIONS as usize);
    let start = Instant::now();
    for i in 0..DELETIONS {
        let due = start + Duration::from_micros(i * 1_000_000 / RATE);
        tokio::time::sleep_until(due.into()).await;
        sent.push(Instant::now());
        gateway.send(
            "MESSAGE_DELETE",
            json!({"id": (200_000 + i).to_string(), "channel_id": "10",
                   "guild_id": GUILD.to_string()}),
        );
    }
    let path = format!("/channels/{MESSAGE_LOG}/messages");
    let deadline = Instant::now() + Duration::from_secs(60);
    let latencies = loop {
        let posts: Vec<(u64, Instant)> = rest
            .actions()
            .iter()
            .filter(|r| r.path == path)
            .filter_map(|r| {
                let text = r.body["embeds"][0]["description"].as_str()?;
                Some((text.strip_prefix("note ")?.parse::<u64>().ok()?, r.at))
            })
            .collect();
        if posts.len() as u64 >= DELETIONS || Instant::now() > deadline {
            break posts
                .into_iter()
                .map(|(i, at)| at.duration_since(sent[i as usize]))
                .collect::<Vec<_>>();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    report(
        &format!("deletions logged at {RATE} deletions/s; delete in -> log post out"),
        DELETIONS,
        &latencies,
    );
}

/// A member's message in channel 10 of the server, sent now.
fn message(id: u64, text: &str) -> serde_json::Value {
    let mut m = payloads::message(
        id,
        10,
        payloads::user(1000 + id % 500, "member", false),
        text,
        json!([]),
    );
    m["guild_id"] = json!(GUILD.to_string());
    m["timestamp"] = json!(steward::discord::now().rfc3339());
    m
}

fn report(what: &str, expected: u64, latencies: &[Duration]) {
    let mut micros: Vec<u128> = latencies.iter().map(Duration::as_micros).collect();
    micros.sort_unstable();
    if micros.is_empty() {
        println!("0 of {expected} {what}");
        return;
    }
    let pick = |q: f64| micros[((micros.len() as f64 - 1.0) * q) as usize] as f64 / 1000.0;
    println!(
        "{} of {expected} {what}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        micros.len(),
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
}

/// Heap bytes the message log's retention holds per 1,000 messages of ordinary chat
/// (20 to 120 characters, one in ten with an attachment).
fn kept_memory() {
    use steward::engine::event::{ChannelId, GuildId, MessageId, UserId};
    use steward::engine::time::{Duration as Span, Timestamp};
    use steward::server_log::{KeptMessage, KeptMessages, Retention};
    const KEPT: u64 = 100_000;
    let retention = Retention {
        keep: Span::from_secs(86_400),
        max: KEPT as usize,
    };
    let before = ALLOCATED.load(Ordering::Relaxed);
    let kept = KeptMessages::new(KEPT as usize);
    let words = [
        "hello", "anyone", "playing", "tonight", "the", "new", "patch", "is", "out",
    ];
    for i in 0..KEPT {
        let length = 20 + (i * 7919 % 101) as usize;
        let mut text = String::new();
        let mut w = i as usize;
        while text.len() < length {
            text.push_str(words[w % words.len()]);
            text.push(' ');
            w = w.wrapping_mul(31).wrapping_add(7);
        }
        let attachments: &[&str] = if i % 10 == 0 {
            &["screenshot.png"]
        } else {
            &[]
        };
        let message = KeptMessage::new(
            ChannelId(10),
            UserId(1000 + i % 500),
            &text,
            attachments,
            Timestamp(0),
        );
        kept.keep(GuildId(1), MessageId(i), message, Timestamp(0), retention);
    }
    let held = ALLOCATED.load(Ordering::Relaxed).saturating_sub(before);
    println!(
        "message log retention: {} messages held, {:.0} KiB per 1,000 messages",
        kept.len(),
        held as f64 / KEPT as f64 * 1000.0 / 1024.0
    );
}

/// Counts heap bytes in use, for the retention's figure.
struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;
