//! Timed actions: the ends of temporary sanctions (unbans, ends of timeouts, lockdowns,
//! raid modes, holds and slowmodes), each run once, retried until done; and the requests a
//! dead process left open, completed or recorded as failed.

use serde_json::json;

use super::{
    ChannelId, ExecOutcome, Executor, ModerationError, Moderator, Request, Via, intent_state,
};
use crate::engine::event::{GuildId, RoleId};
use crate::engine::time::{Duration, Timestamp};
use crate::store::audit::{AuditEntry, Phase};
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
        },
        (TimedKind::EndTimeout, Some(user)) => Request::EndTimeout {
            guild: a.guild,
            user,
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
