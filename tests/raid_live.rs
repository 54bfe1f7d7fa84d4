//! A raid against the real binary and the fake Discord: a thousand fresh accounts joining
//! within ten seconds, with five old accounts among them. The cohort leaves in a few bulk
//! bans, the old accounts are left alone, and Discord is asked to pause invites.

mod support;

use std::time::{Duration, Instant};

use serde_json::json;
use support::bot::{Bot, GUILD, MOD_LOG, snowflake_at};
use support::fake_rest::Recorded;
use support::payloads;

fn banned_ids(requests: &[Recorded]) -> (Vec<u64>, usize) {
    let mut banned = Vec::new();
    let mut calls = 0;
    for r in requests {
        if r.path.ends_with("/bulk-ban") {
            calls += 1;
            let ids = r.body["user_ids"].as_array().cloned().unwrap_or_default();
            assert!(ids.len() <= 200, "a bulk ban of {}", ids.len());
            banned.extend(ids.iter().filter_map(|v| v.as_str()?.parse::<u64>().ok()));
        } else if r.method == "PUT" && r.path.starts_with(&format!("/guilds/{GUILD}/bans/")) {
            calls += 1;
            banned.extend(
                r.path
                    .rsplit('/')
                    .next()
                    .and_then(|id| id.parse::<u64>().ok()),
            );
        }
    }
    (banned, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_fresh_accounts_are_banned_in_a_few_calls_and_old_accounts_are_not() {
    let bot = Bot::start().await;
    // The cache knows the server: its owner, its roles and steward's place among them.
    bot.cache_the_guild().await;

    let now_ms = steward::discord::now().0 as u64;
    let fresh: Vec<u64> = (0..1000)
        .map(|i| snowflake_at(now_ms - 3_600_000 - i * 1000, i))
        .collect();
    // Accounts made in 2019, with ordinary names, arriving in the middle of the raid.
    let old: Vec<u64> = (0..5)
        .map(|i| snowflake_at(1_560_000_000_000 + i * 86_400_000, 5000 + i))
        .collect();
    let started = Instant::now();
    let names = ["mara", "tobias", "quinn", "lea_m", "oskar"];
    for (i, id) in fresh.iter().enumerate() {
        bot.join_now(*id, &format!("user{:04x}", i * 7919 % 65536));
        if i % 200 == 100 {
            let k = i / 200;
            bot.join_now(old[k], names[k]);
        }
        // A join every 8 ms on a fixed schedule, however slow the machine: the whole raid
        // within ten seconds.
        let next = started + Duration::from_millis(8) * (i as u32 + 1);
        tokio::time::sleep_until(next.into()).await;
    }
    let arrived = started.elapsed();
    assert!(
        arrived < Duration::from_secs(10),
        "the raid took {arrived:?} to arrive"
    );

    let deadline = Instant::now() + Duration::from_secs(60);
    let (banned, calls) = loop {
        let (banned, calls) = banned_ids(&bot.rest.actions());
        let caught = fresh.iter().filter(|f| banned.contains(f)).count();
        if caught >= fresh.len() || Instant::now() > deadline {
            break (banned, calls);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let caught = fresh.iter().filter(|f| banned.contains(f)).count();
    assert!(
        caught * 100 >= fresh.len() * 95,
        "{caught} of 1000 fresh accounts banned"
    );
    let spared: Vec<&u64> = old.iter().filter(|o| banned.contains(o)).collect();
    assert!(spared.is_empty(), "old accounts banned: {spared:?}");
    assert!(calls <= 8, "{calls} ban calls for a raid of 1000");
    let actions = bot.rest.actions();
    let paused = actions
        .iter()
        .find(|r| r.path == format!("/guilds/{GUILD}/incident-actions"))
        .expect("invites paused");
    assert_eq!(paused.method, "PUT");
    assert!(
        paused.body["invites_disabled_until"].is_string(),
        "{}",
        paused.body
    );
    // The rank checks came from the cache: no member lookups for the raid's accounts.
    let lookups = bot
        .rest
        .state
        .lock()
        .expect("state")
        .requests
        .iter()
        .filter(|r| r.method == "GET" && r.path.starts_with(&format!("/guilds/{GUILD}/members/")))
        .count();
    assert!(lookups < 50, "{lookups} member lookups");
    // The old accounts are held for the moderators, not banned.
    let held = actions
        .iter()
        .filter(|r| {
            r.method == "PATCH"
                && old
                    .iter()
                    .any(|o| r.path == format!("/guilds/{GUILD}/members/{o}"))
                && r.body["communication_disabled_until"].is_string()
        })
        .count();
    assert_eq!(
        held,
        old.len(),
        "every old account joining in the raid is held"
    );
    // The raid's alert carries the buttons for the held.
    let alert = actions
        .iter()
        .find(|r| {
            r.path == format!("/channels/{MOD_LOG}/messages") && r.body["components"].is_array()
        })
        .expect("the raid alert with buttons");
    let ids: Vec<&str> = alert.body["components"][0]["components"]
        .as_array()
        .expect("buttons")
        .iter()
        .filter_map(|b| b["custom_id"].as_str())
        .collect();
    assert_eq!(ids, ["steward:raid:ban", "steward:raid:release"]);
    // A member without the permission cannot press the alert's ban button.
    let press = |id: u64, permissions: u64, button: &str| {
        let caller = payloads::Caller {
            id: 510,
            roles: &[11],
            permissions,
        };
        payloads::button_press(id, (GUILD, MOD_LOG), &caller, button)
    };
    bot.gateway
        .send("INTERACTION_CREATE", press(8_001, 0, "steward:raid:ban"));
    let refusal = bot
        .wait_for("the refusal", |r| r.path.starts_with("/interactions/8001/"))
        .await;
    assert!(
        refusal.body.to_string().contains("cannot use this"),
        "{}",
        refusal.body
    );
    // A moderator releases the held: each timeout ends.
    const MODERATE_MEMBERS: u64 = 1 << 40;
    bot.gateway.send(
        "INTERACTION_CREATE",
        press(8_002, MODERATE_MEMBERS, "steward:raid:release"),
    );
    for o in &old {
        let path = format!("/guilds/{GUILD}/members/{o}");
        bot.wait_for("a hold released", |r| {
            r.method == "PATCH"
                && r.path == path
                && r.body["communication_disabled_until"].is_null()
        })
        .await;
    }
    let banned_after: Vec<u64> = banned_ids(&bot.rest.actions()).0;
    assert!(old.iter().all(|o| !banned_after.contains(o)));
    eprintln!(
        "1000-account raid: {caught} banned in {calls} calls; last ban request {:?} after the first join",
        actions
            .iter()
            .filter(|r| r.path.ends_with("/bulk-ban") || r.path.contains("/bans/"))
            .map(|r| r.at)
            .max()
            .map(|last| last.duration_since(started))
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn raid_mode_survives_a_crash_and_still_tells_raiders_from_others() {
    let mut bot = Bot::start().await;
    let now_ms = steward::discord::now().0 as u64;
    let names = [
        "kestrel", "wobble", "tangent", "marlow", "pixie", "brisk", "ocelot", "quill", "sable",
        "tundra", "vesper", "zinnia",
    ];
    for (i, name) in names.iter().enumerate() {
        bot.join_now(snowflake_at(now_ms - 7_200_000, i as u64), name);
    }
    bot.wait_for("the raid's bulk ban", |r| r.path.ends_with("/bulk-ban"))
        .await;
    bot.crash_and_restart().await;
    // After the restart a fresh account is still a raider, and an old one is held.
    let fresh = snowflake_at(now_ms - 3_600_000, 77);
    bot.join_now(fresh, "newcomer");
    let old = snowflake_at(1_560_000_000_000, 78);
    bot.join_now(old, "longtimer");
    let path = format!("/guilds/{GUILD}/bans/{fresh}");
    let banned = bot
        .wait_for("the fresh account banned", |r| {
            r.path == path
                || (r.path.ends_with("/bulk-ban")
                    && r.body["user_ids"]
                        .as_array()
                        .is_some_and(|ids| ids.iter().any(|v| v == &json!(fresh.to_string()))))
        })
        .await;
    assert!(banned.method == "PUT" || banned.method == "POST");
    let member = format!("/guilds/{GUILD}/members/{old}");
    bot.wait_for("the old account held", |r| {
        r.method == "PATCH"
            && r.path == member
            && r.body["communication_disabled_until"].is_string()
    })
    .await;
    let (banned, _) = banned_ids(&bot.rest.actions());
    assert!(!banned.contains(&old), "the old account was banned");
    bot.stop();
}
