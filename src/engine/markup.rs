//! Discord markdown and excited punctuation, read as the member sees them.
//!
//! A member who writes `||**word**||` sees a bold word under a spoiler, and one who writes
//! `word!!!1!` sees a word and some shouting. Neither `|`, `*` nor the `1` is a letter there,
//! though all three can stand for letters elsewhere (`sh|t`, `f*ck`, `sh1t`). [`mask`] finds
//! the characters that are markup and blanks them, so the reading that follows never takes
//! them for letters.
//!
//! Every markup character is ASCII and is replaced by an ASCII space, so byte offsets in the
//! masked text are offsets in the original: a match still points at what the member wrote.

/// Whether `text` may hold markup: a star or backtick anywhere, or two pipes, or a `!`
/// or `?` followed by another or by a `1`. Most messages hold none and skip [`mask`]
/// entirely.
pub fn may_hold_markup(text: &str) -> bool {
    let bytes = text.as_bytes();
    if memchr::memchr2(b'*', b'`', bytes).is_some() {
        return true;
    }
    let next = |at: usize| bytes.get(at + 1).copied();
    memchr::memchr_iter(b'|', bytes).any(|at| next(at) == Some(b'|'))
        || memchr::memchr2_iter(b'!', b'?', bytes)
            .any(|at| matches!(next(at), Some(b'!' | b'?' | b'1')))
}

/// Writes `text` into `out` with every markup character replaced by a space.
pub fn mask(text: &str, out: &mut String) {
    out.clear();
    out.push_str(text);
    let mut bytes = std::mem::take(out).into_bytes();
    blank_spoilers_and_code(&mut bytes);
    blank_excited_punctuation(&mut bytes);
    blank_emphasis_stars(&mut bytes);
    // Only ASCII bytes were replaced, by ASCII spaces: the text is still UTF-8.
    *out = String::from_utf8(bytes).unwrap_or_else(|_| text.to_string());
}

/// Spoiler bars (`||`, two or more pipes together) and backticks (inline and block code)
/// are always markup.
fn blank_spoilers_and_code(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'`' => bytes[i] = b' ',
            b'|' => {
                let end = run_end(bytes, i, |b| b == b'|');
                if end - i >= 2 {
                    bytes[i..end].fill(b' ');
                }
                i = end;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
}

/// A run of `!`, `?` and `1` that starts with `!` or `?`, holds a `1` or two or more
/// marks, and ends a word (`!!!1!`, `?!1`, `!!`) is punctuation, not letters. A `!` inside a
/// word (`sh!t`) is left alone.
fn blank_excited_punctuation(bytes: &mut [u8]) {
    let mut i = 0;
    while i < bytes.len() {
        if !matches!(bytes[i], b'!' | b'?') {
            i += 1;
            continue;
        }
        let end = run_end(bytes, i, |b| matches!(b, b'!' | b'?' | b'1'));
        let ends_word = bytes.get(end).is_none_or(|b| !b.is_ascii_alphanumeric());
        let run = &bytes[i..end];
        if ends_word && run.len() >= 2 {
            bytes[i..end].fill(b' ');
        }
        i = end;
    }
}

/// Stars that open emphasis before a word and close it after one (`*word*`, `**word**`,
/// `***a few words***`) are markup. A star inside a word (`f*ck`) or without a partner
/// (`*ss`) is a wildcard and stays.
fn blank_emphasis_stars(bytes: &mut [u8]) {
    let mut open: Option<(usize, usize)> = None;
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\n' {
            open = None; // emphasis does not cross a line break
        }
        if bytes[i] != b'*' {
            i += 1;
            continue;
        }
        let end = run_end(bytes, i, |b| b == b'*');
        let before = i.checked_sub(1).map(|p| bytes[p]);
        let after = bytes.get(end).copied();
        let opens = before.is_none_or(|b| !is_word_byte(b)) && after.is_some_and(|b| !is_space(b));
        let closes = before.is_some_and(|b| !is_space(b)) && after.is_none_or(|b| !is_word_byte(b));
        match open {
            Some((start, len)) if closes && len == end - i => {
                bytes[start..start + len].fill(b' ');
                bytes[i..end].fill(b' ');
                open = None;
            }
            _ if opens => open = Some((i, end - i)),
            _ => {}
        }
        i = end;
    }
}

/// Where the run of bytes matching `belongs` that starts at `start` ends.
fn run_end(bytes: &[u8], start: usize, belongs: impl Fn(u8) -> bool) -> usize {
    bytes[start..]
        .iter()
        .position(|&b| !belongs(b))
        .map_or(bytes.len(), |n| start + n)
}

/// A byte that belongs to a word: a letter, a digit, or any byte of a non-ASCII character.
fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || !b.is_ascii()
}

fn is_space(b: u8) -> bool {
    b.is_ascii_whitespace()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn masked(text: &str) -> String {
        let mut out = String::new();
        mask(text, &mut out);
        out
    }

    #[test]
    fn markup_becomes_space_and_words_stay() {
        let cases = [
            ("||**word**||", "    word    "),
            ("||word||", "  word  "),
            ("*word*", " word "),
            ("***two words***", "   two words   "),
            ("`code`", " code "),
            ("```\nblock\n```", "   \nblock\n   "),
            ("word!!!1!", "word     "),
            ("word?!1 yes", "word    yes"),
            ("gg!!", "gg  "),
        ];
        for (text, want) in cases {
            assert_eq!(masked(text), want, "{text:?}");
        }
    }

    #[test]
    fn letters_written_as_symbols_stay() {
        for text in [
            "sh!t",
            "f*ck",
            "*ss",
            "sh|t",
            "a*b*c",
            "wh*t is *this",
            "!1x",
        ] {
            assert_eq!(masked(text), text, "{text:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn masking_keeps_length_and_every_non_markup_byte(text in "[a-z1!?*|` \n]{0,40}|\\PC{0,20}") {
            let out = masked(&text);
            proptest::prop_assert_eq!(out.len(), text.len());
            for (a, b) in text.bytes().zip(out.bytes()) {
                proptest::prop_assert!(a == b || (b == b' ' && b"|*`!?1".contains(&a)));
            }
        }
    }
}
