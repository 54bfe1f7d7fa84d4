//! Crashes: `steward run` is killed with SIGKILL at every request it sends while temporary
//! bans, timeouts, a softban, a lockdown and a rule's delete, warning and alert are in
//! flight, either before Discord's answer arrives or just after; then it starts again on
//! the same database. Once it settles, every temporary sanction that began has ended and
//! was never applied again after its end, no alert was posted twice, every request has an
//! outcome and the audit chain verifies.

mod support;

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use steward::store::Store;
use steward::store::audit::AuditCheck;
use support::bot::*;
use support::fake_rest::{AnswerDelay, Recorded};
use support::payloads::{self, ALL_PERMISSIONS, Caller};

/// How long each temporary sanction lasts.
const LENGTH: &str = "2s";
/// The answer to every request that changes something is held back this long.
const ANSWER_DELAY: Duration = Duration::from_millis(300);

/// A request that changes a member, a message or a channel (not a lookup, a reply to a
/// command, or the command registration).
fn changes_something(r: &Recorded) -> bool {
    r.method != "GET"
        && !r.path.starts_with("/interactions/")
        && !r.path.starts_with("/webhooks/")
        && !r.path.starts_with("/applications/")
}

fn user_option(user: u64) -> Value {
    json!({"name": "user", "type": 6, "value": user.to_string()})
}

fn text_option(name: &str, value: &str) -> Value {
    json!({"name": name, "type": 3, "value": value})
}

/// A moderator's slash command.
fn command(bot: &Bot, id: u64, data: Value) {
    let caller = Caller {
        id: MODERATOR,
        roles: &[13],
        permissions: ALL_PERMISSIONS,
    };
    let payload = payloads::interaction(id, 2, (GUILD, CHANNEL), &caller, data);
    bot.gateway.send("INTERACTION_CREATE", payload);
}

/// Starts the work the crash interrupts: a 2 s ban of 501, a 2 s timeout of 502, a
/// softban of 503, a 2 s lockdown of the channel, and a slur from 504 (delete, warning,
/// alert).
fn start_the_work(bot: &Bot) {
    let ban = payloads::command_data(
        "ban",
        json!([user_option(501), text_option("length", LENGTH)]),
        &[501],
    );
    command(bot, 3001, ban);
    let timeout = payloads::command_data(
        "timeout",
        json!([user_option(502), text_option("length", LENGTH)]),
        &[502],
    );
    command(bot, 3002, timeout);
    command(
        bot,
        3003,
        payloads::command_data("softban", json!([user_option(503)]), &[503]),
    );
    let lockdown = payloads::command_data(
        "lockdown",
        json!([{"name": "start", "type": 1, "options": [text_option("length", LENGTH)]}]),
        &[],
    );
    command(bot, 3004, lockdown);
    bot.gateway
        .send("MESSAGE_CREATE", message(3005, 504, "you are a n1gg3r"));
}

async fn launch() -> Bot {
    let bot = Bot::launch(
        &rules(),
        tempfile::tempdir().expect("temp dir"),
        &[("STEWARD_PROCESS_TIMEOUT", "2s")],
    )
    .await;
    {
        let mut state = bot.rest.state.lock().expect("state");
        state.channels.insert(CHANNEL, vec![]);
        state.answer_delay = Some(AnswerDelay {
            held: changes_something,
            delay: ANSWER_DELAY,
        });
    }
    bot
}

/// Waits until nothing is left to do: no request open, no timed action pending or
/// running.
async fn settle(bot: &Bot, store: &Store, what: &str) {
    let start = Instant::now();
    loop {
        let open = store.open_intent_count().await.expect("intents");
        // Everything due within a minute (the 2 s sanctions; not the hour-long timeout
        // the slur's warnings set off).
        let soon = steward::engine::time::Timestamp(steward::discord::now().0 + 60_000);
        let timed = store.unfinished_timed(soon).await.expect("timed actions");
        if open == 0 && timed == 0 {
            return;
        }
        if start.elapsed() > Duration::from_secs(45) {
            let requests: Vec<String> = bot
                .rest
                .actions()
                .iter()
                .filter(|r| changes_something(r))
                .map(|r| format!("{} {} {}", r.method, r.path, r.body))
                .collect();
            panic!(
                "{what}: {open} requests open, {timed} timed actions left ({:?}); requests: {requests:#?}",
                store.pending_timed().await
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether `r` bans or unbans `user`: `Some(true)` for a ban, `Some(false)` for an unban.
fn ban_change(r: &Recorded, user: u64) -> Option<bool> {
    if r.path != format!("/guilds/{GUILD}/bans/{user}") {
        return None;
    }
    match r.method.as_str() {
        "PUT" => Some(true),
        "DELETE" => Some(false),
        _ => None,
    }
}

/// Whether `r` times `user` out (`Some(true)`) or ends it (`Some(false)`).
fn timeout_change(r: &Recorded, user: u64) -> Option<bool> {
    if r.method != "PATCH" || r.path != format!("/guilds/{GUILD}/members/{user}") {
        return None;
    }
    let until = r.body.get("communication_disabled_until")?;
    Some(!until.is_null())
}

/// A sanction that began has ended, and was not applied again after its end.
fn ended(requests: &[Recorded], what: &str, change: impl Fn(&Recorded) -> Option<bool>) {
    let changes: Vec<bool> = requests.iter().filter_map(change).collect();
    if changes.contains(&true) {
        assert_eq!(
            changes.last(),
            Some(&false),
            "{what} began and was never lifted: {changes:?}"
        );
    }
}

/// Checks what the bot did after a crash at `point`.
async fn check(bot: &Bot, store: &Store, point: &str) {
    let requests = bot.rest.actions();
    ended(&requests, &format!("{point}: the ban of 501"), |r| {
        ban_change(r, 501)
    });
    ended(&requests, &format!("{point}: the softban of 503"), |r| {
        ban_change(r, 503)
    });
    ended(&requests, &format!("{point}: the timeout of 502"), |r| {
        timeout_change(r, 502)
    });
    let channel = bot.rest.state.lock().expect("state").channels[&CHANNEL].clone();
    assert!(
        channel.is_empty(),
        "{point}: the channel stays locked: {channel:?}"
    );
    let alerts = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == format!("/channels/{MOD_LOG}/messages"))
        .filter(|r| r.body.to_string().contains("member 504"))
        .count();
    assert!(alerts <= 1, "{point}: the alert was posted {alerts} times");
    match store.verify_audit().await.expect("verify") {
        AuditCheck::Intact { .. } => {}
        broken => panic!("{point}: {broken:?}"),
    }
}

/// Runs the work once without a crash and returns how many requests it sends.
async fn requests_without_a_crash() -> usize {
    let bot = launch().await;
    let store = store(bot.dir.path()).await;
    start_the_work(&bot);
    // The last request is the end of the lockdown or of a sanction, 2 s on.
    bot.wait_for("the lockdown's end", |r| {
        r.method == "DELETE"
            && r.path
                .starts_with(&format!("/channels/{CHANNEL}/permissions"))
    })
    .await;
    settle(&bot, &store, "no crash").await;
    check(&bot, &store, "no crash").await;
    let count = bot
        .rest
        .actions()
        .iter()
        .filter(|r| changes_something(r))
        .count();
    store.close().await;
    bot.stop();
    count
}

/// Kills the bot when its `k`-th request arrives (`answered`: once it is answered), then
/// restarts it and checks the outcome.
async fn crash_at(k: usize, answered: bool) {
    let point = format!(
        "killed {} request {k}",
        if answered {
            "after the answer to"
        } else {
            "before the answer to"
        }
    );
    let mut bot = launch().await;
    start_the_work(&bot);
    let start = Instant::now();
    loop {
        let sent = bot
            .rest
            .actions()
            .iter()
            .filter(|r| changes_something(r))
            .count();
        if sent >= k {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{point}: only {sent} requests"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    if answered {
        tokio::time::sleep(ANSWER_DELAY + Duration::from_millis(50)).await;
    }
    bot.crash_and_restart().await;
    let store = store(bot.dir.path()).await;
    settle(&bot, &store, &point).await;
    check(&bot, &store, &point).await;
    store.close().await;
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_before_discord_answers_every_sanction_still_ends_once() {
    let points = requests_without_a_crash().await;
    assert!(points >= 10, "only {points} requests to crash at");
    for k in 1..=points {
        crash_at(k, false).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_after_discord_answers_every_sanction_still_ends_once() {
    let points = requests_without_a_crash().await;
    for k in 1..=points {
        crash_at(k, true).await;
    }
}
