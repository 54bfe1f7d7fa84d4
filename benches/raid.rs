//! A 1,000-account raid through the real binary and the local fake Discord: the time from
//! the first join to the last ban request, and how many ban calls it took. Two shapes: all
//! joins at once, and one join every 8 ms (the raid takes 8 s to arrive). Several runs of
//! each; the median and the worst are printed. Nothing reaches the internet.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::{Duration, Instant};

use support::bot::{Bot, snowflake_at};

const ACCOUNTS: u64 = 1000;
const RUNS: usize = 5;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    for pace in [Duration::ZERO, Duration::from_millis(8)] {
        let mut times = Vec::new();
        let mut calls = Vec::new();
        for _ in 0..RUNS {
            let (took, used) = runtime.block_on(raid(pace));
            times.push(took);
            calls.push(used);
        }
        times.sort();
        println!(
            "raid of {ACCOUNTS}, a join every {pace:?}: first join to last ban p50 {:?}, worst {:?}; ban calls {:?}",
            times[times.len() / 2],
            times[times.len() - 1],
            calls
        );
    }
}

/// One raid; returns the time from the first join to the last ban request, and the calls.
async fn raid(pace: Duration) -> (Duration, usize) {
    let bot = Bot::start().await;
    bot.cache_the_guild().await;
    let now_ms = steward::discord::now().0 as u64;
    let started = Instant::now();
    for i in 0..ACCOUNTS {
        bot.join_now(snowflake_at(now_ms - 3_600_000, i), &format!("user{i}"));
        if !pace.is_zero() {
            tokio::time::sleep_until((started + pace * (i as u32 + 1)).into()).await;
        }
    }
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let actions = bot.rest.actions();
        let bans: Vec<_> = actions
            .iter()
            .filter(|r| r.path.ends_with("/bulk-ban") || r.path.contains("/bans/"))
            .collect();
        let banned: usize = bans
            .iter()
            .map(|r| r.body["user_ids"].as_array().map_or(1, Vec::len))
            .sum();
        if banned as u64 >= ACCOUNTS || Instant::now() > deadline {
            let last = bans.iter().map(|r| r.at).max().unwrap_or(started);
            let took = last.duration_since(started);
            let used = bans.len();
            bot.stop();
            return (took, used);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
