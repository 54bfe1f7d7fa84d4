//! Slash commands end to end: INTERACTION_CREATE events from the fake gateway to the real
//! `steward run`, with assertions on the replies it posts to the fake REST API.

mod support;

use serde_json::{Value, json};
use steward::engine::event::{GuildId, UserId};
use steward::store::audit::{AuditFilter, Phase};
use support::bot::*;
use support::fake_rest::{Recorded, dm_channel};
use support::payloads::in_dm;
use support::payloads::{self, ALL_PERMISSIONS, Caller};

/// A member with no role above @everyone's.
const MEMBER: u64 = 505;
/// [`MEMBER`] with the permissions of an ordinary member.
const MEMBER_CALLER: Caller<'static> = Caller {
    id: MEMBER,
    roles: &[11],
    permissions: SEND_MESSAGES,
};
/// Permission bits.
const BAN_MEMBERS: u64 = 1 << 2;
const SEND_MESSAGES: u64 = 1 << 11;

/// Sends a slash command by `caller` and returns the interaction id.
fn command(bot: &Bot, id: u64, caller: u64, perms: u64, data: Value) -> u64 {
    let roles: &[u64] = if caller == MODERATOR { &[13] } else { &[11] };
    let who = Caller {
        id: caller,
        roles,
        permissions: perms,
    };
    let payload = payloads::interaction(id, 2, (GUILD, CHANNEL), &who, data);
    serde_json::from_value::<serenity::all::Interaction>(payload.clone())
        .expect("the payload matches serenity's model");
    bot.gateway.send("INTERACTION_CREATE", payload);
    id
}

/// The answer to interaction `id`: its callback, or the follow-up after a deferral.
async fn reply(bot: &Bot, id: u64) -> Recorded {
    let callback = format!("/interactions/{id}/token-{id}/callback");
    let followup = format!("/webhooks/42/token-{id}");
    bot.wait_for("a reply", |r| {
        (r.path == callback && r.body["type"] != 5) || r.path.starts_with(&followup)
    })
    .await
}

/// What the caller reads, and checks every reply makes: only the caller sees it, and it
/// pings nobody.
fn text(reply: &Recorded) -> String {
    let data = if reply.path.ends_with("/callback") {
        &reply.body["data"]
    } else {
        &reply.body
    };
    assert_eq!(data["allowed_mentions"]["parse"], json!([]), "{data}");
    format!(
        "{}{}",
        data["content"].as_str().unwrap_or_default(),
        data["embeds"]
    )
}

fn ephemeral(reply: &Recorded) -> bool {
    let data = if reply.path.ends_with("/callback") {
        &reply.body["data"]
    } else {
        &reply.body
    };
    data["flags"].as_u64().unwrap_or(0) & 64 != 0
}

fn user_option(name: &str, user: u64) -> Value {
    json!({"name": name, "type": 6, "value": user.to_string()})
}

fn text_option(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

async fn refusals(bot: &Bot, action: &str) -> usize {
    let store = store(bot.dir.path()).await;
    let rows = store
        .audit_rows(&AuditFilter {
            action: Some(action.to_string()),
            ..AuditFilter::default()
        })
        .await
        .expect("audit rows");
    rows.iter()
        .filter(|r| r.entry.phase == Phase::Refused)
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warn_opens_a_case_and_stores_the_warning() {
    let bot = Bot::start().await;
    let data = payloads::command_data(
        "warn",
        json!([
            user_option("user", 503),
            text_option("reason", "spamming @everyone")
        ]),
        &[503],
    );
    let id = command(&bot, 1001, MODERATOR, ALL_PERMISSIONS, data);
    let answer = reply(&bot, id).await;
    let said = text(&answer);
    assert!(ephemeral(&answer));
    assert!(said.contains("Case #1: warn of <@503> done."), "{said}");
    let store = store(bot.dir.path()).await;
    let warnings = store
        .warnings_for(GuildId(GUILD), UserId(503))
        .await
        .expect("warnings");
    assert_eq!(warnings.len(), 1);
    assert_eq!(warnings[0].reason, "spamming @everyone");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_command_whose_options_do_not_fit_is_answered_and_changes_nothing() {
    let bot = Bot::start().await;
    // An older definition of /warn, with the member given as text: poise cannot read it.
    let data = payloads::command_data(
        "warn",
        json!([
            text_option("user", "503"),
            text_option("reason", "spamming")
        ]),
        &[],
    );
    let id = command(&bot, 1010, MODERATOR, ALL_PERMISSIONS, data);
    let answer = reply(&bot, id).await;
    let said = text(&answer);
    assert!(ephemeral(&answer));
    assert!(
        said.contains("Not done: steward could not read this command's options"),
        "{said}"
    );
    let store = store(bot.dir.path()).await;
    let warnings = store
        .warnings_for(GuildId(GUILD), UserId(503))
        .await
        .expect("warnings");
    assert!(warnings.is_empty());
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_without_the_permission_is_refused_and_audited() {
    let bot = Bot::start().await;
    let data = payloads::command_data("ban", json!([user_option("user", 503)]), &[503]);
    let perms = ALL_PERMISSIONS & !BAN_MEMBERS & !(1 << 3); // no Ban Members, no Administrator
    let id = command(&bot, 1002, MEMBER, perms, data);
    let said = text(&reply(&bot, id).await);
    assert!(
        said.contains("Refused: you need the Ban Members permission"),
        "{said}"
    );
    assert!(
        !bot.rest.actions().iter().any(|r| r.path.contains("/bans/")),
        "nobody was banned"
    );
    assert_eq!(refusals(&bot, "/ban").await, 1);
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_above_the_caller_is_refused_and_audited() {
    let bot = Bot::start().await;
    let data = payloads::command_data(
        "kick",
        json!([user_option("user", MODERATOR)]),
        &[MODERATOR],
    );
    let id = command(&bot, 1003, MEMBER, ALL_PERMISSIONS, data);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("at or above yours"), "{said}");
    assert!(
        !bot.rest
            .actions()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.contains("/members/")),
        "nobody was kicked"
    );
    assert_eq!(refusals(&bot, "/kick").await, 1);
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_pardons_and_reason_edits_respect_the_role_hierarchy() {
    let bot = Bot::start().await;
    // The moderator earns a warning (and its case) from the slur rule.
    bot.gateway.send(
        "MESSAGE_CREATE",
        message(8400, MODERATOR, "you are a n1gg3r"),
    );
    bot.wait_settled("message", 1).await;
    let db = store(bot.dir.path()).await;
    let warning = db
        .warnings_for(GuildId(GUILD), UserId(MODERATOR))
        .await
        .expect("warnings")
        .pop()
        .expect("a warning");
    let case = db
        .cases_for(GuildId(GUILD), UserId(MODERATOR))
        .await
        .expect("cases")
        .pop()
        .expect("a case");
    db.close().await;
    // A member below the moderator may not note, pardon or rewrite the moderator's record.
    let note = payloads::command_data(
        "note",
        json!([user_option("user", MODERATOR), text_option("text", "x")]),
        &[MODERATOR],
    );
    let pardon = payloads::command_data(
        "pardon",
        json!([{"name": "warning", "type": 4, "value": warning.id}]),
        &[],
    );
    let reason = payloads::command_data(
        "case",
        json!([{"name": "reason", "type": 1, "options": [
            {"name": "number", "type": 4, "value": case.number},
            text_option("reason", "nothing happened"),
        ]}]),
        &[],
    );
    for (id, data) in [(1060, note), (1061, pardon), (1062, reason)] {
        let asked = command(&bot, id, MEMBER, ALL_PERMISSIONS, data);
        let said = text(&reply(&bot, asked).await);
        assert!(said.contains("at or above yours"), "{id}: {said}");
    }
    let db = store(bot.dir.path()).await;
    let after = db
        .case(GuildId(GUILD), case.number)
        .await
        .expect("case")
        .expect("still there");
    assert_eq!(after.reason, case.reason, "the reason is unchanged");
    let warnings = db
        .warnings_for(GuildId(GUILD), UserId(MODERATOR))
        .await
        .expect("warnings");
    assert!(
        warnings.iter().all(|w| w.pardon.is_none()),
        "nothing pardoned"
    );
    db.close().await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kick_by_a_moderator_carries_the_reason() {
    let bot = Bot::start().await;
    let data = payloads::command_data(
        "kick",
        json!([user_option("user", 504), text_option("reason", "raiding")]),
        &[504],
    );
    let id = command(&bot, 1004, MODERATOR, ALL_PERMISSIONS, data);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("kick of <@504> done"), "{said}");
    let kick = bot
        .wait_for("the kick", |r| {
            r.method == "DELETE" && r.path == format!("/guilds/{GUILD}/members/504")
        })
        .await;
    assert_eq!(kick.reason().as_deref(), Some("raiding"));
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_is_answered_and_nothing_is_done() {
    let bot = Bot::start().await;
    let unknown = payloads::command_data(
        "case",
        json!([{"name": "show", "type": 1, "options": [{"name": "number", "type": 4, "value": 999}]}]),
        &[],
    );
    let id = command(&bot, 1005, MODERATOR, ALL_PERMISSIONS, unknown);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("there is no case #999"), "{said}");

    let long = "x".repeat(600);
    let note = payloads::command_data(
        "note",
        json!([user_option("user", 503), text_option("text", &long)]),
        &[503],
    );
    let id = command(&bot, 1006, MODERATOR, ALL_PERMISSIONS, note);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("600 characters long; at most 512"), "{said}");

    let timeout = payloads::command_data(
        "timeout",
        json!([user_option("user", 503), text_option("length", "30d")]),
        &[503],
    );
    let id = command(&bot, 1007, MODERATOR, ALL_PERMISSIONS, timeout);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("out of range"), "{said}");
    let store = store(bot.dir.path()).await;
    assert!(
        store
            .all_cases(Some(GuildId(GUILD)))
            .await
            .expect("cases")
            .is_empty(),
        "no case was opened"
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rules_test_names_the_rule_and_does_nothing() {
    let bot = Bot::start().await;
    let data = payloads::command_data(
        "rules",
        json!([{"name": "test", "type": 1, "options": [text_option("text", "you f.u.c.k.i.n.g idiot")]}]),
        &[],
    );
    let id = command(&bot, 1008, MODERATOR, ALL_PERMISSIONS, data);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("profanity"), "{said}");
    assert!(said.contains("matched: `f.u.c.k.i.n.g`"), "{said}");
    assert!(said.contains("actions: delete, warn"), "{said}");
    assert!(
        !bot.rest
            .actions()
            .iter()
            .any(|r| r.path.starts_with("/channels/10/messages/")),
        "nothing was deleted"
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rules_upload_changes_nothing_and_shows_the_line() {
    let bot = Bot::start().await;
    let before = std::fs::read_to_string(bot.dir.path().join("rules.yaml")).expect("rules");
    bot.rest.state.lock().expect("state").files.insert(
        "bad.yaml".into(),
        "add_rules:\n  - name: x\n    words: {words: [a]}\n    actions: [delte]\n".into(),
    );
    let attachment = json!({
        "id": "4000", "filename": "bad.yaml", "size": 64,
        "url": format!("{}/files/bad.yaml", bot.rest.url),
        "proxy_url": format!("{}/files/bad.yaml", bot.rest.url),
    });
    let mut data = payloads::command_data(
        "rules",
        json!([{"name": "upload", "type": 1, "options": [{"name": "file", "type": 11, "value": "4000"}]}]),
        &[],
    );
    data["resolved"]["attachments"] = json!({"4000": attachment});
    let id = command(&bot, 1009, MODERATOR, ALL_PERMISSIONS, data);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("bad.yaml:4"), "{said}");
    assert!(said.contains("did you mean `delete`"), "{said}");
    let after = std::fs::read_to_string(bot.dir.path().join("rules.yaml")).expect("rules");
    assert_eq!(before, after, "the rules file is untouched");
    bot.stop();
}

/// Uploads `content` as `file` with `/rules upload` by the moderator; returns the reply.
async fn upload_rules(bot: &Bot, id: u64, file: &str, content: &str) -> String {
    bot.rest
        .state
        .lock()
        .expect("state")
        .files
        .insert(file.into(), content.into());
    let attachment = json!({
        "id": id.to_string(), "filename": file, "size": content.len(),
        "url": format!("{}/files/{file}", bot.rest.url),
        "proxy_url": format!("{}/files/{file}", bot.rest.url),
    });
    let mut data = payloads::command_data(
        "rules",
        json!([{"name": "upload", "type": 1, "options": [{"name": "file", "type": 11, "value": id.to_string()}]}]),
        &[],
    );
    data["resolved"]["attachments"] = json!({id.to_string(): attachment});
    let asked = command(bot, id, MODERATOR, ALL_PERMISSIONS, data);
    text(&reply(bot, asked).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_s_own_rules_change_that_server_alone() {
    let bot = Bot::start().await;
    let operator_file = bot.dir.path().join("rules.yaml");
    let before = std::fs::read_to_string(&operator_file).expect("rules");
    let own = "settings:\n  exempt_roles: [\"99\"]\nadd_rules:\n  - name: no-pineapple\n    words: {words: [pineapple]}\n    actions: [delete]\n";
    let said = upload_rules(&bot, 1050, "ours.yaml", own).await;
    assert!(said.contains("own rules are in force"), "{said}");
    // Host files are never read from a server's rules, and hostile files change nothing.
    let passwd = "lists:\n  stolen: {file: /etc/passwd}\nadd_rules:\n  - name: x\n    words: {lists: [stolen]}\n";
    let said = upload_rules(&bot, 1051, "passwd.yaml", passwd).await;
    assert!(said.contains("cannot read files"), "{said}");
    let bomb = "a: &a [x, x]\nb: [*a, *a]\n";
    let said = upload_rules(&bot, 1052, "bomb.yaml", bomb).await;
    assert!(said.contains("aliases"), "{said}");
    let limits = "settings:\n  limits: {max_joins: 1}\n";
    let said = upload_rules(&bot, 1053, "limits.yaml", limits).await;
    assert!(said.contains("unknown field `limits`"), "{said}");

    bot.gateway
        .send("MESSAGE_CREATE", message(8300, 503, "I love pineapple"));
    let mut elsewhere = message(8301, 503, "I love pineapple");
    elsewhere["guild_id"] = json!(OTHER_GUILD.to_string());
    elsewhere["channel_id"] = json!(OTHER_CHANNEL.to_string());
    bot.gateway.send("MESSAGE_CREATE", elsewhere);
    bot.wait_for("the delete in the server with the rule", |r| {
        r.method == "DELETE" && r.path == format!("/channels/{CHANNEL}/messages/8300")
    })
    .await;
    bot.wait_settled("message", 2).await;
    assert!(
        !bot.rest
            .actions()
            .iter()
            .any(|r| r.path.ends_with("/messages/8301")),
        "the other server's message was touched"
    );
    let said = run_rules_show(&bot, 1054).await;
    assert!(
        said.contains("This server's own rules") && said.contains("no-pineapple"),
        "{said}"
    );
    let after = std::fs::read_to_string(&operator_file).expect("rules");
    assert_eq!(before, after, "the operator's file is untouched");

    // The rules outlive a restart; a reset brings back the defaults.
    let dir = bot.stop();
    let bot = Bot::launch(&rules(), dir, &[]).await;
    bot.gateway
        .send("MESSAGE_CREATE", message(8302, 503, "pineapple again"));
    bot.wait_for("the delete after the restart", |r| {
        r.path == format!("/channels/{CHANNEL}/messages/8302")
    })
    .await;
    let reset = payloads::command_data(
        "rules",
        json!([{"name": "reset", "type": 1, "options": []}]),
        &[],
    );
    let id = command(&bot, 1055, MODERATOR, ALL_PERMISSIONS, reset);
    assert!(text(&reply(&bot, id).await).contains("default rules again"));
    bot.stop();
}

async fn run_rules_show(bot: &Bot, id: u64) -> String {
    let show = payloads::command_data(
        "rules",
        json!([{"name": "show", "type": 1, "options": []}]),
        &[],
    );
    let asked = command(bot, id, MODERATOR, ALL_PERMISSIONS, show);
    text(&reply(bot, asked).await)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faq_entries_are_found_by_autocomplete_and_shown_to_all() {
    let bot = Bot::start().await;
    let add = payloads::command_data(
        "faq",
        json!([{"name": "add", "type": 1, "options": [
            text_option("title", "How do I get the artist role?"),
            text_option("answer", "Post three pieces in #showcase, then ask a moderator."),
        ]}]),
        &[],
    );
    let id = command(&bot, 1010, MODERATOR, ALL_PERMISSIONS, add);
    assert!(text(&reply(&bot, id).await).contains("Added"));

    // A member without Manage Messages may not add entries.
    let add = payloads::command_data(
        "faq",
        json!([{"name": "add", "type": 1, "options": [
            text_option("title", "spam"), text_option("answer", "spam"),
        ]}]),
        &[],
    );
    let id = command(&bot, 1011, MEMBER, SEND_MESSAGES, add);
    assert!(text(&reply(&bot, id).await).contains("Refused"));

    let typing = payloads::command_data(
        "faq",
        json!([{"name": "query", "type": 1, "options": [
            {"name": "question", "type": 3, "value": "artis", "focused": true},
        ]}]),
        &[],
    );
    let payload = payloads::interaction(1012, 4, (GUILD, CHANNEL), &MEMBER_CALLER, typing);
    bot.gateway.send("INTERACTION_CREATE", payload);
    let choices = bot
        .wait_for("autocomplete", |r| {
            r.path == "/interactions/1012/token-1012/callback"
        })
        .await;
    assert_eq!(choices.body["type"], 8);
    assert_eq!(
        choices.body["data"]["choices"][0]["value"],
        "How do I get the artist role?"
    );

    let ask = payloads::command_data(
        "faq",
        json!([{"name": "query", "type": 1, "options": [text_option("question", "How do I get the artist role?")]}]),
        &[],
    );
    let id = command(&bot, 1013, MEMBER, SEND_MESSAGES, ask);
    let answer = reply(&bot, id).await;
    assert!(text(&answer).contains("three pieces"));
    assert!(!ephemeral(&answer), "answers are shown to everyone");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_reaches_the_mod_log_with_the_note() {
    let bot = Bot::start().await;
    let reported = payloads::message(
        7777,
        CHANNEL,
        payloads::user(503, "member", false),
        "buy cheap nitro here",
        json!([]),
    );
    let data = json!({
        "id": "78", "name": "Report message", "type": 3, "target_id": "7777",
        "resolved": {"messages": {"7777": reported}},
    });
    let id = command(&bot, 1014, MEMBER, SEND_MESSAGES, data);
    let form = bot
        .wait_for("the form", |r| {
            r.path == format!("/interactions/{id}/token-{id}/callback")
        })
        .await;
    assert_eq!(form.body["type"], 9, "a modal asks for the note");
    let submit = json!({
        "custom_id": id.to_string(),
        "components": [{"type": 1, "components": [
            {"type": 4, "custom_id": "note", "value": "scam link"}
        ]}],
    });
    let payload = payloads::interaction(1015, 5, (GUILD, CHANNEL), &MEMBER_CALLER, submit);
    bot.gateway.send("INTERACTION_CREATE", payload);
    let alert = bot
        .wait_for("the alert", |r| {
            r.method == "POST" && r.path == format!("/channels/{MOD_LOG}/messages")
        })
        .await;
    let alert_text = alert.body.to_string();
    assert!(alert_text.contains("scam link"), "{alert_text}");
    assert!(
        alert_text.contains("https://discord.com/channels/1/10/7777"),
        "{alert_text}"
    );
    let thanks = bot
        .wait_for("the thank-you", |r| {
            r.path.starts_with(&format!("/webhooks/42/token-{id}"))
        })
        .await;
    assert!(text(&thanks).contains("Thank you"));
    assert!(ephemeral(&thanks));
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_lockdown_locks_every_text_channel_and_ends_as_it_was() {
    let bot = Bot::start().await;
    {
        let mut state = bot.rest.state.lock().expect("state");
        state.channels.insert(10, vec![]);
        state.channels.insert(11, vec![(GUILD, 1 << 10, 0)]);
    }
    let start = payloads::command_data(
        "lockdown",
        json!([{"name": "start", "type": 1, "options": [{"name": "server", "type": 5, "value": true}]}]),
        &[],
    );
    let id = command(&bot, 1016, MODERATOR, ALL_PERMISSIONS, start);
    let said = text(&reply(&bot, id).await);
    assert!(
        said.contains("Locked 2 channels until /lockdown end"),
        "{said}"
    );
    {
        let state = bot.rest.state.lock().expect("state");
        assert!(
            state.channels[&10]
                .iter()
                .any(|(t, _, deny)| *t == GUILD && deny & SEND_MESSAGES != 0)
        );
        assert!(
            state.channels[&11]
                .iter()
                .any(|(t, _, deny)| *t == GUILD && deny & SEND_MESSAGES != 0)
        );
    }
    let end = payloads::command_data(
        "lockdown",
        json!([{"name": "end", "type": 1, "options": []}]),
        &[],
    );
    let id = command(&bot, 1017, MODERATOR, ALL_PERMISSIONS, end);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("Lockdown over"), "{said}");
    let state = bot.rest.state.lock().expect("state");
    assert!(state.channels[&10].is_empty(), "no overwrite, as before");
    assert_eq!(state.channels[&11], vec![(GUILD, 1 << 10, 0)], "as it was");
    drop(state);
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overlapping_lockdowns_end_with_the_channels_as_before_the_first() {
    let bot = Bot::start().await;
    let everyone_open = vec![(GUILD, 1 << 10, 0)];
    {
        let mut state = bot.rest.state.lock().expect("state");
        state.channels.insert(CHANNEL, vec![]);
        state.channels.insert(11, everyone_open.clone());
    }
    let start = |server: bool, length: &str| {
        payloads::command_data(
            "lockdown",
            json!([{"name": "start", "type": 1, "options": [
                {"name": "server", "type": 5, "value": server},
                text_option("length", length),
            ]}]),
            &[],
        )
    };
    // This channel for 2 s, then the whole server for 4 s: the first ends while the
    // second still holds the channel.
    let id = command(&bot, 1040, MODERATOR, ALL_PERMISSIONS, start(false, "2s"));
    assert!(text(&reply(&bot, id).await).contains("Locked 1 channels"));
    let id = command(&bot, 1041, MODERATOR, ALL_PERMISSIONS, start(true, "4s"));
    assert!(text(&reply(&bot, id).await).contains("Locked 2 channels"));
    let locked = |bot: &Bot, channel: u64| {
        bot.rest.state.lock().expect("state").channels[&channel]
            .iter()
            .any(|(t, _, deny)| *t == GUILD && deny & SEND_MESSAGES != 0)
    };
    let store = store(bot.dir.path()).await;
    let ended = || async {
        store
            .audit_rows(&AuditFilter {
                action: Some("end_lockdown".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .iter()
            .filter(|r| r.entry.phase == Phase::Done)
            .count()
    };
    let waited = std::time::Instant::now();
    while ended().await < 1 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert!(locked(&bot, CHANNEL), "the server lockdown still holds it");
    while ended().await < 2 {
        assert!(waited.elapsed() < std::time::Duration::from_secs(30));
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    {
        let state = bot.rest.state.lock().expect("state");
        assert!(
            state.channels[&CHANNEL].is_empty(),
            "no overwrite, as before"
        );
        assert_eq!(state.channels[&11], everyone_open, "as it was");
    }
    store.close().await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn purge_deletes_the_chosen_messages_in_bulk() {
    let bot = Bot::start().await;
    let now_id =
        |offset: u64| ((steward::discord::now().0 as u64 - 1_420_070_400_000) << 22) + offset;
    let history: Vec<Value> = (0..6)
        .map(|i| {
            let author = if i % 2 == 0 { 503 } else { 504 };
            payloads::message(
                now_id(i),
                CHANNEL,
                payloads::user(author, "member", false),
                "spam",
                json!([]),
            )
        })
        .collect();
    bot.rest
        .state
        .lock()
        .expect("state")
        .history
        .insert(CHANNEL, history);
    let data = payloads::command_data(
        "purge",
        json!([{"name": "count", "type": 4, "value": 10}, user_option("user", 503)]),
        &[503],
    );
    let id = command(&bot, 1018, MODERATOR, ALL_PERMISSIONS, data);
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("Deleted 3 messages"), "{said}");
    let bulk = bot
        .wait_for("bulk delete", |r| r.path.ends_with("/messages/bulk-delete"))
        .await;
    assert_eq!(bulk.body["messages"].as_array().map(Vec::len), Some(3));
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_question_in_a_help_channel_gets_the_faq_answer() {
    let rules = rules().replacen(
        "  # faq_answers:\n  #   channels: [\"123456789012345678\"]",
        &format!("  faq_answers:\n    channels: [\"{CHANNEL}\"]"),
        1,
    );
    assert!(
        rules.contains("  faq_answers:\n"),
        "the example's FAQ lines moved"
    );
    let bot = Bot::launch(&rules, tempfile::tempdir().expect("temp dir"), &[]).await;
    let add = payloads::command_data(
        "faq",
        json!([{"name": "add", "type": 1, "options": [
            text_option("title", "How do I get the artist role?"),
            text_option("answer", "Post three pieces in #showcase, then ask a moderator."),
        ]}]),
        &[],
    );
    let id = command(&bot, 1020, MODERATOR, ALL_PERMISSIONS, add);
    assert!(text(&reply(&bot, id).await).contains("Added"));
    bot.gateway.send(
        "MESSAGE_CREATE",
        message(8100, 503, "hey, how do I get the artist role?"),
    );
    let answer = bot
        .wait_for("the answer", |r| {
            r.method == "POST" && r.path == format!("/channels/{CHANNEL}/messages")
        })
        .await;
    assert!(answer.body["embeds"].to_string().contains("three pieces"));
    assert_eq!(answer.body["message_reference"]["message_id"], "8100");
    assert_eq!(answer.body["allowed_mentions"]["parse"], json!([]));
    // Chat that is not a question gets no answer.
    bot.gateway.send(
        "MESSAGE_CREATE",
        message(8101, 503, "I got the artist role"),
    );
    bot.gateway.send(
        "MESSAGE_CREATE",
        message(8102, 503, "how do I get the artist role?"),
    );
    bot.wait_settled("message", 3).await;
    let answers = bot
        .rest
        .actions()
        .into_iter()
        .filter(|r| r.path == format!("/channels/{CHANNEL}/messages"))
        .count();
    assert_eq!(answers, 1, "one answer per cooldown, none to statements");
    bot.stop();
}

/// Runs one command as the moderator and returns what they read.
async fn run(bot: &Bot, id: u64, data: Value) -> String {
    let id = command(bot, id, MODERATOR, ALL_PERMISSIONS, data);
    text(&reply(bot, id).await)
}

fn sub(name: &str, options: Value) -> Value {
    json!([{"name": name, "type": 1, "options": options}])
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_moderator_command_does_its_job() {
    let bot = Bot::start().await;
    let data =
        |name: &str, options: Value, users: &[u64]| payloads::command_data(name, options, users);
    let said = run(
        &bot,
        2001,
        data(
            "timeout",
            json!([user_option("user", 501), text_option("length", "2h")]),
            &[501],
        ),
    )
    .await;
    assert!(said.contains("timeout of <@501> done"), "{said}");
    let said = run(
        &bot,
        2002,
        data("untimeout", json!([user_option("user", 501)]), &[501]),
    )
    .await;
    assert!(said.contains("timeout of <@501> is over"), "{said}");
    let said = run(
        &bot,
        2003,
        data(
            "ban",
            json!([user_option("user", 502), text_option("length", "7d")]),
            &[502],
        ),
    )
    .await;
    assert!(said.contains("ban of <@502> done"), "{said}");
    let said = run(
        &bot,
        2004,
        data("unban", json!([user_option("user", 502)]), &[502]),
    )
    .await;
    assert!(said.contains("unban of <@502> done"), "{said}");
    let said = run(
        &bot,
        2005,
        data("softban", json!([user_option("user", 506)]), &[506]),
    )
    .await;
    assert!(said.contains("softban of <@506> done"), "{said}");
    let said = run(
        &bot,
        2006,
        data(
            "note",
            json!([
                user_option("user", 503),
                text_option("text", "asked about rules")
            ]),
            &[503],
        ),
    )
    .await;
    assert!(said.contains("note about <@503> saved"), "{said}");

    // The member menu and the message menu.
    let menu = |name: &str, target: u64| {
        json!({
            "id": "79", "name": name, "type": 2, "target_id": target.to_string(),
            "resolved": {"users": {target.to_string(): payloads::user(target, "member", false)}},
        })
    };
    let said = run(&bot, 2007, menu("Warn", 503)).await;
    assert!(said.contains("warn of <@503> done"), "{said}");
    let said = run(&bot, 2008, menu("Timeout 1 h", 507)).await;
    assert!(said.contains("timeout of <@507> done"), "{said}");
    let target = payloads::message(
        7800,
        CHANNEL,
        payloads::user(508, "member", false),
        "rude",
        json!([]),
    );
    let said = run(
        &bot,
        2009,
        json!({
            "id": "80", "name": "Delete and warn", "type": 3, "target_id": "7800",
            "resolved": {"messages": {"7800": target}},
        }),
    )
    .await;
    assert!(
        said.contains("delete of <@508> done") && said.contains("warn of <@508> done"),
        "{said}"
    );
    bot.wait_for("the delete", |r| {
        r.method == "DELETE" && r.path == "/channels/10/messages/7800"
    })
    .await;

    // Records.
    let said = run(
        &bot,
        2010,
        data("warnings", json!([user_option("user", 503)]), &[503]),
    )
    .await;
    assert!(said.contains("1 warnings, 1 points counting now"), "{said}");
    let store = store(bot.dir.path()).await;
    let warning = store
        .warnings_for(GuildId(GUILD), UserId(503))
        .await
        .expect("warnings")[0]
        .id;
    let said = run(
        &bot,
        2011,
        data(
            "pardon",
            json!([{"name": "warning", "type": 4, "value": warning}]),
            &[],
        ),
    )
    .await;
    assert!(said.contains("pardoned"), "{said}");
    let said = run(&bot, 2012, data("case", sub("reason", json!([{"name": "number", "type": 4, "value": 1}, text_option("reason", "too chatty")])), &[])).await;
    assert!(said.contains("Case #1 now reads: too chatty"), "{said}");
    let said = run(
        &bot,
        2013,
        data(
            "case",
            sub("show", json!([{"name": "number", "type": 4, "value": 1}])),
            &[],
        ),
    )
    .await;
    assert!(said.contains("too chatty"), "{said}");
    let said = run(
        &bot,
        2014,
        data("cases", json!([user_option("user", 503)]), &[503]),
    )
    .await;
    assert!(said.contains("note") && said.contains("warn"), "{said}");
    let said = run(
        &bot,
        2015,
        data("audit", json!([text_option("action", "softban")]), &[]),
    )
    .await;
    assert!(
        said.contains("softban intent") && said.contains("softban done"),
        "{said}"
    );
    let said = run(
        &bot,
        2016,
        data(
            "audit",
            json!([{"name": "page", "type": 4, "value": 99}]),
            &[],
        ),
    )
    .await;
    assert!(said.contains("there are only"), "{said}");

    // Channels, raid mode and rules.
    let said = run(
        &bot,
        2017,
        data(
            "slowmode",
            json!([{"name": "seconds", "type": 4, "value": 30}]),
            &[],
        ),
    )
    .await;
    assert!(said.contains("one message every 30 s"), "{said}");
    let slow = bot
        .wait_for("slowmode", |r| {
            r.method == "PATCH" && r.path == "/channels/10"
        })
        .await;
    assert_eq!(slow.body["rate_limit_per_user"], 30);
    let said = run(
        &bot,
        2018,
        data(
            "raid",
            sub("on", json!([text_option("length", "10m")])),
            &[],
        ),
    )
    .await;
    assert!(said.contains("Raid mode is on until"), "{said}");
    let said = run(&bot, 2019, data("raid", sub("status", json!([])), &[])).await;
    assert!(said.contains("Raid mode is on until"), "{said}");
    let said = run(&bot, 2020, data("raid", sub("off", json!([])), &[])).await;
    assert!(said.contains("Raid mode is off"), "{said}");
    let said = run(&bot, 2021, data("raid", sub("status", json!([])), &[])).await;
    assert!(said.contains("Raid mode is off"), "{said}");
    let said = run(&bot, 2022, data("rules", sub("show", json!([])), &[])).await;
    assert!(
        said.contains("offensive-names") && said.contains("scam-links"),
        "{said}"
    );
    // The rules file every server shares is the owners' alone.
    let said = run(&bot, 2023, data("rules", sub("reload", json!([])), &[])).await;
    assert!(said.contains("only the bot's owners"), "{said}");
    let id = command(
        &bot,
        2030,
        APP_OWNER,
        ALL_PERMISSIONS,
        data("rules", sub("reload", json!([])), &[]),
    );
    let said = text(&reply(&bot, id).await);
    assert!(said.contains("has not changed"), "{said}");

    // FAQ upkeep.
    let said = run(
        &bot,
        2024,
        data(
            "faq",
            sub(
                "add",
                json!([
                    text_option("title", "Rules"),
                    text_option("answer", "Be kind.")
                ]),
            ),
            &[],
        ),
    )
    .await;
    assert!(said.contains("Added"), "{said}");
    let said = run(
        &bot,
        2025,
        data(
            "faq",
            sub(
                "add",
                json!([
                    text_option("title", "Rules"),
                    text_option("answer", "Again.")
                ]),
            ),
            &[],
        ),
    )
    .await;
    assert!(said.contains("already an entry"), "{said}");
    let said = run(
        &bot,
        2026,
        data(
            "faq",
            sub(
                "edit",
                json!([
                    text_option("title", "Rules"),
                    text_option("answer", "Be very kind.")
                ]),
            ),
            &[],
        ),
    )
    .await;
    assert!(said.contains("Updated"), "{said}");
    let said = run(&bot, 2027, data("faq", sub("list", json!([])), &[])).await;
    assert!(said.contains("FAQ (1 entries)"), "{said}");
    let said = run(
        &bot,
        2028,
        data(
            "faq",
            sub("remove", json!([text_option("title", "Rules")])),
            &[],
        ),
    )
    .await;
    assert!(said.contains("Removed"), "{said}");
    let said = run(
        &bot,
        2029,
        data(
            "faq",
            sub("remove", json!([text_option("title", "Rules")])),
            &[],
        ),
    )
    .await;
    assert!(said.contains("no entry"), "{said}");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stats_count_messages_members_and_rule_actions() {
    let bot = Bot::start().await;
    for (id, author, text) in [
        (8200, 503, "good morning"),
        (8201, 504, "morning! anyone up for a game?"),
        (8202, 503, "sure"),
        (8203, 506, "you are a n1gg3r"),
    ] {
        bot.gateway
            .send("MESSAGE_CREATE", message(id, author, text));
    }
    let mut member = payloads::member(GUILD, 530, "newcomer", &[]);
    member["joined_at"] = json!(now_rfc3339());
    bot.gateway.send("GUILD_MEMBER_ADD", member);
    bot.gateway.send(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": GUILD.to_string(), "user": payloads::user(504, "member", false)}),
    );
    bot.wait_for("the slur's deletion", |r| {
        r.method == "DELETE" && r.path.ends_with("/messages/8203")
    })
    .await;
    // The join and the leave arrived after the messages; let the bot take them in.
    bot.wait_settled("member_join", 1).await;
    bot.wait_settled("member_leave", 1).await;
    let options = json!([{"name": "days", "type": 4, "value": 3}]);
    let id = command(
        &bot,
        1030,
        MODERATOR,
        ALL_PERMISSIONS,
        payloads::command_data("stats", options, &[]),
    );
    let answer = reply(&bot, id).await;
    assert!(ephemeral(&answer));
    let said = text(&answer);
    assert!(
        said.contains("**4** messages from **3** active members, **1** joined, **1** left"),
        "{said}"
    );
    assert!(
        said.contains(&format!("<#{CHANNEL}>: 4 messages")),
        "{said}"
    );
    assert!(said.contains("`slurs` delete: 1 done"), "{said}");
    assert_eq!(
        answer.body["data"]["embeds"][0]["image"]["url"],
        "attachment://stats.png"
    );
    let [(name, png)] = &answer.files[..] else {
        panic!("one file attached: {:?}", answer.files.len());
    };
    assert_eq!(name, "stats.png");
    let decoded = png::Decoder::new(std::io::Cursor::new(png.as_slice()))
        .read_info()
        .expect("the chart decodes as PNG");
    let info = decoded.info();
    assert_eq!((info.width, info.height), (1000, 640));
    assert!(
        png.len() > 10_000,
        "a drawn chart, not a blank one: {} bytes",
        png.len()
    );
    // Members may not read the server's numbers.
    let id = command(
        &bot,
        1031,
        MEMBER,
        SEND_MESSAGES,
        payloads::command_data("stats", json!([]), &[]),
    );
    assert!(text(&reply(&bot, id).await).contains("Refused"));
    // Counted after the last /stats, saved at shutdown.
    bot.gateway
        .send("MESSAGE_CREATE", message(8204, 503, "see you later"));
    bot.wait_settled("message", 5).await;
    let dir = bot.stop();
    let store = store(dir.path()).await;
    let today = steward::store::stats::day_of(steward::engine::time::Timestamp(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as i64,
    ));
    let kept = store
        .community_stats(GuildId(GUILD), today, 1, 5)
        .await
        .expect("stats");
    assert_eq!(kept.days[0].messages, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_moderator_command_refuses_a_plain_member() {
    let bot = Bot::start().await;
    let target = || json!([user_option("user", 503)]);
    let menu = |name: &str| {
        json!({
            "id": "79", "name": name, "type": 2, "target_id": "503",
            "resolved": {"users": {"503": payloads::user(503, "member", false)}},
        })
    };
    let attempts = [
        ("warn", target()),
        ("timeout", target()),
        ("untimeout", target()),
        ("kick", target()),
        ("ban", target()),
        ("unban", target()),
        ("softban", target()),
        (
            "note",
            json!([user_option("user", 503), text_option("text", "x")]),
        ),
        ("warnings", target()),
        (
            "pardon",
            json!([{"name": "warning", "type": 4, "value": 1}]),
        ),
        (
            "case",
            sub("show", json!([{"name": "number", "type": 4, "value": 1}])),
        ),
        ("cases", target()),
        ("audit", json!([])),
        ("purge", json!([{"name": "count", "type": 4, "value": 5}])),
        ("slowmode", json!([text_option("delay", "10s")])),
        ("lockdown", sub("start", json!([]))),
        ("raid", sub("on", json!([]))),
        ("rules", sub("reload", json!([]))),
        (
            "faq",
            sub(
                "add",
                json!([text_option("title", "t"), text_option("answer", "a")]),
            ),
        ),
        ("stats", json!([])),
    ];
    let mut id = 3000;
    for (name, options) in attempts {
        id += 1;
        let data = payloads::command_data(name, options, &[503]);
        let sent = command(&bot, id, MEMBER, SEND_MESSAGES, data);
        let said = text(&reply(&bot, sent).await);
        assert!(said.contains("Refused: you need the"), "/{name}: {said}");
    }
    for name in ["Warn", "Timeout 1 h"] {
        id += 1;
        let sent = command(&bot, id, MEMBER, SEND_MESSAGES, menu(name));
        let said = text(&reply(&bot, sent).await);
        assert!(said.contains("Refused: you need the"), "{name}: {said}");
    }
    let acted: Vec<_> = bot
        .rest
        .actions()
        .into_iter()
        .filter(|r| !r.path.starts_with("/interactions/") && !r.path.starts_with("/webhooks/"))
        .filter(|r| r.path != "/applications/42/commands")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(acted.is_empty(), "nothing was done: {acted:?}");
    let store = store(bot.dir.path()).await;
    let refused = store
        .audit_rows(&AuditFilter::default())
        .await
        .expect("audit rows")
        .into_iter()
        .filter(|r| r.entry.phase == Phase::Refused && r.entry.actor == Some(UserId(MEMBER)))
        .count();
    assert_eq!(refused, 22, "every attempt is audited");
    bot.stop();
}

/// The example rules with cases logged in [`CASE_LOG`] and bans announced by DM.
fn noticing_rules() -> String {
    let rules = rules().replacen(
        "  exempt_roles: []\n",
        &format!(
            "  exempt_roles: []\n  logs: {{cases: \"{CASE_LOG}\"}}\n  \
             notify: {{on: [ban], appeal: \"Write to appeals@example.org\"}}\n"
        ),
        1,
    );
    assert!(rules.contains("notify:"), "the example's settings moved");
    rules
}

const CASE_LOG: u64 = 310;

/// Bans member 503 with `/ban` and returns the ban's REST call.
async fn ban_503(bot: &Bot) -> Recorded {
    let data = payloads::command_data(
        "ban",
        json!([
            user_option("user", 503),
            text_option("reason", "spamming @everyone")
        ]),
        &[503],
    );
    let id = command(bot, 1040, MODERATOR, ALL_PERMISSIONS, data);
    let said = text(&reply(bot, id).await);
    assert!(said.contains("ban of <@503> done"), "{said}");
    bot.wait_for("the ban", |r| {
        r.method == "PUT" && r.path == format!("/guilds/{GUILD}/bans/503")
    })
    .await
}

/// Case 1 of the server, read from the database once the bot has stopped.
async fn first_case_after_stop(bot: Bot) -> steward::store::cases::Case {
    let dir = bot.stop();
    store(dir.path())
        .await
        .case(GuildId(GUILD), 1)
        .await
        .expect("read")
        .expect("case 1")
}

/// The embed of a message steward posted, after checking it pings nobody.
fn embed(post: &Recorded) -> &Value {
    assert_eq!(
        post.body["allowed_mentions"]["parse"],
        json!([]),
        "{}",
        post.body
    );
    &post.body["embeds"][0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ban_is_told_to_the_member_first_and_posted_in_the_case_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bot = Bot::launch(&noticing_rules(), dir, &[]).await;
    let ban = ban_503(&bot).await;
    let dm_path = format!("/channels/{}/messages", dm_channel(503));
    let dm = bot
        .wait_for("the DM", |r| r.method == "POST" && r.path == dm_path)
        .await;
    assert!(dm.at < ban.at, "the DM goes before the ban");
    let notice = embed(&dm);
    assert_eq!(notice["title"], "You were banned");
    let said = notice.to_string();
    assert!(said.contains("spamming @everyone"), "{said}");
    assert!(said.contains("Write to appeals@example.org"), "{said}");
    let case_path = format!("/channels/{CASE_LOG}/messages");
    let post = bot
        .wait_for("the case post", |r| {
            r.method == "POST" && r.path == case_path
        })
        .await;
    let case = embed(&post);
    assert_eq!(case["title"], "Case #1 · ban");
    let said = case.to_string();
    assert!(
        said.contains("<@503>") && said.contains(&format!("<@{MODERATOR}>")),
        "{said}"
    );
    let kept = first_case_after_stop(bot).await;
    assert_eq!(kept.dm.as_deref(), Some("sent"));
    assert_eq!(
        kept.post,
        Some((CASE_LOG, 9_000)),
        "the post is kept for later edits"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn closed_dms_are_noted_on_the_case_and_the_ban_happens() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bot = Bot::launch(&noticing_rules(), dir, &[]).await;
    bot.rest.state.lock().expect("state").closed_dms.push(503);
    let ban = ban_503(&bot).await;
    assert_eq!(ban.reason().as_deref(), Some("spamming @everyone"));
    let case_path = format!("/channels/{CASE_LOG}/messages");
    let post = bot
        .wait_for("the case post", |r| {
            r.method == "POST" && r.path == case_path
        })
        .await;
    let said = embed(&post).to_string();
    assert!(
        said.contains("not delivered: Discord refused it (error 50007"),
        "{said}"
    );
    let kept = first_case_after_stop(bot).await;
    let note = kept.dm.expect("a note on the case");
    assert!(note.contains("50007"), "{note}");
}

const APPEALS: u64 = 330;

/// Sends an interaction of `kind` made in member 503's DMs with steward.
fn from_503(bot: &Bot, id: u64, kind: u8, data: Value) -> u64 {
    let payload = payloads::interaction(id, kind, (GUILD, CHANNEL), &MEMBER_CALLER, data);
    let mut payload = in_dm(payload, 503, dm_channel(503));
    if kind == 3 {
        let steward = payloads::user(42, "steward", true);
        payload["message"] = payloads::message(9_000, dm_channel(503), steward, "", json!([]));
    }
    serde_json::from_value::<serenity::all::Interaction>(payload.clone())
        .expect("the payload matches serenity's model");
    bot.gateway.send("INTERACTION_CREATE", payload);
    id
}

/// The answer to interaction `id` made outside a server.
async fn callback(bot: &Bot, id: u64) -> Recorded {
    let path = format!("/interactions/{id}/token-{id}/callback");
    bot.wait_for("the interaction's answer", |r| r.path == path)
        .await
}

/// The custom ids of the buttons on a message steward posted.
fn buttons(post: &Value) -> Vec<String> {
    post["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .filter_map(|b| b["custom_id"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_appeal_goes_from_the_dm_to_the_moderators_and_accept_unbans() {
    let rules = noticing_rules().replacen(
        "appeal: \"Write to appeals@example.org\"",
        &format!("appeals_channel: \"{APPEALS}\""),
        1,
    );
    assert!(rules.contains("appeals_channel"), "the notify line moved");
    let bot = Bot::launch(&rules, tempfile::tempdir().expect("temp dir"), &[]).await;
    ban_503(&bot).await;
    let dm_path = format!("/channels/{}/messages", dm_channel(503));
    let dm = bot
        .wait_for("the DM", |r| r.method == "POST" && r.path == dm_path)
        .await;
    assert_eq!(buttons(&dm.body), ["appeal:1:1"]);

    // The member, banned and sharing no server with steward, presses Appeal: a form opens.
    let press = json!({"custom_id": "appeal:1:1", "component_type": 2});
    let opened = callback(&bot, from_503(&bot, 1060, 3, press)).await;
    assert_eq!(opened.body["type"], 9, "a modal: {}", opened.body);
    assert_eq!(opened.body["data"]["custom_id"], "appeal-form:1:1");

    let form = payloads::form_data("appeal-form:1:1", "appeal", "My account was **hacked**");
    let sent = callback(&bot, from_503(&bot, 1061, 5, form.clone())).await;
    assert!(
        text(&sent).contains("sent to the moderators"),
        "{}",
        sent.body
    );
    let path = format!("/channels/{APPEALS}/messages");
    let post = bot
        .wait_for("the appeal's post", |r| {
            r.method == "POST" && r.path == path
        })
        .await;
    let shown = embed(&post);
    assert_eq!(shown["title"], "Appeal of case #1 · ban");
    assert_eq!(shown["description"], "My account was \\*\\*hacked\\*\\*");
    let [accept, deny] = &buttons(&post.body)[..] else {
        panic!("Accept and Deny: {}", post.body);
    };
    assert_eq!(
        (accept.as_str(), deny.as_str()),
        ("appeal-accept:1", "appeal-deny:1")
    );

    // One open appeal per case.
    let again = callback(&bot, from_503(&bot, 1062, 5, form)).await;
    assert!(text(&again).contains("already waiting"), "{}", again.body);

    // A member without Ban Members cannot decide it.
    let press = payloads::button_press(1063, (GUILD, APPEALS), &MEMBER_CALLER, accept);
    bot.gateway.send("INTERACTION_CREATE", press);
    assert!(text(&callback(&bot, 1063).await).contains("You cannot use this"));
    assert!(
        !bot.rest
            .actions()
            .iter()
            .any(|r| r.method == "DELETE" && r.path.contains("/bans/")),
        "no unban for a member"
    );

    let moderator = Caller {
        id: MODERATOR,
        roles: &[13],
        permissions: ALL_PERMISSIONS,
    };
    let press = payloads::button_press(1064, (GUILD, APPEALS), &moderator, accept);
    bot.gateway.send("INTERACTION_CREATE", press);
    let unban = bot
        .wait_for("the unban", |r| {
            r.method == "DELETE" && r.path == format!("/guilds/{GUILD}/bans/503")
        })
        .await;
    assert!(
        unban.reason().is_some_and(|r| r.contains("appeal")),
        "{:?}",
        unban.reason()
    );
    let closed = bot
        .wait_for("the appeal's post, decided", |r| {
            r.method == "PATCH"
                && r.path
                    .starts_with(&format!("/channels/{APPEALS}/messages/"))
        })
        .await;
    assert!(buttons(&closed.body).is_empty(), "{}", closed.body);
    assert!(
        embed(&closed)
            .to_string()
            .contains(&format!("accepted by <@{MODERATOR}>"))
    );
    let told = bot
        .wait_for_count("the decision's DM", 2, |r| {
            r.method == "POST" && r.path == dm_path
        })
        .await;
    assert_eq!(embed(&told[1])["title"], "Appeal accepted");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_s_logs_never_reach_another_server_s_channel() {
    let bot = Bot::start().await;
    // This server's admins name a channel of the other server for their logs and alerts.
    let own = format!(
        "settings:\n  mod_log_channel: \"{OTHER_CHANNEL}\"\n  logs: {{cases: \
         \"{OTHER_CHANNEL}\", messages: \"{OTHER_CHANNEL}\"}}\nadd_rules:\n  - name: \
         no-pineapple\n    words: {{words: [pineapple]}}\n    actions: [delete, alert]\n  - name: \
         no-mango\n    words: {{words: [mango]}}\n    actions: [{{lockdown: {{channels: \
         [\"{OTHER_CHANNEL}\"], duration: 10m}}}}]\n"
    );
    let said = upload_rules(&bot, 1070, "ours.yaml", &own).await;
    assert!(said.contains("own rules are in force"), "{said}");
    ban_503(&bot).await;
    bot.gateway
        .send("MESSAGE_CREATE", message(8400, 504, "pineapple on pizza"));
    bot.wait_for("the rule's delete", |r| {
        r.method == "DELETE" && r.path == format!("/channels/{CHANNEL}/messages/8400")
    })
    .await;
    bot.gateway.send(
        "MESSAGE_DELETE",
        json!({"id": "8400", "channel_id": CHANNEL.to_string(), "guild_id": GUILD.to_string()}),
    );
    bot.wait_settled("message_delete", 1).await;
    bot.gateway
        .send("MESSAGE_CREATE", message(8401, 504, "mango season"));
    bot.wait_settled("message", 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let elsewhere = format!("/channels/{OTHER_CHANNEL}/");
    let leaked: Vec<String> = bot
        .rest
        .actions()
        .iter()
        .filter(|r| r.path.starts_with(&elsewhere))
        .map(|r| format!("{} {} {}", r.method, r.path, r.body))
        .collect();
    assert!(leaked.is_empty(), "posted in the other server: {leaked:?}");
    bot.stop();
}
