//! Policy shared by the gateway, the slash commands and replay: verdicts and moderators'
//! commands become audit rows, cases, warnings and escalations, and only then requests to
//! an [`Executor`].
//!
//! Order of writes for every action: audit row (intent) → case / warning → executor →
//! audit row (outcome). A crash anywhere leaves at least the intent in the log.

pub mod executor;
pub mod faq_answers;
mod raid;
pub mod records;
mod timed;

use std::sync::Arc;

use serde_json::json;

pub use executor::{ExecError, ExecOutcome, Executor, Recorder, Request};
pub use raid::BULK_BAN_MAX;
pub use records::Command;
pub use timed::RECONCILE_WITHIN;

use raid::{Batch, BatchKey};

use crate::engine::event::{ChannelId, Event, GuildId, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::{Action, Evidence, Mode, Verdict};
use crate::rules::{GuildSettings, LiveSettings, LoadedRules, SettingsBook};
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::{Actor, Case, CaseEvidence, CaseKind, NewCase};
use crate::store::intents::IntentState;
use crate::store::timers::{NewTimed, TimedKind};
use crate::store::warnings::NewWarning;
use crate::store::{Store, StoreError};

/// The rule name escalations are recorded under.
pub const ESCALATION: &str = "escalation";

/// What can stop the moderation layer.
#[derive(Debug, thiserror::Error)]
pub enum ModerationError {
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Turns decisions into records and actions.
pub struct Moderator<E> {
    store: Store,
    executor: E,
    /// Each server's settings in force (warnings ladder, rules hash), read per action.
    settings: LiveSettings,
    /// One lock per member being warned, so that two warnings landing together are
    /// counted one after the other and a rung of the ladder fires once.
    warning_locks: std::sync::Mutex<rustc_hash::FxHashMap<(GuildId, UserId), MemberLock>>,
    /// Raid bans gathered to leave together; see [`Moderator::with_batch_window`].
    raid_bans: std::sync::Mutex<rustc_hash::FxHashMap<BatchKey, Batch>>,
    batch_window: std::time::Duration,
}

/// How an audited request reaches the executor.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Via {
    /// Stored in the outbox first, so a crash mid-call leaves a row to complete.
    Outbox,
    /// Straight: the ends of sanctions, which their timed action's lease keeps instead.
    Direct,
}

/// Held while one of a member's warnings is counted.
type MemberLock = Arc<tokio::sync::Mutex<()>>;

/// Who and what one action is about.
#[derive(Clone, Debug)]
struct Target {
    guild: GuildId,
    user: UserId,
    /// Every account, for raid bans.
    accounts: Vec<UserId>,
    channel: Option<ChannelId>,
    message: Option<MessageId>,
}

/// One action with everything needed to record and perform it.
struct Step<'a> {
    target: &'a Target,
    actor: Actor,
    reason: &'a str,
    evidence: &'a Evidence,
    action: &'a Action,
}

/// What a moderator asks for by command.
#[derive(Clone, Debug, PartialEq)]
pub struct ManualAction {
    pub guild: GuildId,
    pub moderator: UserId,
    pub target: UserId,
    pub action: Action,
    pub reason: String,
    /// The message the command is about, if any (a context menu on a message); a lockdown
    /// without channels locks this message's channel.
    pub message: Option<(ChannelId, MessageId)>,
}

/// The outcome of one performed action.
#[derive(Clone, Debug, PartialEq)]
pub struct Performed {
    pub case: Option<Case>,
    pub outcome: Result<ExecOutcome, ExecError>,
    /// An escalation the action's warning set off, already carried out.
    pub escalation: Option<Verdict>,
}

impl<E: Executor> Moderator<E> {
    /// A moderator acting under `rules`, recording into `store`, acting through `executor`.
    pub fn new(store: Store, executor: E, rules: &LoadedRules) -> Self {
        let settings = LiveSettings::new(SettingsBook::single(rules.settings()));
        Moderator::with_settings(store, executor, settings)
    }

    /// A moderator reading each server's settings from `settings`, which whoever changes
    /// rules keeps current (and the executor may share).
    pub fn with_settings(store: Store, executor: E, settings: LiveSettings) -> Self {
        Moderator {
            store,
            executor,
            settings,
            warning_locks: std::sync::Mutex::default(),
            raid_bans: std::sync::Mutex::default(),
            batch_window: std::time::Duration::ZERO,
        }
    }

    /// The same moderator, gathering a raid's bans for `window` (or until there are 200)
    /// and sending them as one bulk ban: Discord limits how fast bans may arrive, and a
    /// raid of a thousand accounts must not take a thousand calls. Zero (the default, and
    /// replay's) sends each verdict's bans at once.
    pub fn with_batch_window(mut self, window: std::time::Duration) -> Self {
        self.batch_window = window;
        self
    }

    /// Each server's settings in force.
    pub fn settings(&self) -> &LiveSettings {
        &self.settings
    }

    /// The member's warning lock, made on first use.
    fn warning_lock(&self, guild: GuildId, user: UserId) -> MemberLock {
        crate::lock::lock(&self.warning_locks)
            .entry((guild, user))
            .or_default()
            .clone()
    }

    /// Forgets the member's warning lock when nobody else holds or waits for it.
    fn drop_warning_lock(&self, guild: GuildId, user: UserId, held: MemberLock) {
        let mut locks = crate::lock::lock(&self.warning_locks);
        // Two references: the map's and `held`.
        if Arc::strong_count(&held) == 2 {
            locks.remove(&(guild, user));
        }
    }

    fn in_force(&self, guild: GuildId) -> Arc<GuildSettings> {
        self.settings.for_guild(guild)
    }

    /// The executor, for inspection in tests and replays.
    pub fn executor(&self) -> &E {
        &self.executor
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Records a switch to new operator rules (and the file, once) in the store, and puts
    /// their settings in force for every server without rules of its own. Servers' own
    /// settings are put in force by [`LiveSettings::replace`].
    pub async fn load_rules(
        &self,
        rules: &LoadedRules,
        by: &str,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        self.store
            .record_rules(&rules.hash, &rules.source, now, by)
            .await?;
        self.store
            .append_audit(&AuditEntry {
                at: now,
                guild: None,
                actor: None,
                rule: None,
                action: "rules_reload".to_string(),
                phase: Phase::Reload,
                target: None,
                case_id: None,
                detail: json!({"hash": rules.hash, "origin": rules.origin, "by": by}),
            })
            .await?;
        let mut book = (*self.settings.book()).clone();
        book.default = Arc::new(rules.settings());
        self.settings.replace(book);
        Ok(())
    }

    /// Records that `guild`'s own rules changed: `Some((hash, source))` for new ones (the
    /// source kept once in the rules history), `None` when they were dropped.
    pub async fn server_rules_changed(
        &self,
        guild: GuildId,
        rules: Option<(&str, &str)>,
        by: UserId,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        if let Some((hash, source)) = rules {
            self.store
                .record_rules(hash, source, now, &format!("upload by {by} in {guild}"))
                .await?;
        }
        self.store
            .append_audit(&AuditEntry {
                at: now,
                guild: Some(guild),
                actor: Some(by),
                rule: None,
                action: "server_rules".to_string(),
                phase: Phase::Reload,
                target: None,
                case_id: None,
                detail: json!({"hash": rules.map(|(h, _)| h), "reset": rules.is_none()}),
            })
            .await?;
        Ok(())
    }

    /// Records a rules file that failed to load (the old rules stay in force) and tells the
    /// moderators in the mod-log channel.
    pub async fn rules_rejected(
        &self,
        problems: &str,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let entry = AuditEntry {
            at: now,
            guild: None,
            actor: None,
            rule: None,
            action: "rules_reload".to_string(),
            phase: Phase::Failed,
            target: None,
            case_id: None,
            detail: json!({"problems": problems, "kept": self.settings.book().default.rules_hash}),
        };
        self.store.append_audit(&entry).await?;
        let alert = Request::Alert {
            guild: GuildId(0),
            channel: None,
            text: format!(
                "The new rules file has errors; the old rules stay in force.\n{problems}"
            ),
            raid_buttons: false,
        };
        if let Err(e) = self.executor.execute(&alert).await {
            self.store
                .append_audit(&outcome_entry(entry, &Err(e)))
                .await?;
        }
        Ok(())
    }

    /// Records and carries out `verdict` about `event`. Returns the escalations it set off
    /// (already carried out), so callers can report them like any other verdict.
    pub async fn apply(
        &self,
        event: &Event,
        verdict: &Verdict,
        now: Timestamp,
    ) -> Result<Vec<Verdict>, ModerationError> {
        let message = event.message();
        let target = Target {
            guild: event.guild_id(),
            user: event.user_id(),
            accounts: verdict.accounts.clone(),
            channel: message.map(|m| m.channel_id),
            message: message.map(|m| m.id),
        };
        if verdict.mode == Mode::Shadow {
            self.store
                .append_audit(&AuditEntry {
                    at: now,
                    guild: Some(target.guild),
                    actor: None,
                    rule: Some(verdict.rule.to_string()),
                    action: "match".to_string(),
                    phase: Phase::Shadow,
                    target: Some(target.user),
                    case_id: None,
                    detail: json!({
                        "reason": verdict.reason,
                        "evidence": verdict.evidence.matched,
                        "would": verdict.actions.iter().map(Action::name).collect::<Vec<_>>(),
                    }),
                })
                .await?;
            return Ok(Vec::new());
        }
        let mut escalations = Vec::new();
        for action in &verdict.actions {
            if let Action::Ban {
                duration,
                delete_messages,
            } = action
                && !verdict.accounts.is_empty()
                && !self.batch_window.is_zero()
            {
                let key = BatchKey {
                    guild: target.guild,
                    rule: verdict.rule.to_string(),
                    duration: *duration,
                    delete_messages: *delete_messages,
                };
                self.gather_raid_bans(key, &verdict.accounts, &verdict.reason, now)
                    .await?;
                continue;
            }
            let step = Step {
                target: &target,
                actor: Actor::Steward {
                    rule: verdict.rule.to_string(),
                },
                reason: &verdict.reason,
                evidence: &verdict.evidence,
                action,
            };
            let performed = self.perform(&step, now).await?;
            escalations.extend(performed.escalation);
        }
        Ok(escalations)
    }

    /// Records and carries out a moderator's command.
    pub async fn manual(
        &self,
        command: &ManualAction,
        now: Timestamp,
    ) -> Result<Performed, ModerationError> {
        let target = Target {
            guild: command.guild,
            user: command.target,
            accounts: Vec::new(),
            channel: command.message.map(|(c, _)| c),
            message: command.message.map(|(_, m)| m),
        };
        let step = Step {
            target: &target,
            actor: Actor::User(command.moderator),
            reason: &command.reason,
            evidence: &Evidence::default(),
            action: &command.action,
        };
        self.perform(&step, now).await
    }

    /// Writes `intent`, carries out `request` (`via` the outbox or directly), and writes
    /// the outcome under the same intent.
    async fn execute_audited(
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
    async fn send(
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

    async fn perform(&self, step: &Step<'_>, now: Timestamp) -> Result<Performed, ModerationError> {
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
        }
        // The outcome row closes the outbox row in the same transaction.
        let close = outbox.map(|id| {
            let (state, note) = intent_state(&outcome);
            (id, state, note.map(str::to_string))
        });
        self.store
            .append_audit_closing(&outcome_entry(intent, &outcome), close)
            .await?;
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
    async fn close_unapplied(
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

fn lockdown_channels(channels: &[ChannelId], t: &Target) -> Vec<ChannelId> {
    if channels.is_empty() {
        t.channel.into_iter().collect()
    } else {
        channels.to_vec()
    }
}

/// The outbox state and note of an outcome.
fn intent_state(outcome: &Result<ExecOutcome, ExecError>) -> (IntentState, Option<&str>) {
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

/// The timed actions that end a temporary sanction: one per account of a raid's
/// temporary bulk ban, else at most one.
fn timed_ends(
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

fn outcome_entry(intent: AuditEntry, outcome: &Result<ExecOutcome, ExecError>) -> AuditEntry {
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

/// A moderator's (user 99) command against member 5 of guild 1, for tests.
#[cfg(test)]
pub(crate) fn test_command(action: Action, reason: &str) -> ManualAction {
    ManualAction {
        guild: GuildId(1),
        moderator: UserId(99),
        target: UserId(5),
        action,
        reason: reason.into(),
        message: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::event::{Author, Message};
    use crate::store::audit::AuditFilter;
    use crate::store::test_support::fresh;

    const HOUR: i64 = 3_600_000;

    fn rules() -> LoadedRules {
        crate::rules::example().expect("example rules")
    }

    fn message(user: u64, at: i64) -> Event {
        Event::Message(Message {
            id: MessageId(900 + at as u64 % 1000),
            guild_id: GuildId(1),
            channel_id: ChannelId(10),
            author: Author {
                id: UserId(user),
                ..Author::default()
            },
            content: "n1gg3r".into(),
            timestamp: Timestamp(at),
            ..Message::default()
        })
    }

    fn verdict(rule: &str, mode: Mode, actions: Vec<Action>) -> Verdict {
        Verdict {
            rule: rule.into(),
            mode,
            reason: "blocked word from list slurs".into(),
            evidence: Evidence {
                matched: "n1gg3r".into(),
                normalized: Some("nigger".into()),
                span: Some((0, 6)),
            },
            actions,
            accounts: Vec::new(),
        }
    }

    fn warn() -> Action {
        Action::Warn {
            points: 1,
            expires: None,
        }
    }

    async fn phases(store: &Store) -> Vec<(String, &'static str)> {
        store
            .audit_rows(&AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .map(|r| (r.entry.action, r.entry.phase.as_str()))
            .collect()
    }

    #[tokio::test]
    async fn a_verdict_becomes_cases_a_warning_requests_and_audit_pairs() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let v = verdict(
            "slurs",
            Mode::Enforce,
            vec![Action::Delete, warn(), Action::Alert { channel: None }],
        );
        let escalations = m.apply(&message(5, 0), &v, Timestamp(0)).await.unwrap();
        assert!(escalations.is_empty());
        let cases = store.cases_for(GuildId(1), UserId(5)).await.unwrap();
        let kinds: Vec<_> = cases.iter().map(|c| c.kind).collect();
        assert_eq!(kinds, vec![CaseKind::Delete, CaseKind::Warn]);
        assert_eq!(cases[1].evidence.normalized.as_deref(), Some("nigger"));
        assert_eq!(cases[1].rules_hash.as_deref(), Some(rules().hash.as_str()));
        assert_eq!(
            cases[1].actor,
            Actor::Steward {
                rule: "slurs".into()
            }
        );
        let warnings = store.warnings_for(GuildId(1), UserId(5)).await.unwrap();
        assert_eq!(warnings.len(), 1);
        assert_eq!(
            warnings[0].expires_at,
            Some(Timestamp(30 * 24 * HOUR)),
            "the example's default expiry of 30 days"
        );
        let requests = m.executor().requests();
        assert_eq!(
            requests.iter().map(Request::name).collect::<Vec<_>>(),
            vec!["delete", "warn", "alert"]
        );
        assert_eq!(
            phases(&store).await,
            vec![
                ("delete".to_string(), "intent"),
                ("delete".to_string(), "done"),
                ("warn".to_string(), "intent"),
                ("warn".to_string(), "done"),
                ("alert".to_string(), "intent"),
                ("alert".to_string(), "done"),
            ]
        );
    }

    #[tokio::test]
    async fn the_third_warning_in_a_day_escalates_once() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let v = verdict("slurs", Mode::Enforce, vec![warn()]);
        for i in 0..2 {
            let e = m
                .apply(&message(5, i * HOUR), &v, Timestamp(i * HOUR))
                .await
                .unwrap();
            assert!(e.is_empty(), "warning {i} escalated");
        }
        let third = m
            .apply(&message(5, 2 * HOUR), &v, Timestamp(2 * HOUR))
            .await
            .unwrap();
        assert_eq!(third.len(), 1);
        assert_eq!(&*third[0].rule, ESCALATION);
        assert_eq!(
            third[0].actions,
            vec![Action::Timeout {
                duration: Duration::from_secs(3600)
            }]
        );
        let fourth = m
            .apply(&message(5, 3 * HOUR), &v, Timestamp(3 * HOUR))
            .await
            .unwrap();
        assert!(
            fourth.is_empty(),
            "4 points: past the first rung, short of the second"
        );
        let timeouts = m
            .executor()
            .requests()
            .into_iter()
            .filter(|r| matches!(r, Request::Timeout { .. }))
            .count();
        assert_eq!(timeouts, 1);
        let cases = store.cases_for(GuildId(1), UserId(5)).await.unwrap();
        let escalation = cases.iter().find(|c| c.kind == CaseKind::Timeout).unwrap();
        assert_eq!(
            escalation.actor,
            Actor::Steward {
                rule: ESCALATION.into()
            }
        );
    }

    #[tokio::test]
    async fn spread_out_or_pardoned_warnings_do_not_escalate() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let v = verdict("slurs", Mode::Enforce, vec![warn()]);
        // Three warnings, each a day apart: never three within 24 hours.
        for i in 0..3 {
            let at = i * 25 * HOUR;
            assert!(
                m.apply(&message(5, at), &v, Timestamp(at))
                    .await
                    .unwrap()
                    .is_empty()
            );
        }
        // Two quick ones for another member, one pardoned, then a third: only two count.
        m.apply(&message(6, 0), &v, Timestamp(0)).await.unwrap();
        m.apply(&message(6, 1), &v, Timestamp(1)).await.unwrap();
        let first = store
            .warnings_for(GuildId(1), UserId(6))
            .await
            .unwrap()
            .pop()
            .unwrap();
        let pardon = crate::store::warnings::Pardon {
            by: UserId(99),
            at: Timestamp(2),
            reason: "false positive".into(),
        };
        store
            .pardon_warning(GuildId(1), first.id, &pardon)
            .await
            .unwrap();
        assert!(
            m.apply(&message(6, 3), &v, Timestamp(3))
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn refusals_are_audited_and_schedule_nothing() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::refusing(vec![UserId(5)]), &rules());
        let ban = Action::Ban {
            duration: Some(Duration::from_secs(86_400)),
            delete_messages: Duration(0),
        };
        m.apply(
            &message(5, 0),
            &verdict("scam-links", Mode::Enforce, vec![ban]),
            Timestamp(0),
        )
        .await
        .unwrap();
        let rows = store.audit_rows(&AuditFilter::default()).await.unwrap();
        assert_eq!(rows[1].entry.phase, Phase::Refused);
        let case = store.case(GuildId(1), 1).await.unwrap().unwrap();
        assert!(!case.active, "a refused ban's case is closed");
        assert!(
            case.outcome
                .as_deref()
                .is_some_and(|o| o.starts_with("refused: ")),
            "{case:?}"
        );
        assert!(
            rows[1].entry.detail["outcome"]
                .as_str()
                .unwrap()
                .contains("top role")
        );
        assert!(store.pending_timed().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn failures_are_audited_as_failed() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::failing(), &rules());
        m.apply(
            &message(5, 0),
            &verdict("flood", Mode::Enforce, vec![Action::Kick]),
            Timestamp(0),
        )
        .await
        .unwrap();
        assert_eq!(
            phases(&store).await,
            vec![
                ("kick".to_string(), "intent"),
                ("kick".to_string(), "failed")
            ]
        );
    }

    #[tokio::test]
    async fn shadow_rules_only_record() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        m.apply(
            &message(5, 0),
            &verdict("slurs", Mode::Shadow, vec![Action::Kick]),
            Timestamp(0),
        )
        .await
        .unwrap();
        assert!(m.executor().requests().is_empty());
        assert!(store.all_cases(None).await.unwrap().is_empty());
        assert_eq!(phases(&store).await, vec![("match".to_string(), "shadow")]);
    }

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
    async fn raid_bans_go_out_as_one_bulk_request() {
        let (store, _dir) = fresh().await;
        let m = Moderator::new(store.clone(), Recorder::default(), &rules());
        let mut v = verdict(
            "raid",
            Mode::Enforce,
            vec![Action::Ban {
                duration: None,
                delete_messages: Duration(0),
            }],
        );
        v.accounts = (100..350).map(UserId).collect();
        m.apply(&message(100, 0), &v, Timestamp(0)).await.unwrap();
        let requests = m.executor().requests();
        assert_eq!(requests.len(), 1);
        let Request::Ban { users, .. } = &requests[0] else {
            panic!("expected a ban, got {requests:?}");
        };
        assert_eq!(users.len(), 250);
        let cases = store.all_cases(None).await.unwrap();
        assert_eq!(cases.len(), 1);
        assert_eq!(cases[0].kind, CaseKind::Raid);
    }

    #[tokio::test]
    async fn rules_loads_are_recorded_once_per_file() {
        let (store, _dir) = fresh().await;
        let rules = rules();
        let m = Moderator::new(store.clone(), Recorder::default(), &rules);
        m.load_rules(&rules, "startup", Timestamp(0)).await.unwrap();
        m.load_rules(&rules, "reload", Timestamp(1)).await.unwrap();
        assert!(store.rules_version(&rules.hash).await.unwrap().is_some());
        assert_eq!(
            phases(&store).await,
            vec![
                ("rules_reload".to_string(), "reload"),
                ("rules_reload".to_string(), "reload")
            ]
        );
    }

    fn temporary_ban(secs: u64) -> Action {
        Action::Ban {
            duration: Some(Duration::from_secs(secs)),
            delete_messages: Duration(0),
        }
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
