//! From the parsed file to the engine's [`RuleSet`]: checks that need the whole file, reads
//! list files, and builds each matcher once.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use super::policy::{EscalationStep, WarningPolicy};
use super::schema::{
    RawAction, RawConditions, RawEventKind, RawHold, RawLinks, RawList, RawMode, RawPatch, RawRaid,
    RawRule, RawRules, RawScam, RawServerRules, RawSpam, RawTarget, RawWarnings, RawWindow,
    RawWords, Snowflake,
};
use super::{Problem, locate, suggest};
use crate::engine::detect::links::{DomainSet, LinksConfig};
use crate::engine::detect::pattern::{self, PatternConfig, Target};
use crate::engine::detect::raid::{Hold, RaidConfig};
use crate::engine::detect::scam::ScamConfig;
use crate::engine::detect::spam::Slowmode;
use crate::engine::detect::spam::{SpamConfig, Window};
use crate::engine::detect::words::{WordList, WordMatcher, WordMatchers};
use crate::engine::event::{ChannelId, EventKind, GuildId, RoleId};
use crate::engine::rule::{Conditions, Limits, Rule, RuleSet, Trigger};
use crate::engine::verdict::{Action, Mode};

/// The built-in word lists by name, each one entry a line (see `lists/LICENSE`).
pub const BUILTIN_LISTS: [(&str, &str); 5] = [
    ("slurs", include_str!("../../lists/slurs.txt")),
    ("profanity", include_str!("../../lists/profanity.txt")),
    ("sexual", include_str!("../../lists/sexual.txt")),
    ("insults", include_str!("../../lists/insults.txt")),
    ("harassment", include_str!("../../lists/harassment.txt")),
];
const BUILTINS: [&str; 5] = ["slurs", "profanity", "sexual", "insults", "harassment"];
/// The rules-file format this steward reads.
pub const SUPPORTED_VERSION: u32 = 1;
/// Longest entry a list file may hold, in bytes.
const MAX_ENTRY: usize = 200;

/// Largest list file read, in bytes.
pub const MAX_LIST_FILE: u64 = 64 * 1024 * 1024;

/// Where the file came from, for error locations and relative paths.
pub struct Context<'a> {
    pub source: &'a str,
    pub file: &'a Path,
    pub base: &'a Path,
    /// Whether list files may be read at all (a server's own rules may not).
    pub files: bool,
}

impl Context<'_> {
    fn problem(&self, key: String, near: &str, message: String) -> Problem {
        let (line, column) = locate(self.source, near);
        Problem {
            file: self.file.to_path_buf(),
            line,
            column,
            key,
            message,
        }
    }

    /// The bytes of list file `path`: a regular file of at most [`MAX_LIST_FILE`] bytes
    /// inside the rules file's directory. `None` (with a problem) otherwise.
    fn read_file(&self, key: &str, path: &str, problems: &mut Vec<Problem>) -> Option<Vec<u8>> {
        let full = self.base.join(path);
        match self.checked_file(&full) {
            Ok(bytes) => Some(bytes),
            Err(reason) => {
                let message = format!("list file {}: {reason}", full.display());
                problems.push(self.problem(key.to_string(), path, message));
                None
            }
        }
    }

    fn checked_file(&self, full: &Path) -> Result<Vec<u8>, String> {
        if !self.files {
            return Err(
                "a server's own rules cannot read files; use built-in lists or inline words"
                    .to_string(),
            );
        }
        let real = full.canonicalize().map_err(|e| e.to_string())?;
        let base = self.base.canonicalize().map_err(|e| e.to_string())?;
        if !real.starts_with(&base) {
            return Err(format!(
                "outside the rules file's directory {}",
                base.display()
            ));
        }
        let meta = std::fs::metadata(&real).map_err(|e| e.to_string())?;
        if !meta.is_file() {
            return Err("not a regular file".to_string());
        }
        if meta.len() > MAX_LIST_FILE {
            return Err(format!(
                "{} bytes; list files are at most {MAX_LIST_FILE}",
                meta.len()
            ));
        }
        let mut bytes = Vec::new();
        use std::io::Read;
        std::fs::File::open(&real)
            .and_then(|f| f.take(MAX_LIST_FILE + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if bytes.len() as u64 > MAX_LIST_FILE {
            return Err(format!("longer than {MAX_LIST_FILE} bytes"));
        }
        Ok(bytes)
    }

    /// Reads a list file: one entry a line, `#` comments and blank lines skipped.
    fn read_list(&self, key: String, path: &str, problems: &mut Vec<Problem>) -> Vec<String> {
        let Some(bytes) = self.read_file(&key, path, problems) else {
            return Vec::new();
        };
        match checked_list_entries(&bytes) {
            Ok(entries) => entries,
            Err(reason) => {
                let message = format!("list file {}{reason}", self.base.join(path).display());
                problems.push(self.problem(key, path, message));
                Vec::new()
            }
        }
    }
}

/// Entries of a list file, or `:line: what is wrong` for its first bad line: bytes that are
/// not UTF-8, an entry longer than [`MAX_ENTRY`], or one with no letter or digit to match.
pub fn checked_list_entries(bytes: &[u8]) -> Result<Vec<String>, String> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        format!(":{line}: not UTF-8 text (list files are UTF-8, one entry a line)")
    })?;
    for (i, line) in text.lines().enumerate() {
        let entry = list_entry(line);
        if entry.len() > MAX_ENTRY {
            return Err(format!(
                ":{}: entry of {} bytes; entries are at most {MAX_ENTRY}",
                i + 1,
                entry.len()
            ));
        }
        if !entry.is_empty() && crate::engine::normalize::phrase_key(entry).is_empty() {
            return Err(format!(
                ":{}: entry {entry:?} has no letter or digit to match",
                i + 1
            ));
        }
    }
    Ok(list_entries(text))
}

/// A list file's line without its comment and surrounding space.
fn list_entry(line: &str) -> &str {
    line.split('#').next().unwrap_or_default().trim()
}

/// Entries of a list file's text.
pub fn list_entries(text: &str) -> Vec<String> {
    text.lines()
        .map(list_entry)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect()
}

/// Refuses a `version` other than the one this steward reads.
fn check_version(version: Option<u32>, cx: &Context, problems: &mut Vec<Problem>) {
    if let Some(version) = version.filter(|v| *v != SUPPORTED_VERSION) {
        problems.push(cx.problem(
            "version".to_string(),
            "version:",
            format!(
                "version {version} is not supported; this steward reads version {SUPPORTED_VERSION}"
            ),
        ));
    }
}

/// Compiles the parsed file, or returns every problem found.
pub fn compile(raw: RawRules, cx: &Context) -> Result<RuleSet, Vec<Problem>> {
    let mut problems = Vec::new();
    check_version(raw.version, cx, &mut problems);
    let lists = compile_lists(&raw.lists, cx, &mut problems);
    let global_exempt: Vec<RoleId> = raw
        .settings
        .exempt_roles
        .iter()
        .map(|s| RoleId(s.0))
        .collect();
    let limits = compile_limits(&raw);
    let mut seen = FxHashSet::default();
    let mut rules = Vec::new();
    for (i, rule) in raw.rules.iter().enumerate() {
        if !seen.insert(rule.name.clone()) {
            problems.push(cx.problem(
                format!("rules[{i}].name"),
                &format!("name: {}", rule.name),
                format!("rule name `{}` is used more than once", rule.name),
            ));
        }
        if let Some(r) = compile_rule(
            rule,
            &format!("rules[{i}]"),
            &lists,
            &global_exempt,
            cx,
            &mut problems,
        ) {
            rules.push(r);
        }
    }
    let mut guilds = FxHashMap::default();
    for (id, guild) in &raw.guilds {
        let key = format!("guilds.{id}");
        let Ok(guild_id) = id.trim().parse::<u64>() else {
            problems.push(cx.problem(
                key,
                id,
                format!("`{id}` is not a guild id (expected digits)"),
            ));
            continue;
        };
        let mut guild_rules = rules.clone();
        let overlay = Overlay {
            key: &key,
            patches: &guild.rules,
            add_rules: &guild.add_rules,
            lists: &lists,
            exempt: &global_exempt,
        };
        overlay.apply(&mut guild_rules, cx, &mut problems);
        guilds.insert(GuildId(guild_id), Arc::from(guild_rules));
    }
    if problems.is_empty() {
        Ok(RuleSet {
            rules: Arc::from(rules),
            guilds,
            limits,
        })
    } else {
        Err(problems)
    }
}

/// One server's changes to the rules it would otherwise run: patches by rule name and
/// rules of its own.
struct Overlay<'a> {
    /// Where the overlay sits in its file, for errors (`guilds.123`, or empty).
    key: &'a str,
    patches: &'a BTreeMap<String, RawPatch>,
    add_rules: &'a [RawRule],
    lists: &'a BTreeMap<String, ListDef>,
    exempt: &'a [RoleId],
}

impl Overlay<'_> {
    fn apply(&self, rules: &mut Vec<Rule>, cx: &Context, problems: &mut Vec<Problem>) {
        let at = |rest: String| {
            if self.key.is_empty() {
                rest
            } else {
                format!("{}.{rest}", self.key)
            }
        };
        let names: Vec<String> = rules.iter().map(|r| r.name.to_string()).collect();
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        for (name, patch) in self.patches {
            let Some(rule) = rules.iter_mut().find(|r| &*r.name == name.as_str()) else {
                let hint = suggest(name, &names)
                    .map(|s| format!(" — did you mean `{s}`?"))
                    .unwrap_or_default();
                problems.push(cx.problem(
                    at(format!("rules.{name}")),
                    name,
                    format!("no rule named `{name}`{hint}"),
                ));
                continue;
            };
            if let Some(enabled) = patch.enabled {
                rule.enabled = enabled;
            }
            if let Some(mode) = patch.mode {
                rule.mode = mode_of(mode);
            }
            if let Some(when) = &patch.when {
                rule.conditions = conditions(when, self.exempt);
            }
            if let Some(cooldown) = patch.cooldown {
                rule.cooldown = Some(cooldown.0);
            }
            if let Some(actions) = &patch.actions {
                rule.actions = actions.iter().map(action).collect();
            }
        }
        for (i, rule) in self.add_rules.iter().enumerate() {
            let rule_key = at(format!("add_rules[{i}]"));
            if rules.iter().any(|r| *r.name == *rule.name) {
                problems.push(cx.problem(
                    format!("{rule_key}.name"),
                    &format!("name: {}", rule.name),
                    format!("rule name `{}` is used more than once", rule.name),
                ));
            }
            if let Some(r) = compile_rule(rule, &rule_key, self.lists, self.exempt, cx, problems) {
                rules.push(r);
            }
        }
    }
}

/// Compiles one server's own rules over `defaults`, the rules it runs without them.
/// The server's exempt roles apply to every rule there.
pub fn compile_server(
    raw: &RawServerRules,
    defaults: &[Rule],
    cx: &Context,
) -> Result<Vec<Rule>, Vec<Problem>> {
    let mut problems = Vec::new();
    check_version(raw.version, cx, &mut problems);
    let lists = compile_lists(&raw.lists, cx, &mut problems);
    let exempt: Vec<RoleId> = raw
        .settings
        .exempt_roles
        .iter()
        .map(|s| RoleId(s.0))
        .collect();
    let mut rules = defaults.to_vec();
    for rule in &mut rules {
        rule.conditions.exempt_roles.extend_from_slice(&exempt);
    }
    let overlay = Overlay {
        key: "",
        patches: &raw.rules,
        add_rules: &raw.add_rules,
        lists: &lists,
        exempt: &exempt,
    };
    overlay.apply(&mut rules, cx, &mut problems);
    if problems.is_empty() {
        Ok(rules)
    } else {
        Err(problems)
    }
}

fn compile_limits(raw: &RawRules) -> Limits {
    let l = &raw.settings.limits;
    let d = Limits::default();
    Limits {
        max_guilds: l.max_guilds.unwrap_or(d.max_guilds),
        max_members: l.max_members.unwrap_or(d.max_members),
        max_channels: l.max_channels.unwrap_or(d.max_channels),
        max_history: l.max_history.unwrap_or(d.max_history),
        max_joins: l.max_joins.unwrap_or(d.max_joins),
        idle: l.idle.map_or(d.idle, |i| i.0),
    }
}

fn compile_lists(
    raw: &BTreeMap<String, RawList>,
    cx: &Context,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, ListDef> {
    let mut lists = BTreeMap::new();
    for name in BUILTINS {
        let def = ListDef {
            builtins: vec![builtin(name)],
            own: None,
        };
        lists.insert(name.to_string(), def);
    }
    for (name, list) in raw {
        let key = format!("lists.{name}");
        let mut def = ListDef::default();
        if let Some(b) = &list.builtin {
            if BUILTINS.contains(&b.as_str()) {
                def.builtins.push(builtin(b));
            } else {
                let hint = suggest(b, &BUILTINS)
                    .map(|s| format!(" — did you mean `{s}`?"))
                    .unwrap_or_default();
                problems.push(cx.problem(
                    format!("{key}.builtin"),
                    &format!("builtin: {b}"),
                    format!(
                        "no built-in list `{b}`{hint}; built-in lists are {}",
                        BUILTINS.join(", ")
                    ),
                ));
            }
        }
        let mut words = Vec::new();
        if let Some(file) = &list.file {
            words.extend(cx.read_list(format!("{key}.file"), file, problems));
        }
        words.extend(list.words.iter().cloned());
        if !words.is_empty() {
            def.own = Some(SharedList::new(WordList {
                name: name.as_str().into(),
                words,
            }));
        }
        lists.insert(name.clone(), def);
    }
    lists
}

/// A list as rules name it: the built-in lists it takes in, and its own words.
#[derive(Clone, Default)]
struct ListDef {
    builtins: Vec<SharedList>,
    own: Option<SharedList>,
}

/// A word list with a fingerprint of its name and words, so that rules over the same
/// lists (in any server's rules) share one compiled matcher.
#[derive(Clone)]
struct SharedList {
    list: Arc<WordList>,
    fingerprint: Arc<str>,
}

impl SharedList {
    fn new(list: WordList) -> Self {
        let mut text = String::from(&*list.name);
        for word in &list.words {
            text.push('\n');
            text.push_str(word);
        }
        SharedList {
            fingerprint: super::sha256_hex(text.as_bytes()).into(),
            list: Arc::new(list),
        }
    }
}

/// The built-in lists, read once per process.
static BUILTIN: std::sync::LazyLock<Vec<SharedList>> = std::sync::LazyLock::new(|| {
    BUILTIN_LISTS
        .iter()
        .map(|(name, text)| {
            SharedList::new(WordList {
                name: (*name).into(),
                words: list_entries(text),
            })
        })
        .collect()
});

fn builtin(name: &str) -> SharedList {
    BUILTIN
        .iter()
        .find(|l| &*l.list.name == name)
        .cloned()
        .unwrap_or_else(|| {
            SharedList::new(WordList {
                name: name.into(),
                words: Vec::new(),
            })
        })
}

/// Compiled matchers by the fingerprints of their lists and allow entries; entries die
/// with the last rule that uses them.
static MATCHERS: std::sync::LazyLock<
    std::sync::Mutex<FxHashMap<String, std::sync::Weak<WordMatcher>>>,
> = std::sync::LazyLock::new(Default::default);

/// The matcher for `lists` and `allow`: the one already compiled if any rule holds it.
fn shared_matcher(lists: &[SharedList], allow: &[String]) -> Arc<WordMatcher> {
    let mut key: String = lists
        .iter()
        .map(|l| &*l.fingerprint)
        .collect::<Vec<_>>()
        .join(",");
    key.push_str("|allow:");
    key.push_str(&super::sha256_hex(allow.join("\n").as_bytes()));
    let mut cache = crate::lock::lock(&MATCHERS);
    if let Some(found) = cache.get(&key).and_then(std::sync::Weak::upgrade) {
        return found;
    }
    let owned: Vec<WordList> = lists.iter().map(|l| (*l.list).clone()).collect();
    let matcher = Arc::new(WordMatcher::new(&owned, allow));
    if cache.len() >= 64 && cache.len().is_power_of_two() {
        cache.retain(|_, m| m.strong_count() > 0);
    }
    cache.insert(key, Arc::downgrade(&matcher));
    matcher
}

fn compile_rule(
    rule: &RawRule,
    key: &str,
    lists: &BTreeMap<String, ListDef>,
    global_exempt: &[RoleId],
    cx: &Context,
    problems: &mut Vec<Problem>,
) -> Option<Rule> {
    let near = format!("name: {}", rule.name);
    let triggers = [
        rule.words.is_some(),
        rule.spam.is_some(),
        rule.links.is_some(),
        rule.scam.is_some(),
        rule.regex.is_some(),
        rule.raid.is_some(),
    ]
    .iter()
    .filter(|t| **t)
    .count();
    if triggers != 1 {
        problems.push(cx.problem(
            key.to_string(),
            &near,
            format!(
                "rule `{}` needs exactly one trigger (words, spam, links, scam, regex or raid); it has {triggers}",
                rule.name
            ),
        ));
        return None;
    }
    let trigger = if let Some(words) = &rule.words {
        Trigger::Words(words_matcher(
            words,
            &format!("{key}.words"),
            lists,
            cx,
            problems,
        ))
    } else if let Some(spam) = &rule.spam {
        Trigger::Spam(spam_config(spam, &format!("{key}.spam"), cx, problems))
    } else if let Some(links) = &rule.links {
        Trigger::Links(links_config(links, &format!("{key}.links"), cx, problems))
    } else if let Some(scam) = &rule.scam {
        Trigger::Scam(scam_config(scam, &format!("{key}.scam"), cx, problems))
    } else if let Some(regex) = &rule.regex {
        let patterns = regex
            .patterns
            .iter()
            .filter_map(|p| pattern::compile(&p.source, regex.case_insensitive).ok())
            .collect();
        let target = match regex.target {
            RawTarget::Original => Target::Original,
            RawTarget::Normalized => Target::Normalized,
        };
        Trigger::Pattern(PatternConfig { patterns, target })
    } else {
        Trigger::Raid(raid_config(rule.raid.as_ref()?))
    };
    Some(Rule {
        name: rule.name.as_str().into(),
        enabled: rule.enabled,
        mode: mode_of(rule.mode),
        conditions: conditions(&rule.when, global_exempt),
        cooldown: rule.cooldown.map(|c| c.0),
        actions: rule
            .actions
            .iter()
            .map(|a| with_brakes(action(a), &trigger))
            .collect(),
        trigger: Arc::new(trigger),
    })
}

fn words_matcher(
    words: &RawWords,
    key: &str,
    lists: &BTreeMap<String, ListDef>,
    cx: &Context,
    problems: &mut Vec<Problem>,
) -> WordMatchers {
    let names: Vec<&str> = lists.keys().map(String::as_str).collect();
    let (mut builtins, mut own) = (Vec::<SharedList>::new(), Vec::new());
    for (i, name) in words.lists.iter().enumerate() {
        match lists.get(name) {
            Some(def) => {
                for b in &def.builtins {
                    if !builtins.iter().any(|c| c.fingerprint == b.fingerprint) {
                        builtins.push(b.clone());
                    }
                }
                own.extend(def.own.clone());
            }
            None => {
                let hint = suggest(name, &names)
                    .map(|s| format!(" — did you mean `{s}`?"))
                    .unwrap_or_default();
                problems.push(cx.problem(
                    format!("{key}.lists[{i}]"),
                    name,
                    format!("no list named `{name}`{hint}; define it under `lists:` or use slurs / profanity"),
                ));
            }
        }
    }
    if !words.words.is_empty() {
        own.push(SharedList::new(WordList {
            name: "inline".into(),
            words: words.words.clone(),
        }));
    }
    let mut allow = words.allow.clone();
    if let Some(file) = &words.allow_file {
        allow.extend(cx.read_list(format!("{key}.allow_file"), file, problems));
    }
    // The built-in part is shared by every rule over the same lists in any server; a
    // rule's own words make a small matcher of their own.
    let parts = [builtins, own]
        .iter()
        .filter(|lists| !lists.is_empty())
        .map(|lists| shared_matcher(lists, &allow))
        .collect();
    WordMatchers(parts)
}

fn window(w: RawWindow) -> Window {
    Window {
        count: w.count.max(1),
        per: w.per.0,
    }
}

/// Discord's longest slowmode, in seconds.
const MAX_SLOWMODE_SECS: u64 = 21_600;

fn spam_config(s: &RawSpam, key: &str, cx: &Context, problems: &mut Vec<Problem>) -> SpamConfig {
    let mut slowmode = Slowmode::default();
    if let Some(c) = &s.channel_rate {
        if let Some(d) = c.slowmode {
            let secs = d.0.0.div_ceil(1000);
            if secs > MAX_SLOWMODE_SECS {
                problems.push(cx.problem(
                    format!("{key}.channel_rate.slowmode"),
                    "slowmode",
                    format!("Discord's slowmode is at most 6h; got {}", d.0),
                ));
            }
            slowmode.seconds = secs.clamp(1, MAX_SLOWMODE_SECS) as u32;
        }
        if let Some(d) = c.slowmode_for {
            slowmode.duration = d.0;
        }
    }
    SpamConfig {
        rate: s.rate.map(window),
        channel_rate: s.channel_rate.map(|c| Window {
            count: c.count.max(1),
            per: c.per.0,
        }),
        slowmode,
        duplicates: s.duplicates.map(|d| Window {
            count: d.count.max(1),
            per: d.per.0,
        }),
        similarity: s.duplicates.map_or(0.8, |d| d.similarity.clamp(0.0, 1.0)),
        mentions_per_message: s.mentions_per_message,
        mentions: s.mentions.map(window),
        links: s.links.map(window),
        attachments: s.attachments.map(window),
        max_emoji: s.max_emoji,
        max_lines: s.max_lines,
        max_length: s.max_length,
        caps_ratio: s.caps.map(|c| c.ratio.clamp(0.0, 1.0)),
        caps_min_letters: s.caps.map_or(15, |c| c.min_letters),
    }
}

fn domains(
    inline: &[String],
    file: Option<&String>,
    key: String,
    cx: &Context,
    problems: &mut Vec<Problem>,
) -> DomainSet {
    let mut all: Vec<String> = inline.to_vec();
    if let Some(file) = file {
        all.extend(read_domain_file(cx, key, file, problems));
    }
    DomainSet::new(all.iter().map(String::as_str))
}

/// Reads a domain list: plain lines, or a JSON file with a `domains` array (the format of
/// the common Discord phishing-domain lists).
fn read_domain_file(
    cx: &Context,
    key: String,
    file: &str,
    problems: &mut Vec<Problem>,
) -> Vec<String> {
    if !file.ends_with(".json") {
        return cx.read_list(key, file, problems);
    }
    let full = cx.base.join(file);
    let Some(bytes) = cx.read_file(&key, file, problems) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) => v
            .get("domains")
            .and_then(|d| d.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|d| d.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
        Err(e) => {
            let message = format!("{} is not valid JSON: {e}", full.display());
            problems.push(cx.problem(key, file, message));
            Vec::new()
        }
    }
}

fn links_config(l: &RawLinks, key: &str, cx: &Context, problems: &mut Vec<Problem>) -> LinksConfig {
    LinksConfig {
        block_invites: l.block_invites,
        allowed_invites: l
            .allowed_invites
            .iter()
            .map(|c| c.to_ascii_lowercase())
            .collect(),
        deny: domains(
            &l.deny_domains,
            l.deny_domains_file.as_ref(),
            format!("{key}.deny_domains_file"),
            cx,
            problems,
        ),
        allow: domains(
            &l.allow_domains,
            l.allow_domains_file.as_ref(),
            format!("{key}.allow_domains_file"),
            cx,
            problems,
        ),
        allow_only: l.allow_only,
    }
}

fn scam_config(s: &RawScam, key: &str, cx: &Context, problems: &mut Vec<Problem>) -> ScamConfig {
    ScamConfig::new(
        s.threshold.unwrap_or(3),
        domains(
            &s.deny_domains,
            s.deny_domains_file.as_ref(),
            format!("{key}.deny_domains_file"),
            cx,
            problems,
        ),
        domains(
            &s.allow_domains,
            s.allow_domains_file.as_ref(),
            format!("{key}.allow_domains_file"),
            cx,
            problems,
        ),
    )
}

fn raid_config(r: &RawRaid) -> RaidConfig {
    let defaults = RaidConfig::default();
    RaidConfig {
        joins: r.joins.map(window),
        similar_names: r.similar_names.map(window),
        same_first_message: r.same_first_message.map(window),
        pings: r.pings.map(window),
        new_account: r.new_account.map(|d| d.0),
        new_member: r.new_member.map_or(defaults.new_member, |d| d.0),
        fresh_account: r.fresh_account.map_or(defaults.fresh_account, |d| d.0),
        quiet: r.quiet.map_or(defaults.quiet, |d| d.0),
        hold: match r.hold {
            None | Some(RawHold::Timeout) => Hold::Timeout,
            Some(RawHold::Off) => Hold::Off,
            Some(RawHold::Role(role)) => Hold::Role(RoleId(role.0)),
        },
        pause_invites: r.pause_invites.unwrap_or(defaults.pause_invites),
        pause_dms: r.pause_dms.unwrap_or(defaults.pause_dms),
    }
}

fn mode_of(mode: RawMode) -> Mode {
    match mode {
        RawMode::Enforce => Mode::Enforce,
        RawMode::Shadow => Mode::Shadow,
    }
}

fn ids<T>(list: &[Snowflake], make: fn(u64) -> T) -> Vec<T> {
    list.iter().map(|s| make(s.0)).collect()
}

fn conditions(w: &RawConditions, global_exempt: &[RoleId]) -> Conditions {
    let mut exempt_roles = ids(&w.exempt_roles, RoleId);
    exempt_roles.extend_from_slice(global_exempt);
    Conditions {
        events: w
            .events
            .iter()
            .map(|e| match e {
                RawEventKind::Message => EventKind::Message,
                RawEventKind::MessageEdit => EventKind::MessageEdit,
                RawEventKind::MemberJoin => EventKind::MemberJoin,
                RawEventKind::MemberUpdate => EventKind::MemberUpdate,
            })
            .collect(),
        channels: ids(&w.channels, ChannelId),
        exclude_channels: ids(&w.exclude_channels, ChannelId),
        categories: ids(&w.categories, ChannelId),
        exclude_categories: ids(&w.exclude_categories, ChannelId),
        exempt_roles,
        required_roles: ids(&w.required_roles, RoleId),
        ignore_bots: w.ignore_bots.unwrap_or(true),
        min_account_age: w.min_account_age.map(|d| d.0),
        max_account_age: w.max_account_age.map(|d| d.0),
        min_member_age: w.min_member_age.map(|d| d.0),
        max_member_age: w.max_member_age.map(|d| d.0),
    }
}

/// A raid rule's raid mode pauses what the rule's `raid:` settings say.
fn with_brakes(action: Action, trigger: &Trigger) -> Action {
    match (action, trigger) {
        (Action::RaidMode { duration, .. }, Trigger::Raid(config)) => Action::RaidMode {
            duration,
            pause_invites: config.pause_invites,
            pause_dms: config.pause_dms,
        },
        (action, _) => action,
    }
}

fn action(a: &RawAction) -> Action {
    match a {
        RawAction::Delete => Action::Delete,
        RawAction::Warn { points, expires } => Action::Warn {
            points: *points,
            expires: *expires,
        },
        RawAction::Timeout { duration } => Action::Timeout {
            duration: *duration,
        },
        RawAction::Kick => Action::Kick,
        RawAction::Ban {
            duration,
            delete_messages,
        } => Action::Ban {
            duration: *duration,
            delete_messages: *delete_messages,
        },
        RawAction::Alert { channel } => Action::Alert {
            channel: channel.map(|c| ChannelId(c.0)),
        },
        RawAction::Lockdown { channels, duration } => Action::Lockdown {
            channels: ids(channels, ChannelId),
            duration: *duration,
        },
        RawAction::RaidMode { duration } => Action::RaidMode {
            duration: *duration,
            pause_invites: true,
            pause_dms: false,
        },
        RawAction::Rename { to } => Action::Rename { to: to.clone() },
    }
}

/// Compiles `settings.warnings`: escalation rungs may only time out, kick or ban.
pub fn compile_warnings(raw: &RawWarnings, cx: &Context) -> Result<WarningPolicy, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut ladder = Vec::new();
    for (i, step) in raw.escalation.iter().enumerate() {
        let key = format!("settings.warnings.escalation[{i}]");
        if step.points == 0 {
            problems.push(cx.problem(
                format!("{key}.points"),
                "escalation:",
                "points must be at least 1".to_string(),
            ));
        }
        let action = action(&step.action);
        if !matches!(
            action,
            Action::Timeout { .. } | Action::Kick | Action::Ban { .. }
        ) {
            problems.push(cx.problem(
                format!("{key}.action"),
                "escalation:",
                format!(
                    "an escalation can time out, kick or ban, not `{}`",
                    action.name()
                ),
            ));
        }
        ladder.push(EscalationStep {
            points: step.points,
            within: step.within.0,
            action,
        });
    }
    ladder.sort_by_key(|s| s.points);
    if problems.is_empty() {
        Ok(WarningPolicy {
            expire_after: raw.expire_after.map(|d| d.0),
            ladder,
        })
    } else {
        Err(problems)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_list_files_name_the_line_and_the_reason() {
        let mut invalid = b"fine\n# a comment\nalso fine\n".to_vec();
        invalid.extend(b"bad \xff byte\n");
        let long = format!("ok\n{}\n", "x".repeat(10_000));
        let cases: [(&[u8], &str); 3] = [
            (&invalid, ":4: not UTF-8"),
            (long.as_bytes(), ":2: entry of 10000 bytes"),
            (
                b"word\n\n  --- \n",
                ":3: entry \"---\" has no letter or digit",
            ),
        ];
        for (bytes, want) in cases {
            let got = checked_list_entries(bytes).expect_err("refused");
            assert!(got.starts_with(want), "{got}");
        }
        let good = checked_list_entries(b"one\n\n two words # note\n").expect("good");
        assert_eq!(good, ["one", "two words"]);
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused_with_a_line(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..2_000),
        ) {
            if let Err(reason) = checked_list_entries(&bytes) {
                let line = reason.trim_start_matches(':').split(':').next().unwrap_or("");
                proptest::prop_assert!(line.parse::<usize>().is_ok(), "{}", reason);
            }
        }
    }
}
