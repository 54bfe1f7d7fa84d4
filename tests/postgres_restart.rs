//! PostgreSQL going away under a running `steward run` and coming back: `/healthz` says so
//! while it is down, steward reconnects by itself, and every sanction Discord carried out
//! has its audit rows. Needs the throwaway cluster `.ci/postgres` starts (`STEWARD_PG_DIR`
//! and `STEWARD_TEST_POSTGRES`, as `.ci/run` sets them); without it the test prints why and
//! passes without running. It restarts that server, so it lives in a test binary of its own.

mod support;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use steward::store::Store;
use steward::store::audit::{AuditFilter, Phase};
use support::bot::{Bot, GUILD, get, message, rules};

/// The cluster this test may stop and start: its directory and the server's URL.
fn cluster() -> Option<(PathBuf, String)> {
    let dir = std::env::var("STEWARD_PG_DIR")
        .ok()
        .filter(|d| !d.is_empty());
    let url = std::env::var("STEWARD_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty());
    match (dir, url) {
        (Some(dir), Some(url)) if PathBuf::from(&dir).join("bindir").exists() => {
            Some((PathBuf::from(dir), url))
        }
        _ => {
            eprintln!(
                "skipped: needs STEWARD_PG_DIR and STEWARD_TEST_POSTGRES of a cluster started by .ci/postgres"
            );
            None
        }
    }
}

/// Runs `pg_ctl` on the cluster in `dir` with `args`, as the cluster's owner.
fn pg_ctl(dir: &std::path::Path, args: &[&str]) {
    let read = |name: &str| {
        std::fs::read_to_string(dir.join(name))
            .unwrap_or_else(|e| panic!("{name} of the cluster: {e}"))
            .trim()
            .to_string()
    };
    let pg_ctl = format!("{}/pg_ctl", read("bindir"));
    let user = read("user");
    let data = dir.join("data");
    let data = data.to_str().expect("UTF-8 path");
    let me = Command::new("id").arg("-un").output().expect("id runs");
    let mut command = if String::from_utf8_lossy(&me.stdout).trim() == user {
        Command::new(&pg_ctl)
    } else {
        let mut c = Command::new("runuser");
        c.args(["-u", &user, "--", &pg_ctl]);
        c
    };
    let options = read("options");
    let log = dir.join("log");
    command.args(["-D", data, "-l", log.to_str().expect("UTF-8 path"), "-w"]);
    if args.first() == Some(&"start") {
        command.args(["-o", &options]);
    }
    let status = command.args(args).status().expect("pg_ctl runs");
    assert!(status.success(), "pg_ctl {args:?}: {status}");
}

/// Waits until `/healthz` answers with a status containing `want`.
async fn health_becomes(bot: &Bot, want: &str, within: Duration) -> String {
    let start = Instant::now();
    loop {
        let (status, body) = get(&bot.metrics, "/healthz").await;
        if status.contains(want) {
            return body;
        }
        assert!(
            start.elapsed() < within,
            "/healthz stayed {status} ({body}), not {want}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_is_reported_survived_and_loses_no_audit_row() {
    let Some((dir, server)) = cluster() else {
        return;
    };
    let url = support::bot::postgres_schema(&server, "restart").await;
    let bot = Bot::launch_on(&rules(), tempfile::tempdir().expect("temp dir"), &[], &url).await;
    bot.cache_the_guild().await;
    health_becomes(&bot, "200", Duration::from_secs(20)).await;

    pg_ctl(&dir, &["-m", "fast", "stop"]);
    let body = health_becomes(&bot, "503", Duration::from_secs(30)).await;
    assert!(body.contains("database"), "{body}");
    // A member spams while the database is away: whatever steward does about it, it must
    // be able to account for once the database is back.
    bot.gateway
        .send("MESSAGE_CREATE", message(40_001, 503, "you are a n1gg3r"));
    tokio::time::sleep(Duration::from_secs(2)).await;

    pg_ctl(&dir, &["start"]);
    health_becomes(&bot, "200", Duration::from_secs(30)).await;
    bot.gateway
        .send("MESSAGE_CREATE", message(40_002, 504, "you are a n1gg3r"));
    let after = format!("/channels/{}/messages/40002", support::bot::CHANNEL);
    bot.wait_for("the delete after the restart", |r| {
        r.method == "DELETE" && r.path == after
    })
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let deletes: Vec<String> = bot
        .rest
        .actions()
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.starts_with("/channels/"))
        .map(|r| r.path)
        .collect();
    eprintln!("requests Discord carried out: {deletes:?}");
    bot.stop();

    let store = Store::open_existing(&url).await.expect("store");
    let done = store
        .audit_rows(&AuditFilter {
            guild: Some(steward::engine::event::GuildId(GUILD)),
            ..AuditFilter::default()
        })
        .await
        .expect("audit rows");
    for path in &deletes {
        let member = if path.ends_with("40001") { 503 } else { 504 };
        assert!(
            done.iter().any(|row| row.entry.phase == Phase::Done
                && row.entry.target.map(|t| t.0) == Some(member)),
            "Discord carried out {path} but the audit log does not say so"
        );
    }
    assert!(deletes.contains(&after), "{deletes:?}");
}
