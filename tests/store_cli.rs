//! The store through the command line: replay into a database file, verify and export it,
//! tamper with it, and kill a replay half-way.

mod support;

use support::cli::{steward, text};

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use steward::store::Store;
use steward::store::audit::{AuditCheck, AuditFilter, Phase};

fn db_path(dir: &tempfile::TempDir) -> PathBuf {
    dir.path().join("steward.db")
}

fn replay_into(db: &Path) -> Output {
    steward(&[
        "replay",
        "--database",
        db.to_str().expect("UTF-8 path"),
        "--output",
        "jsonl",
        "samples/server.jsonl",
    ])
}

#[test]
fn replayed_decisions_stay_in_the_database_and_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_path(&dir);
    let out = replay_into(&db);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("\"rule\":\"escalation\""));

    let verify = steward(&["audit", "verify", "--database", db.to_str().unwrap()]);
    assert!(verify.status.success(), "{}", text(&verify.stderr));
    assert!(text(&verify.stdout).contains("intact"));

    let csv = steward(&[
        "export",
        "cases",
        "--format",
        "csv",
        "--database",
        db.to_str().unwrap(),
    ]);
    assert!(csv.status.success(), "{}", text(&csv.stderr));
    let csv = text(&csv.stdout);
    assert!(csv.starts_with("guild_id,number,kind,"), "{csv}");
    assert!(csv.lines().count() > 10, "{csv}");

    let audit = steward(&["export", "audit", "--database", db.to_str().unwrap()]);
    let first: serde_json::Value =
        serde_json::from_str(text(&audit.stdout).lines().next().expect("a row")).expect("JSON");
    assert_eq!(first["action"], "rules_reload");
}

#[test]
fn an_edited_audit_row_is_named_by_verify() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_path(&dir);
    assert!(replay_into(&db).status.success());
    let conn = rusqlite_free_edit(&db, 7);
    assert!(conn, "the edit went in");
    let verify = steward(&["audit", "verify", "--database", db.to_str().unwrap()]);
    assert!(!verify.status.success());
    let stderr = text(&verify.stderr);
    assert!(stderr.contains("audit row 7"), "{stderr}");
}

#[test]
fn rows_cut_from_the_end_of_the_audit_log_are_found_by_the_anchor() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_path(&dir);
    assert!(replay_into(&db).status.success());
    let anchor = dir.path().join("steward.db.anchor");
    assert!(anchor.exists(), "the replay anchored the log's head");
    let cut = tamper(
        &db,
        "audit_log_no_delete",
        "DELETE FROM audit_log WHERE id > 100",
    );
    assert!(cut > 0, "rows were cut");
    let verify = steward(&["audit", "verify", "--database", db.to_str().unwrap()]);
    let stderr = text(&verify.stderr);
    assert!(!verify.status.success(), "{}", text(&verify.stdout));
    assert!(stderr.contains("removed from the end"), "{stderr}");
    // Without the anchor the shorter chain looks whole: that is what the anchor is for.
    std::fs::remove_file(&anchor).expect("remove anchor");
    let verify = steward(&["audit", "verify", "--database", db.to_str().unwrap()]);
    assert!(verify.status.success());
    assert!(text(&verify.stdout).contains("no anchor file"));
}

#[test]
fn processes_starting_on_a_new_database_at_once_all_succeed() {
    for _ in 0..6 {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = db_path(&dir);
        let children: Vec<_> = (0..3)
            .map(|_| {
                Command::new(env!("CARGO_BIN_EXE_steward"))
                    .args(["migrate", "--database", db.to_str().expect("UTF-8")])
                    .env_remove("DATABASE_URL")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .expect("steward migrate starts")
            })
            .collect();
        for child in children {
            let out = child.wait_with_output().expect("waits");
            assert!(out.status.success(), "{}", text(&out.stderr));
        }
    }
}

/// Changes one audit row the way someone with the file would: drop the guard, update.
fn rusqlite_free_edit(db: &Path, id: i64) -> bool {
    let edit =
        format!("UPDATE audit_log SET detail = '{{\"reason\":\"nothing\"}}' WHERE id = {id}");
    tamper(db, "audit_log_no_update", &edit) == 1
}

/// Drops the audit log's guard `trigger` and runs `sql` on the file, as someone with the
/// file could; returns the rows it changed.
fn tamper(db: &Path, trigger: &str, sql: &str) -> u64 {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    runtime.block_on(async {
        use sqlx::Connection;
        let url = format!("sqlite://{}", db.display());
        let mut conn = sqlx::SqliteConnection::connect(&url)
            .await
            .expect("connect");
        sqlx::query(&format!("DROP TRIGGER {trigger}"))
            .execute(&mut conn)
            .await
            .expect("drop trigger");
        sqlx::query(sql)
            .execute(&mut conn)
            .await
            .expect("tamper")
            .rows_affected()
    })
}

async fn audit_count(db: &Path) -> Option<usize> {
    use sqlx::Connection;
    let url = format!("sqlite://{}", db.display());
    let mut conn = sqlx::SqliteConnection::connect(&url).await.ok()?;
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&mut conn)
        .await
        .ok()?;
    conn.close().await.ok()?;
    usize::try_from(n).ok()
}

/// Writes a long stream in which many members flood, so a replay does many writes.
fn big_stream(path: &Path, messages: usize) {
    let mut out = String::new();
    for i in 0..messages {
        let user = 5000 + (i % 400);
        let secs = i / 4;
        out.push_str(&format!(
            "{{\"kind\":\"message\",\"id\":\"{}\",\"guild_id\":\"1\",\"channel_id\":\"10\",\
             \"timestamp\":\"2026-11-22T{:02}:{:02}:{:02}Z\",\"author\":{{\"id\":\"{user}\",\
             \"name\":\"m{user}\",\"created_at\":\"2020-01-01T00:00:00Z\"}},\
             \"content\":\"fuck this {}\"}}\n",
            100_000 + i,
            secs / 3600,
            (secs / 60) % 60,
            secs % 60,
            i % 7
        ));
    }
    std::fs::write(path, out).expect("write stream");
}

#[test]
fn a_killed_replay_leaves_a_consistent_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = db_path(&dir);
    let stream = dir.path().join("stream.jsonl");
    big_stream(&stream, 40_000);
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args([
            "replay",
            "--database",
            db.to_str().unwrap(),
            "--output",
            "jsonl",
        ])
        .arg(&stream)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("replay starts");

    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    // Kill it once it has written a good number of rows, well before it could finish.
    let started = Instant::now();
    let rows_at_kill = runtime.block_on(async {
        loop {
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "replay wrote nothing"
            );
            if let Ok(Some(status)) = child.try_wait() {
                panic!("replay ended before it could be killed: {status}");
            }
            // A plain connection: opening a Store would race the replay's own migration.
            if db.exists()
                && let Some(rows) = audit_count(&db).await
                && rows > 500
            {
                return rows;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    });
    child.kill().expect("kill");
    let status = child.wait().expect("wait");
    assert!(!status.success(), "the replay was killed, not finished");

    runtime.block_on(async {
        let store = Store::open(db.to_str().unwrap())
            .await
            .expect("reopens after a kill");
        assert!(store.integrity_ok().await.expect("integrity check runs"));
        let check = store.verify_audit().await.expect("verify runs");
        let AuditCheck::Intact { rows } = check else {
            panic!("chain broken after a kill: {check:?}");
        };
        assert!(rows as usize >= rows_at_kill);
        let all = store.audit_rows(&AuditFilter::default()).await.unwrap();
        let intents = all
            .iter()
            .filter(|r| r.entry.phase == Phase::Intent)
            .count();
        let outcomes = all
            .iter()
            .filter(|r| matches!(r.entry.phase, Phase::Done | Phase::Failed | Phase::Refused))
            .count();
        // At most the one action in flight at the kill is missing its outcome.
        assert!(
            intents - outcomes <= 1,
            "{intents} intents, {outcomes} outcomes"
        );
        // Every case is recorded by an audit row that names it, except at most the one
        // whose outcome was never written.
        let cases = store.all_cases(None).await.unwrap();
        let named: std::collections::HashSet<i64> =
            all.iter().filter_map(|r| r.entry.case_id).collect();
        let orphans = cases.iter().filter(|c| !named.contains(&c.id)).count();
        assert!(orphans <= 1, "{orphans} cases without an audit row");
    });
}

#[test]
fn reading_a_missing_database_is_an_error_not_a_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("stweard.db");
    for args in [
        vec!["audit", "verify", "--database"],
        vec!["export", "cases", "--database"],
    ] {
        let mut args = args.clone();
        args.push(typo.to_str().unwrap());
        let out = steward(&args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(
            text(&out.stderr).contains("there is no database at"),
            "{}",
            text(&out.stderr)
        );
    }
    assert!(!typo.exists(), "no empty database was created");
}
