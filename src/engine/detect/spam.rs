//! Message-volume checks: rate, duplicates, mentions, links, attachments and the shape of
//! single messages (emoji, lines, length, capitals).

use std::collections::VecDeque;
use std::hash::Hasher;

use crate::engine::event::{ChannelId, Message, UserId};
use crate::engine::normalize::Normalized;
use crate::engine::time::{Duration, Timestamp};

/// `count` events within `per`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Window {
    pub count: u32,
    pub per: Duration,
}

/// Which spam checks a rule runs; unset checks are off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SpamConfig {
    /// Messages by one member.
    pub rate: Option<Window>,
    /// Messages in one channel by anyone: a crowd, answered with `slowmode`, never by
    /// sanctioning the members in it.
    pub channel_rate: Option<Window>,
    pub slowmode: Slowmode,
    /// Identical or near-identical messages by one member (in any channel).
    pub duplicates: Option<Window>,
    /// Jaccard similarity of word sets at which two messages count as duplicates.
    pub similarity: f32,
    /// Mentions (users, roles, @everyone/@here) in one message.
    pub mentions_per_message: Option<u32>,
    /// Mentions by one member over a window.
    pub mentions: Option<Window>,
    /// Links by one member over a window.
    pub links: Option<Window>,
    /// Attachments by one member over a window.
    pub attachments: Option<Window>,
    pub max_emoji: Option<u32>,
    pub max_lines: Option<u32>,
    pub max_length: Option<u32>,
    /// Share of capital letters above which a message is shouting.
    pub caps_ratio: Option<f32>,
    /// Letters a message needs before the capitals check applies.
    pub caps_min_letters: u32,
}

/// How a crowded channel is slowed.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Slowmode {
    /// Seconds between one member's messages.
    pub seconds: u32,
    /// How long the channel stays slowed.
    pub duration: Duration,
}

impl Default for Slowmode {
    fn default() -> Self {
        Slowmode {
            seconds: 5,
            duration: Duration::from_secs(600),
        }
    }
}

/// What a spam check found: one member's doing, or a crowd in a channel.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SpamHit {
    Member(String),
    Crowd(String),
}

/// What the engine remembers of one recent message.
#[derive(Clone, Debug)]
pub struct Recent {
    pub at: Timestamp,
    pub channel: ChannelId,
    pub hash: u64,
    pub words: WordSketch,
    pub mentions: u32,
    pub links: u32,
    pub attachments: u32,
}

/// Facts about one message computed once and shared by all rules.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MessageStats {
    pub mentions: u32,
    pub links: u32,
    pub emoji: u32,
    pub lines: u32,
    pub length: u32,
    pub letters: u32,
    pub capitals: u32,
}

impl MessageStats {
    /// Counts what the spam checks look at; `text` is the message normalized, which
    /// counted its characters on the way.
    pub fn of(message: &Message, text: &Normalized, links: u32) -> Self {
        let content = &message.content;
        let counts = &text.counts;
        // The `@` and `<` counts rule out most messages before any substring search.
        let text_everyone = if counts.at_signs > 0 {
            content.matches("@everyone").count() + content.matches("@here").count()
        } else {
            0
        };
        let everyone = if message.mention_everyone {
            text_everyone.max(1)
        } else {
            text_everyone
        };
        let mentions = message.mentions.len() + message.mention_roles.len() + everyone;
        let custom_emoji = if counts.angle_brackets > 0 {
            content.matches("<:").count() + content.matches("<a:").count()
        } else {
            0
        };
        MessageStats {
            mentions: u32::try_from(mentions).unwrap_or(u32::MAX),
            links,
            emoji: counts
                .emoji
                .saturating_add(u32::try_from(custom_emoji).unwrap_or(u32::MAX)),
            // Counted like `str::lines`: a final line break does not start another line.
            lines: match content.as_bytes().last() {
                None => 0,
                Some(b'\n') => counts.newlines,
                Some(_) => counts.newlines + 1,
            },
            length: counts.chars,
            letters: counts.letters,
            capitals: counts.capitals,
        }
    }
}

/// Builds the memory record of a message.
pub fn remember(message: &Message, normalized: &Normalized, stats: &MessageStats) -> Recent {
    Recent {
        at: message.timestamp,
        channel: message.channel_id,
        hash: text_hash(&normalized.text),
        words: WordSketch::of(normalized),
        mentions: stats.mentions,
        links: stats.links,
        attachments: u32::try_from(message.attachments.len()).unwrap_or(u32::MAX),
    }
}

/// Runs the checks of `config` on the newest message (the last of `history`).
/// `channel` holds recent (time, author) pairs of the message's channel; a busy channel
/// counts only when the member's own messages are fine.
pub fn check(
    config: &SpamConfig,
    history: &VecDeque<Recent>,
    channel: &VecDeque<(Timestamp, UserId)>,
    stats: &MessageStats,
) -> Option<SpamHit> {
    if let Some(reason) = check_member(config, history, stats) {
        return Some(SpamHit::Member(reason));
    }
    let w = config.channel_rate?;
    let now = history.back()?.at;
    let n = channel
        .iter()
        .rev()
        .take_while(|(at, _)| now.since(*at) <= w.per)
        .count();
    (n >= w.count as usize)
        .then(|| SpamHit::Crowd(format!("{n} messages in this channel within {}", w.per)))
}

/// The checks of one member's own messages.
fn check_member(
    config: &SpamConfig,
    history: &VecDeque<Recent>,
    stats: &MessageStats,
) -> Option<String> {
    let newest = history.back()?;
    let now = newest.at;
    let in_window = |w: &Window| {
        let per = w.per;
        history
            .iter()
            .rev()
            .take_while(move |r| now.since(r.at) <= per)
    };
    if let Some(w) = &config.rate {
        let n = in_window(w).count();
        if n >= w.count as usize {
            return Some(format!("{n} messages within {}", w.per));
        }
    }
    if let Some(w) = &config.duplicates
        && !newest.words.is_empty()
    {
        let n = in_window(w)
            .filter(|r| {
                r.hash == newest.hash || r.words.similarity(&newest.words) >= config.similarity
            })
            .count();
        if n >= w.count as usize {
            return Some(format!("{n} near-identical messages within {}", w.per));
        }
    }
    if let Some(max) = config.mentions_per_message
        && stats.mentions > max
    {
        return Some(format!(
            "{} mentions in one message (limit {max})",
            stats.mentions
        ));
    }
    let window_sum = |w: &Window, f: fn(&Recent) -> u32| -> u32 { in_window(w).map(f).sum() };
    if let Some(w) = &config.mentions {
        let n = window_sum(w, |r| r.mentions);
        if n > w.count && newest.mentions > 0 {
            return Some(format!("{n} mentions within {}", w.per));
        }
    }
    if let Some(w) = &config.links {
        let n = window_sum(w, |r| r.links);
        if n > w.count && newest.links > 0 {
            return Some(format!("{n} links within {}", w.per));
        }
    }
    if let Some(w) = &config.attachments {
        let n = window_sum(w, |r| r.attachments);
        if n > w.count && newest.attachments > 0 {
            return Some(format!("{n} attachments within {}", w.per));
        }
    }
    check_shape(config, stats)
}

fn check_shape(config: &SpamConfig, stats: &MessageStats) -> Option<String> {
    if let Some(max) = config.max_emoji
        && stats.emoji > max
    {
        return Some(format!(
            "{} emoji in one message (limit {max})",
            stats.emoji
        ));
    }
    if let Some(max) = config.max_lines
        && stats.lines > max
    {
        return Some(format!(
            "{} lines in one message (limit {max})",
            stats.lines
        ));
    }
    if let Some(max) = config.max_length
        && stats.length > max
    {
        return Some(format!(
            "{} characters in one message (limit {max})",
            stats.length
        ));
    }
    if let Some(ratio) = config.caps_ratio
        && stats.letters >= config.caps_min_letters
        && stats.letters > 0
        && stats.capitals as f32 / stats.letters as f32 >= ratio
    {
        let pct = stats.capitals * 100 / stats.letters;
        return Some(format!("{pct}% capital letters"));
    }
    None
}

/// A message's words as a fixed-size sketch: which of 256 buckets their [`Shape`]s fall
/// in. Remembering a message then allocates nothing, and comparing two is four word-wide
/// operations. Similarity is the Jaccard index over buckets; words that share a bucket
/// can only make two messages look slightly more alike (about 0.02 for two unrelated
/// ten-word messages).
///
/// [`Shape`]: crate::engine::normalize::Shape
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WordSketch([u64; 4]);

impl WordSketch {
    /// The sketch of a message's words.
    pub fn of(text: &Normalized) -> Self {
        let mut sketch = WordSketch::default();
        for token in &text.tokens {
            let bucket = (token.shape.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 56) as usize;
            sketch.0[bucket / 64] |= 1 << (bucket % 64);
        }
        sketch
    }

    /// Whether the message had no words.
    pub fn is_empty(&self) -> bool {
        self.0 == [0; 4]
    }

    /// How alike two messages' words are, from 0 (nothing shared) to 1.
    pub fn similarity(&self, other: &WordSketch) -> f32 {
        let (mut both, mut either) = (0, 0);
        for (a, b) in self.0.iter().zip(&other.0) {
            both += (a & b).count_ones();
            either += (a | b).count_ones();
        }
        if either == 0 {
            0.0
        } else {
            both as f32 / either as f32
        }
    }
}

/// A hash of a message's text for exact-duplicate detection, eight bytes at a step.
/// Stable within a run, which is all the engine's memory needs.
pub fn text_hash(text: &str) -> u64 {
    let mut hasher = rustc_hash::FxHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sketch(text: &str) -> WordSketch {
        WordSketch::of(&Normalized::new(text))
    }

    #[test]
    fn sketches_compare_word_sets() {
        let a = sketch("free nitro for everyone today");
        assert_eq!(
            a.similarity(&sketch("FREE  nitro for everyone, today")),
            1.0
        );
        assert_eq!(a.similarity(&sketch("freee n1tro for everyone today")), 1.0);
        let one_changed = a.similarity(&sketch("free nitro for everyone tomorrow"));
        assert!((0.6..0.7).contains(&one_changed), "{one_changed}");
        assert!(a.similarity(&sketch("what time is the meeting")) < 0.2);
        assert!(sketch("...").is_empty());
        assert_eq!(sketch("").similarity(&sketch("")), 0.0);
    }

    fn stats(content: &str) -> MessageStats {
        let message = Message {
            content: content.into(),
            ..Message::default()
        };
        MessageStats::of(&message, &Normalized::new(content), 0)
    }

    #[test]
    fn emoji_counts_unicode_and_custom() {
        assert_eq!(stats("hi 🔥🔥 <:pog:123> <a:wave:456>").emoji, 4);
        assert_eq!(stats("plain text").emoji, 0);
    }

    #[test]
    fn shape_counts_agree_with_the_standard_library() {
        for text in [
            "",
            "one",
            "one\n",
            "a\nb",
            "a\r\nb\n\n",
            "Ünïcödé ÄB\nc",
            "🔥\n",
        ] {
            let s = stats(text);
            assert_eq!(s.lines as usize, text.lines().count(), "{text:?}");
            assert_eq!(s.length as usize, text.chars().count(), "{text:?}");
            let letters = text.chars().filter(|c| c.is_alphabetic());
            assert_eq!(s.letters as usize, letters.clone().count(), "{text:?}");
            assert_eq!(
                s.capitals as usize,
                letters.filter(|c| c.is_uppercase()).count(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn caps_needs_enough_letters() {
        let config = SpamConfig {
            caps_ratio: Some(0.8),
            caps_min_letters: 10,
            ..SpamConfig::default()
        };
        assert!(check_shape(&config, &stats("THIS IS A VERY LOUD MESSAGE")).is_some());
        assert_eq!(check_shape(&config, &stats("OK LOL")), None);
    }
}
