//! Moderators' commands that are not engine actions: lifting a ban, a softban (ban to
//! remove recent messages, then unban), notes, pardons and reason edits. Each is audited
//! like every other decision.

use serde_json::json;

use super::notices::pardon_post;
use super::{
    ExecError, ExecOutcome, Executor, ModerationError, Moderator, Performed, Request, Via,
    outcome_entry,
};
use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::{Actor, Case, CaseEvidence, CaseKind, NewCase};
use crate::store::timers::{NewTimed, TimedKind};
use crate::store::warnings::{Pardon, Warning};

/// Who is doing what to whom.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Command {
    pub guild: GuildId,
    pub moderator: UserId,
    pub target: UserId,
    pub reason: String,
}

impl<E: Executor> Moderator<E> {
    /// Lifts a ban now, cancelling any scheduled unban.
    pub async fn unban(&self, c: &Command, now: Timestamp) -> Result<Performed, ModerationError> {
        let requests = [Request::Unban {
            guild: c.guild,
            user: c.target,
            reason: c.reason.clone(),
        }];
        let performed = self.command(c, CaseKind::Unban, &requests, now).await?;
        if performed.outcome == Ok(ExecOutcome::Done) {
            self.store
                .cancel_timed(c.guild, TimedKind::Unban, Some(c.target), None)
                .await?;
        }
        Ok(performed)
    }

    /// Bans to delete `delete_messages` of the member's messages, then unbans at once.
    pub async fn softban(
        &self,
        c: &Command,
        delete_messages: Duration,
        now: Timestamp,
    ) -> Result<Performed, ModerationError> {
        let mut intent = c.entry(CaseKind::Softban.as_str(), Phase::Intent, now);
        self.store.append_audit(&intent).await?;
        let case = self.command_case(c, CaseKind::Softban, None, now).await?;
        intent.case_id = Some(case.id);
        // The unban is stored before the ban is asked for, so no crash leaves a ban.
        let unban = self
            .store
            .schedule(&NewTimed {
                guild: c.guild,
                kind: TimedKind::Unban,
                target: Some(c.target),
                detail: json!({"softban": true}),
                case_id: Some(case.id),
                due_at: now,
            })
            .await?;
        let ban = Request::Ban {
            guild: c.guild,
            users: vec![c.target],
            delete_messages,
            reason: c.reason.clone(),
        };
        if matches!(self.executor.refusal(c.guild, c.target).await, Ok(None)) {
            self.tell_member(&case).await?;
        }
        let outcome = self.send(&ban, Some(case.id), now).await?;
        match &outcome {
            Ok(ExecOutcome::Done) => {
                if let Some(timed) = self.store.claim_now(unban, now).await? {
                    self.run_timed(&timed, now).await?;
                }
            }
            Ok(ExecOutcome::Refused(_)) => self.store.cancel_timed_id(unban).await?,
            // The ban may have been applied: the stored unban runs with the other due ones.
            Err(_) => {}
        }
        self.finish_command(intent, case, outcome).await
    }

    /// Ends a timeout early and cancels its scheduled end.
    pub async fn untimeout(&self, c: &Command, now: Timestamp) -> Result<(), ModerationError> {
        let intent = c.entry("untimeout", Phase::Intent, now);
        let request = Request::EndTimeout {
            guild: c.guild,
            user: c.target,
            reason: c.reason.clone(),
        };
        let outcome = self.execute_audited(intent, &request, Via::Outbox).await?;
        if outcome == Ok(ExecOutcome::Done) {
            self.store
                .cancel_timed(c.guild, TimedKind::EndTimeout, Some(c.target), None)
                .await?;
        }
        Ok(())
    }

    /// Bulk-deletes `messages` of `channel` for a moderator, audited as one purge.
    pub async fn purge(
        &self,
        guild: GuildId,
        moderator: UserId,
        channel: ChannelId,
        messages: Vec<MessageId>,
        reason: &str,
        now: Timestamp,
    ) -> Result<Result<ExecOutcome, ExecError>, ModerationError> {
        let detail =
            json!({"reason": reason, "channel": channel.to_string(), "messages": messages.len()});
        let intent = by_moderator(
            now,
            Some(guild),
            moderator,
            "purge",
            Phase::Intent,
            None,
            detail,
        );
        let request = Request::Purge {
            guild,
            channel,
            messages,
            reason: reason.to_string(),
        };
        self.execute_audited(intent, &request, Via::Outbox).await
    }

    /// Audits a moderator's command that changes no member (slowmode, ending a lockdown).
    pub async fn record_command(
        &self,
        guild: GuildId,
        moderator: UserId,
        action: &str,
        detail: serde_json::Value,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        self.record(guild, moderator, None, action, None, detail, now)
            .await
    }

    /// Audits a command steward would not carry out for `by`, and why.
    pub async fn refused(
        &self,
        guild: Option<GuildId>,
        by: UserId,
        command: &str,
        target: Option<UserId>,
        why: &str,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let detail = json!({"refused": why});
        let entry = by_moderator(now, guild, by, command, Phase::Refused, target, detail);
        self.store.append_audit(&entry).await?;
        Ok(())
    }

    /// Writes a note about a member: a case, nothing done on Discord.
    pub async fn note(&self, c: &Command, now: Timestamp) -> Result<Case, ModerationError> {
        let case = self.command_case(c, CaseKind::Note, None, now).await?;
        self.record(
            c.guild,
            c.moderator,
            Some(c.target),
            "note",
            Some(case.id),
            json!({"note": c.reason}),
            now,
        )
        .await?;
        self.post_case(case.guild, case.number, None).await?;
        Ok(case)
    }

    /// Forgives a warning: it stops counting toward escalation.
    pub async fn pardon(
        &self,
        guild: GuildId,
        moderator: UserId,
        warning: i64,
        reason: &str,
        now: Timestamp,
    ) -> Result<Warning, ModerationError> {
        let pardon = Pardon {
            by: moderator,
            at: now,
            reason: reason.to_string(),
        };
        let pardoned = self.store.pardon_warning(guild, warning, &pardon).await?;
        let detail = json!({"warning": warning, "points": pardoned.points, "reason": reason});
        self.record(
            guild,
            moderator,
            Some(pardoned.user),
            "pardon",
            Some(pardoned.case_id),
            detail,
            now,
        )
        .await?;
        if let Some(case) = self.store.case_by_id(pardoned.case_id).await? {
            self.answer_case(&case, pardon_post(&case, moderator, reason))
                .await;
        }
        Ok(pardoned)
    }

    /// Replaces a case's reason; the old one stays in the case's history and the audit log.
    pub async fn edit_reason(
        &self,
        guild: GuildId,
        moderator: UserId,
        number: u64,
        reason: &str,
        now: Timestamp,
    ) -> Result<Case, ModerationError> {
        let before = self.store.case(guild, number).await?;
        let case = self
            .store
            .edit_case_reason(guild, number, reason, Some(moderator), now)
            .await?;
        let detail = json!({
            "case": number,
            "old_reason": before.map(|c| c.reason),
            "new_reason": reason,
        });
        self.record(
            guild,
            moderator,
            Some(case.target),
            "reason_edit",
            Some(case.id),
            detail,
            now,
        )
        .await?;
        self.repost_case(&case).await;
        Ok(case)
    }

    /// Records a sanction a person applied in Discord's own interface: a case under their
    /// name and an audit row, nothing done (it is done already).
    pub async fn record_external(
        &self,
        c: &Command,
        kind: CaseKind,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Case, ModerationError> {
        let case = self.command_case(c, kind, expires_at, now).await?;
        if kind == CaseKind::Ban {
            // A ban made by hand in Discord stands: steward's scheduled unban would lift it.
            self.store
                .cancel_timed(c.guild, TimedKind::Unban, Some(c.target), None)
                .await?;
        }
        let detail = json!({"reason": c.reason, "source": "Discord audit log"});
        self.record(
            c.guild,
            c.moderator,
            Some(c.target),
            kind.as_str(),
            Some(case.id),
            detail,
            now,
        )
        .await?;
        self.post_case(case.guild, case.number, None).await?;
        Ok(case)
    }

    /// Puts a member who left and came back during a timeout back in it, until the time
    /// it was due to end. Returns whether there was a timeout to restore.
    pub async fn restore_timeout(
        &self,
        guild: GuildId,
        user: UserId,
        now: Timestamp,
    ) -> Result<bool, ModerationError> {
        let Some(until) = self
            .store
            .pending_until(guild, TimedKind::EndTimeout, user)
            .await?
            .filter(|until| *until > now)
        else {
            return Ok(false);
        };
        let intent = AuditEntry {
            at: now,
            guild: Some(guild),
            actor: None,
            rule: None,
            action: "timeout".to_string(),
            phase: Phase::Intent,
            target: Some(user),
            case_id: None,
            detail: json!({"reason": "rejoined during a timeout", "until": until.0}),
        };
        let request = Request::Timeout {
            guild,
            user,
            until,
            reason: "steward: rejoined during a timeout".to_string(),
        };
        // A failed call is in the audit log with Discord's answer; nothing else to do.
        let _outcome = self.execute_audited(intent, &request, Via::Outbox).await?;
        Ok(true)
    }

    /// Intent, case, every request in turn (stopping at the first that is not done), outcome.
    async fn command(
        &self,
        c: &Command,
        kind: CaseKind,
        requests: &[Request],
        now: Timestamp,
    ) -> Result<Performed, ModerationError> {
        let mut intent = c.entry(kind.as_str(), Phase::Intent, now);
        self.store.append_audit(&intent).await?;
        let case = self.command_case(c, kind, None, now).await?;
        intent.case_id = Some(case.id);
        let mut outcome = Ok(ExecOutcome::Done);
        for request in requests {
            outcome = self.send(request, Some(case.id), now).await?;
            if outcome != Ok(ExecOutcome::Done) {
                break;
            }
        }
        self.finish_command(intent, case, outcome).await
    }

    /// Closes the case of a command that did not happen and writes the outcome row.
    async fn finish_command(
        &self,
        intent: AuditEntry,
        case: Case,
        outcome: Result<ExecOutcome, ExecError>,
    ) -> Result<Performed, ModerationError> {
        self.close_unapplied(case.id, &outcome).await?;
        self.store
            .append_audit(&outcome_entry(intent, &outcome))
            .await?;
        self.post_case(case.guild, case.number, None).await?;
        Ok(Performed {
            case: Some(case),
            outcome,
            escalation: None,
        })
    }

    async fn command_case(
        &self,
        c: &Command,
        kind: CaseKind,
        expires_at: Option<Timestamp>,
        now: Timestamp,
    ) -> Result<Case, ModerationError> {
        Ok(self
            .store
            .create_case(&NewCase {
                guild: c.guild,
                kind,
                target: c.target,
                actor: Actor::User(c.moderator),
                reason: c.reason.clone(),
                evidence: CaseEvidence::default(),
                rules_hash: Some(self.in_force(c.guild).rules_hash.clone()),
                created_at: now,
                expires_at,
            })
            .await?)
    }

    #[allow(clippy::too_many_arguments)]
    pub(super) async fn record(
        &self,
        guild: GuildId,
        moderator: UserId,
        target: Option<UserId>,
        action: &str,
        case_id: Option<i64>,
        detail: serde_json::Value,
        now: Timestamp,
    ) -> Result<(), ModerationError> {
        let mut entry = by_moderator(
            now,
            Some(guild),
            moderator,
            action,
            Phase::Record,
            target,
            detail,
        );
        entry.case_id = case_id;
        self.store.append_audit(&entry).await?;
        Ok(())
    }
}

/// An audit row about what a moderator did or asked for.
fn by_moderator(
    at: Timestamp,
    guild: Option<GuildId>,
    moderator: UserId,
    action: &str,
    phase: Phase,
    target: Option<UserId>,
    detail: serde_json::Value,
) -> AuditEntry {
    AuditEntry {
        at,
        guild,
        actor: Some(moderator),
        rule: None,
        action: action.to_string(),
        phase,
        target,
        case_id: None,
        detail,
    }
}

impl Command {
    /// An audit row about this command, with its reason.
    fn entry(&self, action: &str, phase: Phase, at: Timestamp) -> AuditEntry {
        let detail = json!({"reason": self.reason});
        by_moderator(
            at,
            Some(self.guild),
            self.moderator,
            action,
            phase,
            Some(self.target),
            detail,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::verdict::Action;
    use crate::moderation::{Recorder, test_command};
    use crate::store::StoreError;
    use crate::store::audit::AuditFilter;
    use crate::store::test_support::fresh;

    fn command(reason: &str) -> Command {
        Command {
            guild: GuildId(1),
            moderator: UserId(99),
            target: UserId(5),
            reason: reason.into(),
        }
    }

    fn moderator(store: &crate::store::Store) -> Moderator<Recorder> {
        Moderator::new(
            store.clone(),
            Recorder::default(),
            &crate::rules::example().unwrap(),
        )
    }

    #[tokio::test]
    async fn an_unban_cancels_the_scheduled_one() {
        let (store, _dir) = fresh().await;
        let m = moderator(&store);
        let ban = Action::Ban {
            duration: Some(Duration::from_secs(3600)),
            delete_messages: Duration(0),
        };
        let ban = test_command(ban, "cool off");
        m.manual(&ban, Timestamp(0)).await.unwrap();
        assert_eq!(store.pending_timed().await.unwrap().len(), 1);
        let lifted = m
            .unban(&command("appeal accepted"), Timestamp(10))
            .await
            .unwrap();
        assert_eq!(lifted.case.unwrap().kind, CaseKind::Unban);
        assert!(store.pending_timed().await.unwrap().is_empty());
        assert_eq!(m.run_due(Timestamp(7_200_000)).await.unwrap(), 0);
    }

    #[tokio::test]
    async fn a_softban_bans_then_unbans_in_one_case() {
        let (store, _dir) = fresh().await;
        let m = moderator(&store);
        let done = m
            .softban(
                &command("spam cleanup"),
                Duration::from_secs(86_400),
                Timestamp(0),
            )
            .await
            .unwrap();
        assert_eq!(done.case.unwrap().kind, CaseKind::Softban);
        let names: Vec<_> = m.executor().requests().iter().map(Request::name).collect();
        assert_eq!(names, vec!["ban", "unban"]);
    }

    #[tokio::test]
    async fn a_member_who_rejoins_during_a_timeout_gets_it_back() {
        let (store, _dir) = fresh().await;
        let m = moderator(&store);
        let timeout = Action::Timeout {
            duration: Duration::from_secs(3600),
        };
        m.manual(&test_command(timeout, "flood"), Timestamp(0))
            .await
            .unwrap();
        assert!(
            m.restore_timeout(GuildId(1), UserId(5), Timestamp(60_000))
                .await
                .unwrap()
        );
        let last = m.executor().requests().pop().unwrap();
        assert_eq!(
            last,
            Request::Timeout {
                guild: GuildId(1),
                user: UserId(5),
                until: Timestamp(3_600_000),
                reason: "steward: rejoined during a timeout".into(),
            }
        );
        assert!(
            !m.restore_timeout(GuildId(1), UserId(5), Timestamp(3_600_001))
                .await
                .unwrap()
        );
        assert!(
            !m.restore_timeout(GuildId(1), UserId(6), Timestamp(60_000))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn sanctions_applied_in_discord_become_cases() {
        let (store, _dir) = fresh().await;
        let m = moderator(&store);
        let case = m
            .record_external(&command("raiding"), CaseKind::Ban, None, Timestamp(5))
            .await
            .unwrap();
        assert_eq!(case.actor, Actor::User(UserId(99)));
        assert!(m.executor().requests().is_empty(), "nothing is done again");
        let rows = store.audit_rows(&AuditFilter::default()).await.unwrap();
        assert_eq!(rows.len(), 1);
        assert_eq!(
            (rows[0].entry.action.as_str(), rows[0].entry.phase),
            ("ban", Phase::Record)
        );
    }

    #[tokio::test]
    async fn notes_pardons_and_reason_edits_are_audited() {
        let (store, _dir) = fresh().await;
        let m = moderator(&store);
        let note = m
            .note(&command("asked to calm down"), Timestamp(0))
            .await
            .unwrap();
        assert_eq!(note.kind, CaseKind::Note);
        let warn = Action::Warn {
            points: 1,
            expires: None,
        };
        let warn = test_command(warn, "rude");
        m.manual(&warn, Timestamp(1)).await.unwrap();
        let warning = store.warnings_for(GuildId(1), UserId(5)).await.unwrap()[0].clone();
        m.pardon(
            GuildId(1),
            UserId(99),
            warning.id,
            "apologised",
            Timestamp(2),
        )
        .await
        .unwrap();
        let again = m
            .pardon(GuildId(1), UserId(99), warning.id, "twice", Timestamp(3))
            .await;
        assert!(matches!(
            again,
            Err(ModerationError::Store(StoreError::Conflict(_)))
        ));
        m.edit_reason(
            GuildId(1),
            UserId(99),
            note.number,
            "asked twice",
            Timestamp(4),
        )
        .await
        .unwrap();
        let records: Vec<String> = store
            .audit_rows(&AuditFilter::default())
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.entry.phase == Phase::Record)
            .map(|r| r.entry.action)
            .collect();
        assert_eq!(records, vec!["note", "pardon", "reason_edit"]);
    }
}
