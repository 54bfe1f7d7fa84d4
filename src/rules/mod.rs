//! The YAML rules file: parsing, validation with precise errors, and compilation into the
//! engine's rule set.
//!
//! Parsing happens in two stages: serde reads the file into [`schema`] types (unknown keys,
//! bad durations, ids and regexes fail here, with line and column), then [`compile`] checks
//! what needs the whole file (list names, list files, one trigger per rule, guild patches)
//! and builds the matchers once.

pub mod bounds;
pub mod compile;
pub mod policy;
pub mod schema;
pub mod settings;

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use regex::Regex;
use sha2::{Digest, Sha256};

pub use bounds::Bounds;
pub use settings::{GuildSettings, LiveSettings, SettingsBook};

use crate::engine::rule::RuleSet;
use crate::engine::time::Duration;
pub use policy::{EscalationStep, WarningPolicy};

/// The example rules shipped with steward, used when no rules file is given.
pub const EXAMPLE_RULES: &str = include_str!("../../rules.example.yaml");
/// Name reported for the embedded example rules.
pub const EXAMPLE_RULES_NAME: &str = "rules.example.yaml (built in)";

/// One thing wrong with a rules file, located as precisely as the file allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub file: PathBuf,
    /// 1-based line and column; 0 when the problem concerns the whole file.
    pub line: usize,
    pub column: usize,
    /// Where in the structure, e.g. `rules[2].actions[0]`.
    pub key: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if self.line > 0 {
            write!(f, ":{}:{}", self.line, self.column)?;
        }
        if !self.key.is_empty() && self.key != "." {
            write!(f, ": {}", self.key)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Why a rules file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("{}: cannot read the rules file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}", problems.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Invalid { problems: Vec<Problem> },
}

impl RulesError {
    /// Every problem found (one for an unreadable file).
    pub fn problems(&self) -> Vec<Problem> {
        match self {
            RulesError::Read { path, source } => vec![Problem {
                file: path.clone(),
                line: 0,
                column: 0,
                key: String::new(),
                message: format!("cannot read the rules file: {source}"),
            }],
            RulesError::Invalid { problems } => problems.clone(),
        }
    }
}

/// A validated rules file, ready for the engine.
#[derive(Clone, Debug)]
pub struct LoadedRules {
    pub set: RuleSet,
    /// SHA-256 of the file's bytes, so every decision can name the rules it was made under.
    pub hash: String,
    pub source: String,
    pub origin: String,
    pub mod_log_channel: Option<u64>,
    /// Roles no rule ever sanctions (`settings.exempt_roles`).
    pub exempt_roles: Vec<u64>,
    /// Warning expiry and the escalation ladder.
    pub warnings: WarningPolicy,
    /// FAQ answers in help channels, when switched on.
    pub faq_answers: Option<FaqAnswers>,
    /// Where cases, messages and members are logged.
    pub logs: LogChannels,
    /// Which sanctions members are told about by DM; `None` tells no one.
    pub notify: Option<Notify>,
}

/// Where a server's record is posted in Discord.
#[derive(Clone, Debug, PartialEq)]
pub struct LogChannels {
    /// Every case; `None` falls back to the mod-log channel.
    pub cases: Option<u64>,
    /// Deleted and edited messages; `None` keeps and logs no message.
    pub messages: Option<u64>,
    /// Joins, leaves and name changes.
    pub members: Option<u64>,
    /// Channels whose messages are never kept or logged.
    pub ignore_channels: Vec<u64>,
    /// How long a message is kept to be shown once deleted or edited.
    pub keep_messages: Duration,
    /// The most messages of the server kept at once.
    pub max_messages: usize,
    /// Accounts younger than this are marked new when they join.
    pub new_account: Duration,
}

impl Default for LogChannels {
    fn default() -> Self {
        LogChannels {
            cases: None,
            messages: None,
            members: None,
            ignore_channels: Vec::new(),
            keep_messages: Duration::from_secs(24 * 3600),
            max_messages: 10_000,
            new_account: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// The longest a server may have its messages kept.
pub const MAX_KEEP_MESSAGES: Duration = Duration::from_secs(7 * 24 * 3600);
/// The most messages a server may have kept.
pub const MAX_KEPT_MESSAGES: u32 = 100_000;

/// Which sanctions a member is told about by DM, and how to appeal them.
#[derive(Clone, Debug, PartialEq)]
pub struct Notify {
    /// DM on a warning.
    pub warn: bool,
    /// DM on a timeout.
    pub timeout: bool,
    /// DM before a kick.
    pub kick: bool,
    /// DM before a ban or softban.
    pub ban: bool,
    /// Shown in the DM: a link or a sentence.
    pub appeal: Option<String>,
    /// Where appeals made in Discord go; the DM then carries an "Appeal" button.
    pub appeals_channel: Option<u64>,
    /// How long after a denied appeal the same case may be appealed again.
    pub appeal_cooldown: Duration,
}

/// Longest appeal text, in characters (it goes into a DM beside the sanction).
pub const MAX_APPEAL_TEXT: usize = 1000;

/// Where and how readily steward answers members' questions from the FAQ.
#[derive(Clone, Debug, PartialEq)]
pub struct FaqAnswers {
    pub channels: Vec<u64>,
    /// Share (0 to 1) of the question's words the entry must contain.
    pub min_score: f64,
    /// Quiet time per channel and entry after an answer.
    pub cooldown: crate::engine::time::Duration,
}

impl LoadedRules {
    /// The settings of a server without rules of its own.
    pub fn settings(&self) -> GuildSettings {
        GuildSettings {
            mod_log_channel: self.mod_log_channel,
            exempt_roles: self.exempt_roles.clone(),
            warnings: self.warnings.clone(),
            faq_answers: self.faq_answers.clone(),
            logs: self.logs.clone(),
            notify: self.notify.clone(),
            own_channels: Vec::new(),
            rules_hash: self.hash.clone(),
        }
    }

    /// A one-line description for `steward check`.
    pub fn summary(&self) -> String {
        let rules = &self.set.rules;
        let enabled = rules.iter().filter(|r| r.enabled).count();
        let shadow = rules
            .iter()
            .filter(|r| r.enabled && r.mode == crate::engine::verdict::Mode::Shadow)
            .count();
        format!(
            "{}: ok — {} rules ({} enabled, {} in shadow mode), {} guild overrides, sha256 {}",
            self.origin,
            rules.len(),
            enabled,
            shadow,
            self.set.guilds.len(),
            &self.hash[..12]
        )
    }
}

/// Reads and compiles the rules file at `path`: a regular file within the operator's
/// size bound.
pub fn load(path: &Path) -> Result<LoadedRules, RulesError> {
    let read = |source| RulesError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(read)?;
    let max = Bounds::OPERATOR.max_bytes;
    if !meta.is_file() || meta.len() > max as u64 {
        return Err(read(std::io::Error::other(format!(
            "not a regular file of at most {max} bytes"
        ))));
    }
    let source = std::fs::read_to_string(path).map_err(read)?;
    let base = path.parent().unwrap_or(Path::new("."));
    parse(&source, path, base)
}

/// The shipped example rules.
pub fn example() -> Result<LoadedRules, RulesError> {
    parse(EXAMPLE_RULES, Path::new(EXAMPLE_RULES_NAME), Path::new("."))
}

/// Compiles the operator's rules from `source`; `file` names it in errors and `base`
/// resolves list files.
pub fn parse(source: &str, file: &Path, base: &Path) -> Result<LoadedRules, RulesError> {
    parse_within(source, file, base, &Bounds::OPERATOR)
}

/// Compiles rules from `source` within `bounds` (checked before anything is compiled).
pub fn parse_within(
    source: &str,
    file: &Path,
    base: &Path,
    bounds: &Bounds,
) -> Result<LoadedRules, RulesError> {
    let source = without_bom(source);
    let raw: schema::RawRules = read_yaml(source, file, bounds)?;
    bounds::count(&raw, bounds).map_err(|message| whole_file(file, message))?;
    let mod_log_channel = raw.settings.mod_log_channel.map(|s| s.0);
    let exempt_roles = raw.settings.exempt_roles.iter().map(|s| s.0).collect();
    let faq_answers = raw
        .settings
        .faq_answers
        .as_ref()
        .map(|f| faq_answers(f, source, file))
        .transpose()
        .map_err(|p| RulesError::Invalid { problems: vec![p] })?;
    let logs = raw
        .settings
        .logs
        .as_ref()
        .map(|l| log_channels(l, source, file))
        .transpose()
        .map_err(|p| RulesError::Invalid { problems: vec![p] })?
        .unwrap_or_default();
    let notify = raw
        .settings
        .notify
        .as_ref()
        .map(|n| notify(n, source, file))
        .transpose()
        .map_err(|p| RulesError::Invalid { problems: vec![p] })?;
    let cx = compile::Context {
        source,
        file,
        base,
        files: bounds.files,
    };
    let warnings = compile::compile_warnings(&raw.settings.warnings, &cx);
    let set = compile::compile(raw, &cx);
    let (set, warnings) = match (set, warnings) {
        (Ok(set), Ok(warnings)) => (set, warnings),
        (set, warnings) => {
            let mut problems = set.err().unwrap_or_default();
            problems.extend(warnings.err().unwrap_or_default());
            return Err(RulesError::Invalid { problems });
        }
    };
    Ok(LoadedRules {
        set,
        hash: sha256_hex(source.as_bytes()),
        source: source.to_string(),
        origin: file.display().to_string(),
        mod_log_channel,
        exempt_roles,
        warnings,
        faq_answers,
        logs,
        notify,
    })
}

/// Every channel a server's own rules name: its settings' channels and its rules' alert
/// and lockdown channels.
fn named_channels(raw: &schema::RawServerRules) -> Vec<u64> {
    let s = &raw.settings;
    let mut named: Vec<u64> = s.mod_log_channel.iter().map(|c| c.0).collect();
    if let Some(logs) = &s.logs {
        named.extend(
            [logs.cases, logs.messages, logs.members]
                .iter()
                .flatten()
                .map(|c| c.0),
        );
    }
    if let Some(channel) = s.notify.as_ref().and_then(|n| n.appeals_channel) {
        named.push(channel.0);
    }
    let actions = raw
        .add_rules
        .iter()
        .flat_map(|r| r.actions.iter())
        .chain(raw.rules.values().flat_map(|p| p.actions.iter().flatten()));
    for action in actions {
        match action {
            schema::RawAction::Alert { channel: Some(c) } => named.push(c.0),
            schema::RawAction::Lockdown { channels, .. } => {
                named.extend(channels.iter().map(|c| c.0))
            }
            _ => {}
        }
    }
    named.sort_unstable();
    named.dedup();
    named
}

fn log_channels(raw: &schema::RawLogs, source: &str, file: &Path) -> Result<LogChannels, Problem> {
    let problem = |key: &str, message: String| {
        let (line, column) = locate(source, key);
        Problem {
            file: file.to_path_buf(),
            line,
            column,
            key: format!("settings.logs.{key}"),
            message,
        }
    };
    let defaults = LogChannels::default();
    let keep = raw.keep_messages.map_or(defaults.keep_messages, |d| d.0);
    if keep > MAX_KEEP_MESSAGES {
        return Err(problem(
            "keep_messages",
            "messages are kept for at most 7d".to_string(),
        ));
    }
    let max = raw.max_messages.unwrap_or(10_000);
    if max > MAX_KEPT_MESSAGES {
        return Err(problem(
            "max_messages",
            format!("at most {MAX_KEPT_MESSAGES} messages are kept, not {max}"),
        ));
    }
    Ok(LogChannels {
        cases: raw.cases.map(|c| c.0),
        messages: raw.messages.map(|c| c.0),
        members: raw.members.map(|c| c.0),
        ignore_channels: raw.ignore_channels.iter().map(|c| c.0).collect(),
        keep_messages: keep,
        max_messages: max as usize,
        new_account: raw.new_account.map_or(defaults.new_account, |d| d.0),
    })
}

fn notify(raw: &schema::RawNotify, source: &str, file: &Path) -> Result<Notify, Problem> {
    use schema::RawNotifyOn as On;
    let on = raw
        .on
        .clone()
        .unwrap_or_else(|| vec![On::Warn, On::Timeout, On::Kick, On::Ban]);
    let appeal = raw
        .appeal
        .as_deref()
        .map(str::trim)
        .filter(|a| !a.is_empty());
    if let Some(text) = appeal
        && text.chars().count() > MAX_APPEAL_TEXT
    {
        let (line, column) = locate(source, "appeal");
        return Err(Problem {
            file: file.to_path_buf(),
            line,
            column,
            key: "settings.notify.appeal".to_string(),
            message: format!("the appeal text is longer than {MAX_APPEAL_TEXT} characters"),
        });
    }
    Ok(Notify {
        warn: on.contains(&On::Warn),
        timeout: on.contains(&On::Timeout),
        kick: on.contains(&On::Kick),
        ban: on.contains(&On::Ban),
        appeal: appeal.map(str::to_string),
        appeals_channel: raw.appeals_channel.map(|c| c.0),
        appeal_cooldown: raw
            .appeal_cooldown
            .map_or(Duration::from_secs(7 * 86_400), |d| d.0),
    })
}

/// `source` without the byte-order mark some editors write first, which YAML would
/// otherwise read as the start of a second document.
fn without_bom(source: &str) -> &str {
    source.strip_prefix('\u{feff}').unwrap_or(source)
}

/// Reads `source` as YAML into `T` once it passed the scan of `bounds`; errors carry
/// `file`, line and column.
fn read_yaml<T: serde::de::DeserializeOwned>(
    source: &str,
    file: &Path,
    bounds: &Bounds,
) -> Result<T, RulesError> {
    bounds::scan(source, bounds).map_err(|e| RulesError::Invalid {
        problems: vec![Problem {
            file: file.to_path_buf(),
            line: e.line,
            column: e.column,
            key: String::new(),
            message: e.message,
        }],
    })?;
    let deserializer = serde_norway::Deserializer::from_str(source);
    serde_path_to_error::deserialize(deserializer).map_err(|e| RulesError::Invalid {
        problems: vec![serde_problem(source, file, &e)],
    })
}

/// A problem with `file` as a whole.
fn whole_file(file: &Path, message: String) -> RulesError {
    RulesError::Invalid {
        problems: vec![Problem {
            file: file.to_path_buf(),
            line: 0,
            column: 0,
            key: String::new(),
            message,
        }],
    }
}

/// FAQ answer settings, checked.
fn faq_answers(
    f: &schema::RawFaqAnswers,
    source: &str,
    file: &Path,
) -> Result<FaqAnswers, Problem> {
    if !(0.0..=1.0).contains(&f.min_score) {
        let (line, column) = locate(source, "min_score");
        return Err(Problem {
            file: file.to_path_buf(),
            line,
            column,
            key: "settings.faq_answers.min_score".to_string(),
            message: format!("must be between 0 and 1, not {}", f.min_score),
        });
    }
    Ok(FaqAnswers {
        channels: f.channels.iter().map(|c| c.0).collect(),
        min_score: f.min_score,
        cooldown: f
            .cooldown
            .map_or(crate::engine::time::Duration::from_secs(600), |d| d.0),
    })
}

/// One server's own rules, compiled over the operator's.
#[derive(Clone, Debug)]
pub struct ServerRules {
    pub guild: crate::engine::event::GuildId,
    pub source: String,
    /// SHA-256 of the server's file.
    pub hash: String,
    /// Every rule in force in the server.
    pub rules: std::sync::Arc<[crate::engine::rule::Rule]>,
    pub settings: GuildSettings,
}

/// Compiles `source`, the rules `guild`'s admins wrote, over `operator`'s rules for that
/// server. Untrusted: bounded before parsing, and no file is read.
pub fn parse_server(
    source: &str,
    file: &Path,
    guild: crate::engine::event::GuildId,
    operator: &LoadedRules,
) -> Result<ServerRules, RulesError> {
    let source = without_bom(source);
    let bounds = Bounds::SERVER;
    let raw: schema::RawServerRules = read_yaml(source, file, &bounds)?;
    bounds::count_server(&raw, &bounds).map_err(|message| whole_file(file, message))?;
    let cx = compile::Context {
        source,
        file,
        base: Path::new("."),
        files: false,
    };
    let mut problems = Vec::new();
    let rules = compile::compile_server(&raw, operator.set.for_guild(guild), &cx)
        .map_err(|p| problems.extend(p))
        .ok();
    let warnings = raw
        .settings
        .warnings
        .as_ref()
        .map(|w| compile::compile_warnings(w, &cx))
        .transpose()
        .map_err(|p| problems.extend(p))
        .ok()
        .flatten();
    let faq = raw
        .settings
        .faq_answers
        .as_ref()
        .map(|f| faq_answers(f, source, file))
        .transpose()
        .map_err(|p| problems.push(p))
        .ok()
        .flatten();
    let logged = raw
        .settings
        .logs
        .as_ref()
        .map(|l| log_channels(l, source, file))
        .transpose()
        .map_err(|p| problems.push(p))
        .ok()
        .flatten();
    let notified = raw
        .settings
        .notify
        .as_ref()
        .map(|n| notify(n, source, file))
        .transpose()
        .map_err(|p| problems.push(p))
        .ok()
        .flatten();
    let Some(rules) = rules.filter(|_| problems.is_empty()) else {
        return Err(RulesError::Invalid { problems });
    };
    let hash = sha256_hex(source.as_bytes());
    let mut settings = operator.settings();
    if let Some(channel) = raw.settings.mod_log_channel {
        settings.mod_log_channel = Some(channel.0);
    }
    settings
        .exempt_roles
        .extend(raw.settings.exempt_roles.iter().map(|r| r.0));
    if let Some(w) = warnings {
        settings.warnings = w;
    }
    if let Some(f) = faq {
        settings.faq_answers = Some(f);
    }
    if let Some(logs) = logged {
        settings.logs = logs;
    }
    if let Some(n) = notified {
        settings.notify = Some(n);
    }
    settings.own_channels = named_channels(&raw);
    settings.rules_hash = sha256_hex(format!("{}\n{hash}", operator.hash).as_bytes());
    Ok(ServerRules {
        guild,
        source: source.to_string(),
        hash,
        rules: rules.into(),
        settings,
    })
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

static UNKNOWN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"unknown (field|variant) `([^`]*)`, expected (.*)").expect("pattern is valid")
});
static NAME: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"`([^`]*)`").expect("pattern is valid"));

fn serde_problem(
    source: &str,
    file: &Path,
    e: &serde_path_to_error::Error<serde_norway::Error>,
) -> Problem {
    let inner = e.inner();
    let (mut line, mut column) = inner.location().map_or((0, 0), |l| (l.line(), l.column()));
    // Errors raised by a value's own parser point at the enclosing map; move to the key.
    let path = e.path().to_string();
    if let Some(last) = path
        .rsplit('.')
        .next()
        .filter(|k| !k.contains('[') && !k.is_empty())
        && line > 0
    {
        let start: usize = source
            .split_inclusive('\n')
            .take(line - 1)
            .map(str::len)
            .sum();
        if let Some(found) = source[start..].find(&format!("{last}:")) {
            let prefix = &source[..start + found];
            line = prefix.matches('\n').count() + 1;
            column = prefix.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
        }
    }
    let mut message = inner.to_string();
    // serde_norway appends " at line L column C"; the location is printed separately.
    if let Some(at) = message.find(" at line ") {
        message.truncate(at);
    }
    // Errors from nested values start with their own path, which is printed separately.
    if let Some((path, rest)) = message.split_once(": ")
        && !path.is_empty()
        && !path.contains(' ')
    {
        message = rest.to_string();
    }
    if let Some(caps) = UNKNOWN.captures(&message) {
        let wrong = caps[2].to_string();
        let expected: Vec<String> = NAME
            .captures_iter(&caps[3])
            .map(|c| c[1].to_string())
            .collect();
        let names: Vec<&str> = expected.iter().map(String::as_str).collect();
        if let Some(s) = suggest(&wrong, &names) {
            message.push_str(&format!(" — did you mean `{s}`?"));
        }
    }
    Problem {
        file: file.to_path_buf(),
        line,
        column,
        key: e.path().to_string(),
        message,
    }
}

/// The valid name closest to `wrong`, if one is close enough to be a likely typo.
pub fn suggest<'a>(wrong: &str, valid: &[&'a str]) -> Option<&'a str> {
    valid
        .iter()
        .map(|v| (strsim::damerau_levenshtein(wrong, v), *v))
        .filter(|(d, v)| *d <= (v.len() / 3).max(1) + 1)
        .min_by_key(|(d, _)| *d)
        .map(|(_, v)| v)
}

/// Line and column (1-based) of the first occurrence of `needle` in `source`, for errors
/// found after parsing; falls back to the top of the file.
pub fn locate(source: &str, needle: &str) -> (usize, usize) {
    if needle.is_empty() {
        return (1, 1);
    }
    match source.find(needle) {
        Some(offset) => {
            let before = &source[..offset];
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            (line, column)
        }
        None => (1, 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problems(yaml: &str) -> Vec<Problem> {
        match parse(yaml, Path::new("test.yaml"), Path::new(".")) {
            Ok(_) => Vec::new(),
            Err(e) => e.problems(),
        }
    }

    #[test]
    fn the_example_rules_load() {
        let loaded = example().expect("rules.example.yaml must load");
        assert!(loaded.set.rules.len() >= 6);
        assert!(loaded.summary().contains("ok"));
    }

    #[test]
    fn unknown_keys_suggest_the_nearest() {
        let p = problems("rules:\n  - name: a\n    enabeld: true\n    words: {words: [x]}\n");
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].column), (3, 5));
        assert_eq!(p[0].key, "rules[0].enabeld");
        assert!(
            p[0].message.contains("did you mean `enabled`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn a_byte_order_mark_is_read_past_and_mistakes_are_still_named() {
        let p =
            problems("\u{feff}rules:\n  - name: a\n    enabeld: true\n    words: {words: [x]}\n");
        assert_eq!(p.len(), 1, "{p:?}");
        assert_eq!((p[0].line, p[0].key.as_str()), (3, "rules[0].enabeld"));
        assert!(problems("\u{feff}rules: []\n").is_empty());
    }

    #[test]
    fn bad_durations_name_line_and_key() {
        let p =
            problems("rules:\n  - name: a\n    cooldown: 10 parsecs\n    words: {words: [x]}\n");
        assert_eq!(p[0].line, 3);
        assert_eq!(p[0].key, "rules[0].cooldown");
        assert!(p[0].message.contains("bad duration"), "{}", p[0].message);
    }

    #[test]
    fn bad_regexes_are_refused() {
        let p = problems("rules:\n  - name: a\n    regex:\n      patterns: ['(unclosed']\n");
        assert_eq!(p[0].line, 4);
        assert!(p[0].message.contains("bad regex"), "{}", p[0].message);
    }

    #[test]
    fn timeouts_over_28_days_are_refused() {
        let p =
            problems("rules:\n  - name: a\n    words: {words: [x]}\n    actions: [timeout: 30d]\n");
        assert!(p[0].message.contains("28d"), "{}", p[0].message);
        assert_eq!(p[0].key, "rules[0].actions[0]");
    }

    #[test]
    fn unknown_actions_suggest_the_nearest() {
        let p = problems("rules:\n  - name: a\n    words: {words: [x]}\n    actions: [delte]\n");
        assert!(
            p[0].message.contains("did you mean `delete`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn missing_list_files_are_reported_where_named() {
        let p = problems(
            "rules:\n  - name: a\n    words:\n      allow_file: nowhere/allow.txt\n      words: [x]\n",
        );
        assert_eq!(p[0].line, 4);
        assert!(
            p[0].message.contains("nowhere/allow.txt"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn a_rule_needs_exactly_one_trigger() {
        let p = problems(
            "rules:\n  - name: a\n    actions: [delete]\n  - name: b\n    words: {words: [x]}\n    spam: {max_lines: 3}\n",
        );
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].line, 2);
        assert_eq!(p[1].line, 4);
    }

    #[test]
    fn unknown_list_names_and_duplicate_rules_are_reported() {
        let p = problems(
            "rules:\n  - name: a\n    words: {lists: [slurz]}\n  - name: a\n    spam: {max_lines: 3}\n",
        );
        let text: Vec<String> = p.iter().map(|p| p.message.clone()).collect();
        assert!(
            text.iter().any(|m| m.contains("did you mean `slurs`")),
            "{text:?}"
        );
        assert!(
            text.iter().any(|m| m.contains("more than once")),
            "{text:?}"
        );
    }

    #[test]
    fn guild_patches_must_name_known_rules() {
        let p = problems(
            "rules:\n  - name: spam\n    spam: {max_lines: 3}\nguilds:\n  \"1\":\n    rules:\n      spma: {enabled: false}\n",
        );
        assert!(
            p[0].message.contains("did you mean `spam`"),
            "{}",
            p[0].message
        );
    }

    #[test]
    fn guild_patches_apply_only_to_their_guild() {
        let yaml = "rules:\n  - name: spam\n    spam: {max_lines: 3}\nguilds:\n  \"7\":\n    rules:\n      spam: {enabled: false}\n";
        let loaded = parse(yaml, Path::new("t.yaml"), Path::new(".")).expect("valid");
        use crate::engine::event::GuildId;
        assert!(loaded.set.for_guild(GuildId(1))[0].enabled);
        assert!(!loaded.set.for_guild(GuildId(7))[0].enabled);
    }

    #[test]
    fn renames_must_fit_a_discord_nickname() {
        let long = "x".repeat(33);
        let p = problems(&format!(
            "rules:\n  - name: a\n    words: {{words: [x]}}\n    actions: [rename: {{to: {long}}}]\n"
        ));
        assert!(
            p[0].message.contains("1 to 32 characters"),
            "{}",
            p[0].message
        );
        assert_eq!(p[0].line, 4);
        let ok = "rules:\n  - name: a\n    words: {words: [x]}\n    actions: [rename]\n";
        assert!(problems(ok).is_empty());
    }

    #[test]
    fn faq_answer_settings_are_checked() {
        let rules = "rules:\n  - name: a\n    words: {words: [x]}\n";
        let ok = format!("settings:\n  faq_answers: {{channels: [\"5\"], cooldown: 5m}}\n{rules}");
        let loaded = parse(&ok, Path::new("t.yaml"), Path::new(".")).expect("valid");
        let faq = loaded.faq_answers.expect("set");
        assert_eq!((faq.channels, faq.min_score), (vec![5], 0.6));
        let bad = format!("settings:\n  faq_answers:\n    channels: []\n    min_score: 3\n{rules}");
        let p = problems(&bad);
        assert_eq!(
            (p[0].line, p[0].key.as_str()),
            (4, "settings.faq_answers.min_score")
        );
    }

    #[test]
    fn the_channels_a_server_names_are_known() {
        let operator = parse(
            "settings:\n  mod_log_channel: \"1\"\n",
            Path::new("t.yaml"),
            Path::new("."),
        )
        .expect("operator");
        let own = "settings:\n  logs: {cases: \"2\", messages: \"3\"}\n  notify: \
                   {appeals_channel: \"4\"}\nadd_rules:\n  - name: x\n    words: {words: [x]}\n    \
                   actions: [{alert: {channel: \"5\"}}, {lockdown: {channels: [\"6\", \"2\"]}}]\n";
        let guild = crate::engine::event::GuildId(9);
        let server = parse_server(own, Path::new("s.yaml"), guild, &operator).expect("server");
        assert_eq!(server.settings.own_channels, [2, 3, 4, 5, 6]);
        assert_eq!(
            server.settings.mod_log_channel,
            Some(1),
            "the operator's, trusted"
        );
    }

    #[test]
    fn log_and_notice_settings_are_checked() {
        let ok = "settings:\n  logs: {cases: \"1\", messages: \"2\", keep_messages: 2h}\n  \
                  notify: {on: [ban], appeal: \" mail us \"}\n";
        let loaded = parse(ok, Path::new("t.yaml"), Path::new(".")).expect("valid");
        assert_eq!(loaded.logs.cases, Some(1));
        assert_eq!(loaded.logs.keep_messages, Duration::from_secs(7_200));
        assert_eq!(loaded.logs.max_messages, 10_000, "the default");
        let notify = loaded.notify.expect("set");
        assert!(notify.ban && !notify.warn);
        assert_eq!(notify.appeal.as_deref(), Some("mail us"));
        for (bad, line, key) in [
            (
                "settings:\n  logs:\n    keep_messages: 30d\n",
                3,
                "settings.logs.keep_messages",
            ),
            (
                "settings:\n  logs:\n    max_messages: 1000000\n",
                3,
                "settings.logs.max_messages",
            ),
        ] {
            let p = problems(bad);
            assert_eq!((p[0].line, p[0].key.as_str()), (line, key), "{bad}");
        }
        let long = format!(
            "settings:\n  notify:\n    appeal: \"{}\"\n",
            "a".repeat(1_001)
        );
        assert_eq!(problems(&long)[0].key, "settings.notify.appeal");
        assert!(!problems("settings:\n  notify: {on: [mute]}\n").is_empty());
    }

    #[test]
    fn non_yaml_is_an_error_not_a_panic() {
        assert!(!problems("rules: [\n").is_empty());
        assert!(!problems("\u{0}\u{1}").is_empty());
        assert!(!problems("rules: 5").is_empty());
    }

    #[test]
    fn rules_that_cannot_be_meant_are_refused_where_written() {
        let rule = |body: &str| format!("rules:\n  - name: a\n{body}");
        let cases = [
            (
                rule("    regex: {patterns: ['']}\n"),
                "rules[0].regex.patterns[0]",
                "empty text",
            ),
            (
                rule("    regex: {patterns: ['x*']}\n"),
                "rules[0].regex.patterns[0]",
                "empty text",
            ),
            (
                rule("    spam: {rate: {count: 0, per: 5s}}\n"),
                "rules[0].spam.rate.count",
                "at least 1",
            ),
            (
                rule("    spam: {rate: {count: 3, per: 0s}}\n"),
                "rules[0].spam.rate.per",
                "0 means nothing",
            ),
            (
                rule("    spam: {duplicates: {count: 3, per: 5s, similarity: -1}}\n"),
                "rules[0].spam.duplicates.similarity",
                "between 0 and 1",
            ),
            (
                rule("    spam: {duplicates: {count: 3, per: 5s, similarity: .nan}}\n"),
                "rules[0].spam.duplicates.similarity",
                "between 0 and 1",
            ),
            (
                rule("    spam: {caps: {ratio: 2}}\n"),
                "rules[0].spam.caps.ratio",
                "between 0 and 1",
            ),
            (
                rule("    spam: {max_lines: 0}\n"),
                "rules[0].spam.max_lines",
                "at least 1",
            ),
            (
                rule("    scam: {threshold: 0}\n"),
                "rules[0].scam.threshold",
                "at least 1",
            ),
            (
                rule("    words: {words: [x]}\n    actions: [ban: {duration: 0s}]\n"),
                "rules[0].actions[0]",
                "0 means nothing",
            ),
            (
                rule("    words: {words: [x]}\n    actions: [raid_mode: 0s]\n"),
                "rules[0].actions[0]",
                "0 means nothing",
            ),
            (
                rule("    words: {words: [x]}\n    actions: [{kick: whatever}]\n"),
                "rules[0].actions[0]",
                "",
            ),
            (
                rule("    words: {words: [x]}\n    actions: [warn: {points: 0}]\n"),
                "rules[0].actions[0]",
                "at least 1",
            ),
            (
                "rules:\n  - name: '  '\n    words: {words: [x]}\n".to_string(),
                "rules[0].name",
                "1 to 100 characters",
            ),
            (
                "version: 99\nrules: []\n".to_string(),
                "version",
                "version 99 is not supported",
            ),
            (
                "settings:\n  limits: {max_joins: 0}\nrules: []\n".to_string(),
                "settings.limits.max_joins",
                "at least 1",
            ),
        ];
        let mut wrong = Vec::new();
        for (yaml, key, message) in &cases {
            let p = problems(yaml);
            let fits = p.len() == 1
                && p[0].key.starts_with(key)
                && p[0].line > 0
                && p[0].message.contains(message);
            if !fits {
                wrong.push(format!("{yaml}=> {p:?}"));
            }
        }
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
        let fine = rule(
            "    words: {words: [x]}\n    actions: [{kick: {}}, ban: {delete_messages: 0s}]\n",
        );
        assert!(problems(&fine).is_empty(), "{:?}", problems(&fine));
    }

    #[test]
    fn hostile_files_are_refused_quickly() {
        let deep = format!("rules: {}{}", "[".repeat(100_000), "]".repeat(100_000));
        let big = format!("rules: []\n{}", "# padding\n".repeat(1_100_000));
        let mut bomb = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n".to_string();
        for i in 1..10 {
            let p = i - 1;
            bomb.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        bomb.push_str("rules: [*a9]\n");
        for (name, yaml) in [("deep", &deep), ("10 MB", &big), ("alias bomb", &bomb)] {
            for bounds in [Bounds::OPERATOR, Bounds::SERVER] {
                let started = std::time::Instant::now();
                let refused = parse_within(yaml, Path::new("t.yaml"), Path::new("."), &bounds);
                let took = started.elapsed();
                if name == "10 MB" && bounds == Bounds::OPERATOR {
                    assert!(refused.is_ok(), "an operator's big file is theirs to keep");
                    continue;
                }
                assert!(refused.is_err(), "{name} accepted");
                assert!(took < std::time::Duration::from_secs(1), "{name}: {took:?}");
            }
        }
    }

    #[test]
    fn list_files_are_regular_files_inside_the_rules_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/zero", dir.path().join("zero.txt")).unwrap();
        std::fs::write(dir.path().join("ok.txt"), "pineapple\n").unwrap();
        let with = |file: &str| {
            format!(
                "lists:\n  mine: {{file: {file:?}}}\nrules:\n  - name: a\n    words: {{lists: [mine]}}\n"
            )
        };
        let load = |file: &str, bounds: &Bounds| {
            let started = std::time::Instant::now();
            let got = parse_within(&with(file), Path::new("r.yaml"), dir.path(), bounds)
                .map(|_| ())
                .map_err(|e| e.to_string());
            assert!(
                started.elapsed() < std::time::Duration::from_secs(1),
                "{file}"
            );
            got
        };
        assert_eq!(load("ok.txt", &Bounds::OPERATOR), Ok(()));
        for (file, why) in [
            ("zero.txt", "outside the rules file's directory"),
            ("/etc/passwd", "outside the rules file's directory"),
            (
                "../../../../proc/self/environ",
                "outside the rules file's directory",
            ),
        ] {
            let err = load(file, &Bounds::OPERATOR).expect_err(file);
            assert!(err.contains(why), "{file}: {err}");
        }
        let err = load("ok.txt", &Bounds::SERVER).expect_err("a server reads no files");
        assert!(err.contains("cannot read files"), "{err}");
        let fifo = dir.path().join("fifo.txt");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let err = load("fifo.txt", &Bounds::OPERATOR).expect_err("a FIFO");
            assert!(err.contains("not a regular file"), "{err}");
        }
    }

    #[test]
    fn servers_share_the_built_in_lists_matcher() {
        use crate::engine::event::GuildId;
        use crate::engine::rule::Trigger;
        let mut yaml =
            "rules:\n  - name: p\n    words: {lists: [profanity]}\nguilds:\n".to_string();
        for g in 1..=50 {
            yaml.push_str(&format!(
                "  \"{g}\":\n    add_rules:\n      - name: own\n        words: {{lists: [profanity, insults], words: [w{g}]}}\n"
            ));
        }
        let loaded = parse(&yaml, Path::new("t.yaml"), Path::new(".")).expect("valid");
        let again = parse(&yaml, Path::new("u.yaml"), Path::new(".")).expect("valid");
        let parts = |set: &crate::engine::rule::RuleSet, g: u64, rule: usize| match &*set
            .for_guild(GuildId(g))[rule]
            .trigger
        {
            Trigger::Words(m) => m.0.clone(),
            _ => panic!("a words rule"),
        };
        let first = parts(&loaded.set, 1, 1);
        assert_eq!(first.len(), 2, "built-in part and own words");
        for g in 2..=50 {
            let other = parts(&loaded.set, g, 1);
            assert!(std::sync::Arc::ptr_eq(&first[0], &other[0]), "server {g}");
            assert!(!std::sync::Arc::ptr_eq(&first[1], &other[1]));
        }
        // A file loaded again (a reload, or another server's upload) shares it too.
        assert!(std::sync::Arc::ptr_eq(
            &first[0],
            &parts(&again.set, 7, 1)[0]
        ));
        // The default rule's trigger is the same object in every server's copy.
        assert!(std::sync::Arc::ptr_eq(
            &loaded.set.for_guild(GuildId(1))[0].trigger,
            &loaded.set.for_guild(GuildId(2))[0].trigger
        ));
    }

    #[test]
    fn a_server_s_rules_patch_add_and_set_for_that_server() {
        use crate::engine::event::GuildId;
        let operator = example().expect("example");
        let own = "settings:\n  mod_log_channel: \"77\"\n  exempt_roles: [\"5\"]\n  warnings:\n    escalation:\n      - {points: 2, within: 1h, action: kick}\nrules:\n  flood: {enabled: false}\nadd_rules:\n  - name: mine\n    words: {words: [pineapple]}\n";
        let server =
            parse_server(own, Path::new("own.yaml"), GuildId(9), &operator).expect("valid");
        assert_eq!(server.settings.mod_log_channel, Some(77));
        assert!(server.settings.exempt_roles.contains(&5));
        assert_eq!(server.settings.warnings.ladder.len(), 1);
        assert_ne!(server.settings.rules_hash, operator.hash);
        let flood = server
            .rules
            .iter()
            .find(|r| &*r.name == "flood")
            .expect("flood");
        assert!(!flood.enabled);
        assert!(server.rules.iter().any(|r| &*r.name == "mine"));
        assert!(
            server.rules.iter().all(|r| r
                .conditions
                .exempt_roles
                .contains(&crate::engine::event::RoleId(5))),
            "the server's exempt roles hold in every rule there"
        );
        // Errors name the line; unknown rules suggest the nearest.
        let bad = "rules:\n  flod: {enabled: false}\n";
        let err = parse_server(bad, Path::new("own.yaml"), GuildId(9), &operator)
            .expect_err("no rule flod")
            .to_string();
        assert!(
            err.contains("own.yaml:2") && err.contains("did you mean `flood`"),
            "{err}"
        );
    }
}
