//! Raids as cohorts. A raid is a group of accounts that arrive together and share signs a
//! community's members do not: fresh accounts in a burst, look-alike names, the same first
//! message or link, newcomers pinging members. Detection names the cohort (the accounts
//! that share the signs); later arrivals with the same signs join it, while anyone else who
//! arrives in raid mode is held for moderators, never banned by association. A crowd of
//! established accounts (a partner server's event) is not a raid.

use std::collections::VecDeque;

use rustc_hash::{FxHashMap, FxHashSet};

use super::spam::Window;
use crate::engine::event::{Author, RoleId, UserId};
use crate::engine::normalize::{Normalized, key_char};
use crate::engine::time::{Duration, Timestamp};

/// Which raid signs a rule watches (unset ones are off) and how raid mode behaves.
#[derive(Clone, Debug, PartialEq)]
pub struct RaidConfig {
    /// So many joins of accounts that are not established, within the window, start a raid.
    pub joins: Option<Window>,
    /// So many joins with alike names (digits and look-alikes folded) start a raid.
    pub similar_names: Option<Window>,
    /// So many new members posting the same first message or link start a raid.
    pub same_first_message: Option<Window>,
    /// So many fresh new members pinging others start a raid.
    pub pings: Option<Window>,
    /// Accounts younger than this are flagged when they join (one by one, not a raid).
    pub new_account: Option<Duration>,
    /// How recently a member must have joined to count as new.
    pub new_member: Duration,
    /// Accounts at least this old are established: never in a cohort by timing alone.
    pub fresh_account: Duration,
    /// Raid mode ends once no cohort account has arrived for this long.
    pub quiet: Duration,
    /// What happens to accounts that join in raid mode but are not in the cohort.
    pub hold: Hold,
    /// Ask Discord to pause invites while raid mode lasts.
    pub pause_invites: bool,
    /// Ask Discord to pause direct messages between members while raid mode lasts.
    pub pause_dms: bool,
}

impl Default for RaidConfig {
    fn default() -> Self {
        RaidConfig {
            joins: None,
            similar_names: None,
            same_first_message: None,
            pings: None,
            new_account: None,
            new_member: Duration::from_secs(1800),
            fresh_account: Duration::from_secs(7 * 86_400),
            quiet: Duration::from_secs(300),
            hold: Hold::Timeout,
            pause_invites: true,
            pause_dms: false,
        }
    }
}

impl RaidConfig {
    /// Whether the rule looks for raids, not only at single new accounts.
    pub fn detects_raids(&self) -> bool {
        self.joins.is_some()
            || self.similar_names.is_some()
            || self.same_first_message.is_some()
            || self.pings.is_some()
    }

    /// Whether the rule reads messages (first messages or pings of new members).
    pub fn watches_messages(&self) -> bool {
        self.same_first_message.is_some() || self.pings.is_some()
    }
}

/// How an account that joins in raid mode, but is not in the cohort, is held.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Hold {
    /// A Discord timeout until raid mode's latest end.
    #[default]
    Timeout,
    /// A quarantine role (which the server denies sending), until raid mode's latest end.
    Role(RoleId),
    /// Nothing: such accounts are let in.
    Off,
}

/// A name folded for comparison: `spambot123`, `SpamBot_77` and `ѕраmbot` have one `full`
/// key; `raid_xkq` and `raid_pzm` share the stem `raid`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NameKey {
    /// Every letter, folded.
    pub full: String,
    /// The first word of four or more letters, when the name has more than that word.
    pub stem: Option<String>,
    /// The first and last words of a name of three or more (`xX_shadow_Xx`): raiders'
    /// names often share a frame around a changing middle.
    pub frame: Option<(String, String)>,
}

/// Folds `name` for comparison with other joiners' names.
pub fn name_key(name: &str) -> NameKey {
    let n = Normalized::new(name);
    // Look-alike digits count inside a word (`sp4mlord`); a number at the end is a suffix.
    let chars: Vec<char> = n.text.chars().collect();
    let full: String = chars
        .iter()
        .enumerate()
        .filter_map(|(i, &c)| {
            let inside = i > 0
                && chars[i - 1].is_alphabetic()
                && chars.get(i + 1).is_some_and(|n| n.is_alphabetic());
            let read = if inside { key_char(c) } else { c };
            read.is_alphabetic().then_some(read)
        })
        .collect();
    let words: Vec<String> = n
        .text
        .split(|c: char| !c.is_alphabetic())
        .filter(|w| !w.is_empty())
        .map(|w| w.chars().map(key_char).collect::<String>())
        .collect();
    let stem = words
        .iter()
        .find(|w| w.chars().count() >= 4)
        .filter(|w| w.len() < full.len())
        .cloned();
    let frame = match words.as_slice() {
        [first, .., last] if words.len() >= 3 => Some((first.clone(), last.clone())),
        _ => None,
    };
    NameKey { full, stem, frame }
}

/// Whether two names look alike: the same letters, or (for accounts that are not
/// established, whose names raiders generate) the same stem or a long shared beginning.
pub fn names_alike(a: &NameKey, b: &NameKey, loose: bool) -> bool {
    if a.full.chars().count() >= 3 && a.full == b.full {
        return true;
    }
    if !loose {
        return false;
    }
    if (a.stem.is_some() && a.stem == b.stem) || (a.frame.is_some() && a.frame == b.frame) {
        return true;
    }
    let shared = a
        .full
        .chars()
        .zip(b.full.chars())
        .take_while(|(x, y)| x == y)
        .count();
    let longer = a.full.chars().count().max(b.full.chars().count());
    shared >= 5 && shared * 5 >= longer * 3
}

/// How old an account is at `now`, if known.
pub fn account_age(created: Option<Timestamp>, now: Timestamp) -> Option<Duration> {
    created.map(|c| now.since(c))
}

/// One recent join.
#[derive(Clone, Debug)]
pub struct JoinRecord {
    pub at: Timestamp,
    pub user: UserId,
    pub name: NameKey,
    /// The account's age when it joined, if known.
    pub age: Option<Duration>,
}

impl JoinRecord {
    fn established(&self, fresh: Duration) -> bool {
        self.age.is_some_and(|a| a >= fresh)
    }
}

/// The accounts of a raid and the signs they share.
#[derive(Clone, Debug)]
pub struct Cohort {
    /// The rule that named it.
    pub rule: std::sync::Arc<str>,
    /// Raid mode's latest end, however busy the raid stays.
    pub ends_by: Timestamp,
    /// When the last cohort account arrived (or the raid was detected).
    pub last_seen: Timestamp,
    pub quiet: Duration,
    /// Whether the rule turns on raid mode, in which others who join are held.
    pub raid_mode: bool,
    pub signs: Signs,
    /// Accounts already in the cohort (capped), so none is acted on twice.
    pub members: FxHashSet<UserId>,
}

impl Cohort {
    /// When the cohort stops taking new members, if nothing more arrives.
    pub fn ends(&self) -> Timestamp {
        self.ends_by.min(self.last_seen + self.quiet)
    }

    /// Takes `user` into the cohort (up to `cap` accounts remembered): the raid is still
    /// arriving at `now`.
    pub fn admit(&mut self, user: UserId, now: Timestamp, cap: usize) {
        self.last_seen = now;
        add_members(&mut self.members, &[user], cap);
    }

    /// Whether the cohort is still growing at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        now < self.ends()
    }
}

/// What the cohort's accounts share.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Signs {
    /// Joiners whose account is younger than this (or of unknown age) belong.
    pub fresh_within: Option<Duration>,
    /// Joiners named like one of these belong.
    pub names: Vec<NameKey>,
    /// New members posting one of these (text or link keys) belong.
    pub messages: Vec<u64>,
    /// Fresh new members who ping others belong.
    pub pings: bool,
}

/// At most this many name and message keys describe a cohort.
const MAX_SIGNS: usize = 32;

/// What one guild's raid detection remembers.
#[derive(Clone, Debug, Default)]
pub struct RaidState {
    pub joins: VecDeque<JoinRecord>,
    /// Recent joiners: when they joined and when their account was made, for messages
    /// whose author's times the event did not carry.
    pub joined: FxHashMap<UserId, (Timestamp, Option<Timestamp>)>,
    /// New members' first messages: (time, key, author).
    pub first_messages: VecDeque<(Timestamp, u64, UserId)>,
    /// New members whose first message has been seen.
    pub posted: FxHashMap<UserId, Timestamp>,
    /// Fresh new members who pinged others: (time, author).
    pub pings: VecDeque<(Timestamp, UserId)>,
    pub cohort: Option<Cohort>,
    /// Raid mode a moderator turned on, until this time.
    pub manual_until: Option<Timestamp>,
}

/// A raid found, with the accounts and signs of its cohort.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub reason: String,
    pub accounts: Vec<UserId>,
    pub signs: Signs,
}

impl RaidState {
    /// Records a join; keeps at most `cap` of them and none older than `keep`.
    pub fn record_join(&mut self, user: &Author, at: Timestamp, keep: Duration, cap: usize) {
        let name = user.display_name.as_deref().unwrap_or(&user.name);
        self.joins.push_back(JoinRecord {
            at,
            user: user.id,
            name: name_key(name),
            age: account_age(user.created_at, at),
        });
        while self.joins.len() > cap || self.joins.front().is_some_and(|j| at.since(j.at) > keep) {
            self.joins.pop_front();
        }
        if self.joined.len() >= cap {
            self.joined.retain(|_, (t, _)| at.since(*t) <= keep);
        }
        if self.joined.len() < cap {
            self.joined.insert(user.id, (at, user.created_at));
        }
    }

    /// When `author` joined, from the message or from the join seen.
    pub fn joined_at(&self, author: &Author) -> Option<Timestamp> {
        author
            .joined_at
            .or_else(|| self.joined.get(&author.id).map(|(at, _)| *at))
    }

    /// When `author`'s account was made, from the message or from the join seen.
    pub fn created_at(&self, author: &Author) -> Option<Timestamp> {
        author
            .created_at
            .or_else(|| self.joined.get(&author.id).and_then(|(_, c)| *c))
    }

    /// Until when raid mode is on, if it is at `now`: a moderator's, or a cohort's whose
    /// rule turns raid mode on.
    pub fn raid_mode_until(&self, now: Timestamp) -> Option<Timestamp> {
        let manual = self.manual_until.filter(|u| now < *u);
        let cohort = self
            .cohort
            .as_ref()
            .filter(|c| c.raid_mode && c.active(now))
            .map(Cohort::ends);
        manual.max(cohort)
    }

    /// The active cohort, if any.
    pub fn active_cohort(&mut self, now: Timestamp) -> Option<&mut Cohort> {
        self.cohort.as_mut().filter(|c| c.active(now))
    }

    /// Starts a cohort, or adds to the active one.
    pub fn start_cohort(&mut self, found: &Detection, start: CohortStart, now: Timestamp) {
        match self.cohort.as_mut().filter(|c| c.active(now)) {
            Some(c) => {
                merge_signs(&mut c.signs, &found.signs);
                c.last_seen = now;
                c.raid_mode |= start.raid_mode;
                add_members(&mut c.members, &found.accounts, start.cap);
            }
            None => {
                let mut members = FxHashSet::default();
                add_members(&mut members, &found.accounts, start.cap);
                self.cohort = Some(Cohort {
                    rule: start.rule,
                    ends_by: now + start.longest,
                    last_seen: now,
                    quiet: start.quiet,
                    raid_mode: start.raid_mode,
                    signs: found.signs.clone(),
                    members,
                });
            }
        }
    }
}

/// How a new cohort behaves: from its rule.
#[derive(Clone, Debug)]
pub struct CohortStart {
    pub rule: std::sync::Arc<str>,
    pub raid_mode: bool,
    pub longest: Duration,
    pub quiet: Duration,
    pub cap: usize,
}

fn add_members(members: &mut FxHashSet<UserId>, accounts: &[UserId], cap: usize) {
    for a in accounts {
        if members.len() >= cap {
            return;
        }
        members.insert(*a);
    }
}

fn merge_signs(into: &mut Signs, from: &Signs) {
    into.fresh_within = into.fresh_within.max(from.fresh_within);
    for n in &from.names {
        if into.names.len() < MAX_SIGNS && !into.names.contains(n) {
            into.names.push(n.clone());
        }
    }
    for m in &from.messages {
        if into.messages.len() < MAX_SIGNS && !into.messages.contains(m) {
            into.messages.push(*m);
        }
    }
    into.pings |= from.pings;
}

/// Checks the newest join (the last one recorded) for the start of a raid.
pub fn check_join(config: &RaidConfig, state: &RaidState, now: Timestamp) -> Option<Detection> {
    let newest = state.joins.back()?;
    let flood = config.joins.and_then(|w| join_flood(config, state, w, now));
    let names = config
        .similar_names
        .and_then(|w| alike_names(config, state, newest, w, now));
    match (flood, names) {
        (Some(mut f), Some(n)) => {
            merge_signs(&mut f.signs, &n.signs);
            for a in n.accounts {
                if !f.accounts.contains(&a) {
                    f.accounts.push(a);
                }
            }
            f.reason = format!("{}; {}", f.reason, n.reason);
            Some(f)
        }
        (f, n) => f.or(n),
    }
}

/// Many accounts that are not established, joining within the window. Established
/// accounts joining together (an event) are no raid.
fn join_flood(
    config: &RaidConfig,
    state: &RaidState,
    w: Window,
    now: Timestamp,
) -> Option<Detection> {
    let fresh: Vec<&JoinRecord> = recent_joins(state, now, w.per)
        .filter(|j| !j.established(config.fresh_account))
        .collect();
    if fresh.len() < w.count as usize {
        return None;
    }
    Some(Detection {
        reason: format!(
            "{} new accounts joined within {} (younger than {})",
            fresh.len(),
            w.per,
            config.fresh_account
        ),
        accounts: fresh.iter().rev().map(|j| j.user).collect(),
        signs: Signs {
            fresh_within: Some(age_band(config, &fresh)),
            ..Signs::default()
        },
    })
}

/// The ages a flood's later accounts may have to belong to it: twice the oldest seen, at
/// least a day, at most what counts as fresh. A newcomer whose account is older than the
/// raid's is held, not banned.
fn age_band(config: &RaidConfig, accounts: &[&JoinRecord]) -> Duration {
    let oldest = accounts
        .iter()
        .map(|j| j.age)
        .try_fold(0u64, |max, age| age.map(|a| max.max(a.0)));
    match oldest {
        Some(ms) => Duration(ms.saturating_mul(2).max(86_400_000)).min(config.fresh_account),
        None => config.fresh_account,
    }
}

/// Joiners named like the newest within the window.
fn alike_names(
    config: &RaidConfig,
    state: &RaidState,
    newest: &JoinRecord,
    w: Window,
    now: Timestamp,
) -> Option<Detection> {
    let loose = !newest.established(config.fresh_account);
    let alike: Vec<UserId> = recent_joins(state, now, w.per)
        .filter(|j| {
            let both_loose = loose && !j.established(config.fresh_account);
            names_alike(&newest.name, &j.name, both_loose)
        })
        .map(|j| j.user)
        .collect();
    if alike.len() < w.count as usize {
        return None;
    }
    Some(Detection {
        reason: format!(
            "{} joins named like `{}` within {}",
            alike.len(),
            newest.name.full,
            w.per
        ),
        accounts: alike.into_iter().rev().collect(),
        signs: Signs {
            names: vec![newest.name.clone()],
            ..Signs::default()
        },
    })
}

/// Whether the newest join belongs to `cohort`, and why.
pub fn joins_cohort(config: &RaidConfig, cohort: &Cohort, join: &JoinRecord) -> Option<String> {
    if let Some(band) = cohort.signs.fresh_within
        && join.age.is_none_or(|a| a < band)
    {
        return Some(format!(
            "a new account like the raid's (younger than {band})"
        ));
    }
    let loose = !join.established(config.fresh_account);
    cohort
        .signs
        .names
        .iter()
        .find(|n| names_alike(n, &join.name, loose))
        .map(|n| format!("named like the raid's accounts (`{}`)", n.full))
}

fn recent_joins(
    state: &RaidState,
    now: Timestamp,
    per: Duration,
) -> impl Iterator<Item = &JoinRecord> {
    state
        .joins
        .iter()
        .rev()
        .take_while(move |j| now.since(j.at) <= per)
}

/// What the raid checks read of a message from a new member.
#[derive(Clone, Debug)]
pub struct NewMemberPost<'a> {
    pub author: &'a Author,
    /// Whether the author's account is established.
    pub established: bool,
    /// The key of the message as a raid sign (see [`message_key`]), if it can be one.
    pub key: Option<u64>,
    /// Users, roles and everyone pinged.
    pub mentions: u32,
    pub now: Timestamp,
}

/// Hosts many members link every day: the same link from several newcomers is no sign.
const COMMON_HOSTS: &[&str] = &[
    "discord.com",
    "discordapp.com",
    "cdn.discordapp.com",
    "media.discordapp.net",
    "tenor.com",
    "giphy.com",
    "imgur.com",
    "i.imgur.com",
    "youtube.com",
    "youtu.be",
    "twitch.tv",
    "twitter.com",
    "x.com",
    "reddit.com",
    "github.com",
    "google.com",
    "wikipedia.org",
    "en.wikipedia.org",
];

/// The key by which several new members' messages count as one: the link's host, or
/// (for accounts that are not established) the text when it says something particular.
/// Greetings do not count: a crowd arriving for an event says the same "hi all".
pub fn message_key(text: &Normalized, link_host: Option<&str>, established: bool) -> Option<u64> {
    if let Some(host) = link_host.filter(|h| !COMMON_HOSTS.contains(h)) {
        // The site, not the host: `a1.claim-nitro.ru` and `b2.claim-nitro.ru` are one.
        let site = psl::domain_str(host).unwrap_or(host);
        return Some(super::spam::text_hash(site) ^ 0x6C69_6E6B);
    }
    if established {
        return None;
    }
    let letters = text.text.chars().filter(|c| c.is_alphabetic()).count();
    let words = text.tokens.len();
    (letters >= 16 && words >= 3).then(|| super::spam::text_hash(&text.text))
}

/// Whether a message's author is new enough for the message checks to read it: joined
/// within `new_member`, or (when the join time is unknown) an account that is not
/// established.
pub fn is_new_member(
    config: &RaidConfig,
    state: &RaidState,
    author: &Author,
    now: Timestamp,
) -> bool {
    match state.joined_at(author) {
        Some(joined) => now.since(joined) <= config.new_member,
        None => {
            account_age(state.created_at(author), now).is_some_and(|a| a < config.fresh_account)
        }
    }
}

/// Whether an account made at `created` is established at `now`.
pub fn established(config: &RaidConfig, created: Option<Timestamp>, now: Timestamp) -> bool {
    account_age(created, now).is_some_and(|a| a >= config.fresh_account)
}

/// Whether a new member's message puts them in the active cohort, and why.
pub fn posts_like_cohort(cohort: &Cohort, post: &NewMemberPost) -> Option<String> {
    if cohort.members.contains(&post.author.id) {
        return None;
    }
    if let Some(key) = post.key
        && cohort.signs.messages.contains(&key)
    {
        return Some("posted the raid's message".to_string());
    }
    if cohort.signs.pings && post.mentions > 0 && !post.established {
        return Some("a new account pinging members, like the raid's".to_string());
    }
    None
}

/// Records a new member's message and checks whether several new members sent the same
/// first message, or several fresh ones pinged others.
pub fn check_post(
    config: &RaidConfig,
    state: &mut RaidState,
    post: &NewMemberPost,
    cap: usize,
) -> Option<Detection> {
    let same = config
        .same_first_message
        .and_then(|w| same_first_message(config, state, post, w, cap));
    let pings = config
        .pings
        .and_then(|w| pinging(config, state, post, w, cap));
    same.or(pings)
}

fn same_first_message(
    config: &RaidConfig,
    state: &mut RaidState,
    post: &NewMemberPost,
    w: Window,
    cap: usize,
) -> Option<Detection> {
    let now = post.now;
    let author = post.author.id;
    if state.posted.contains_key(&author) {
        return None;
    }
    if state.posted.len() >= cap {
        let keep = config.new_member;
        state.posted.retain(|_, at| now.since(*at) <= keep);
    }
    if state.posted.len() < cap {
        state.posted.insert(author, now);
    }
    let key = post.key?;
    state.first_messages.push_back((now, key, author));
    while state.first_messages.len() > cap
        || state
            .first_messages
            .front()
            .is_some_and(|f| now.since(f.0) > w.per)
    {
        state.first_messages.pop_front();
    }
    let senders: Vec<UserId> = state
        .first_messages
        .iter()
        .filter(|(_, k, _)| *k == key)
        .map(|(_, _, user)| *user)
        .collect();
    (senders.len() >= w.count as usize).then(|| Detection {
        reason: format!(
            "{} new members sent the same first message within {}",
            senders.len(),
            w.per
        ),
        accounts: senders,
        signs: Signs {
            messages: vec![key],
            ..Signs::default()
        },
    })
}

fn pinging(
    config: &RaidConfig,
    state: &mut RaidState,
    post: &NewMemberPost,
    w: Window,
    cap: usize,
) -> Option<Detection> {
    let now = post.now;
    if post.mentions == 0 || post.established {
        return None;
    }
    while state.pings.len() >= cap
        || state
            .pings
            .front()
            .is_some_and(|(at, _)| now.since(*at) > w.per)
    {
        state.pings.pop_front();
    }
    if !state.pings.iter().any(|(_, u)| *u == post.author.id) {
        state.pings.push_back((now, post.author.id));
    }
    if state.pings.len() < w.count as usize {
        return None;
    }
    Some(Detection {
        reason: format!(
            "{} new accounts pinged members within {}",
            state.pings.len(),
            w.per
        ),
        accounts: state.pings.iter().map(|(_, u)| *u).collect(),
        signs: Signs {
            pings: true,
            fresh_within: Some(config.fresh_account),
            ..Signs::default()
        },
    })
}

/// A single new account, flagged when it joins (not a raid).
pub fn new_account(config: &RaidConfig, user: &Author, now: Timestamp) -> Option<String> {
    let min_age = config.new_account?;
    let age = account_age(user.created_at, now)?;
    (age < min_age).then(|| format!("account created {} ago", Duration(age.0 / 1000 * 1000)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: u64 = 86_400_000;

    fn author(id: u64, name: &str, age_days: Option<u64>, now: Timestamp) -> Author {
        Author {
            id: UserId(id),
            name: name.into(),
            created_at: age_days.map(|d| Timestamp(now.0 - (d * DAY) as i64)),
            ..Author::default()
        }
    }

    fn config() -> RaidConfig {
        RaidConfig {
            joins: Some(Window {
                count: 3,
                per: Duration::from_secs(10),
            }),
            ..RaidConfig::default()
        }
    }

    fn join(state: &mut RaidState, user: &Author, now: Timestamp) {
        state.record_join(user, now, Duration::from_secs(3600), 1000);
    }

    #[test]
    fn fresh_join_flood_names_its_accounts() {
        let mut state = RaidState::default();
        let mut found = None;
        for i in 0..3 {
            let now = Timestamp(100 * DAY as i64 + i * 1000);
            join(
                &mut state,
                &author(i as u64, &format!("user{i}"), Some(0), now),
                now,
            );
            found = check_join(&config(), &state, now);
        }
        let found = found.expect("raid");
        assert_eq!(found.accounts, vec![UserId(0), UserId(1), UserId(2)]);
        assert_eq!(found.signs.fresh_within, Some(Duration(DAY)));
    }

    #[test]
    fn established_accounts_arriving_together_are_no_raid() {
        let mut state = RaidState::default();
        for i in 0..20 {
            let now = Timestamp(1000 * DAY as i64 + i * 300);
            join(
                &mut state,
                &author(i as u64, &format!("guest{i}"), Some(800), now),
                now,
            );
            assert_eq!(check_join(&config(), &state, now), None);
        }
    }

    #[test]
    fn look_alike_names_are_grouped() {
        assert_eq!(name_key("SpamBot_123").full, name_key("spambot77").full);
        assert_eq!(name_key("ѕраmbot").full, name_key("spambot").full);
        assert_eq!(name_key("sp4mb0t").full, name_key("spambot").full);
        assert!(names_alike(
            &name_key("raid_xkq"),
            &name_key("raid_pzm"),
            true
        ));
        assert!(!names_alike(
            &name_key("raid_xkq"),
            &name_key("raid_pzm"),
            false
        ));
        assert!(!names_alike(&name_key("alice"), &name_key("bob"), true));
        assert!(names_alike(
            &name_key("xX_Shadow_Xx"),
            &name_key("xX_ninja_Xx"),
            true
        ));
        assert!(!names_alike(
            &name_key("xX_Shadow_Xx"),
            &name_key("shadow"),
            true
        ));
    }

    #[test]
    fn the_cohort_takes_fresh_joiners_and_not_old_ones() {
        let now = Timestamp(100 * DAY as i64);
        let cohort = Cohort {
            rule: "raid".into(),
            ends_by: now + Duration::from_secs(1800),
            last_seen: now,
            quiet: Duration::from_secs(300),
            raid_mode: true,
            signs: Signs {
                fresh_within: Some(Duration(DAY)),
                ..Signs::default()
            },
            members: FxHashSet::default(),
        };
        let record = |age: u64| JoinRecord {
            at: now,
            user: UserId(1),
            name: name_key("someone"),
            age: Some(Duration(age)),
        };
        assert!(joins_cohort(&config(), &cohort, &record(3_600_000)).is_some());
        assert!(joins_cohort(&config(), &cohort, &record(3 * DAY)).is_none());
        assert!(cohort.active(now + Duration::from_secs(299)));
        assert!(!cohort.active(now + Duration::from_secs(300)));
    }

    #[test]
    fn greetings_are_no_raid_sign_and_links_are() {
        let hi = Normalized::new("hi everyone!");
        assert_eq!(message_key(&hi, None, false), None);
        let scam = Normalized::new("free nitro for everyone who clicks here now");
        assert!(message_key(&scam, None, false).is_some());
        assert_eq!(message_key(&scam, None, true), None);
        assert!(message_key(&hi, Some("nitro-gift.ru"), true).is_some());
        assert_eq!(message_key(&hi, Some("tenor.com"), true), None);
        assert_eq!(
            message_key(&hi, Some("a1.claim-nitro.ru"), true),
            message_key(&hi, Some("b2.claim-nitro.ru"), true)
        );
    }

    #[test]
    fn new_accounts_are_flagged() {
        let config = RaidConfig {
            new_account: Some(Duration::from_secs(86_400)),
            ..RaidConfig::default()
        };
        let now = Timestamp(3_600_000);
        let mut user = author(1, "fresh", None, now);
        user.created_at = Some(Timestamp(0));
        let reason = new_account(&config, &user, now).expect("flagged");
        assert!(reason.contains("1h"), "{reason}");
    }
}
