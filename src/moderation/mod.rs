//! Policy shared by the gateway, the slash commands and replay: verdicts and moderators'
//! commands become audit rows, cases, warnings and escalations, and only then requests to
//! an [`Executor`].
//!
//! Order of writes for every action: audit row (intent) → case / warning → executor →
//! audit row (outcome). A crash anywhere leaves at least the intent in the log.

mod actions;
pub mod appeals;
pub mod executor;
pub mod faq_answers;
mod notices;
mod raid;
pub mod records;
#[cfg(test)]
mod test_support;
mod timed;
mod verdicts;

use std::sync::Arc;

use serde_json::json;

pub use executor::{Delivery, ExecError, ExecOutcome, Executor, Post, Posted, Recorder, Request};
pub use raid::BULK_BAN_MAX;
pub use records::Command;
pub use timed::RECONCILE_WITHIN;

use actions::{intent_state, outcome_entry};
use raid::{Batch, BatchKey};

use crate::engine::event::{ChannelId, GuildId, MessageId, UserId};
use crate::engine::time::Timestamp;
use crate::engine::verdict::{Action, Evidence, Verdict};
use crate::rules::{GuildSettings, LiveSettings, LoadedRules, SettingsBook};
use crate::store::audit::{AuditEntry, Phase};
use crate::store::cases::{Actor, Case};
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

    use crate::moderation::test_support::*;

    use crate::moderation::Recorder;

    use crate::store::test_support::fresh;

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
}
