//! Ordinary English words, to tell two words side by side from one word split in two.
//!
//! `the pen is mightier` holds `pen` and `is`, both ordinary words, so it is never read as
//! one word; `fu ck` and `dild o` hold pieces no dictionary has, so they may be. The same
//! test keeps inflected ordinary words (`spicy`, `cocky`) from being read as a listed stem
//! with a suffix. The word list is SCOWL's American English dictionary less every word the
//! built-in lists hold (lists/english.txt, made by scripts/wordlists.py).

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};

/// The dictionary's text: one lowercase word a line.
const ENGLISH: &str = include_str!("../../lists/english.txt");

/// The words by a 64-bit hash of each: every token of every message is looked up, and a
/// table of numbers is read without following a pointer to compare text. Two of the
/// dictionary's words that shared a hash would only shorten it by one; a token taken for a
/// word it is not needs a collision, about one in 2^64 / 73,000 lookups.
fn set() -> &'static FxHashSet<u64> {
    static WORDS: OnceLock<FxHashSet<u64>> = OnceLock::new();
    WORDS.get_or_init(|| words().map(word_hash).collect())
}

/// FNV-1a over the word's bytes, then mixed so that every bit of the result depends on
/// every byte (the table takes its low bits).
fn word_hash(word: &str) -> u64 {
    let mut h = 0xCBF2_9CE4_8422_2325u64;
    for &b in word.as_bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
    }
    h ^= h >> 33;
    h = h.wrapping_mul(0xFF51_AFD7_ED55_8CCD);
    h ^ (h >> 33)
}

/// Every word of the dictionary, for readings that must not take one for a listed word.
pub fn words() -> impl Iterator<Item = &'static str> {
    ENGLISH.lines().filter(|w| !w.is_empty())
}

/// Which letters `word` holds, a bit each (`a` is bit 0); other bytes share bit 31.
pub fn letters_of(word: &[u8]) -> u32 {
    word.iter().fold(0, |set, &b| {
        let bit = if b.is_ascii_lowercase() { b - b'a' } else { 31 };
        set | 1 << bit
    })
}

/// A dictionary word with the letters it holds ([`letters_of`]).
pub type WordLetters = (&'static str, u32);

/// The dictionary's words of `len` letters that start with `first`, with their letters:
/// what a long misspelling is compared with.
pub fn words_by_start(first: u8, len: usize) -> &'static [WordLetters] {
    static BY_START: OnceLock<FxHashMap<(u8, usize), Vec<WordLetters>>> = OnceLock::new();
    let index = BY_START.get_or_init(|| {
        let mut index: FxHashMap<(u8, usize), Vec<WordLetters>> = FxHashMap::default();
        for word in words() {
            if let Some(&b) = word.as_bytes().first() {
                let letters = letters_of(word.as_bytes());
                index
                    .entry((b, word.len()))
                    .or_default()
                    .push((word, letters));
            }
        }
        index
    });
    index.get(&(first, len)).map_or(&[], Vec::as_slice)
}

/// Whether `key` (a token's key, lowercase) is an ordinary English word.
pub fn is_word(key: &str) -> bool {
    !key.is_empty() && key.is_ascii() && set().contains(&word_hash(key))
}

/// Whether `consonants` are the consonants of some ordinary word written without its
/// vowels (`ppl` of `people`), so a reader could take them for that word.
pub fn is_consonants_of_word(consonants: &str) -> bool {
    static SKELETONS: OnceLock<FxHashSet<String>> = OnceLock::new();
    let skeletons = SKELETONS.get_or_init(|| {
        words()
            .map(|w| w.chars().filter(|c| !"aeiou".contains(*c)).collect())
            .collect()
    });
    skeletons.contains(consonants)
}

/// How many words the dictionary holds.
pub fn len() -> usize {
    set().len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinary_words_are_known_and_listed_ones_are_not() {
        assert!(len() > 50_000, "{}", len());
        for word in [
            "pen", "is", "the", "button", "spicy", "cocky", "assess", "mightier",
        ] {
            assert!(is_word(word), "{word}");
        }
        for word in [
            "fuck", "shit", "cunt", "nigger", "fu", "ck", "dild", "shitty", "",
        ] {
            assert!(!is_word(word), "{word}");
        }
    }
}
