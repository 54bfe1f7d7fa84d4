//! Listed words inside compounds: `fuckpig`, `assclown`, `bigtits`, `ieatass`.
//!
//! A token that is not itself an ordinary word is read as a compound when it splits into
//! pieces that are each a listed word, an ordinary word of three letters or more, or one of
//! a few short words (`i`, `my`, `ur`), with at least one listed piece. `Scunthorpe` does not
//! split that way (`s` is no piece), `cocktail` or `assassin` are ordinary words, read as
//! themselves, and `penistone` splits into ordinary words alone (`pen`, `is`, `tone`), so it
//! is read as those, unless the listed word is itself ordinary words run together
//! (`towelhead`), listed as a whole. A token with the ending of an English place name is
//! read as a name (`Shitterton`).

use std::borrow::Cow;

use aho_corasick::{AhoCorasick, AhoCorasickKind, MatchKind};

use crate::engine::detect::trigrams::Trigrams;
use crate::engine::dictionary;
use crate::engine::normalize::I_OR_L;

/// Short words a compound may hold besides listed and dictionary words of three letters,
/// and the `xx` that decorates names (`xXfaggotXx`). `a` and `u` are left out: too many
/// words start with them (`afking` is no `a fking`).
const SHORT_PIECES: [&str; 17] = [
    "i", "my", "ur", "ya", "yo", "me", "im", "in", "on", "of", "to", "go", "no", "so", "up", "ma",
    "xx",
];
/// More short words, which may run together with ordinary words (`penistone` is `pen`,
/// `is`, `tone`) but are too easily found inside longer words to count next to a listed
/// one (`clit`, `he`, `roe`).
const SHORT_ORDINARY: [&str; 14] = [
    "a", "u", "is", "as", "at", "it", "an", "or", "be", "we", "he", "us", "by", "do",
];
/// Endings of English place names: a token ending in one is read as a name (`Shitterton`,
/// `Cockermouth`, `Penistone`), not a compound.
const PLACE_ENDINGS: [&str; 28] = [
    "ton", "ham", "ford", "burn", "mouth", "thorpe", "field", "ley", "wick", "well", "worth",
    "stone", "bury", "borough", "chester", "shire", "dale", "wood", "hurst", "stead", "combe",
    "don", "minster", "bridge", "caster", "cester", "by", "sex",
];

/// Shortest listed word found inside a compound.
const MIN_PIECE: usize = 3;
/// Shortest token read as a compound, in bytes: two pieces of three letters.
pub const MIN_COMPOUND: usize = 6;
/// Longest token read as a compound.
const MAX_COMPOUND: usize = 40;

/// The listed words that compounds are searched for, with the entry each stands for.
#[derive(Clone, Debug, Default)]
pub struct Compounds {
    pieces: Option<AhoCorasick>,
    entries: Vec<u32>,
    /// The listed word of each piece, in the automaton's order.
    words: Vec<Box<str>>,
    /// The first three letters of every listed word, a bit each: a token none of whose
    /// three-letter windows starts one holds none, and skips the automaton.
    starts: Trigrams,
}

impl Compounds {
    /// Listed words `(entry, key)` of [`MIN_PIECE`] plain letters or more; others are left out.
    pub fn new<'a>(keys: impl IntoIterator<Item = (u32, &'a str)>) -> Self {
        let (entries, patterns): (Vec<u32>, Vec<&str>) = keys
            .into_iter()
            .filter(|(_, key)| {
                key.len() >= MIN_PIECE && key.bytes().all(|b| b.is_ascii_lowercase())
            })
            .unzip();
        // A DFA: every long token of every message is run through it.
        let pieces = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .build(&patterns)
            .ok()
            .filter(|_| !patterns.is_empty());
        let mut starts = Trigrams::default();
        for key in &patterns {
            starts.insert(key.as_bytes());
        }
        Compounds {
            pieces,
            entries,
            words: patterns.into_iter().map(Box::from).collect(),
            starts,
        }
    }

    /// Whether `key` holds some listed word: worth reading as a compound.
    pub fn may_hold(&self, key: &str) -> bool {
        let starts_one = key
            .as_bytes()
            .windows(MIN_PIECE)
            .any(|w| self.starts.contains(w));
        starts_one && self.pieces.as_ref().is_some_and(|ac| ac.is_match(key))
    }

    /// The entry of the first listed piece of compound `key`, where the rest splits into
    /// pieces too; `is_listed` says whether another piece is listed. An ordinary word is
    /// no compound.
    pub fn find(&self, key: &str, is_listed: &mut dyn FnMut(&str) -> bool) -> Option<u32> {
        let mut found = None;
        self.each_reading(key, is_listed, &mut |piece| {
            found = self.entries.get(piece).copied();
            true
        });
        found
    }

    /// Every listed word compound `key` may be read as holding, first found first, each
    /// once: a screen reads a token once and hands the words to every rule.
    pub fn find_words(
        &self,
        key: &str,
        is_listed: &mut dyn FnMut(&str) -> bool,
        out: &mut Vec<Box<str>>,
    ) {
        self.each_reading(key, is_listed, &mut |piece| {
            if let Some(word) = self.words.get(piece)
                && !out.contains(word)
            {
                out.push(word.clone());
            }
            false
        });
    }

    /// Calls `found` with each listed piece (by its index) of the readings of `key` as a
    /// compound, until it returns `true`.
    fn each_reading(
        &self,
        key: &str,
        is_listed: &mut dyn FnMut(&str) -> bool,
        found: &mut dyn FnMut(usize) -> bool,
    ) {
        let Some(ac) = self.pieces.as_ref() else {
            return;
        };
        if dictionary::is_word(key) || PLACE_ENDINGS.iter().any(|e| key.ends_with(e)) {
            return;
        }
        let ordinary = fewest_pieces(key, true, &mut |_| false);
        for m in ac.find_overlapping_iter(key) {
            let (before, after) = (&key[..m.start()], &key[m.end()..]);
            if before.is_empty() && after.is_empty() {
                continue; // the whole token: a listed word, read as one elsewhere
            }
            let Some(before) = fewest_pieces(before, false, is_listed) else {
                continue;
            };
            let Some(after) = fewest_pieces(after, false, is_listed) else {
                continue;
            };
            // Ordinary words run together (`pen`, `is`, `tone`) are read as those, unless
            // the listed word is itself such a run (`towel` `head`), listed all the same,
            // or the listed reading takes fewer words (`whore` `face`, not `who` `ref`
            // `ace`; `ass` `nigger`, not `as` `snigger`).
            let fewer = ordinary.is_none_or(|cost| WORD + before + after < cost);
            if (fewer || runs_together(&key[m.range()])) && found(m.pattern().as_usize()) {
                return;
            }
        }
    }
}

/// Token key `key` when it may be a compound: letters only once leetspeak is read
/// (`@ssclown`, with an ambiguous `1` read as `i`), and long enough. Whether it is an
/// ordinary word is left to [`Compounds::find`], which is reached far less often.
pub fn candidate(key: &str) -> Option<Cow<'_, str>> {
    if !(MIN_COMPOUND..=MAX_COMPOUND).contains(&key.len()) {
        return None;
    }
    let key = if key.contains(I_OR_L) {
        Cow::Owned(key.replace(I_OR_L, "i"))
    } else {
        Cow::Borrowed(key)
    };
    key.bytes().all(|b| b.is_ascii_lowercase()).then_some(key)
}

/// Whether `word` is ordinary words of three letters or more run together (`towelhead`).
fn runs_together(word: &str) -> bool {
    (MIN_PIECE..=word.len().saturating_sub(MIN_PIECE)).any(|at| {
        word.is_char_boundary(at)
            && dictionary::is_word(&word[..at])
            && (dictionary::is_word(&word[at..]) || runs_together(&word[at..]))
    })
}

/// What a piece costs in [`fewest_pieces`]: a word is two, and a short word of
/// [`SHORT_ORDINARY`] three, so that of two readings in as many words the one that leans on
/// `as` or `is` loses (`as snigger` against `ass nigger`).
const WORD: usize = 2;
const SHORT_WORD: usize = 3;

/// The least cost of the pieces `text` splits into (listed words, ordinary words of three
/// letters or more, short words, and with `ordinary` the short words of
/// [`SHORT_ORDINARY`]), if it splits at all; the empty text costs nothing.
fn fewest_pieces(
    text: &str,
    ordinary: bool,
    is_listed: &mut dyn FnMut(&str) -> bool,
) -> Option<usize> {
    let len = text.len();
    if len > MAX_COMPOUND {
        return None;
    }
    let mut fewest: [Option<usize>; MAX_COMPOUND + 1] = [None; MAX_COMPOUND + 1];
    fewest[0] = Some(0);
    for end in 1..=len {
        for start in 0..end {
            let Some(before) = fewest[start] else {
                continue;
            };
            if fewest[end].is_some_and(|best| best <= before + WORD) {
                continue;
            }
            let piece = &text[start..end];
            let cost = if SHORT_PIECES.contains(&piece)
                || (piece.len() >= MIN_PIECE && (dictionary::is_word(piece) || is_listed(piece)))
            {
                WORD
            } else if ordinary && SHORT_ORDINARY.contains(&piece) {
                SHORT_WORD
            } else {
                continue;
            };
            if fewest[end].is_none_or(|best| before + cost < best) {
                fewest[end] = Some(before + cost);
            }
        }
    }
    fewest[len]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::normalize::Normalized;

    fn compounds() -> Compounds {
        Compounds::new([
            (0, "fuck"),
            (1, "ass"),
            (2, "tits"),
            (3, "cunt"),
            (4, "pig"),
            (5, "fucker"),
            (6, "shitter"),
            (7, "cock"),
            (8, "whore"),
            (9, "nigger"),
        ])
    }

    fn found(text: &str) -> Option<u32> {
        let n = Normalized::new(text);
        let key = candidate(n.key(&n.tokens[0]))?;
        compounds().find(&key, &mut |p| {
            [
                "fuck", "ass", "tits", "cunt", "fucker", "shitter", "cock", "whore", "nigger",
            ]
            .contains(&p)
        })
    }

    #[test]
    fn listed_words_inside_compounds_are_found() {
        for (text, want) in [
            ("fuckpig", 0),
            ("assclown", 1),
            ("bigtits", 2),
            ("ieatass", 1),
            ("cuntfucker", 3),
            ("suckmyass", 1),
            // Also ordinary words run together (`who` `ref` `ace`), in more of them.
            ("whoreface", 8),
            // As many words as ordinary ones that lean on a short word (`as` `snigger`).
            ("assnigger", 1),
            ("xxcuntxx", 3),
        ] {
            assert_eq!(found(text), Some(want), "{text}");
        }
    }

    #[test]
    fn ordinary_words_and_partial_pieces_are_not_compounds() {
        for text in [
            "Scunthorpe",
            "cocktail",
            "assassin",
            "classroom",
            "passcode",
            "bassline",
            "titanic",
            "cunts",
            "assignment",
            "penistone",
            "tonightisfun",
            "clitheroe",
            "shitterton",
            "cockermouth",
        ] {
            assert_eq!(found(text), None, "{text}");
        }
    }
}
