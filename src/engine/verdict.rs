//! What the engine decides: which rule matched, why, and what should be done about it.

use std::sync::Arc;

use super::event::{ChannelId, RoleId, UserId};
use super::time::Duration;

/// Whether a rule acts or only records what it would have done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Mode {
    #[default]
    Enforce,
    /// Record only: lets moderators try a rule on live traffic before trusting it.
    Shadow,
}

impl Mode {
    /// The name used in rules files and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Shadow => "shadow",
        }
    }
}

/// One thing to do about an event. Carrying out is the moderation layer's job.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Remove the offending message.
    Delete,
    /// Record a warning worth `points` toward the escalation ladder; it stops counting
    /// after `expires` (or the rules file's default).
    Warn {
        points: u32,
        expires: Option<Duration>,
    },
    /// Discord timeout; never longer than 28 days.
    Timeout {
        duration: Duration,
    },
    Kick,
    /// A ban, temporary when `duration` is set; `delete_messages` is how much of the
    /// member's recent history Discord should remove.
    Ban {
        duration: Option<Duration>,
        delete_messages: Duration,
    },
    /// Post an alert in `channel`, or in the mod-log channel when unset.
    Alert {
        channel: Option<ChannelId>,
    },
    /// Deny @everyone sending in `channels` (the event's channel when empty) for `duration`.
    Lockdown {
        channels: Vec<ChannelId>,
        duration: Option<Duration>,
    },
    /// Turn on raid mode for the guild for at most `duration`, asking Discord to pause
    /// invites (and DMs between members) meanwhile when the flags say so.
    RaidMode {
        duration: Duration,
        pause_invites: bool,
        pause_dms: bool,
    },
    /// Set the member's server nickname to `to`, hiding an offensive name from everyone.
    Rename {
        to: String,
    },
    /// Give the member a quarantine role (a hold in raid mode), taken back after `duration`.
    Quarantine {
        role: RoleId,
        duration: Option<Duration>,
    },
    /// Slow a crowded channel down: members may send one message every `seconds`, for
    /// `duration`, after which the channel's own setting is put back.
    Slowmode {
        seconds: u32,
        duration: Duration,
    },
}

/// The nickname `rename` gives when a rule does not say.
pub const DEFAULT_RENAME: &str = "renamed member";

impl Action {
    /// The action's name as rules files and replay output spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Action::Delete => "delete",
            Action::Warn { .. } => "warn",
            Action::Timeout { .. } => "timeout",
            Action::Kick => "kick",
            Action::Ban { .. } => "ban",
            Action::Alert { .. } => "alert",
            Action::Lockdown { .. } => "lockdown",
            Action::RaidMode { .. } => "raid_mode",
            Action::Rename { .. } => "rename",
            Action::Quarantine { .. } => "quarantine",
            Action::Slowmode { .. } => "slowmode",
        }
    }
}

/// What the matched text was, so a moderator can see the evidence later.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Evidence {
    /// The part of the original text that matched (or a description for non-text triggers).
    pub matched: String,
    /// The same part after normalization, when it differs.
    pub normalized: Option<String>,
    /// Byte range of the match in the original text.
    pub span: Option<(usize, usize)>,
}

/// A rule's decision about one event.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub rule: Arc<str>,
    pub mode: Mode,
    pub reason: String,
    pub evidence: Evidence,
    pub actions: Vec<Action>,
    /// Every account a raid verdict concerns, so the adapter can bulk-ban them together.
    pub accounts: Vec<UserId>,
}
