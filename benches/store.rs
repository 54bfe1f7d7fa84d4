//! Write path of the store: moderation actions (audit intent, case, audit outcome, with the
//! hash chain) per second on one SQLite file, and with one and four writers (stores on one
//! database, each serving its own servers, as processes with disjoint shards do) on SQLite
//! and, when `STEWARD_BENCH_POSTGRES` names a server, on PostgreSQL.

use std::hint::black_box;
use std::time::Instant;

use criterion::{Criterion, Throughput};
use steward::engine::event::{GuildId, UserId};
use steward::engine::time::Timestamp;
use steward::engine::verdict::Action;
use steward::moderation::{ManualAction, Moderator, Recorder};
use steward::store::Store;

fn command(i: u64) -> ManualAction {
    ManualAction {
        guild: GuildId(1 + i % 3),
        moderator: UserId(42),
        target: UserId(1000 + i % 500),
        action: Action::Kick,
        reason: format!("bench action {i}"),
        message: None,
    }
}

async fn moderator(dir: &tempfile::TempDir) -> Moderator<Recorder> {
    let path = dir.path().join("bench.db");
    let store = Store::open(path.to_str().expect("UTF-8 path"))
        .await
        .expect("store opens");
    let rules = steward::rules::example().expect("example rules");
    Moderator::new(store, Recorder::default(), &rules)
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let m = runtime.block_on(moderator(&dir));

    let mut criterion = Criterion::default().configure_from_args();
    let mut group = criterion.benchmark_group("store");
    group.throughput(Throughput::Elements(1));
    let mut i = 0u64;
    group.bench_function("moderation action (case + 2 audit rows)", |b| {
        b.iter(|| {
            i += 1;
            runtime.block_on(async {
                black_box(
                    m.manual(&command(i), Timestamp(i as i64))
                        .await
                        .expect("action"),
                )
            })
        })
    });
    group.finish();

    let actions = 20_000u64;
    let start = Instant::now();
    runtime.block_on(async {
        for n in 0..actions {
            m.manual(&command(i + n), Timestamp((i + n) as i64))
                .await
                .expect("action");
        }
    });
    let per_sec = actions as f64 / start.elapsed().as_secs_f64();
    println!("{actions} moderation actions one after another: {per_sec:.0} actions/s");

    // Bursts, as in a raid: many actions in flight at once share statements.
    let sqlite = dir.path().join("writers.db");
    let mut databases = vec![("SQLite", sqlite.to_str().expect("UTF-8 path").to_string())];
    match std::env::var("STEWARD_BENCH_POSTGRES") {
        Ok(url) if !url.is_empty() => databases.push(("PostgreSQL", url)),
        _ => println!("PostgreSQL skipped: STEWARD_BENCH_POSTGRES is not set"),
    }
    for (engine, url) in databases {
        for writers in [1u64, 4] {
            let per_sec = runtime.block_on(writers_on_one_database(&url, writers));
            println!(
                "{engine}, {writers} writer(s), 64 actions in flight: {per_sec:.0} audited actions/s"
            );
        }
    }
}

/// Audited moderation actions per second with `writers` stores on the database at `url`,
/// each acting in servers of its own, 64 actions in flight in all; the audit chains must
/// verify after.
async fn writers_on_one_database(url: &str, writers: u64) -> f64 {
    let rules = steward::rules::example().expect("example rules");
    let mut moderators = Vec::new();
    for _ in 0..writers {
        let store = Store::open(url).await.expect("store opens");
        moderators.push(std::sync::Arc::new(Moderator::new(
            store,
            Recorder::default(),
            &rules,
        )));
    }
    let actions = 20_000u64;
    let tasks = 64u64;
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let w = t % writers;
            let m = moderators[w as usize].clone();
            tokio::spawn(async move {
                for n in 0..actions / tasks {
                    let k = 10_000_000 * (writers + 1) + t * 100_000 + n;
                    // Writer w serves servers 100w+1 … 100w+3.
                    let action = ManualAction {
                        guild: GuildId(100 * w + 1 + n % 3),
                        ..command(k)
                    };
                    m.manual(&action, Timestamp(k as i64))
                        .await
                        .expect("action");
                }
            })
        })
        .collect();
    for h in handles {
        h.await.expect("task");
    }
    let per_sec = (actions / tasks * tasks) as f64 / start.elapsed().as_secs_f64();
    let check = moderators[0].store().verify_audit().await.expect("verify");
    assert!(
        matches!(check, steward::store::audit::AuditCheck::Intact { .. }),
        "{check:?}"
    );
    per_sec
}
