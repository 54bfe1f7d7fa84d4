//! Messages from established members, for tests of what content rules flag: each message
//! comes from its own member, a year old who joined a month ago, ten minutes after the one
//! before, so only the words, links, scam and shape rules can fire, never the new-account,
//! raid or spam-window rules.

#![allow(dead_code)]

use steward::engine::Engine;
use steward::engine::event::{Author, ChannelId, Event, GuildId, Message, MessageId, UserId};
use steward::engine::time::{Duration, Timestamp};
use steward::rules::LoadedRules;

/// One engine, and the messages posted to it so far.
pub struct Poster {
    engine: Engine,
    n: u64,
}

impl Poster {
    pub fn new(rules: &LoadedRules) -> Self {
        Poster {
            engine: Engine::new(rules.set.clone()),
            n: 0,
        }
    }

    /// The rules that fire on `text`.
    pub fn rules_fired(&mut self, text: &str) -> Vec<String> {
        self.n += 1;
        let now = Timestamp(1_790_000_000_000) + Duration::from_secs(600 * self.n);
        let event = member_message(self.n, text, now);
        let verdicts = self.engine.handle(&event, now);
        verdicts.into_iter().map(|v| v.rule.to_string()).collect()
    }

    /// Whether any rule fires on `text`.
    pub fn flags(&mut self, text: &str) -> bool {
        !self.rules_fired(text).is_empty()
    }
}

/// Message `n` saying `text` at `now`, by member `n` in one of fifty channels.
fn member_message(n: u64, text: &str, now: Timestamp) -> Event {
    let month = Duration::from_secs(30 * 86_400);
    Event::Message(Message {
        id: MessageId(n + 1),
        guild_id: GuildId(1),
        channel_id: ChannelId(10 + n % 50),
        author: Author {
            id: UserId(500 + n),
            name: "member".into(),
            created_at: Some(now - Duration(month.0 * 12)),
            joined_at: Some(now - month),
            ..Author::default()
        },
        content: text.to_string(),
        timestamp: now,
        ..Message::default()
    })
}
