//! The message and member logs end to end: gateway events from the fake Discord to the
//! real `steward run`, and the posts it makes on the fake REST API.

mod support;

use serde_json::{Value, json};
use support::bot::*;
use support::fake_rest::Recorded;
use support::payloads;

const MESSAGE_LOG: u64 = 320;
const MEMBER_LOG: u64 = 321;
const IGNORED: u64 = 11;

/// The example rules with both logs on and one channel ignored.
fn logged_rules() -> String {
    let rules = rules().replacen(
        "  exempt_roles: []\n",
        &format!(
            "  exempt_roles: []\n  logs: {{messages: \"{MESSAGE_LOG}\", members: \
             \"{MEMBER_LOG}\", ignore_channels: [\"{IGNORED}\"]}}\n"
        ),
        1,
    );
    assert!(rules.contains("logs:"), "the example's settings moved");
    rules
}

async fn start() -> Bot {
    Bot::launch(&logged_rules(), tempfile::tempdir().expect("temp dir"), &[]).await
}

/// The `n`th post (from 1) in `channel`, checked to ping nobody; returns its embed.
async fn post_in(bot: &Bot, channel: u64, n: usize) -> Value {
    let path = format!("/channels/{channel}/messages");
    let posts = bot
        .wait_for_count("a log post", n, |r| r.method == "POST" && r.path == path)
        .await;
    let post: &Recorded = &posts[n - 1];
    assert_eq!(
        post.body["allowed_mentions"]["parse"],
        json!([]),
        "{}",
        post.body
    );
    post.body["embeds"][0].clone()
}

/// How many posts the message log has, once the bot had time to make any more.
async fn log_posts(bot: &Bot) -> usize {
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    let path = format!("/channels/{MESSAGE_LOG}/messages");
    bot.rest.actions().iter().filter(|r| r.path == path).count()
}

fn field(embed: &Value, name: &str) -> String {
    embed["fields"]
        .as_array()
        .and_then(|fields| fields.iter().find(|f| f["name"] == name))
        .and_then(|f| f["value"].as_str())
        .unwrap_or_default()
        .to_string()
}

fn deleted(id: u64, channel: u64) -> Value {
    json!({"id": id.to_string(), "channel_id": channel.to_string(),
           "guild_id": GUILD.to_string()})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_message_is_logged_with_its_content_and_author() {
    let bot = start().await;
    let mut sent = message(4001, 503, "you will **never** prove I said this");
    sent["attachments"] = json!([{"id": "1", "filename": "proof.png", "size": 10,
                                  "url": "https://cdn.example/1", "proxy_url": "https://cdn.example/1"}]);
    bot.gateway.send("MESSAGE_CREATE", sent);
    bot.wait_settled("message", 1).await;
    bot.gateway.send("MESSAGE_DELETE", deleted(4001, CHANNEL));
    let embed = post_in(&bot, MESSAGE_LOG, 1).await;
    assert_eq!(embed["title"], "Message deleted");
    assert_eq!(
        embed["description"],
        "you will \\*\\*never\\*\\* prove I said this"
    );
    assert_eq!(field(&embed, "Author"), "<@503> (503)");
    assert_eq!(field(&embed, "Channel"), format!("<#{CHANNEL}>"));
    assert_eq!(field(&embed, "Attachments"), "proof.png");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edit_shows_before_and_after() {
    let bot = start().await;
    bot.gateway
        .send("MESSAGE_CREATE", message(4002, 503, "meet at 5"));
    bot.wait_settled("message", 1).await;
    let mut edit = message(4002, 503, "meet at 6");
    edit["edited_timestamp"] = json!(now_rfc3339());
    bot.gateway.send("MESSAGE_UPDATE", edit);
    let embed = post_in(&bot, MESSAGE_LOG, 1).await;
    assert_eq!(embed["title"], "Message edited");
    assert_eq!(field(&embed, "Before"), "meet at 5");
    assert_eq!(field(&embed, "After"), "meet at 6");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_delete_posts_one_entry() {
    let bot = start().await;
    for (id, text) in [(4010, "one"), (4011, "two"), (4012, "three")] {
        bot.gateway.send("MESSAGE_CREATE", message(id, 504, text));
    }
    bot.wait_settled("message", 3).await;
    bot.gateway.send(
        "MESSAGE_DELETE_BULK",
        json!({"ids": ["4010", "4011", "4012"], "channel_id": CHANNEL.to_string(),
               "guild_id": GUILD.to_string()}),
    );
    let embed = post_in(&bot, MESSAGE_LOG, 1).await;
    assert_eq!(embed["title"], "3 messages deleted in bulk");
    let listed = embed["description"].as_str().unwrap_or_default();
    assert_eq!(listed.lines().count(), 3, "{listed}");
    assert!(listed.contains("<@504>: three"), "{listed}");
    assert_eq!(log_posts(&bot).await, 1, "one entry for the bulk delete");
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn steward_s_own_deletion_is_logged_once_with_its_rule() {
    let bot = start().await;
    bot.gateway
        .send("MESSAGE_CREATE", message(4020, 505, "you are a n1gg3r"));
    bot.wait_for("the rule's delete", |r| {
        r.method == "DELETE" && r.path == format!("/channels/{CHANNEL}/messages/4020")
    })
    .await;
    // Discord then tells every bot the message is gone.
    bot.gateway.send("MESSAGE_DELETE", deleted(4020, CHANNEL));
    let embed = post_in(&bot, MESSAGE_LOG, 1).await;
    assert_eq!(field(&embed, "Deleted by"), "steward, rule `slurs`");
    assert!(
        embed["description"]
            .as_str()
            .unwrap_or_default()
            .contains("n1gg3r")
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_channels_are_not_logged() {
    let bot = start().await;
    let mut sent = message(4030, 503, "staff chat");
    sent["channel_id"] = json!(IGNORED.to_string());
    bot.gateway.send("MESSAGE_CREATE", sent);
    bot.gateway.send("MESSAGE_DELETE", deleted(4030, IGNORED));
    // A message from a logged channel afterwards is logged first: nothing came before it.
    bot.gateway
        .send("MESSAGE_CREATE", message(4031, 503, "public"));
    bot.wait_settled("message", 2).await;
    bot.gateway.send("MESSAGE_DELETE", deleted(4031, CHANNEL));
    let embed = post_in(&bot, MESSAGE_LOG, 1).await;
    assert_eq!(embed["description"], "public");
    assert_eq!(
        log_posts(&bot).await,
        1,
        "the ignored channel's deletion was not logged"
    );
    bot.stop();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn joins_renames_and_leaves_go_to_the_member_log() {
    let bot = start().await;
    // Names before a change and roles at a leave come from the gateway cache.
    bot.cache_the_guild().await;
    let young = snowflake_at(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("after 1970")
            .as_millis() as u64
            - 3_600_000,
        1,
    );
    let mut member = payloads::member(GUILD, young, "fresh", &[11]);
    member["joined_at"] = json!(now_rfc3339());
    bot.gateway.send("GUILD_MEMBER_ADD", member.clone());
    let joined = post_in(&bot, MEMBER_LOG, 1).await;
    assert_eq!(joined["title"], "⚠ Member joined: fresh");
    assert_eq!(field(&joined, "New account"), "younger than 7 days");
    member["nick"] = json!("@everyone look");
    bot.gateway.send("GUILD_MEMBER_UPDATE", member);
    let renamed = post_in(&bot, MEMBER_LOG, 2).await;
    assert_eq!(renamed["title"], "Nickname changed");
    assert_eq!(field(&renamed, "Before"), "*none*");
    assert_eq!(field(&renamed, "After"), "@everyone look");
    bot.gateway.send(
        "GUILD_MEMBER_REMOVE",
        json!({"guild_id": GUILD.to_string(), "user": payloads::user(young, "fresh", false)}),
    );
    let left = post_in(&bot, MEMBER_LOG, 3).await;
    assert_eq!(left["title"], "Member left: fresh");
    assert_eq!(field(&left, "Roles"), "<@&11>");
    bot.stop();
}
