//! Answers from the FAQ in help channels: when a member asks a question that an entry
//! answers well enough, steward replies with the entry, once per channel and entry per
//! cooldown.

use std::sync::Mutex;

use rustc_hash::FxHashMap;

use crate::engine::event::{ChannelId, GuildId};
use crate::engine::time::Timestamp;
use crate::lock::lock;
use crate::rules::FaqAnswers;
use crate::store::faq::FaqEntry;
use crate::store::{Store, StoreError};

/// Words too common to say what a question is about.
const STOP_WORDS: &[&str] = &[
    "the", "and", "for", "you", "are", "can", "how", "what", "where", "when", "who", "why", "does",
    "did", "with", "this", "that", "there", "here", "have", "has", "get", "any", "anyone",
    "someone", "know", "please", "is", "do", "i", "a", "an", "to", "of", "in", "on", "my", "me",
    "it", "we", "our", "your", "be", "or", "if", "so", "at", "by", "from", "about", "hey", "hi",
    "hello", "guys", "would", "could", "should", "will",
];

/// Whether `text` reads as a question.
pub fn is_question(text: &str) -> bool {
    let text = text.trim();
    text.ends_with('?') && text.chars().count() >= 8
}

/// The words of `text` that say what it is about, lower-cased.
fn topic_words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() >= 3 && !STOP_WORDS.contains(&w.as_str()))
        .collect()
}

/// The share of the question's topic words that the entry's title, keywords or answer hold
/// (as a word or a word's beginning, so `roles` finds `role`).
pub fn coverage(question: &str, entry: &FaqEntry) -> f64 {
    let wanted = topic_words(question);
    if wanted.is_empty() {
        return 0.0;
    }
    let have = topic_words(&format!(
        "{} {} {}",
        entry.title, entry.keywords, entry.answer
    ));
    let found = wanted
        .iter()
        .filter(|w| {
            have.iter()
                .any(|h| h == *w || h.starts_with(w.as_str()) || w.starts_with(h.as_str()))
        })
        .count();
    found as f64 / wanted.len() as f64
}

/// Decides which questions get an answer, remembering recent answers for the cooldown.
#[derive(Default)]
pub struct FaqResponder {
    answered: Mutex<FxHashMap<(ChannelId, i64), Timestamp>>,
}

impl FaqResponder {
    /// The entry to answer `question` with, if the settings allow an answer here and now.
    pub async fn answer(
        &self,
        settings: &FaqAnswers,
        store: &Store,
        guild: GuildId,
        channel: ChannelId,
        question: &str,
        now: Timestamp,
    ) -> Result<Option<FaqEntry>, StoreError> {
        if !settings.channels.contains(&channel.0) || !is_question(question) {
            return Ok(None);
        }
        let Some(hit) = store
            .faq_search(guild, question, 1)
            .await?
            .into_iter()
            .next()
        else {
            return Ok(None);
        };
        if coverage(question, &hit.entry) < settings.min_score {
            return Ok(None);
        }
        let mut answered = lock(&self.answered);
        answered.retain(|_, at| now.since(*at) < settings.cooldown);
        let key = (channel, hit.entry.id);
        if answered.contains_key(&key) {
            return Ok(None);
        }
        answered.insert(key, now);
        Ok(Some(hit.entry))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::UserId;
    use crate::engine::time::Duration;

    fn entry(title: &str, keywords: &str, answer: &str) -> FaqEntry {
        FaqEntry {
            id: 1,
            guild: GuildId(1),
            title: title.into(),
            answer: answer.into(),
            keywords: keywords.into(),
            author: UserId(2),
            created_at: Timestamp(0),
            updated_at: Timestamp(0),
        }
    }

    #[test]
    fn questions_end_with_a_question_mark() {
        assert!(is_question("how do I get the artist role?"));
        assert!(!is_question("I got the artist role"));
        assert!(!is_question("why?"));
    }

    #[test]
    fn coverage_counts_the_topic_words_an_entry_holds() {
        let artist = entry(
            "How do I get the artist role?",
            "roles art",
            "Post three pieces.",
        );
        assert_eq!(coverage("how do I get the artist role?", &artist), 1.0);
        assert!(coverage("what are the server rules about artist spam?", &artist) < 0.6);
        assert_eq!(coverage("how?", &artist), 0.0);
    }

    #[tokio::test]
    async fn answers_once_per_cooldown_in_help_channels_only() {
        let (store, _dir) = crate::store::test_support::fresh().await;
        store
            .faq_add(
                GuildId(1),
                "How do I get the artist role?",
                "Post three pieces.",
                "",
                UserId(2),
                Timestamp(0),
            )
            .await
            .expect("add");
        let settings = FaqAnswers {
            channels: vec![10],
            min_score: 0.6,
            cooldown: Duration::from_secs(600),
        };
        let responder = FaqResponder::default();
        let ask = |channel: u64, at: i64| {
            let (responder, settings, store) = (&responder, &settings, &store);
            async move {
                responder
                    .answer(
                        settings,
                        store,
                        GuildId(1),
                        ChannelId(channel),
                        "how do I get the artist role?",
                        Timestamp(at),
                    )
                    .await
                    .expect("search")
                    .is_some()
            }
        };
        assert!(ask(10, 1_000).await);
        assert!(!ask(10, 2_000).await, "cooling down");
        assert!(!ask(11, 2_000).await, "not a help channel");
        assert!(ask(10, 1_000 + 600_001).await, "cooldown over");
    }
}
