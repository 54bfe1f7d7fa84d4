//! The pure core: events in, verdicts out.
//!
//! Architecture invariant: nothing here knows about Discord libraries, databases, async
//! runtimes or the clock. Time is passed in, output is data, and every piece of memory the
//! engine keeps is capped (see [`rule::Limits`]).

pub mod detect;
pub mod dictionary;
pub mod event;
pub mod markup;
pub mod normalize;
pub mod rule;
pub mod time;
pub mod verdict;

use std::collections::VecDeque;
use std::hash::Hash;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use detect::links::{self, Link};
use detect::raid::{self, CohortStart, Detection, Hold, NewMemberPost, RaidConfig, RaidState};
use detect::spam::{self, MessageStats, Recent, SpamConfig, SpamHit};
use detect::words::{Screened, WordHit, WordScreen};
use detect::{pattern, scam};
use event::{Author, ChannelId, Event, EventKind, GuildId, Message, UserId};
use normalize::Normalized;
use rule::{Limits, Rule, RuleSet, Trigger};
use time::{Duration, Timestamp};
use verdict::{Action, Evidence, Mode, Verdict};

/// Decides what to do about events, remembering just enough recent activity to see floods
/// and raids.
pub struct Engine {
    rules: RuleSet,
    window: Duration,
    guilds: FxHashMap<GuildId, GuildState>,
    normalized: Normalized,
    /// Every words rule's keys, to rule out tokens once per message.
    screen: WordScreen,
    /// Per token of the current message: whether some words rule may list it.
    screened: Screened,
    /// Guilds whose raid mode has not been reported over yet.
    raiding: rustc_hash::FxHashSet<GuildId>,
}

#[derive(Default)]
struct GuildState {
    members: FxHashMap<UserId, MemberState>,
    channels: FxHashMap<ChannelId, ChannelState>,
    raid: RaidState,
    last_seen: Timestamp,
}

impl GuildState {
    /// The member's state, making room for it first when the guild is at its cap.
    fn member(&mut self, user: UserId, limits: &Limits, now: Timestamp) -> &mut MemberState {
        make_room(
            &mut self.members,
            &user,
            limits.max_members,
            limits.idle,
            now,
            |m| m.last_seen,
        );
        let member = self.members.entry(user).or_default();
        member.last_seen = member.last_seen.max(now);
        member
    }
}

#[derive(Default)]
struct MemberState {
    history: VecDeque<Recent>,
    /// Rule name → quiet until.
    cooldowns: Vec<(Arc<str>, Timestamp)>,
    last_seen: Timestamp,
}

impl MemberState {
    /// Whether `rule` (or, with `None`, any rule) is cooling down for the member.
    fn cooling_down(&self, rule: Option<&str>, now: Timestamp) -> bool {
        self.cooldowns
            .iter()
            .any(|(name, until)| rule.is_none_or(|r| &**name == r) && now < *until)
    }
}

#[derive(Default)]
struct ChannelState {
    recent: VecDeque<(Timestamp, UserId)>,
    last_seen: Timestamp,
    /// Slowed down for a crowd until then: no second slowmode or alert meanwhile.
    slowed_until: Timestamp,
}

/// How much the engine is tracking, for metrics and memory tests.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tracked {
    pub guilds: usize,
    pub members: usize,
    pub channels: usize,
    pub messages: usize,
}

/// What one message looks like to every rule: computed once per event.
struct MessageView<'a> {
    message: &'a Message,
    kind: EventKind,
    links: Vec<Link>,
    stats: MessageStats,
    recent: Recents,
}

/// A member's and a channel's recent messages, lent out of the engine's memory while the
/// rules run, so the spam rules read them without looking them up one rule at a time.
#[derive(Default)]
struct Recents {
    member: VecDeque<Recent>,
    channel: VecDeque<(Timestamp, UserId)>,
    /// Whether any of the member's cooldowns is running.
    cooling_down: bool,
}

impl Engine {
    /// An engine running `rules` with empty memory.
    pub fn new(rules: RuleSet) -> Self {
        let window = rules.longest_window();
        Engine {
            screen: screen(&rules),
            rules,
            window,
            guilds: FxHashMap::default(),
            normalized: Normalized::default(),
            screened: Screened::default(),
            raiding: rustc_hash::FxHashSet::default(),
        }
    }

    /// Swaps in new rules, keeping what the engine remembers.
    pub fn set_rules(&mut self, rules: RuleSet) {
        self.window = rules.longest_window();
        self.screen = screen(&rules);
        self.rules = rules;
    }

    /// The rules in force.
    pub fn rules(&self) -> &RuleSet {
        &self.rules
    }

    /// Until when raid mode is on in `guild`, if it is.
    pub fn raid_mode_until(&self, guild: GuildId, now: Timestamp) -> Option<Timestamp> {
        self.guilds.get(&guild)?.raid.raid_mode_until(now)
    }

    /// Turns raid mode on until `until` (a moderator's command, or raid mode restored on
    /// start), or off with `None`, which also ends the raid's cohort.
    pub fn set_raid_mode(&mut self, guild: GuildId, until: Option<Timestamp>) {
        let raid = &mut self.guild(guild, Timestamp(0)).raid;
        raid.manual_until = until;
        if until.is_none() {
            raid.cohort = None;
        }
    }

    /// Raid mode restored after a restart, until `until` at most: a cohort of fresh
    /// accounts (as the first raid rule counts them) that ends when quiet, as it would
    /// have. The signs of the cohort before the restart are not kept.
    pub fn restore_raid_mode(&mut self, guild: GuildId, until: Timestamp, now: Timestamp) {
        let rules = self.rules.for_guild(guild).clone();
        let Some((rule, config)) = rules.iter().find_map(|r| match &*r.trigger {
            Trigger::Raid(c) if c.detects_raids() && raid_mode_length(r).is_some() => Some((r, c)),
            _ => None,
        }) else {
            return;
        };
        let found = Detection {
            reason: "raid mode restored".to_string(),
            accounts: Vec::new(),
            signs: raid::Signs {
                fresh_within: Some(config.fresh_account),
                ..raid::Signs::default()
            },
        };
        let start = CohortStart {
            rule: rule.name.clone(),
            raid_mode: true,
            longest: Duration(until.since(now).0),
            quiet: config.quiet,
            cap: self.rules.limits.max_joins,
        };
        self.guild(guild, now).raid.start_cohort(&found, start, now);
        self.raiding.insert(guild);
    }

    /// Guilds whose raid mode has ended since the last call (by going quiet or running
    /// its time), so the adapter lifts Discord's brakes and records the end.
    pub fn raids_ended(&mut self, now: Timestamp) -> Vec<GuildId> {
        let guilds = &self.guilds;
        let ended: Vec<GuildId> = self
            .raiding
            .iter()
            .copied()
            .filter(|g| {
                guilds
                    .get(g)
                    .is_none_or(|state| state.raid.raid_mode_until(now).is_none())
            })
            .collect();
        for g in &ended {
            self.raiding.remove(g);
        }
        ended
    }

    /// How many accounts the raid's cohort in `guild` holds, while it is growing.
    pub fn raid_cohort_size(&self, guild: GuildId, now: Timestamp) -> Option<usize> {
        let cohort = self.guilds.get(&guild)?.raid.cohort.as_ref()?;
        cohort.active(now).then_some(cohort.members.len())
    }

    /// How much state the engine holds.
    pub fn tracked(&self) -> Tracked {
        let mut t = Tracked {
            guilds: self.guilds.len(),
            ..Tracked::default()
        };
        for g in self.guilds.values() {
            t.members += g.members.len();
            t.channels += g.channels.len();
            t.messages += g.members.values().map(|m| m.history.len()).sum::<usize>();
        }
        t
    }

    /// Decides about one event. `now` is the time of decision (normally the event's time).
    pub fn handle(&mut self, event: &Event, now: Timestamp) -> Vec<Verdict> {
        let guild_id = event.guild_id();
        let rules = self.rules.for_guild(guild_id).clone();
        match event {
            Event::Message(m) | Event::MessageEdit(m) => {
                self.handle_message(&rules, m, event.kind(), now)
            }
            Event::MemberJoin(j) => {
                let mut verdicts = self.handle_join(&rules, guild_id, &j.user, now);
                verdicts.extend(self.check_names(&rules, guild_id, &j.user, event.kind(), now));
                verdicts
            }
            Event::MemberUpdate(u) => {
                self.check_names(&rules, guild_id, &u.user, event.kind(), now)
            }
            Event::MemberLeave(l) => {
                if let Some(g) = self.guilds.get_mut(&guild_id) {
                    g.raid.posted.remove(&l.user_id);
                }
                Vec::new()
            }
        }
    }

    fn handle_message(
        &mut self,
        rules: &[Rule],
        message: &Message,
        kind: EventKind,
        now: Timestamp,
    ) -> Vec<Verdict> {
        let mut normalized = std::mem::take(&mut self.normalized);
        normalized.fill(&message.content);
        let mut screened = std::mem::take(&mut self.screened);
        self.screen.mark(&normalized, &mut screened);
        // Every link has a dot: most messages need no search for one.
        let links = if normalized.counts.dots > 0 {
            links::extract(&message.content)
        } else {
            Vec::new()
        };
        let link_count = u32::try_from(links.len()).unwrap_or(u32::MAX);
        let stats = MessageStats::of(message, &normalized, link_count);
        let recent = self.lend_recent(message, kind, &normalized, &stats, now);
        let any_cooldown = recent.cooling_down;
        let view = MessageView {
            message,
            kind,
            stats,
            links,
            recent,
        };
        let mut verdicts = Vec::new();
        for rule in rules.iter().filter(|r| r.enabled && r.watches(kind)) {
            if !rule.conditions.author_matches(&message.author, now)
                || !rule.conditions.place_matches(message)
            {
                continue;
            }
            // Most members have no cooldown running: then no rule needs to look for one.
            if any_cooldown
                && self.cooling_down(message.guild_id, message.author.id, Some(&rule.name), now)
            {
                continue;
            }
            if let Some(verdict) = self.evaluate(rule, &view, (&normalized, &mut screened), now) {
                // A crowd's slowmode says nothing about this member.
                if !verdict
                    .actions
                    .iter()
                    .any(|a| matches!(a, Action::Slowmode { .. }))
                {
                    self.start_cooldown(message.guild_id, message.author.id, rule, now);
                }
                verdicts.push(verdict);
            }
        }
        self.normalized = normalized;
        self.screened = screened;
        self.give_back_recent(message, view.recent);
        verdicts
    }

    fn evaluate(
        &mut self,
        rule: &Rule,
        view: &MessageView,
        (text, screened): (&Normalized, &mut Screened),
        now: Timestamp,
    ) -> Option<Verdict> {
        let content = &view.message.content;
        let (reason, evidence, accounts) = match &*rule.trigger {
            Trigger::Words(matcher) => {
                let hit = matcher.find_screened(text, screened)?;
                // A word acted on is this rule's: a later words rule looks past it. A
                // shadow rule acts on nothing, so it leaves the word to the next.
                if rule.mode == Mode::Enforce {
                    screened.claim(hit.span);
                }
                let reason = format!("blocked word from list {}", hit.list);
                (reason, word_evidence(content, hit), Vec::new())
            }
            Trigger::Spam(config) => {
                let recent = &view.recent;
                match spam::check(config, &recent.member, &recent.channel, &view.stats)? {
                    SpamHit::Member(reason) => (reason, excerpt(content), Vec::new()),
                    SpamHit::Crowd(reason) => return self.crowd(rule, config, view, reason, now),
                }
            }
            Trigger::Links(config) => {
                let (link, reason) = links::check(config, &view.links)?;
                (reason, link_evidence(content, link), Vec::new())
            }
            Trigger::Scam(config) => {
                let (link, reason) = scam::check(config, &view.links, &text.text)?;
                (reason, link_evidence(content, link), Vec::new())
            }
            Trigger::Pattern(config) => {
                let target = match config.target {
                    pattern::Target::Original => content.as_str(),
                    pattern::Target::Normalized => text.text.as_str(),
                };
                let (index, span) = pattern::check(config, target)?;
                let matched = target[span.0..span.1].to_string();
                let evidence = match config.target {
                    pattern::Target::Original => Evidence {
                        matched,
                        normalized: None,
                        span: Some(span),
                    },
                    pattern::Target::Normalized => Evidence {
                        matched: matched.clone(),
                        normalized: Some(matched),
                        span: None,
                    },
                };
                (
                    format!("matched pattern #{}", index + 1),
                    evidence,
                    Vec::new(),
                )
            }
            Trigger::Raid(config) => {
                if view.kind != EventKind::Message || !config.watches_messages() {
                    return None;
                }
                return self.raid_post(rule, config, view, text, now);
            }
        };
        Some(verdict(
            rule,
            reason,
            evidence,
            rule.actions.clone(),
            accounts,
        ))
    }

    /// A crowded channel: slowmode for the channel and one alert, once per slowdown; the
    /// members who each said a word are left alone.
    fn crowd(
        &mut self,
        rule: &Rule,
        config: &SpamConfig,
        view: &MessageView,
        reason: String,
        now: Timestamp,
    ) -> Option<Verdict> {
        let message = view.message;
        let channel = self
            .guild(message.guild_id, now)
            .channels
            .get_mut(&message.channel_id)?;
        if now < channel.slowed_until {
            return None;
        }
        let slow = config.slowmode;
        channel.slowed_until = now + slow.duration;
        let mut actions = vec![Action::Slowmode {
            seconds: slow.seconds,
            duration: slow.duration,
        }];
        actions.extend(
            rule.actions
                .iter()
                .filter(|a| matches!(a, Action::Alert { .. }))
                .take(1)
                .cloned(),
        );
        let evidence = Evidence {
            matched: format!("channel {}", message.channel_id),
            normalized: None,
            span: None,
        };
        Some(verdict(rule, reason, evidence, actions, Vec::new()))
    }

    fn handle_join(
        &mut self,
        rules: &[Rule],
        guild_id: GuildId,
        user: &Author,
        now: Timestamp,
    ) -> Vec<Verdict> {
        let keep = self.window;
        let cap = self.rules.limits.max_joins;
        self.guild(guild_id, now)
            .raid
            .record_join(user, now, keep, cap);
        let mut verdicts = Vec::new();
        let mut held = false;
        for rule in rules
            .iter()
            .filter(|r| r.enabled && r.watches(EventKind::MemberJoin))
        {
            let Trigger::Raid(config) = &*rule.trigger else {
                continue;
            };
            if !rule.conditions.author_matches(user, now) {
                continue;
            }
            if config.detects_raids() {
                match self.raid_join(rule, config, guild_id, user, now) {
                    JoinOutcome::Verdict(v) => {
                        verdicts.push(v);
                        continue;
                    }
                    JoinOutcome::Member => continue,
                    JoinOutcome::Stranger if !held => {
                        if let Some(v) = self.hold(rule, config, guild_id, user, now) {
                            held = true;
                            verdicts.push(v);
                            continue;
                        }
                    }
                    JoinOutcome::Stranger => {}
                }
            }
            // In a raid the raid's alert speaks for the new accounts.
            let raiding = self
                .guilds
                .get(&guild_id)
                .is_some_and(|g| g.raid.raid_mode_until(now).is_some());
            if !verdicts.is_empty() || raiding {
                continue;
            }
            if let Some(reason) = raid::new_account(config, user, now) {
                verdicts.push(verdict(
                    rule,
                    reason,
                    join_evidence(user),
                    rule.actions.clone(),
                    vec![user.id],
                ));
            }
        }
        verdicts
    }

    /// A join under a raid rule: into the active cohort, the start of a raid, or neither.
    fn raid_join(
        &mut self,
        rule: &Rule,
        config: &RaidConfig,
        guild_id: GuildId,
        user: &Author,
        now: Timestamp,
    ) -> JoinOutcome {
        let cap = self.rules.limits.max_joins;
        let state = &mut self.guild(guild_id, now).raid;
        let Some(join) = state.joins.back().cloned() else {
            return JoinOutcome::Stranger;
        };
        if let Some(cohort) = state.active_cohort(now).filter(|c| c.rule == rule.name) {
            if cohort.members.contains(&user.id) {
                return JoinOutcome::Member;
            }
            if let Some(why) = raid::joins_cohort(config, cohort, &join) {
                cohort.admit(user.id, now, cap);
                let reason = format!("joined during a raid: {why}");
                return match cohort_verdict(rule, reason, join_evidence(user), user.id) {
                    Some(v) => JoinOutcome::Verdict(v),
                    None => JoinOutcome::Member,
                };
            }
        }
        match raid::check_join(config, state, now) {
            Some(found) if found.accounts.contains(&user.id) => {
                match self.raid_found(rule, config, found, join_evidence(user), guild_id, now) {
                    Some(v) => JoinOutcome::Verdict(v),
                    None => JoinOutcome::Member,
                }
            }
            _ => JoinOutcome::Stranger,
        }
    }

    /// Starts (or adds to) the cohort of a raid `rule` found, and gives its verdict: the
    /// rule's actions for the accounts not yet in the cohort.
    fn raid_found(
        &mut self,
        rule: &Rule,
        config: &RaidConfig,
        mut found: Detection,
        evidence: Evidence,
        guild_id: GuildId,
        now: Timestamp,
    ) -> Option<Verdict> {
        let start = CohortStart {
            rule: rule.name.clone(),
            raid_mode: raid_mode_length(rule).is_some(),
            longest: raid_mode_length(rule).unwrap_or(DEFAULT_RAID_LENGTH),
            quiet: config.quiet,
            cap: self.rules.limits.max_joins,
        };
        let state = &mut self.guild(guild_id, now).raid;
        let growing = state.active_cohort(now).filter(|c| c.rule == rule.name);
        let actions = match growing {
            Some(cohort) => {
                found.accounts.retain(|a| !cohort.members.contains(a));
                member_actions(rule)
            }
            None => rule.actions.clone(),
        };
        let raid_mode = start.raid_mode;
        state.start_cohort(&found, start, now);
        if raid_mode {
            self.raiding.insert(guild_id);
        }
        if found.accounts.is_empty() || actions.is_empty() {
            return None;
        }
        Some(verdict(
            rule,
            found.reason,
            evidence,
            actions,
            found.accounts,
        ))
    }

    /// Holds an account that joined in raid mode without being in the cohort, for
    /// moderators to release or ban.
    fn hold(
        &mut self,
        rule: &Rule,
        config: &RaidConfig,
        guild_id: GuildId,
        user: &Author,
        now: Timestamp,
    ) -> Option<Verdict> {
        raid_mode_length(rule)?;
        let until = self.guild(guild_id, now).raid.raid_mode_until(now)?;
        let cohort_end = self
            .guild(guild_id, now)
            .raid
            .cohort
            .as_ref()
            .map_or(until, |c| c.ends_by.max(until));
        let duration = Duration(cohort_end.since(now).0.max(MIN_HOLD.0));
        let action = match config.hold {
            Hold::Off => return None,
            Hold::Timeout => Action::Timeout { duration },
            Hold::Role(role) => Action::Quarantine {
                role,
                duration: Some(duration),
            },
        };
        Some(verdict(
            rule,
            "held: joined in raid mode, but not like the raid's accounts".to_string(),
            join_evidence(user),
            vec![action],
            Vec::new(),
        ))
    }

    /// A raid rule reading a new member's message: into the active cohort (the raid's
    /// message, or pings), or the start of a raid.
    fn raid_post(
        &mut self,
        rule: &Rule,
        config: &RaidConfig,
        view: &MessageView,
        text: &Normalized,
        now: Timestamp,
    ) -> Option<Verdict> {
        let author = &view.message.author;
        // Members who joined long ago stop here, before any lookup.
        if author
            .joined_at
            .is_some_and(|joined| now.since(joined) > config.new_member)
        {
            return None;
        }
        let guild_id = view.message.guild_id;
        let cap = self.rules.limits.max_joins;
        let state = &mut self.guild(guild_id, now).raid;
        if !raid::is_new_member(config, state, author, now) {
            return None;
        }
        let established = raid::established(config, state.created_at(author), now);
        let host = view
            .links
            .first()
            .map(|l| l.look_alike.as_deref().unwrap_or(&l.host));
        let post = NewMemberPost {
            author,
            established,
            key: raid::message_key(text, host, established),
            mentions: view.stats.mentions,
            now,
        };
        let content = &view.message.content;
        if let Some(cohort) = state.active_cohort(now).filter(|c| c.rule == rule.name)
            && let Some(why) = raid::posts_like_cohort(cohort, &post)
        {
            cohort.admit(author.id, now, cap);
            let reason = format!("new member in a raid: {why}");
            return cohort_verdict(rule, reason, excerpt(content), author.id);
        }
        let found = raid::check_post(config, state, &post, cap)?;
        if !found.accounts.contains(&author.id) {
            return None;
        }
        self.raid_found(rule, config, found, excerpt(content), guild_id, now)
    }

    /// Word rules that watch joins or member updates read the member's names with the same
    /// normalizer as messages.
    fn check_names(
        &mut self,
        rules: &[Rule],
        guild_id: GuildId,
        user: &Author,
        kind: EventKind,
        now: Timestamp,
    ) -> Vec<Verdict> {
        let mut verdicts = Vec::new();
        // The name others see; the username too on arrival. After a `rename` the shown
        // name is clean, so the update that rename causes does not fire again.
        let shown = user.display_name.as_deref().filter(|n| !n.is_empty());
        let username = (shown.is_none() || kind == EventKind::MemberJoin).then_some(&*user.name);
        let names: Vec<(&str, Normalized)> = shown
            .into_iter()
            .chain(username)
            .map(|name| (name, Normalized::new(name)))
            .collect();
        for rule in rules.iter().filter(|r| r.enabled && r.watches(kind)) {
            let Trigger::Words(matcher) = &*rule.trigger else {
                continue;
            };
            if !rule.conditions.author_matches(user, now)
                || self.cooling_down(guild_id, user.id, Some(&rule.name), now)
            {
                continue;
            }
            let hit = names
                .iter()
                .find_map(|(name, normalized)| matcher.find(normalized).map(|h| (*name, h)));
            if let Some((name, hit)) = hit {
                let reason = format!("name holds a blocked word from list {}", hit.list);
                self.start_cooldown(guild_id, user.id, rule, now);
                // There is no message to delete: the name is what gets fixed (`rename`).
                let actions = rule
                    .actions
                    .iter()
                    .filter(|a| !matches!(a, Action::Delete))
                    .cloned()
                    .collect();
                let evidence = word_evidence(name, hit);
                verdicts.push(verdict(rule, reason, evidence, actions, Vec::new()));
            }
        }
        verdicts
    }

    /// Takes the member's and the channel's recent messages out of memory for the rules to
    /// read, after recording a new message in them. An edit records nothing, so it finds
    /// nothing for a member or channel not seen before.
    fn lend_recent(
        &mut self,
        message: &Message,
        kind: EventKind,
        text: &Normalized,
        stats: &MessageStats,
        now: Timestamp,
    ) -> Recents {
        if kind == EventKind::Message {
            self.remember_message(message, text, stats, now);
        }
        let Some(guild) = self.guilds.get_mut(&message.guild_id) else {
            return Recents::default();
        };
        let member = guild.members.get_mut(&message.author.id);
        Recents {
            cooling_down: member.as_ref().is_some_and(|m| m.cooling_down(None, now)),
            member: member
                .map(|m| std::mem::take(&mut m.history))
                .unwrap_or_default(),
            channel: guild
                .channels
                .get_mut(&message.channel_id)
                .map(|c| std::mem::take(&mut c.recent))
                .unwrap_or_default(),
        }
    }

    /// Records a new message in its member's and its channel's memory.
    fn remember_message(
        &mut self,
        message: &Message,
        text: &Normalized,
        stats: &MessageStats,
        now: Timestamp,
    ) {
        let window = self.window;
        let limits = self.rules.limits.clone();
        let recent = spam::remember(message, text, stats);
        let guild = self.guild(message.guild_id, now);
        let member = guild.member(message.author.id, &limits, now);
        member.history.push_back(recent);
        trim(&mut member.history, limits.max_history, |r| {
            now.since(r.at) > window
        });
        make_room(
            &mut guild.channels,
            &message.channel_id,
            limits.max_channels,
            limits.idle,
            now,
            |c| c.last_seen,
        );
        let channel = guild.channels.entry(message.channel_id).or_default();
        channel.last_seen = now;
        channel.recent.push_back((now, message.author.id));
        trim(&mut channel.recent, limits.max_history * 4, |(at, _)| {
            now.since(*at) > window
        });
    }

    /// Puts back what [`Engine::lend_recent`] took out.
    fn give_back_recent(&mut self, message: &Message, recent: Recents) {
        let Some(guild) = self.guilds.get_mut(&message.guild_id) else {
            return;
        };
        if let Some(member) = guild.members.get_mut(&message.author.id) {
            member.history = recent.member;
        }
        if let Some(channel) = guild.channels.get_mut(&message.channel_id) {
            channel.recent = recent.channel;
        }
    }

    fn guild(&mut self, id: GuildId, now: Timestamp) -> &mut GuildState {
        let limits = &self.rules.limits;
        make_room(
            &mut self.guilds,
            &id,
            limits.max_guilds,
            limits.idle,
            now,
            |g| g.last_seen,
        );
        let guild = self.guilds.entry(id).or_default();
        guild.last_seen = guild.last_seen.max(now);
        guild
    }

    /// Whether `rule` (or, with `None`, any rule) is cooling down for the member.
    fn cooling_down(
        &self,
        guild: GuildId,
        user: UserId,
        rule: Option<&str>,
        now: Timestamp,
    ) -> bool {
        self.guilds
            .get(&guild)
            .and_then(|g| g.members.get(&user))
            .is_some_and(|m| m.cooling_down(rule, now))
    }

    fn start_cooldown(&mut self, guild: GuildId, user: UserId, rule: &Rule, now: Timestamp) {
        let Some(cooldown) = rule.cooldown else {
            return;
        };
        let limits = self.rules.limits.clone();
        let member = self.guild(guild, now).member(user, &limits, now);
        member
            .cooldowns
            .retain(|(name, until)| *until > now && *name != rule.name);
        member.cooldowns.push((rule.name.clone(), now + cooldown));
    }
}

/// A screen over every words rule in `rules`, default and per guild.
fn screen(rules: &RuleSet) -> WordScreen {
    let all = rules
        .rules
        .iter()
        .chain(rules.guilds.values().flat_map(|r| r.iter()));
    // Servers share matchers: each distinct one is screened once.
    let mut seen = rustc_hash::FxHashSet::default();
    let distinct: Vec<&detect::words::WordMatcher> = all
        .filter_map(|rule| match &*rule.trigger {
            Trigger::Words(matchers) => Some(&matchers.0),
            _ => None,
        })
        .flatten()
        .filter(|m| seen.insert(Arc::as_ptr(m)))
        .map(|m| &**m)
        .collect();
    WordScreen::new(distinct.iter().copied())
}

fn verdict(
    rule: &Rule,
    reason: String,
    evidence: Evidence,
    actions: Vec<Action>,
    accounts: Vec<UserId>,
) -> Verdict {
    Verdict {
        rule: rule.name.clone(),
        mode: rule.mode,
        reason,
        evidence,
        actions,
        accounts,
    }
}

/// The listed word as written in `text`, and as read.
fn word_evidence(text: &str, hit: WordHit) -> Evidence {
    Evidence {
        matched: text.get(hit.span.0..hit.span.1).unwrap_or(text).to_string(),
        normalized: Some(hit.normalized),
        span: Some(hit.span),
    }
}

/// The first 200 characters of a message, as evidence for rules that judge the whole of it.
fn excerpt(content: &str) -> Evidence {
    let end = content
        .char_indices()
        .nth(200)
        .map_or(content.len(), |(i, _)| i);
    Evidence {
        matched: content[..end].to_string(),
        normalized: None,
        span: None,
    }
}

fn link_evidence(content: &str, link: &Link) -> Evidence {
    Evidence {
        matched: content[link.span.0..link.span.1].to_string(),
        normalized: Some(link.names()),
        span: Some(link.span),
    }
}

fn join_evidence(user: &Author) -> Evidence {
    Evidence {
        matched: user
            .display_name
            .clone()
            .unwrap_or_else(|| user.name.clone()),
        normalized: None,
        span: None,
    }
}

/// What a join under a raid rule turned out to be.
enum JoinOutcome {
    Verdict(Verdict),
    /// Already in the cohort, or in it with nothing to do.
    Member,
    /// Neither in the cohort nor the start of a raid.
    Stranger,
}

/// How long raid mode lasts at most when the rule's `raid_mode` does not say.
const DEFAULT_RAID_LENGTH: Duration = Duration::from_secs(1800);

/// The shortest hold: long enough for a moderator to look.
const MIN_HOLD: Duration = Duration::from_secs(600);

/// How long the rule's raid mode lasts at most, if it turns raid mode on.
fn raid_mode_length(rule: &Rule) -> Option<Duration> {
    rule.actions.iter().find_map(|a| match a {
        Action::RaidMode { duration, .. } => Some(*duration),
        _ => None,
    })
}

/// What a raid rule does to each account of a cohort already named: its sanctions,
/// without raid mode or another alert.
fn member_actions(rule: &Rule) -> Vec<Action> {
    rule.actions
        .iter()
        .filter(|a| !matches!(a, Action::RaidMode { .. } | Action::Alert { .. }))
        .cloned()
        .collect()
}

/// The verdict on one account joining an active cohort, if the rule sanctions it.
fn cohort_verdict(
    rule: &Rule,
    reason: String,
    evidence: Evidence,
    user: UserId,
) -> Option<Verdict> {
    let actions = member_actions(rule);
    (!actions.is_empty()).then(|| verdict(rule, reason, evidence, actions, vec![user]))
}

/// Makes room for `key` when it is new and the map is full: drops idle entries, then the
/// least recently seen quarter. Below the cap this costs no lookup.
fn make_room<K: Copy + Eq + Hash, V>(
    map: &mut FxHashMap<K, V>,
    key: &K,
    cap: usize,
    idle: Duration,
    now: Timestamp,
    last_seen: impl Fn(&V) -> Timestamp,
) {
    if map.len() < cap.max(1) || map.contains_key(key) {
        return;
    }
    map.retain(|_, v| now.since(last_seen(v)) <= idle);
    if map.len() < cap.max(1) {
        return;
    }
    let mut seen: Vec<Timestamp> = map.values().map(&last_seen).collect();
    let cut = seen.len() / 4;
    let (_, threshold, _) = seen.select_nth_unstable(cut);
    let threshold = *threshold;
    map.retain(|_, v| last_seen(v) > threshold);
}

/// Keeps at most `cap` entries and drops old ones from the front.
fn trim<T>(queue: &mut VecDeque<T>, cap: usize, too_old: impl Fn(&T) -> bool) {
    while queue.len() > cap.max(1) || queue.front().is_some_and(&too_old) {
        queue.pop_front();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{MemberJoin, MemberUpdate};
    use std::path::Path;

    const NAMES: &str = "rules:\n  - name: names\n    when: {events: [member_join, member_update]}\n    words: {words: [badword]}\n    actions: [delete, rename, alert]\n";

    fn engine() -> Engine {
        let loaded =
            crate::rules::parse(NAMES, Path::new("t.yaml"), Path::new(".")).expect("rules");
        Engine::new(loaded.set)
    }

    fn member(name: &str, shown: Option<&str>) -> Author {
        Author {
            id: UserId(9),
            name: name.to_string(),
            display_name: shown.map(str::to_string),
            ..Author::default()
        }
    }

    fn update(user: Author) -> Event {
        Event::MemberUpdate(MemberUpdate {
            guild_id: GuildId(1),
            user,
            timestamp: Timestamp(1_000),
        })
    }

    /// Rules named by the rules that fire on a message saying `text`, with two words
    /// rules over the same word, the first in `first_mode`.
    fn fired_twice_listed(first_mode: &str, text: &str) -> Vec<String> {
        let yaml = format!(
            "rules:\n  - name: first\n    mode: {first_mode}\n    words: {{words: [badword]}}\n    actions: [delete]\n  - name: second\n    words: {{words: [badword, other]}}\n    actions: [delete]\n"
        );
        let loaded =
            crate::rules::parse(&yaml, Path::new("t.yaml"), Path::new(".")).expect("rules");
        let message = Event::Message(Message {
            guild_id: GuildId(1),
            content: text.to_string(),
            author: member("someone", None),
            ..Message::default()
        });
        let verdicts = Engine::new(loaded.set).handle(&message, Timestamp(1_000));
        verdicts.iter().map(|v| v.rule.to_string()).collect()
    }

    #[test]
    fn a_word_is_acted_on_by_the_first_words_rule_only() {
        assert_eq!(fired_twice_listed("enforce", "a badword here"), ["first"]);
        // Another word of the message is still the second rule's.
        assert_eq!(
            fired_twice_listed("enforce", "a badword and other"),
            ["first", "second"]
        );
        // A shadow rule acts on nothing, so the word stays the next rule's.
        assert_eq!(
            fired_twice_listed("shadow", "a badword here"),
            ["first", "second"]
        );
    }

    #[test]
    fn an_offensive_nickname_is_renamed_without_a_delete() {
        let verdicts = engine().handle(&update(member("fine", Some("b4dw0rd"))), Timestamp(1_000));
        assert_eq!(verdicts.len(), 1);
        let names: Vec<&str> = verdicts[0].actions.iter().map(Action::name).collect();
        assert_eq!(names, ["rename", "alert"]);
        assert_eq!(verdicts[0].evidence.normalized.as_deref(), Some("badword"));
    }

    #[test]
    fn once_renamed_the_username_alone_does_not_fire_again() {
        let mut engine = engine();
        let renamed = member("badword", Some(verdict::DEFAULT_RENAME));
        assert!(engine.handle(&update(renamed), Timestamp(1_000)).is_empty());
        // Without a nickname the username is what others see.
        assert_eq!(
            engine
                .handle(&update(member("badword", None)), Timestamp(2_000))
                .len(),
            1
        );
    }

    #[test]
    fn joins_are_checked_on_both_names_and_clean_names_pass() {
        let mut engine = engine();
        let join = |user| {
            Event::MemberJoin(MemberJoin {
                guild_id: GuildId(1),
                user,
                timestamp: Timestamp(1_000),
            })
        };
        assert_eq!(
            engine
                .handle(
                    &join(member("b.a.d.w.o.r.d", Some("Nice"))),
                    Timestamp(1_000)
                )
                .len(),
            1
        );
        assert!(
            engine
                .handle(&join(member("scunthorpe", Some("Alice"))), Timestamp(1_000))
                .is_empty()
        );
    }
}
