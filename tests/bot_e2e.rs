//! `steward run` end to end: the real binary, its real serenity client, a local fake of
//! Discord's gateway and REST API. Nothing reaches the internet.

mod support;

use support::bot::*;

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::json;
use steward::engine::event::{GuildId, UserId};
use steward::engine::time::Timestamp;
use steward::store::Store;
use steward::store::audit::{AuditCheck, AuditFilter, Phase};
use steward::store::cases::CaseKind;
use steward::store::timers::{NewTimed, TimedKind};
use support::payloads;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evasive_slur_is_deleted_warned_and_reported() {
    let bot = Bot::start().await;
    bot.gateway
        .send("MESSAGE_CREATE", message(1001, 500, "you are a n1gg3r"));
    let delete = bot
        .wait_for("delete", |r| {
            r.method == "DELETE" && r.path == format!("/channels/{CHANNEL}/messages/1001")
        })
        .await;
    assert!(delete.reason().is_some_and(|r| r.contains("steward")));
    let alert = bot
        .wait_for("alert", |r| {
            r.method == "POST" && r.path == format!("/channels/{MOD_LOG}/messages")
        })
        .await;
    assert_eq!(alert.body["allowed_mentions"]["parse"], json!([]));
    // Three warning points from the slur rule reach the first rung: a one-hour timeout.
    let timeout = bot
        .wait_for("escalation timeout", |r| {
            r.method == "PATCH" && r.path == format!("/guilds/{GUILD}/members/500")
        })
        .await;
    assert!(timeout.body["communication_disabled_until"].is_string());
    let dir = bot.stop();

    let store = store(dir.path()).await;
    let kinds: Vec<CaseKind> = store
        .cases_for(GuildId(GUILD), UserId(500))
        .await
        .unwrap()
        .iter()
        .map(|c| c.kind)
        .collect();
    assert_eq!(
        kinds,
        vec![CaseKind::Delete, CaseKind::Warn, CaseKind::Timeout]
    );
    assert_eq!(
        store
            .warnings_for(GuildId(GUILD), UserId(500))
            .await
            .unwrap()
            .len(),
        1
    );
    assert!(matches!(
        store.verify_audit().await.unwrap(),
        AuditCheck::Intact { .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_earns_a_timeout() {
    let bot = Bot::start().await;
    for i in 0..4 {
        bot.gateway.send(
            "MESSAGE_CREATE",
            message(2000 + i, 501, "JOIN MY CLAN JOIN MY CLAN"),
        );
    }
    let timeout = bot
        .wait_for("timeout", |r| {
            r.method == "PATCH" && r.path == format!("/guilds/{GUILD}/members/501")
        })
        .await;
    assert!(
        timeout
            .reason()
            .is_some_and(|r| r.contains("near-identical")),
        "{:?}",
        timeout.reason()
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scam_link_is_deleted_and_its_poster_banned() {
    let bot = Bot::start().await;
    let scam = "free nitro for everyone https://dlscord-nltro.gift/claim";
    bot.gateway.send("MESSAGE_CREATE", message(3001, 502, scam));
    bot.wait_for("delete", |r| {
        r.method == "DELETE" && r.path == format!("/channels/{CHANNEL}/messages/3001")
    })
    .await;
    let ban = bot
        .wait_for("ban", |r| {
            r.method == "PUT" && r.path == format!("/guilds/{GUILD}/bans/502")
        })
        .await;
    assert!(
        ban.query.contains("delete_message_seconds=86400"),
        "{}",
        ban.query
    );
    assert!(
        ban.reason()
            .is_some_and(|r| r.contains("dlscord-nltro.gift"))
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_raid_of_three_hundred_joins_is_banned_in_bulk_chunks() {
    let bot = Bot::start().await;
    let raiders: Vec<u64> = (900_000..900_300).collect();
    for id in &raiders {
        let mut member = payloads::member(GUILD, *id, &format!("raider{id}"), &[]);
        member["joined_at"] = json!(now_rfc3339());
        bot.gateway.send("GUILD_MEMBER_ADD", member);
    }
    // Every raider ends up banned: the first wave in bulk, later joiners as they arrive.
    let start = Instant::now();
    let banned = loop {
        let mut banned = std::collections::HashSet::new();
        for r in bot.rest.actions() {
            if r.path.ends_with("/bulk-ban") {
                let ids = r.body["user_ids"].as_array().cloned().unwrap_or_default();
                assert!(ids.len() <= 200, "a bulk ban of {}", ids.len());
                banned.extend(ids.iter().filter_map(|v| v.as_str()?.parse::<u64>().ok()));
            } else if r.method == "PUT" && r.path.starts_with(&format!("/guilds/{GUILD}/bans/")) {
                banned.extend(
                    r.path
                        .rsplit('/')
                        .next()
                        .and_then(|id| id.parse::<u64>().ok()),
                );
            }
        }
        if banned.len() >= raiders.len() || start.elapsed() > Duration::from_secs(60) {
            break banned;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let missing: Vec<&u64> = raiders.iter().filter(|r| !banned.contains(r)).collect();
    assert!(
        missing.is_empty(),
        "{} raiders not banned: {missing:?}",
        missing.len()
    );
    assert!(
        bot.rest
            .actions()
            .iter()
            .any(|r| r.path.ends_with("/bulk-ban")),
        "the first wave went out as a bulk ban"
    );
    let dir = bot.stop();
    let store = store(dir.path()).await;
    let raid_cases = store
        .all_cases(Some(GuildId(GUILD)))
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.kind == CaseKind::Raid)
        .count();
    assert!(
        raid_cases >= 1,
        "raid mode and the bulk ban are recorded as raid cases"
    );
}

async fn audit_phases(store: &Store, action: &str, target: u64) -> Vec<Phase> {
    store
        .audit_rows(&AuditFilter {
            action: Some(action.to_string()),
            target: Some(UserId(target)),
            ..AuditFilter::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.entry.phase)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_above_the_bot_is_refused_and_audited() {
    let bot = Bot::start().await;
    bot.gateway.send(
        "MESSAGE_CREATE",
        message(4001, MODERATOR, "you are a n1gg3r"),
    );
    bot.wait_for("delete", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/4001")
    })
    .await;
    let dir = bot.stop();
    let store = store(dir.path()).await;
    // The escalation's timeout is refused: the moderator outranks steward.
    assert_eq!(
        audit_phases(&store, "timeout", MODERATOR).await,
        vec![Phase::Intent, Phase::Refused]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_error_is_retried_and_the_outcome_audited() {
    let bot = Bot::start().await;
    let path = format!("/channels/{CHANNEL}/messages/5001");
    bot.rest
        .state
        .lock()
        .unwrap()
        .fail("DELETE", path.clone(), 1);
    bot.gateway
        .send("MESSAGE_CREATE", message(5001, 503, "what the fuck"));
    bot.wait_for_count("delete and its retry", 2, |r| r.path == path)
        .await;
    let dir = bot.stop();
    let store = store(dir.path()).await;
    assert_eq!(
        audit_phases(&store, "delete", 503).await,
        vec![Phase::Intent, Phase::Done]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_resumes_after_the_connection_drops() {
    let bot = Bot::start().await;
    bot.gateway.drop_connection();
    bot.gateway
        .wait_for_sessions(2, Duration::from_secs(60))
        .await;
    bot.gateway
        .send("MESSAGE_CREATE", message(6001, 504, "you are a n1gg3r"));
    bot.wait_for("delete after the reconnect", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/6001")
    })
    .await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pending_unban_is_issued_after_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = store(dir.path()).await;
        store
            .schedule(&NewTimed {
                guild: GuildId(GUILD),
                kind: TimedKind::Unban,
                target: Some(UserId(777)),
                detail: json!({}),
                case_id: None,
                due_at: Timestamp(0),
            })
            .await
            .unwrap();
        store.close().await;
    }
    let bot = Bot::launch(&rules(), dir, &[]).await;
    bot.wait_for("unban", |r| {
        r.method == "DELETE" && r.path == format!("/guilds/{GUILD}/bans/777")
    })
    .await;
    let dir = bot.stop();
    assert!(
        store(dir.path())
            .await
            .pending_timed()
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raid_mode_ends_by_itself() {
    let short = rules().replacen("      - raid_mode: 30m", "      - raid_mode: 2s", 1);
    assert_ne!(short, rules(), "the example's raid_mode line moved");
    let bot = Bot::launch(&short, tempfile::tempdir().expect("temp dir"), &[]).await;
    for id in 800_000..800_020u64 {
        let mut member = payloads::member(GUILD, id, &format!("raider{id}"), &[]);
        member["joined_at"] = json!(now_rfc3339());
        bot.gateway.send("GUILD_MEMBER_ADD", member);
    }
    bot.wait_for("bulk ban", |r| r.path.ends_with("/bulk-ban"))
        .await;
    // Read the running bot's database until the end of raid mode is recorded.
    let store = store(bot.dir.path()).await;
    let start = Instant::now();
    loop {
        let ended = store
            .audit_rows(&AuditFilter {
                action: Some("end_raid_mode".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        if ended.iter().any(|r| r.entry.phase == Phase::Done) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "raid mode never ended: {ended:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    store.close().await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_made_in_discord_becomes_a_case() {
    let bot = Bot::start().await;
    bot.gateway.send(
        "GUILD_AUDIT_LOG_ENTRY_CREATE",
        json!({"guild_id": GUILD.to_string(), "id": "1", "action_type": 22,
               "user_id": MODERATOR.to_string(), "target_id": "505", "reason": "raid alt"}),
    );
    // The same event for steward's own ban is not recorded twice.
    bot.gateway.send(
        "GUILD_AUDIT_LOG_ENTRY_CREATE",
        json!({"guild_id": GUILD.to_string(), "id": "2", "action_type": 22,
               "user_id": BOT.to_string(), "target_id": "506", "reason": "steward"}),
    );
    // A message afterwards proves both events were handled before the bot stops.
    bot.gateway
        .send("MESSAGE_CREATE", message(7001, 507, "you are a n1gg3r"));
    bot.wait_for("delete", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/7001")
    })
    .await;
    let dir = bot.stop();
    let store = store(dir.path()).await;
    let cases = store.cases_for(GuildId(GUILD), UserId(505)).await.unwrap();
    assert_eq!(cases.len(), 1, "{cases:?}");
    assert_eq!(cases[0].kind, CaseKind::Ban);
    assert_eq!(cases[0].reason, "raid alt");
    assert_eq!(
        cases[0].actor,
        steward::store::cases::Actor::User(UserId(MODERATOR))
    );
    assert!(
        store
            .cases_for(GuildId(GUILD), UserId(506))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_who_rejoins_during_a_timeout_is_timed_out_again() {
    let bot = Bot::start().await;
    for i in 0..4 {
        bot.gateway.send(
            "MESSAGE_CREATE",
            message(8000 + i, 508, "JOIN MY CLAN JOIN MY CLAN"),
        );
    }
    let path = format!("/guilds/{GUILD}/members/508");
    let first = bot
        .wait_for("timeout", |r| r.method == "PATCH" && r.path == path)
        .await;
    bot.gateway.send(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": GUILD.to_string(), "user": payloads::user(508, "member", false)}),
    );
    let mut member = payloads::member(GUILD, 508, "member", &[11]);
    member["joined_at"] = json!(now_rfc3339());
    bot.gateway.send("GUILD_MEMBER_ADD", member);
    let again = bot
        .wait_for_count("second timeout", 2, |r| {
            r.method == "PATCH" && r.path == path
        })
        .await
        .remove(1);
    assert_eq!(
        again.body["communication_disabled_until"], first.body["communication_disabled_until"],
        "the same end time"
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slur_taken_as_nickname_is_renamed_and_reported() {
    let bot = Bot::start().await;
    let mut member = payloads::member(GUILD, 510, "member", &[11]);
    member["nick"] = json!("n 1 g g 3 r");
    serde_json::from_value::<serenity::all::GuildMemberUpdateEvent>(member.clone())
        .expect("the payload matches serenity's model");
    bot.gateway.send("GUILD_MEMBER_UPDATE", member);
    let rename = bot
        .wait_for("rename", |r| {
            r.method == "PATCH" && r.path == format!("/guilds/{GUILD}/members/510")
        })
        .await;
    assert_eq!(rename.body["nick"], "renamed member");
    bot.wait_for("alert", |r| {
        r.method == "POST" && r.path == format!("/channels/{MOD_LOG}/messages")
    })
    .await;
    let dir = bot.stop();
    let store = store(dir.path()).await;
    assert_eq!(
        audit_phases(&store, "rename", 510).await,
        [Phase::Intent, Phase::Done]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_that_adds_a_slur_is_moderated() {
    let bot = Bot::start().await;
    bot.gateway
        .send("MESSAGE_CREATE", message(9001, 509, "hello everyone"));
    let mut edit = message(9001, 509, "hello you n1gg3r");
    edit["edited_timestamp"] = json!(now_rfc3339());
    bot.gateway.send("MESSAGE_UPDATE", edit);
    bot.wait_for("delete of the edited message", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/9001")
    })
    .await;
    bot.stop();
}

fn hang_up(bot: &Bot) {
    let pid = bot.child.id().to_string();
    let sent = Command::new("kill").args(["-HUP", &pid]).status();
    assert!(sent.is_ok_and(|s| s.success()), "SIGHUP sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_rules_take_effect_on_sighup() {
    let bot = Bot::start().await;
    let path = bot.dir.path().join("rules.yaml");
    let rules = std::fs::read_to_string(&path).expect("rules");
    let banned = rules.replacen(
        "    words: []              # e.g. [badword, \"two words\"]",
        "    words: [pineapple]",
        1,
    );
    assert_ne!(banned, rules, "the example's banned list moved");
    std::fs::write(&path, banned).expect("write rules");
    hang_up(&bot);
    // Until the reload lands, "pineapple" is fine; keep asking until it is not.
    let start = Instant::now();
    for id in 10_000u64.. {
        bot.gateway
            .send("MESSAGE_CREATE", message(id, 500, "I love pineapple"));
        tokio::time::sleep(Duration::from_millis(200)).await;
        if bot.rest.actions().iter().any(|r| r.method == "DELETE") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the new word list never applied"
        );
    }
    let dir = bot.stop();
    let store = store(dir.path()).await;
    let reloads = store
        .audit_rows(&AuditFilter {
            action: Some("rules_reload".into()),
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(reloads.len(), 2, "startup and the reload: {reloads:?}");
    assert_ne!(
        reloads[0].entry.detail["hash"],
        reloads[1].entry.detail["hash"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rules_file_changes_nothing_and_is_reported() {
    let bot = Bot::start().await;
    let path = bot.dir.path().join("rules.yaml");
    let rules = std::fs::read_to_string(&path).expect("rules");
    std::fs::write(
        &path,
        rules.replacen("  - name: slurs", "  - nmae: slurs", 1),
    )
    .expect("write");
    hang_up(&bot);
    let alert = bot
        .wait_for("rejection alert", |r| {
            r.path == format!("/channels/{MOD_LOG}/messages")
                && r.body.to_string().contains("old rules stay in force")
        })
        .await;
    assert!(alert.body.to_string().contains("nmae"), "{}", alert.body);
    bot.gateway
        .send("MESSAGE_CREATE", message(11_001, 501, "you are a n1gg3r"));
    bot.wait_for("delete under the old rules", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/11001")
    })
    .await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_and_health_are_served() {
    let bot = Bot::start().await;
    bot.gateway
        .send("MESSAGE_CREATE", message(12_001, 500, "you are a n1gg3r"));
    bot.wait_for("delete", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/12001")
    })
    .await;
    let (status, health) = get(&bot.metrics, "/healthz").await;
    assert!(status.contains("200"), "{status}: {health}");
    assert!(health.contains("gateway: connected") && health.contains("database: writable"));
    // The alert and the escalation may still be on their way: wait until the message is
    // handled to the end (its actions done and its latency counted).
    bot.wait_settled("message", 1).await;
    let (_, text) = get(&bot.metrics, "/metrics").await;
    assert!(
        text.contains("action=\"alert\",outcome=\"done\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("steward_events_total{kind=\"message\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("steward_verdicts_total{rule=\"slurs\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("steward_actions_total{action=\"delete\",outcome=\"done\"} 1"),
        "{text}"
    );
    assert!(
        text.contains("steward_event_to_action_seconds_count 1"),
        "{text}"
    );
    assert!(text.contains("steward_gateway_connected 1"), "{text}");
    let (missing, _) = get(&bot.metrics, "/nothing").await;
    assert!(missing.contains("404"), "{missing}");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_do_not_stop_the_health_check() {
    let bot = Bot::start().await;
    // Wait until the health check has its first answer from the database.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = get(&bot.metrics, "/healthz").await;
        if status.contains("200") {
            break;
        }
        assert!(Instant::now() < deadline, "never healthy: {status}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut idle = Vec::with_capacity(1000);
    for _ in 0..1000 {
        let stream = tokio::net::TcpStream::connect(&bot.metrics)
            .await
            .expect("an idle connection");
        idle.push(stream);
    }
    let started = Instant::now();
    let (status, body) = get(&bot.metrics, "/healthz").await;
    let took = started.elapsed();
    assert!(status.contains("200"), "{status}: {body}");
    assert!(
        took < Duration::from_millis(100),
        "/healthz took {took:?} beside 1,000 idle connections"
    );
    drop(idle);
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shard_range_identifies_as_those_shards() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bot = Bot::launch(&rules(), dir, &[("STEWARD_SHARDS", "1-1/2")]).await;
    let identify = bot.gateway.identifies.lock().unwrap()[0].clone();
    assert_eq!(identify["op"], 2);
    assert_eq!(identify["d"]["shard"], json!([1, 2]));
    assert!(
        identify["d"]["intents"]
            .as_u64()
            .is_some_and(|i| i & (1 << 15) != 0),
        "message content intent"
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lockdown_ends_with_the_channels_as_they_were() {
    let extra = "  - name: emergency\n    words: {words: [lockdownnow]}\n    actions:\n      - lockdown: {duration: 2s}\n";
    let with_lockdown = rules().replacen("rules:\n", &format!("rules:\n{extra}"), 1);
    assert_ne!(with_lockdown, rules(), "the example has no `rules:` line");
    let bot = Bot::launch(&with_lockdown, tempfile::tempdir().expect("temp dir"), &[]).await;
    let before = vec![(GUILD, 1024, 64)];
    bot.rest
        .state
        .lock()
        .unwrap()
        .channels
        .insert(CHANNEL, before.clone());
    bot.gateway
        .send("MESSAGE_CREATE", message(13_001, 500, "lockdownnow"));
    let path = format!("/channels/{CHANNEL}/permissions/{GUILD}");
    let locked = bot
        .wait_for("lockdown", |r| r.method == "PUT" && r.path == path)
        .await;
    assert!(
        locked.body["deny"]
            .as_str()
            .is_some_and(|d| d.parse::<u64>().unwrap() & 2048 != 0)
    );
    // Two seconds later the scheduler puts the old overwrite back.
    bot.wait_for_count("end of the lockdown", 2, |r| {
        r.method == "PUT" && r.path == path
    })
    .await;
    assert_eq!(bot.rest.state.lock().unwrap().channels[&CHANNEL], before);
    bot.stop();
}
