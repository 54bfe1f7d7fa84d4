//! Text steward writes into Discord: member-written text escaped so it shows as written,
//! and everything cut to Discord's limits with a visible marker.

/// The colours of steward's posts, one meaning each across the case, message and member
/// logs and the appeals: green lifts or welcomes, red removes, grey is neutral.
pub mod colour {
    pub const GREEN: u32 = 0x2E_CC_71;
    pub const YELLOW: u32 = 0xF1_C4_0F;
    pub const ORANGE: u32 = 0xE6_7E_22;
    pub const RED: u32 = 0xE7_4C_3C;
    pub const DARK_RED: u32 = 0x99_2D_22;
    pub const GREY: u32 = 0x95_A5_A6;
    pub const BLUE: u32 = 0x34_98_DB;
}

/// Markdown characters escaped, so user text shows as written.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// At most `max` characters, the last an ellipsis when cut.
pub fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn truncated_text_fits_and_says_it_was_cut(text in "\\PC{0,300}", max in 1usize..200) {
            let cut = truncate(&text, max);
            prop_assert!(cut.chars().count() <= max);
            if text.chars().count() > max {
                prop_assert!(cut.ends_with('…'));
            } else {
                prop_assert_eq!(cut, text);
            }
        }

        #[test]
        fn escaped_text_has_no_live_markdown(text in "[*_~`|>#\\[\\]\\\\a ]{0,60}") {
            let escaped = escape(&text);
            let mut chars = escaped.chars();
            while let Some(c) = chars.next() {
                if c == '\\' {
                    prop_assert!(chars.next().is_some(), "a dangling escape in {escaped:?}");
                } else {
                    prop_assert!(!"*_~`|>#[]".contains(c), "{c} unescaped in {escaped:?}");
                }
            }
        }
    }
}
