//! `steward check` and `steward replay` run as processes on the shipped files.

mod support;

use support::cli::{steward, text};

use std::path::Path;
use std::process::Command;

fn temp_file(name: &str, content: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join(name), content).expect("write");
    dir
}

#[test]
fn check_accepts_the_example_rules() {
    let out = steward(&["check", "rules.example.yaml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(stdout.contains("ok"), "{stdout}");
}

#[test]
fn check_reports_file_line_and_key() {
    let dir = temp_file(
        "bad.yaml",
        "rules:\n  - name: a\n    mdoe: shadow\n    words: {words: [x]}\n",
    );
    let path = dir.path().join("bad.yaml");
    let out = steward(&["check", path.to_str().expect("utf-8 path")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("bad.yaml:3:5: rules[0].mdoe"), "{stderr}");
    assert!(stderr.contains("did you mean `mode`"), "{stderr}");
}

#[test]
fn check_reports_a_missing_file() {
    let out = steward(&["check", "no/such/rules.yaml"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no/such/rules.yaml"));
}

#[test]
fn replay_of_the_sample_finds_every_kind_of_trouble() {
    let out = steward(&[
        "replay",
        "--rules",
        "rules.example.yaml",
        "--output",
        "jsonl",
        "samples/server.jsonl",
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each output line is JSON"))
        .collect();
    let rules: Vec<&str> = lines.iter().filter_map(|l| l["rule"].as_str()).collect();
    for rule in [
        "slurs",
        "profanity",
        "scam-links",
        "flood",
        "mention-spam",
        "raid",
        "invites",
    ] {
        assert!(rules.contains(&rule), "no {rule} verdict in {rules:?}");
    }
    let raid = lines
        .iter()
        .find(|l| l["rule"] == "raid")
        .expect("raid verdict");
    assert!(
        raid["actions"]
            .as_array()
            .expect("actions")
            .iter()
            .any(|a| a == "raid_mode")
    );
    assert!(raid["accounts"].as_array().expect("accounts").len() >= 4);
    // Every account of the sample's raid is banned: the first ones together, the rest
    // as they arrive with the same signs.
    let banned: std::collections::BTreeSet<&str> = lines
        .iter()
        .filter(|l| {
            l["rule"] == "raid"
                && l["actions"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|x| x == "ban"))
        })
        .flat_map(|l| match l["accounts"].as_array() {
            Some(accounts) => accounts
                .iter()
                .filter_map(|a| a.as_str())
                .collect::<Vec<_>>(),
            None => l["user_id"].as_str().into_iter().collect(),
        })
        .collect();
    let sample = std::fs::read_to_string("samples/server.jsonl").expect("sample");
    let joined: Vec<String> = sample
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|e| {
            e["kind"] == "member_join"
                && e["user"]["name"]
                    .as_str()
                    .is_some_and(|n| n.starts_with("raidbot"))
        })
        .filter_map(|e| e["user"]["id"].as_str().map(str::to_string))
        .collect();
    assert!(!joined.is_empty());
    for id in &joined {
        assert!(banned.contains(id.as_str()), "raider {id} not banned");
    }
    // Ordinary chat from the regulars draws nothing.
    assert!(
        lines.iter().all(|l| l["user_id"] != "800000000000000000"),
        "alice was flagged"
    );
    for field in [
        "event_id",
        "kind",
        "guild_id",
        "user_id",
        "timestamp",
        "rule",
        "actions",
        "reason",
        "evidence",
    ] {
        assert!(lines.iter().all(|l| !l[field].is_null()), "missing {field}");
    }
}

#[test]
fn replay_table_summarizes_per_rule() {
    let out = steward(&["replay", "samples/server.jsonl"]);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(stdout.contains("333 events"), "{stdout}");
    assert!(stdout.contains("scam-links"), "{stdout}");
    assert!(stdout.contains("actioned events"), "{stdout}");
}

#[test]
fn replay_reads_standard_input_and_prints_nothing_for_clean_chat() {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_steward"))
        .args(["replay", "--output", "jsonl", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let line = r#"{"kind":"message","id":"1","guild_id":"1","channel_id":"2","timestamp":"2026-11-22T10:00:00Z","author":{"id":"3"},"content":"hello there"}"#;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(line.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "");
}

#[test]
fn replay_names_the_line_and_field_of_bad_events() {
    let dir = temp_file(
        "events.jsonl",
        "{\"kind\":\"message\",\"id\":\"1\",\"guild_id\":\"1\",\"channel_id\":\"2\",\"timestamp\":\"2026-11-22T10:00:00Z\",\"author\":{\"id\":\"3\"},\"content\":\"hi\"}\n{\"kind\":\"message\",\"id\":\"2\",\"guild_id\":\"1\",\"channel_id\":\"2\",\"timestamp\":\"2026-11-22T10:00:01Z\",\"author\":{\"name\":\"x\"},\"content\":\"hi\"}\n",
    );
    let path = dir.path().join("events.jsonl");
    let out = steward(&["replay", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(stderr.contains("events.jsonl:2"), "{stderr}");
    assert!(stderr.contains("author"), "{stderr}");
}

#[test]
fn replay_refuses_events_out_of_time_order() {
    let dir = temp_file(
        "events.jsonl",
        "{\"kind\":\"member_join\",\"guild_id\":\"1\",\"timestamp\":\"2026-11-22T10:00:05Z\",\"user\":{\"id\":\"3\"}}\n{\"kind\":\"member_join\",\"guild_id\":\"1\",\"timestamp\":\"2026-11-22T10:00:01Z\",\"user\":{\"id\":\"4\"}}\n",
    );
    let path = dir.path().join("events.jsonl");
    let out = steward(&["replay", path.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(":2:") && stderr.contains("line 1"),
        "{stderr}"
    );
}

#[test]
fn replay_reads_discord_chat_exporter_exports() {
    let export = r#"{"guild":{"id":"1","name":"g"},"channel":{"id":"2","name":"general"},
      "messages":[{"id":"10","type":"Default","timestamp":"2026-11-22T10:00:00+00:00","content":"you f u c k i n g idiot",
      "author":{"id":"5","name":"eve","isBot":false,"roles":[]},"attachments":[],"mentions":[]}]}"#;
    let dir = temp_file("export.json", export);
    let path = dir.path().join("export.json");
    let out = steward(&["replay", "--output", "jsonl", path.to_str().expect("utf-8")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("\"rule\":\"profanity\""), "{stdout}");
    assert!(stdout.contains("\"event_id\":\"10\""), "{stdout}");
    assert!(Path::new(&path).exists());
}

#[test]
fn schema_prints_the_rules_schema_and_the_server_one() {
    for (args, title) in [
        (&["schema"][..], "steward rules"),
        (&["schema", "--server"][..], "steward server rules"),
    ] {
        let out = steward(args);
        assert!(out.status.success(), "{}", text(&out.stderr));
        let schema: serde_json::Value =
            serde_json::from_slice(&out.stdout).expect("the schema is JSON");
        assert_eq!(schema["title"], title);
        assert_eq!(schema["additionalProperties"], false);
    }
}
