//! The command line on PostgreSQL: every command that reads or writes the store runs on
//! the server `STEWARD_TEST_POSTGRES` names and decides exactly what it decides on SQLite.
//! Without that variable these tests print why and pass without running.

use std::process::{Command, Output};

use sqlx::Connection;

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

/// A URL on `server` whose connections use a new empty schema.
async fn new_schema(server: &str) -> String {
    sqlx::any::install_default_drivers();
    let name = format!(
        "cli_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    let mut conn = sqlx::AnyConnection::connect(server)
        .await
        .expect("STEWARD_TEST_POSTGRES is reachable");
    sqlx::query(&format!("CREATE SCHEMA {name}"))
        .execute(&mut conn)
        .await
        .expect("schema created");
    let sep = if server.contains('?') { '&' } else { '?' };
    format!("{server}{sep}options=-c%20search_path%3D{name}")
}

fn steward(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("DATABASE_URL")
        .output()
        .expect("steward runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
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
    let url = new_schema(&server).await;

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
    let shown = text(&out.stderr) + &text(&out.stdout);
    assert!(!shown.contains("hunter2"), "{shown}");
    assert!(shown.contains("steward:***@"), "{shown}");
}
