//! serenity's models into the engine's plain events.

use serenity::model::channel::Message as SMessage;
use serenity::model::event::{GuildMemberUpdateEvent, MessageUpdateEvent};
use serenity::model::guild::Member as SMember;
use serenity::model::guild::audit_log::{Action, AuditLogEntry, Change, MemberAction};
use serenity::model::user::User as SUser;

use crate::engine::event::{
    Attachment, Author, ChannelId, GuildId, MemberJoin, MemberLeave, MemberUpdate, Message,
    MessageId, RoleId, UserId,
};
use crate::engine::time::Timestamp;
use crate::store::cases::CaseKind;

/// Milliseconds of a serenity timestamp.
fn millis(t: &serenity::model::Timestamp) -> Timestamp {
    Timestamp(t.unix_timestamp() * 1000 + i64::from(t.millisecond()))
}

/// The author facts rules look at; `member` adds roles and the join time in guilds.
pub fn author(user: &SUser, member: Option<(&[u64], Option<Timestamp>)>) -> Author {
    Author {
        id: UserId(user.id.get()),
        name: user.name.clone(),
        display_name: user.global_name.clone(),
        bot: user.bot,
        created_at: Some(millis(&user.id.created_at())),
        joined_at: member.and_then(|(_, joined)| joined),
        roles: member
            .map(|(roles, _)| roles.iter().map(|r| RoleId(*r)).collect())
            .unwrap_or_default(),
    }
}

/// A guild message as the engine sees it; `None` for direct messages. `category` is the
/// channel's parent when the cache knows it.
pub fn message(msg: &SMessage, category: Option<u64>) -> Option<Message> {
    let guild = msg.guild_id?;
    let member = msg.member.as_ref().map(|m| {
        let roles: Vec<u64> = m.roles.iter().map(|r| r.get()).collect();
        (roles, m.joined_at.as_ref().map(millis))
    });
    Some(Message {
        id: MessageId(msg.id.get()),
        guild_id: GuildId(guild.get()),
        channel_id: ChannelId(msg.channel_id.get()),
        category_id: category.map(ChannelId),
        author: author(
            &msg.author,
            member
                .as_ref()
                .map(|(roles, joined)| (roles.as_slice(), *joined)),
        ),
        content: msg.content.clone(),
        mentions: msg.mentions.iter().map(|u| UserId(u.id.get())).collect(),
        mention_roles: msg.mention_roles.iter().map(|r| RoleId(r.get())).collect(),
        mention_everyone: msg.mention_everyone,
        attachments: msg
            .attachments
            .iter()
            .map(|a| Attachment {
                filename: a.filename.clone(),
                size: u64::from(a.size),
                content_type: a.content_type.clone(),
            })
            .collect(),
        timestamp: msg
            .edited_timestamp
            .as_ref()
            .map_or_else(|| millis(&msg.timestamp), millis),
    })
}

/// An edited guild message, when the edit carries its author and text.
pub fn edit(event: &MessageUpdateEvent) -> Option<Message> {
    let guild = event.guild_id?;
    let user = event.author.as_ref()?;
    let content = event.content.clone()?;
    let member = event.member.as_ref().and_then(|m| m.as_deref()).map(|m| {
        let roles: Vec<u64> = m.roles.iter().map(|r| r.get()).collect();
        (roles, m.joined_at.as_ref().map(millis))
    });
    let time = event.edited_timestamp.or(event.timestamp)?;
    Some(Message {
        id: MessageId(event.id.get()),
        guild_id: GuildId(guild.get()),
        channel_id: ChannelId(event.channel_id.get()),
        category_id: None,
        author: author(
            user,
            member
                .as_ref()
                .map(|(roles, joined)| (roles.as_slice(), *joined)),
        ),
        content,
        mentions: event
            .mentions
            .iter()
            .flatten()
            .map(|u| UserId(u.id.get()))
            .collect(),
        mention_roles: event
            .mention_roles
            .iter()
            .flatten()
            .map(|r| RoleId(r.get()))
            .collect(),
        mention_everyone: event.mention_everyone.unwrap_or(false),
        attachments: Vec::new(),
        timestamp: millis(&time),
    })
}

/// A sanction a person applied in Discord's own interface, read from the audit log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExternalSanction {
    pub kind: CaseKind,
    pub moderator: UserId,
    pub target: UserId,
    pub reason: Option<String>,
    /// For timeouts: when it ends.
    pub until: Option<Timestamp>,
}

/// The ban, unban, kick or timeout an audit-log entry records, if it records one.
pub fn external_sanction(entry: &AuditLogEntry) -> Option<ExternalSanction> {
    let target = UserId(entry.target_id?.get());
    let mut until = None;
    let kind = match entry.action {
        Action::Member(MemberAction::BanAdd) => CaseKind::Ban,
        Action::Member(MemberAction::BanRemove) => CaseKind::Unban,
        Action::Member(MemberAction::Kick) => CaseKind::Kick,
        Action::Member(MemberAction::Update) => {
            let new = entry.changes.iter().flatten().find_map(|c| match c {
                Change::CommunicationDisabledUntil { new, .. } => Some(*new),
                _ => None,
            })?;
            until = Some(millis(&new?));
            CaseKind::Timeout
        }
        _ => return None,
    };
    Some(ExternalSanction {
        kind,
        moderator: UserId(entry.user_id.get()),
        target,
        reason: entry.reason.clone(),
        until,
    })
}

/// A member who just joined.
pub fn join(member: &SMember, now: Timestamp) -> MemberJoin {
    let roles: Vec<u64> = member.roles.iter().map(|r| r.get()).collect();
    let joined = member.joined_at.as_ref().map(millis);
    MemberJoin {
        guild_id: GuildId(member.guild_id.get()),
        user: author(&member.user, Some((&roles, joined))),
        timestamp: joined.unwrap_or(now),
    }
}

/// A member whose names or roles changed; the display name is the server nickname when
/// there is one, since that is what others see.
pub fn member_update(event: &GuildMemberUpdateEvent, now: Timestamp) -> MemberUpdate {
    let roles: Vec<u64> = event.roles.iter().map(|r| r.get()).collect();
    let mut user = author(&event.user, Some((&roles, Some(millis(&event.joined_at)))));
    if let Some(nick) = event.nick.as_ref().filter(|n| !n.is_empty()) {
        user.display_name = Some(nick.clone());
    }
    MemberUpdate {
        guild_id: GuildId(event.guild_id.get()),
        user,
        timestamp: now,
    }
}

/// A member who left.
pub fn leave(guild: u64, user: &SUser, now: Timestamp) -> MemberLeave {
    MemberLeave {
        guild_id: GuildId(guild),
        user_id: UserId(user.id.get()),
        name: user.name.clone(),
        timestamp: now,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn user() -> serde_json::Value {
        json!({"id": "175928847299117063", "username": "alice", "discriminator": "0",
               "global_name": "Alice", "avatar": null, "bot": false})
    }

    #[test]
    fn guild_messages_carry_roles_mentions_and_times() {
        let msg: SMessage = serde_json::from_value(json!({
            "id": "1001", "channel_id": "10", "guild_id": "1", "author": user(),
            "member": {"roles": ["20"], "joined_at": "2026-01-02T00:00:00.000000+00:00",
                       "deaf": false, "mute": false, "flags": 0},
            "content": "hi @everyone", "timestamp": "2026-11-22T10:00:00.250000+00:00",
            "edited_timestamp": null, "tts": false, "mention_everyone": true,
            "mentions": [user()], "mention_roles": ["30"],
            "attachments": [{"id": "5", "filename": "cat.png", "size": 48213,
                             "url": "https://cdn.example/cat.png", "proxy_url": "https://cdn.example/cat.png",
                             "content_type": "image/png"}],
            "embeds": [], "pinned": false, "type": 0
        }))
        .expect("a MESSAGE_CREATE payload");
        let m = message(&msg, Some(77)).expect("a guild message");
        assert_eq!(m.guild_id, GuildId(1));
        assert_eq!(m.category_id, Some(ChannelId(77)));
        assert_eq!(m.author.roles, vec![RoleId(20)]);
        assert_eq!(m.author.joined_at, Some(Timestamp(1_767_312_000_000)));
        // Snowflake 175928847299117063 was minted on 2016-04-30.
        assert_eq!(m.author.created_at, Some(Timestamp(1_462_015_105_796)));
        assert_eq!(m.timestamp, Timestamp(1_795_341_600_250));
        assert!(m.mention_everyone);
        assert_eq!(m.mention_roles, vec![RoleId(30)]);
        assert_eq!(m.attachments[0].size, 48213);
    }

    #[test]
    fn edits_carry_the_new_text() {
        let event: MessageUpdateEvent = serde_json::from_value(json!({
            "id": "1001", "channel_id": "10", "guild_id": "1", "author": user(),
            "content": "now with a slur", "edited_timestamp": "2026-11-22T10:05:00.000000+00:00",
            "timestamp": "2026-11-22T10:00:00.000000+00:00"
        }))
        .expect("a MESSAGE_UPDATE payload");
        let m = edit(&event).expect("an edit with text");
        assert_eq!(m.content, "now with a slur");
        assert_eq!(m.timestamp, Timestamp(1_795_341_900_000));
        let embed_only: MessageUpdateEvent = serde_json::from_value(json!({
            "id": "1001", "channel_id": "10", "guild_id": "1", "embeds": []
        }))
        .expect("an embed-only update");
        assert_eq!(edit(&embed_only), None);
    }

    #[test]
    fn audit_log_entries_become_external_sanctions() {
        let ban: AuditLogEntry = serde_json::from_value(json!({
            "id": "1", "action_type": 22, "user_id": "600", "target_id": "500",
            "reason": "spam", "changes": []
        }))
        .expect("a ban entry");
        let found = external_sanction(&ban).expect("a ban");
        assert_eq!(
            (found.kind, found.moderator, found.target),
            (CaseKind::Ban, UserId(600), UserId(500))
        );
        let timeout: AuditLogEntry = serde_json::from_value(json!({
            "id": "2", "action_type": 24, "user_id": "600", "target_id": "500",
            "changes": [{"key": "communication_disabled_until",
                         "new_value": "2026-11-22T11:00:00.000000+00:00"}]
        }))
        .expect("a timeout entry");
        let found = external_sanction(&timeout).expect("a timeout");
        assert_eq!(found.kind, CaseKind::Timeout);
        assert_eq!(found.until, Some(Timestamp(1_795_345_200_000)));
        let nick: AuditLogEntry = serde_json::from_value(json!({
            "id": "3", "action_type": 24, "user_id": "600", "target_id": "500",
            "changes": [{"key": "nick", "new_value": "bob"}]
        }))
        .expect("a nickname entry");
        assert_eq!(external_sanction(&nick), None);
    }

    #[test]
    fn direct_messages_are_not_moderated() {
        let msg: SMessage = serde_json::from_value(json!({
            "id": "1", "channel_id": "10", "author": user(), "content": "hello",
            "timestamp": "2026-11-22T10:00:00.000000+00:00", "edited_timestamp": null,
            "tts": false, "mention_everyone": false, "mentions": [], "mention_roles": [],
            "attachments": [], "embeds": [], "pinned": false, "type": 0
        }))
        .expect("a DM payload");
        assert_eq!(message(&msg, None), None);
    }
}
