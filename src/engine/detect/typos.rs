//! Listed words with one letter wrong: `mohterfucker`, `moterfucker`, `fukcer`, `bsatard`.
//!
//! A token of six letters or more that is no ordinary word is read as the listed word of six
//! letters or more it misspells by one letter (one added, dropped, changed, or two swapped),
//! unless an ordinary word is also one letter away from it: then the writer may have
//! mistyped that word (`cocktial`), and steward leaves it alone.
//!
//! Lookups go through the words' deletion variants (the word with one letter dropped, or
//! none): two words are at most one letter apart only if they share one, so a token is
//! compared with a handful of listed words, not all of them.

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::detect::trigrams::Trigrams;
use crate::engine::dictionary;

/// Fewest letters of a misspelled word and of the listed word it stands for: shorter words
/// have too many ordinary neighbours (`tits`, `tots`, `tips`).
pub const MIN_TYPO: usize = 6;
/// Most letters of a token read as a misspelling.
const MAX_TYPO: usize = 32;
/// Fewest letters of a word read as misspelled by two letters (`mohterfuking`,
/// `moterfuccer`): only long words are far enough from every other word.
pub const MIN_TWO_TYPOS: usize = 9;

/// Listed words by their deletion variants.
#[derive(Clone, Debug, Default)]
pub struct Typos {
    words: Vec<Box<str>>,
    by_deletion: FxHashMap<u64, Vec<u32>>,
    /// The first and the last three letters of every word, a bit each. One letter wrong
    /// leaves one of the two as it was (in words of seven letters or more), so most tokens
    /// are ruled out before any lookup.
    starts: Trigrams,
    ends: Trigrams,
    /// Words of [`MIN_TWO_TYPOS`] letters or more by first letter and length.
    long: FxHashMap<(u8, usize), Vec<u32>>,
}

impl Typos {
    /// Listed words of [`MIN_TYPO`] plain letters or more; others are left out. The words
    /// are taken in order, and the first of two a token could misspell wins.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut typos = Typos::default();
        for word in words {
            let plain = word.bytes().all(|b| b.is_ascii_lowercase());
            if !plain || !(MIN_TYPO..=MAX_TYPO).contains(&word.len()) {
                continue;
            }
            let id = u32::try_from(typos.words.len()).unwrap_or(u32::MAX);
            for skip in variants(word.len()) {
                typos
                    .by_deletion
                    .entry(deletion_hash(word.as_bytes(), skip))
                    .or_default()
                    .push(id);
            }
            let bytes = word.as_bytes();
            typos.starts.insert(bytes);
            typos.ends.insert(&bytes[bytes.len() - 3..]);
            if bytes.len() >= MIN_TWO_TYPOS {
                typos
                    .long
                    .entry((bytes[0], bytes.len()))
                    .or_default()
                    .push(id);
            }
            typos.words.push(word.into());
        }
        typos
    }

    /// Whether `key` may misspell a listed word, by its length, letters and ends alone:
    /// cheap enough for every token, before the dictionary is asked.
    pub fn may_misspell(&self, key: &str) -> bool {
        let bytes = key.as_bytes();
        let len = bytes.len();
        if self.words.is_empty()
            || !(MIN_TYPO..=MAX_TYPO).contains(&len)
            || !bytes.iter().all(u8::is_ascii_lowercase)
        {
            return false;
        }
        // In six letters two swapped in the middle touch both ends.
        len == MIN_TYPO || self.starts.contains(bytes) || self.ends.contains(&bytes[len - 3..])
    }

    /// The listed word `key` misspells by one letter, when `key` is no ordinary word and no
    /// ordinary word is one letter from it either.
    pub fn find(&self, key: &str) -> Option<&str> {
        if !self.may_misspell(key) || dictionary::is_word(key) {
            return None;
        }
        let mut best: Option<u32> = None;
        for skip in variants(key.len()) {
            let Some(ids) = self.by_deletion.get(&deletion_hash(key.as_bytes(), skip)) else {
                continue;
            };
            for &id in ids {
                let word = &self.words[id as usize];
                if best.is_none_or(|b| id < b) && one_letter_apart(key, word) {
                    best = Some(id);
                }
            }
        }
        let word = &self.words[best? as usize];
        (!near_ordinary(key)).then_some(word.as_ref())
    }

    /// The listed word of [`MIN_TWO_TYPOS`] letters or more that `key` misspells by two
    /// letters (each added, dropped, changed, or two swapped), its first letter kept, when
    /// `key` is no ordinary word and no ordinary word is as near.
    pub fn find_two(&self, key: &str) -> Option<&str> {
        let bytes = key.as_bytes();
        let n = bytes.len();
        // A letter written three times over is stretched, which the exact reading reads.
        let stretched = bytes.windows(3).any(|w| w[0] == w[1] && w[1] == w[2]);
        if !(MIN_TWO_TYPOS..=MAX_TYPO).contains(&n)
            || !bytes.iter().all(u8::is_ascii_lowercase)
            || stretched
        {
            return None;
        }
        let letters = dictionary::letters_of(bytes);
        let best = (n - 2..=n + 2)
            .filter_map(|len| self.long.get(&(bytes[0], len)))
            .flatten()
            .copied()
            .filter(|&id| {
                let word = self.words[id as usize].as_bytes();
                may_be_two_apart(letters, dictionary::letters_of(word)) && within_two(bytes, word)
            })
            .min()?;
        let ordinary_near = || {
            (n - 2..=n + 2)
                .flat_map(|len| dictionary::words_by_start(bytes[0], len))
                .any(|&(word, word_letters)| {
                    may_be_two_apart(letters, word_letters) && within_two(bytes, word.as_bytes())
                })
        };
        (!dictionary::is_word(key) && !ordinary_near()).then(|| self.words[best as usize].as_ref())
    }
}

/// Whether two words holding these letters may be two edits apart: an edit adds at most
/// one letter and takes away at most one, so two edits change at most four. Cheap enough
/// to rule out most words before they are compared.
fn may_be_two_apart(a: u32, b: u32) -> bool {
    (a ^ b).count_ones() <= 4
}

/// Whether `a` and `b` are at most two edits apart (a letter added, dropped, changed, or
/// two next to each other swapped), comparing rows of at most [`MAX_TYPO`] + 3 cells on the
/// stack, and giving up once a row is past two.
fn within_two(a: &[u8], b: &[u8]) -> bool {
    const LIMIT: usize = 2;
    const CELLS: usize = MAX_TYPO + 3;
    if a.len().abs_diff(b.len()) > LIMIT || b.len() + 1 > CELLS {
        return false;
    }
    let mut before = [0usize; CELLS];
    let mut previous: [usize; CELLS] = std::array::from_fn(|j| j);
    let mut current = [0usize; CELLS];
    for i in 1..=a.len() {
        current[0] = i;
        let mut row_best = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut cell = (previous[j] + 1)
                .min(current[j - 1] + 1)
                .min(previous[j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                cell = cell.min(before[j - 2] + 1);
            }
            current[j] = cell;
            row_best = row_best.min(cell);
        }
        if row_best > LIMIT {
            return false;
        }
        before = previous;
        previous = current;
    }
    previous[b.len()] <= LIMIT
}

/// How many other words of `words` are one letter from each word (of plain letters) that
/// has any: a word the lists spell many ways is a word people write often.
pub fn neighbours<'a>(words: impl IntoIterator<Item = &'a str>) -> FxHashMap<&'a str, usize> {
    let words: Vec<&str> = words
        .into_iter()
        .filter(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        .collect();
    let mut by_deletion: FxHashMap<u64, Vec<&str>> = FxHashMap::default();
    for &word in &words {
        for skip in variants(word.len()) {
            by_deletion
                .entry(deletion_hash(word.as_bytes(), skip))
                .or_default()
                .push(word);
        }
    }
    let mut near: FxHashMap<&str, FxHashSet<&str>> = FxHashMap::default();
    for group in by_deletion.values().filter(|g| g.len() > 1) {
        for (i, &a) in group.iter().enumerate() {
            for &b in &group[i + 1..] {
                if one_letter_apart(a, b) {
                    near.entry(a).or_default().insert(b);
                    near.entry(b).or_default().insert(a);
                }
            }
        }
    }
    near.into_iter()
        .map(|(word, others)| (word, others.len()))
        .collect()
}

/// The letters a deletion variant drops: none (`None`), then each in turn.
fn variants(len: usize) -> impl Iterator<Item = Option<usize>> {
    std::iter::once(None).chain((0..len).map(Some))
}

/// A hash of `word` with the letter at `skip` dropped (FNV-1a), so that variants need no
/// string of their own.
fn deletion_hash(word: &[u8], skip: Option<usize>) -> u64 {
    let mut hash = 0xCBF2_9CE4_8422_2325u64;
    for (i, &b) in word.iter().enumerate() {
        if Some(i) != skip {
            hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01B3);
        }
    }
    // Variants of different lengths never share a hash by accident of the letters.
    hash ^ (word.len() - usize::from(skip.is_some())) as u64
}

/// Whether `a` and `b` differ by one letter added, dropped or changed, or by two letters
/// next to each other swapped; never when they are the same.
pub fn one_letter_apart(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    let common = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    let (a_rest, b_rest) = (&a[common..], &b[common..]);
    match a.len().abs_diff(b.len()) {
        0 if a_rest.is_empty() => false,
        0 => {
            a_rest[1..] == b_rest[1..]
                || (a_rest.len() >= 2
                    && a_rest[0] == b_rest[1]
                    && a_rest[1] == b_rest[0]
                    && a_rest[2..] == b_rest[2..])
        }
        1 if a.len() > b.len() => a_rest[1..] == *b_rest,
        1 => b_rest[1..] == *a_rest,
        _ => false,
    }
}

/// Letters of the short words read as misspelled: only by two letters swapped (`dcik`,
/// `fcuk`, `cnut`) or an `l` written for an `i` (`shlt`, `bltch`). Below [`MIN_TYPO`] any
/// other letter wrong has too many ordinary neighbours (`tits`, `tots`, `tips`).
const SHORT_TYPO: std::ops::RangeInclusive<usize> = 4..=5;

/// The word of `listed` that short token `key` (no ordinary word, nor listed, no letter
/// doubled: `plss` is `pls`) misspells by two letters swapped inside it, its first and
/// last kept (`ings` is no `nigs`), or by an `l` for an `i`; unless swapping two of its
/// letters also makes an ordinary word, which the writer may have meant (`fomr`).
pub fn find_short<'a>(key: &str, listed: &'a FxHashSet<Box<str>>) -> Option<&'a str> {
    let bytes = key.as_bytes();
    let n = bytes.len();
    if !SHORT_TYPO.contains(&n)
        || !bytes.iter().all(u8::is_ascii_lowercase)
        || bytes.windows(2).any(|w| w[0] == w[1])
        || listed.contains(key)
    {
        return None;
    }
    let mut probe = [0u8; 5];
    let probe = &mut probe[..n];
    let listed_as = |probe: &[u8]| {
        let word = std::str::from_utf8(probe).ok()?;
        listed.get(word).map(AsRef::as_ref)
    };
    // The listed word first (a small set), the dictionary only for a token that spells one.
    let l_for_i = (0..n).filter(|&at| bytes[at] == b'l').find_map(|at| {
        probe.copy_from_slice(bytes);
        probe[at] = b'i';
        listed_as(probe)
    });
    if let Some(word) = l_for_i {
        return (!dictionary::is_word(key)).then_some(word);
    }
    let swapped = (1..n - 2).find_map(|at| {
        probe.copy_from_slice(bytes);
        probe.swap(at, at + 1);
        listed_as(probe)
    })?;
    let ordinary_swap = (0..n - 1).any(|at| {
        probe.copy_from_slice(bytes);
        probe.swap(at, at + 1);
        std::str::from_utf8(probe).is_ok_and(dictionary::is_word)
    });
    (!ordinary_swap && !dictionary::is_word(key)).then_some(swapped)
}

/// Whether an ordinary word is one letter from `key`.
pub fn near_ordinary(key: &str) -> bool {
    let bytes = key.as_bytes();
    let mut probe = Vec::with_capacity(bytes.len() + 1);
    let is_word = |probe: &[u8]| std::str::from_utf8(probe).is_ok_and(dictionary::is_word);
    for at in 0..bytes.len() {
        // Dropped, then swapped with the next.
        probe.clear();
        probe.extend_from_slice(&bytes[..at]);
        probe.extend_from_slice(&bytes[at + 1..]);
        if is_word(&probe) {
            return true;
        }
        if at + 1 < bytes.len() {
            probe.clear();
            probe.extend_from_slice(bytes);
            probe.swap(at, at + 1);
            if is_word(&probe) {
                return true;
            }
        }
    }
    for at in 0..=bytes.len() {
        for letter in b'a'..=b'z' {
            // Added here, and (inside the word) changed here.
            probe.clear();
            probe.extend_from_slice(&bytes[..at]);
            probe.push(letter);
            probe.extend_from_slice(&bytes[at..]);
            if is_word(&probe) {
                return true;
            }
            if at < bytes.len() && bytes[at] != letter {
                probe.clear();
                probe.extend_from_slice(bytes);
                probe[at] = letter;
                if is_word(&probe) {
                    return true;
                }
            }
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    proptest::proptest! {
        /// The bounded comparison agrees with the edit distance it stands for.
        #[test]
        fn within_two_is_osa_distance_at_most_two(
            a in "[a-e]{0,12}",
            b in "[a-e]{0,12}",
        ) {
            let near = strsim::osa_distance(&a, &b) <= 2;
            proptest::prop_assert_eq!(within_two(a.as_bytes(), b.as_bytes()), near);
            if near {
                let (x, y) = (dictionary::letters_of(a.as_bytes()), dictionary::letters_of(b.as_bytes()));
                proptest::prop_assert!(may_be_two_apart(x, y));
            }
        }
    }

    #[test]
    fn long_words_misspelled_by_two_letters_are_read() {
        let typos = Typos::new(["motherfucker", "motherfucking", "cocksucker", "fuck"]);
        for (written, want) in [
            ("mohterfuking", "motherfucking"),
            ("moterfuccer", "motherfucker"),
            ("cocksukker", "cocksucker"),
        ] {
            assert_eq!(typos.find_two(written), Some(want), "{written}");
        }
        // Too short, another first letter, or more letters wrong.
        for written in ["fukk", "nohterfucker", "mthafukcas", "motherfxxxxx"] {
            assert_eq!(typos.find_two(written), None, "{written}");
        }
    }

    #[test]
    fn short_words_swapped_or_with_l_for_i_are_read() {
        let listed: FxHashSet<Box<str>> = [
            "dick", "fuck", "shit", "bitch", "cunt", "porn", "nigs", "tits", "piss",
        ]
        .into_iter()
        .map(Box::from)
        .collect();
        for (written, want) in [
            ("dcik", "dick"),
            ("fcuk", "fuck"),
            ("cnut", "cunt"),
            ("shlt", "shit"),
            ("bltch", "bitch"),
        ] {
            assert_eq!(find_short(written, &listed), Some(want), "{written}");
        }
        // Ordinary words (`pron`), listed ones, words whose swap is ordinary, and lengths
        // outside.
        for written in [
            "from", "pron", "porn", "form", "plss", "ings", "tist", "lol", "shlts", "fucks",
            "frmo", "tihs",
        ] {
            assert_eq!(find_short(written, &listed), None, "{written}");
        }
    }

    fn typos() -> Typos {
        Typos::new(["motherfucker", "fucker", "bastard", "fuck", "cocktail"])
    }

    #[test]
    fn one_letter_wrong_reads_the_listed_word() {
        for (text, want) in [
            ("mohterfucker", "motherfucker"),
            ("moterfucker", "motherfucker"),
            ("mottherfucker", "motherfucker"),
            ("motherfuckar", "motherfucker"),
            ("fukcer", "fucker"),
            ("bsatard", "bastard"),
        ] {
            assert_eq!(typos().find(text), Some(want), "{text}");
        }
    }

    #[test]
    fn short_ordinary_or_near_ordinary_words_are_not_misspellings() {
        // Too short, listed as written, ordinary, two letters wrong, or one letter from an
        // ordinary word (`cocktail` is listed here, but it is ordinary too; `bastrd` may be
        // `basted`).
        for text in [
            "fuk",
            "fucker",
            "tucker",
            "mohterfukcer",
            "docker",
            "cocktial",
            "bastrd",
        ] {
            assert_eq!(typos().find(text), None, "{text}");
        }
    }

    #[test]
    fn neighbours_count_the_words_one_letter_away() {
        let near = neighbours([
            "fucking", "fuking", "fuckin", "fcuking", "fagging", "f@gging",
        ]);
        assert_eq!(near.get("fucking"), Some(&3));
        assert_eq!(near.get("fagging"), None);
        assert_eq!(near.get("fuking"), Some(&2));
    }

    #[test]
    fn letters_apart_counts_each_kind_of_slip() {
        assert!(one_letter_apart("abcdef", "abcdeg"));
        assert!(one_letter_apart("abcdef", "abdcef"));
        assert!(one_letter_apart("abcdef", "abcdefg"));
        assert!(one_letter_apart("abcdef", "bcdef"));
        assert!(!one_letter_apart("abcdef", "abcdef"));
        assert!(!one_letter_apart("abcdef", "badcef"));
        assert!(!one_letter_apart("abcdef", "abcdefgh"));
    }

    proptest::proptest! {
        #[test]
        fn any_text_is_looked_up_without_panic(text in "\\PC{0,40}") {
            let _ = typos().find(&text.to_lowercase());
        }

        #[test]
        fn one_letter_dropped_from_a_listed_word_is_one_letter_apart(at in 0usize..12) {
            let word = "motherfucker";
            let dropped = format!("{}{}", &word[..at], &word[at + 1..]);
            proptest::prop_assert!(one_letter_apart(&dropped, word));
            proptest::prop_assert!(one_letter_apart(word, &dropped));
        }
    }
}
