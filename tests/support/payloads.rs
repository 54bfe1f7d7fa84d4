//! Discord JSON payloads the fake serves, shaped like the real API so serenity's models
//! accept them (a test checks each against serenity's types).

use serde_json::{Value, json};

/// A user object.
pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

/// A role object at `position`.
pub fn role(id: u64, name: &str, position: i64) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": "0",
        "managed": false,
        "mentionable": false,
        "flags": 0,
    })
}

/// A guild member with `roles`.
pub fn member(guild: u64, user_id: u64, name: &str, roles: &[u64]) -> Value {
    json!({
        "guild_id": guild.to_string(),
        "user": user(user_id, name, false),
        "nick": null,
        "avatar": null,
        "roles": roles.iter().map(|r| r.to_string()).collect::<Vec<_>>(),
        "joined_at": "2026-01-01T00:00:00.000000+00:00",
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
        "communication_disabled_until": null,
    })
}

/// A guild as `GET /guilds/{id}` returns it.
pub fn guild(id: u64, owner: u64, roles: &[Value]) -> Value {
    json!({
        "id": id.to_string(),
        "name": "Test Server",
        "icon": null,
        "icon_hash": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": owner.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "widget_enabled": false,
        "widget_channel_id": null,
        "verification_level": 1,
        "default_message_notifications": 1,
        "explicit_content_filter": 2,
        "roles": roles,
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "max_presences": null,
        "max_members": 500000,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "max_video_channel_users": 25,
        "max_stage_video_channel_users": 50,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    })
}

/// A guild as GUILD_CREATE sends it: with its members, so the cache knows them.
pub fn guild_create(id: u64, owner: u64, roles: &[Value], members: &[Value]) -> Value {
    let mut guild = guild(id, owner, roles);
    let extra = json!({
        "joined_at": "2025-01-01T00:00:00.000000+00:00",
        "large": false,
        "unavailable": false,
        "member_count": members.len(),
        "members": members,
        "channels": [],
        "threads": [],
        "presences": [],
        "voice_states": [],
        "stage_instances": [],
        "guild_scheduled_events": [],
    });
    if let (Some(g), Some(e)) = (guild.as_object_mut(), extra.as_object()) {
        g.extend(e.clone());
    }
    guild
}

/// A message as `POST /channels/{id}/messages` returns it.
pub fn message(id: u64, channel: u64, author: Value, content: &str, embeds: Value) -> Value {
    json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "author": author,
        "content": content,
        "timestamp": "2026-11-22T10:00:00.000000+00:00",
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": [],
        "embeds": embeds,
        "pinned": false,
        "type": 0,
        "flags": 0,
    })
}

/// A text channel with @everyone (and other) overwrites: (target, allow, deny).
pub fn channel(id: u64, guild: u64, overwrites: &[(u64, u64, u64)]) -> Value {
    json!({
        "id": id.to_string(),
        "type": 0,
        "guild_id": guild.to_string(),
        "position": 0,
        "permission_overwrites": overwrites.iter().map(|(target, allow, deny)| json!({
            "id": target.to_string(), "type": 0,
            "allow": allow.to_string(), "deny": deny.to_string(),
        })).collect::<Vec<_>>(),
        "name": "general",
        "topic": null,
        "nsfw": false,
        "last_message_id": null,
        "rate_limit_per_user": 0,
        "parent_id": null,
        "flags": 0,
    })
}

/// Every permission bit Discord defines at the time of writing.
pub const ALL_PERMISSIONS: u64 = (1 << 50) - 1;

/// Who runs a command: their id, roles and permissions in the channel.
pub struct Caller<'a> {
    pub id: u64,
    pub roles: &'a [u64],
    pub permissions: u64,
}

/// An INTERACTION_CREATE payload of `kind` (2 command, 4 autocomplete, 5 modal submit) by
/// `caller` in `(guild, channel)`. `data` is the interaction's data.
pub fn interaction(
    id: u64,
    kind: u8,
    (guild, channel): (u64, u64),
    caller: &Caller<'_>,
    data: Value,
) -> Value {
    let mut member = member(guild, caller.id, "caller", caller.roles);
    member["permissions"] = json!(caller.permissions.to_string());
    json!({
        "id": id.to_string(),
        "application_id": "42",
        "type": kind,
        "data": data,
        "guild_id": guild.to_string(),
        "channel_id": channel.to_string(),
        "member": member,
        "token": format!("token-{id}"),
        "version": 1,
        "app_permissions": ALL_PERMISSIONS.to_string(),
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {},
        "context": 0,
        "attachment_size_limit": 26_214_400,
    })
}

/// An INTERACTION_CREATE payload of a press of the button `custom_id` on one of
/// steward's posts in `(guild, channel)`, by `caller`.
pub fn button_press(
    id: u64,
    (guild, channel): (u64, u64),
    caller: &Caller<'_>,
    custom_id: &str,
) -> Value {
    let data = json!({"custom_id": custom_id, "component_type": 2});
    let mut press = interaction(id, 3, (guild, channel), caller, data);
    press["message"] = message(9_000, channel, user(42, "steward", true), "", json!([]));
    press
}

/// `interaction` as made in a DM with steward by `user`: no server, no member.
pub fn in_dm(mut interaction: Value, user_id: u64, channel: u64) -> Value {
    let object = interaction.as_object_mut().expect("an object");
    object.remove("guild_id");
    object.remove("member");
    object.remove("guild_locale");
    object.insert("user".into(), user(user_id, "member", false));
    object.insert("channel_id".into(), json!(channel.to_string()));
    object.insert("context".into(), json!(1));
    interaction
}

/// The data of a submitted form `custom_id` with one text field.
pub fn form_data(custom_id: &str, field: &str, value: &str) -> Value {
    json!({"custom_id": custom_id, "components": [
        {"type": 1, "components": [{"type": 4, "custom_id": field, "value": value}]}
    ]})
}

/// Slash-command data: `name`, its options, and the users they name (resolved).
pub fn command_data(name: &str, options: Value, users: &[u64]) -> Value {
    let users_map: serde_json::Map<String, Value> = users
        .iter()
        .map(|u| (u.to_string(), user(*u, "member", false)))
        .collect();
    json!({
        "id": "77",
        "name": name,
        "type": 1,
        "options": options,
        "resolved": {"users": users_map},
    })
}
