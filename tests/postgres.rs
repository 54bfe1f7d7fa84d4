//! The command line on PostgreSQL: every command that reads or writes the store runs on
//! the server `STEWARD_TEST_POSTGRES` names and decides exactly what it decides on SQLite.
//! Without that variable these tests print why and pass without running.

mod support;

use std::time::Duration;

use serde_json::json;
use steward::engine::event::GuildId;
use steward::store::Store;
use steward::store::audit::AuditCheck;
use support::bot::{Bot, CHANNEL, GUILD, OTHER_CHANNEL, OTHER_GUILD, message, rules};
use support::cli::{steward, text};
use support::fake_rest::Recorded;

/// The server to test against, or `None` (with the reason printed) when there is none.
fn server() -> Option<String> {
    match std::env::var("STEWARD_TEST_POSTGRES") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!("skipped: STEWARD_TEST_POSTGRES is not set (see .ci/postgres)");
            None
        }
    }
}

/// The replay of the shipped sample into `database`, as JSON Lines.
fn replay(database: &str) -> String {
    let out = steward(&[
        "replay",
        "--database",
        database,
        "--output",
        "jsonl",
        "samples/server.jsonl",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    text(&out.stdout)
}

#[tokio::test]
async fn every_command_runs_on_postgres_and_decides_as_on_sqlite() {
    let Some(server) = server() else { return };
    let url = support::bot::postgres_schema(&server, "cli").await;

    let migrated = steward(&["migrate", "--database", &url]);
    assert!(migrated.status.success(), "{}", text(&migrated.stderr));
    let again = steward(&["migrate", "--database", &url]);
    assert!(
        again.status.success(),
        "migrating twice: {}",
        text(&again.stderr)
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("steward.db");
    let on_sqlite = replay(file.to_str().expect("UTF-8 path"));
    let on_postgres = replay(&url);
    assert!(on_sqlite.lines().count() > 10, "{on_sqlite}");
    assert_eq!(
        on_postgres, on_sqlite,
        "the same decisions on both back ends"
    );

    let verify = steward(&["audit", "verify", "--database", &url]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).contains("audit log intact"),
        "{}",
        text(&verify.stdout)
    );

    let export = |database: &str, what: &str| {
        let out = steward(&["export", what, "--format", "csv", "--database", database]);
        assert!(out.status.success(), "{}", text(&out.stderr));
        text(&out.stdout)
    };
    let file = file.to_str().expect("UTF-8 path");
    assert_eq!(export(&url, "cases"), export(file, "cases"));
    // The same rows in the same chains: their hashes cover every field and the place.
    assert_eq!(export(&url, "audit"), export(file, "audit"));
}

#[tokio::test]
async fn a_password_in_the_database_url_is_never_printed() {
    let Some(server) = server() else { return };
    let Some(rest) = server.strip_prefix("postgres://") else {
        eprintln!("skipped: STEWARD_TEST_POSTGRES is not a postgres:// URL");
        return;
    };
    // A wrong password for an unreachable port: the error names the database without it.
    let host = rest.split_once('@').map_or(rest, |(_, host)| host);
    let port_free = host.replacen(':', ":1", 1);
    let url = format!("postgres://steward:hunter2@{port_free}");
    let out = steward(&["audit", "verify", "--database", &url]);
    assert!(!out.status.success());
    let shown = format!("{}{}", text(&out.stderr), text(&out.stdout));
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("steward:***@"), "{shown}");
}

/// The example rules with one more: a word that bans for two seconds.
fn rules_with_a_short_ban() -> String {
    let extra = "  - name: shortban\n    words: {words: [shortbannow]}\n    actions:\n      - delete\n      - ban: {duration: 2s}\n";
    let with = rules().replacen("rules:\n", &format!("rules:\n{extra}"), 1);
    assert_ne!(with, rules(), "the example has no `rules:` line");
    with
}

/// The requests of `method` on `path` both processes' fakes saw.
fn seen(bots: &[&Bot], method: &str, path: &str) -> Vec<Recorded> {
    bots.iter()
        .flat_map(|b| b.rest.actions())
        .filter(|r| r.method == method && r.path == path)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_with_half_the_shards_each_share_one_database() {
    let Some(server) = server() else { return };
    let url = support::bot::postgres_schema(&server, "cli").await;
    let rules = rules_with_a_short_ban();
    let temp = || tempfile::tempdir().expect("temp dir");
    let anchors = temp();
    let anchor = anchors.path().join("chains.anchor");
    let anchor = anchor.to_str().expect("UTF-8 path");
    let first = Bot::launch_on(
        &rules,
        temp(),
        &[("STEWARD_SHARDS", "0-0/2"), ("STEWARD_ANCHOR", anchor)],
        &url,
    )
    .await;
    let second = Bot::launch_on(&rules, temp(), &[("STEWARD_SHARDS", "1-1/2")], &url).await;
    for (bot, shard) in [(&first, 0), (&second, 1)] {
        let identify = bot.gateway.identifies.lock().expect("identifies")[0].clone();
        assert_eq!(identify["d"]["shard"], json!([shard, 2]));
    }

    // Discord sends each server's events to its own shard: server 1 to the first process,
    // server 2 to the second.
    first
        .gateway
        .send("MESSAGE_CREATE", message(30_001, 500, "shortbannow"));
    let mut other = message(30_002, 501, "shortbannow");
    other["guild_id"] = json!(OTHER_GUILD.to_string());
    other["channel_id"] = json!(OTHER_CHANNEL.to_string());
    second.gateway.send("MESSAGE_CREATE", other);

    let bans = [
        (GUILD, 500, CHANNEL, 30_001),
        (OTHER_GUILD, 501, OTHER_CHANNEL, 30_002),
    ];
    for (guild, member, _, _) in bans {
        let bot = if guild == GUILD { &first } else { &second };
        let path = format!("/guilds/{guild}/bans/{member}");
        bot.wait_for("the ban", |r| r.method == "PUT" && r.path == path)
            .await;
    }
    // Each ban ends two seconds later, once, by whichever process claimed it first.
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    for (guild, member, _, _) in bans {
        let path = format!("/guilds/{guild}/bans/{member}");
        while seen(&[&first, &second], "DELETE", &path).is_empty() {
            assert!(std::time::Instant::now() < deadline, "no unban of {member}");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    // Time for a second claim, if there were going to be one.
    tokio::time::sleep(Duration::from_secs(3)).await;
    for (guild, member, channel, message) in bans {
        let ban = format!("/guilds/{guild}/bans/{member}");
        assert_eq!(seen(&[&first, &second], "PUT", &ban).len(), 1, "{ban}");
        assert_eq!(seen(&[&first, &second], "DELETE", &ban).len(), 1, "{ban}");
        let delete = format!("/channels/{channel}/messages/{message}");
        assert_eq!(
            seen(&[&first, &second], "DELETE", &delete).len(),
            1,
            "{delete}"
        );
    }
    first.stop();
    second.stop();

    let store = Store::open_existing(&url).await.expect("store");
    for guild in [GUILD, OTHER_GUILD] {
        let cases = store.all_cases(Some(GuildId(guild))).await.expect("cases");
        let numbers: Vec<u64> = cases.iter().map(|c| c.number).collect();
        assert_eq!(
            numbers,
            (1..=numbers.len() as u64).collect::<Vec<_>>(),
            "{guild}"
        );
        assert!(
            cases.iter().any(|c| c.actor.rule() == Some("shortban")),
            "server {guild}'s ban is its own case: {cases:?}"
        );
        assert!(matches!(
            store.verify_audit_chain(GuildId(guild)).await.expect("verify"),
            AuditCheck::Intact { rows } if rows > 0
        ));
    }
    assert!(matches!(
        store.verify_audit().await.expect("verify"),
        AuditCheck::Intact { .. }
    ));
    // The first process anchored every chain's head at its start and stop.
    let verify = steward(&["audit", "verify", "--database", &url, "--anchor", anchor]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(
        text(&verify.stdout).contains("matches 2 anchors"),
        "{}",
        text(&verify.stdout)
    );
}
