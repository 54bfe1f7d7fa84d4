//! Plain data describing what happened on a server, independent of any Discord library.

use std::fmt;

use super::time::Timestamp;

macro_rules! snowflake {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
        #[derive(serde::Serialize, serde::Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub u64);

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

snowflake!(
    /// A Discord user (member) id, kept apart from other ids so they cannot be mixed up.
    UserId
);
snowflake!(
    /// A Discord guild (server) id.
    GuildId
);
snowflake!(
    /// A Discord channel id (text channel, thread or category).
    ChannelId
);
snowflake!(
    /// A Discord role id.
    RoleId
);
snowflake!(
    /// A Discord message id.
    MessageId
);

/// Who wrote a message or joined: the facts rules condition on.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Author {
    pub id: UserId,
    pub name: String,
    pub display_name: Option<String>,
    pub bot: bool,
    /// When the Discord account was created, if known.
    pub created_at: Option<Timestamp>,
    /// When the account joined this guild, if known.
    pub joined_at: Option<Timestamp>,
    pub roles: Vec<RoleId>,
}

/// A file attached to a message; only its metadata is ever seen by the engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub size: u64,
    pub content_type: Option<String>,
}

/// A message as posted (or as it reads after an edit).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Message {
    pub id: MessageId,
    pub guild_id: GuildId,
    pub channel_id: ChannelId,
    /// The category the channel sits in, so rules can target whole categories.
    pub category_id: Option<ChannelId>,
    pub author: Author,
    pub content: String,
    pub mentions: Vec<UserId>,
    pub mention_roles: Vec<RoleId>,
    pub mention_everyone: bool,
    pub attachments: Vec<Attachment>,
    pub timestamp: Timestamp,
}

/// A member arriving in a guild: the input of raid detection.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberJoin {
    pub guild_id: GuildId,
    pub user: Author,
    pub timestamp: Timestamp,
}

/// A member whose username, display name or server nickname changed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberUpdate {
    pub guild_id: GuildId,
    /// The member as they are now; `display_name` is the name others see in this guild.
    pub user: Author,
    pub timestamp: Timestamp,
}

/// A member leaving a guild.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberLeave {
    pub guild_id: GuildId,
    pub user_id: UserId,
    pub name: String,
    pub timestamp: Timestamp,
}

/// Everything the engine can be told about.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    Message(Message),
    MessageEdit(Message),
    MemberJoin(MemberJoin),
    MemberUpdate(MemberUpdate),
    MemberLeave(MemberLeave),
}

/// The kind of an event, as rules name it in their `events:` condition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    Message,
    MessageEdit,
    MemberJoin,
    MemberUpdate,
    MemberLeave,
}

impl EventKind {
    /// The name used in rules files and replay output.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Message => "message",
            EventKind::MessageEdit => "message_edit",
            EventKind::MemberJoin => "member_join",
            EventKind::MemberUpdate => "member_update",
            EventKind::MemberLeave => "member_leave",
        }
    }
}

impl Event {
    /// Which kind of event this is.
    pub fn kind(&self) -> EventKind {
        match self {
            Event::Message(_) => EventKind::Message,
            Event::MessageEdit(_) => EventKind::MessageEdit,
            Event::MemberJoin(_) => EventKind::MemberJoin,
            Event::MemberUpdate(_) => EventKind::MemberUpdate,
            Event::MemberLeave(_) => EventKind::MemberLeave,
        }
    }

    /// The guild the event happened in.
    pub fn guild_id(&self) -> GuildId {
        match self {
            Event::Message(m) | Event::MessageEdit(m) => m.guild_id,
            Event::MemberJoin(j) => j.guild_id,
            Event::MemberUpdate(u) => u.guild_id,
            Event::MemberLeave(l) => l.guild_id,
        }
    }

    /// The member the event is about.
    pub fn user_id(&self) -> UserId {
        match self {
            Event::Message(m) | Event::MessageEdit(m) => m.author.id,
            Event::MemberJoin(j) => j.user.id,
            Event::MemberUpdate(u) => u.user.id,
            Event::MemberLeave(l) => l.user_id,
        }
    }

    /// When the event happened.
    pub fn timestamp(&self) -> Timestamp {
        match self {
            Event::Message(m) | Event::MessageEdit(m) => m.timestamp,
            Event::MemberJoin(j) => j.timestamp,
            Event::MemberUpdate(u) => u.timestamp,
            Event::MemberLeave(l) => l.timestamp,
        }
    }

    /// The message, for message and edit events.
    pub fn message(&self) -> Option<&Message> {
        match self {
            Event::Message(m) | Event::MessageEdit(m) => Some(m),
            _ => None,
        }
    }
}
