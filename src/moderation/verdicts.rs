//! Verdicts and moderators' commands: the two ways into the moderation layer. Each action
//! they name is recorded and carried out one at a time (see `actions`); a raid's bans are
//! gathered first (see `raid`).

use serde_json::json;

use super::raid::BatchKey;
use super::{Executor, ManualAction, ModerationError, Moderator, Performed, Step, Target};
use crate::engine::event::Event;
use crate::engine::time::Timestamp;
use crate::engine::verdict::{Action, Evidence, Mode, Verdict};
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::Actor;

impl<E: Executor> Moderator<E> {
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
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::engine::event::{GuildId, UserId};
    use crate::engine::time::Duration;
    use crate::engine::verdict::Mode;
    use crate::moderation::ESCALATION;
    use crate::moderation::test_support::*;
    use crate::moderation::{Recorder, Request};
    use crate::store::audit::AuditFilter;
    use crate::store::cases::{Actor, CaseKind};
    use crate::store::test_support::fresh;

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
}
