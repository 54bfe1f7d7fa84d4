//! Block lists matched on normalized tokens.
//!
//! Words are compared whole, never as substrings, which is what keeps `Scunthorpe`,
//! `cocktail` and `assassin` clean. Evasion is undone before the comparison: the key fold
//! (see [`crate::engine::normalize`]) handles case, look-alikes and leetspeak; repeated
//! letters are compared as runs (`fuuuck` has at least the letters of `fuck`, in order);
//! letters spelled one by one (`f u c k`, `f.u.c.k`) are joined; words broken over two lines
//! are joined; `*` inside a word matches any letter (`f*ck`).

use std::borrow::Cow;
use std::ops::Range;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use crate::engine::detect::compound::{self, Compounds};
use crate::engine::detect::skeleton::{self, Skeletons};
use crate::engine::detect::sounds::Sounds;
use crate::engine::detect::typos::{self, Typos};
use crate::engine::dictionary;
use crate::engine::normalize::{I_OR_L, Normalized, Shape, Token, collapse_into, phrase_key};

/// A named list of blocked words or phrases.
#[derive(Clone, Debug)]
pub struct WordList {
    pub name: Arc<str>,
    pub words: Vec<String>,
}

/// The matchers of one words rule: the built-in lists it names (one matcher shared by
/// every rule, in any server, over the same lists) and its own words (a small one).
#[derive(Clone, Debug, Default)]
pub struct WordMatchers(pub Vec<Arc<WordMatcher>>);

impl WordMatchers {
    /// The first hit of any part, in the parts' order.
    pub fn find(&self, text: &Normalized) -> Option<WordHit> {
        self.0.iter().find_map(|m| m.find(text))
    }

    /// [`WordMatcher::find_screened`] over every part.
    pub fn find_screened(&self, text: &Normalized, screened: &mut Screened) -> Option<WordHit> {
        self.0.iter().find_map(|m| m.find_screened(text, screened))
    }
}

/// One word that matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WordHit {
    /// The list the word came from.
    pub list: Arc<str>,
    /// The listed word.
    pub word: String,
    /// The matched key, as normalized.
    pub normalized: String,
    /// Byte range in the original text.
    pub span: (usize, usize),
}

#[derive(Clone, Debug)]
struct Entry {
    list: u16,
    word: Box<str>,
    /// Key with letters repeated as listed, for wildcard comparison; of a phrase listed
    /// with a gap, the part after the gap.
    key: Box<str>,
    /// Of a phrase listed with a gap (`i'll ... kill you`), the words before the gap: the
    /// part after it counts only where they come up to [`MAX_GAP`] words earlier.
    head: Option<Box<[Box<str>]>>,
}

/// What marks a gap in a listed phrase: `i'll ... kill you` holds `i'll find you and kill
/// you`.
const GAP: &str = " ... ";
/// Most words a gap in a listed phrase stands for.
const MAX_GAP: usize = 4;
/// Words that, in a gap, turn a threat around (`i will never hurt you`): `t` is the end of
/// `don't`, `won't`, `can't`.
const NEGATIONS: [&str; 8] = ["never", "not", "t", "dont", "wont", "cant", "nobody", "no"];

/// Everything listed under one collapsed key.
#[derive(Clone, Debug, Default)]
struct Slot {
    candidates: Vec<Candidate>,
    /// Whether some phrase starts with this word.
    phrase_start: bool,
}

#[derive(Clone, Debug)]
struct Candidate {
    entry: u32,
    runs: Box<[u8]>,
}

/// Suffixes tried when a whole word is not listed, so `cocks` matches `cock`. An ordinary
/// dictionary word (`spicy`, `cocky`) is never read as a stem and a suffix.
const SUFFIXES: [&str; 9] = ["ing", "ers", "es", "ed", "er", "s", "z", "in", "y"];
/// Shortest word a split (`fu ck`) may join into: `a ss` is two words, not one.
const MIN_SPLIT: usize = 4;
/// Shortest stem (in key bytes) suffix stripping may leave, so `hoes` never becomes `hoe`.
const MIN_STEM: usize = 4;
/// Ambiguous `1`s tried both ways in one word; more are read as `i`.
const MAX_AMBIGUOUS: usize = 4;
/// Longest run of one-letter tokens that is joined and searched.
const MAX_SPELLED: usize = 40;

/// Compiled block lists: one index for every list of a rule.
#[derive(Clone, Debug, Default)]
pub struct WordMatcher {
    lists: Vec<Arc<str>>,
    entries: Vec<Entry>,
    /// Collapsed key → candidates, and whether a phrase starts there: one lookup a token.
    index: FxHashMap<Box<str>, Slot>,
    /// Key length and first byte → entries: a wildcard token (`f*ck`) reads only those
    /// of its length that start with its first letter.
    by_start: FxHashMap<(usize, u8), Vec<u32>>,
    max_words: usize,
    /// Every word after the first of some phrase: a phrase stops at any other.
    phrase_words: WordScreen,
    /// The first two words of every phrase, as [`pair_shape`]s: most phrases start with a
    /// common word (`i`, `you`, `go`), which is seldom followed by a phrase's second word.
    phrase_pairs: Vec<u64>,
    /// The same pairs, one shape each, for screens over several matchers.
    phrase_pair_shapes: Vec<u64>,
    /// Keys never reported.
    allow: FxHashSet<Box<str>>,
    /// Listed words searched for inside compounds (`fuckpig`).
    compounds: Compounds,
    /// Listed words by their consonants, for words written without vowels (`fck`).
    skeletons: Skeletons,
    /// Listed words by their sound, for respellings (`phuck`, `kunt`).
    sounds: Sounds,
    /// Phrases whose words are never reported (`magna cum laude`), as keys a word each.
    allow_phrases: Vec<Vec<Box<str>>>,
    /// A screen over this matcher's keys alone, so a token another list holds is ruled out
    /// here cheaply.
    screen: WordScreen,
}

/// [`I_OR_L`] as a byte of a key.
const I_OR_L_BYTE: u8 = I_OR_L as u8;

/// `key` with every run of symbols that holds a wildcard read as wildcards alone
/// (`f@#$ing` is `f***ing`, not `fa*sing`); `None` when there is no such run. `symbols`
/// marks which of the key's characters came from symbols, as [`Token::symbols`] does.
fn grawlix(key: &str, symbols: u32) -> Option<String> {
    let bytes = key.as_bytes();
    if !key.is_ascii() || bytes.len() > 32 {
        return None;
    }
    let is_symbol = |i: usize| symbols & (1 << i) != 0;
    let mut out = bytes.to_vec();
    let mut changed = false;
    let mut i = 0;
    while i < bytes.len() {
        if !is_symbol(i) {
            i += 1;
            continue;
        }
        let end = (i..bytes.len())
            .find(|&j| !is_symbol(j))
            .unwrap_or(bytes.len());
        if end - i >= 2 && bytes[i..end].contains(&b'*') {
            changed |= bytes[i..end].iter().any(|&b| b != b'*');
            out[i..end].fill(b'*');
        }
        i = end;
    }
    // Only ASCII bytes were replaced by `*`: still UTF-8.
    changed.then(|| String::from_utf8(out).ok()).flatten()
}

/// Where `head` (a phrase's words before its gap) starts, when it ends up to [`MAX_GAP`]
/// words before token `i`, on the same line, with no negation in between.
fn head_before(text: &Normalized, i: usize, head: &[Box<str>]) -> Option<usize> {
    let tokens = &text.tokens;
    for gap in 0..=MAX_GAP {
        let Some(start) = i.checked_sub(head.len() + gap) else {
            break;
        };
        let between = &tokens[start + head.len()..i];
        if tokens[start + 1..=i].iter().any(|t| t.newline_before)
            || between.iter().any(|t| NEGATIONS.contains(&text.display(t)))
        {
            break;
        }
        let words = &tokens[start..start + head.len()];
        if words
            .iter()
            .zip(head)
            .all(|(t, w)| same_word(text.key(t), w))
        {
            return tokens.get(start).map(|t| t.span.start);
        }
    }
    None
}

/// Whether a token's key is listed word `listed`, an ambiguous `1` read as `i` or `l`.
fn same_word(key: &str, listed: &str) -> bool {
    key.len() == listed.len()
        && key.bytes().zip(listed.bytes()).all(|(got, want)| {
            got == want || (got == I_OR_L_BYTE && (want == b'i' || want == b'l'))
        })
}

/// `key` read as a wildcard: stars trimmed from its start, and from its end unless two or
/// more follow three letters or more (`mother******`, where they stand for the rest of the
/// word; one star after a word marks a correction); `None` when no star is left.
fn wildcard_key(key: &str) -> Option<&str> {
    let key = key.trim_start_matches('*');
    let word = key.trim_end_matches('*');
    let letters = word.bytes().filter(|&b| b != b'*').count();
    let key = if key.len() - word.len() >= 2 && letters >= 3 {
        key
    } else {
        word
    };
    key.contains('*').then_some(key)
}

/// Where the longest run of stars in `key` starts, and how long it is.
fn longest_star_run(key: &str) -> (usize, usize) {
    let mut best = (0, 0);
    let mut start = None;
    for (i, b) in key.bytes().chain(std::iter::once(b' ')).enumerate() {
        match (b == b'*', start) {
            (true, None) => start = Some(i),
            (false, Some(from)) => {
                if i - from > best.1 {
                    best = (from, i - from);
                }
                start = None;
            }
            _ => {}
        }
    }
    best
}

/// Whether a wildcard key (`*` trimmed from its ends) has letters enough to be read: two
/// or more, and no fewer than its stars.
fn readable_wildcard(key: &str) -> bool {
    let letters = key.bytes().filter(|&b| b != b'*').count();
    letters >= 2 && (key.len() - letters) * 2 <= key.len()
}

/// A reading that needs more than a token's letters as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Hidden {
    /// Punctuation hides letters between a token and the next (`sh.t`).
    Gap,
    /// An `x` inside the token hides a letter (`bitxh`).
    Masked,
    /// The token and the two after it are one word split twice (`f uc k`).
    Triple,
    /// The token misspells a listed word by a letter (`mohterfucker`).
    Typo,
}

/// The key of `token` without the digits after its letters (`fuker123`, `kikekiller99`),
/// all of them first, then fewer (`b417123` may be `bait` and `123`): the word before a
/// number. None when the digits read as letters make an ordinary word (`c0ck4700` is
/// `cockatoo`).
fn without_digits<'a>(text: &'a Normalized, token: &Token) -> impl Iterator<Item = &'a str> {
    let key = text.key(token);
    let tail = match token.digit_tail {
        0 => 0,
        _ if dictionary::is_word(key) => 0,
        tail => usize::from(tail),
    };
    let fewest = tail.saturating_sub(MAX_DIGIT_TAIL - 1).max(1);
    (fewest..=tail)
        .rev()
        .filter_map(move |n| key.len().checked_sub(n).filter(|&end| end > 0))
        .filter_map(move |end| key.get(..end))
}

/// Most ways to read the digits after a word as a number after it.
const MAX_DIGIT_TAIL: usize = 8;

/// The keys readings by sound, as a compound or as a misspelling look at, in order: the
/// token's key (digits read as leetspeak: `ni66er`), then the key without the digits
/// after its letters.
fn reading_keys<'a>(text: &'a Normalized, token: &Token) -> impl Iterator<Item = &'a str> {
    std::iter::once(text.key(token)).chain(without_digits(text, token))
}

/// Whether a piece of a split word is an ordinary word on its own: `a`, `i` and `u`, or a
/// dictionary word of two letters or more (the dictionary also holds lone letters).
fn is_ordinary_piece(key: &str) -> bool {
    matches!(key, "a" | "i" | "u") || (key.len() >= 2 && dictionary::is_word(key))
}

/// Token `i` with its one `x` as a wildcard (`bitxh` is `bit*h`): four to twelve plain
/// letters, the `x` neither first nor last, and no ordinary word.
fn masked_key(text: &Normalized, token: &Token) -> Option<String> {
    let key = text.key(token);
    if !(4..=12).contains(&key.len()) || !key.contains('x') {
        return None;
    }
    let inner = &key[1..key.len() - 1];
    let one_x = inner.matches('x').count() == 1 && !key.starts_with('x') && !key.ends_with('x');
    let plain = key.bytes().all(|b| b.is_ascii_lowercase());
    (one_x && plain && !dictionary::is_word(key)).then(|| key.replacen('x', "*", 1))
}

/// Tokens `i` and `i + 1` as one wildcard key when punctuation alone hides letters between
/// them (`sh.t` is `sh*t`, `f--k` is `f**k`), unless both are ordinary words of three
/// letters or more (`well-known`) or they spell one together (`e-mail`, `co-op`).
fn gap_key(text: &Normalized, i: usize) -> Option<String> {
    let hidden = text.hidden_between(i)?;
    let (first, second) = (text.key(&text.tokens[i]), text.key(&text.tokens[i + 1]));
    // Letters one at a time (`s.h.o.t`) are spelled out, which is read elsewhere.
    if first.len() + second.len() < 3 {
        return None;
    }
    let word = |piece: &str| piece.len() >= 3 && dictionary::is_word(piece);
    let mut key = format!("{first}{second}");
    if (word(first) && word(second)) || dictionary::is_word(&key) {
        return None;
    }
    key.insert_str(first.len(), &"*".repeat(hidden));
    readable_wildcard(key.trim_matches('*')).then_some(key)
}

/// Whether a listed key fits a wildcard key of the same length: `*` stands for any letter,
/// and [`I_OR_L`] for `i` or `l`.
fn wildcard_fits(listed: &str, key: &str) -> bool {
    listed.len() == key.len()
        && listed.bytes().zip(key.bytes()).all(|(want, got)| {
            got == b'*' || got == want || (got == I_OR_L_BYTE && (want == b'i' || want == b'l'))
        })
}

/// Reusable buffers so matching allocates nothing per message in the common case.
#[derive(Clone, Debug, Default)]
struct Scratch {
    /// The collapsed key of the token being checked, and its runs.
    token: String,
    token_runs: Vec<u8>,
    joined: String,
    phrase: String,
    variant: Vec<u8>,
    collapsed: String,
    runs: Vec<u8>,
    /// The message's letters spelled out one at a time, read once for every rule.
    spelled: Spelled,
    /// Byte ranges of the message that an earlier rule has already acted on: a word is
    /// one rule's, so `motherfuker` read by two lists costs its writer one warning.
    claimed: Vec<(usize, usize)>,
    /// What a [`WordScreen`] read the message's wildcards, hidden letters and misspellings
    /// as (by the byte they start at): one listed word for every rule.
    read_as: Vec<(usize, Box<str>)>,
    /// Every word the screen's lists hold, when a screen marked the message.
    listed: Option<Arc<FxHashSet<Box<str>>>>,
    /// What a [`WordScreen`] read tokens as, by sound or as compounds (by token, in the
    /// order a rule should take them).
    pieces: Vec<(u32, Box<str>)>,
    /// A buffer for the words of one compound.
    words: Vec<Box<str>>,
}

impl Scratch {
    /// Whether a [`WordScreen`] marked the message, so that its readings are the ones to
    /// use (rather than this matcher's own).
    fn screened(&self) -> bool {
        self.listed.is_some()
    }
}

/// A message's spelled-out letters in up to two readings: symbols as letters, and (when the
/// message has symbols) symbols as separators; with the spans of runs that spell ordinary
/// words in either reading.
#[derive(Clone, Debug, Default)]
struct Spelled {
    readings: [Vec<Unit>; 2],
    count: usize,
    ordinary: Vec<Range<usize>>,
    letters: String,
}

impl Spelled {
    fn read(&mut self, text: &Normalized) {
        let has_symbols = text.tokens.iter().any(|t| t.symbols != 0);
        self.count = if has_symbols { 2 } else { 1 };
        self.ordinary.clear();
        for (reading, units) in self.readings[..self.count].iter_mut().enumerate() {
            spelled_units(text, reading == 1, units);
            for run in runs(units) {
                let run = &units[run];
                self.letters.clear();
                self.letters.extend(run.iter().map(|u| u.letter));
                if run.len() >= 2 && dictionary::is_word(&self.letters) {
                    let (first, last) = (&run[0], &run[run.len() - 1]);
                    self.ordinary.push(first.span.start..last.span.end);
                }
            }
        }
    }
}

/// One letter of a word spelled out a letter at a time.
#[derive(Clone, Debug)]
struct Unit {
    key: char,
    /// The letter as the member wrote it (leetspeak kept), for the dictionary.
    letter: char,
    span: Range<usize>,
    /// Letters with the same run number follow each other with nothing but separators
    /// (and, when symbols separate, symbols) between them.
    run: u32,
}

/// Cuts `text` into spelled letters: one-letter tokens, and when `symbols_separate`, the
/// letters of tokens whose every letter stands alone between symbols (`f!u!c!k`); a token
/// of symbols alone is then skipped. Any other token ends a run.
fn spelled_units(text: &Normalized, symbols_separate: bool, out: &mut Vec<Unit>) {
    out.clear();
    let mut run = 0u32;
    for token in &text.tokens {
        let key = text.key(token);
        let letters = key.chars().count();
        let unit = |(key, letter)| Unit {
            key,
            letter,
            span: token.span.clone(),
            run,
        };
        if letters == 1 {
            out.extend(key.chars().zip(text.display(token).chars()).map(unit));
            continue;
        }
        if symbols_separate && let Some(word) = letters_apart(token, letters) {
            let pairs = key.chars().zip(text.display(token).chars());
            let apart = pairs.enumerate().filter(|(i, _)| word & (1 << i) != 0);
            out.extend(apart.map(|(_, pair)| unit(pair)));
            continue;
        }
        run += 1;
    }
}

/// The runs of `units`, as index ranges of at most [`MAX_SPELLED`] letters.
fn runs(units: &[Unit]) -> impl Iterator<Item = Range<usize>> + '_ {
    let mut i = 0;
    std::iter::from_fn(move || {
        let run = units.get(i)?.run;
        let start = i;
        while i < units.len() && units[i].run == run && i - start < MAX_SPELLED {
            i += 1;
        }
        Some(start..i)
    })
}

/// When symbols keep every letter of a token of `letters` characters apart (`f!u!c!k`,
/// `+h`, or symbols alone), which characters are letters, a bit each.
fn letters_apart(token: &Token, letters: usize) -> Option<u32> {
    if token.symbols == 0 || letters > 32 {
        return None;
    }
    let word = !token.symbols & ((1u64 << letters) - 1) as u32;
    (word & (word >> 1) == 0).then_some(word)
}

impl WordMatcher {
    /// Builds the index for `lists`, skipping any word in `allow`.
    pub fn new(lists: &[WordList], allow: &[String]) -> Self {
        let mut m = WordMatcher {
            max_words: 1,
            ..WordMatcher::default()
        };
        for key in allow
            .iter()
            .map(|w| phrase_key(w))
            .filter(|k| !k.is_empty())
        {
            if key.contains(' ') {
                m.allow_phrases
                    .push(key.split(' ').map(Box::from).collect::<Vec<_>>());
            } else {
                m.allow.insert(key.into_boxed_str());
            }
        }
        let mut collapsed = String::new();
        let mut runs = Vec::new();
        let mut later_words = Vec::new();
        let mut phrase_pairs = Vec::new();
        for (list_idx, list) in lists.iter().enumerate() {
            m.lists.push(list.name.clone());
            for word in &list.words {
                // A phrase with a gap is indexed by the part after it, when that part is a
                // phrase itself; the part before is checked where that part is found.
                let (head, key) = match word.split_once(GAP) {
                    Some((head, tail)) if phrase_key(tail).contains(' ') => {
                        let head = phrase_key(head);
                        let words: Box<[Box<str>]> = head.split(' ').map(Box::from).collect();
                        (Some(words).filter(|_| !head.is_empty()), phrase_key(tail))
                    }
                    _ => (None, phrase_key(word)),
                };
                if key.is_empty() || m.allow.contains(key.as_str()) {
                    continue;
                }
                let id = m.entries.len() as u32;
                collapse(&key, &mut collapsed, &mut runs);
                let words = key.split(' ').count();
                if words > 1 {
                    m.max_words = m.max_words.max(words);
                    let first = key.split(' ').next().unwrap_or_default();
                    let mut first_collapsed = String::new();
                    let mut first_runs = Vec::new();
                    collapse(first, &mut first_collapsed, &mut first_runs);
                    m.index
                        .entry(first_collapsed.as_str().into())
                        .or_default()
                        .phrase_start = true;
                    later_words.extend(key.split(' ').skip(1).map(str::to_string));
                    let mut words = key.split(' ').map(Shape::of);
                    if let (Some(a), Some(b)) = (words.next(), words.next()) {
                        phrase_pairs.push(pair_shape(a, b));
                    }
                } else {
                    if let Some(&first) = key.as_bytes().first() {
                        m.by_start.entry((key.len(), first)).or_default().push(id);
                    }
                }
                let list_id = u16::try_from(list_idx).unwrap_or(u16::MAX);
                m.entries.push(Entry {
                    list: list_id,
                    word: word.as_str().into(),
                    key: key.as_str().into(),
                    head,
                });
                m.index
                    .entry(collapsed.as_str().into())
                    .or_default()
                    .candidates
                    .push(Candidate {
                        entry: id,
                        runs: runs.as_slice().into(),
                    });
            }
        }
        m.phrase_words = WordScreen::of_keys(later_words.iter().map(String::as_str));
        m.phrase_pairs = bloom(phrase_pairs.clone());
        m.phrase_pair_shapes = phrase_pairs;
        m.compounds = Compounds::new(m.single_words());
        // Consonants as listed and as read (`assfvcker` reads `assfucker`).
        let written: Vec<(u32, String)> = m
            .single_words()
            .map(|(id, _)| (id, m.entries[id as usize].word.to_lowercase()))
            .collect();
        let words = written.iter().map(|(id, w)| (*id, w.as_str()));
        m.skeletons = Skeletons::new(m.single_words().chain(words));
        m.sounds = Sounds::new(m.single_words());
        m.screen = WordScreen::new([&m]);
        m
    }

    /// Listed single words and their entries, without the allowed ones.
    fn single_words(&self) -> impl Iterator<Item = (u32, &str)> {
        let entries = self.entries.iter().enumerate();
        entries
            .filter(|(_, e)| !e.key.contains(' ') && !self.allowed(&e.key))
            .map(|(id, e)| (id as u32, e.key.as_ref()))
    }

    /// How many words and phrases the matcher holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the matcher holds no words.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The first listed word in `text`, if any.
    pub fn find(&self, text: &Normalized) -> Option<WordHit> {
        let all = 0..text.tokens.len();
        let pairs = 0..text.tokens.len().saturating_sub(1);
        let compounds = 0..text.tokens.len();
        let n = text.tokens.len();
        let gaps = (0..n.saturating_sub(1)).map(|i| (i, Hidden::Gap));
        let triples = (0..n.saturating_sub(2)).map(|i| (i, Hidden::Triple));
        let open = (all, pairs, compounds, gaps.chain(triples));
        let mut scratch = Scratch::default();
        scratch.spelled.read(text);
        self.scan(text, open, None, true, &mut scratch)
    }

    /// [`WordMatcher::find`] over what a [`WordScreen`] covering this matcher left open.
    pub fn find_screened(&self, text: &Normalized, screened: &mut Screened) -> Option<WordHit> {
        if !screened.open() {
            return None;
        }
        let Screened {
            maybe,
            open_tokens,
            open_splits,
            open_compounds,
            open_hidden,
            spelled,
            scratch,
            ordinary: _,
        } = screened;
        let open = open_tokens.iter().map(|&i| i as usize);
        let splits = open_splits.iter().map(|&i| i as usize);
        let compounds = open_compounds.iter().map(|&i| i as usize);
        let hidden = open_hidden.iter().map(|&(i, how)| (i as usize, how));
        self.scan(
            text,
            (open, splits, compounds, hidden),
            Some(maybe),
            *spelled,
            scratch,
        )
    }

    /// Checks tokens `open` in order (whole when `maybe` allows, and joined with the next
    /// when a line break splits them), then the pairs of tokens starting at `splits` as one
    /// split word, then the tokens `compounds` as compounds or spelled by sound, then the
    /// readings `hidden` (letters hidden by punctuation or an `x`, a word split twice),
    /// then runs of spelled letters when `spelled`.
    fn scan(
        &self,
        text: &Normalized,
        (open, splits, compounds, hidden): (
            impl Iterator<Item = usize>,
            impl Iterator<Item = usize>,
            impl Iterator<Item = usize>,
            impl Iterator<Item = (usize, Hidden)>,
        ),
        maybe: Option<&[bool]>,
        spelled: bool,
        s: &mut Scratch,
    ) -> Option<WordHit> {
        if self.entries.is_empty() {
            return None;
        }
        let tokens = &text.tokens;
        for i in open {
            let Some(token) = tokens.get(i) else {
                break;
            };
            let whole = maybe.is_none_or(|m| m.get(i).copied().unwrap_or(true))
                && self.screen.may_hold_at(text, i);
            if whole
                && let Some(hit) = self.check_whole(text, i, token, s)
                && self.accepts(text, &hit, s)
            {
                return Some(hit);
            }
            if let Some(next) = tokens.get(i + 1)
                && next.newline_before
                && let Some(hit) = self.check_split(text, i, s)
                && self.accepts(text, &hit, s)
            {
                return Some(hit);
            }
        }
        for i in splits {
            if let (Some(first), Some(second)) = (tokens.get(i), tokens.get(i + 1))
                && self.screen.may_split(text, first, second)
                && let Some(hit) = self.check_split(text, i, s)
                && self.accepts(text, &hit, s)
            {
                return Some(hit);
            }
        }
        for i in compounds {
            if let Some(hit) = self.check_compound(text, i, s)
                && self.accepts(text, &hit, s)
            {
                return Some(hit);
            }
        }
        for (i, how) in hidden {
            let hit = match how {
                Hidden::Gap => self.check_gap(text, i, s),
                Hidden::Masked | Hidden::Typo => self.check_read(text, i, s),
                Hidden::Triple => self.check_triple(text, i, s),
            };
            if let Some(hit) = hit
                && self.accepts(text, &hit, s)
            {
                return Some(hit);
            }
        }
        if spelled {
            self.check_spelled(s)
                .filter(|hit| self.accepts(text, hit, s))
        } else {
            None
        }
    }

    /// Tokens `i` and `i + 1` read as one word (`fu ck`, `fu` and `ck` on two lines),
    /// unless both are ordinary words (`the pen is`).
    fn check_split(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let pair = text.tokens.get(i..=i + 1)?;
        let (first, second) = (text.key(&pair[0]), text.key(&pair[1]));
        if first.len() + second.len() < MIN_SPLIT {
            return None;
        }
        self.check_join(text, pair, s)
            .filter(|_| !(dictionary::is_word(first) && dictionary::is_word(second)))
    }

    /// Token `i` as a listed word written without its vowels (`fck`), spelled by its
    /// sound (`phuck`), or as a compound holding a listed word (`fuckpig`).
    fn check_compound(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let token = text.tokens.get(i)?;
        if let Some(key) = skeleton::candidate(text, token) {
            let entry = self.skeletons.find(key)?;
            return Some(self.hit(entry, key, token.span.start, token.span.end));
        }
        if s.screened() {
            return self.check_pieces(text, i, token, s);
        }
        reading_keys(text, token).find_map(|key| self.check_compound_key(token, key, s))
    }

    /// [`WordMatcher::check_compound`] for one reading of `token`, its key `key`.
    fn check_compound_key(&self, token: &Token, key: &str, s: &mut Scratch) -> Option<WordHit> {
        if let Some(entry) = self.sounds.find(key) {
            return Some(self.hit(entry, key, token.span.start, token.span.end));
        }
        let key = compound::candidate(key)?;
        if !self.compounds.may_hold(&key) {
            return None;
        }
        let entry = self.compounds.find(&key, &mut |piece| {
            !self.allowed(piece) && self.lookup_exact(piece, s, 0).is_some()
        })?;
        Some(self.hit(entry, &key, token.span.start, token.span.end))
    }

    /// The first word a [`WordScreen`] read token `i` as (by sound or as a compound's
    /// piece) that this matcher lists.
    fn check_pieces(
        &self,
        text: &Normalized,
        i: usize,
        token: &Token,
        s: &mut Scratch,
    ) -> Option<WordHit> {
        let pieces = std::mem::take(&mut s.pieces);
        let entry = pieces
            .iter()
            .filter(|(at, _)| *at as usize == i)
            .find_map(|(_, word)| {
                (!self.allowed(word))
                    .then(|| self.lookup_exact(word, s, 0))
                    .flatten()
            });
        s.pieces = pieces;
        let key = text.key(token);
        let key = compound::candidate(key).unwrap_or(Cow::Borrowed(key));
        Some(self.hit(entry?, &key, token.span.start, token.span.end))
    }

    /// Whether `hit` may be reported: not inside an allowed phrase, nor on a word an
    /// earlier rule has acted on.
    fn accepts(&self, text: &Normalized, hit: &WordHit, s: &Scratch) -> bool {
        let (start, end) = hit.span;
        !s.claimed.iter().any(|&(a, b)| a < end && start < b) && !self.allowed_in_context(text, hit)
    }

    /// Whether `hit` lies inside a phrase of the allow list (`cum` in `magna cum laude`).
    fn allowed_in_context(&self, text: &Normalized, hit: &WordHit) -> bool {
        let tokens = &text.tokens;
        self.allow_phrases.iter().any(|phrase| {
            tokens.windows(phrase.len()).any(|window| {
                window
                    .iter()
                    .zip(phrase)
                    .all(|(t, word)| text.key(t) == word.as_ref())
                    && window[0].span.start <= hit.span.0
                    && hit.span.1 <= window[window.len() - 1].span.end
            })
        })
    }

    /// Token `i` as a word, and as the first word of a phrase.
    fn check_whole(
        &self,
        text: &Normalized,
        i: usize,
        token: &Token,
        s: &mut Scratch,
    ) -> Option<WordHit> {
        let mut collapsed = std::mem::take(&mut s.token);
        let mut runs = std::mem::take(&mut s.token_runs);
        collapse(text.key(token), &mut collapsed, &mut runs);
        let slot = self.index.get(collapsed.as_str());
        let mut hit = self.check_token(text, token, (slot, &runs), s);
        let phrase_start = match slot {
            Some(slot) => slot.phrase_start,
            // A key the index cannot hold as it is (the ambiguous `1` of `h31l h1tler`, a
            // symbol read as a letter) may still start a phrase: the pair screen decides.
            None => token.symbols != 0 || text.key(token).contains(I_OR_L),
        };
        let pair_listed = || {
            let next = text.tokens.get(i + 1);
            next.is_some_and(|next| holds(&self.phrase_pairs, pair_shape(token.shape, next.shape)))
        };
        if hit.is_none() && phrase_start && pair_listed() {
            hit = self.check_phrases(text, i, s);
        }
        s.token = collapsed;
        s.token_runs = runs;
        hit
    }

    /// `slot` is what the index holds under the token's collapsed key, with the key's runs.
    fn check_token(
        &self,
        text: &Normalized,
        token: &Token,
        (slot, runs): (Option<&Slot>, &[u8]),
        s: &mut Scratch,
    ) -> Option<WordHit> {
        let key = text.key(token);
        if key.contains('*')
            && let Some(trimmed) = wildcard_key(key)
        {
            let span = token.span.clone();
            if s.screened() {
                return self.read_wildcard(span.start, span, trimmed, s);
            }
            return self.wildcard(span.clone(), trimmed).or_else(|| {
                let masked = grawlix(key, token.symbols)?;
                self.wildcard(span, masked.trim_matches('*'))
            });
        }
        let head = usize::from(token.symbol_head);
        let tail = usize::from(token.symbol_tail);
        if !key.contains(['*', I_OR_L])
            && let Some(entry) = self.lookup_plain(key, Some((slot, runs)), s)
        {
            return Some(self.hit(entry, key, token.span.start, token.span.end));
        }
        let mut variants = [Some(key), None, None];
        if head + tail > 0 && head + tail < key.len() {
            variants[1] = Some(&key[head..key.len() - tail]);
            if tail > 0 {
                variants[2] = Some(&key[..key.len() - tail]);
            }
        }
        let variants = variants.into_iter().flatten();
        for variant in variants.chain(without_digits(text, token)) {
            let variant = variant.trim_matches('*');
            if variant == key && !key.contains(I_OR_L) {
                continue; // looked up above
            }
            if let Some(entry) = self.lookup(variant, s) {
                return Some(self.hit(entry, variant, token.span.start, token.span.end));
            }
        }
        None
    }

    fn check_phrases(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let mut joined = std::mem::take(&mut s.phrase);
        joined.clear();
        joined.push_str(text.key(&text.tokens[i]));
        let mut found = None;
        for n in 1..self.max_words {
            let Some(next) = text.tokens.get(i + n) else {
                break;
            };
            if !self.phrase_words.may_hold(text, next) {
                break;
            }
            joined.push(' ');
            joined.push_str(text.key(next));
            if let Some(entry) = self.lookup(&joined, s)
                && let Some((entry, start)) = self.phrase_at(text, i, entry)
            {
                found = Some(self.hit(entry, &joined, start, next.span.end));
                break;
            }
        }
        s.phrase = joined;
        found
    }

    /// The entry of the phrase found at token `i` (`entry` is the first the index gives),
    /// and where it starts: at `i`, or for a phrase listed with a gap, where the words
    /// before the gap are. `None` when no entry of that phrase has its words there.
    fn phrase_at(&self, text: &Normalized, i: usize, entry: u32) -> Option<(u32, usize)> {
        let at = text.tokens.get(i)?.span.start;
        let found = self.entries.get(entry as usize)?;
        if found.head.is_none() {
            return Some((entry, at));
        }
        // Every entry listed under the phrase as found, whatever its gap holds.
        let (mut collapsed, mut runs) = (String::new(), Vec::new());
        collapse(&found.key, &mut collapsed, &mut runs);
        let slot = self.index.get(collapsed.as_str())?;
        slot.candidates.iter().find_map(|c| {
            let head = self.entries.get(c.entry as usize)?.head.as_deref()?;
            head_before(text, i, head).map(|start| (c.entry, start))
        })
    }

    fn check_join(&self, text: &Normalized, parts: &[Token], s: &mut Scratch) -> Option<WordHit> {
        let mut joined = std::mem::take(&mut s.joined);
        joined.clear();
        for t in parts {
            joined.push_str(text.key(t));
        }
        let found = self.lookup(&joined, s);
        let hit = found.map(|entry| {
            let (start, end) = (parts[0].span.start, parts[parts.len() - 1].span.end);
            self.hit(entry, &joined, start, end)
        });
        s.joined = joined;
        hit
    }

    /// Letters spelled out one at a time (`f u c k`, `b_4_$_t_@_r_d`, `f!u!c!k`,
    /// `s+h=i•t`), joined and searched. Symbols are read first as letters, as leetspeak
    /// would have them, then as mere separators.
    ///
    /// A run that spells an ordinary word in either reading (`a s s e s s`, `t_i.t•h i+n g`)
    /// is read as that word, and nothing inside it is reported.
    /// The readings are made once per message by [`Spelled::read`].
    fn check_spelled(&self, s: &mut Scratch) -> Option<WordHit> {
        let mut spelled = std::mem::take(&mut s.spelled);
        let mut hit = None;
        for units in &spelled.readings[..spelled.count] {
            hit = self.check_units(units, &spelled.ordinary, s);
            if hit.is_some() {
                break;
            }
        }
        std::mem::swap(&mut s.spelled, &mut spelled);
        hit
    }

    /// Searches each run of spelled letters: the whole run, and every stretch of three
    /// letters or more within it, except inside a run read as an ordinary word.
    fn check_units(
        &self,
        units: &[Unit],
        ordinary: &[Range<usize>],
        s: &mut Scratch,
    ) -> Option<WordHit> {
        for run in runs(units) {
            let (i, j) = (run.start, run.end);
            if j - i < 2 {
                continue;
            }
            for start in i..j {
                for end in (start + 2..=j).rev() {
                    if end - start < 3 && !(start == i && end == j) {
                        continue;
                    }
                    let stretch = &units[start..end];
                    let span = stretch[0].span.start..stretch[stretch.len() - 1].span.end;
                    let inside_ordinary = ordinary
                        .iter()
                        .any(|o| o.start <= span.start && span.end <= o.end);
                    if !inside_ordinary && let Some(hit) = self.check_unit_join(stretch, s) {
                        return Some(hit);
                    }
                }
            }
        }
        None
    }

    fn check_unit_join(&self, units: &[Unit], s: &mut Scratch) -> Option<WordHit> {
        let mut joined = std::mem::take(&mut s.joined);
        joined.clear();
        joined.extend(units.iter().map(|u| u.key));
        let hit = self.lookup(&joined, s).map(|entry| {
            let (start, end) = (units[0].span.start, units[units.len() - 1].span.end);
            self.hit(entry, &joined, start, end)
        });
        s.joined = joined;
        hit
    }

    /// Tokens `i` to `i + 2` read as one word split twice (`f uc k`, `wan k ers`), unless
    /// all three are ordinary words.
    fn check_triple(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let parts = text.tokens.get(i..=i + 2)?;
        if parts.iter().all(|t| is_ordinary_piece(text.key(t))) {
            return None;
        }
        self.check_join(text, parts, s)
    }

    /// Token `i` with an `x` standing for a hidden letter (`bitxh`), or misspelled by a
    /// letter (`mohterfucker`), as a [`WordScreen`] read it.
    fn check_read(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let token = text.tokens.get(i)?;
        let key = text.key(token);
        self.read_wildcard(token.span.start, token.span.clone(), key, s)
    }

    /// Tokens `i` and `i + 1` as one word with letters hidden between them by punctuation
    /// (`sh.t`, `f--k`).
    fn check_gap(&self, text: &Normalized, i: usize, s: &mut Scratch) -> Option<WordHit> {
        let (first, second) = (text.tokens.get(i)?, text.tokens.get(i + 1)?);
        let span = first.span.start..second.span.end;
        let key = gap_key(text, i)?;
        if s.screened() {
            return self.read_wildcard(first.span.end, span, &key, s);
        }
        self.wildcard(span, key.trim_matches('*'))
    }

    /// The listed word a wildcard key spells: the first that fits in list order. The
    /// caller trims `*` from its ends, so it starts with a letter.
    fn wildcard(&self, span: Range<usize>, key: &str) -> Option<WordHit> {
        if !readable_wildcard(key) {
            return None;
        }
        let first_fit = |first: u8| {
            let ids = self.by_start.get(&(key.len(), first))?;
            ids.iter()
                .copied()
                .find(|&id| wildcard_fits(&self.entries[id as usize].key, key))
        };
        // The first fitting entry in list order, read from the entries that can fit.
        let id = match *key.as_bytes().first()? {
            b'*' => None,
            I_OR_L_BYTE => [b'i', b'l'].into_iter().filter_map(first_fit).min(),
            b => first_fit(b),
        }?;
        if self.allow.contains(self.entries[id as usize].key.as_ref()) {
            return None;
        }
        Some(self.hit(id, key, span.start, span.end))
    }

    /// The entry of the word a [`WordScreen`] read the wildcard at byte `at` as, if this
    /// matcher lists it; `span` is the wildcard's in the message.
    fn read_wildcard(
        &self,
        at: usize,
        span: Range<usize>,
        key: &str,
        s: &mut Scratch,
    ) -> Option<WordHit> {
        let (_, read) = s.read_as.iter().find(|(start, _)| *start == at)?;
        let read = read.clone();
        if self.allowed(&read) {
            return None;
        }
        let entry = self.lookup_exact(&read, s, 0)?;
        Some(self.hit(entry, key, span.start, span.end))
    }

    /// The entry `key` spells. An ambiguous `1` is tried as `i` and as `l` (at most
    /// [`MAX_AMBIGUOUS`] of them, every combination).
    fn lookup(&self, key: &str, s: &mut Scratch) -> Option<u32> {
        if !self.screen.holds(Shape::of(key)) {
            return None; // no reading of the key, nor any stem, is listed
        }
        if !key.contains(I_OR_L) {
            return self.lookup_plain(key, None, s);
        }
        let mut positions = [0usize; MAX_AMBIGUOUS];
        let mut ambiguous = 0;
        let mut bytes = std::mem::take(&mut s.variant);
        bytes.clear();
        for (i, b) in key.bytes().enumerate() {
            if b == I_OR_L as u8 {
                if ambiguous < MAX_AMBIGUOUS {
                    positions[ambiguous] = i;
                    ambiguous += 1;
                }
                bytes.push(b'i');
            } else {
                bytes.push(b);
            }
        }
        let mut found = None;
        for combo in 0..(1u32 << ambiguous) {
            for (bit, &pos) in positions[..ambiguous].iter().enumerate() {
                bytes[pos] = if combo & (1 << bit) == 0 { b'i' } else { b'l' };
            }
            // Only ASCII bytes were swapped for ASCII bytes, so this stays UTF-8.
            let Ok(variant) = std::str::from_utf8(&bytes) else {
                break;
            };
            found = self.lookup_plain(variant, None, s);
            if found.is_some() {
                break;
            }
        }
        s.variant = bytes;
        found
    }

    /// The entry `key` spells, trying suffix-stripped stems when the whole key is unlisted.
    /// `looked_up` is the key's slot and runs, when the caller has them.
    fn lookup_plain(
        &self,
        key: &str,
        looked_up: Option<(Option<&Slot>, &[u8])>,
        s: &mut Scratch,
    ) -> Option<u32> {
        if key.is_empty() || self.allowed(key) {
            return None;
        }
        let found = match looked_up {
            Some((slot, runs)) => slot.and_then(|slot| self.pick(slot, runs, 0)),
            None => self.lookup_exact(key, s, 0),
        };
        // An ordinary word is read only as itself: not as a listed word with a letter
        // stretched (`assess` is not `asses`), nor as a stem with a suffix (`spicy`).
        let ordinary = || dictionary::is_word(key);
        if let Some(id) = found {
            let stretched = self.entries[id as usize].key.as_ref() != key;
            return (!stretched || !ordinary()).then_some(id);
        }
        for suffix in SUFFIXES {
            if let Some(stem) = key.strip_suffix(suffix)
                && stem.len() >= MIN_STEM
                && !self.allowed(stem)
                && let Some(id) = self.lookup_exact(stem, s, MIN_STEM)
            {
                return (!ordinary()).then_some(id);
            }
        }
        None
    }

    fn allowed(&self, key: &str) -> bool {
        !self.allow.is_empty() && self.allow.contains(key)
    }

    fn lookup_exact(&self, key: &str, s: &mut Scratch, min_len: usize) -> Option<u32> {
        collapse(key, &mut s.collapsed, &mut s.runs);
        self.lookup_collapsed(&s.collapsed, &s.runs, min_len)
    }

    fn lookup_collapsed(&self, collapsed: &str, runs: &[u8], min_len: usize) -> Option<u32> {
        self.pick(self.index.get(collapsed)?, runs, min_len)
    }

    /// The first candidate of `slot` whose letters `runs` repeat at least as often.
    fn pick(&self, slot: &Slot, runs: &[u8], min_len: usize) -> Option<u32> {
        slot.candidates
            .iter()
            .find(|c| {
                c.runs.len() == runs.len()
                    && c.runs.iter().zip(runs).all(|(want, got)| got >= want)
                    && self.entries[c.entry as usize].key.len() >= min_len
            })
            .map(|c| c.entry)
    }

    fn hit(&self, entry: u32, normalized: &str, start: usize, end: usize) -> WordHit {
        let e = &self.entries[entry as usize];
        WordHit {
            list: self.lists[usize::from(e.list)].clone(),
            word: e.word.to_string(),
            normalized: normalized.to_string(),
            span: (start, end),
        }
    }
}

/// The keys of several matchers together. Once per message it rules out the tokens none
/// of them can match, so each words rule looks at the few tokens left instead of every
/// token again, and skips a message with none at all.
///
/// The screen is a Bloom filter over [`Shape`]s: those of the keys, and of each key with
/// each suffix the matchers strip (`cock` + `s`). In a shape `i`, `l` and the ambiguous
/// `1` are one letter and repeated letters count once, so whatever a matcher could find
/// in a token (either reading of a `1`, a stem, the word between symbols) has a shape the
/// filter holds: the screen never rules out a match, and a false "maybe" only costs the
/// exact check. Each shape sets three bits of one 64-bit word, so a lookup reads memory
/// once.
#[derive(Clone, Debug, Default)]
pub struct WordScreen {
    words: Vec<u64>,
    /// The first and second pieces a listed word can be split into by a space, where not
    /// both are ordinary words: `fu`/`ck`, never `pen`/`is`. A second piece is held without
    /// the suffixes it may carry ([`WordScreen::may_end_word`]).
    heads: Vec<u64>,
    tails: Vec<u64>,
    /// Every listed word, to find the tokens that may be compounds.
    compounds: Compounds,
    /// Every listed word by its sound, to find the tokens that may be respellings.
    sounds: Sounds,
    /// Every listed single word, collapsed: a token one list holds as written is never
    /// read by sound as another list's word; and a compound may join words of two lists
    /// (`fag` `fucker`).
    listed: Arc<FxHashSet<Box<str>>>,
    /// The first two words of every phrase, as [`pair_shape`]s.
    pairs: Vec<u64>,
    /// Every listed single word by length and first letter, the most spelled first: a
    /// wildcard (`f***ing`) is read as one word for every rule, the one the lists give the
    /// most spellings of (`fucking`, not `fagging`).
    wildcards: FxHashMap<(usize, u8), Vec<Box<str>>>,
    /// Every listed word of six letters or more, for words misspelled by a letter.
    typos: Typos,
    /// Whether some list holds an ordinary word (a server's own list may): else a token
    /// the dictionary holds is no listed word.
    lists_ordinary: bool,
}

/// Per token of a message: whether some words rule may list it, and what else the words
/// rules need to look at. Also holds the rules' working buffers, reused message after
/// message.
#[derive(Clone, Debug, Default)]
pub struct Screened {
    maybe: Vec<bool>,
    /// Tokens some rule must look at: those that may be listed, and those a line break
    /// splits from the next one.
    open_tokens: Vec<u32>,
    /// Tokens that, joined with the next, may spell a listed word split in two (`fu ck`).
    open_splits: Vec<u32>,
    /// Tokens read as compounds holding a listed word (`fuckpig`) or as listed words
    /// spelled by sound (`phuck`), and tokens that may be listed words without their
    /// vowels (`fck`).
    open_compounds: Vec<u32>,
    /// Readings beyond the tokens as written that may spell a listed word: letters hidden
    /// by punctuation (`sh.t`) or an `x` (`bitxh`), where a wildcard reading was found,
    /// and words split twice (`f uc k`), where the screen holds the joined shape.
    open_hidden: Vec<(u32, Hidden)>,
    /// Whether two or more one-letter tokens follow each other (`f u c k`), or symbols
    /// keep a token's letters apart (`f!u!c!k`).
    spelled: bool,
    /// Per token: whether the dictionary holds its key, and no symbol is at its edges.
    ordinary: Vec<bool>,
    scratch: Scratch,
}

impl Screened {
    /// Marks the bytes `span` of the message as acted on: later rules look past them.
    pub fn claim(&mut self, span: (usize, usize)) {
        self.scratch.claimed.push(span);
    }

    /// Whether any rule needs to look at the message at all.
    fn open(&self) -> bool {
        self.spelled
            || !self.open_tokens.is_empty()
            || !self.open_splits.is_empty()
            || !self.open_compounds.is_empty()
            || !self.open_hidden.is_empty()
    }
}

/// Shapes held per filter word, at most (the word count is rounded up to a power of two,
/// so between four and eight): at most a third of the bits end up set, and one shape in
/// thirty or fewer that is not held gets through. The default lists' filter is 16 KiB.
const SHAPES_PER_WORD: usize = 8;

impl WordScreen {
    /// A screen over every key of `matchers`.
    pub fn new<'a>(matchers: impl IntoIterator<Item = &'a WordMatcher> + Clone) -> Self {
        // Words listed on their own; a phrase's first word is screened with its second.
        let mut screen = WordScreen::of_keys(matchers.clone().into_iter().flat_map(|m| {
            let words = m
                .index
                .iter()
                .filter(|(_, slot)| !slot.candidates.is_empty());
            words.map(|(key, _)| key.as_ref())
        }));
        screen.pairs = matchers
            .clone()
            .into_iter()
            .flat_map(|m| m.phrase_pair_shapes.iter().copied())
            .collect::<Vec<_>>();
        screen.pairs = bloom(std::mem::take(&mut screen.pairs));
        let (mut heads, mut tails) = (Vec::new(), Vec::new());
        let words = matchers.clone().into_iter().flat_map(|m| m.entries.iter());
        for key in words.map(|e| e.key.as_ref()).filter(|k| !k.contains(' ')) {
            for (at, _) in key.char_indices().skip(1) {
                let (head, tail) = key.split_at(at);
                if dictionary::is_word(head) && dictionary::is_word(tail) {
                    continue;
                }
                heads.push(Shape::of(head));
                tails.push(Shape::of(tail));
            }
        }
        screen.heads = bloom(heads);
        screen.tails = bloom(tails);
        screen.compounds =
            Compounds::new(matchers.clone().into_iter().flat_map(|m| m.single_words()));
        screen.sounds = Sounds::new(matchers.clone().into_iter().flat_map(|m| m.single_words()));
        // As written: `migga` holds `miga` only with its double `g`, so `miga` is not it.
        screen.listed = matchers
            .into_iter()
            .flat_map(|m| m.single_words())
            .map(|(_, key)| Box::from(key))
            .collect::<FxHashSet<_>>()
            .into();
        screen.wildcards = by_spellings(&screen.listed);
        let mut words: Vec<&str> = screen.listed.iter().map(AsRef::as_ref).collect();
        words.sort_unstable();
        screen.typos = Typos::new(words);
        screen.lists_ordinary = screen.listed.iter().any(|w| dictionary::is_word(w));
        screen
    }

    /// The listed word wildcard `token` stands for, if it is a wildcard (`f*ck`, or a run
    /// of symbols holding one: `f@#$ing`).
    fn read_wildcard(&self, text: &Normalized, token: &Token) -> Option<&str> {
        let key = text.key(token);
        let trimmed = wildcard_key(key)?;
        self.wildcard_reading(trimmed).or_else(|| {
            let masked = grawlix(key, token.symbols)?;
            self.wildcard_reading(masked.trim_matches('*'))
        })
    }

    /// The listed word wildcard `key` stands for; a run of three stars or more may stand
    /// for fewer letters (`ni***ger`), when no word has as many.
    fn wildcard_reading(&self, key: &str) -> Option<&str> {
        if let Some(word) = self.wildcard_fit(key) {
            return Some(word);
        }
        let (start, stars) = longest_star_run(key);
        if stars < 3 {
            return None;
        }
        let (before, after) = (&key[..start], &key[start + stars..]);
        (1..stars).rev().find_map(|n| {
            let shorter = format!("{before}{}{after}", "*".repeat(n));
            self.wildcard_fit(&shorter)
        })
    }

    fn wildcard_fit(&self, key: &str) -> Option<&str> {
        if !readable_wildcard(key) {
            return None;
        }
        let fit = |first: u8| {
            let words = self.wildcards.get(&(key.len(), first))?;
            words.iter().find(|word| wildcard_fits(word, key))
        };
        let word = match *key.as_bytes().first()? {
            b'*' => None,
            I_OR_L_BYTE => fit(b'i').or_else(|| fit(b'l')),
            b => fit(b),
        };
        word.map(AsRef::as_ref)
    }

    /// Reads token `i` by its sound (`phuck`) and as a compound (`fuckpig`), once for
    /// every rule: the listed words read go to [`Scratch::pieces`], and each rule takes the
    /// first it lists. Whether any was read.
    fn read_pieces(&self, text: &Normalized, i: usize, token: &Token, out: &mut Screened) -> bool {
        let at = u32::try_from(i).unwrap_or(u32::MAX);
        reading_keys(text, token).any(|key| self.read_pieces_of(key, at, out))
    }

    /// [`WordScreen::read_pieces`] for one reading of token `at`, its key `key`.
    fn read_pieces_of(&self, key: &str, at: u32, out: &mut Screened) -> bool {
        let before = out.scratch.pieces.len();
        // A token some list holds as written is that list's word: reading it by sound as
        // another list's would act on one word twice (`fuck` is no `fukc`).
        if let Some(word) = self.sounds.find_word(key)
            && !self.listed_as_written(key, out)
        {
            out.scratch.pieces.push((at, word.into()));
        }
        if key.len() >= compound::MIN_COMPOUND
            && let Some(key) = compound::candidate(key)
            && self.compounds.may_hold(&key)
        {
            let mut words = std::mem::take(&mut out.scratch.words);
            words.clear();
            let listed = &self.listed;
            let (mut collapsed, mut runs) = (String::new(), Vec::new());
            let mut is_listed =
                |piece: &str| listed_stretched(listed, piece, &mut collapsed, &mut runs);
            self.compounds.find_words(&key, &mut is_listed, &mut words);
            out.scratch
                .pieces
                .extend(words.drain(..).map(|word| (at, word)));
            out.scratch.words = words;
        }
        out.scratch.pieces.len() > before
    }

    /// Whether some list holds token key `key` as written, or stretched (`fuuuck`).
    fn listed_as_written(&self, key: &str, out: &mut Screened) -> bool {
        let Scratch {
            collapsed, runs, ..
        } = &mut out.scratch;
        listed_stretched(&self.listed, key, collapsed, runs)
    }

    /// The listed word `token` misspells by a letter (a short one: by two letters swapped
    /// or an `l` for an `i`), if no list holds it as written.
    fn misspelled(&self, text: &Normalized, token: &Token, out: &mut Screened) -> Option<&str> {
        reading_keys(text, token).find_map(|key| self.misspelled_key(key, out))
    }

    fn misspelled_key(&self, key: &str, out: &mut Screened) -> Option<&str> {
        // Two letters wrong may leave neither end as it was: long words skip that screen.
        let long = key.len() >= typos::MIN_TWO_TYPOS;
        if !self.typos.may_misspell(key) && !long {
            return typos::find_short(key, &self.listed);
        }
        if self.listed_as_written(key, out) {
            return None;
        }
        self.typos.find(key).or_else(|| self.typos.find_two(key))
    }

    /// Whether tokens `i` to `i + 2` may be a listed word split twice: all on one line, no
    /// two lone letters side by side, a piece that is no ordinary word, and a joined shape
    /// some list may hold.
    fn may_be_split_twice(&self, text: &Normalized, i: usize, ordinary: &[bool]) -> bool {
        let Some(parts) = text.tokens.get(i..=i + 2) else {
            return false;
        };
        let ordinary_piece = |j: usize| {
            let key = text.key(&text.tokens[j]);
            // As [`is_ordinary_piece`], with the dictionary already asked.
            ordinary.get(j).copied().unwrap_or(false)
                && (key.len() >= 2 || matches!(key, "a" | "i" | "u"))
        };
        if (i..=i + 2).all(ordinary_piece) {
            return false;
        }
        // Letters one at a time (`s h o t`) are spelled out, which is read elsewhere.
        let single = |t: &Token| t.key.len() == 1;
        // The first piece must start a listed word and the last end one (cheap screens
        // that most words fail) before the three are hashed together.
        if !holds(&self.heads, parts[0].shape)
            || !self.may_end_word(text, &parts[2])
            || parts[1..].iter().any(|t| t.newline_before)
            || parts.windows(2).any(|w| single(&w[0]) && single(&w[1]))
        {
            return false;
        }
        let mut shape = Shape::default();
        parts
            .iter()
            .flat_map(|t| text.key(t).chars())
            .for_each(|c| shape.add(c));
        self.holds(shape.hash())
    }

    /// Whether `first` and `second` may be the two pieces of a split listed word.
    fn may_split(&self, text: &Normalized, first: &Token, second: &Token) -> bool {
        holds(&self.heads, first.shape) && self.may_end_word(text, second)
    }

    /// Whether `token` may be the last piece of a split listed word, with or without a
    /// suffix the matchers strip (`ck`, `cking`). The filter holds the pieces alone, about
    /// a tenth of the size it would be with every suffix.
    fn may_end_word(&self, text: &Normalized, token: &Token) -> bool {
        if holds(&self.tails, token.shape) {
            return true;
        }
        let key = text.key(token);
        SUFFIXES.iter().any(|suffix| {
            key.len() > suffix.len()
                && key.ends_with(suffix)
                && holds(&self.tails, Shape::of(&key[..key.len() - suffix.len()]))
        })
    }

    /// A screen over `keys`, whole or with any suffix the matchers strip.
    fn of_keys<'a>(keys: impl Iterator<Item = &'a str>) -> Self {
        WordScreen {
            words: bloom(keys.flat_map(with_suffixes).collect()),
            ..WordScreen::default()
        }
    }

    /// Marks which tokens of `text` may be listed.
    pub fn mark(&self, text: &Normalized, out: &mut Screened) {
        self.mark_tokens(text, out);
        if out.spelled {
            out.scratch.spelled.read(text);
        }
    }

    fn mark_tokens(&self, text: &Normalized, out: &mut Screened) {
        let same = |listed: &Arc<_>| Arc::ptr_eq(listed, &self.listed);
        if !out.scratch.listed.as_ref().is_some_and(same) {
            out.scratch.listed = Some(Arc::clone(&self.listed));
        }
        out.scratch.claimed.clear();
        out.scratch.read_as.clear();
        out.open_hidden.clear();
        out.maybe.clear();
        out.open_tokens.clear();
        out.open_splits.clear();
        out.open_compounds.clear();
        out.scratch.pieces.clear();
        out.spelled = false;
        // An ordinary word as written is read as nothing else: not as a listed word (the
        // dictionary holds none, unless a server lists one), by sound, as a compound or a
        // misspelling, nor as a piece of a split word when the other piece is ordinary too.
        // One dictionary lookup a token spares those readings. (A token with symbols at an
        // edge is also read without them: `shit$` may be `shits`, and `shit`.)
        out.ordinary.clear();
        for t in &text.tokens {
            let plain = t.symbol_head == 0 && t.symbol_tail == 0;
            let ordinary = plain && dictionary::is_word(text.key(t));
            out.ordinary.push(ordinary);
        }
        let ordinary_at = |out: &Screened, i: usize| out.ordinary.get(i).copied().unwrap_or(false);
        let mut single_before = false;
        for (i, token) in text.tokens.iter().enumerate() {
            let ordinary = ordinary_at(out, i);
            self.mark_hidden(text, i, token, ordinary, out);
            let maybe = if ordinary && !self.lists_ordinary {
                self.may_start_phrase(text, i)
            } else {
                self.may_hold_at(text, i)
            };
            let joined = text.tokens.get(i + 1).is_some_and(|t| t.newline_before);
            if maybe || joined {
                out.open_tokens.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
            if let Some(next) = text.tokens.get(i + 1)
                && !(ordinary && ordinary_at(out, i + 1))
                && self.may_split(text, token, next)
            {
                out.open_splits.push(u32::try_from(i).unwrap_or(u32::MAX));
            }
            let read = !ordinary && self.read_pieces(text, i, token, out);
            if read || skeleton::candidate(text, token).is_some() {
                out.open_compounds
                    .push(u32::try_from(i).unwrap_or(u32::MAX));
            }
            let single = token.key.len() == 1;
            out.spelled |= single && single_before;
            out.spelled |= token.symbols != 0 && {
                let key = text.key(token);
                let letters = if key.is_ascii() {
                    key.len()
                } else {
                    key.chars().count()
                };
                letters_apart(token, letters).is_some_and(|word| word.count_ones() >= 2)
            };
            single_before = single;
            out.maybe.push(maybe);
        }
    }

    /// Marks the readings of token `i` beyond its letters as written: a wildcard, letters
    /// hidden by punctuation or an `x`, a misspelling, a word split twice.
    fn mark_hidden(
        &self,
        text: &Normalized,
        i: usize,
        token: &Token,
        ordinary: bool,
        out: &mut Screened,
    ) {
        let at = u32::try_from(i).unwrap_or(u32::MAX);
        if token.star
            && let Some(word) = self.read_wildcard(text, token)
        {
            out.scratch.read_as.push((token.span.start, word.into()));
        }
        if let Some(key) = gap_key(text, i)
            && let Some(word) = self.wildcard_reading(key.trim_matches('*'))
        {
            out.scratch.read_as.push((token.span.end, word.into()));
            out.open_hidden.push((at, Hidden::Gap));
        }
        if let Some(key) = masked_key(text, token)
            && let Some(word) = self.wildcard_reading(&key)
        {
            out.scratch.read_as.push((token.span.start, word.into()));
            out.open_hidden.push((at, Hidden::Masked));
        } else if !ordinary && let Some(word) = self.misspelled(text, token, out) {
            out.scratch.read_as.push((token.span.start, word.into()));
            out.open_hidden.push((at, Hidden::Typo));
        }
        if self.may_be_split_twice(text, i, &out.ordinary) {
            out.open_hidden.push((at, Hidden::Triple));
        }
    }

    /// Whether token `i` may be listed, alone or as the first word of a phrase (with the
    /// token after it as the second).
    fn may_hold_at(&self, text: &Normalized, i: usize) -> bool {
        let Some(token) = text.tokens.get(i) else {
            return false;
        };
        self.may_hold(text, token) || self.may_start_phrase(text, i)
    }

    /// Whether token `i` may be the first word of a listed phrase, with the next the second.
    fn may_start_phrase(&self, text: &Normalized, i: usize) -> bool {
        let (Some(token), Some(next)) = (text.tokens.get(i), text.tokens.get(i + 1)) else {
            return false;
        };
        holds(&self.pairs, pair_shape(token.shape, next.shape))
    }

    fn may_hold(&self, text: &Normalized, token: &Token) -> bool {
        if token.star {
            return true; // a wildcard may stand for any letter
        }
        let (head, tail) = (
            usize::from(token.symbol_head),
            usize::from(token.symbol_tail),
        );
        if head + tail == 0 && token.digit_tail == 0 {
            return self.holds(token.shape);
        }
        let key = text.key(token);
        let mut variants = [Some(key), None, None];
        if head + tail > 0 && head + tail < key.len() {
            variants[1] = key.get(head..key.len() - tail);
            if tail > 0 {
                variants[2] = key.get(..key.len() - tail);
            }
        }
        let variants = variants.into_iter().flatten();
        variants
            .chain(without_digits(text, token))
            .any(|v| self.holds(Shape::of(v)))
    }

    fn holds(&self, shape: u64) -> bool {
        holds(&self.words, shape)
    }
}

/// `words` by length and first letter, each group ordered by how many other listed words
/// are one letter away from a word ([`typos::neighbours`]): the lists spell a word
/// people write often many ways (`fucking`: `fuking`, `fuckin`, `fucken`, `fuccing` …), so
/// this puts it before a rarer word of the same shape (`fagging`, `facking`). Ties go to
/// the word first in alphabetical order.
fn by_spellings(words: &FxHashSet<Box<str>>) -> FxHashMap<(usize, u8), Vec<Box<str>>> {
    let near = typos::neighbours(words.iter().map(AsRef::as_ref));
    let spellings = |word: &str| near.get(word).copied().unwrap_or(0);
    let mut out: FxHashMap<(usize, u8), Vec<Box<str>>> = FxHashMap::default();
    for word in words {
        if let Some(&first) = word.as_bytes().first() {
            out.entry((word.len(), first))
                .or_default()
                .push(word.clone());
        }
    }
    for group in out.values_mut() {
        group.sort_by_cached_key(|w| (std::cmp::Reverse(spellings(w)), w.clone()));
    }
    out
}

/// The shapes of `key` whole and with each suffix the matchers strip.
fn with_suffixes(key: &str) -> impl Iterator<Item = u64> + '_ {
    std::iter::once(Shape::of(key)).chain(SUFFIXES.iter().map(move |suffix| {
        let mut shape = Shape::default();
        key.chars().chain(suffix.chars()).for_each(|c| shape.add(c));
        shape.hash()
    }))
}

/// The shape of two words in a row.
fn pair_shape(first: u64, second: u64) -> u64 {
    first.rotate_left(17) ^ second.wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// A Bloom filter over `shapes`, three bits of one 64-bit word each.
fn bloom(shapes: Vec<u64>) -> Vec<u64> {
    let len = (shapes.len() / SHAPES_PER_WORD).next_power_of_two().max(64);
    let mut words = vec![0; len];
    for shape in shapes {
        let (word, bits) = slot(&words, shape);
        words[word] |= bits;
    }
    words
}

fn holds(filter: &[u64], shape: u64) -> bool {
    if filter.is_empty() {
        return false;
    }
    let (word, bits) = slot(filter, shape);
    filter.get(word).is_some_and(|w| w & bits == bits)
}

/// The filter word of a shape, and the three bits it sets there.
fn slot(filter: &[u64], shape: u64) -> (usize, u64) {
    let h = shape.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let word = (h >> 40) as usize & (filter.len() - 1);
    let bits = (1 << (h & 63)) | (1 << ((h >> 6) & 63)) | (1 << ((h >> 12) & 63));
    (word, bits)
}

/// Whether `listed` holds `piece` as written or with its repeated letters written once
/// (`fuuuck`); `collapsed` and `runs` are buffers.
fn listed_stretched(
    listed: &FxHashSet<Box<str>>,
    piece: &str,
    collapsed: &mut String,
    runs: &mut Vec<u8>,
) -> bool {
    if listed.contains(piece) {
        return true;
    }
    collapse(piece, collapsed, runs);
    collapsed.len() < piece.len() && listed.contains(collapsed.as_str())
}

/// Collapses runs of the same character: `fuuuck` → `fuck` with runs `[1, 3, 1, 1]`.
fn collapse(key: &str, out: &mut String, runs: &mut Vec<u8>) {
    out.clear();
    runs.clear();
    collapse_into(key, out, runs);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(words: &[&str], allow: &[&str]) -> WordMatcher {
        let list = WordList {
            name: "test".into(),
            words: words.iter().map(|w| w.to_string()).collect(),
        };
        let allow: Vec<String> = allow.iter().map(|w| w.to_string()).collect();
        WordMatcher::new(&[list], &allow)
    }

    fn found(m: &WordMatcher, text: &str) -> Option<String> {
        m.find(&Normalized::new(text)).map(|h| h.word)
    }

    /// What `m` finds in `text` behind a screen of its own, as the engine runs it.
    fn found_screened(m: &WordMatcher, text: &str) -> Option<String> {
        let screen = WordScreen::new([m]);
        let n = Normalized::new(text);
        let mut screened = Screened::default();
        screen.mark(&n, &mut screened);
        m.find_screened(&n, &mut screened).map(|h| h.word)
    }

    #[test]
    fn wildcards_find_the_first_fitting_entry_of_the_whole_list() {
        let words = [
            "lick", "lock", "luck", "ick", "fuck", "feck", "fork", "lulz", "isle", "idle", "ilk",
            "slut", "smut", "bitch", "botch", "lain", "iain", "liar",
        ];
        let m = matcher(&words, &[]);
        let token = Normalized::new("x").tokens[0].clone();
        let mut keys = Vec::new();
        for word in words {
            for star in 1..word.len() {
                let mut key = word.to_string();
                key.replace_range(star..=star, "*");
                keys.push(key.clone());
                if key.starts_with(['i', 'l']) {
                    key.replace_range(0..1, "L");
                    keys.push(key);
                }
            }
        }
        for key in keys {
            // Every entry of the list, in order: what the wildcard index must agree with.
            let scanned = m.entries.iter().find(|e| wildcard_fits(&e.key, &key));
            let got = m.wildcard(token.span.clone(), &key).map(|h| h.word);
            assert_eq!(got, scanned.map(|e| e.word.to_string()), "{key}");
        }
    }

    #[test]
    fn a_wildcard_is_read_as_the_word_the_lists_spell_most_ways() {
        let rare = matcher(&["fagging"], &[]);
        let common = matcher(&["fucking", "fuking", "fuckin", "fucken"], &[]);
        let screen = WordScreen::new([&rare, &common]);
        for text in ["f***ing", "f@#$ing", "f##king", "what the f%&king hell"] {
            let n = Normalized::new(text);
            let mut screened = Screened::default();
            screen.mark(&n, &mut screened);
            assert_eq!(rare.find_screened(&n, &mut screened), None, "{text}");
            let hit = common.find_screened(&n, &mut screened);
            assert_eq!(hit.map(|h| h.word).as_deref(), Some("fucking"), "{text}");
        }
    }

    #[test]
    fn stars_after_a_word_and_long_star_runs_are_read() {
        let m = matcher(&["motherfucker", "nigger", "fuck"], &[]);
        let read = |text: &str| found_screened(&m, text);
        for (text, want) in [
            ("you little mother******", "motherfucker"),
            ("ni***ger", "nigger"),
        ] {
            assert_eq!(read(text).as_deref(), Some(want), "{text}");
        }
        // One star after a word marks a correction; stars after two letters or fewer are
        // not read.
        for text in ["mother*", "fu*", "f***", "mother** of pearl"] {
            assert_eq!(read(text), None, "{text}");
        }
    }

    #[test]
    fn a_phrase_with_a_gap_holds_up_to_four_words_there() {
        let m = matcher(&["i'll ... kill you", "someone should ... stab you"], &[]);
        let (kill, stab) = ("i'll ... kill you", "someone should ... stab you");
        for (text, want) in [
            ("i'll kill you", kill),
            ("i'll find you and kill you", kill),
            ("i'll find your address and kill you tonight", kill),
            ("honestly someone should just stab you", stab),
        ] {
            assert_eq!(found_screened(&m, text).as_deref(), Some(want), "{text}");
        }
        for text in [
            "kill you",
            "i'll never kill you",
            "i won't kill you",
            "i'll go to the shop and then kill you",
            "i'll\nkill you",
            "you'll kill you",
        ] {
            assert_eq!(found_screened(&m, text), None, "{text}");
        }
    }

    #[test]
    fn digits_after_a_word_are_read_with_it_and_without() {
        let m = matcher(&["nigger", "shit", "hell", "motherfucker", "cock"], &[]);
        for (text, want) in [
            ("nigger123", "nigger"),
            ("shit420", "shit"),
            ("he11", "hell"),
            ("motherfuker99", "motherfucker"),
        ] {
            assert_eq!(found_screened(&m, text).as_deref(), Some(want), "{text}");
        }
        for text in ["win10", "covid19", "h8", "sh 420", "c0ck4700"] {
            assert_eq!(found_screened(&m, text), None, "{text}");
        }
    }

    #[test]
    fn an_x_hides_a_letter_only_inside_a_word_that_is_no_word() {
        let masked = |text: &str| {
            let n = Normalized::new(text);
            masked_key(&n, &n.tokens[0])
        };
        assert_eq!(masked("bitxh").as_deref(), Some("bit*h"));
        assert_eq!(masked("SHXT").as_deref(), Some("sh*t"));
        // Ordinary words, an x at either end, two of them, too short or too long.
        for text in [
            "taxi",
            "boxing",
            "xbox",
            "sux",
            "fuxxk",
            "xoxo",
            "axe",
            "abcdefghijxkl",
        ] {
            assert_eq!(masked(text), None, "{text}");
        }
    }

    #[test]
    fn symbol_runs_holding_a_wildcard_hide_letters() {
        let read = |text: &str| {
            let n = Normalized::new(text);
            let token = &n.tokens[0];
            grawlix(n.key(token), token.symbols)
        };
        assert_eq!(read("f@#$ing").as_deref(), Some("f***ing"));
        assert_eq!(read("$#!t").as_deref(), Some("***t"));
        // Symbols read as letters, with no wildcard among them, stay letters.
        assert_eq!(read("a$$hole"), None);
        assert_eq!(read("sh!t"), None);
        assert_eq!(read("f*ck"), None);
    }

    #[test]
    fn catches_evasions() {
        let m = matcher(
            &[
                "fuck", "shit", "bastard", "blowjob", "spic", "coon", "nigger", "ass",
            ],
            &[],
        );
        let cases = [
            ("fuck", "fuck"),
            ("FUCK you", "fuck"),
            ("fuuuuuck", "fuck"),
            ("f u c k", "fuck"),
            ("f.u.c.k", "fuck"),
            ("well f-u-c-k that", "fuck"),
            ("5 . h . 1 . 7", "shit"),
            ("b_4_$_t_@_r_d", "bastard"),
            ("8 1 0 w j o 8", "blowjob"),
            ("kids one day? 5 p ! c", "spic"),
            ("c*on", "coon"),
            ("nigg*r", "nigger"),
            ("$hit!", "shit"),
            ("shit!", "shit"),
            ("fu\nck", "fuck"),
            ("a s s", "ass"),
            ("asssss", "ass"),
            ("f!u!c!k", "fuck"),
            ("s+h=i•t", "shit"),
            ("f🤡u🤡c🤡k", "fuck"),
            ("||**fuck**||", "fuck"),
        ];
        for (text, want) in cases {
            assert_eq!(found(&m, text).as_deref(), Some(want), "{text:?}");
        }
    }

    #[test]
    fn leaves_innocent_words_alone() {
        let m = matcher(&["ass", "cock", "tit", "spic", "coon", "shit", "hoe"], &[]);
        for text in [
            "assassin",
            "cocktail",
            "titanic",
            "allspice",
            "tycoons",
            "shiitake",
            "shitake",
            "Scunthorpe",
            "garden hoes",
            "the bass",
            "a class act",
            "as",
        ] {
            assert_eq!(found(&m, text), None, "{text:?}");
        }
        // `ass` needs both s's.
        let m = matcher(&["ass"], &[]);
        assert_eq!(found(&m, "as if"), None);
    }

    #[test]
    fn suffixes_extend_long_stems_only() {
        let m = matcher(&["cock", "hoe"], &[]);
        assert_eq!(found(&m, "cocks").as_deref(), Some("cock"));
        assert_eq!(found(&m, "hoes"), None);
    }

    #[test]
    fn phrases_match_across_tokens() {
        let m = matcher(&["porch monkey"], &[]);
        assert_eq!(
            found(&m, "you porch-monkey").as_deref(),
            Some("porch monkey")
        );
        assert_eq!(found(&m, "a monkey on the porch"), None);
    }

    #[test]
    fn allow_list_wins() {
        let m = matcher(&["bum", "crap"], &["bum"]);
        assert_eq!(found(&m, "lazy bum"), None);
        assert_eq!(found(&m, "crap").as_deref(), Some("crap"));
    }

    #[test]
    fn spans_point_at_the_original_text() {
        let m = matcher(&["fuck"], &[]);
        let text = "oh ｆｕｃｋ no";
        let hit = m.find(&Normalized::new(text)).expect("hit");
        assert_eq!(&text[hit.span.0..hit.span.1], "ｆｕｃｋ");
    }

    /// Pieces that exercise every path: listed words and phrases, stems with suffixes,
    /// leetspeak, wildcards, ambiguous `1`s, symbols at the ends, spelled letters, line
    /// breaks, and innocent words.
    const PIECES: [&str; 30] = [
        "fuck", "fvck", "fuuuuck", "cocks", "f*ck", "sh1t", "$hit", "shit!", "f", "u", "c", "k",
        " ", " ", "\n", ".", "go", "to", "hell", "cocktail", "assassin", "1", "hello", "ing",
        "he11", "|-|ell", "cocking", "fuckers!", "!!", "a$$",
    ];

    proptest::proptest! {
        #[test]
        fn the_screen_never_hides_a_match(picks in proptest::collection::vec(0..PIECES.len(), 0..24)) {
            let first = matcher(&["fuck", "shit", "cock", "go to hell"], &["shitake"]);
            let second = matcher(&["hell", "ass"], &[]);
            let screen = WordScreen::new([&first, &second]);
            let text: String = picks.iter().map(|&i| PIECES[i]).collect();
            let normalized = Normalized::new(&text);
            let mut screened = Screened::default();
            screen.mark(&normalized, &mut screened);
            // The screen knows every list, so it may find more (`hellfuck` joins a word of
            // each), never less.
            for m in [&first, &second] {
                let alone = m.find(&normalized);
                let found = m.find_screened(&normalized, &mut screened);
                proptest::prop_assert!(alone.is_none() || found.is_some(), "{:?}: {:?}", text, alone);
            }
        }
    }

    #[test]
    fn the_screen_rules_out_ordinary_words() {
        let m = matcher(&["fuck", "go to hell"], &[]);
        let screen = WordScreen::new([&m]);
        let mut screened = Screened::default();
        screen.mark(
            &Normalized::new("we go fishing, fucking $ure"),
            &mut screened,
        );
        // `go` starts a phrase, but not one that goes on with `fishing`.
        assert_eq!(screened.maybe, [false, false, false, true, false]);
        assert!(screened.open());
        screen.mark(&Normalized::new("we go to the beach"), &mut screened);
        assert_eq!(screened.maybe, [false, true, false, false, false]);
        screen.mark(&Normalized::new("hello there! 10 ways"), &mut screened);
        assert_eq!(screened.maybe, [false, false, false, false]);
        assert!(!screened.open());
    }
}
