//! What the moderation layer asks the outside world to do, and the recorder that stands in
//! for Discord in replays and tests.

use std::future::Future;
use std::sync::Mutex;

use crate::engine::event::{ChannelId, GuildId, MessageId, RoleId, UserId};
use crate::engine::time::{Duration, Timestamp};

/// One request to carry out an action.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "request", rename_all = "snake_case")]
pub enum Request {
    Delete {
        guild: GuildId,
        channel: ChannelId,
        message: MessageId,
    },
    /// Remove many messages of one channel at once (a cleanup).
    Purge {
        guild: GuildId,
        channel: ChannelId,
        messages: Vec<MessageId>,
        reason: String,
    },
    /// Tell the member (a DM, where the executor supports it).
    Warn {
        guild: GuildId,
        user: UserId,
        reason: String,
    },
    Timeout {
        guild: GuildId,
        user: UserId,
        until: Timestamp,
        reason: String,
    },
    EndTimeout {
        guild: GuildId,
        user: UserId,
        /// Shown in Discord's audit log; requests stored before it existed read as empty.
        #[serde(default)]
        reason: String,
    },
    Kick {
        guild: GuildId,
        user: UserId,
        reason: String,
    },
    /// One ban, or a bulk ban when `users` holds several (raids).
    Ban {
        guild: GuildId,
        users: Vec<UserId>,
        delete_messages: Duration,
        reason: String,
    },
    Unban {
        guild: GuildId,
        user: UserId,
        /// Shown in Discord's audit log; requests stored before it existed read as empty.
        #[serde(default)]
        reason: String,
    },
    /// A post in `channel`, or in the mod-log channel when unset; a raid's alert carries
    /// buttons to ban or release the members held.
    Alert {
        guild: GuildId,
        channel: Option<ChannelId>,
        text: String,
        #[serde(default)]
        raid_buttons: bool,
    },
    Lockdown {
        guild: GuildId,
        channels: Vec<ChannelId>,
    },
    /// Put back the @everyone overwrites `previous` recorded before the lockdown.
    EndLockdown {
        guild: GuildId,
        channels: Vec<ChannelId>,
        previous: serde_json::Value,
    },
    /// Raid mode until `until`: Discord's own brakes (paused invites, paused DMs between
    /// members) for as long, when asked.
    RaidMode {
        guild: GuildId,
        until: Timestamp,
        #[serde(default)]
        pause_invites: bool,
        #[serde(default)]
        pause_dms: bool,
    },
    /// The end of raid mode: Discord's brakes that raid mode put on come off.
    EndRaidMode {
        guild: GuildId,
        #[serde(default)]
        resume_invites: bool,
        #[serde(default)]
        resume_dms: bool,
    },
    /// Give the member a role (a quarantine hold).
    AddRole {
        guild: GuildId,
        user: UserId,
        role: RoleId,
        reason: String,
    },
    /// Take a role back (a hold released or ended).
    RemoveRole {
        guild: GuildId,
        user: UserId,
        role: RoleId,
    },
    /// Set a channel's slowmode (seconds between one member's messages; 0 is off).
    Slowmode {
        guild: GuildId,
        channel: ChannelId,
        seconds: u32,
    },
    /// Set the member's server nickname.
    Rename {
        guild: GuildId,
        user: UserId,
        nick: String,
        reason: String,
    },
}

impl Request {
    /// Whether sending the request again after a crash is safe and completes it: it sets
    /// a state (banned, timed out, locked) rather than adding something (a DM, a post).
    pub fn completes_on_repeat(&self) -> bool {
        !matches!(self, Request::Warn { .. } | Request::Alert { .. })
    }

    /// The member the request is about, if one (the first, for a bulk ban).
    pub fn target(&self) -> Option<UserId> {
        match self {
            Request::Warn { user, .. }
            | Request::Timeout { user, .. }
            | Request::EndTimeout { user, .. }
            | Request::Kick { user, .. }
            | Request::Rename { user, .. }
            | Request::AddRole { user, .. }
            | Request::RemoveRole { user, .. }
            | Request::Unban { user, .. } => Some(*user),
            Request::Ban { users, .. } => users.first().copied(),
            _ => None,
        }
    }

    /// The server the request acts in.
    pub fn guild(&self) -> GuildId {
        match self {
            Request::Delete { guild, .. }
            | Request::Purge { guild, .. }
            | Request::Warn { guild, .. }
            | Request::Timeout { guild, .. }
            | Request::EndTimeout { guild, .. }
            | Request::Kick { guild, .. }
            | Request::Ban { guild, .. }
            | Request::Unban { guild, .. }
            | Request::Alert { guild, .. }
            | Request::Lockdown { guild, .. }
            | Request::EndLockdown { guild, .. }
            | Request::RaidMode { guild, .. }
            | Request::EndRaidMode { guild, .. }
            | Request::AddRole { guild, .. }
            | Request::RemoveRole { guild, .. }
            | Request::Slowmode { guild, .. }
            | Request::Rename { guild, .. } => *guild,
        }
    }

    /// The name audit rows use for this request.
    pub fn name(&self) -> &'static str {
        match self {
            Request::Delete { .. } => "delete",
            Request::Purge { .. } => "purge",
            Request::Warn { .. } => "warn",
            Request::Timeout { .. } => "timeout",
            Request::EndTimeout { .. } => "end_timeout",
            Request::Kick { .. } => "kick",
            Request::Ban { .. } => "ban",
            Request::Unban { .. } => "unban",
            Request::Alert { .. } => "alert",
            Request::Lockdown { .. } => "lockdown",
            Request::EndLockdown { .. } => "end_lockdown",
            Request::RaidMode { .. } => "raid_mode",
            Request::EndRaidMode { .. } => "end_raid_mode",
            Request::Rename { .. } => "rename",
            Request::AddRole { .. } => "add_role",
            Request::RemoveRole { .. } => "remove_role",
            Request::Slowmode { .. } => "slowmode",
        }
    }
}

/// How a request ended when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ExecOutcome {
    Done,
    /// Not done on purpose: the target is the owner, at or above the bot's top role, has an
    /// exempt role, or the bot lacks the permission.
    Refused(String),
}

/// A post in one of a server's log channels, or a direct message: an embed that pings
/// nobody, whatever its text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Post {
    pub title: String,
    pub description: String,
    /// Named fields under the description: (name, value).
    pub fields: Vec<(String, String)>,
    pub colour: u32,
    /// The post this one answers (a pardon under its case's post).
    pub reply_to: Option<MessageId>,
    /// Buttons under the post: (custom id, label).
    pub buttons: Vec<(String, String)>,
}

/// How a direct message went when Discord answered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// The member cannot be written to (DMs closed, no shared server, blocked).
    Closed(String),
}

/// A request that could not be carried out (after any retries).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ExecError(pub String);

/// Carries out requests: Discord's REST API in the bot, a recorder in replays and tests.
pub trait Executor: Send + Sync {
    /// Carries out `request`.
    fn execute(
        &self,
        request: &Request,
    ) -> impl Future<Output = Result<ExecOutcome, ExecError>> + Send;

    /// The @everyone overwrites of `channels` as they are now, so a lockdown can put them
    /// back exactly when it ends.
    fn overwrites(
        &self,
        guild: GuildId,
        channels: &[ChannelId],
    ) -> impl Future<Output = Result<serde_json::Value, ExecError>> + Send;

    /// The channel's slowmode in seconds as it is now, so a crowd's slowmode can put it
    /// back when it ends.
    fn slowmode_of(
        &self,
        channel: ChannelId,
    ) -> impl Future<Output = Result<u32, ExecError>> + Send;

    /// Why steward may not sanction `user` in `guild` (owner, rank, exempt role), or `None`
    /// when it may: asked before a DM announces a sanction.
    fn refusal(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<String>, ExecError>> + Send;

    /// Posts `post` in `channel` for `guild`; returns the new message's id. Refused when
    /// `channel` is not one of `guild`'s: a server's settings never reach another server.
    fn post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        post: &Post,
    ) -> impl Future<Output = Result<MessageId, ExecError>> + Send;

    /// Replaces the content of the earlier post `message` in `channel`.
    fn edit_post(
        &self,
        guild: GuildId,
        channel: ChannelId,
        message: MessageId,
        post: &Post,
    ) -> impl Future<Output = Result<(), ExecError>> + Send;

    /// Sends `post` to `user` by direct message.
    fn direct_message(
        &self,
        user: UserId,
        post: &Post,
    ) -> impl Future<Output = Result<Delivery, ExecError>> + Send;

    /// The server's name, when it is known without asking Discord.
    fn guild_name(&self, _guild: GuildId) -> Option<String> {
        None
    }
}

/// Remembers every request instead of acting; can be told to refuse some targets or fail.
#[derive(Debug, Default)]
pub struct Recorder {
    requests: Mutex<Vec<Request>>,
    posts: Mutex<Vec<Posted>>,
    refuse: Vec<UserId>,
    /// Members whose DMs are closed.
    closed: Vec<UserId>,
    /// Requests still to fail: `usize::MAX` for all of them.
    failures: std::sync::atomic::AtomicUsize,
}

impl Recorder {
    /// A recorder that refuses requests about `users` (as if they outranked the bot).
    pub fn refusing(users: Vec<UserId>) -> Self {
        Recorder {
            refuse: users,
            ..Recorder::default()
        }
    }

    /// A recorder whose every request fails (as if Discord were down).
    pub fn failing() -> Self {
        Recorder::failing_first(usize::MAX)
    }

    /// A recorder whose first `count` requests fail, then every one works (as if Discord
    /// came back).
    pub fn failing_first(count: usize) -> Self {
        Recorder {
            failures: count.into(),
            ..Recorder::default()
        }
    }

    /// The requests so far, in order.
    pub fn requests(&self) -> Vec<Request> {
        crate::lock::lock(&self.requests).clone()
    }

    /// A recorder that cannot write to `users` by DM.
    pub fn with_closed_dms(mut self, users: Vec<UserId>) -> Self {
        self.closed = users;
        self
    }

    /// The posts, edits and DMs so far, in order.
    pub fn posts(&self) -> Vec<Posted> {
        crate::lock::lock(&self.posts).clone()
    }

    /// The posts made in channels, in order: (channel, post).
    pub fn channel_posts(&self) -> Vec<(ChannelId, Post)> {
        self.posts()
            .into_iter()
            .filter_map(|p| match p {
                Posted::Post(channel, post) => Some((channel, post)),
                _ => None,
            })
            .collect()
    }

    /// The direct messages sent, in order: (member, message).
    pub fn direct_messages(&self) -> Vec<(UserId, Post)> {
        self.posts()
            .into_iter()
            .filter_map(|p| match p {
                Posted::Dm(user, post) => Some((user, post)),
                _ => None,
            })
            .collect()
    }

    fn keep(&self, posted: Posted) -> usize {
        let mut posts = crate::lock::lock(&self.posts);
        posts.push(posted);
        posts.len()
    }
}

/// What a recorder was asked to post.
#[derive(Clone, Debug, PartialEq)]
pub enum Posted {
    Post(ChannelId, Post),
    Edit(ChannelId, MessageId, Post),
    Dm(UserId, Post),
}

impl Executor for Recorder {
    /// A recorder has no channels; it keeps the channel list so tests can see it come back.
    async fn overwrites(
        &self,
        _guild: GuildId,
        channels: &[ChannelId],
    ) -> Result<serde_json::Value, ExecError> {
        let kept: serde_json::Map<String, serde_json::Value> = channels
            .iter()
            .map(|c| (c.to_string(), serde_json::json!({"none": true})))
            .collect();
        Ok(serde_json::Value::Object(kept))
    }

    /// A recorder's channels have no slowmode.
    async fn slowmode_of(&self, _channel: ChannelId) -> Result<u32, ExecError> {
        Ok(0)
    }

    async fn refusal(&self, _guild: GuildId, user: UserId) -> Result<Option<String>, ExecError> {
        Ok(self
            .refuse
            .contains(&user)
            .then(|| "target is at or above the bot's top role".to_string()))
    }

    /// Posts get the ids 1, 2, 3 … in the order they are made.
    async fn post(
        &self,
        _guild: GuildId,
        channel: ChannelId,
        post: &Post,
    ) -> Result<MessageId, ExecError> {
        Ok(MessageId(
            self.keep(Posted::Post(channel, post.clone())) as u64
        ))
    }

    async fn edit_post(
        &self,
        _guild: GuildId,
        channel: ChannelId,
        message: MessageId,
        post: &Post,
    ) -> Result<(), ExecError> {
        self.keep(Posted::Edit(channel, message, post.clone()));
        Ok(())
    }

    async fn direct_message(&self, user: UserId, post: &Post) -> Result<Delivery, ExecError> {
        if self.closed.contains(&user) {
            return Ok(Delivery::Closed(
                "Cannot send messages to this user (50007)".to_string(),
            ));
        }
        self.keep(Posted::Dm(user, post.clone()));
        Ok(Delivery::Sent)
    }

    async fn execute(&self, request: &Request) -> Result<ExecOutcome, ExecError> {
        if let Ok(mut requests) = self.requests.lock() {
            requests.push(request.clone());
        }
        use std::sync::atomic::Ordering;
        let failing = self
            .failures
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| match left {
                0 => None,
                usize::MAX => Some(usize::MAX),
                n => Some(n - 1),
            })
            .is_ok();
        if failing {
            return Err(ExecError("recorder set to fail".to_string()));
        }
        if request.target().is_some_and(|t| self.refuse.contains(&t)) {
            return Ok(ExecOutcome::Refused(
                "target is at or above the bot's top role".to_string(),
            ));
        }
        Ok(ExecOutcome::Done)
    }
}
