//! Text canonicalization against evasion.
//!
//! Two foldings are applied to every character:
//! - the *display* fold removes what hides a word (case, zero-width and other format
//!   characters, combining marks, fullwidth and mathematical letters, small caps, circled
//!   letters, Cyrillic and Greek look-alikes), giving text a moderator can still read;
//! - the *key* fold additionally maps leetspeak (`4`→a, `3`→e, `1`/`!`/`l`→i, `0`→o,
//!   `$`/`5`→s, `7`/`+`→t …) so that `w@nk3r` and `wanker` compare equal.
//!
//! The text is then cut into tokens that remember their byte range in the original, so a
//! match can always be shown as the member wrote it.

use std::ops::Range;

use crate::engine::markup;

/// One word of a message after folding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// Byte range in the original text.
    pub span: Range<usize>,
    /// Range of this token's key in [`Normalized::keys`].
    pub key: Range<usize>,
    /// Range of this token in [`Normalized::text`]: its letters as a reader sees them,
    /// one character for each of the key's.
    pub display: Range<usize>,
    /// Whether a line break separates this token from the one before it.
    pub newline_before: bool,
    /// How many leading key bytes come from symbols (`$hit`), which may be punctuation.
    pub symbol_head: u8,
    /// How many trailing key bytes come from symbols (`fuck!`).
    pub symbol_tail: u8,
    /// How many trailing key bytes come from digits after two letters or more
    /// (`nigger123`, `shit420`): a number after a word, or leetspeak (`he11`).
    pub digit_tail: u8,
    /// Whether the key holds a `*` anywhere (`f*ck`, `*ss`).
    pub star: bool,
    /// Which of the key's first 32 characters come from symbols, a bit each: `s+h` is
    /// `0b010`. Letters that symbols keep apart (`f!u!c!k`) may be spelled out.
    pub symbols: u32,
    /// The key's [`Shape`]: what the word screen and near-duplicate detection compare.
    pub shape: u64,
}

/// A message cut into tokens, with its display-folded text.
#[derive(Clone, Debug, Default)]
pub struct Normalized {
    /// Display-folded text: lowercase, evasion characters removed, whitespace collapsed.
    pub text: String,
    /// All token keys, back to back; each token points into it.
    pub keys: String,
    pub tokens: Vec<Token>,
    /// Counts over the original text, taken in the same pass.
    pub counts: CharCounts,
    /// Non-ASCII characters folded recently.
    cache: FoldCache,
    /// The message with its markup blanked, when it has some.
    masked: String,
}

/// What the rules count in a message's original text. Normalization reads every character
/// anyway and knows the non-ASCII ones from its cache, so it counts them too.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CharCounts {
    pub chars: u32,
    pub newlines: u32,
    /// Alphabetic characters, and of those the uppercase ones.
    pub letters: u32,
    pub capitals: u32,
    /// Unicode emoji (custom Discord emoji are markup, counted by the caller).
    pub emoji: u32,
    pub at_signs: u32,
    pub angle_brackets: u32,
    /// Full stops: a text without one holds no link.
    pub dots: u32,
}

impl CharCounts {
    /// Counts an ASCII text. Byte counters over chunks of up to 255 bytes let the loop
    /// count 16 bytes at a step.
    fn of_ascii(bytes: &[u8]) -> Self {
        let mut counts = CharCounts {
            chars: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            ..CharCounts::default()
        };
        for chunk in bytes.chunks(255) {
            let mut chunk_counts = [0u8; ASCII_COUNTS];
            for &b in chunk {
                for (count, mark) in chunk_counts.iter_mut().zip(ascii_marks(b)) {
                    *count += mark;
                }
            }
            counts.add_ascii_counts(chunk_counts.map(u32::from));
        }
        counts
    }

    #[inline(always)]
    fn add_ascii(&mut self, b: u8) {
        self.chars = self.chars.saturating_add(1);
        self.add_ascii_counts(ascii_marks(b).map(u32::from));
    }

    /// Adds counts in the order [`ascii_marks`] gives them.
    #[inline(always)]
    fn add_ascii_counts(&mut self, counts: [u32; ASCII_COUNTS]) {
        let [newlines, letters, capitals, at_signs, angle_brackets, dots] = counts;
        self.newlines += newlines;
        self.letters += letters;
        self.capitals += capitals;
        self.at_signs += at_signs;
        self.angle_brackets += angle_brackets;
        self.dots += dots;
    }

    fn add(&mut self, kind: CharKind) {
        self.chars = self.chars.saturating_add(1);
        self.letters += u32::from(kind.letter);
        self.capitals += u32::from(kind.capital);
        self.emoji += u32::from(kind.emoji);
    }
}

/// How many of [`CharCounts`]'s counters an ASCII byte can add to.
const ASCII_COUNTS: usize = 6;

/// What an ASCII byte adds to: a line break, a letter, a capital, `@`, `<`, a full stop.
#[inline(always)]
fn ascii_marks(b: u8) -> [u8; ASCII_COUNTS] {
    [
        u8::from(b == b'\n'),
        u8::from(b.is_ascii_alphabetic()),
        u8::from(b.is_ascii_uppercase()),
        u8::from(b == b'@'),
        u8::from(b == b'<'),
        u8::from(b == b'.'),
    ]
}

/// What [`CharCounts`] learns from one non-ASCII character.
#[derive(Clone, Copy, Debug, Default)]
struct CharKind {
    letter: bool,
    capital: bool,
    emoji: bool,
}

impl CharKind {
    fn of(c: char) -> Self {
        let letter = c.is_alphabetic();
        CharKind {
            letter,
            capital: letter && c.is_uppercase(),
            emoji: !letter && is_emoji(c),
        }
    }
}

/// Unicode pictographs and symbols used as emoji.
fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// What role a folded character plays in a word.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Class {
    /// A letter or digit: always part of a word.
    Word,
    /// A symbol that may stand for a letter (`@`, `$`, `!`, `|`, `+`) or a wildcard (`*`).
    Symbol,
    /// Whitespace or punctuation between words.
    Separator,
    Newline,
}

impl Class {
    /// Whether the character belongs to a token.
    fn in_word(self) -> bool {
        matches!(self, Class::Word | Class::Symbol)
    }
}

impl Normalized {
    /// Normalizes `input`, reusing this value's buffers.
    pub fn fill(&mut self, input: &str) {
        self.text.clear();
        self.keys.clear();
        self.tokens.clear();
        let mut masked = std::mem::take(&mut self.masked);
        let input = if markup::may_hold_markup(input) {
            markup::mask(input, &mut masked);
            masked.as_str()
        } else {
            input
        };
        if input.is_ascii() {
            self.fill_ascii(input);
        } else {
            self.fill_chars(input);
        }
        self.masked = masked;
    }

    /// [`Normalized::fill`] for any text, a character at a time.
    fn fill_chars(&mut self, input: &str) {
        self.counts = CharCounts::default();
        let mut builder = TokenBuilder::default();
        let mut folded = String::new();
        // Whether the last characters were a lowercase letter and capital `I`s after it
        // (`heII`, `sIut`), as no capital word is.
        let mut after_lowercase = false;
        for (offset, c) in input.char_indices() {
            if c.is_ascii() {
                // Most text is ASCII: one table lookup folds, classifies and keys it.
                self.counts.add_ascii(c as u8);
                let mut fold = ASCII[usize::from(c as u8)].fold();
                if c == 'I' && after_lowercase {
                    fold.key = I_OR_L; // a capital `I` among lowercase letters may be an `l`
                }
                after_lowercase = c.is_ascii_lowercase() || (c == 'I' && after_lowercase);
                self.push_folded(&mut builder, offset..offset + 1, fold);
            } else if let Some(cached) = self.cache.get(c) {
                after_lowercase = false;
                self.counts.add(cached.kind);
                for &fold in cached.folds() {
                    self.push_folded(&mut builder, offset..offset + c.len_utf8(), fold);
                }
            } else {
                after_lowercase = false;
                let kind = CharKind::of(c);
                self.counts.add(kind);
                folded.clear();
                fold_display(c, &mut folded);
                for f in folded.chars() {
                    let fold = Fold::of(f);
                    self.push_folded(&mut builder, offset..offset + c.len_utf8(), fold);
                }
                self.cache.put(c, &folded, kind);
            }
        }
        builder.close(self);
        self.finish_text();
    }

    /// [`Normalized::fill`] for ASCII text, a token at a time: most messages are ASCII.
    fn fill_ascii(&mut self, input: &str) {
        self.counts = CharCounts::of_ascii(input.as_bytes());
        let mut newline_pending = false;
        let mut at = 0;
        while let Some(&b) = input.as_bytes().get(at) {
            let fold = ASCII[usize::from(b)];
            if fold.class.in_word() {
                at = self.ascii_token(input, at, newline_pending);
                newline_pending = false;
            } else {
                self.push_separator(char::from(fold.display));
                newline_pending |= fold.class == Class::Newline;
                at += 1;
            }
        }
        self.finish_text();
    }

    /// Reads the token of ASCII `input` that starts at `start`; returns where it ends.
    fn ascii_token(&mut self, input: &str, start: usize, newline_before: bool) -> usize {
        let key_start = self.keys.len();
        let display_start = self.text.len();
        let mut marks = TokenMarks::default();
        let mut end = start;
        let mut after_lowercase = false;
        for &b in input.as_bytes().get(start..).unwrap_or_default() {
            let fold = ASCII[usize::from(b)];
            if !fold.class.in_word() {
                break;
            }
            let key = if b == b'I' && after_lowercase {
                I_OR_L // a capital `I` among lowercase letters may be an `l` (`heII`, `sIut`)
            } else {
                char::from(fold.key)
            };
            after_lowercase = b.is_ascii_lowercase() || (b == b'I' && after_lowercase);
            self.text.push(char::from(fold.display));
            self.keys.push(key);
            marks.add(key, fold.class == Class::Symbol, b.is_ascii_digit());
            end += 1;
        }
        let ranges = (key_start..self.keys.len(), display_start..self.text.len());
        let token = marks.token(start..end, ranges, newline_before);
        self.tokens.push(token);
        end
    }

    /// Adds a separator's display text: punctuation as it is, whitespace as one space.
    fn push_separator(&mut self, display: char) {
        if display != ' ' {
            self.text.push(display);
        } else if !self.text.is_empty() && !self.text.ends_with(' ') {
            self.text.push(' ');
        }
    }

    fn finish_text(&mut self) {
        if self.text.ends_with(' ') {
            self.text.pop();
        }
    }

    /// Normalizes `input` into a new value.
    pub fn new(input: &str) -> Self {
        let mut n = Normalized::default();
        n.fill(input);
        n
    }

    /// The key of token `i`.
    pub fn key(&self, token: &Token) -> &str {
        &self.keys[token.key.clone()]
    }

    /// How many letters punctuation alone hides between tokens `i` and `i + 1` (`f.ck`,
    /// `sh-t`, `f--k`, `f'ck`): the length of the run of `-`, `_`, `.` or apostrophes
    /// that joins them, up to three; `None` when anything else, a space included, is there.
    pub fn hidden_between(&self, i: usize) -> Option<usize> {
        let (first, second) = (self.tokens.get(i)?, self.tokens.get(i + 1)?);
        // Most tokens are apart by a space: one byte says so.
        let opens = *self.text.as_bytes().get(first.display.end)?;
        if !matches!(opens, b'-' | b'_' | b'.' | b'\'' | 0xE2) {
            return None;
        }
        let gap = self.text.get(first.display.end..second.display.start)?;
        let hides = |c: char| matches!(c, '-' | '_' | '.' | '\'' | '\u{2019}');
        let hidden = gap.chars().count();
        ((1..=3).contains(&hidden) && gap.chars().all(hides)).then_some(hidden)
    }

    /// Token `i` as a reader sees it (display-folded, leetspeak kept).
    pub fn display(&self, token: &Token) -> &str {
        self.text.get(token.display.clone()).unwrap_or_default()
    }

    /// Adds one display-folded character that came from `span` of the original.
    #[inline(always)]
    fn push_folded(&mut self, builder: &mut TokenBuilder, span: Range<usize>, fold: Fold) {
        match fold.class {
            Class::Separator | Class::Newline => {
                builder.close(self);
                self.push_separator(fold.display);
                builder.newline_pending |= fold.class == Class::Newline;
            }
            Class::Word | Class::Symbol => {
                builder.push(self, span, fold);
                self.text.push(fold.display);
            }
        }
    }
}

/// What a display-folded character becomes: its text, its class and its key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Fold {
    /// Lowercase, with whitespace as a plain space.
    display: char,
    class: Class,
    key: char,
}

impl Fold {
    fn of(c: char) -> Fold {
        let lower = c.to_ascii_lowercase();
        let display = if lower.is_whitespace() { ' ' } else { lower };
        Fold {
            display,
            class: classify(lower),
            key: key_char(lower),
        }
    }
}

/// [`Fold`] for an ASCII character, in bytes: a third of the size, for the loops that
/// read ASCII text.
#[derive(Clone, Copy)]
struct AsciiFold {
    display: u8,
    key: u8,
    class: Class,
}

impl AsciiFold {
    /// [`Fold::of`] for an ASCII character, usable in constants.
    const fn of(b: u8) -> AsciiFold {
        let lower = b.to_ascii_lowercase();
        // `char::is_whitespace` on ASCII: also the vertical tab, which
        // `is_ascii_whitespace` leaves out.
        let white = matches!(lower, b'\t' | b'\n' | 0x0B | 0x0C | b'\r' | b' ');
        let class = match lower {
            b'\n' | b'\r' => Class::Newline,
            b if is_symbol(b as char) => Class::Symbol,
            c if c.is_ascii_alphanumeric() => Class::Word,
            _ => Class::Separator,
        };
        AsciiFold {
            display: if white { b' ' } else { lower },
            key: key_char(lower as char) as u8,
            class,
        }
    }

    fn fold(self) -> Fold {
        Fold {
            display: char::from(self.display),
            class: self.class,
            key: char::from(self.key),
        }
    }
}

/// [`AsciiFold::of`] for every ASCII character.
const ASCII: [AsciiFold; 128] = {
    let mut table = [AsciiFold {
        display: b' ',
        key: b' ',
        class: Class::Separator,
    }; 128];
    let mut i = 0;
    while i < 128 {
        table[i] = AsciiFold::of(i as u8);
        i += 1;
    }
    table
};

/// Recently folded non-ASCII characters, in 256 slots chosen by the character. Chat
/// repeats the same few (accents, emoji, one script's letters), and a lookup here costs
/// far less than the confusables table and Unicode property lookups behind a fold.
#[derive(Clone, Debug, Default)]
struct FoldCache {
    slots: Vec<CachedFold>,
}

/// A character and what it folds to (at most [`CachedFold::MAX`] characters).
#[derive(Clone, Copy, Debug)]
struct CachedFold {
    from: char,
    kind: CharKind,
    len: u8,
    folds: [Fold; CachedFold::MAX],
}

impl CachedFold {
    const MAX: usize = 3;

    fn folds(&self) -> &[Fold] {
        &self.folds[..usize::from(self.len)]
    }
}

impl FoldCache {
    const SLOTS: usize = 256;

    fn slot(c: char) -> usize {
        ((u32::from(c) as usize).wrapping_mul(0x9E37_79B9) >> 8) & (Self::SLOTS - 1)
    }

    /// What `c` folds to, if it was folded recently.
    fn get(&self, c: char) -> Option<CachedFold> {
        self.slots
            .get(Self::slot(c))
            .filter(|hit| hit.from == c)
            .copied()
    }

    /// Remembers that `c` folds to `folded`, unless that is too long to keep.
    fn put(&mut self, c: char, folded: &str, kind: CharKind) {
        let blank = Fold::of(' ');
        let mut entry = CachedFold {
            from: c,
            kind,
            len: 0,
            folds: [blank; CachedFold::MAX],
        };
        for f in folded.chars() {
            let Some(out) = entry.folds.get_mut(usize::from(entry.len)) else {
                return;
            };
            *out = Fold::of(f);
            entry.len += 1;
        }
        if self.slots.is_empty() {
            let empty = CachedFold {
                from: '\0',
                ..entry
            };
            self.slots = vec![empty; Self::SLOTS];
        }
        self.slots[Self::slot(c)] = entry;
    }
}

/// What a token learns about itself as its characters are read: symbols at its edges, a
/// wildcard, and its shape. Both readings (ASCII and any text) keep one.
#[derive(Clone, Copy, Default)]
struct TokenMarks {
    shape: Shape,
    symbol_head: u8,
    /// Symbols seen since the last word character.
    trailing_symbols: u8,
    /// Digits seen since the last other character.
    trailing_digits: u8,
    seen_word: bool,
    star: bool,
    symbols: u32,
    chars: u8,
}

impl TokenMarks {
    #[inline(always)]
    fn add(&mut self, key: char, symbol: bool, digit: bool) {
        self.shape.add(key);
        self.trailing_digits = if digit {
            self.trailing_digits.saturating_add(1)
        } else {
            0
        };
        if symbol && self.chars < 32 {
            self.symbols |= 1 << self.chars;
        }
        self.chars = self.chars.saturating_add(1);
        if symbol {
            self.trailing_symbols = self.trailing_symbols.saturating_add(1);
            self.symbol_head = self.symbol_head.saturating_add(u8::from(!self.seen_word));
            self.star |= key == '*';
        } else {
            self.seen_word = true;
            self.trailing_symbols = 0;
        }
    }

    /// The token read so far; `ranges` are its key's and its display text's.
    fn token(
        &self,
        span: Range<usize>,
        (key, display): (Range<usize>, Range<usize>),
        newline_before: bool,
    ) -> Token {
        Token {
            span,
            key,
            display,
            newline_before,
            symbol_head: self.symbol_head,
            digit_tail: if self.chars.saturating_sub(self.trailing_digits) >= 2 {
                self.trailing_digits
            } else {
                0
            },
            symbol_tail: if self.seen_word {
                self.trailing_symbols
            } else {
                0
            },
            star: self.star,
            symbols: self.symbols,
            shape: self.shape.hash(),
        }
    }
}

/// Accumulates the token being read, a character at a time.
#[derive(Default)]
struct TokenBuilder {
    open: bool,
    span: Range<usize>,
    key_start: usize,
    display_start: usize,
    newline_before: bool,
    newline_pending: bool,
    marks: TokenMarks,
}

impl TokenBuilder {
    #[inline(always)]
    fn push(&mut self, out: &mut Normalized, span: Range<usize>, fold: Fold) {
        if !self.open {
            *self = TokenBuilder {
                open: true,
                span: span.start..span.start,
                key_start: out.keys.len(),
                display_start: out.text.len(),
                newline_before: self.newline_pending,
                ..TokenBuilder::default()
            };
        }
        self.span.end = span.end;
        out.keys.push(fold.key);
        let digit = fold.display.is_ascii_digit();
        self.marks.add(fold.key, fold.class == Class::Symbol, digit);
    }

    fn close(&mut self, out: &mut Normalized) {
        if !self.open {
            return;
        }
        self.open = false;
        let ranges = (
            self.key_start..out.keys.len(),
            self.display_start..out.text.len(),
        );
        let token = self
            .marks
            .token(self.span.clone(), ranges, self.newline_before);
        out.tokens.push(token);
    }
}

/// A hash of a key as a reader sees it: `i`, `l` and the ambiguous `1` as one letter, and
/// each run of a letter once. `fuuuck` and `fuck`, or `he11` and `hell`, have one shape.
/// Built a key character at a time.
#[derive(Clone, Copy, Debug)]
pub struct Shape {
    hash: u64,
    last: char,
}

impl Default for Shape {
    fn default() -> Self {
        Shape {
            hash: 0xCBF2_9CE4_8422_2325,
            last: '\0',
        }
    }
}

impl Shape {
    /// The shape of a whole key.
    pub fn of(key: &str) -> u64 {
        let mut shape = Shape::default();
        key.chars().for_each(|c| shape.add(c));
        shape.hash()
    }

    /// Adds the next key character.
    #[inline]
    pub fn add(&mut self, c: char) {
        let c = match c {
            'i' | 'l' => I_OR_L,
            c => c,
        };
        if c != self.last {
            self.hash = (self.hash ^ u64::from(u32::from(c))).wrapping_mul(0x0100_0000_01B3);
            self.last = c;
        }
    }

    /// The hash of the characters added so far.
    pub fn hash(&self) -> u64 {
        self.hash
    }
}

/// Appends `key` with runs of the same character collapsed (`fuuuck` → `fuck`) to `out`,
/// and the run lengths (`[1, 3, 1, 1]`) to `runs`.
pub fn collapse_into(key: &str, out: &mut String, runs: &mut Vec<u8>) {
    if key.is_ascii() {
        collapse_ascii(key.as_bytes(), out, runs);
        return;
    }
    let mut last = None;
    let first_run = runs.len();
    for c in key.chars() {
        if Some(c) == last && runs.len() > first_run {
            if let Some(r) = runs.last_mut() {
                *r = r.saturating_add(1);
            }
        } else {
            out.push(c);
            runs.push(1);
            last = Some(c);
        }
    }
}

/// [`collapse_into`] for ASCII keys, byte by byte.
fn collapse_ascii(key: &[u8], out: &mut String, runs: &mut Vec<u8>) {
    let mut last = None;
    for &b in key {
        if Some(b) == last
            && let Some(r) = runs.last_mut()
        {
            *r = r.saturating_add(1);
        } else {
            out.push(char::from(b));
            runs.push(1);
            last = Some(b);
        }
    }
}

fn classify(c: char) -> Class {
    match c {
        '\n' | '\r' => Class::Newline,
        c if is_symbol(c) => Class::Symbol,
        c if c.is_alphanumeric() => Class::Word,
        _ => Class::Separator,
    }
}

/// Stands for `1` or `|` in a key: either an `i` or an `l`; matching tries both.
pub const I_OR_L: char = 'L';

/// Maps a display-folded character to its key: leetspeak digits and symbols become the
/// letters they stand for (`v` reads as `u`, as in `fvck`; `<` as `c`, as in `fu<k`); `1`
/// and `|` become [`I_OR_L`]; symbols that hide a letter become the wildcard `*`.
pub const fn key_char(c: char) -> char {
    match c {
        '4' | '@' => 'a',
        '8' => 'b',
        '3' => 'e',
        '9' => 'g',
        '1' | '|' => I_OR_L,
        '!' => 'i',
        'v' => 'u',
        '0' => 'o',
        '5' | '$' => 's',
        '7' | '+' => 't',
        '<' => 'c',
        // Characters that hide a letter, as a star does (`f#ck`, `c^nt`, `f&%k`).
        '#' | '^' | '%' | '&' => '*',
        c => match symbol_letter(c) {
            Some(letter) => letter,
            None => c,
        },
    }
}

/// Whether `c` is a symbol that may stand for a letter or hide one (`$hit`, `f*ck`, `f#ck`,
/// `fu<k`, `sh¡t`), or may only separate letters: both readings are tried.
const fn is_symbol(c: char) -> bool {
    matches!(
        c,
        '@' | '$' | '!' | '|' | '+' | '*' | '#' | '^' | '%' | '&' | '<'
    ) || symbol_letter(c).is_some()
}

/// The letter a non-ASCII symbol is written for, where members write it so (`sh¡t`, `p§§y`,
/// `†wat`, `fu⊂k`, `se×`, `wh°re`): read as that letter, or as a separator, like `$` and `!`.
const fn symbol_letter(c: char) -> Option<char> {
    Some(match c {
        '§' => 's',
        '¡' => 'i',
        '†' | '‡' => 't',
        '⊂' | '©' | '⊆' => 'c',
        '°' | 'º' => 'o',
        '×' => 'x',
        '∂' => 'd',
        '∩' => 'n',
        '∪' => 'u',
        '¶' => 'p',
        'ℓ' => 'l',
        _ => return None,
    })
}

/// Characters that hide between letters and carry nothing a reader sees.
fn is_invisible(c: char) -> bool {
    matches!(c as u32,
        0x00AD | 0x034F | 0x061C | 0x115F | 0x1160 | 0x17B4 | 0x17B5 | 0x180B..=0x180F
        | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x206F | 0x3164 | 0xFE00..=0xFE0F
        | 0xFEFF | 0xFFA0 | 0x1D173..=0x1D17A | 0xE0000..=0xE0FFF)
}

/// Whether a non-ASCII character is, or is drawn as, a letter or digit: letters of any
/// script (look-alikes included), and the symbol blocks that hold letters (enclosed,
/// parenthesized, squared and regional-indicator letters, letterlike symbols, currency
/// signs read as letters such as `€` and `¢`).
fn is_letterlike(c: char) -> bool {
    c.is_alphanumeric()
        || matches!(c as u32,
            0xA2..=0xA5 | 0x2100..=0x214F | 0x20A0..=0x20CF | 0x2460..=0x24FF
            | 0x1F100..=0x1F1FF)
}

/// Display-folds one non-ASCII character into `out` (nothing for invisible characters).
pub fn fold_display(c: char, out: &mut String) {
    if c.is_ascii() {
        out.push(c.to_ascii_lowercase());
        return;
    }
    if is_invisible(c) {
        return;
    }
    if symbol_letter(c).is_some() {
        out.push(c);
        return;
    }
    let cured = decancer::cure_char(c, decancer::Options::default());
    // A letter whose look-alike is punctuation (`爫` cures to three backticks) stays itself:
    // read as the punctuation, it would become markup a second reading removes.
    let to_letters = match &cured {
        decancer::Translation::Character(f) => f.is_alphanumeric(),
        decancer::Translation::String(s) => s.chars().all(char::is_alphanumeric),
        decancer::Translation::None => true,
    };
    if !is_letterlike(c) || !to_letters {
        // Emoji, dingbats and punctuation separate letters (`f🤡u🤡c🤡k`, `c•u★n★t`);
        // read as the letters they resemble, they would hide the word instead.
        if !matches!(cured, decancer::Translation::None) {
            out.push(c);
        }
        return;
    }
    match cured {
        decancer::Translation::Character(f) => {
            if f.is_ascii() {
                out.push(f.to_ascii_lowercase());
            } else {
                out.extend(f.to_lowercase());
            }
        }
        decancer::Translation::String(s) => {
            out.extend(s.chars().map(|f| f.to_ascii_lowercase()));
        }
        decancer::Translation::None => {}
    }
}

/// The display fold of a whole string: what [`Normalized::text`] holds.
pub fn normalize(input: &str) -> String {
    Normalized::new(input).text
}

/// The key fold of a word or phrase from a word list: tokens joined by single spaces, with
/// an ambiguous `1` read as `i` (list entries spell `b1tch`, not `b1ind`).
pub fn phrase_key(input: &str) -> String {
    let n = Normalized::new(input);
    let mut out = String::new();
    for token in &n.tokens {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(n.key(token));
    }
    out.replace(I_OR_L, "i")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(input: &str) -> Vec<String> {
        let n = Normalized::new(input);
        n.tokens.iter().map(|t| n.key(t).to_string()).collect()
    }

    #[test]
    fn punctuation_alone_between_tokens_hides_letters() {
        let hidden = |text: &str| Normalized::new(text).hidden_between(0);
        assert_eq!(hidden("sh.t"), Some(1));
        assert_eq!(hidden("f--k"), Some(2));
        assert_eq!(hidden("f'ck"), Some(1));
        assert_eq!(hidden("f\u{2019}ck"), Some(1));
        assert_eq!(hidden("c_nt"), Some(1));
        for text in ["sh t", "sh. t", "f----k", "a,b", "a/b", "word"] {
            assert_eq!(hidden(text), None, "{text}");
        }
    }

    #[test]
    fn folds_evasion_to_plain_keys() {
        let cases = [
            ("FuCk", "fuck"),
            ("w@nk3r", "wanker"),
            ("f\u{200b}u\u{200b}c\u{200b}k", "fuck"),
            ("ｆｕｃｋ", "fuck"),
            ("𝐠𝐨𝐨𝐤", "gook"),
            ("ракі", "paki"),
            ("jacķáss", "jackass"),
            ("twát", "twat"),
            ("ꜱʜɪᴛ", "shit"),
            ("ⓕⓤⓒⓚ", "fuck"),
            ("fu\u{0301}ck", "fuck"),
            ("ᶠᵘᶜᵏ", "fuck"),
            ("🇫🇺🇨🇰", "fuck"),
            ("🅵🆄🅲🅺", "fuck"),
            ("⒡⒰⒞⒦", "fuck"),
            ("||**fuck**||", "fuck"),
            ("fuck!!!1!", "fuck"),
            ("`fuck`", "fuck"),
        ];
        for (input, want) in cases {
            let got = keys(input);
            assert_eq!(got.len(), 1, "{input:?} gave {got:?}");
            // `l` and `i` share a key, so compare keys, not display text.
            assert_eq!(got[0], phrase_key(want), "{input:?}");
        }
    }

    #[test]
    fn a_capital_i_among_lowercase_letters_may_be_an_l() {
        for (input, want) in [("heII", "heLL"), ("sIut", "sLut"), ("kiII", "kiLL")] {
            assert_eq!(keys(input), [want], "{input:?}");
            assert_eq!(keys(&format!("{input} é")), [want, "e"], "{input:?}");
        }
        // A capital `I` that starts a word, or in capitals, is an `i`.
        assert_eq!(keys("I Information SHIT"), ["i", "information", "shit"]);
    }

    #[test]
    fn emoji_and_symbols_separate_letters() {
        for text in ["f🤡u🤡c🤡k", "f👍🏽u👍🏽c👍🏽k", "c•u★n★t", "f❤️u❤️c❤️k"]
        {
            let got = keys(text);
            assert_eq!(got.len(), 4, "{text:?} gave {got:?}");
            assert!(got.iter().all(|k| k.chars().count() == 1), "{got:?}");
        }
    }

    /// Letters drawn from the blocks that hold Latin-looking letters (mathematical
    /// alphabets, fullwidth, enclosed, parenthesized and squared letters, modifier letters,
    /// superscripts and subscripts, regional indicators) fold to the letter they show. The
    /// letter is taken from Unicode's compatibility decomposition, independently of the fold.
    #[test]
    fn every_latin_looking_letter_folds_to_its_letter() {
        use unicode_normalization::UnicodeNormalization;
        let ranges = [
            0x00AA..=0x00BA,
            0x02B0..=0x02B8,
            0x1D2C..=0x1D6A,
            0x1D9B..=0x1DBF,
            0x2070..=0x209C,
            0x2100..=0x214F,
            0x249C..=0x24E9,
            0xFF21..=0xFF5A,
            0x1D400..=0x1D7FF,
            0x1F110..=0x1F189,
        ];
        let mut checked = 0;
        let mut wrong = Vec::new();
        for c in ranges.into_iter().flatten().filter_map(char::from_u32) {
            let letters: Vec<char> = c.to_string().nfkd().filter(|l| l.is_alphabetic()).collect();
            let [letter] = letters[..] else { continue };
            if !letter.is_ascii_alphabetic() {
                continue;
            }
            checked += 1;
            let got = keys(&c.to_string());
            let want = key_char(letter.to_ascii_lowercase()).to_string();
            if got != [want.clone()] {
                wrong.push(format!("U+{:04X} {c} gave {got:?}, want {want}", c as u32));
            }
        }
        for c in (0x1F1E6..=0x1F1FF).filter_map(char::from_u32) {
            checked += 1;
            let letter = char::from(b'a' + (c as u32 - 0x1F1E6) as u8);
            let want = key_char(letter).to_string();
            if keys(&c.to_string()) != [want] {
                wrong.push(format!("U+{:04X} {c}", c as u32));
            }
        }
        assert!(checked > 900, "only {checked} letters checked");
        assert!(wrong.is_empty(), "{} of {checked}: {wrong:#?}", wrong.len());
    }

    #[test]
    fn tokens_keep_original_spans() {
        let text = "hey ｆｕｃｋ you";
        let n = Normalized::new(text);
        let spans: Vec<&str> = n.tokens.iter().map(|t| &text[t.span.clone()]).collect();
        assert_eq!(spans, vec!["hey", "ｆｕｃｋ", "you"]);
    }

    #[test]
    fn separators_split_and_newlines_are_marked() {
        let n = Normalized::new("f.u.c.k\nyou");
        let k: Vec<&str> = n.tokens.iter().map(|t| n.key(t)).collect();
        assert_eq!(k, vec!["f", "u", "c", "k", "you"]);
        assert!(n.tokens[4].newline_before);
        assert!(!n.tokens[1].newline_before);
    }

    #[test]
    fn symbol_edges_are_counted() {
        let n = Normalized::new("$hit! fine");
        assert_eq!(n.tokens[0].symbol_head, 1);
        assert_eq!(n.tokens[0].symbol_tail, 1);
        assert_eq!(n.tokens[1].symbol_head, 0);
    }

    #[test]
    fn the_ascii_table_folds_like_any_other_character() {
        for b in 0..128u8 {
            assert_eq!(
                ASCII[usize::from(b)].fold(),
                Fold::of(char::from(b)),
                "{b:#x}"
            );
        }
    }

    #[test]
    fn repeated_letters_collapse_into_runs() {
        for (key, want, want_runs) in [
            ("fuuuck", "fuck", &[1, 3, 1, 1][..]),
            ("oo", "o", &[2]),
            ("ｏｏo", "ｏo", &[2, 1]),
        ] {
            let (mut out, mut runs) = (String::new(), Vec::new());
            collapse_into(key, &mut out, &mut runs);
            assert_eq!((out.as_str(), runs.as_slice()), (want, want_runs), "{key}");
        }
    }

    #[test]
    fn spellings_a_reader_cannot_tell_apart_share_a_shape() {
        let shape = |text: &str| Normalized::new(text).tokens[0].shape;
        assert_eq!(shape("fuuuck"), shape("fuck"));
        assert_eq!(shape("he11"), shape("hell"));
        assert_eq!(shape("ｈｅｌｌ"), shape("hell"));
        assert_eq!(shape("hell"), Shape::of("hell"));
        assert_ne!(shape("hell"), shape("help"));
    }

    #[test]
    fn display_text_is_lowercase_and_collapsed() {
        assert_eq!(normalize("  Hello   WORLD\u{200b}!  "), "hello world!");
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn any_unicode_normalizes_without_panicking(input in any::<String>()) {
            let n = Normalized::new(&input);
            for token in &n.tokens {
                prop_assert!(input.get(token.span.clone()).is_some());
                prop_assert!(n.keys.get(token.key.clone()).is_some());
                prop_assert_eq!(n.display(token).chars().count(), n.key(token).chars().count());
            }
        }

        #[test]
        fn ascii_text_reads_the_same_both_ways(input in "[ -~\\n\\r\\t]{0,40}") {
            let fast = Normalized::new(&input);
            let mut slow = Normalized::default();
            let mut masked = String::new();
            markup::mask(&input, &mut masked);
            slow.fill_chars(&masked);
            prop_assert_eq!(&fast.text, &slow.text);
            prop_assert_eq!(&fast.keys, &slow.keys);
            prop_assert_eq!(&fast.tokens, &slow.tokens);
            prop_assert_eq!(&fast.counts, &slow.counts);
        }

        #[test]
        fn long_ascii_text_counts_the_same_both_ways(input in "[a@<B\n ]{250,600}") {
            let mut slow = Normalized::default();
            slow.fill_chars(&input);
            prop_assert_eq!(Normalized::new(&input).counts, slow.counts);
        }

        #[test]
        fn a_warm_fold_cache_changes_nothing(
            inputs in proptest::collection::vec("[a-zé€🔥ｆ𝐠ꜱ\u{200b}\u{301}ßǆ ]{0,12}|\\PC{0,12}", 1..8),
        ) {
            let mut reused = Normalized::default();
            for _ in 0..2 {
                for input in &inputs {
                    reused.fill(input);
                    let fresh = Normalized::new(input);
                    prop_assert_eq!(&reused.text, &fresh.text);
                    prop_assert_eq!(&reused.keys, &fresh.keys);
                    prop_assert_eq!(&reused.tokens, &fresh.tokens);
                    prop_assert_eq!(&reused.counts, &fresh.counts);
                }
            }
        }

        #[test]
        fn normalization_is_idempotent(input in any::<String>()) {
            // Whether a star, pipe or `!` is markup depends on its neighbours, which folding
            // may remove (an invisible character in `?￼?`), so text with markup characters
            // is left to the markup tests.
            prop_assume!(!input.contains(['|', '*', '`', '!', '?']));
            let once = normalize(&input);
            prop_assert_eq!(normalize(&once), once);
        }

        #[test]
        fn a_letter_that_looks_like_punctuation_is_no_markup(c in prop::sample::select(vec!['爫', '℅', '№', '½'])) {
            let once = normalize(&c.to_string());
            prop_assert!(!once.contains(['`', '|', '*']), "{:?} -> {:?}", c, once);
            prop_assert_eq!(normalize(&once), once);
        }
    }
}
