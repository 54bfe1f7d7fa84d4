//! Custom regular expressions from the rules file. The `regex` crate matches in linear
//! time, and patterns are size-limited when compiled, so a rule cannot stall the bot.

use regex::{Regex, RegexBuilder};

/// Compiled size limit of one pattern, in bytes.
pub const SIZE_LIMIT: usize = 1 << 20;

/// Which text a pattern is matched against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Target {
    /// The message exactly as written.
    #[default]
    Original,
    /// The display-folded text (lowercase, look-alikes and invisible characters undone).
    Normalized,
}

/// A rule's patterns.
#[derive(Clone, Debug)]
pub struct PatternConfig {
    pub patterns: Vec<Regex>,
    pub target: Target,
}

/// Compiles one pattern with the size limits every rule gets.
pub fn compile(pattern: &str, case_insensitive: bool) -> Result<Regex, regex::Error> {
    RegexBuilder::new(pattern)
        .case_insensitive(case_insensitive)
        .size_limit(SIZE_LIMIT)
        .dfa_size_limit(SIZE_LIMIT)
        .build()
}

/// The first pattern that matches, with the matched byte range of `text`.
pub fn check(config: &PatternConfig, text: &str) -> Option<(usize, (usize, usize))> {
    config
        .patterns
        .iter()
        .enumerate()
        .find_map(|(i, re)| re.find(text).map(|m| (i, (m.start(), m.end()))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_first_matching_pattern() {
        let config = PatternConfig {
            patterns: vec![
                compile(r"\bbuy now\b", true).unwrap(),
                compile(r"\d{4}-\d{4}", false).unwrap(),
            ],
            target: Target::Original,
        };
        assert_eq!(check(&config, "card 1234-5678"), Some((1, (5, 14))));
        assert_eq!(check(&config, "BUY NOW"), Some((0, (0, 7))));
        assert_eq!(check(&config, "hello"), None);
    }

    #[test]
    fn oversized_patterns_are_refused() {
        assert!(compile(r"\w{1000}\w{1000}\w{1000}", false).is_err());
    }
}
