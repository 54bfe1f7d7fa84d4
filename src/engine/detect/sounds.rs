//! Words spelled by their sound: `phuck`, `kunt`, `fukk`, `fook`, `fucc`, `wanka`.
//!
//! A word and its respellings share a sound key: `ph` is `f`; `c` before a hard vowel,
//! `ck`, `q` and `k` are `k`; `x` is `ks`; `z` is `s`; `oo` is `u`; a final `-a`, `-ah`,
//! `-uh` or `-ar` after a consonant is `-er`; a final `-ed` is `-d`; doubled letters count
//! once. A token that is no ordinary word is read as the listed word whose key it shares,
//! unless an ordinary word shares it too (`az` could be `as`, which also keys `ass`): then
//! the reader cannot tell, and neither does steward.

use std::sync::OnceLock;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::detect::trigrams::Trigrams;
use crate::engine::dictionary;

/// Fewest letters of a token, and of a key, read by sound.
const MIN_LETTERS: usize = 3;
/// Longest token read by sound.
const MAX_LETTERS: usize = 24;

/// Listed words by their sound keys, with the entry each stands for.
#[derive(Clone, Debug, Default)]
pub struct Sounds {
    /// Sound key → the entry, and its listed word.
    entries: FxHashMap<Box<str>, (u32, Box<str>)>,
    /// The first three letters of every key, a bit each: most tokens' keys start with
    /// none of them and skip the lookup.
    starts: Trigrams,
}

impl Sounds {
    /// Listed words `(entry, key)` of plain letters whose key no ordinary word shares; the
    /// first listed of words with one key stands for them all.
    pub fn new<'a>(keys: impl IntoIterator<Item = (u32, &'a str)>) -> Self {
        let mut entries = FxHashMap::default();
        let mut starts = Trigrams::default();
        for (entry, word) in keys {
            if let Some(key) = sound_key(word).filter(|k| !is_sound_of_word(k)) {
                starts.insert(key.as_bytes());
                entries
                    .entry(key.into_boxed_str())
                    .or_insert((entry, Box::from(word)));
            }
        }
        Sounds { entries, starts }
    }

    /// The entry token key `written` sounds like, when it is a candidate.
    pub fn find(&self, written: &str) -> Option<u32> {
        self.find_listed(written).map(|(entry, _)| *entry)
    }

    /// The listed word token key `written` sounds like, when it is a candidate.
    pub fn find_word(&self, written: &str) -> Option<&str> {
        self.find_listed(written).map(|(_, word)| word.as_ref())
    }

    fn find_listed(&self, written: &str) -> Option<&(u32, Box<str>)> {
        if self.entries.is_empty() {
            return None;
        }
        // Cheapest first: most tokens' keys start like no listed word's, and only a key
        // that is listed is worth asking the dictionary about.
        if !(MIN_LETTERS..=MAX_LETTERS).contains(&written.len()) {
            return None;
        }
        let mut buffer = [0u8; 2 * MAX_LETTERS + 2];
        let key = key_into(written, &mut buffer)?;
        if !self.starts.contains(key.as_bytes()) {
            return None;
        }
        let found = self.entries.get(key)?;
        let listed = &found.1;
        if dictionary::is_word(written) {
            return None;
        }
        // Letters doubled or not are the exact reading's to judge (`gers` is no `ggers`).
        if single_letters(written) == single_letters(listed) {
            return None;
        }
        // Three letters leave too little to hear a vowel respelled (`kun` is no `coon`).
        let short = written.len() <= MIN_LETTERS;
        (!short || vowels_of(written) == vowels_of(listed)).then_some(found)
    }
}

/// Whether some ordinary word has the sound key `key`, so a respelling of it could be
/// that word.
pub fn is_sound_of_word(key: &str) -> bool {
    static SOUNDS: OnceLock<FxHashSet<String>> = OnceLock::new();
    let sounds = SOUNDS.get_or_init(|| dictionary::words().filter_map(sound_key).collect());
    sounds.contains(key)
}

/// `word` with each run of one letter written once.
fn single_letters(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    for c in word.chars() {
        if !out.ends_with(c) {
            out.push(c);
        }
    }
    out
}

fn vowels_of(word: &str) -> String {
    word.bytes()
        .filter(|&b| is_vowel(b))
        .map(char::from)
        .collect()
}

fn is_vowel(b: u8) -> bool {
    matches!(b, b'a' | b'e' | b'i' | b'o' | b'u' | b'y')
}

/// The sound key of `word` (plain lowercase letters), or `None` for other text or a key
/// too short to tell words apart.
pub fn sound_key(word: &str) -> Option<String> {
    let mut buffer = vec![0u8; 2 * word.len() + 2];
    key_into(word, &mut buffer).map(str::to_string)
}

/// The sound key of `word` written into `buffer` (at least twice `word`'s length and two
/// more bytes); allocates nothing, for the tokens of every message.
fn key_into<'a>(word: &str, buffer: &'a mut [u8]) -> Option<&'a str> {
    let b = word.as_bytes();
    if b.len() < MIN_LETTERS
        || buffer.len() < 2 * b.len() + 2
        || !b.iter().all(u8::is_ascii_lowercase)
    {
        return None;
    }
    let mut out = Key {
        bytes: buffer,
        len: 0,
    };
    let mut i = 0;
    while i < b.len() {
        let (sound, used): (&[u8], usize) = match (b[i], b.get(i + 1).copied()) {
            (b'p', Some(b'h')) => (b"f", 2),
            (b'c', Some(b'k')) => (b"k", 2),
            (b'c', Some(b'e' | b'i' | b'y')) => (b"s", 1),
            (b'c' | b'q', _) => (b"k", 1),
            (b'x', _) => (b"ks", 1),
            (b'z', _) => (b"s", 1),
            (b'o', Some(b'o')) => (b"u", 2),
            _ => (std::slice::from_ref(&b[i]), 1),
        };
        for &s in sound {
            out.push_once(s);
        }
        i += used;
    }
    out.respell_ending();
    let Key { bytes, len } = out;
    (len >= MIN_LETTERS)
        .then(|| std::str::from_utf8(&bytes[..len]).ok())
        .flatten()
}

/// A key being written into a borrowed buffer.
struct Key<'a> {
    bytes: &'a mut [u8],
    len: usize,
}

impl Key<'_> {
    /// Appends `b` unless the key already ends with it (doubled letters count once).
    fn push_once(&mut self, b: u8) {
        if self.len > 0 && self.bytes[self.len - 1] == b {
            return;
        }
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn ends_with(&self, tail: &[u8]) -> bool {
        self.bytes[..self.len].ends_with(tail)
    }

    /// Replaces the last `n` bytes with `with`.
    fn replace_tail(&mut self, n: usize, with: &[u8]) {
        self.len -= n;
        for &b in with {
            if let Some(slot) = self.bytes.get_mut(self.len) {
                *slot = b;
                self.len += 1;
            }
        }
    }

    /// `-a`, `-ah`, `-uh`, `-ar` after a consonant read as `-er`; `-ed` as `-d`.
    fn respell_ending(&mut self) {
        let n = self.len;
        let after_consonant = |at: usize| at > 0 && !is_vowel(self.bytes[at - 1]);
        if self.ends_with(b"ed") && n > 3 {
            self.replace_tail(2, b"d");
        } else if (self.ends_with(b"ah") || self.ends_with(b"uh") || self.ends_with(b"ar"))
            && after_consonant(n - 2)
        {
            self.replace_tail(2, b"er");
        } else if self.ends_with(b"a") && after_consonant(n - 1) {
            self.replace_tail(1, b"er");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize::Normalized;
    use proptest::prelude::*;

    fn sounds() -> Sounds {
        Sounds::new([
            (0, "fuck"),
            (1, "cunt"),
            (2, "fucker"),
            (3, "fucked"),
            (4, "wanker"),
            (5, "ass"),
            (6, "dick"),
            (7, "coon"),
            (8, "ggers"),
        ])
    }

    fn found(text: &str) -> Option<u32> {
        let n = Normalized::new(text);
        sounds().find(n.key(n.tokens.first()?))
    }

    #[test]
    fn respellings_are_read_as_the_listed_word() {
        for (text, entry) in [
            ("phuck", 0),
            ("fukk", 0),
            ("fook", 0),
            ("fucc", 0),
            ("fuq", 0),
            ("kunt", 1),
            ("Fukkah", 2),
            ("fucka", 2),
            ("fookd", 3),
            ("wanka", 4),
            ("dikk", 6),
        ] {
            assert_eq!(found(text), Some(entry), "{text}");
        }
    }

    #[test]
    fn ordinary_words_and_words_that_sound_like_them_are_not() {
        // `ass` keys `as`, an ordinary word: never read by sound.
        for text in [
            "az", "ass", "book", "cook", "fact", "fax", "duck", "count", "quick", "kun", "gers",
            "fuckk",
        ] {
            assert_eq!(found(text), None, "{text}");
        }
    }

    proptest! {
        /// No ordinary word is read by sound as a listed one.
        #[test]
        fn no_dictionary_word_is_read_by_sound(i in 0usize..70_000) {
            let words: Vec<&str> = dictionary::words().collect();
            let word = words[i % words.len()];
            let n = Normalized::new(word);
            if let Some(token) = n.tokens.first() {
                prop_assert_eq!(sounds().find(n.key(token)), None, "{}", word);
            }
        }

        /// Keys are short plain letters for any input, and never panic.
        #[test]
        fn keys_are_plain_letters(word in "\\PC{0,40}") {
            if let Some(key) = sound_key(&word) {
                prop_assert!(key.len() >= MIN_LETTERS);
                prop_assert!(key.bytes().all(|b| b.is_ascii_lowercase()));
                prop_assert!(key.len() <= 2 * word.len());
            }
        }
    }
}
