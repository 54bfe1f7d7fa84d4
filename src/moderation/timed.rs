//! Timed actions: the ends of temporary sanctions (unbans, ends of timeouts, lockdowns,
//! raid modes, holds and slowmodes), each run once, retried until done; and the requests a
//! dead process left open, completed or recorded as failed.

use serde_json::json;

use super::actions::lockdown_channels;
use super::{
    ChannelId, ExecOutcome, Executor, ModerationError, Moderator, Request, Target, Via,
    intent_state,
};
use crate::engine::event::{GuildId, RoleId};
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::Action;
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::Case;
use crate::store::intents::IntentState;
use crate::store::timers::{NewTimed, TimedAction, TimedKind, TimedOutcome};

impl<E: Executor> Moderator<E> {
    /// Ends every pending timed action of `kind` in `guild` now (a moderator ends a lockdown
    /// or raid mode early), restoring what it changed. Returns how many ended.
    pub async fn end_now(
        &self,
        guild: GuildId,
        kind: TimedKind,
        now: Timestamp,
    ) -> Result<usize, ModerationError> {
        if self.store.bring_forward(guild, kind, now).await? == 0 {
            return Ok(0);
        }
        self.run_due(now).await
    }

    /// Carries out the timed actions due at `now` (ends of bans, timeouts, lockdowns and
    /// raid modes), each once, in due order. Returns how many ran.
    pub async fn run_due(&self, now: Timestamp) -> Result<usize, ModerationError> {
        let mut ran = 0;
        loop {
            let due = self.store.claim_due(now, 100).await?;
            if due.is_empty() {
                return Ok(ran);
            }
            for timed in due {
                self.run_timed(&timed, now).await?;
                ran += 1;
            }
        }
    }

    /// Carries out one claimed timed action. A failure is tried again later, with longer
    /// waits, until it works or Discord says there is nothing left to end; moderators are
    /// told once when it keeps failing.
    pub(super) async fn run_timed(
        &self,
        timed: &TimedAction,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let a = &timed.action;
        let mut request = timed_request(a);
        // Overlapping lockdowns: only channels no other lockdown holds are put back, as
        // they were before the first.
        if let (TimedKind::EndLockdown, Some(restore)) =
            (a.kind, self.store.channels_to_restore(timed.id).await?)
        {
            request = Some(Request::EndLockdown {
                guild: a.guild,
                channels: restore
                    .as_object()
                    .map(|m| {
                        m.keys()
                            .filter_map(|c| c.parse().ok().map(ChannelId))
                            .collect()
                    })
                    .unwrap_or_default(),
                previous: restore,
            });
        }
        let Some(request) = request else {
            self.store
                .finish_timed(timed.id, &TimedOutcome::Failed, now)
                .await?;
            return Ok(());
        };
        let entry = AuditEntry {
            at: now,
            guild: Some(a.guild),
            actor: None,
            rule: None,
            action: request.name().to_string(),
            phase: Phase::Intent,
            target: a.target,
            case_id: a.case_id,
            detail: json!({"timed_action": timed.id, "due_at": a.due_at.0, "attempt": timed.attempts}),
        };
        let outcome = self.execute_audited(entry, &request, Via::Direct).await?;
        let finished = match &outcome {
            Ok(ExecOutcome::Done) => TimedOutcome::Done,
            Ok(ExecOutcome::Refused(why)) => {
                self.timed_alert(timed, why, "steward will not try again", now)
                    .await?;
                TimedOutcome::Failed
            }
            Err(e) => {
                if timed.attempts == ALERT_AFTER_ATTEMPTS {
                    self.timed_alert(timed, &e.0, "steward keeps trying", now)
                        .await?;
                }
                TimedOutcome::Retry {
                    at: now + retry_wait(timed.attempts),
                    error: e.0.clone(),
                }
            }
        };
        if a.kind == TimedKind::EndLockdown && finished != TimedOutcome::Done {
            // Still holding the channels: the retry puts them back.
        } else if a.kind == TimedKind::EndLockdown {
            self.store.release_channels(timed.id).await?;
        }
        let ours = self.store.finish_timed(timed.id, &finished, now).await?;
        if let (true, Some(case), TimedOutcome::Done) = (ours, a.case_id, &finished) {
            self.store.close_case(case).await?;
        }
        Ok(())
    }

    /// Tells the moderators that the end of a sanction is not happening as planned.
    async fn timed_alert(
        &self,
        timed: &TimedAction,
        error: &str,
        next: &str,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let a = &timed.action;
        let whom = a
            .target
            .map(|t| format!(" of member {t}"))
            .unwrap_or_default();
        let request = Request::Alert {
            guild: a.guild,
            channel: None,
            text: format!(
                "Could not carry out the scheduled {}{whom} (attempt {}): {error}; {next}.",
                a.kind.as_str(),
                timed.attempts
            ),
            raid_buttons: false,
        };
        let entry = AuditEntry {
            at: now,
            guild: Some(a.guild),
            actor: None,
            rule: None,
            action: request.name().to_string(),
            phase: Phase::Intent,
            target: a.target,
            case_id: a.case_id,
            detail: json!({"timed_action": timed.id, "error": error}),
        };
        // A lost alert is in the audit log with Discord's answer; the retries go on.
        let _posted = self.execute_audited(entry, &request, Via::Outbox).await?;
        Ok(())
    }

    /// Completes requests that runs which died mid-call left open (opened before
    /// `stale_before`): requests that set a state are sent again; posts and DMs, which
    /// could arrive twice, and requests older than [`RECONCILE_WITHIN`] are recorded as
    /// failed. Returns how many were closed.
    pub async fn reconcile(
        &self,
        stale_before: Timestamp,
        now: Timestamp,
    ) -> Result<usize, ModerationError> {
        let open = self.store.take_open_intents(stale_before, now).await?;
        for intent in &open {
            let request = &intent.request;
            let mut entry = AuditEntry {
                at: now,
                guild: Some(intent.guild),
                actor: None,
                rule: None,
                action: request.name().to_string(),
                phase: Phase::Intent,
                target: request.target(),
                case_id: intent.case_id,
                detail: json!({"interrupted": intent.id, "opened_at": intent.created_at.0}),
            };
            let too_old = now.since(intent.created_at) > RECONCILE_WITHIN;
            // A sanction whose end already ran (its case is closed) must not start again.
            let ended = match intent.case_id {
                Some(case) => !self.store.case_active(case).await?,
                None => false,
            };
            let why = if too_old {
                Some("interrupted by a restart; too old to complete")
            } else if !request.completes_on_repeat() {
                Some("interrupted by a restart; not sent again, since it may have arrived")
            } else if ended && !matches!(request, Request::Delete { .. }) {
                Some("interrupted by a restart; its end has run since, so it is not sent again")
            } else {
                None
            };
            if let Some(why) = why {
                entry.phase = Phase::Failed;
                entry.detail["outcome"] = json!(why);
                self.store.append_audit(&entry).await?;
                self.store
                    .close_intent(intent.id, IntentState::Failed, Some(why), now)
                    .await?;
                continue;
            }
            let outcome = self.execute_audited(entry, request, Via::Direct).await?;
            let (state, note) = intent_state(&outcome);
            self.store.close_intent(intent.id, state, note, now).await?;
        }
        Ok(open.len())
    }
}

/// Requests a crash interrupted are completed up to this long after they were made;
/// older ones are recorded as failed (a moderator may have acted since).
pub const RECONCILE_WITHIN: Duration = Duration::from_secs(3_600);

/// After this many failed attempts at ending a sanction, moderators are told.
const ALERT_AFTER_ATTEMPTS: u32 = 5;

/// Wait before the next attempt at a timed action that failed `attempts` times: 30 s,
/// doubling, at most an hour.
fn retry_wait(attempts: u32) -> Duration {
    let doublings = attempts.saturating_sub(1).min(7);
    Duration::from_secs((30u64 << doublings).min(3_600))
}

/// The request that carries out a timed action; `None` when the row lacks its target.
fn timed_request(a: &NewTimed) -> Option<Request> {
    let channels = || -> Vec<ChannelId> {
        a.detail["channels"]
            .as_array()
            .map(|c| {
                c.iter()
                    .filter_map(|v| v.as_str()?.parse().ok().map(ChannelId))
                    .collect()
            })
            .unwrap_or_default()
    };
    Some(match (a.kind, a.target) {
        (TimedKind::Unban, Some(user)) => Request::Unban {
            guild: a.guild,
            user,
            reason: "steward: ban over".into(),
        },
        (TimedKind::EndTimeout, Some(user)) => Request::EndTimeout {
            guild: a.guild,
            user,
            reason: "steward: timeout over".into(),
        },
        (TimedKind::EndLockdown, _) => Request::EndLockdown {
            guild: a.guild,
            channels: channels(),
            previous: a.detail["previous"].clone(),
        },
        (TimedKind::EndRaidMode, _) => Request::EndRaidMode {
            guild: a.guild,
            resume_invites: a.detail["pause_invites"].as_bool().unwrap_or(false),
            resume_dms: a.detail["pause_dms"].as_bool().unwrap_or(false),
        },
        (TimedKind::EndQuarantine, Some(user)) => Request::RemoveRole {
            guild: a.guild,
            user,
            role: RoleId(a.detail["role"].as_str()?.parse().ok()?),
        },
        (TimedKind::EndSlowmode, _) => Request::Slowmode {
            guild: a.guild,
            channel: ChannelId(a.detail["channel"].as_str()?.parse().ok()?),
            seconds: a.detail["previous"]
                .as_u64()
                .and_then(|s| u32::try_from(s).ok())
                .unwrap_or(0),
        },
        (_, None) => return None,
    })
}

/// The timed actions that end a temporary sanction: one per account of a raid's
/// temporary bulk ban, else at most one.
pub(super) fn timed_ends(
    action: &Action,
    t: &Target,
    case: Option<&Case>,
    previous: serde_json::Value,
    now: Timestamp,
) -> Vec<NewTimed> {
    match action {
        Action::Ban {
            duration: Some(d), ..
        } if t.accounts.len() > 1 => t
            .accounts
            .iter()
            .map(|account| NewTimed {
                guild: t.guild,
                kind: TimedKind::Unban,
                target: Some(*account),
                detail: json!({}),
                case_id: case.map(|c| c.id),
                due_at: now + *d,
            })
            .collect(),
        _ => timed_end(action, t, case, previous, now)
            .into_iter()
            .collect(),
    }
}

/// How far off the end of an open-ended lockdown is kept: until a moderator ends it.
const UNTIL_ENDED: Duration = Duration::from_secs(100 * 365 * 86_400);

/// The timed action that ends a temporary sanction.
fn timed_end(
    action: &Action,
    t: &Target,
    case: Option<&Case>,
    previous: serde_json::Value,
    now: Timestamp,
) -> Option<NewTimed> {
    let (kind, target, duration, detail) = match action {
        Action::Timeout { duration } => (TimedKind::EndTimeout, Some(t.user), *duration, json!({})),
        Action::Ban {
            duration: Some(d), ..
        } if t.accounts.len() <= 1 => (TimedKind::Unban, Some(t.user), *d, json!({})),
        // An open-ended lockdown still keeps its end, far off, so that ending it by command
        // puts the channels back exactly.
        Action::Lockdown { channels, duration } => {
            let ids: Vec<String> = lockdown_channels(channels, t)
                .iter()
                .map(|c| c.to_string())
                .collect();
            (
                TimedKind::EndLockdown,
                None,
                duration.unwrap_or(UNTIL_ENDED),
                json!({"channels": ids, "previous": previous}),
            )
        }
        Action::RaidMode {
            duration,
            pause_invites,
            pause_dms,
        } => (
            TimedKind::EndRaidMode,
            None,
            *duration,
            json!({"pause_invites": pause_invites, "pause_dms": pause_dms}),
        ),
        Action::Quarantine {
            role,
            duration: Some(d),
        } => (
            TimedKind::EndQuarantine,
            Some(t.user),
            *d,
            json!({"role": role.to_string()}),
        ),
        Action::Slowmode { duration, .. } => (
            TimedKind::EndSlowmode,
            None,
            *duration,
            json!({"channel": t.channel.map(|c| c.to_string()), "previous": previous}),
        ),
        _ => return None,
    };
    Some(NewTimed {
        guild: t.guild,
        kind,
        target,
        detail,
        case_id: case.map(|c| c.id),
        due_at: now + duration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use crate::engine::event::{GuildId, UserId};
    use crate::engine::time::Duration;
    use crate::engine::verdict::Mode;

    use crate::moderation::test_support::*;
    use crate::moderation::{Recorder, Request, test_command};
    use crate::store::audit::AuditFilter;
    use crate::store::cases::Actor;
    use crate::store::test_support::fresh;

    #[tokio::test]
    async fn temporary_bans_end_once_when_due() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let ban = Action::Ban {
            duration: Some(Duration::from_secs(3600)),
            delete_messages: Duration(0),
        };
        let command = test_command(ban, "cool off");
        let performed = m.manual(&command, Timestamp(0)).await.unwrap();
        let case = performed.case.unwrap();
        assert_eq!(case.actor, Actor::User(UserId(99)));
        assert_eq!(case.expires_at, Some(Timestamp(HOUR)));
        assert_eq!(m.run_due(Timestamp(HOUR - 1)).await.unwrap(), 0);
        assert_eq!(m.run_due(Timestamp(HOUR)).await.unwrap(), 1);
        assert_eq!(m.run_due(Timestamp(2 * HOUR)).await.unwrap(), 0);
        let unbans = m
            .executor()
            .requests()
            .into_iter()
            .filter(|r| matches!(r, Request::Unban { .. }))
            .count();
        assert_eq!(unbans, 1);
        let closed = store.case(GuildId(1), case.number).await.unwrap().unwrap();
        assert!(!closed.active);
    }

    #[tokio::test]
    async fn the_end_of_a_ban_is_stored_before_discord_is_asked() {
        let (store, _dir) = fresh().await;
        // Discord's answer is lost: the ban may be in place, so its end must stay.
        let m = Moderator::new(store.clone(), Recorder::failing(), &rules());
        let performed = m
            .manual(&test_command(temporary_ban(3600), "cool off"), Timestamp(0))
            .await
            .unwrap();
        assert!(performed.outcome.is_err());
        let pending = store.pending_timed().await.unwrap();
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].action.kind, TimedKind::Unban);
        assert_eq!(pending[0].action.due_at, Timestamp(HOUR));
    }

    #[tokio::test]
    async fn a_timed_unban_that_fails_five_times_is_retried_until_it_works() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        m.manual(&test_command(temporary_ban(60), "cool off"), Timestamp(0))
            .await
            .unwrap();
        // Discord fails the unban five times; the fifth failure also fails its alert.
        let failing = Moderator::new(store.clone(), Recorder::failing_first(6), &rules());
        let mut now = Timestamp(60_000);
        let mut attempts = 0;
        while store.pending_timed().await.unwrap().len() == 1 {
            assert_eq!(failing.run_due(now).await.unwrap(), 1, "due at {now:?}");
            attempts += 1;
            let next = store.pending_timed().await.unwrap();
            let Some(next) = next.first() else { break };
            assert!(next.action.due_at > now, "a retry waits");
            now = next.action.due_at;
            assert!(attempts < 10, "never succeeded");
        }
        assert_eq!(attempts, 6, "five failures, then the unban");
        let requests: Vec<&str> = failing
            .executor()
            .requests()
            .iter()
            .map(Request::name)
            .collect();
        assert_eq!(
            requests,
            [
                "unban", "unban", "unban", "unban", "unban", "alert", "unban"
            ]
        );
        let case = store.case(GuildId(1), 1).await.unwrap().unwrap();
        assert!(!case.active, "the ban's case closes when the unban lands");
        // Waits double from 30 s: the sixth attempt came 30+60+120+240+480 s after the first.
        assert_eq!(now, Timestamp(60_000 + 930_000));
    }

    #[tokio::test]
    async fn a_new_timeout_replaces_the_end_of_the_old_one() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let timeout = |secs| Action::Timeout {
            duration: Duration::from_secs(secs),
        };
        m.manual(&test_command(timeout(600), "first"), Timestamp(0))
            .await
            .unwrap();
        m.manual(&test_command(timeout(3600), "second"), Timestamp(1))
            .await
            .unwrap();
        let pending = store.pending_timed().await.unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        assert_eq!(pending[0].action.due_at, Timestamp(1 + HOUR));
        // A permanent ban drops a temporary ban's scheduled unban.
        m.manual(&test_command(temporary_ban(60), "t"), Timestamp(2))
            .await
            .unwrap();
        let permanent = Action::Ban {
            duration: None,
            delete_messages: Duration(0),
        };
        m.manual(&test_command(permanent, "for good"), Timestamp(3))
            .await
            .unwrap();
        let kinds: Vec<TimedKind> = store
            .pending_timed()
            .await
            .unwrap()
            .iter()
            .map(|t| t.action.kind)
            .collect();
        assert_eq!(kinds, [TimedKind::EndTimeout]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn warnings_landing_together_climb_each_rung_once() {
        let (store, _dir) = fresh().await;
        let m = Arc::new(Moderator::new(store.clone(), Recorder::default(), &rules()));
        let v = Arc::new(verdict("slurs", Mode::Enforce, vec![warn()]));
        // Ten warnings at once: the ladder's rungs at 3, 5 and 8 points each fire once.
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let (m, v) = (m.clone(), v.clone());
                tokio::spawn(async move { m.apply(&message(5, i), &v, Timestamp(100)).await })
            })
            .collect();
        let mut escalations = 0;
        for task in tasks {
            escalations += task.await.unwrap().unwrap().len();
        }
        assert_eq!(escalations, 3);
        let names: Vec<&str> = m
            .executor()
            .requests()
            .iter()
            .map(Request::name)
            .filter(|n| ["timeout", "kick", "ban"].contains(n))
            .collect();
        assert_eq!(names.len(), 3, "{names:?}");
        assert!(
            crate::lock::lock(&m.warning_locks).is_empty(),
            "locks are let go"
        );
    }

    #[tokio::test]
    async fn requests_a_crash_left_open_are_completed_or_recorded_as_failed() {
        let (store, _dir) = fresh().await;
        let ban = Request::Ban {
            guild: GuildId(1),
            users: vec![UserId(5)],
            delete_messages: Duration(0),
            reason: "spam".into(),
        };
        let alert = Request::Alert {
            guild: GuildId(1),
            channel: None,
            text: "rule spam".into(),
            raid_buttons: false,
        };
        // A run opened these and died before Discord answered.
        for (request, at) in [(&ban, 0), (&alert, 0), (&ban, -2 * HOUR)] {
            store
                .open_intent(GuildId(1), request, None, Timestamp(at))
                .await
                .unwrap();
        }
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        // Nothing is taken while it could still belong to a live call.
        assert_eq!(m.reconcile(Timestamp(0), Timestamp(10)).await.unwrap(), 1);
        assert!(
            m.executor().requests().is_empty(),
            "the old one is not sent"
        );
        assert_eq!(m.reconcile(Timestamp(1), Timestamp(10)).await.unwrap(), 2);
        assert_eq!(m.executor().requests(), vec![ban], "the ban is sent again");
        assert_eq!(store.open_intent_count().await.unwrap(), 0);
        assert_eq!(m.reconcile(Timestamp(1), Timestamp(10)).await.unwrap(), 0);
        let failed: Vec<String> = store
            .audit_rows(&AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.entry.phase == Phase::Failed)
            .map(|r| r.entry.detail["outcome"].as_str().unwrap_or("").to_string())
            .collect();
        assert_eq!(failed.len(), 2, "{failed:?}");
        assert!(failed.iter().any(|f| f.contains("too old")));
        assert!(failed.iter().any(|f| f.contains("may have arrived")));
        // Every request made in one piece leaves nothing open: with an end to schedule
        // first (its outbox row comes after), or without (stored with the case).
        m.manual(&test_command(temporary_ban(60), "t"), Timestamp(20))
            .await
            .unwrap();
        m.manual(&test_command(Action::Kick, "k"), Timestamp(21))
            .await
            .unwrap();
        assert_eq!(store.open_intent_count().await.unwrap(), 0);
        let kinds = store.latest_intents(2).await.unwrap();
        assert!(
            kinds
                .iter()
                .all(|(state, case)| state == "done" && case.is_some()),
            "{kinds:?}"
        );
    }
}
