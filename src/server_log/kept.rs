//! Recent messages kept in memory, so a deleted or edited message can be shown in the
//! message log as it was. Personal data: kept only for servers with a message log, only for
//! as long as the server allows (at most 7 days, 24 hours by default), never written to
//! disk, and bounded per server and for the whole process.

use std::collections::VecDeque;
use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::engine::event::{ChannelId, GuildId, Message, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};

/// Longest content kept, in characters: Discord's own limit for a message.
const MAX_CONTENT: usize = 4_000;
/// Attachment names kept per message, and their longest length.
const MAX_ATTACHMENTS: usize = 10;
const MAX_ATTACHMENT_NAME: usize = 100;

/// A message as its author sent it (or last edited it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeptMessage {
    pub channel: ChannelId,
    pub author: UserId,
    pub content: Box<str>,
    /// The names of its attachments.
    pub attachments: Box<[Box<str>]>,
    pub sent_at: Timestamp,
    /// The rule under which steward deleted it, so its deletion is logged with the rule.
    pub removed_by: Option<Box<str>>,
}

impl KeptMessage {
    /// A message to keep; its content and attachment names are cut to Discord's limits.
    pub fn new(
        channel: ChannelId,
        author: UserId,
        content: &str,
        attachments: &[&str],
        sent_at: Timestamp,
    ) -> KeptMessage {
        KeptMessage {
            channel,
            author,
            content: cut(content, MAX_CONTENT),
            attachments: attachments
                .iter()
                .take(MAX_ATTACHMENTS)
                .map(|name| cut(name, MAX_ATTACHMENT_NAME))
                .collect(),
            sent_at,
            removed_by: None,
        }
    }
}

impl From<&Message> for KeptMessage {
    fn from(m: &Message) -> KeptMessage {
        let names: Vec<&str> = m.attachments.iter().map(|a| a.filename.as_str()).collect();
        KeptMessage::new(m.channel_id, m.author.id, &m.content, &names, m.timestamp)
    }
}

fn cut(text: &str, max: usize) -> Box<str> {
    match text.char_indices().nth(max) {
        Some((end, _)) => text[..end].into(),
        None => text.into(),
    }
}

/// How long and how many of one server's messages are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    pub keep: Duration,
    pub max: usize,
}

/// The kept messages of every server.
#[derive(Debug)]
pub struct KeptMessages {
    inner: Mutex<Inner>,
}

#[derive(Debug)]
struct Inner {
    guilds: FxHashMap<GuildId, GuildKept>,
    /// Messages kept across all servers, and the most there may be.
    total: usize,
    max_total: usize,
}

#[derive(Debug, Default)]
struct GuildKept {
    /// Ids in the order they were kept, with when; may name messages already taken.
    order: VecDeque<(MessageId, Timestamp)>,
    messages: FxHashMap<MessageId, KeptMessage>,
}

impl GuildKept {
    /// Forgets the oldest entry; returns whether there was one.
    fn drop_oldest(&mut self) -> bool {
        match self.order.pop_front() {
            Some((id, _)) => {
                self.messages.remove(&id);
                true
            }
            None => false,
        }
    }

    /// Forgets what was kept before `cutoff`; returns how many entries went.
    fn drop_before(&mut self, cutoff: Timestamp) -> usize {
        let mut dropped = 0;
        while self.order.front().is_some_and(|(_, at)| *at < cutoff) {
            self.drop_oldest();
            dropped += 1;
        }
        dropped
    }
}

impl KeptMessages {
    /// Keeps at most `max_total` messages across all servers.
    pub fn new(max_total: usize) -> KeptMessages {
        KeptMessages {
            inner: Mutex::new(Inner {
                guilds: FxHashMap::default(),
                total: 0,
                max_total,
            }),
        }
    }

    /// Keeps `message` of `guild` under `retention`. When the server or the process is at
    /// its bound, the server's oldest message makes room: a busy server cycles its own
    /// messages, never another's.
    pub fn keep(
        &self,
        guild: GuildId,
        id: MessageId,
        message: KeptMessage,
        now: Timestamp,
        retention: Retention,
    ) {
        if retention.max == 0 {
            return;
        }
        let mut inner = self.lock();
        let inner = &mut *inner;
        let kept = inner.guilds.entry(guild).or_default();
        inner.total -= kept.drop_before(now - retention.keep);
        while kept.order.len() >= retention.max
            || (inner.total >= inner.max_total && !kept.order.is_empty())
        {
            kept.drop_oldest();
            inner.total -= 1;
        }
        if inner.total >= inner.max_total {
            return;
        }
        if kept.messages.insert(id, message).is_none() {
            kept.order.push_back((id, now));
            inner.total += 1;
        }
    }

    /// Removes and returns message `id` of `guild`, once deleted.
    pub fn take(&self, guild: GuildId, id: MessageId) -> Option<KeptMessage> {
        self.lock().guilds.get_mut(&guild)?.messages.remove(&id)
    }

    /// Replaces the content of message `id` after an edit; returns the message as it was,
    /// when it is kept and its content changed.
    pub fn edit(&self, guild: GuildId, id: MessageId, content: &str) -> Option<KeptMessage> {
        let mut inner = self.lock();
        let kept = inner.guilds.get_mut(&guild)?.messages.get_mut(&id)?;
        let content = cut(content, MAX_CONTENT);
        if kept.content == content {
            return None;
        }
        let before = kept.clone();
        kept.content = content;
        Some(before)
    }

    /// Notes that steward deletes message `id` under `rule`.
    pub fn mark_removed(&self, guild: GuildId, id: MessageId, rule: &str) {
        let mut inner = self.lock();
        if let Some(kept) = inner
            .guilds
            .get_mut(&guild)
            .and_then(|g| g.messages.get_mut(&id))
        {
            kept.removed_by = Some(rule.into());
        }
    }

    /// Forgets every message kept longer than its server's retention allows (the server's
    /// setting, or `None` when it no longer keeps messages at all).
    pub fn purge(&self, now: Timestamp, retention: impl Fn(GuildId) -> Option<Retention>) {
        let mut inner = self.lock();
        let inner = &mut *inner;
        inner.guilds.retain(|guild, kept| {
            let before = kept.order.len();
            match retention(*guild) {
                Some(r) => {
                    kept.drop_before(now - r.keep);
                    while kept.order.len() > r.max {
                        kept.drop_oldest();
                    }
                }
                None => kept.order.clear(),
            }
            inner.total -= before - kept.order.len();
            if kept.order.is_empty() {
                kept.messages.clear();
            }
            !kept.order.is_empty()
        });
    }

    /// How many messages are kept now.
    pub fn len(&self) -> usize {
        self.lock().guilds.values().map(|g| g.messages.len()).sum()
    }

    /// Whether no message is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DAY: Duration = Duration::from_secs(86_400);

    fn text(content: &str) -> KeptMessage {
        KeptMessage::new(ChannelId(10), UserId(5), content, &[], Timestamp(0))
    }

    fn retention(max: usize) -> Retention {
        Retention { keep: DAY, max }
    }

    #[test]
    fn a_deleted_message_is_given_back_once() {
        let kept = KeptMessages::new(100);
        kept.keep(
            GuildId(1),
            MessageId(7),
            text("hello"),
            Timestamp(0),
            retention(10),
        );
        assert_eq!(
            kept.take(GuildId(2), MessageId(7)),
            None,
            "another server's"
        );
        assert_eq!(
            kept.take(GuildId(1), MessageId(7)).map(|m| m.content),
            Some("hello".into())
        );
        assert_eq!(kept.take(GuildId(1), MessageId(7)), None);
    }

    #[test]
    fn an_edit_gives_the_old_text_and_keeps_the_new() {
        let kept = KeptMessages::new(100);
        kept.keep(
            GuildId(1),
            MessageId(7),
            text("helo"),
            Timestamp(0),
            retention(10),
        );
        assert_eq!(
            kept.edit(GuildId(1), MessageId(7), "helo"),
            None,
            "unchanged"
        );
        let before = kept
            .edit(GuildId(1), MessageId(7), "hello")
            .expect("changed");
        assert_eq!(&*before.content, "helo");
        assert_eq!(
            &*kept.take(GuildId(1), MessageId(7)).expect("kept").content,
            "hello"
        );
    }

    #[test]
    fn messages_older_than_the_retention_are_purged() {
        let kept = KeptMessages::new(100);
        kept.keep(
            GuildId(1),
            MessageId(1),
            text("old"),
            Timestamp(0),
            retention(10),
        );
        let later = Timestamp(DAY.as_millis() as i64 / 2);
        kept.keep(GuildId(1), MessageId(2), text("new"), later, retention(10));
        kept.purge(Timestamp(DAY.as_millis() as i64 + 1), |_| {
            Some(retention(10))
        });
        assert_eq!(kept.take(GuildId(1), MessageId(1)), None);
        assert!(kept.take(GuildId(1), MessageId(2)).is_some());
    }

    #[test]
    fn a_server_that_stops_logging_forgets_its_messages() {
        let kept = KeptMessages::new(100);
        kept.keep(
            GuildId(1),
            MessageId(1),
            text("a"),
            Timestamp(0),
            retention(10),
        );
        kept.keep(
            GuildId(2),
            MessageId(2),
            text("b"),
            Timestamp(0),
            retention(10),
        );
        kept.purge(Timestamp(1), |g| (g == GuildId(2)).then(|| retention(10)));
        assert_eq!(kept.len(), 1);
        assert!(kept.take(GuildId(2), MessageId(2)).is_some());
    }

    #[test]
    fn a_busy_server_cycles_its_own_messages_not_another_s() {
        let kept = KeptMessages::new(10);
        kept.keep(
            GuildId(2),
            MessageId(1),
            text("quiet"),
            Timestamp(0),
            retention(100),
        );
        for id in 100..200 {
            kept.keep(
                GuildId(1),
                MessageId(id),
                text("busy"),
                Timestamp(0),
                retention(100),
            );
        }
        assert_eq!(kept.len(), 10);
        assert!(kept.take(GuildId(2), MessageId(1)).is_some());
        assert!(
            kept.take(GuildId(1), MessageId(199)).is_some(),
            "the newest stays"
        );
        assert_eq!(
            kept.take(GuildId(1), MessageId(100)),
            None,
            "the oldest went"
        );
    }

    #[test]
    fn content_is_cut_to_discords_limit() {
        let long = "é".repeat(10_000);
        let names: Vec<String> = (0..50).map(|i| format!("{i}{}", "x".repeat(500))).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let m = KeptMessage::new(ChannelId(1), UserId(1), &long, &names, Timestamp(0));
        assert_eq!(m.content.chars().count(), MAX_CONTENT);
        assert_eq!(m.attachments.len(), MAX_ATTACHMENTS);
        assert!(
            m.attachments
                .iter()
                .all(|n| n.chars().count() == MAX_ATTACHMENT_NAME)
        );
    }

    proptest! {
        #[test]
        fn the_bounds_hold_whatever_arrives(
            ops in proptest::collection::vec((0u64..3, 0u64..40, 0u8..4, 0i64..200_000), 1..300),
            per_server in 1usize..20,
            total in 1usize..30,
        ) {
            let kept = KeptMessages::new(total);
            let r = Retention { keep: Duration::from_secs(60), max: per_server };
            for (guild, id, op, at) in ops {
                let (guild, id) = (GuildId(guild), MessageId(id));
                match op {
                    0 | 1 => kept.keep(guild, id, text("x"), Timestamp(at), r),
                    2 => { kept.take(guild, id); }
                    _ => kept.purge(Timestamp(at), |_| Some(r)),
                }
                let inner = kept.lock();
                let queued: usize = inner.guilds.values().map(|g| g.order.len()).sum();
                prop_assert_eq!(queued, inner.total);
                prop_assert!(inner.total <= total);
                for g in inner.guilds.values() {
                    prop_assert!(g.order.len() <= per_server);
                    prop_assert!(g.messages.len() <= g.order.len());
                }
            }
        }
    }
}
