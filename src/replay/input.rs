//! Reading event streams: JSON Lines (one event a line) and DiscordChatExporter exports,
//! as specified in the replay format. Every error names the file, the line and the field.

use std::io::BufRead;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::ReplayError;
use crate::engine::event::{
    Attachment, Author, ChannelId, Event, GuildId, MemberJoin, MemberLeave, MemberUpdate, Message,
    MessageId, RoleId, UserId,
};
use crate::engine::time::Timestamp;

/// A Discord id written as a string (or, leniently, a number).
#[derive(Clone, Copy, Debug, Default)]
struct Id(u64);

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Id;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a snowflake id as a string of digits")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Id, E> {
                Ok(Id(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Id, E> {
                v.parse()
                    .map(Id)
                    .map_err(|_| E::custom(format!("`{v}` is not a snowflake id")))
            }
        }
        d.deserialize_any(V)
    }
}

/// An RFC 3339 time.
#[derive(Clone, Debug)]
struct Time(Timestamp, String);

impl<'de> Deserialize<'de> for Time {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_time(&text)
            .map(|t| Time(t, text.clone()))
            .map_err(de::Error::custom)
    }
}

/// Parses an RFC 3339 time into the engine's milliseconds.
pub fn parse_time(text: &str) -> Result<Timestamp, String> {
    let t = OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("`{text}` is not an RFC 3339 time ({e})"))?;
    Ok(Timestamp(
        i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum Kind {
    Message,
    MessageEdit,
    MemberJoin,
    MemberUpdate,
    MemberLeave,
}

#[derive(Deserialize)]
struct RawEvent {
    kind: Kind,
    guild_id: Id,
    timestamp: Time,
    id: Option<Id>,
    channel_id: Option<Id>,
    category_id: Option<Id>,
    author: Option<RawUser>,
    user: Option<RawUser>,
    content: Option<String>,
    #[serde(default)]
    mentions: Vec<Id>,
    #[serde(default)]
    mention_roles: Vec<Id>,
    #[serde(default)]
    mention_everyone: bool,
    #[serde(default)]
    attachments: Vec<RawAttachment>,
}

#[derive(Deserialize)]
struct RawUser {
    id: Id,
    #[serde(default)]
    name: String,
    display_name: Option<String>,
    #[serde(default)]
    bot: bool,
    created_at: Option<Time>,
    joined_at: Option<Time>,
    #[serde(default)]
    roles: Vec<Id>,
}

#[derive(Deserialize)]
struct RawAttachment {
    #[serde(default)]
    filename: String,
    #[serde(default)]
    size: u64,
    content_type: Option<String>,
}

impl RawUser {
    fn into_author(self) -> Author {
        Author {
            id: UserId(self.id.0),
            name: self.name,
            display_name: self.display_name,
            bot: self.bot,
            created_at: self.created_at.map(|t| t.0),
            joined_at: self.joined_at.map(|t| t.0),
            roles: self.roles.into_iter().map(|r| RoleId(r.0)).collect(),
        }
    }
}

/// One event with where it came from.
#[derive(Clone, Debug)]
pub struct SourcedEvent {
    pub event: Event,
    pub line: usize,
    /// The timestamp as written in the input.
    pub timestamp: String,
}

/// Parses one JSON Lines event; `line` is used in errors.
pub fn parse_line(file: &str, line: usize, text: &str) -> Result<SourcedEvent, ReplayError> {
    let bad = |field: String, message: String| ReplayError::Event {
        file: file.to_string(),
        line,
        field,
        message,
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let raw: RawEvent = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let field = e.path().to_string();
        let mut message = e.inner().to_string();
        if let Some(at) = message.find(" at line ") {
            message.truncate(at);
        }
        let field = if field == "." {
            missing_field(&message).unwrap_or_default()
        } else {
            field
        };
        bad(field, message)
    })?;
    let timestamp = raw.timestamp.1.clone();
    let at = raw.timestamp.0;
    let event = match raw.kind {
        Kind::Message | Kind::MessageEdit => {
            let id = raw
                .id
                .ok_or_else(|| bad("id".into(), "missing field `id`".into()))?;
            let channel = raw
                .channel_id
                .ok_or_else(|| bad("channel_id".into(), "missing field `channel_id`".into()))?;
            let author = raw
                .author
                .ok_or_else(|| bad("author".into(), "missing field `author`".into()))?;
            let content = raw
                .content
                .ok_or_else(|| bad("content".into(), "missing field `content`".into()))?;
            let message = Message {
                id: MessageId(id.0),
                guild_id: GuildId(raw.guild_id.0),
                channel_id: ChannelId(channel.0),
                category_id: raw.category_id.map(|c| ChannelId(c.0)),
                author: author.into_author(),
                content,
                mentions: raw.mentions.into_iter().map(|m| UserId(m.0)).collect(),
                mention_roles: raw.mention_roles.into_iter().map(|m| RoleId(m.0)).collect(),
                mention_everyone: raw.mention_everyone,
                attachments: raw
                    .attachments
                    .into_iter()
                    .map(|a| Attachment {
                        filename: a.filename,
                        size: a.size,
                        content_type: a.content_type,
                    })
                    .collect(),
                timestamp: at,
            };
            if matches!(raw.kind, Kind::Message) {
                Event::Message(message)
            } else {
                Event::MessageEdit(message)
            }
        }
        Kind::MemberJoin | Kind::MemberUpdate | Kind::MemberLeave => {
            let user = raw
                .user
                .ok_or_else(|| bad("user".into(), "missing field `user`".into()))?;
            let guild_id = GuildId(raw.guild_id.0);
            match raw.kind {
                Kind::MemberJoin => Event::MemberJoin(MemberJoin {
                    guild_id,
                    user: user.into_author(),
                    timestamp: at,
                }),
                Kind::MemberUpdate => Event::MemberUpdate(MemberUpdate {
                    guild_id,
                    user: user.into_author(),
                    timestamp: at,
                }),
                _ => Event::MemberLeave(MemberLeave {
                    guild_id,
                    user_id: UserId(user.id.0),
                    name: user.name,
                    timestamp: at,
                }),
            }
        }
    };
    Ok(SourcedEvent {
        event,
        line,
        timestamp,
    })
}

fn missing_field(message: &str) -> Option<String> {
    let start = message.find("missing field `")? + "missing field `".len();
    let end = message[start..].find('`')? + start;
    Some(message[start..end].to_string())
}

/// Reads a JSON Lines stream; blank lines are skipped.
pub fn read_jsonl(file: &str, reader: impl BufRead) -> Result<Vec<SourcedEvent>, ReplayError> {
    let mut events = Vec::new();
    for (i, line) in reader.lines().enumerate() {
        let line_no = i + 1;
        let text = line.map_err(|e| ReplayError::Read {
            file: file.to_string(),
            message: format!("line {line_no}: {e}"),
        })?;
        if text.trim().is_empty() {
            continue;
        }
        events.push(parse_line(file, line_no, &text)?);
    }
    Ok(events)
}

#[derive(Deserialize)]
struct Export {
    guild: ExportRef,
    channel: ExportChannel,
    messages: Vec<ExportMessage>,
}

#[derive(Deserialize)]
struct ExportRef {
    id: Id,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportChannel {
    id: Id,
    category_id: Option<Id>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportMessage {
    id: Id,
    timestamp: Time,
    #[serde(default)]
    content: String,
    author: ExportAuthor,
    #[serde(default)]
    attachments: Vec<ExportAttachment>,
    #[serde(default)]
    mentions: Vec<ExportRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportAuthor {
    id: Id,
    #[serde(default)]
    name: String,
    nickname: Option<String>,
    #[serde(default)]
    is_bot: bool,
    #[serde(default)]
    roles: Vec<ExportRef>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ExportAttachment {
    #[serde(default)]
    file_name: String,
    #[serde(default)]
    file_size_bytes: u64,
}

/// Reads a DiscordChatExporter JSON export: each message becomes a `message` event.
pub fn read_export(file: &str, text: &str) -> Result<Vec<SourcedEvent>, ReplayError> {
    let mut de = serde_json::Deserializer::from_str(text);
    let export: Export = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let inner = e.inner();
        ReplayError::Event {
            file: file.to_string(),
            line: inner.line(),
            field: e.path().to_string(),
            message: {
                let mut m = inner.to_string();
                if let Some(at) = m.find(" at line ") {
                    m.truncate(at);
                }
                m
            },
        }
    })?;
    let guild = GuildId(export.guild.id.0);
    let channel = ChannelId(export.channel.id.0);
    let category = export.channel.category_id.map(|c| ChannelId(c.0));
    Ok(export
        .messages
        .into_iter()
        .enumerate()
        .map(|(i, m)| SourcedEvent {
            line: i + 1,
            timestamp: m.timestamp.1.clone(),
            event: Event::Message(Message {
                id: MessageId(m.id.0),
                guild_id: guild,
                channel_id: channel,
                category_id: category,
                author: Author {
                    id: UserId(m.author.id.0),
                    name: m.author.name,
                    display_name: m.author.nickname,
                    bot: m.author.is_bot,
                    created_at: None,
                    joined_at: None,
                    roles: m.author.roles.into_iter().map(|r| RoleId(r.id.0)).collect(),
                },
                content: m.content,
                mentions: m.mentions.into_iter().map(|u| UserId(u.id.0)).collect(),
                mention_roles: Vec::new(),
                mention_everyone: false,
                attachments: m
                    .attachments
                    .into_iter()
                    .map(|a| Attachment {
                        filename: a.file_name,
                        size: a.file_size_bytes,
                        content_type: None,
                    })
                    .collect(),
                timestamp: m.timestamp.0,
            }),
        })
        .collect())
}

/// Whether `text` is a DiscordChatExporter export rather than JSON Lines.
pub fn looks_like_export(text: &str) -> bool {
    let start = text.trim_start();
    if !start.starts_with('{') {
        return false;
    }
    // A JSON Lines file has one object a line; an export is one object over many lines, or
    // a single line whose object has `messages`.
    match serde_json::from_str::<serde_json::Value>(text) {
        Ok(v) => v.get("messages").is_some() && v.get("guild").is_some(),
        Err(_) => false,
    }
}
