//! Ordinary English words, to tell two words side by side from one word split in two.
//!
//! `the pen is mightier` holds `pen` and `is`, both ordinary words, so it is never read as
//! one word; `fu ck` and `dild o` hold pieces no dictionary has, so they may be. The same
//! test keeps inflected ordinary words (`spicy`, `cocky`) from being read as a listed stem
//! with a suffix. The word list is SCOWL's American English dictionary less every word the
//! built-in lists hold (lists/english.txt, made by scripts/wordlists.py).

use std::sync::OnceLock;

use rustc_hash::FxHashSet;

/// The dictionary's text: one lowercase word a line.
const ENGLISH: &str = include_str!("../../lists/english.txt");

fn set() -> &'static FxHashSet<&'static str> {
    static WORDS: OnceLock<FxHashSet<&'static str>> = OnceLock::new();
    WORDS.get_or_init(|| words().collect())
}

/// Every word of the dictionary, for readings that must not take one for a listed word.
pub fn words() -> impl Iterator<Item = &'static str> {
    ENGLISH.lines().filter(|w| !w.is_empty())
}

/// Whether `key` (a token's key, lowercase) is an ordinary English word.
pub fn is_word(key: &str) -> bool {
    !key.is_empty() && key.is_ascii() && set().contains(key)
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
