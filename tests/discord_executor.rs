//! The Discord executor against a local fake of Discord's REST API: the calls it makes, the
//! checks it does before acting, retries and bulk bans.

mod support;

use std::time::Duration as StdDuration;

use serde_json::Value;
use steward::discord::{self, DiscordExecutor, ExecutorSettings};
use steward::engine::event::{ChannelId, GuildId, MessageId, UserId};
use steward::engine::time::{Duration, Timestamp};
use steward::moderation::{ExecOutcome, Executor, Request};
use steward::rules::{LiveSettings, SettingsBook};
use support::fake_rest::{FakeRest, State};

const GUILD: u64 = 1;
const BOT: u64 = 42;
const OWNER: u64 = 7;
const MEMBER: u64 = 500;
const MOD: u64 = 600;
const EXEMPT: u64 = 700;

/// A guild where steward's role (position 5) is above members (1), below moderators (9).
fn guild_state() -> State {
    let mut state = State::default();
    state.owners.insert(GUILD, OWNER);
    state
        .roles
        .insert(GUILD, vec![(11, 1), (12, 5), (13, 9), (14, 2)]);
    state.members.insert((GUILD, BOT), vec![12]);
    state.members.insert((GUILD, MEMBER), vec![11]);
    state.members.insert((GUILD, MOD), vec![13]);
    state.members.insert((GUILD, EXEMPT), vec![14]);
    state.members.insert((GUILD, OWNER), vec![]);
    state
}

async fn setup(mod_log: Option<u64>) -> (FakeRest, DiscordExecutor) {
    let fake = FakeRest::start(guild_state()).await;
    let http = std::sync::Arc::new(discord::http("test-token", Some(&fake.url)));
    let mut defaults = steward::rules::example().expect("example rules").settings();
    defaults.mod_log_channel = mod_log;
    defaults.exempt_roles = vec![14];
    let guilds = LiveSettings::new(SettingsBook::single(defaults));
    let settings = ExecutorSettings {
        guilds,
        attempts: 3,
        backoff: StdDuration::from_millis(5),
    };
    (fake, DiscordExecutor::new(http, UserId(BOT), settings))
}

fn timeout(user: u64) -> Request {
    Request::Timeout {
        guild: GuildId(GUILD),
        user: UserId(user),
        until: Timestamp(1_790_000_000_000),
        reason: "flood: 6 messages in 5s".into(),
    }
}

#[tokio::test]
async fn a_timeout_checks_rank_then_patches_the_member_with_a_reason() {
    let (fake, executor) = setup(None).await;
    let outcome = executor.execute(&timeout(MEMBER)).await.expect("executes");
    assert_eq!(outcome, ExecOutcome::Done);
    let actions = fake.actions();
    assert_eq!(actions.len(), 1, "{actions:?}");
    let patch = &actions[0];
    assert_eq!(patch.method, "PATCH");
    assert_eq!(patch.path, format!("/guilds/{GUILD}/members/{MEMBER}"));
    let until = patch.body["communication_disabled_until"]
        .as_str()
        .expect("a time");
    assert!(until.starts_with("2026-09-21T"), "{until}");
    assert_eq!(patch.reason().as_deref(), Some("flood: 6 messages in 5s"));
}

#[tokio::test]
async fn steward_never_acts_above_its_station() {
    let (fake, executor) = setup(None).await;
    for (user, why) in [
        (MOD, "at or above"),
        (OWNER, "owns the server"),
        (BOT, "itself"),
        (EXEMPT, "exempt role"),
    ] {
        match executor.execute(&timeout(user)).await.expect("executes") {
            ExecOutcome::Refused(reason) => assert!(reason.contains(why), "{user}: {reason}"),
            ExecOutcome::Done => panic!("acted on {user}"),
        }
        let kick = Request::Kick {
            guild: GuildId(GUILD),
            user: UserId(user),
            reason: "x".into(),
        };
        assert!(matches!(
            executor.execute(&kick).await.expect("executes"),
            ExecOutcome::Refused(_)
        ));
    }
    assert!(fake.actions().is_empty(), "{:?}", fake.actions());
}

#[tokio::test]
async fn raid_bans_go_out_in_chunks_of_two_hundred() {
    let (fake, executor) = setup(None).await;
    let users: Vec<UserId> = (10_000..10_450).map(UserId).collect();
    let ban = Request::Ban {
        guild: GuildId(GUILD),
        users,
        delete_messages: Duration::from_secs(3600),
        reason: "raid: 450 joins in 20s".into(),
    };
    assert_eq!(
        executor.execute(&ban).await.expect("executes"),
        ExecOutcome::Done
    );
    let calls = fake.actions();
    let sizes: Vec<usize> = calls
        .iter()
        .map(|c| c.body["user_ids"].as_array().map_or(0, Vec::len))
        .collect();
    assert_eq!(sizes, vec![200, 200, 50]);
    assert!(
        calls
            .iter()
            .all(|c| c.path == format!("/guilds/{GUILD}/bulk-ban"))
    );
    assert_eq!(calls[0].body["delete_message_seconds"], 3600);
}

#[tokio::test]
async fn a_raid_ban_spares_the_owner() {
    let (fake, executor) = setup(None).await;
    let ban = Request::Ban {
        guild: GuildId(GUILD),
        users: vec![UserId(10_000), UserId(OWNER), UserId(10_001)],
        delete_messages: Duration(0),
        reason: "raid".into(),
    };
    assert!(matches!(
        executor.execute(&ban).await.expect("executes"),
        ExecOutcome::Refused(_)
    ));
    let ids = &fake.actions()[0].body["user_ids"];
    assert_eq!(ids, &serde_json::json!(["10000", "10001"]));
}

#[tokio::test]
async fn server_errors_are_retried() {
    let (fake, executor) = setup(None).await;
    let path = "/channels/10/messages/20";
    fake.state.lock().unwrap().fail("DELETE", path, 2);
    let delete = Request::Delete {
        guild: GuildId(GUILD),
        channel: ChannelId(10),
        message: MessageId(20),
    };
    assert_eq!(
        executor.execute(&delete).await.expect("third try works"),
        ExecOutcome::Done
    );
    assert_eq!(fake.actions().len(), 3);
    assert!(fake.actions().iter().all(|r| r.path == path));

    fake.state.lock().unwrap().fail("DELETE", path, 3);
    let err = executor
        .execute(&delete)
        .await
        .expect_err("gives up after three");
    assert!(err.0.contains("500"), "{err}");
}

#[tokio::test]
async fn alerts_go_to_the_mod_log_without_live_mentions() {
    let (fake, executor) = setup(Some(300)).await;
    let alert = Request::Alert {
        guild: GuildId(GUILD),
        channel: None,
        text: "rule slurs: blocked word (member 500) — \"@everyone n1gg3r\"".into(),
        raid_buttons: false,
    };
    assert_eq!(
        executor.execute(&alert).await.expect("executes"),
        ExecOutcome::Done
    );
    let post = &fake.actions()[0];
    assert_eq!(post.path, "/channels/300/messages");
    assert_eq!(
        post.body["allowed_mentions"]["parse"],
        Value::Array(Vec::new())
    );
    let description = post.body["embeds"][0]["description"].as_str().unwrap();
    assert!(description.contains("@everyone n1gg3r"));

    let (_fake, no_log) = setup(None).await;
    let err = no_log.execute(&alert).await.expect_err("nowhere to post");
    assert!(err.0.contains("mod_log_channel"), "{err}");
}

#[tokio::test]
async fn a_retried_alert_carries_one_nonce_and_a_failed_bulk_ban_is_not_sent_again() {
    let (fake, executor) = setup(Some(300)).await;
    fake.state
        .lock()
        .unwrap()
        .fail("POST", "/channels/300/messages", 1);
    let alert = |text: &str| Request::Alert {
        guild: GuildId(GUILD),
        channel: None,
        text: text.into(),
        raid_buttons: false,
    };
    executor.execute(&alert("one")).await.expect("retried");
    executor.execute(&alert("one")).await.expect("posted");
    let posts = fake.actions();
    let nonces: Vec<&Value> = posts.iter().map(|p| &p.body["nonce"]).collect();
    assert_eq!(posts.len(), 3, "a failed try, its retry, another post");
    assert_eq!(nonces[0], nonces[1], "a retry carries the same nonce");
    assert_ne!(
        nonces[1], nonces[2],
        "another post, even of the same text, a new one"
    );
    assert!(posts.iter().all(|p| p.body["enforce_nonce"] == true));
    assert!(
        nonces
            .iter()
            .all(|n| n.as_str().is_some_and(|n| n.len() <= 25))
    );

    // A server error may hide a bulk ban Discord carried out: it is reported, not re-sent.
    let path = format!("/guilds/{GUILD}/bulk-ban");
    fake.state.lock().unwrap().fail("POST", path.clone(), 1);
    let ban = Request::Ban {
        guild: GuildId(GUILD),
        users: vec![UserId(10_000), UserId(10_001)],
        delete_messages: Duration(0),
        reason: "raid".into(),
    };
    let err = executor.execute(&ban).await.expect_err("500");
    assert!(err.0.contains("500"), "{err}");
    let sent = fake.actions().iter().filter(|r| r.path == path).count();
    assert_eq!(sent, 1);
}

#[test]
fn ends_stored_before_they_had_a_reason_still_read() {
    let unban = Request::Unban {
        guild: GuildId(GUILD),
        user: UserId(5),
        reason: "x".into(),
    };
    let mut stored = serde_json::to_value(&unban).expect("serializes");
    stored.as_object_mut().expect("an object").remove("reason");
    let read: Request = serde_json::from_value(stored).expect("reads without a reason");
    assert!(matches!(read, Request::Unban { reason, .. } if reason.is_empty()));
}

#[tokio::test]
async fn ending_sanctions_of_people_who_left_is_not_an_error() {
    let (fake, executor) = setup(None).await;
    let end = Request::EndTimeout {
        guild: GuildId(GUILD),
        user: UserId(9_999),
        reason: String::new(),
    };
    assert_eq!(
        executor.execute(&end).await.expect("executes"),
        ExecOutcome::Done
    );
    let unban = Request::Unban {
        guild: GuildId(GUILD),
        user: UserId(9_999),
        reason: "appeal 3 of case #1 accepted".into(),
    };
    assert_eq!(
        executor.execute(&unban).await.expect("executes"),
        ExecOutcome::Done
    );
    let reasons: Vec<Option<String>> = fake.actions().iter().map(|r| r.reason()).collect();
    assert_eq!(
        reasons,
        [
            Some("steward: timeout over".to_string()),
            Some("appeal 3 of case #1 accepted".to_string())
        ],
        "an empty reason gives the default"
    );
    let methods: Vec<String> = fake.actions().iter().map(|r| r.method.clone()).collect();
    assert_eq!(methods, vec!["PATCH", "DELETE"]);
}

/// serenity drops payloads that do not match its models, so every shape the fake serves is
/// checked against them here.
#[test]
fn fake_payloads_match_serenitys_models() {
    use serenity::model::prelude::{Member, Message, PartialGuild, Role, User};
    use support::payloads;
    let user = payloads::user(5, "alice", false);
    serde_json::from_value::<User>(user.clone()).expect("user");
    let mut role = payloads::role(11, "member", 1);
    role["guild_id"] = GUILD.to_string().into();
    serde_json::from_value::<Role>(role.clone()).expect("role");
    serde_json::from_value::<Member>(payloads::member(GUILD, 5, "alice", &[11])).expect("member");
    serde_json::from_value::<PartialGuild>(payloads::guild(GUILD, OWNER, &[role])).expect("guild");
    let message = payloads::message(9, 10, user, "hi", Value::Array(Vec::new()));
    serde_json::from_value::<Message>(message).expect("message");
    let channel = payloads::channel(10, GUILD, &[(GUILD, 1024, 0)]);
    serde_json::from_value::<serenity::model::prelude::GuildChannel>(channel).expect("channel");
}

#[tokio::test]
async fn a_lockdown_silences_everyone_and_ends_with_the_exact_old_overwrites() {
    let (fake, executor) = setup(None).await;
    let viewers = (GUILD, 1024, 64); // @everyone: may view, may not add reactions
    fake.state
        .lock()
        .unwrap()
        .channels
        .insert(10, vec![viewers, (13, 2048, 0)]);
    fake.state.lock().unwrap().channels.insert(11, vec![]);
    let channels = vec![ChannelId(10), ChannelId(11)];
    let previous = executor
        .overwrites(GuildId(GUILD), &channels)
        .await
        .expect("snapshot");
    let lock = Request::Lockdown {
        guild: GuildId(GUILD),
        channels: channels.clone(),
    };
    assert_eq!(
        executor.execute(&lock).await.expect("locks"),
        ExecOutcome::Done
    );
    let send = 2048u64 | (1 << 38);
    {
        let state = fake.state.lock().unwrap();
        let everyone = |c: u64| state.channels[&c].iter().find(|o| o.0 == GUILD).copied();
        assert_eq!(
            everyone(10),
            Some((GUILD, 1024, 64 | send)),
            "other bits kept"
        );
        assert_eq!(everyone(11), Some((GUILD, 0, send)));
        assert!(
            state.channels[&10].contains(&(13, 2048, 0)),
            "other roles untouched"
        );
    }
    let unlock = Request::EndLockdown {
        guild: GuildId(GUILD),
        channels,
        previous,
    };
    assert_eq!(
        executor.execute(&unlock).await.expect("unlocks"),
        ExecOutcome::Done
    );
    let state = fake.state.lock().unwrap();
    assert!(
        state.channels[&10].contains(&viewers),
        "{:?}",
        state.channels[&10]
    );
    assert!(
        state.channels[&11].is_empty(),
        "no overwrite before, none after"
    );
}

/// A message id minted `days_ago` days ago.
fn message_from(days_ago: u64, n: u64) -> MessageId {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    MessageId(((now - days_ago * 86_400_000 - 1_420_070_400_000) << 22) + n)
}

#[tokio::test]
async fn purges_go_out_in_hundreds_and_skip_messages_over_two_weeks_old() {
    let (fake, executor) = setup(None).await;
    let mut messages: Vec<MessageId> = (0..150).map(|n| message_from(1, n)).collect();
    messages.push(message_from(20, 0));
    let purge = Request::Purge {
        guild: GuildId(GUILD),
        channel: ChannelId(10),
        messages,
        reason: "cleanup".into(),
    };
    match executor.execute(&purge).await.expect("purges") {
        ExecOutcome::Refused(why) => assert!(why.contains("skipped 1 older than 14 days"), "{why}"),
        ExecOutcome::Done => panic!("an old message cannot have been bulk-deleted"),
    }
    let sizes: Vec<usize> = fake
        .actions()
        .iter()
        .map(|r| {
            assert_eq!(r.path, "/channels/10/messages/bulk-delete");
            r.body["messages"].as_array().map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(sizes, vec![100, 50]);

    let (fake, executor) = setup(None).await;
    let lone = Request::Purge {
        guild: GuildId(GUILD),
        channel: ChannelId(10),
        messages: vec![message_from(0, 7)],
        reason: "cleanup".into(),
    };
    assert_eq!(
        executor.execute(&lone).await.expect("purges"),
        ExecOutcome::Done
    );
    assert_eq!(
        fake.actions()[0].method,
        "DELETE",
        "one message cannot be bulk-deleted"
    );
}

#[tokio::test]
async fn every_account_of_a_raid_ban_is_checked_and_failed_ones_are_retried_alone() {
    let (fake, executor) = setup(None).await;
    {
        let mut state = fake.state.lock().unwrap();
        state.bulk_ban_fails = vec![10_001, 10_002];
        state.ban_forbidden = vec![10_002];
    }
    let ban = Request::Ban {
        guild: GuildId(GUILD),
        users: [10_000, MOD, 10_001, EXEMPT, 10_002].map(UserId).to_vec(),
        delete_messages: Duration(0),
        reason: "raid".into(),
    };
    let ExecOutcome::Refused(why) = executor.execute(&ban).await.expect("executes") else {
        panic!("some accounts were not banned");
    };
    assert!(why.starts_with("banned 2 of 5 accounts"), "{why}");
    for (user, reason) in [(MOD, "at or above"), (EXEMPT, "exempt"), (10_002, "403")] {
        assert!(
            why.contains(&format!("{user}: ")) && why.contains(reason),
            "{why}"
        );
    }
    let calls = fake.actions();
    // The moderator and the exempt member never reach the bulk ban.
    assert_eq!(calls[0].path, format!("/guilds/{GUILD}/bulk-ban"));
    assert_eq!(
        calls[0].body["user_ids"],
        serde_json::json!(["10000", "10001", "10002"])
    );
    // Discord's failed_users are tried once more, one by one.
    let singles: Vec<&str> = calls[1..].iter().map(|c| c.path.as_str()).collect();
    assert_eq!(
        singles,
        [
            format!("/guilds/{GUILD}/bans/10001"),
            format!("/guilds/{GUILD}/bans/10002")
        ]
    );
    assert!(calls[1..].iter().all(|c| c.method == "PUT"));
}

#[tokio::test]
async fn raid_mode_pauses_invites_and_dms_as_asked_and_resumes_them_at_its_end() {
    let (fake, executor) = setup(None).await;
    let until = Timestamp(1_790_000_000_000);
    let start = Request::RaidMode {
        guild: GuildId(GUILD),
        until,
        pause_invites: true,
        pause_dms: false,
    };
    assert_eq!(
        executor.execute(&start).await.expect("runs"),
        ExecOutcome::Done
    );
    let end = Request::EndRaidMode {
        guild: GuildId(GUILD),
        resume_invites: true,
        resume_dms: false,
    };
    assert_eq!(
        executor.execute(&end).await.expect("runs"),
        ExecOutcome::Done
    );
    let calls = fake.actions();
    assert_eq!(calls.len(), 2);
    for call in &calls {
        assert_eq!(call.method, "PUT");
        assert_eq!(call.path, format!("/guilds/{GUILD}/incident-actions"));
    }
    assert_eq!(
        calls[0].body,
        serde_json::json!({"invites_disabled_until": until.rfc3339()})
    );
    assert_eq!(
        calls[1].body,
        serde_json::json!({"invites_disabled_until": null})
    );
    assert_eq!(
        calls[0].headers.get("authorization").map(String::as_str),
        Some("Bot test-token")
    );
}

#[tokio::test]
async fn slowmode_is_read_set_and_put_back() {
    let (fake, executor) = setup(None).await;
    {
        let mut state = fake.state.lock().unwrap();
        state.channels.insert(10, Vec::new());
        state.slowmode.insert(10, 2);
    }
    assert_eq!(executor.slowmode_of(ChannelId(10)).await.expect("reads"), 2);
    let slow = Request::Slowmode {
        guild: GuildId(GUILD),
        channel: ChannelId(10),
        seconds: 30,
    };
    assert_eq!(
        executor.execute(&slow).await.expect("runs"),
        ExecOutcome::Done
    );
    let call = &fake.actions()[0];
    assert_eq!(
        (call.method.as_str(), call.path.as_str()),
        ("PATCH", "/channels/10")
    );
    assert_eq!(call.body, serde_json::json!({"rate_limit_per_user": 30}));
    assert!(call.reason().is_some_and(|r| r.contains("busy channel")));
}
