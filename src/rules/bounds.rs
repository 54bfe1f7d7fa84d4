//! Limits checked before and just after parsing, so that a hostile rules file (an upload
//! by a server's admin) costs little to refuse: size, nesting depth and aliases are
//! scanned in one linear pass before the YAML parser sees the text, and the number of
//! rules, patterns and words is counted before anything is compiled.

use super::schema::{RawList, RawRule, RawRules, RawServerRules};

/// How much a rules file may hold.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    pub max_bytes: usize,
    /// Deepest nesting of maps and lists (block indentation and flow brackets together).
    pub max_depth: usize,
    /// YAML aliases (`*name`) allowed; each may copy a large part of the file.
    pub max_aliases: usize,
    pub max_rules: usize,
    pub max_patterns: usize,
    /// Inline words, allow entries and domains, together.
    pub max_words: usize,
    /// Whether `file:` paths may be read (only the operator's own files).
    pub files: bool,
}

impl Bounds {
    /// The operator's rules file, on disk: trusted, but still bounded.
    pub const OPERATOR: Bounds = Bounds {
        max_bytes: 16 * 1024 * 1024,
        max_depth: 64,
        max_aliases: 1_000,
        max_rules: 20_000,
        max_patterns: 20_000,
        max_words: 1_000_000,
        files: true,
    };

    /// One server's own rules, uploaded by its admins: untrusted.
    pub const SERVER: Bounds = Bounds {
        max_bytes: 256 * 1024,
        max_depth: 24,
        max_aliases: 0,
        max_rules: 100,
        max_patterns: 200,
        max_words: 10_000,
        files: false,
    };
}

/// What a scan found wrong: where and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutOfBounds {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Scans `source` once: size, nesting depth and aliases.
pub fn scan(source: &str, bounds: &Bounds) -> Result<(), OutOfBounds> {
    if source.len() > bounds.max_bytes {
        return Err(OutOfBounds {
            line: 0,
            column: 0,
            message: format!(
                "the file is {} bytes; at most {} are read",
                source.len(),
                bounds.max_bytes
            ),
        });
    }
    let mut indents: Vec<usize> = Vec::new();
    let mut flow = 0usize;
    let mut aliases = 0usize;
    for (i, line) in source.lines().enumerate() {
        let out = |column: usize, message: String| OutOfBounds {
            line: i + 1,
            column,
            message,
        };
        let content = line.trim_start_matches(' ');
        if flow == 0 && (content.is_empty() || content.starts_with('#')) {
            continue;
        }
        let indent = line.len() - content.len();
        if flow == 0 {
            while indents.last().is_some_and(|&top| top >= indent) {
                indents.pop();
            }
            indents.push(indent);
        }
        // `- - - x` nests a list in a list on one line.
        let dashes = content
            .as_bytes()
            .chunks(2)
            .take_while(|pair| *pair == b"- " || *pair == b"-")
            .count();
        let mut quote: Option<char> = None;
        let mut previous = ' ';
        for (column, c) in content.char_indices() {
            match (quote, c) {
                (Some(q), c) if c == q => quote = None,
                (Some(_), _) => {}
                (None, '\'' | '"') => quote = Some(c),
                (None, '#') if previous == ' ' || previous == '\t' => break,
                (None, '[' | '{') => flow += 1,
                (None, ']' | '}') => flow = flow.saturating_sub(1),
                (None, '*')
                    if previous == ' ' || previous == '[' || previous == ',' || column == 0 =>
                {
                    aliases += 1;
                    if aliases > bounds.max_aliases {
                        let message = if bounds.max_aliases == 0 {
                            "YAML aliases (`*name`) are not allowed here".to_string()
                        } else {
                            format!("more than {} YAML aliases", bounds.max_aliases)
                        };
                        return Err(out(indent + column + 1, message));
                    }
                }
                _ => {}
            }
            previous = c;
            let depth = indents.len() + dashes + flow;
            if depth > bounds.max_depth {
                return Err(out(
                    indent + column + 1,
                    format!("nested deeper than {} levels", bounds.max_depth),
                ));
            }
        }
    }
    Ok(())
}

/// Counts what the parsed file holds against `bounds`; returns the first excess.
pub fn count(raw: &RawRules, bounds: &Bounds) -> Result<(), String> {
    let every_rule = raw
        .rules
        .iter()
        .chain(raw.guilds.values().flat_map(|g| g.add_rules.iter()));
    count_rules(every_rule, raw.lists.values(), bounds)
}

/// [`count`] for one server's own rules.
pub fn count_server(raw: &RawServerRules, bounds: &Bounds) -> Result<(), String> {
    count_rules(raw.add_rules.iter(), raw.lists.values(), bounds)
}

fn count_rules<'a>(
    rules: impl Iterator<Item = &'a RawRule>,
    lists: impl Iterator<Item = &'a RawList>,
    bounds: &Bounds,
) -> Result<(), String> {
    let (mut count, mut patterns) = (0, 0);
    let mut words = lists.map(|l| l.words.len()).sum::<usize>();
    for rule in rules {
        count += 1;
        patterns += rule.regex.as_ref().map_or(0, |r| r.patterns.len());
        if let Some(w) = &rule.words {
            words += w.words.len() + w.allow.len();
        }
        if let Some(l) = &rule.links {
            words += l.deny_domains.len() + l.allow_domains.len() + l.allowed_invites.len();
        }
        if let Some(s) = &rule.scam {
            words += s.deny_domains.len() + s.allow_domains.len();
        }
    }
    if count > bounds.max_rules {
        return Err(format!(
            "{count} rules; at most {} are allowed",
            bounds.max_rules
        ));
    }
    if patterns > bounds.max_patterns {
        return Err(format!(
            "{patterns} regex patterns; at most {} are allowed",
            bounds.max_patterns
        ));
    }
    if words > bounds.max_words {
        return Err(format!(
            "{words} words, allow entries and domains; at most {} are allowed",
            bounds.max_words
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_error(source: &str) -> Option<OutOfBounds> {
        scan(source, &Bounds::SERVER).err()
    }

    #[test]
    fn deep_nesting_is_refused_in_one_pass() {
        let flow = format!("rules: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let started = std::time::Instant::now();
        let err = depth_error(&flow).expect("too deep");
        assert!(err.message.contains("nested deeper"), "{err:?}");
        let block: String = (0..1000)
            .map(|i| format!("{}a:\n", " ".repeat(i)))
            .collect();
        assert!(depth_error(&block).is_some());
        let dashes = format!("rules:\n  {}x\n", "- ".repeat(100));
        assert!(depth_error(&dashes).is_some());
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
    }

    #[test]
    fn aliases_and_size_are_bounded() {
        let bomb = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n";
        let err = depth_error(bomb).expect("aliases refused");
        assert_eq!((err.line, err.column), (2, 8));
        let big = "#".repeat(Bounds::SERVER.max_bytes + 1);
        assert!(depth_error(&big).unwrap().message.contains("bytes"));
        // Stars inside words, quotes and comments are not aliases.
        assert!(depth_error("words: [f*ck, '*x', \"*y\"] # *z\n").is_none());
    }

    #[test]
    fn the_example_rules_fit_a_server_s_bounds() {
        assert_eq!(scan(super::super::EXAMPLE_RULES, &Bounds::SERVER), Ok(()));
    }
}
