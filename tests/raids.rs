//! Raid scenarios through `replay` with the shipped example rules: generated joins and chat,
//! each scenario naming who must be actioned and who must never be banned (or, for crowds
//! and events, touched at all). Names, ages and timings come from a seeded generator, so
//! every run sees the same streams and no scenario is a copy of a recorded one.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use steward::moderation::{Moderator, Recorder};
use steward::replay::{self, Report};
use steward::store::Store;

const GUILD: &str = "1";
const CHANNEL: &str = "10";
/// 2026-11-22T10:00:00Z.
const START_MS: i64 = 1_795_341_600_000;
const DAY_MS: i64 = 86_400_000;

/// A small deterministic generator (xorshift), so scenarios vary without a dependency.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn range(&mut self, low: i64, high: i64) -> i64 {
        low + (self.next() % (high - low) as u64) as i64
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
    /// A message pinging `at_least` to 3 members, then saying `words`; and who it pings.
    fn pings(&mut self, at_least: i64, words: &str) -> (Vec<u64>, String) {
        let pinged: Vec<u64> = (0..self.range(at_least, 4))
            .map(|_| self.range(100, 200) as u64)
            .collect();
        let text = pinged
            .iter()
            .map(|p| format!("<@{p}> "))
            .collect::<String>()
            + words;
        (pinged, text)
    }

    /// A pronounceable made-up name, like people pick.
    fn name(&mut self) -> String {
        const SYL: &[&str] = &[
            "ka", "ri", "mo", "len", "tas", "vi", "dor", "an", "el", "zu", "pe", "rin", "sa",
            "tho", "mi", "ga", "lo", "ne", "fi", "bra",
        ];
        let parts = self.range(2, 4);
        let mut n: String = (0..parts).map(|_| self.pick(SYL)).collect();
        if self.next().is_multiple_of(3) {
            n.push_str(&self.range(1, 999).to_string());
        }
        n
    }
}

fn iso(ms: i64) -> String {
    let t = time::OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000).expect("time");
    t.format(&time::format_description::well_known::Rfc3339)
        .expect("format")
}

struct Stream {
    events: Vec<(i64, Value)>,
    next_message: u64,
}

impl Stream {
    fn new() -> Self {
        Stream {
            events: Vec::new(),
            next_message: 1,
        }
    }

    fn join(&mut self, at: i64, id: u64, name: &str, age_ms: i64) {
        self.events.push((
            at,
            json!({"kind": "member_join", "guild_id": GUILD, "timestamp": iso(at),
                   "user": {"id": id.to_string(), "name": name, "created_at": iso(at - age_ms)}}),
        ));
    }

    fn say(&mut self, at: i64, id: u64, name: &str, text: &str, mentions: &[u64]) {
        self.say_in(at, CHANNEL, id, name, text, mentions);
    }

    fn say_in(
        &mut self,
        at: i64,
        channel: &str,
        id: u64,
        name: &str,
        text: &str,
        mentions: &[u64],
    ) {
        self.next_message += 1;
        let mentions: Vec<String> = mentions.iter().map(u64::to_string).collect();
        self.events.push((
            at,
            json!({"kind": "message", "id": self.next_message.to_string(), "guild_id": GUILD,
                   "channel_id": channel, "timestamp": iso(at),
                   "author": {"id": id.to_string(), "name": name},
                   "content": text, "mentions": mentions}),
        ));
    }

    /// A message from an account made `age_ms` before, with no join seen.
    fn say_fresh(&mut self, at: i64, id: u64, age_ms: i64, text: &str, mentions: &[u64]) {
        self.say(at, id, "x", text, mentions);
        if let Some((_, event)) = self.events.last_mut() {
            event["author"]["created_at"] = json!(iso(at - age_ms));
        }
    }

    async fn replay(mut self) -> Report {
        self.events.sort_by_key(|(at, _)| *at);
        let text: String = self.events.iter().map(|(_, e)| format!("{e}\n")).collect();
        let events = replay::input::read_jsonl("scenario.jsonl", text.as_bytes()).expect("events");
        let rules = steward::rules::example().expect("example rules");
        let store = Store::open(":memory:").await.expect("store");
        let moderator = Moderator::new(store, Recorder::default(), &rules);
        replay::run(
            &rules,
            "scenario.jsonl",
            events.into_iter().map(Ok),
            &moderator,
        )
        .await
        .expect("replay")
    }
}

/// Who the replay sanctioned: (banned, actioned in any way that touches the member).
fn sanctioned(report: &Report) -> (BTreeSet<u64>, BTreeSet<u64>) {
    let (mut banned, mut actioned) = (BTreeSet::new(), BTreeSet::new());
    for outcome in &report.outcomes {
        let user = outcome.event.user_id().0;
        for v in &outcome.verdicts {
            let who: Vec<u64> = if v.accounts.is_empty() {
                vec![user]
            } else {
                v.accounts.iter().map(|a| a.0).collect()
            };
            for a in &v.actions {
                let name = a.name();
                if name == "ban" {
                    banned.extend(&who);
                }
                if ["ban", "kick", "timeout", "quarantine", "delete", "warn"].contains(&name) {
                    actioned.extend(&who);
                }
            }
        }
    }
    (banned, actioned)
}

fn assert_all_in(who: &[u64], set: &BTreeSet<u64>, what: &str) {
    let missed: Vec<&u64> = who.iter().filter(|u| !set.contains(u)).collect();
    assert!(
        missed.is_empty(),
        "{} of {} not {what}: {missed:?}",
        missed.len(),
        who.len()
    );
}

fn assert_none_in(who: &[u64], set: &BTreeSet<u64>, what: &str) {
    let hit: Vec<&u64> = who.iter().filter(|u| set.contains(u)).collect();
    assert!(
        hit.is_empty(),
        "{} of {} {what}: {hit:?}",
        hit.len(),
        who.len()
    );
}

#[tokio::test]
async fn a_flood_of_fresh_accounts_is_banned_and_old_accounts_among_it_are_not() {
    let mut g = Gen(11);
    let mut s = Stream::new();
    let (mut raiders, mut ordinary) = (Vec::new(), Vec::new());
    let mut at = START_MS;
    for i in 0..80u64 {
        at += g.range(200, 1500);
        let id = 5_000 + i;
        s.join(at, id, &g.name(), g.range(60_000, 6 * 3_600_000));
        raiders.push(id);
        if i % 20 == 7 {
            let id = 9_000 + i;
            s.join(at + 100, id, &g.name(), g.range(400, 3000) * DAY_MS);
            ordinary.push(id);
        }
    }
    // Ordinary people arriving long after the raid, one of them fresh.
    for i in 0..5u64 {
        let id = 9_500 + i;
        let when = at + (13 + 3 * i as i64) * 60_000;
        s.join(
            when,
            id,
            &g.name(),
            if i == 0 { 2 * DAY_MS } else { 900 * DAY_MS },
        );
        s.say(
            when + 20_000,
            id,
            "x",
            "hi all, a friend sent me the invite",
            &[],
        );
        ordinary.push(id);
    }
    let report = s.replay().await;
    let (banned, actioned) = sanctioned(&report);
    assert_all_in(&raiders, &banned, "banned");
    assert_none_in(&ordinary, &banned, "ordinary accounts banned");
    // The late arrivals come after the raid has gone quiet: not even held.
    assert_none_in(
        &ordinary[ordinary.len() - 5..],
        &actioned,
        "late arrivals actioned",
    );
}

#[tokio::test]
async fn a_slow_drip_of_look_alike_fresh_accounts_is_banned() {
    let mut g = Gen(23);
    let mut s = Stream::new();
    let (mut raiders, mut ordinary) = (Vec::new(), Vec::new());
    let mut at = START_MS;
    for i in 0..12u64 {
        at += g.range(80_000, 140_000);
        let id = 6_000 + i;
        let name = format!(
            "{}_{}",
            g.pick(&["nitrodrop", "NitroDrop", "n1trodrop"]),
            g.range(10, 9999)
        );
        s.join(at, id, &name, g.range(1, 48) * 3_600_000);
        raiders.push(id);
        if i % 3 == 1 {
            let id = 9_100 + i;
            s.join(at + 30_000, id, &g.name(), g.range(200, 2000) * DAY_MS);
            ordinary.push(id);
        }
    }
    let report = s.replay().await;
    let (banned, actioned) = sanctioned(&report);
    assert_all_in(&raiders, &actioned, "actioned");
    assert_all_in(&raiders[..4], &banned, "banned");
    assert_none_in(&ordinary, &banned, "ordinary accounts banned");
}

#[tokio::test]
async fn look_alike_names_are_one_cohort_whatever_the_accounts_age() {
    let mut g = Gen(31);
    let mut s = Stream::new();
    let names = [
        "ѕpamlord",
        "sp4mlord",
        "SPAMLORD",
        "spam_lord",
        "Ꮪpamlord",
        "spamlord_",
        "spаmlord",
    ];
    let mut raiders = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let id = 7_000 + i as u64;
        let age = if i % 2 == 0 {
            400 * DAY_MS
        } else {
            3 * 3_600_000
        };
        s.join(START_MS + i as i64 * g.range(3_000, 20_000), id, name, age);
        raiders.push(id);
    }
    let report = s.replay().await;
    let (banned, _) = sanctioned(&report);
    assert_all_in(&raiders, &banned, "banned");
}

#[tokio::test]
async fn aged_accounts_posting_the_same_scam_are_banned_together() {
    let mut g = Gen(47);
    let mut s = Stream::new();
    let mut raiders = Vec::new();
    for i in 0..6u64 {
        let id = 7_100 + i;
        let at = START_MS + i as i64 * g.range(5_000, 15_000);
        s.join(at, id, &g.name(), g.range(300, 2000) * DAY_MS);
        let text = format!(
            "{} https://steamcommunity-gifts.ru/claim?id={}",
            g.pick(&[
                "hey, free nitro here",
                "gift for you guys",
                "claim it before it's gone"
            ]),
            g.range(100, 999)
        );
        s.say(at + g.range(2_000, 8_000), id, "x", &text, &[]);
        raiders.push(id);
    }
    let report = s.replay().await;
    let (banned, _) = sanctioned(&report);
    assert_all_in(&raiders, &banned, "banned");
}

#[tokio::test]
async fn fresh_accounts_pinging_members_once_each_are_a_raid() {
    let mut g = Gen(59);
    let mut s = Stream::new();
    let mut raiders = Vec::new();
    let mut at = START_MS;
    for i in 0..6u64 {
        at += g.range(20_000, 50_000);
        let id = 7_200 + i;
        s.join(at, id, &g.name(), g.range(1, 72) * 3_600_000);
        let (pinged, text) = g.pings(2, "yo");
        s.say(at + g.range(3_000, 20_000), id, "x", &text, &pinged);
        raiders.push(id);
    }
    let report = s.replay().await;
    let (_, actioned) = sanctioned(&report);
    assert_all_in(&raiders, &actioned, "actioned");
}

#[tokio::test]
async fn fresh_accounts_pinging_are_a_raid_even_when_their_joins_were_not_seen() {
    let mut g = Gen(61);
    let mut s = Stream::new();
    let mut raiders = Vec::new();
    let mut at = START_MS;
    for i in 0..5u64 {
        at += g.range(10_000, 60_000);
        let id = 7_300 + i;
        let (pinged, text) = g.pings(1, "check dms");
        s.say_fresh(at, id, g.range(1, 72) * 3_600_000, &text, &pinged);
        raiders.push(id);
    }
    // A long-time member replying with a ping meanwhile is no raider.
    s.say_fresh(at + 1_000, 42, 900 * DAY_MS, "<@100> agreed", &[100]);
    let report = s.replay().await;
    let (_, actioned) = sanctioned(&report);
    assert_all_in(&raiders, &actioned, "actioned");
    assert_none_in(&[42], &actioned, "the long-time member actioned");
}

#[tokio::test]
async fn a_partner_servers_event_crowd_is_not_a_raid() {
    let mut g = Gen(71);
    let mut s = Stream::new();
    let mut guests = Vec::new();
    let mut at = START_MS;
    let lines = [
        "hi everyone!",
        "hey all",
        "hello from the partner server",
        "excited for the event",
        "hi!",
        "what time does it start?",
        "this is so cool",
        "hey hey",
    ];
    for i in 0..60u64 {
        at += g.range(500, 5_000);
        let id = 8_000 + i;
        let name = g.name();
        s.join(at, id, &name, g.range(365, 3000) * DAY_MS);
        for k in 0..g.range(1, 4) {
            s.say(
                at + 10_000 + k * g.range(5_000, 30_000),
                id,
                &name,
                g.pick(&lines),
                &[],
            );
        }
        guests.push(id);
    }
    let report = s.replay().await;
    let (_, actioned) = sanctioned(&report);
    assert_none_in(&guests, &actioned, "guests actioned");
}

#[tokio::test]
async fn a_heated_but_clean_argument_is_left_alone() {
    let mut s = Stream::new();
    let lines = [
        "No. That is NOT what I said and you know it.",
        "You keep twisting my words!!",
        "Read the thread again, seriously.",
        "I am done arguing about this, it's pointless",
        "WHY would anyone think that's a good idea??",
        "ok whatever, believe what you want",
        "that's completely wrong and the docs say otherwise",
    ];
    let mut at = START_MS;
    for (i, line) in lines.iter().cycle().take(14).enumerate() {
        at += 6_000 + (i as i64 % 3) * 2_000;
        s.say(at, 42, "regular", line, &[]);
    }
    let report = s.replay().await;
    let (_, actioned) = sanctioned(&report);
    assert_none_in(&[42], &actioned, "member actioned");
}

#[tokio::test]
async fn a_busy_channel_is_slowed_and_nobody_in_it_is_sanctioned() {
    let mut g = Gen(83);
    let mut s = Stream::new();
    let mut crowd = Vec::new();
    let lines = [
        "GG",
        "lets go!!",
        "hype",
        "that play was insane",
        "woooo",
        "gg wp",
        "clip it",
    ];
    for i in 0..400u64 {
        let id = 20_000 + i;
        let at = START_MS + i as i64 * 50;
        s.say(at, id, "fan", g.pick(&lines), &[]);
        if i % 3 == 0 {
            s.say(at + 9_000, id, "fan", g.pick(&lines), &[]);
        }
        crowd.push(id);
    }
    let report = s.replay().await;
    let (_, actioned) = sanctioned(&report);
    assert_none_in(&crowd, &actioned, "members of the crowd sanctioned");
    let slowed: Vec<_> = report
        .outcomes
        .iter()
        .flat_map(|o| &o.verdicts)
        .filter(|v| v.actions.iter().any(|a| a.name() == "slowmode"))
        .collect();
    assert_eq!(slowed.len(), 1, "one slowmode for the crowd");
}

mod properties {
    use proptest::prelude::*;
    use steward::engine::Engine;
    use steward::engine::event::{Author, Event, GuildId, MemberJoin, Message, MessageId, UserId};
    use steward::engine::time::Timestamp;

    const DAY: i64 = 86_400_000;
    const START: i64 = 1_795_341_600_000;

    /// One engine per case over rules compiled once.
    fn engine() -> Engine {
        static RULES: std::sync::OnceLock<steward::rules::LoadedRules> = std::sync::OnceLock::new();
        let rules = RULES.get_or_init(|| steward::rules::example().expect("example rules"));
        Engine::new(rules.set.clone())
    }

    fn join(id: u64, name: String, at: i64, age: i64) -> Event {
        Event::MemberJoin(MemberJoin {
            guild_id: GuildId(1),
            user: Author {
                id: UserId(id),
                name,
                created_at: Some(Timestamp(at - age)),
                ..Author::default()
            },
            timestamp: Timestamp(at),
        })
    }

    /// Names as people pick them: distinct words, sometimes with a number.
    fn names(n: usize) -> impl Strategy<Value = Vec<String>> {
        prop::collection::btree_set("[a-z]{3,9}", n..=n).prop_map(|set| set.into_iter().collect())
    }

    fn banned(verdicts: &[steward::engine::verdict::Verdict], user: UserId) -> Vec<UserId> {
        verdicts
            .iter()
            .filter(|v| v.actions.iter().any(|a| a.name() == "ban"))
            .flat_map(|v| {
                if v.accounts.is_empty() {
                    vec![user]
                } else {
                    v.accounts.clone()
                }
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// However densely established accounts with their own names arrive, and whatever
        /// greetings they post, none is banned.
        #[test]
        fn established_accounts_with_their_own_names_are_never_banned(
            names in names(40),
            gaps in prop::collection::vec(0i64..4_000, 40),
            ages in prop::collection::vec(8i64..4_000, 40),
            greeting in prop::sample::select(vec!["hi all!", "hello everyone", "hey :)", "yo"]),
        ) {
            let mut engine = engine();
            let mut at = START;
            for (i, name) in names.into_iter().enumerate() {
                at += gaps[i];
                let id = UserId(1000 + i as u64);
                let event = join(id.0, name, at, ages[i] * DAY);
                let verdicts = engine.handle(&event, Timestamp(at));
                prop_assert!(banned(&verdicts, id).is_empty(), "{verdicts:?}");
                let said = Event::Message(Message {
                    id: MessageId(5000 + i as u64),
                    guild_id: GuildId(1),
                    channel_id: steward::engine::event::ChannelId(10),
                    author: Author { id, ..Author::default() },
                    content: greeting.to_string(),
                    timestamp: Timestamp(at + 500),
                    ..Message::default()
                });
                let verdicts = engine.handle(&said, Timestamp(at + 500));
                prop_assert!(banned(&verdicts, id).is_empty(), "{verdicts:?}");
            }
        }

        /// A burst of fresh accounts, whatever their names and however they are spaced
        /// within a minute, is banned to the last account.
        #[test]
        fn every_fresh_account_of_a_burst_is_banned(
            names in names(30),
            gaps in prop::collection::vec(0i64..1_900, 30),
            ages in prop::collection::vec(60_000i64..2 * DAY, 30),
        ) {
            let mut engine = engine();
            let mut at = START;
            let mut caught = std::collections::BTreeSet::new();
            for (i, name) in names.into_iter().enumerate() {
                at += gaps[i];
                let id = UserId(1000 + i as u64);
                let verdicts = engine.handle(&join(id.0, name, at, ages[i]), Timestamp(at));
                caught.extend(banned(&verdicts, id));
            }
            prop_assert_eq!(caught.len(), 30);
        }
    }
}
