//! Raids in the moderation layer: a raid's bans gathered into bulk bans, and the holds.
//! Accounts that joined in raid mode without being in the raid's cohort wait (timed out,
//! or with a quarantine role) for moderators, who release them or ban them together. Both
//! are audited; a ban of the held passes steward's checks per account.

use serde_json::json;

use super::{ExecError, ExecOutcome, Executor, ModerationError, Moderator, Step, Target};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::{Action, Evidence};
use crate::store::cases::Actor;

/// How much of a held member's history a ban of the held deletes.
const HELD_BAN_DELETES: Duration = Duration::from_secs(3_600);

/// Raid bans that can leave in one request: same server, rule and ban settings.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct BatchKey {
    pub(super) guild: GuildId,
    pub(super) rule: String,
    pub(super) duration: Option<Duration>,
    pub(super) delete_messages: Duration,
}

/// Accounts waiting for one bulk ban; `id` tells the task that opened it whether the
/// batch it waits for is still the one there.
#[derive(Debug, Default)]
pub(super) struct Batch {
    id: u64,
    accounts: Vec<UserId>,
    reason: String,
    /// When the last batch of this raid left: a raid still arriving waits longer for
    /// fuller batches.
    last_sent: Option<std::time::Instant>,
}

impl Batch {
    /// Takes the accounts waiting, keeping when this batch left.
    fn take(&mut self) -> Batch {
        self.last_sent = Some(std::time::Instant::now());
        Batch {
            id: self.id,
            accounts: std::mem::take(&mut self.accounts),
            reason: std::mem::take(&mut self.reason),
            last_sent: None,
        }
    }
}

/// A raid still arriving (a batch left within this long) gathers its bans longer.
const RAID_STILL_ARRIVING: std::time::Duration = std::time::Duration::from_secs(60);

/// Discord bans at most this many accounts in one bulk ban.
pub const BULK_BAN_MAX: usize = 200;

impl<E: Executor> Moderator<E> {
    /// The members held in `guild` now, in the order they were held.
    pub async fn held(&self, guild: GuildId) -> Result<Vec<UserId>, ModerationError> {
        let mut members: Vec<UserId> = Vec::new();
        for (_, user) in self.store.pending_holds(guild).await? {
            if !members.contains(&user) {
                members.push(user);
            }
        }
        Ok(members)
    }

    /// Lifts every hold in `guild` now: timeouts end and quarantine roles are taken back,
    /// each audited as the hold's end. Returns how many members were released.
    pub async fn release_held(
        &self,
        guild: GuildId,
        moderator: UserId,
        now: Timestamp,
    ) -> Result<usize, ModerationError> {
        let holds = self.store.pending_holds(guild).await?;
        let members = self.held(guild).await?;
        self.record_command(
            guild,
            moderator,
            "raid_release",
            json!({"members": members.iter().map(|m| m.to_string()).collect::<Vec<_>>()}),
            now,
        )
        .await?;
        let ids: Vec<i64> = holds.iter().map(|(id, _)| *id).collect();
        self.store.bring_forward_ids(&ids, now).await?;
        self.run_due(now).await?;
        Ok(members.len())
    }

    /// Bans every member held in `guild`, together, as the moderator's raid case.
    /// Returns how many were held and Discord's answer.
    pub async fn ban_held(
        &self,
        guild: GuildId,
        moderator: UserId,
        reason: &str,
        now: Timestamp,
    ) -> Result<(usize, Result<ExecOutcome, ExecError>), ModerationError> {
        let members = self.held(guild).await?;
        let Some(first) = members.first().copied() else {
            return Ok((0, Ok(ExecOutcome::Done)));
        };
        let target = Target {
            guild,
            user: first,
            accounts: if members.len() > 1 {
                members.clone()
            } else {
                Vec::new()
            },
            channel: None,
            message: None,
        };
        let action = Action::Ban {
            duration: None,
            delete_messages: HELD_BAN_DELETES,
        };
        let step = Step {
            target: &target,
            actor: Actor::User(moderator),
            reason,
            evidence: &Evidence::default(),
            action: &action,
        };
        let performed = self.perform(&step, now).await?;
        Ok((members.len(), performed.outcome))
    }

    /// Adds a raid verdict's accounts to their batch. The task that opens a batch sends it
    /// after the window; a task that fills it to 200 sends it at once.
    pub(super) async fn gather_raid_bans(
        &self,
        key: BatchKey,
        accounts: &[UserId],
        reason: &str,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        static BATCHES: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let mut ready = Vec::new();
        let mut opened = None;
        let mut window = self.batch_window;
        {
            let mut batches = crate::lock::lock(&self.raid_bans);
            if batches.len() >= 64 {
                batches.retain(|_, b| {
                    !b.accounts.is_empty()
                        || b.last_sent
                            .is_some_and(|at| at.elapsed() < RAID_STILL_ARRIVING)
                });
            }
            let batch = batches.entry(key.clone()).or_default();
            if batch
                .last_sent
                .is_some_and(|at| at.elapsed() < RAID_STILL_ARRIVING)
            {
                window *= 3;
            }
            for account in accounts {
                if batch.accounts.is_empty() {
                    batch.id = BATCHES.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    batch.reason = reason.to_string();
                    if opened.is_none() {
                        opened = Some(batch.id);
                    }
                }
                if !batch.accounts.contains(account) {
                    batch.accounts.push(*account);
                }
                if batch.accounts.len() >= BULK_BAN_MAX {
                    ready.push(batch.take());
                }
            }
        }
        for batch in ready {
            self.send_raid_bans(&key, batch, now).await?;
        }
        let Some(id) = opened else {
            return Ok(());
        };
        tokio::time::sleep(window).await;
        let batch = {
            let mut batches = crate::lock::lock(&self.raid_bans);
            match batches.get_mut(&key) {
                Some(b) if b.id == id && !b.accounts.is_empty() => Some(b.take()),
                _ => None,
            }
        };
        if let Some(batch) = batch {
            let later = now + Duration(window.as_millis() as u64);
            self.send_raid_bans(&key, batch, later).await?;
        }
        Ok(())
    }

    /// One bulk ban for a batch of a raid's accounts, as one raid case.
    async fn send_raid_bans(
        &self,
        key: &BatchKey,
        batch: Batch,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let Some(first) = batch.accounts.first().copied() else {
            return Ok(());
        };
        let target = Target {
            guild: key.guild,
            user: first,
            accounts: batch.accounts,
            channel: None,
            message: None,
        };
        let action = Action::Ban {
            duration: key.duration,
            delete_messages: key.delete_messages,
        };
        let step = Step {
            target: &target,
            actor: Actor::Steward {
                rule: key.rule.clone(),
            },
            reason: &batch.reason,
            evidence: &Evidence::default(),
            action: &action,
        };
        self.perform(&step, now).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration as StdDuration;

    use super::*;
    use crate::engine::event::{Author, ChannelId, Event, MemberJoin, Message, MessageId};
    use crate::engine::verdict::{Mode, Verdict};
    use crate::moderation::{Recorder, Request};
    use crate::store::test_support::fresh;

    const GUILD: GuildId = GuildId(1);
    const MOD: UserId = UserId(9);

    fn join(user: u64) -> Event {
        Event::MemberJoin(MemberJoin {
            guild_id: GUILD,
            user: Author {
                id: UserId(user),
                ..Author::default()
            },
            timestamp: Timestamp(0),
        })
    }

    fn raid_verdict(reason: &str, actions: Vec<Action>, accounts: Vec<UserId>) -> Verdict {
        Verdict {
            rule: "raid".into(),
            mode: Mode::Enforce,
            reason: reason.into(),
            evidence: Evidence::default(),
            actions,
            accounts,
        }
    }

    fn hold() -> Action {
        Action::Timeout {
            duration: Duration::from_secs(1800),
        }
    }

    #[tokio::test]
    async fn held_members_are_released_or_banned_together() {
        let (store, _dir) = fresh().await;
        let rules = crate::rules::example().expect("example rules");
        let m = super::super::Moderator::new(store, Recorder::default(), &rules);
        let held = "held: joined in raid mode, but not like the raid's accounts";
        for user in [20, 21, 22] {
            let v = raid_verdict(held, vec![hold()], Vec::new());
            m.apply(&join(user), &v, Timestamp(0)).await.expect("held");
        }
        // A timeout for another reason is no hold.
        let flood = raid_verdict("6 messages within 5s", vec![hold()], Vec::new());
        m.apply(&join(30), &flood, Timestamp(0))
            .await
            .expect("timed out");
        assert_eq!(
            m.held(GUILD).await.expect("held"),
            [20, 21, 22].map(UserId).to_vec()
        );

        let (count, outcome) = m
            .ban_held(GUILD, MOD, "held in raid mode", Timestamp(1000))
            .await
            .expect("banned");
        assert_eq!((count, outcome), (3, Ok(ExecOutcome::Done)));
        let requests = m.executor().requests();
        let Some(Request::Ban { users, .. }) = requests.last() else {
            panic!("a ban: {requests:?}");
        };
        assert_eq!(users, &[20, 21, 22].map(UserId).to_vec());

        assert_eq!(
            m.release_held(GUILD, MOD, Timestamp(2000))
                .await
                .expect("released"),
            3
        );
        let ended: Vec<UserId> = m
            .executor()
            .requests()
            .iter()
            .filter_map(|r| match r {
                Request::EndTimeout { user, .. } => Some(*user),
                _ => None,
            })
            .collect();
        assert_eq!(ended, [20, 21, 22].map(UserId).to_vec());
        assert!(m.held(GUILD).await.expect("held").is_empty());
    }

    #[tokio::test]
    async fn a_raids_bans_are_gathered_into_one_bulk_ban_and_temporary_ones_end_for_each() {
        let (store, _dir) = fresh().await;
        let rules = crate::rules::example().expect("example rules");
        let m = std::sync::Arc::new(
            super::super::Moderator::new(store.clone(), Recorder::default(), &rules)
                .with_batch_window(StdDuration::from_millis(100)),
        );
        let ban = Action::Ban {
            duration: Some(Duration::from_secs(86_400)),
            delete_messages: Duration(0),
        };
        let mut tasks = Vec::new();
        for user in 40..45u64 {
            let (m, ban) = (m.clone(), ban.clone());
            tasks.push(tokio::spawn(async move {
                let v = raid_verdict("joined during a raid", vec![ban], vec![UserId(user)]);
                m.apply(&join(user), &v, Timestamp(0))
                    .await
                    .expect("applied");
            }));
        }
        for t in tasks {
            t.await.expect("task");
        }
        let bans: Vec<Vec<UserId>> = m
            .executor()
            .requests()
            .into_iter()
            .filter_map(|r| match r {
                Request::Ban { users, .. } => Some(users),
                _ => None,
            })
            .collect();
        assert_eq!(bans.len(), 1, "{bans:?}");
        assert_eq!(bans[0].len(), 5);
        let unbans = store
            .pending_timed()
            .await
            .expect("timed")
            .into_iter()
            .filter(|t| t.action.kind == crate::store::timers::TimedKind::Unban)
            .count();
        assert_eq!(
            unbans, 5,
            "each account of a temporary raid ban gets its unban"
        );
    }

    #[tokio::test]
    async fn a_refused_temporary_raid_ban_leaves_no_unbans_behind() {
        let (store, _dir) = fresh().await;
        let rules = crate::rules::example().expect("example rules");
        let m = super::super::Moderator::new(
            store.clone(),
            Recorder::refusing(vec![UserId(50)]),
            &rules,
        );
        let ban = Action::Ban {
            duration: Some(Duration::from_secs(86_400)),
            delete_messages: Duration(0),
        };
        let v = raid_verdict("a raid", vec![ban], [50, 51, 52].map(UserId).to_vec());
        m.apply(&join(50), &v, Timestamp(0)).await.expect("applied");
        assert!(store.pending_timed().await.expect("timed").is_empty());
    }

    #[tokio::test]
    async fn a_crowds_slowmode_ends_with_the_channels_own_setting() {
        let (store, _dir) = fresh().await;
        let rules = crate::rules::example().expect("example rules");
        let m = super::super::Moderator::new(store, Recorder::default(), &rules);
        let event = Event::Message(Message {
            id: MessageId(1),
            guild_id: GUILD,
            channel_id: ChannelId(10),
            author: Author::default(),
            ..Message::default()
        });
        let slow = Action::Slowmode {
            seconds: 5,
            duration: Duration::from_secs(600),
        };
        let v = raid_verdict(
            "40 messages in this channel within 5s",
            vec![slow],
            Vec::new(),
        );
        m.apply(&event, &v, Timestamp(0)).await.expect("slowed");
        m.run_due(Timestamp(600_000)).await.expect("ends");
        let slowmodes: Vec<u32> = m
            .executor()
            .requests()
            .iter()
            .filter_map(|r| match r {
                Request::Slowmode {
                    channel, seconds, ..
                } if *channel == ChannelId(10) => Some(*seconds),
                _ => None,
            })
            .collect();
        assert_eq!(slowmodes, [5, 0]);
    }
}
