//! Words written without their vowels: `fck`, `fckng`, `mthrfckr`.
//!
//! A token of three letters or more with no vowel is read as the listed word whose
//! consonants it spells, unless it is an ordinary word itself (`nth`, `psst`) or an ordinary
//! word has the same consonants (`ppl` could be `people`, `cnt` could be `count`): then the
//! reader cannot tell, and neither does steward.

use rustc_hash::FxHashMap;

use crate::engine::dictionary;
use crate::engine::normalize::{Normalized, Token};

/// Fewest consonants a skeleton has.
const MIN_CONSONANTS: usize = 3;

/// Listed words by their consonants, with the entry each stands for.
#[derive(Clone, Debug, Default)]
pub struct Skeletons {
    entries: FxHashMap<Box<str>, u32>,
}

impl Skeletons {
    /// Listed words `(entry, key)` of plain letters that hold a vowel; the first listed of
    /// words with the same consonants stands for them all.
    pub fn new<'a>(keys: impl IntoIterator<Item = (u32, &'a str)>) -> Self {
        let mut entries = FxHashMap::default();
        for (entry, key) in keys {
            let plain = key.bytes().all(|b| b.is_ascii_lowercase());
            let bones = skeleton(key);
            if plain && bones.len() >= MIN_CONSONANTS && bones.len() < key.len() {
                entries.entry(bones.into_boxed_str()).or_insert(entry);
            }
        }
        Skeletons { entries }
    }

    /// The entry whose consonants `key` spells.
    pub fn find(&self, key: &str) -> Option<u32> {
        self.entries.get(key).copied()
    }
}

/// The key of `token` when it may be a word without its vowels: three plain letters or
/// more, no vowel, and neither an ordinary word nor the consonants of one.
pub fn candidate<'a>(text: &'a Normalized, token: &Token) -> Option<&'a str> {
    // As written: `v` is a letter here, not leetspeak for `u`.
    let key = text.display(token);
    let bare =
        key.len() >= MIN_CONSONANTS && key.bytes().all(|b| b.is_ascii_lowercase() && !is_vowel(b));
    (bare && !dictionary::is_word(key) && !dictionary::is_consonants_of_word(key)).then_some(key)
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u')
}

/// `word` without its vowels.
pub fn skeleton(word: &str) -> String {
    word.chars()
        .filter(|&c| !is_vowel(c as u8) || !c.is_ascii())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(text: &str) -> Option<u32> {
        let skeletons = Skeletons::new([(0, "fuck"), (1, "fucking"), (2, "motherfucker")]);
        let n = Normalized::new(text);
        skeletons.find(candidate(&n, &n.tokens[0])?)
    }

    #[test]
    fn listed_words_without_vowels_are_read() {
        assert_eq!(found("fck"), Some(0));
        assert_eq!(found("FCKNG"), Some(1));
        assert_eq!(found("mthrfckr"), Some(2));
    }

    #[test]
    fn ordinary_words_and_their_consonants_are_not() {
        for text in ["nth", "psst", "ppl", "cnt", "fk", "rhythm"] {
            assert_eq!(found(text), None, "{text}");
        }
    }
}
