//! The rules file as written: serde types that reject unknown keys. Values that can be
//! checked on their own (durations, ids, regexes, actions) are checked while parsing, so
//! their errors carry the line and column of the bad value.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::engine::detect::pattern;
use crate::engine::time::Duration;
use crate::engine::verdict::DEFAULT_RENAME;

/// A duration written as `30s`, `10m`, `2h`, `7d` or `1h 30m`; never zero, which would
/// mean a window that holds nothing or a sanction that ends as it begins.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct DurationValue(pub Duration);

impl<'de> Deserialize<'de> for DurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .and_then(nonzero)
            .map(DurationValue)
            .map_err(de::Error::custom)
    }
}

/// A duration that may be zero (`delete_messages: 0s`: delete none).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AnyDurationValue(pub Duration);

impl<'de> Deserialize<'de> for AnyDurationValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        parse_duration(&text)
            .map(AnyDurationValue)
            .map_err(de::Error::custom)
    }
}

fn nonzero(d: Duration) -> Result<Duration, String> {
    if d.0 == 0 {
        return Err("a duration of 0 means nothing here; give at least 1s".to_string());
    }
    Ok(d)
}

/// A count of at least 1 (`count: 0` would fire on every message).
fn positive<'de, D: Deserializer<'de>, T>(d: D) -> Result<T, D::Error>
where
    T: Deserialize<'de> + PartialEq + Default,
{
    let n = T::deserialize(d)?;
    if n == T::default() {
        return Err(de::Error::custom(
            "must be at least 1 (0 would match everything or nothing)",
        ));
    }
    Ok(n)
}

/// [`positive`] for an optional value.
fn positive_option<'de, D: Deserializer<'de>, T>(d: D) -> Result<Option<T>, D::Error>
where
    T: Deserialize<'de> + PartialEq + Default,
{
    positive(d).map(Some)
}

/// A share between 0 and 1 (not NaN).
fn share<'de, D: Deserializer<'de>>(d: D) -> Result<f32, D::Error> {
    let x = f32::deserialize(d)?;
    if !(0.0..=1.0).contains(&x) {
        return Err(de::Error::custom(format!(
            "must be a share between 0 and 1, not {x}"
        )));
    }
    Ok(x)
}

/// Parses a human duration; the error says what was expected.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let parsed = humantime::parse_duration(text.trim()).map_err(|e| {
        format!("bad duration `{text}` ({e}); expected something like 30s, 10m, 2h or 7d")
    })?;
    let ms =
        u64::try_from(parsed.as_millis()).map_err(|_| format!("duration `{text}` is too long"))?;
    Ok(Duration(ms))
}

/// A Discord id, written as a string (as Discord does) or a bare number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Snowflake(pub u64);

impl<'de> Deserialize<'de> for Snowflake {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Snowflake;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a Discord id such as \"123456789012345678\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Snowflake, E> {
                Ok(Snowflake(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Snowflake, E> {
                u64::try_from(v)
                    .map(Snowflake)
                    .map_err(|_| E::custom(format!("`{v}` is not a Discord id")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Snowflake, E> {
                v.trim()
                    .parse()
                    .map(Snowflake)
                    .map_err(|_| E::custom(format!("`{v}` is not a Discord id (expected digits)")))
            }
        }
        d.deserialize_any(V)
    }
}

/// A regular expression, compiled (with size limits) while parsing.
#[derive(Clone, Debug)]
pub struct PatternValue {
    pub source: String,
}

impl<'de> Deserialize<'de> for PatternValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let source = String::deserialize(d)?;
        let compiled = pattern::compile(&source, false)
            .map_err(|e| de::Error::custom(format!("bad regex: {e}")))?;
        if compiled.is_match("") {
            return Err(de::Error::custom(format!(
                "regex `{source}` matches an empty text, so it would fire on every message"
            )));
        }
        Ok(PatternValue { source })
    }
}

impl JsonSchema for DurationValue {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration such as 30s, 10m, 2h, 7d or \"1h 30m\"; never zero.",
            "pattern": "[0-9]",
            "examples": ["30s", "10m", "2h", "7d"]
        })
    }
}

impl JsonSchema for AnyDurationValue {
    fn schema_name() -> Cow<'static, str> {
        "DurationOrZero".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration such as 0s, 1h or 1d.",
            "pattern": "[0-9]",
            "examples": ["0s", "1h", "1d"]
        })
    }
}

impl JsonSchema for Snowflake {
    fn schema_name() -> Cow<'static, str> {
        "DiscordId".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A Discord id, best written as a string: \"123456789012345678\".",
            "anyOf": [
                {"type": "string", "pattern": "^\\s*[0-9]{1,20}\\s*$"},
                {"type": "integer", "minimum": 0}
            ]
        })
    }
}

impl JsonSchema for PatternValue {
    fn schema_name() -> Cow<'static, str> {
        "Regex".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A regular expression (Rust regex syntax) that does not match an empty text.",
            "minLength": 1
        })
    }
}

impl JsonSchema for RawHold {
    fn schema_name() -> Cow<'static, str> {
        "RaidHold".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let role = generator.subschema_for::<Snowflake>();
        json_schema!({
            "description": "How accounts joining in raid mode outside the raid are held.",
            "anyOf": [
                {"enum": ["timeout", "off"]},
                {
                    "type": "object",
                    "properties": {"role": role},
                    "required": ["role"],
                    "additionalProperties": false
                }
            ]
        })
    }
}

impl JsonSchema for RawAction {
    fn schema_name() -> Cow<'static, str> {
        "Action".into()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let duration = generator.subschema_for::<DurationValue>();
        let none = json_schema!({
            "anyOf": [
                {"type": "null"},
                {"type": "object", "additionalProperties": false}
            ]
        });
        let duration_or_settings = json_schema!({
            "anyOf": [
                duration.clone(),
                {
                    "type": "object",
                    "properties": {"duration": duration},
                    "required": ["duration"],
                    "additionalProperties": false
                }
            ]
        });
        let settings = [
            ("delete", none.clone()),
            ("kick", none),
            ("warn", generator.subschema_for::<WarnSettings>()),
            ("timeout", duration_or_settings.clone()),
            ("raid_mode", duration_or_settings),
            ("ban", generator.subschema_for::<BanSettings>()),
            ("alert", generator.subschema_for::<AlertSettings>()),
            ("lockdown", generator.subschema_for::<LockdownSettings>()),
            ("rename", generator.subschema_for::<RenameSettings>()),
        ];
        let mut any_of = vec![json_schema!({
            "description": "An action without settings.",
            "enum": ["delete", "warn", "kick", "ban", "alert", "rename", "lockdown"]
        })];
        for (name, schema) in settings {
            any_of.push(json_schema!({
                "type": "object",
                "properties": {name: schema},
                "required": [name],
                "additionalProperties": false
            }));
        }
        json_schema!({
            "description": "One action: a bare name (`delete`) or a one-key map with settings (`timeout: 10m`).",
            "anyOf": any_of
        })
    }
}

/// The JSON Schema of the operator's rules file, for editors that validate YAML as it is
/// typed; derived from the same types that read the file.
pub fn rules_schema() -> Schema {
    titled(
        schemars::schema_for!(RawRules),
        "steward rules",
        "The operator's rules file: settings, word lists, rules and per-server changes.",
    )
}

/// The JSON Schema of a server's own rules, as its admins upload them.
pub fn server_rules_schema() -> Schema {
    titled(
        schemars::schema_for!(RawServerRules),
        "steward server rules",
        "One server's own rules, uploaded by its admins with /rules upload.",
    )
}

fn titled(mut schema: Schema, title: &str, description: &str) -> Schema {
    schema.insert("title".to_string(), title.into());
    schema.insert("description".to_string(), description.into());
    schema
}

/// The whole file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRules {
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub settings: RawSettings,
    #[serde(default)]
    pub lists: BTreeMap<String, RawList>,
    #[serde(default)]
    pub rules: Vec<RawRule>,
    #[serde(default)]
    pub guilds: BTreeMap<String, RawGuild>,
}

/// One server's own rules, uploaded by its admins: settings, lists of words, changes to
/// the default rules by name, and rules of its own. Never file paths or engine limits.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServerRules {
    #[serde(default)]
    pub version: Option<u32>,
    #[serde(default)]
    pub settings: RawServerSettings,
    #[serde(default)]
    pub lists: BTreeMap<String, RawList>,
    /// Changes to the default rules, by rule name.
    #[serde(default)]
    pub rules: BTreeMap<String, RawPatch>,
    /// Rules only this server has.
    #[serde(default)]
    pub add_rules: Vec<RawRule>,
}

/// The settings a server may set for itself.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawServerSettings {
    pub mod_log_channel: Option<Snowflake>,
    #[serde(default)]
    pub exempt_roles: Vec<Snowflake>,
    pub warnings: Option<RawWarnings>,
    pub faq_answers: Option<RawFaqAnswers>,
    pub logs: Option<RawLogs>,
    pub notify: Option<RawNotify>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSettings {
    pub mod_log_channel: Option<Snowflake>,
    #[serde(default)]
    pub exempt_roles: Vec<Snowflake>,
    #[serde(default)]
    pub limits: RawLimits,
    #[serde(default)]
    pub warnings: RawWarnings,
    pub faq_answers: Option<RawFaqAnswers>,
    pub logs: Option<RawLogs>,
    pub notify: Option<RawNotify>,
}

/// The channels where the server's record is kept in Discord.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLogs {
    /// Every case, automatic or manual (default: `mod_log_channel`).
    pub cases: Option<Snowflake>,
    /// Deleted, bulk-deleted and edited messages.
    pub messages: Option<Snowflake>,
    /// Joins (with account age), leaves (with roles held) and name changes.
    pub members: Option<Snowflake>,
    /// Channels whose messages are never kept or logged.
    #[serde(default)]
    pub ignore_channels: Vec<Snowflake>,
    /// How long steward keeps a message to show it once deleted or edited (default 24h,
    /// at most 7d).
    pub keep_messages: Option<DurationValue>,
    /// How many of the server's messages steward keeps at most (default 10,000).
    pub max_messages: Option<u32>,
    /// Accounts younger than this are marked new when they join (default 7d).
    pub new_account: Option<DurationValue>,
}

/// Which sanctions members are told about by direct message, and how they can appeal.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawNotify {
    /// The sanctions that send a DM (default: all four).
    pub on: Option<Vec<RawNotifyOn>>,
    /// A link or a sentence shown in the DM: how to appeal.
    pub appeal: Option<String>,
    /// Where appeals made in Discord go; the DM then carries an "Appeal" button.
    pub appeals_channel: Option<Snowflake>,
    /// How long after a denied appeal the member may appeal the same case again
    /// (default 7d).
    pub appeal_cooldown: Option<DurationValue>,
}

/// A sanction a member can be told about.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RawNotifyOn {
    Warn,
    Timeout,
    Kick,
    Ban,
}

/// Answers posted by steward when a member asks, in a help channel, a question an FAQ
/// entry answers.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFaqAnswers {
    pub channels: Vec<Snowflake>,
    /// Share (0 to 1) of the question's words the entry must contain.
    #[serde(default = "default_min_score")]
    pub min_score: f64,
    /// Quiet time per channel and entry after an answer.
    pub cooldown: Option<DurationValue>,
}

fn default_min_score() -> f64 {
    0.6
}

/// How long warnings count and what piles of them lead to.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWarnings {
    pub expire_after: Option<DurationValue>,
    #[serde(default)]
    pub escalation: Vec<RawEscalationStep>,
}

/// One rung of the escalation ladder: `points` active within `within` → `action`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawEscalationStep {
    pub points: u32,
    pub within: DurationValue,
    pub action: RawAction,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLimits {
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_guilds: Option<usize>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_members: Option<usize>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_channels: Option<usize>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_history: Option<usize>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_joins: Option<usize>,
    pub idle: Option<DurationValue>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawList {
    pub builtin: Option<String>,
    #[serde(default)]
    pub words: Vec<String>,
    pub file: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawMode {
    #[default]
    Enforce,
    Shadow,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawEventKind {
    Message,
    #[serde(alias = "edit")]
    MessageEdit,
    #[serde(alias = "join")]
    MemberJoin,
    /// A member's username, display name or nickname changed.
    MemberUpdate,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    #[serde(deserialize_with = "rule_name")]
    #[schemars(length(min = 1, max = 100))]
    pub name: String,
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub mode: RawMode,
    pub description: Option<String>,
    #[serde(default)]
    pub when: RawConditions,
    pub cooldown: Option<DurationValue>,
    #[serde(default)]
    pub actions: Vec<RawAction>,
    pub words: Option<RawWords>,
    pub spam: Option<RawSpam>,
    pub links: Option<RawLinks>,
    pub scam: Option<RawScam>,
    pub regex: Option<RawRegex>,
    pub raid: Option<RawRaid>,
}

/// Longest rule name, in characters (names show in Discord embeds and audit rows).
pub const MAX_RULE_NAME: usize = 100;

fn rule_name<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    let name = String::deserialize(d)?;
    let chars = name.trim().chars().count();
    if chars == 0 || chars > MAX_RULE_NAME {
        return Err(de::Error::custom(format!(
            "a rule name is 1 to {MAX_RULE_NAME} characters, not {chars}"
        )));
    }
    Ok(name.trim().to_string())
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawConditions {
    #[serde(default)]
    pub events: Vec<RawEventKind>,
    #[serde(default)]
    pub channels: Vec<Snowflake>,
    #[serde(default)]
    pub exclude_channels: Vec<Snowflake>,
    #[serde(default)]
    pub categories: Vec<Snowflake>,
    #[serde(default)]
    pub exclude_categories: Vec<Snowflake>,
    #[serde(default)]
    pub exempt_roles: Vec<Snowflake>,
    #[serde(default)]
    pub required_roles: Vec<Snowflake>,
    pub ignore_bots: Option<bool>,
    pub min_account_age: Option<DurationValue>,
    pub max_account_age: Option<DurationValue>,
    pub min_member_age: Option<DurationValue>,
    pub max_member_age: Option<DurationValue>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWords {
    #[serde(default)]
    pub lists: Vec<String>,
    #[serde(default)]
    pub words: Vec<String>,
    #[serde(default)]
    pub allow: Vec<String>,
    pub allow_file: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWindow {
    #[serde(deserialize_with = "positive")]
    #[schemars(range(min = 1))]
    pub count: u32,
    pub per: DurationValue,
}

/// Messages in one channel by everyone together: a crowd, answered with slowmode.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawChannelRate {
    #[serde(deserialize_with = "positive")]
    #[schemars(range(min = 1))]
    pub count: u32,
    pub per: DurationValue,
    /// Seconds between one member's messages while the channel is slowed (1-21600).
    pub slowmode: Option<DurationValue>,
    /// How long the channel stays slowed.
    pub slowmode_for: Option<DurationValue>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDuplicates {
    #[serde(deserialize_with = "positive")]
    #[schemars(range(min = 1))]
    pub count: u32,
    pub per: DurationValue,
    #[serde(default = "default_similarity", deserialize_with = "share")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub similarity: f32,
}

fn default_similarity() -> f32 {
    0.8
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCaps {
    #[serde(deserialize_with = "share")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub ratio: f32,
    #[serde(default = "default_caps_letters", deserialize_with = "positive")]
    #[schemars(range(min = 1))]
    pub min_letters: u32,
}

fn default_caps_letters() -> u32 {
    15
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawSpam {
    pub rate: Option<RawWindow>,
    pub channel_rate: Option<RawChannelRate>,
    pub duplicates: Option<RawDuplicates>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub mentions_per_message: Option<u32>,
    pub mentions: Option<RawWindow>,
    pub links: Option<RawWindow>,
    pub attachments: Option<RawWindow>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_emoji: Option<u32>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_lines: Option<u32>,
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub max_length: Option<u32>,
    pub caps: Option<RawCaps>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawLinks {
    #[serde(default)]
    pub block_invites: bool,
    #[serde(default)]
    pub allowed_invites: Vec<String>,
    #[serde(default)]
    pub deny_domains: Vec<String>,
    pub deny_domains_file: Option<String>,
    #[serde(default)]
    pub allow_domains: Vec<String>,
    pub allow_domains_file: Option<String>,
    #[serde(default)]
    pub allow_only: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawScam {
    #[serde(default, deserialize_with = "positive_option")]
    #[schemars(range(min = 1))]
    pub threshold: Option<u32>,
    #[serde(default)]
    pub deny_domains: Vec<String>,
    pub deny_domains_file: Option<String>,
    #[serde(default)]
    pub allow_domains: Vec<String>,
    pub allow_domains_file: Option<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, PartialEq, Eq, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RawTarget {
    #[default]
    Original,
    Normalized,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRegex {
    pub patterns: Vec<PatternValue>,
    #[serde(default)]
    pub target: RawTarget,
    #[serde(default = "yes")]
    pub case_insensitive: bool,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRaid {
    pub joins: Option<RawWindow>,
    pub similar_names: Option<RawWindow>,
    pub same_first_message: Option<RawWindow>,
    pub pings: Option<RawWindow>,
    pub new_account: Option<DurationValue>,
    pub new_member: Option<DurationValue>,
    pub fresh_account: Option<DurationValue>,
    pub quiet: Option<DurationValue>,
    pub hold: Option<RawHold>,
    pub pause_invites: Option<bool>,
    pub pause_dms: Option<bool>,
}

/// How accounts that join in raid mode, outside the cohort, are held: `timeout`, `off`,
/// or `{role: ID}` (a quarantine role).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RawHold {
    Timeout,
    Off,
    Role(Snowflake),
}

impl<'de> Deserialize<'de> for RawHold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawHold;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("`timeout`, `off` or `{role: ID}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawHold, E> {
                match v {
                    "timeout" => Ok(RawHold::Timeout),
                    "off" => Ok(RawHold::Off),
                    other => Err(E::custom(format!(
                        "unknown hold `{other}`: expected `timeout`, `off` or `{{role: ID}}`"
                    ))),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawHold, A::Error> {
                let mut role = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "role" {
                        return Err(de::Error::unknown_field(&key, &["role"]));
                    }
                    role = Some(map.next_value::<Snowflake>()?);
                }
                role.map(RawHold::Role)
                    .ok_or_else(|| de::Error::missing_field("role"))
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawGuild {
    /// Changes to the default rules, by rule name.
    #[serde(default)]
    pub rules: BTreeMap<String, RawPatch>,
    /// Rules only this guild has.
    #[serde(default)]
    pub add_rules: Vec<RawRule>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPatch {
    pub enabled: Option<bool>,
    pub mode: Option<RawMode>,
    pub when: Option<RawConditions>,
    pub cooldown: Option<DurationValue>,
    pub actions: Option<Vec<RawAction>>,
}

/// One action: a bare name (`delete`, `kick`, `lockdown`) or a one-key map with settings
/// (`warn: {points: 2}`, `timeout: 10m`, `ban: {duration: 7d, delete_messages: 1d}`).
#[derive(Debug, Clone, PartialEq)]
pub enum RawAction {
    Delete,
    Warn {
        points: u32,
        expires: Option<Duration>,
    },
    Timeout {
        duration: Duration,
    },
    Kick,
    Ban {
        duration: Option<Duration>,
        delete_messages: Duration,
    },
    Alert {
        channel: Option<Snowflake>,
    },
    Lockdown {
        channels: Vec<Snowflake>,
        duration: Option<Duration>,
    },
    RaidMode {
        duration: Duration,
    },
    Rename {
        to: String,
    },
}

/// Names of the actions, for error messages and suggestions.
pub const ACTION_NAMES: &[&str] = &[
    "delete",
    "warn",
    "timeout",
    "kick",
    "ban",
    "alert",
    "lockdown",
    "raid_mode",
    "rename",
];

/// Discord's longest server nickname, in characters.
pub const MAX_NICKNAME: usize = 32;

/// Discord's longest timeout.
pub const MAX_TIMEOUT: Duration = Duration::from_secs(28 * 86_400);
/// Discord deletes at most a week of a banned member's messages.
pub const MAX_BAN_DELETE: Duration = Duration::from_secs(7 * 86_400);

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct WarnSettings {
    #[serde(default = "one", deserialize_with = "positive")]
    #[schemars(range(min = 1))]
    points: u32,
    expires: Option<DurationValue>,
}

fn one() -> u32 {
    1
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct BanSettings {
    duration: Option<DurationValue>,
    delete_messages: Option<AnyDurationValue>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RenameSettings {
    to: String,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct AlertSettings {
    channel: Option<Snowflake>,
}

#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct LockdownSettings {
    #[serde(default)]
    channels: Vec<Snowflake>,
    duration: Option<DurationValue>,
}

/// The settings of an action that has none: `kick: {}` or `kick: null`, nothing else.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoSettings {}

/// `timeout: 10m` or `timeout: {duration: 10m}`.
struct DurationOrSettings(Duration);

impl<'de> Deserialize<'de> for DurationOrSettings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = DurationOrSettings;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a duration such as `10m`, or `{duration: 10m}`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<DurationOrSettings, E> {
                parse_duration(v)
                    .and_then(nonzero)
                    .map(DurationOrSettings)
                    .map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<DurationOrSettings, A::Error> {
                let mut duration = None;
                while let Some(key) = map.next_key::<String>()? {
                    if key != "duration" {
                        return Err(de::Error::unknown_field(&key, &["duration"]));
                    }
                    duration = Some(map.next_value::<DurationValue>()?.0);
                }
                duration
                    .map(DurationOrSettings)
                    .ok_or_else(|| de::Error::missing_field("duration"))
            }
        }
        d.deserialize_any(V)
    }
}

impl DurationOrSettings {
    fn get(self) -> Duration {
        self.0
    }
}

fn unknown_action<E: de::Error>(name: &str) -> E {
    let hint = super::suggest(name, ACTION_NAMES)
        .map(|s| format!(" (did you mean `{s}`?)"))
        .unwrap_or_default();
    E::custom(format!(
        "unknown action `{name}`{hint}; expected one of {}",
        ACTION_NAMES.join(", ")
    ))
}

impl<'de> Deserialize<'de> for RawAction {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawAction;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an action: `delete`, `kick`, `lockdown`, or a map such as `warn: {points: 2}` or `timeout: 10m`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawAction, E> {
                match v {
                    "delete" => Ok(RawAction::Delete),
                    "kick" => Ok(RawAction::Kick),
                    "warn" => Ok(RawAction::Warn {
                        points: 1,
                        expires: None,
                    }),
                    "ban" => Ok(RawAction::Ban {
                        duration: None,
                        delete_messages: Duration::from_secs(0),
                    }),
                    "alert" => Ok(RawAction::Alert { channel: None }),
                    "rename" => Ok(RawAction::Rename {
                        to: DEFAULT_RENAME.to_string(),
                    }),
                    "lockdown" => Ok(RawAction::Lockdown {
                        channels: Vec::new(),
                        duration: None,
                    }),
                    "timeout" | "raid_mode" => Err(E::custom(format!(
                        "`{v}` needs a duration, e.g. `{v}: 10m`"
                    ))),
                    other => Err(unknown_action(other)),
                }
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawAction, A::Error> {
                let Some(name) = map.next_key::<String>()? else {
                    return Err(de::Error::custom(
                        "an action map needs one key, the action's name",
                    ));
                };
                let action = match name.as_str() {
                    "delete" => {
                        map.next_value::<Option<NoSettings>>()?;
                        RawAction::Delete
                    }
                    "kick" => {
                        map.next_value::<Option<NoSettings>>()?;
                        RawAction::Kick
                    }
                    "warn" => {
                        let s = map.next_value::<WarnSettings>()?;
                        RawAction::Warn {
                            points: s.points,
                            expires: s.expires.map(|d| d.0),
                        }
                    }
                    "timeout" => {
                        let duration = map.next_value::<DurationOrSettings>()?.get();
                        if duration > MAX_TIMEOUT || duration.0 == 0 {
                            return Err(de::Error::custom(format!(
                                "timeout of {duration} is out of range: Discord allows 1s to 28d"
                            )));
                        }
                        RawAction::Timeout { duration }
                    }
                    "raid_mode" => RawAction::RaidMode {
                        duration: map.next_value::<DurationOrSettings>()?.get(),
                    },
                    "ban" => {
                        let s = map.next_value::<BanSettings>()?;
                        let delete_messages = s.delete_messages.map_or(Duration(0), |d| d.0);
                        if delete_messages > MAX_BAN_DELETE {
                            return Err(de::Error::custom(format!(
                                "delete_messages of {delete_messages} is too long: Discord deletes at most 7d"
                            )));
                        }
                        RawAction::Ban {
                            duration: s.duration.map(|d| d.0),
                            delete_messages,
                        }
                    }
                    "alert" => RawAction::Alert {
                        channel: map.next_value::<AlertSettings>()?.channel,
                    },
                    "lockdown" => {
                        let s = map.next_value::<LockdownSettings>()?;
                        RawAction::Lockdown {
                            channels: s.channels,
                            duration: s.duration.map(|d| d.0),
                        }
                    }
                    "rename" => {
                        let to = map.next_value::<RenameSettings>()?.to;
                        let chars = to.trim().chars().count();
                        if chars == 0 || chars > MAX_NICKNAME {
                            return Err(de::Error::custom(format!(
                                "rename `to` must be 1 to {MAX_NICKNAME} characters, not {chars}"
                            )));
                        }
                        RawAction::Rename {
                            to: to.trim().to_string(),
                        }
                    }
                    other => return Err(unknown_action(other)),
                };
                if let Some(extra) = map.next_key::<String>()? {
                    return Err(de::Error::custom(format!(
                        "an action has one key; `{extra}` belongs in a separate `- {extra}` item"
                    )));
                }
                Ok(action)
            }
        }
        d.deserialize_any(V)
    }
}
