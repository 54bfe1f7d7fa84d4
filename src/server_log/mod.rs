//! A server's message and member logs in Discord: deleted and edited messages as they were
//! written, joins with the account's age, leaves with the roles held, name changes. Cases
//! have their own log (see `moderation::notices`). Posting is best effort: a failed post is
//! logged here and never holds up moderation.

mod kept;
pub mod posts;

pub use kept::{KeptMessage, KeptMessages, Retention};

use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::Timestamp;
use crate::moderation::{Executor, Moderator, Post};
use crate::rules::GuildSettings;

/// The most messages kept across all servers by one process (about 1 KiB each at most,
/// far less for ordinary chat).
pub const MAX_KEPT_IN_PROCESS: usize = 500_000;

/// What the logs remember between events: the recent messages of servers with a message log.
#[derive(Debug)]
pub struct ServerLog {
    kept: KeptMessages,
}

impl Default for ServerLog {
    fn default() -> Self {
        ServerLog::new(MAX_KEPT_IN_PROCESS)
    }
}

impl ServerLog {
    /// Keeps at most `max_kept` messages across all servers.
    pub fn new(max_kept: usize) -> ServerLog {
        ServerLog {
            kept: KeptMessages::new(max_kept),
        }
    }

    /// The messages kept now.
    pub fn kept(&self) -> &KeptMessages {
        &self.kept
    }

    /// Keeps a new message of `guild` when the server logs messages from its channel.
    pub fn message<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        id: MessageId,
        message: KeptMessage,
        now: Timestamp,
    ) {
        let settings = moderator.settings().for_guild(guild);
        if let Some(retention) = logged_from(&settings, message.channel) {
            self.kept.keep(guild, id, message, now, retention);
        }
    }

    /// Notes that steward deletes message `id` under `rule`, so its deletion is logged once,
    /// with the rule.
    pub fn removing(&self, guild: GuildId, id: MessageId, rule: &str) {
        self.kept.mark_removed(guild, id, rule);
    }

    /// Logs the deletion of message `id`.
    pub async fn deleted<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        channel: ChannelId,
        id: MessageId,
    ) {
        let kept = self.kept.take(guild, id);
        let settings = moderator.settings().for_guild(guild);
        if logged_from(&settings, channel).is_some() {
            let post = posts::deleted(id, channel, kept.as_ref());
            send(moderator, guild, settings.logs.messages, &post).await;
        }
    }

    /// Logs messages deleted at once, in one post.
    pub async fn bulk_deleted<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        channel: ChannelId,
        ids: &[MessageId],
    ) {
        let gone: Vec<(MessageId, Option<KeptMessage>)> = ids
            .iter()
            .map(|id| (*id, self.kept.take(guild, *id)))
            .collect();
        let settings = moderator.settings().for_guild(guild);
        if logged_from(&settings, channel).is_some() && !gone.is_empty() {
            let post = posts::bulk_deleted(channel, &gone);
            send(moderator, guild, settings.logs.messages, &post).await;
        }
    }

    /// Logs an edit of message `id` when it changed a kept message's text.
    pub async fn edited<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        id: MessageId,
        content: &str,
    ) {
        let Some(before) = self.kept.edit(guild, id, content) else {
            return;
        };
        let settings = moderator.settings().for_guild(guild);
        if logged_from(&settings, before.channel).is_some() {
            let post = posts::edited(guild, id, &before, content);
            send(moderator, guild, settings.logs.messages, &post).await;
        }
    }

    /// Logs a member's join, with the age of their account (created at `created`).
    pub async fn joined<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        (user, name): (UserId, &str),
        created: Timestamp,
        now: Timestamp,
    ) {
        let settings = moderator.settings().for_guild(guild);
        let post = posts::joined(user, name, created, now, settings.logs.new_account);
        send(moderator, guild, settings.logs.members, &post).await;
    }

    /// Logs a member's leave, with the roles they held when known.
    pub async fn left<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        user: UserId,
        name: &str,
        roles: Option<&[u64]>,
    ) {
        let settings = moderator.settings().for_guild(guild);
        let post = posts::left(user, name, roles);
        send(moderator, guild, settings.logs.members, &post).await;
    }

    /// Logs a change of `what` (username, display name, nickname) when it changed.
    pub async fn renamed<E: Executor>(
        &self,
        moderator: &Moderator<E>,
        guild: GuildId,
        user: UserId,
        what: &str,
        names: (Option<&str>, Option<&str>),
    ) {
        let (before, after) = names;
        if before == after {
            return;
        }
        let settings = moderator.settings().for_guild(guild);
        let post = posts::renamed(user, what, before, after);
        send(moderator, guild, settings.logs.members, &post).await;
    }

    /// Forgets the messages each server's retention no longer allows.
    pub fn purge<E: Executor>(&self, moderator: &Moderator<E>, now: Timestamp) {
        self.kept.purge(now, |guild| {
            let settings = moderator.settings().for_guild(guild);
            settings.logs.messages.map(|_| retention(&settings))
        });
    }
}

/// The retention for messages of `channel`, when the server logs them.
fn logged_from(settings: &GuildSettings, channel: ChannelId) -> Option<Retention> {
    let log = settings.logs.messages?;
    let ignored = channel.0 == log || settings.logs.ignore_channels.contains(&channel.0);
    (!ignored).then(|| retention(settings))
}

fn retention(settings: &GuildSettings) -> Retention {
    Retention {
        keep: settings.logs.keep_messages,
        max: settings.logs.max_messages,
    }
}

async fn send<E: Executor>(
    moderator: &Moderator<E>,
    guild: GuildId,
    channel: Option<u64>,
    post: &Post,
) {
    let Some(channel) = channel else {
        return;
    };
    if let Err(e) = moderator
        .executor()
        .post(guild, ChannelId(channel), post)
        .await
    {
        tracing::warn!(%guild, channel, error = %e, title = %post.title, "posting to a log");
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::moderation::Recorder;
    use crate::store::test_support::fresh;

    const LOGGED: &str = "settings:\n  logs: {messages: \"700\", members: \"701\", \
                          ignore_channels: [\"11\"], keep_messages: 1h}\n";

    async fn moderator(source: &str) -> (Moderator<Recorder>, tempfile::TempDir) {
        let (store, dir) = fresh().await;
        let rules =
            crate::rules::parse(source, Path::new("t.yaml"), Path::new(".")).expect("rules");
        (Moderator::new(store, Recorder::default(), &rules), dir)
    }

    fn said(channel: u64, content: &str) -> KeptMessage {
        KeptMessage::new(ChannelId(channel), UserId(5), content, &[], Timestamp(0))
    }

    #[tokio::test]
    async fn a_deleted_message_is_logged_with_its_text_once() {
        let (m, _dir) = moderator(LOGGED).await;
        let log = ServerLog::default();
        log.message(
            &m,
            GuildId(1),
            MessageId(9),
            said(10, "you all stink"),
            Timestamp(0),
        );
        log.deleted(&m, GuildId(1), ChannelId(10), MessageId(9))
            .await;
        let posts = m.executor().channel_posts();
        assert_eq!(posts.len(), 1);
        assert_eq!(posts[0].0, ChannelId(700));
        assert_eq!(posts[0].1.description, "you all stink");
        assert!(log.kept().is_empty(), "a deleted message is not kept on");
    }

    #[tokio::test]
    async fn ignored_channels_and_the_log_itself_are_neither_kept_nor_logged() {
        let (m, _dir) = moderator(LOGGED).await;
        let log = ServerLog::default();
        for channel in [11, 700] {
            log.message(
                &m,
                GuildId(1),
                MessageId(channel),
                said(channel, "hi"),
                Timestamp(0),
            );
            log.deleted(&m, GuildId(1), ChannelId(channel), MessageId(channel))
                .await;
        }
        assert!(log.kept().is_empty());
        assert!(m.executor().channel_posts().is_empty());
    }

    #[tokio::test]
    async fn a_server_without_a_message_log_keeps_nothing() {
        let (m, _dir) = moderator("settings:\n  logs: {members: \"701\"}\n").await;
        let log = ServerLog::default();
        log.message(&m, GuildId(1), MessageId(9), said(10, "hi"), Timestamp(0));
        log.deleted(&m, GuildId(1), ChannelId(10), MessageId(9))
            .await;
        assert!(log.kept().is_empty());
        assert!(m.executor().channel_posts().is_empty());
    }

    #[tokio::test]
    async fn steward_s_own_deletion_names_the_rule() {
        let (m, _dir) = moderator(LOGGED).await;
        let log = ServerLog::default();
        log.message(
            &m,
            GuildId(1),
            MessageId(9),
            said(10, "free nitro"),
            Timestamp(0),
        );
        log.removing(GuildId(1), MessageId(9), "scams");
        log.deleted(&m, GuildId(1), ChannelId(10), MessageId(9))
            .await;
        let posts = m.executor().channel_posts();
        assert!(
            posts[0]
                .1
                .fields
                .contains(&("Deleted by".into(), "steward, rule `scams`".into()))
        );
    }

    #[tokio::test]
    async fn retention_ends_on_schedule() {
        let (m, _dir) = moderator(LOGGED).await;
        let log = ServerLog::default();
        log.message(&m, GuildId(1), MessageId(9), said(10, "hi"), Timestamp(0));
        log.purge(&m, Timestamp(3_600_000 - 1));
        assert_eq!(log.kept().len(), 1);
        log.purge(&m, Timestamp(3_600_000 + 1));
        assert!(log.kept().is_empty(), "kept no longer than keep_messages");
    }

    #[tokio::test]
    async fn edits_bulk_deletes_and_members_go_to_their_logs() {
        let (m, _dir) = moderator(LOGGED).await;
        let log = ServerLog::default();
        for id in 1..=3 {
            log.message(
                &m,
                GuildId(1),
                MessageId(id),
                said(10, "spam"),
                Timestamp(0),
            );
        }
        log.edited(&m, GuildId(1), MessageId(1), "edited").await;
        log.edited(&m, GuildId(1), MessageId(1), "edited").await;
        log.bulk_deleted(
            &m,
            GuildId(1),
            ChannelId(10),
            &[MessageId(1), MessageId(2), MessageId(3)],
        )
        .await;
        log.joined(
            &m,
            GuildId(1),
            (UserId(5), "newbie"),
            Timestamp(0),
            Timestamp(1),
        )
        .await;
        log.renamed(
            &m,
            GuildId(1),
            UserId(5),
            "Nickname",
            (Some("a"), Some("a")),
        )
        .await;
        log.renamed(&m, GuildId(1), UserId(5), "Nickname", (None, Some("b")))
            .await;
        log.left(&m, GuildId(1), UserId(5), "gone", Some(&[11]))
            .await;
        let titles: Vec<(u64, String)> = m
            .executor()
            .channel_posts()
            .into_iter()
            .map(|(c, p)| (c.0, p.title))
            .collect();
        assert_eq!(
            titles,
            [
                (700, "Message edited".to_string()),
                (700, "3 messages deleted in bulk".to_string()),
                (701, "⚠ Member joined: newbie".to_string()),
                (701, "Nickname changed".to_string()),
                (701, "Member left: gone".to_string()),
            ]
        );
    }
}
