//! Compiled rules: what the rules file becomes once parsed and validated.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::detect::{
    links::LinksConfig, pattern::PatternConfig, raid::RaidConfig, scam::ScamConfig,
    spam::SpamConfig, words::WordMatchers,
};
use super::event::{Author, ChannelId, EventKind, GuildId, Message, RoleId};
use super::time::{Duration, Timestamp};
use super::verdict::{Action, Mode};

/// What makes a rule fire.
#[derive(Clone, Debug)]
pub enum Trigger {
    Words(WordMatchers),
    Spam(SpamConfig),
    Links(LinksConfig),
    Scam(ScamConfig),
    Pattern(PatternConfig),
    Raid(RaidConfig),
}

impl Trigger {
    /// The family name used in reports.
    pub fn family(&self) -> &'static str {
        match self {
            Trigger::Words(_) => "words",
            Trigger::Spam(_) => "spam",
            Trigger::Links(_) => "links",
            Trigger::Scam(_) => "scam",
            Trigger::Pattern(_) => "regex",
            Trigger::Raid(_) => "raid",
        }
    }

    /// Events the family looks at when a rule does not say.
    pub fn default_events(&self) -> &'static [EventKind] {
        match self {
            Trigger::Spam(_) => &[EventKind::Message],
            Trigger::Raid(_) => &[EventKind::MemberJoin, EventKind::Message],
            _ => &[EventKind::Message, EventKind::MessageEdit],
        }
    }
}

/// Where and for whom a rule applies. Empty lists do not restrict.
#[derive(Clone, Debug, Default)]
pub struct Conditions {
    pub events: Vec<EventKind>,
    pub channels: Vec<ChannelId>,
    pub exclude_channels: Vec<ChannelId>,
    pub categories: Vec<ChannelId>,
    pub exclude_categories: Vec<ChannelId>,
    /// Members with any of these roles are never affected.
    pub exempt_roles: Vec<RoleId>,
    /// Only members with at least one of these roles are affected.
    pub required_roles: Vec<RoleId>,
    pub ignore_bots: bool,
    pub min_account_age: Option<Duration>,
    pub max_account_age: Option<Duration>,
    pub min_member_age: Option<Duration>,
    pub max_member_age: Option<Duration>,
}

impl Conditions {
    /// Whether the rule applies to `author` at `now`.
    pub fn author_matches(&self, author: &Author, now: Timestamp) -> bool {
        if self.ignore_bots && author.bot {
            return false;
        }
        if author.roles.iter().any(|r| self.exempt_roles.contains(r)) {
            return false;
        }
        if !self.required_roles.is_empty()
            && !author.roles.iter().any(|r| self.required_roles.contains(r))
        {
            return false;
        }
        age_matches(
            author.created_at,
            now,
            self.min_account_age,
            self.max_account_age,
        ) && age_matches(
            author.joined_at,
            now,
            self.min_member_age,
            self.max_member_age,
        )
    }

    /// Whether the rule applies in the message's channel.
    pub fn place_matches(&self, message: &Message) -> bool {
        let channel = message.channel_id;
        let category = message.category_id;
        if self.exclude_channels.contains(&channel) {
            return false;
        }
        if category.is_some_and(|c| self.exclude_categories.contains(&c)) {
            return false;
        }
        if self.channels.is_empty() && self.categories.is_empty() {
            return true;
        }
        self.channels.contains(&channel) || category.is_some_and(|c| self.categories.contains(&c))
    }
}

/// Unknown ages pass a minimum (nothing proves the account is young) and fail a maximum
/// (nothing proves it is young enough), so that missing data never makes a rule harsher.
fn age_matches(
    since: Option<Timestamp>,
    now: Timestamp,
    min: Option<Duration>,
    max: Option<Duration>,
) -> bool {
    match since {
        Some(at) => {
            let age = now.since(at);
            min.is_none_or(|m| age >= m) && max.is_none_or(|m| age <= m)
        }
        None => max.is_none(),
    }
}

/// One rule, ready to run.
#[derive(Clone, Debug)]
pub struct Rule {
    pub name: Arc<str>,
    pub enabled: bool,
    pub mode: Mode,
    pub conditions: Conditions,
    /// After firing for a member, the rule stays quiet for them this long.
    pub cooldown: Option<Duration>,
    pub actions: Vec<Action>,
    /// Shared by the copies of the rule that servers' patches make.
    pub trigger: Arc<Trigger>,
}

impl Rule {
    /// Whether the rule looks at events of `kind`.
    pub fn watches(&self, kind: EventKind) -> bool {
        if self.conditions.events.is_empty() {
            self.trigger.default_events().contains(&kind)
        } else {
            self.conditions.events.contains(&kind)
        }
    }
}

/// Caps on the engine's memory.
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    pub max_guilds: usize,
    /// Members tracked per guild.
    pub max_members: usize,
    /// Channels tracked per guild.
    pub max_channels: usize,
    /// Messages remembered per member.
    pub max_history: usize,
    /// Joins remembered per guild.
    pub max_joins: usize,
    /// Members and channels silent this long are forgotten.
    pub idle: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_guilds: 1_000,
            max_members: 50_000,
            max_channels: 5_000,
            max_history: 50,
            max_joins: 5_000,
            idle: Duration::from_secs(3_600),
        }
    }
}

/// Every rule, with per-guild variants.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    pub rules: Arc<[Rule]>,
    /// Guilds whose rules differ from the defaults.
    pub guilds: FxHashMap<GuildId, Arc<[Rule]>>,
    pub limits: Limits,
}

impl RuleSet {
    /// The rules in force in `guild`.
    pub fn for_guild(&self, guild: GuildId) -> &Arc<[Rule]> {
        self.guilds.get(&guild).unwrap_or(&self.rules)
    }

    /// The longest window any rule looks back over, so state keeps just enough history.
    pub fn longest_window(&self) -> Duration {
        let mut longest = Duration::from_secs(60);
        for rule in self
            .rules
            .iter()
            .chain(self.guilds.values().flat_map(|r| r.iter()))
        {
            let windows: Vec<Duration> = match &*rule.trigger {
                Trigger::Spam(s) => [
                    s.rate,
                    s.channel_rate,
                    s.duplicates,
                    s.mentions,
                    s.links,
                    s.attachments,
                ]
                .iter()
                .flatten()
                .map(|w| w.per)
                .collect(),
                Trigger::Raid(r) => [r.joins, r.similar_names, r.same_first_message]
                    .iter()
                    .flatten()
                    .map(|w| w.per)
                    .collect(),
                _ => Vec::new(),
            };
            longest = windows.into_iter().fold(longest, Duration::max);
        }
        longest
    }
}
