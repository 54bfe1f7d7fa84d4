//! Messages from established members, for tests of what content rules flag: the author is
//! a year old and joined a month ago, so only the words, links, scam and shape rules can
//! fire, never the new-account or raid rules.

use steward::engine::event::{Author, ChannelId, Event, GuildId, Message, MessageId, UserId};
use steward::engine::time::{Duration, Timestamp};

/// Message `n` saying `text` at `now`, by member `n` in one of fifty channels.
pub fn member_message(n: u64, text: &str, now: Timestamp) -> Event {
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
