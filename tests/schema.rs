//! The JSON Schema editors validate rules files with: it accepts the example rules, it is
//! the file the example names, and it turns away what the loader turns away.

use std::path::Path;

use serde_json::Value;
use steward::engine::event::GuildId;
use steward::rules::{self, schema};

fn validator(schema: &schemars::Schema) -> jsonschema::Validator {
    jsonschema::validator_for(schema.as_value()).expect("a valid JSON Schema")
}

fn yaml(source: &str) -> Value {
    serde_norway::from_str(source).expect("YAML")
}

fn errors(validator: &jsonschema::Validator, doc: &Value) -> Vec<String> {
    validator
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_example_rules_validate_against_the_schema() {
    let validator = validator(&schema::rules_schema());
    let problems = errors(&validator, &yaml(rules::EXAMPLE_RULES));
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_example_names_the_committed_schema_and_it_is_current() {
    let first = rules::EXAMPLE_RULES.lines().next().unwrap_or_default();
    assert_eq!(first, "# yaml-language-server: $schema=rules.schema.json");
    let committed =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("rules.schema.json"))
            .expect("rules.schema.json beside rules.example.yaml");
    let generated = serde_json::to_string_pretty(&schema::rules_schema()).expect("JSON");
    assert_eq!(
        committed.trim_end(),
        generated,
        "rules.schema.json is stale: run `steward schema > rules.schema.json`"
    );
}

/// Rules files the loader rejects for their shape, each with what is wrong.
const REJECTED: &[(&str, &str)] = &[
    ("an unknown top-level key", "rulez: []\n"),
    (
        "an unknown key in a rule",
        "rules:\n  - name: a\n    wrds: {words: [x]}\n    actions: [delete]\n",
    ),
    (
        "an unknown action",
        "rules:\n  - name: a\n    words: {words: [x]}\n    actions: [explode]\n",
    ),
    (
        "a timeout without a duration",
        "rules:\n  - name: a\n    words: {words: [x]}\n    actions: [timeout]\n",
    ),
    (
        "an action map with two keys",
        "rules:\n  - name: a\n    words: {words: [x]}\n    actions: [{warn: {points: 1}, delete: null}]\n",
    ),
    (
        "a count of zero",
        "rules:\n  - name: a\n    spam: {rate: {count: 0, per: 5s}}\n    actions: [delete]\n",
    ),
    (
        "a share above one",
        "rules:\n  - name: a\n    spam: {caps: {ratio: 1.5}}\n    actions: [delete]\n",
    ),
    (
        "an id that is not digits",
        "settings:\n  mod_log_channel: general\n",
    ),
    (
        "an unknown raid hold",
        "rules:\n  - name: a\n    raid: {joins: {count: 5, per: 10s}, hold: jail}\n    actions: [alert]\n",
    ),
    (
        "a rule without a name",
        "rules:\n  - words: {words: [x]}\n    actions: [delete]\n",
    ),
];

#[test]
fn what_the_loader_rejects_for_its_shape_the_schema_rejects_too() {
    let validator = validator(&schema::rules_schema());
    for (what, source) in REJECTED {
        let loaded = rules::parse(source, Path::new("t.yaml"), Path::new("."));
        assert!(loaded.is_err(), "the loader accepts {what}");
        assert!(
            !validator.is_valid(&yaml(source)),
            "the schema accepts {what}:\n{source}"
        );
    }
}

#[test]
fn every_action_form_the_loader_accepts_the_schema_accepts() {
    let validator = validator(&schema::rules_schema());
    let actions = [
        "delete",
        "kick",
        "warn",
        "ban",
        "alert",
        "rename",
        "lockdown",
        "{delete: null}",
        "{kick: {}}",
        "{warn: {points: 2, expires: 30d}}",
        "{timeout: 10m}",
        "{timeout: {duration: 10m}}",
        "{raid_mode: 30m}",
        "{ban: {duration: 7d, delete_messages: 1d}}",
        "{alert: {channel: \"123\"}}",
        "{lockdown: {channels: [\"1\", 2], duration: 1h}}",
        "{rename: {to: moderated}}",
    ];
    for action in actions {
        let source =
            format!("rules:\n  - name: a\n    words: {{words: [x]}}\n    actions: [{action}]\n");
        rules::parse(&source, Path::new("t.yaml"), Path::new("."))
            .unwrap_or_else(|e| panic!("the loader rejects {action}: {e}"));
        let problems = errors(&validator, &yaml(&source));
        assert!(problems.is_empty(), "{action}: {problems:#?}");
    }
}

#[test]
fn a_servers_own_rules_validate_against_the_server_schema() {
    let validator = validator(&schema::server_rules_schema());
    let source = "settings:\n  mod_log_channel: \"42\"\n  exempt_roles: [\"7\"]\n\
                  lists:\n  ours: {words: [grape]}\n\
                  rules:\n  invites: {enabled: false}\n\
                  add_rules:\n  - name: fruit\n    words: {lists: [ours]}\n    actions: [delete]\n";
    let operator = rules::example().expect("example rules");
    rules::parse_server(source, Path::new("server.yaml"), GuildId(1), &operator)
        .expect("the loader accepts the server's rules");
    let problems = errors(&validator, &yaml(source));
    assert!(problems.is_empty(), "{problems:#?}");
    // A server may not set engine limits; neither loader nor schema lets it.
    let limits = "settings:\n  limits: {max_guilds: 5}\n";
    assert!(rules::parse_server(limits, Path::new("server.yaml"), GuildId(1), &operator).is_err());
    assert!(!validator.is_valid(&yaml(limits)));
}
