//! One action, from decision to record: the intent in the audit log, the case and warning,
//! the request to Discord through the outbox, the outcome, and the escalation a warning
//! sets off.

use serde_json::json;

use super::notices::told_before;
use super::timed::timed_ends;
use super::{
    ESCALATION, ExecError, ExecOutcome, Executor, ModerationError, Moderator, Performed, Request,
    Step, Target, Via,
};
use crate::engine::event::ChannelId;
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::{Action, Evidence, Mode, Verdict};
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::{Actor, Case, CaseEvidence, CaseKind, NewCase};
use crate::store::intents::IntentState;
use crate::store::timers::TimedKind;
use crate::store::warnings::NewWarning;

impl<E: Executor> Moderator<E> {
    /// Writes `intent`, carries out `request` (`via` the outbox or directly), and writes
    /// the outcome under the same intent.
    pub(super) async fn execute_audited(
        &self,
        intent: AuditEntry,
        request: &Request,
        via: Via,
    ) -> Result<Result<ExecOutcome, ExecError>, ModerationError> {
        self.store.append_audit(&intent).await?;
        let outcome = match via {
            Via::Outbox => self.send(request, intent.case_id, intent.at).await?,
            Via::Direct => self.executor.execute(request).await,
        };
        self.store
            .append_audit(&outcome_entry(intent, &outcome))
            .await?;
        Ok(outcome)
    }

    /// Carries out `request`, stored in the outbox first and closed with its outcome, so a
    /// crash mid-call leaves a row that [`Moderator::reconcile`] completes.
    pub(super) async fn send(
        &self,
        request: &Request,
        case_id: Option<i64>,
        now: Timestamp,
    ) -> Result<Result<ExecOutcome, ExecError>, ModerationError> {
        let id = self
            .store
            .open_intent(request.guild(), request, case_id, now)
            .await?;
        let outcome = self.executor.execute(request).await;
        let (state, note) = intent_state(&outcome);
        self.store.close_intent(id, state, note, now).await?;
        Ok(outcome)
    }

    pub(super) async fn perform(
        &self,
        step: &Step<'_>,
        now: Timestamp,
    ) -> Result<Performed, ModerationError> {
        let t = step.target;
        let request = self.request(step, now);
        let mut intent = AuditEntry {
            at: now,
            guild: Some(t.guild),
            actor: step.actor.user_id(),
            rule: step.actor.rule().map(str::to_string),
            action: step.action.name().to_string(),
            phase: Phase::Intent,
            target: Some(t.user),
            case_id: None,
            detail: json!({"reason": step.reason, "rules_hash": self.in_force(t.guild).rules_hash}),
        };
        if !t.accounts.is_empty() {
            intent.detail["accounts"] =
                json!(t.accounts.iter().map(|a| a.to_string()).collect::<Vec<_>>());
        }
        self.store.append_audit(&intent).await?;

        // The case and the request's outbox row are stored together, unless the sanction
        // has an end, which must be stored before its outbox row (a request completed
        // after a crash must never lack its end).
        let fused = request.as_ref().filter(|_| !has_end(step.action, t));
        let (case, outbox) = match case_kind(step.action, t) {
            Some(kind) => {
                let (case, outbox) = self.open_case(step, kind, fused, now).await?;
                (Some(case), outbox)
            }
            None => (None, None),
        };
        intent.case_id = case.as_ref().map(|c| c.id);
        let mut escalation = None;
        if let (Action::Warn { points, expires }, Some(case)) = (step.action, &case) {
            let member = self.warning_lock(t.guild, t.user);
            let counting = member.lock().await;
            let expires_at = expires
                .or(self.in_force(t.guild).warnings.expire_after)
                .map(|d| now + d);
            self.store
                .add_warning(&NewWarning {
                    guild: t.guild,
                    user: t.user,
                    case_id: case.id,
                    points: *points,
                    reason: step.reason.to_string(),
                    created_at: now,
                    expires_at,
                })
                .await?;
            escalation = self.escalation(t, *points, now).await?;
            drop(counting);
            self.drop_warning_lock(t.guild, t.user, member);
        }
        // A lockdown keeps the overwrites it changes, to put them back exactly.
        let previous = match &request {
            Some(Request::Lockdown { channels, .. }) => {
                Some(self.executor.overwrites(t.guild, channels).await)
            }
            Some(Request::Slowmode { channel, .. }) => {
                Some(self.executor.slowmode_of(*channel).await.map(|s| json!(s)))
            }
            _ => None,
        };
        // The end of a temporary sanction is stored before Discord is asked, so that no
        // crash between the two leaves the sanction without its end.
        let ends = match (&request, &previous) {
            (Some(_), None | Some(Ok(_))) => {
                let snapshot = previous
                    .as_ref()
                    .and_then(|p| p.as_ref().ok().cloned())
                    .unwrap_or(serde_json::Value::Null);
                let mut ends = Vec::new();
                for timed in timed_ends(step.action, t, case.as_ref(), snapshot.clone(), now) {
                    let id = self.store.schedule(&timed).await?;
                    if let Some(Request::Lockdown { channels, .. }) = &request {
                        self.store
                            .hold_channels(id, t.guild, channels, &snapshot)
                            .await?;
                    }
                    ends.push((id, timed.kind));
                }
                ends
            }
            _ => Vec::new(),
        };
        // A kick or a ban is announced before it happens, while the member can still be
        // written to, and only when steward may sanction them at all.
        if let Some(case) = &case
            && request.is_some()
            && t.accounts.len() <= 1
            && told_before(case.kind)
            && matches!(self.executor.refusal(t.guild, t.user).await, Ok(None))
        {
            self.tell_member(case).await?;
        }
        let outcome = match (&request, &previous, outbox) {
            (_, Some(Err(e)), _) => Err(e.clone()),
            (Some(request), _, Some(_)) => self.executor.execute(request).await,
            (Some(request), _, None) => {
                self.send(request, case.as_ref().map(|c| c.id), now).await?
            }
            (None, _, _) => Ok(ExecOutcome::Done),
        };
        self.settle_end(step.action, t, &ends, &outcome).await?;
        if let Some(case) = &case {
            self.close_unapplied(case.id, &outcome).await?;
            if !told_before(case.kind) && t.accounts.len() <= 1 && outcome == Ok(ExecOutcome::Done)
            {
                self.tell_member(case).await?;
            }
        }
        // The outcome row closes the outbox row in the same transaction.
        let close = outbox.map(|id| {
            let (state, note) = intent_state(&outcome);
            (id, state, note.map(str::to_string))
        });
        self.store
            .append_audit_closing(&outcome_entry(intent, &outcome), close)
            .await?;
        if let Some(case) = &case {
            self.post_case(t.guild, case.number, t.channel.zip(t.message))
                .await?;
        }
        if let Some(verdict) = &escalation {
            let follow = Step {
                target: t,
                actor: Actor::Steward {
                    rule: ESCALATION.to_string(),
                },
                reason: &verdict.reason,
                evidence: step.evidence,
                action: &verdict.actions[0],
            };
            Box::pin(self.perform(&follow, now)).await?;
        }
        Ok(Performed {
            case,
            outcome,
            escalation,
        })
    }

    /// Closes the case of a sanction Discord refused or that failed, saying which.
    pub(super) async fn close_unapplied(
        &self,
        case: i64,
        outcome: &Result<ExecOutcome, ExecError>,
    ) -> Result<(), ModerationError> {
        let why = match outcome {
            Ok(ExecOutcome::Done) => return Ok(()),
            Ok(ExecOutcome::Refused(why)) => format!("refused: {why}"),
            Err(e) => format!("failed: {e}"),
        };
        self.store.close_case_unapplied(case, &why).await?;
        Ok(())
    }

    /// Keeps or drops the stored end of a sanction once Discord has answered. A refused
    /// sanction was never applied: its end goes. A failed one may have been applied (the
    /// answer was lost): its end stays, since ending what is not there is harmless. A
    /// sanction that was applied replaces the member's earlier ones of its kind, whose
    /// ends would otherwise cut it short.
    async fn settle_end(
        &self,
        action: &Action,
        t: &Target,
        ends: &[(i64, TimedKind)],
        outcome: &Result<ExecOutcome, ExecError>,
    ) -> Result<(), ModerationError> {
        if let Ok(ExecOutcome::Refused(_)) = outcome {
            for (id, kind) in ends {
                self.store.cancel_timed_id(*id).await?;
                if *kind == TimedKind::EndLockdown {
                    self.store.release_channels(*id).await?;
                }
            }
            return Ok(());
        }
        if outcome != &Ok(ExecOutcome::Done) || t.accounts.len() > 1 {
            return Ok(());
        }
        let kind = match action {
            Action::Ban { .. } => TimedKind::Unban,
            Action::Timeout { .. } => TimedKind::EndTimeout,
            _ => return Ok(()),
        };
        let keep = ends.first().map(|(id, _)| *id);
        self.store
            .cancel_timed(t.guild, kind, Some(t.user), keep)
            .await?;
        Ok(())
    }

    /// Opens the case of `step`, with `request`'s outbox row when there is a request;
    /// returns the case and the row's id.
    async fn open_case(
        &self,
        step: &Step<'_>,
        kind: CaseKind,
        request: Option<&Request>,
        now: Timestamp,
    ) -> Result<(Case, Option<i64>), ModerationError> {
        let expires_at = match step.action {
            Action::Timeout { duration } => Some(now + *duration),
            Action::Ban {
                duration: Some(d), ..
            }
            | Action::Lockdown {
                duration: Some(d), ..
            }
            | Action::RaidMode { duration: d, .. } => Some(now + *d),
            _ => None,
        };
        let evidence = step.evidence;
        let new = NewCase {
            guild: step.target.guild,
            kind,
            target: step.target.user,
            actor: step.actor.clone(),
            reason: step.reason.to_string(),
            evidence: CaseEvidence {
                original: (!evidence.matched.is_empty()).then(|| evidence.matched.clone()),
                normalized: evidence.normalized.clone(),
                span: evidence.span,
            },
            rules_hash: Some(self.in_force(step.target.guild).rules_hash.clone()),
            created_at: now,
            expires_at,
        };
        Ok(self.store.create_case_with_intent(&new, request).await?)
    }

    /// The harshest rung of the ladder that the latest warning of `added` points reached.
    async fn escalation(
        &self,
        t: &Target,
        added: u32,
        now: Timestamp,
    ) -> Result<Option<Verdict>, ModerationError> {
        let mut totals: Vec<(Duration, u32)> = Vec::new();
        let rules = self.in_force(t.guild);
        for step in &rules.warnings.ladder {
            let since = Timestamp(now.0.saturating_sub(step.within.0 as i64));
            let points = self
                .store
                .active_points(t.guild, t.user, since, now)
                .await?;
            totals.push((step.within, points));
        }
        let reached = rules.warnings.reached(added, |within| {
            totals
                .iter()
                .find(|(w, _)| *w == within)
                .map_or(0, |(_, points)| *points)
        });
        Ok(reached.map(|step| Verdict {
            rule: ESCALATION.into(),
            mode: Mode::Enforce,
            reason: format!("{} warning points within {}", step.points, step.within),
            evidence: Evidence::default(),
            actions: vec![step.action.clone()],
            accounts: Vec::new(),
        }))
    }

    fn request(&self, step: &Step<'_>, now: Timestamp) -> Option<Request> {
        let t = step.target;
        let (guild, user, reason) = (t.guild, t.user, step.reason.to_string());
        Some(match step.action {
            Action::Delete => Request::Delete {
                guild,
                channel: t.channel?,
                message: t.message?,
            },
            Action::Warn { .. } => Request::Warn {
                guild,
                user,
                reason,
            },
            Action::Timeout { duration } => Request::Timeout {
                guild,
                user,
                until: now + *duration,
                reason,
            },
            Action::Kick => Request::Kick {
                guild,
                user,
                reason,
            },
            Action::Ban {
                delete_messages, ..
            } => Request::Ban {
                guild,
                users: if t.accounts.is_empty() {
                    vec![user]
                } else {
                    t.accounts.clone()
                },
                delete_messages: *delete_messages,
                reason,
            },
            Action::Alert { channel } => Request::Alert {
                guild,
                channel: *channel,
                text: alert_text(step),
                raid_buttons: t.accounts.len() > 1,
            },
            Action::Lockdown { channels, .. } => Request::Lockdown {
                guild,
                channels: lockdown_channels(channels, t),
            },
            Action::RaidMode {
                duration,
                pause_invites,
                pause_dms,
            } => Request::RaidMode {
                guild,
                until: now + *duration,
                pause_invites: *pause_invites,
                pause_dms: *pause_dms,
            },
            Action::Quarantine { role, .. } => Request::AddRole {
                guild,
                user,
                role: *role,
                reason,
            },
            Action::Slowmode { seconds, .. } => Request::Slowmode {
                guild,
                channel: t.channel?,
                seconds: *seconds,
            },
            Action::Rename { to } => Request::Rename {
                guild,
                user,
                nick: to.clone(),
                reason,
            },
        })
    }
}

pub(super) fn lockdown_channels(channels: &[ChannelId], t: &Target) -> Vec<ChannelId> {
    if channels.is_empty() {
        t.channel.into_iter().collect()
    } else {
        channels.to_vec()
    }
}

/// The outbox state and note of an outcome.
pub(super) fn intent_state(
    outcome: &Result<ExecOutcome, ExecError>,
) -> (IntentState, Option<&str>) {
    match outcome {
        Ok(ExecOutcome::Done) => (IntentState::Done, None),
        Ok(ExecOutcome::Refused(why)) => (IntentState::Refused, Some(why.as_str())),
        Err(e) => (IntentState::Failed, Some(e.0.as_str())),
    }
}

/// Cases are opened for sanctions and records, not for alerts or renames (both audited).
fn case_kind(action: &Action, t: &Target) -> Option<CaseKind> {
    Some(match action {
        Action::Delete => CaseKind::Delete,
        Action::Warn { .. } => CaseKind::Warn,
        Action::Timeout { .. } => CaseKind::Timeout,
        Action::Kick => CaseKind::Kick,
        Action::Ban { .. } if t.accounts.len() > 1 => CaseKind::Raid,
        Action::Ban { .. } => CaseKind::Ban,
        Action::Lockdown { .. } => CaseKind::Lockdown,
        Action::RaidMode { .. } => CaseKind::Raid,
        Action::Alert { .. }
        | Action::Rename { .. }
        | Action::Quarantine { .. }
        | Action::Slowmode { .. } => return None,
    })
}

/// Whether `action` on `t` schedules an end.
fn has_end(action: &Action, t: &Target) -> bool {
    !timed_ends(action, t, None, serde_json::Value::Null, Timestamp(0)).is_empty()
}

fn alert_text(step: &Step<'_>) -> String {
    let who = match &step.actor {
        Actor::User(id) => format!("moderator {id}"),
        Actor::Steward { rule } => format!("rule {rule}"),
    };
    let mut text = format!("{who}: {} (member {})", step.reason, step.target.user);
    if !step.evidence.matched.is_empty() {
        text.push_str(&format!(" — {:?}", step.evidence.matched));
    }
    if step.target.accounts.len() > 1 {
        text.push_str(&format!(" — {} accounts", step.target.accounts.len()));
    }
    text
}

pub(super) fn outcome_entry(
    intent: AuditEntry,
    outcome: &Result<ExecOutcome, ExecError>,
) -> AuditEntry {
    let (phase, note) = match outcome {
        Ok(ExecOutcome::Done) => (Phase::Done, None),
        Ok(ExecOutcome::Refused(why)) => (Phase::Refused, Some(why.clone())),
        Err(e) => (Phase::Failed, Some(e.to_string())),
    };
    let mut detail = intent.detail;
    if let Some(note) = note {
        detail["outcome"] = json!(note);
    }
    AuditEntry {
        phase,
        detail,
        ..intent
    }
}
