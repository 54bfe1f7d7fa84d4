//! Raids: many accounts arriving at once, brand-new accounts, look-alike names among
//! recent joiners, and the same first message from several new members.

use std::collections::VecDeque;

use rustc_hash::FxHashMap;

use super::spam::Window;
use crate::engine::event::{Author, UserId};
use crate::engine::normalize::{Normalized, key_char};
use crate::engine::time::{Duration, Timestamp};

/// Which raid signs a rule watches; unset ones are off.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RaidConfig {
    /// So many joins within the window start a raid.
    pub joins: Option<Window>,
    /// So many joins with the same name (digits and look-alikes folded) start a raid.
    pub similar_names: Option<Window>,
    /// So many new members posting the same first message start a raid.
    pub same_first_message: Option<Window>,
    /// Accounts younger than this are flagged when they join.
    pub new_account: Option<Duration>,
    /// How recently a member must have joined to count as new.
    pub new_member: Duration,
}

/// One recent join.
#[derive(Clone, Debug)]
pub struct JoinRecord {
    pub at: Timestamp,
    pub user: UserId,
    pub name_key: String,
}

/// What one guild's raid detection remembers.
#[derive(Clone, Debug, Default)]
pub struct RaidState {
    pub joins: VecDeque<JoinRecord>,
    /// First messages of new members: (time, text hash, author).
    pub first_messages: VecDeque<(Timestamp, u64, UserId)>,
    /// New members whose first message has been seen.
    pub posted: FxHashMap<UserId, Timestamp>,
    /// Raid mode is on until this time.
    pub raid_until: Option<Timestamp>,
}

/// What a raid check found.
#[derive(Clone, Debug, PartialEq)]
pub struct RaidHit {
    pub reason: String,
    pub accounts: Vec<UserId>,
    /// Whether this starts a raid (as opposed to flagging one account).
    pub raid: bool,
}

/// A name folded so `spambot123`, `SpamBot_77` and `ѕраmbot` compare equal.
pub fn name_key(name: &str) -> String {
    let n = Normalized::new(name);
    n.text
        .chars()
        .filter(|c| c.is_alphabetic())
        .map(key_char)
        .collect()
}

impl RaidState {
    /// Records a join; keeps at most `cap` of them and none older than `keep`.
    pub fn record_join(&mut self, user: &Author, at: Timestamp, keep: Duration, cap: usize) {
        let name = user.display_name.as_deref().unwrap_or(&user.name);
        self.joins.push_back(JoinRecord {
            at,
            user: user.id,
            name_key: name_key(name),
        });
        while self.joins.len() > cap || self.joins.front().is_some_and(|j| at.since(j.at) > keep) {
            self.joins.pop_front();
        }
    }

    /// Whether raid mode is on at `now`.
    pub fn in_raid_mode(&self, now: Timestamp) -> bool {
        self.raid_until.is_some_and(|until| now < until)
    }
}

/// Checks the newest join (the last one recorded) against `config`.
pub fn check_join(
    config: &RaidConfig,
    state: &RaidState,
    user: &Author,
    now: Timestamp,
) -> Option<RaidHit> {
    if let Some(w) = &config.joins {
        let recent: Vec<UserId> = recent_joins(state, now, w.per).map(|j| j.user).collect();
        if recent.len() >= w.count as usize {
            return Some(RaidHit {
                reason: format!("{} joins within {}", recent.len(), w.per),
                accounts: recent,
                raid: true,
            });
        }
    }
    if let Some(w) = &config.similar_names
        && let Some(newest) = state.joins.back()
        && newest.name_key.len() >= 3
    {
        let alike: Vec<UserId> = recent_joins(state, now, w.per)
            .filter(|j| j.name_key == newest.name_key)
            .map(|j| j.user)
            .collect();
        if alike.len() >= w.count as usize {
            return Some(RaidHit {
                reason: format!(
                    "{} joins named like `{}` within {}",
                    alike.len(),
                    newest.name_key,
                    w.per
                ),
                accounts: alike,
                raid: true,
            });
        }
    }
    if let Some(min_age) = config.new_account
        && let Some(created) = user.created_at
        && now.since(created) < min_age
    {
        return Some(RaidHit {
            reason: format!(
                "account created {} ago",
                Duration(now.since(created).0 / 1000 * 1000)
            ),
            accounts: vec![user.id],
            raid: false,
        });
    }
    None
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

/// Whether [`check_first_message`] has anything to look at: the rule watches first
/// messages and the author joined recently. Most messages stop here.
pub fn watches_first_message(config: &RaidConfig, author: &Author, now: Timestamp) -> bool {
    config.same_first_message.is_some()
        && author
            .joined_at
            .is_some_and(|joined| now.since(joined) <= config.new_member)
}

/// Records a new member's first message and checks whether several new members sent it.
pub fn check_first_message(
    config: &RaidConfig,
    state: &mut RaidState,
    author: &Author,
    text_hash: u64,
    now: Timestamp,
    cap: usize,
) -> Option<RaidHit> {
    let w = config.same_first_message?;
    if !watches_first_message(config, author, now) || state.posted.contains_key(&author.id) {
        return None;
    }
    if state.posted.len() >= cap {
        let keep = config.new_member;
        state.posted.retain(|_, at| now.since(*at) <= keep);
    }
    if state.posted.len() < cap {
        state.posted.insert(author.id, now);
    }
    state.first_messages.push_back((now, text_hash, author.id));
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
        .filter(|(_, hash, _)| *hash == text_hash)
        .map(|(_, _, user)| *user)
        .collect();
    (senders.len() >= w.count as usize).then(|| RaidHit {
        reason: format!(
            "{} new members sent the same first message within {}",
            senders.len(),
            w.per
        ),
        accounts: senders,
        raid: true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(id: u64, name: &str) -> Author {
        Author {
            id: UserId(id),
            name: name.into(),
            ..Author::default()
        }
    }

    #[test]
    fn join_flood_starts_a_raid_with_every_account() {
        let config = RaidConfig {
            joins: Some(Window {
                count: 3,
                per: Duration::from_secs(10),
            }),
            ..RaidConfig::default()
        };
        let mut state = RaidState::default();
        let mut hit = None;
        for i in 0..3 {
            let user = author(i, &format!("user{i}"));
            let now = Timestamp(i as i64 * 1000);
            state.record_join(&user, now, Duration::from_secs(60), 100);
            hit = check_join(&config, &state, &user, now);
        }
        let hit = hit.expect("raid");
        assert!(hit.raid);
        assert_eq!(hit.accounts, vec![UserId(2), UserId(1), UserId(0)]);
    }

    #[test]
    fn look_alike_names_are_grouped() {
        assert_eq!(name_key("SpamBot_123"), name_key("spambot77"));
        assert_eq!(name_key("ѕраmbot"), name_key("spambot"));
    }

    #[test]
    fn new_accounts_are_flagged() {
        let config = RaidConfig {
            new_account: Some(Duration::from_secs(86_400)),
            ..RaidConfig::default()
        };
        let mut user = author(1, "fresh");
        user.created_at = Some(Timestamp(0));
        let hit = check_join(&config, &RaidState::default(), &user, Timestamp(3_600_000))
            .expect("flagged");
        assert!(!hit.raid);
        assert!(hit.reason.contains("1h"), "{}", hit.reason);
    }

    #[test]
    fn same_first_message_from_new_members() {
        let config = RaidConfig {
            same_first_message: Some(Window {
                count: 2,
                per: Duration::from_secs(60),
            }),
            new_member: Duration::from_secs(600),
            ..RaidConfig::default()
        };
        let mut state = RaidState::default();
        let mut a = author(1, "a");
        a.joined_at = Some(Timestamp(0));
        let mut b = author(2, "b");
        b.joined_at = Some(Timestamp(0));
        assert!(check_first_message(&config, &mut state, &a, 42, Timestamp(1000), 100).is_none());
        // A second message from the same member is not a first message.
        assert!(check_first_message(&config, &mut state, &a, 42, Timestamp(2000), 100).is_none());
        let hit =
            check_first_message(&config, &mut state, &b, 42, Timestamp(3000), 100).expect("raid");
        assert_eq!(hit.accounts, vec![UserId(1), UserId(2)]);
    }
}
