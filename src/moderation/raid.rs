//! Raid holds: accounts that joined in raid mode without being in the raid's cohort wait
//! (timed out, or with a quarantine role) for moderators, who release them or ban them
//! together. Both are audited; a ban of the held passes steward's checks per account.

use serde_json::json;

use super::{ExecError, ExecOutcome, Executor, ModerationError, Moderator, Step, Target};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::{Duration, Timestamp};
use crate::engine::verdict::{Action, Evidence};
use crate::store::cases::Actor;

/// How much of a held member's history a ban of the held deletes.
const HELD_BAN_DELETES: Duration = Duration::from_secs(3_600);

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
}
