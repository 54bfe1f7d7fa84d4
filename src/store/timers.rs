//! Timed actions: the end of a temporary ban, timeout, lockdown or raid mode.
//!
//! A row is `pending` until a scheduler claims it (`running`, with a lease), then `done`,
//! `pending` again with a later due time when the attempt failed, or `failed` when it can
//! never be done. Claiming is a single UPDATE, so two schedulers never take the same row;
//! a row whose lease ran out (its process died) is claimed again: ending a ban or a
//! timeout twice is harmless, losing it is not.

use super::{Backend, Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// What happens when the time comes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TimedKind {
    Unban,
    EndTimeout,
    EndLockdown,
    EndRaidMode,
    /// Take back a quarantine role.
    EndQuarantine,
    /// Put a crowded channel's slowmode back.
    EndSlowmode,
}

impl super::names::StoredName for TimedKind {
    const ALL: &'static [TimedKind] = &[
        TimedKind::Unban,
        TimedKind::EndTimeout,
        TimedKind::EndLockdown,
        TimedKind::EndRaidMode,
        TimedKind::EndQuarantine,
        TimedKind::EndSlowmode,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}
super::names::stored_by_name!(TimedKind);

impl TimedKind {
    /// The name it is stored and logged under.
    pub fn as_str(self) -> &'static str {
        match self {
            TimedKind::Unban => "unban",
            TimedKind::EndTimeout => "end_timeout",
            TimedKind::EndLockdown => "end_lockdown",
            TimedKind::EndRaidMode => "end_raid_mode",
            TimedKind::EndQuarantine => "end_quarantine",
            TimedKind::EndSlowmode => "end_slowmode",
        }
    }
}

/// A timed action about to be scheduled.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTimed {
    pub guild: GuildId,
    pub kind: TimedKind,
    pub target: Option<UserId>,
    /// Whatever the action needs besides the target (lockdown channels and overwrites).
    pub detail: serde_json::Value,
    pub case_id: Option<i64>,
    pub due_at: Timestamp,
}

/// A stored timed action.
#[derive(Clone, Debug, PartialEq)]
pub struct TimedAction {
    pub id: i64,
    pub action: NewTimed,
    pub attempts: u32,
}

/// How a claimed action ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimedOutcome {
    Done,
    /// It can never be done (the row lacks what it needs).
    Failed,
    /// Try again at `at`; `error` says what went wrong this time.
    Retry {
        at: Timestamp,
        error: String,
    },
}

/// How long a claimed row belongs to the process that claimed it.
pub const LEASE: crate::engine::time::Duration = crate::engine::time::Duration::from_secs(120);

impl Store {
    /// Schedules `action`; returns its id.
    pub async fn schedule(&self, action: &NewTimed) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "INSERT INTO timed_actions (guild_id, kind, target_id, detail, case_id, due_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(sql_id(action.guild.0)?)
        .bind(action.kind)
        .bind(action.target.map(|t| sql_id(t.0)).transpose()?)
        .bind(action.detail.to_string())
        .bind(action.case_id)
        .bind(action.due_at.0)
        .fetch_one(&mut *self.writer().await?)
        .await?)
    }

    /// Takes up to `limit` actions due at `now`, in due order, leasing them to this process:
    /// pending ones, and running ones whose lease ran out (their process died).
    pub async fn claim_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<TimedAction>, StoreError> {
        let sql = claim_due_sql(self.backend);
        let rows = sqlx::query_as::<_, TimedRow>(&sql)
            .bind(now.0)
            .bind(i64::from(limit))
            .bind(&*self.owner)
            .bind((now + LEASE).0)
            .fetch_all(&mut *self.writer().await?)
            .await?;
        let mut claimed = rows
            .into_iter()
            .map(TimedRow::into_timed)
            .collect::<Result<Vec<_>, _>>()?;
        claimed.sort_by_key(|t| (t.action.due_at, t.id));
        Ok(claimed)
    }

    /// Takes the pending action `id` now, whatever its due time (a softban's unban right
    /// after its ban). `None` when it is not pending.
    pub async fn claim_now(
        &self,
        id: i64,
        now: Timestamp,
    ) -> Result<Option<TimedAction>, StoreError> {
        let row = sqlx::query_as::<_, TimedRow>(
            "UPDATE timed_actions
             SET state = 'running', attempts = attempts + 1, lease_owner = $2, lease_until = $3
             WHERE id = $1 AND state = 'pending'
             RETURNING id, guild_id, kind, target_id, detail, case_id, due_at, attempts",
        )
        .bind(id)
        .bind(&*self.owner)
        .bind((now + LEASE).0)
        .fetch_optional(&mut *self.writer().await?)
        .await?;
        row.map(TimedRow::into_timed).transpose()
    }

    /// Records how a claimed action ended. A process whose lease ran out (and whose row
    /// another process took over) changes nothing; returns whether the row was still ours.
    pub async fn finish_timed(
        &self,
        id: i64,
        outcome: &TimedOutcome,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        let (state, due, error) = match outcome {
            TimedOutcome::Done => ("done", None, None),
            TimedOutcome::Failed => ("failed", None, None),
            TimedOutcome::Retry { at, error } => ("pending", Some(at.0), Some(error.as_str())),
        };
        let done = sqlx::query(
            "UPDATE timed_actions
             SET state = $1, finished_at = CASE WHEN $1 = 'pending' THEN NULL ELSE $2 END,
                 due_at = COALESCE($5, due_at), last_error = COALESCE($6, last_error),
                 lease_owner = NULL, lease_until = NULL
             WHERE id = $3 AND state = 'running' AND lease_owner = $4",
        )
        .bind(state)
        .bind(at.0)
        .bind(id)
        .bind(&*self.owner)
        .bind(due)
        .bind(error)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Says this process is alive at `now`; one silent for `timeout` has died, and what it
    /// held is taken over.
    pub async fn heartbeat(
        &self,
        now: Timestamp,
        timeout: crate::engine::time::Duration,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO processes (owner, seen_at, timeout_ms) VALUES ($1, $2, $3)
             ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at,
                                               timeout_ms = excluded.timeout_ms",
        )
        .bind(&*self.owner)
        .bind(now.0)
        .bind(i64::try_from(timeout.0).unwrap_or(i64::MAX))
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Says this process is leaving: what it still holds is taken over at once.
    pub async fn leave(&self) -> Result<(), StoreError> {
        sqlx::query("UPDATE processes SET seen_at = 0, timeout_ms = 0 WHERE owner = $1")
            .bind(&*self.owner)
            .execute(&mut *self.writer().await?)
            .await?;
        sqlx::query(
            "DELETE FROM processes WHERE seen_at = 0 AND owner NOT IN
                     (SELECT lease_owner FROM timed_actions WHERE state = 'running'
                      UNION SELECT lease_owner FROM sanction_intents WHERE state = 'open')",
        )
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Puts every running action back to `pending`, whoever holds it; returns how many.
    /// Only for a process that knows it is the database's sole user (an offline replay
    /// resuming a killed one); live processes wait for leases to run out instead.
    pub async fn resume_timed(&self) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE timed_actions SET state = 'pending', lease_owner = NULL, lease_until = NULL
             WHERE state = 'running'",
        )
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected())
    }

    /// Cancels the pending action `id` (the sanction it would end was never applied).
    pub async fn cancel_timed_id(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE timed_actions SET state = 'cancelled' WHERE id = $1 AND state = 'pending'",
        )
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// Cancels pending actions of `kind` for `target` (a manual unban makes the scheduled
    /// one pointless), except the one numbered `keep` (a new sanction's own end, which
    /// replaces the older ones); returns how many.
    pub async fn cancel_timed(
        &self,
        guild: GuildId,
        kind: TimedKind,
        target: Option<UserId>,
        keep: Option<i64>,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE timed_actions SET state = 'cancelled'
             WHERE guild_id = $1 AND kind = $2 AND target_id IS NOT DISTINCT FROM $3 AND state = 'pending'
               AND id IS DISTINCT FROM $4",
        )
        .bind(sql_id(guild.0)?)
        .bind(kind)
        .bind(target.map(|t| sql_id(t.0)).transpose()?)
        .bind(keep)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected())
    }

    /// Makes pending actions of `kind` in `guild` due at `due` at the latest (a moderator
    /// ends a lockdown or raid mode early); returns how many.
    pub async fn bring_forward(
        &self,
        guild: GuildId,
        kind: TimedKind,
        due: Timestamp,
    ) -> Result<u64, StoreError> {
        let done = sqlx::query(
            "UPDATE timed_actions SET due_at = CASE WHEN due_at < $3 THEN due_at ELSE $3 END
             WHERE guild_id = $1 AND kind = $2 AND state = 'pending'",
        )
        .bind(sql_id(guild.0)?)
        .bind(kind)
        .bind(due.0)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected())
    }

    /// The pending ends of raid holds in `guild`: timeouts whose case says `held:`, and
    /// quarantine roles. Returns (timed action id, member).
    pub async fn pending_holds(&self, guild: GuildId) -> Result<Vec<(i64, UserId)>, StoreError> {
        let rows: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT t.id, t.target_id FROM timed_actions t LEFT JOIN cases c ON c.id = t.case_id
             WHERE t.guild_id = $1 AND t.state = 'pending' AND t.target_id IS NOT NULL
               AND (t.kind = 'end_quarantine'
                    OR (t.kind = 'end_timeout' AND c.reason LIKE 'held:%'))
             ORDER BY t.id",
        )
        .bind(sql_id(guild.0)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(id, user)| (id, UserId(from_sql_id(user))))
            .collect())
    }

    /// Makes the pending actions `ids` due at `due` at the latest; returns how many.
    pub async fn bring_forward_ids(&self, ids: &[i64], due: Timestamp) -> Result<u64, StoreError> {
        let mut done = 0;
        let mut writer = self.writer().await?;
        for id in ids {
            done += sqlx::query(
                "UPDATE timed_actions SET due_at = CASE WHEN due_at < $2 THEN due_at ELSE $2 END
                 WHERE id = $1 AND state = 'pending'",
            )
            .bind(id)
            .bind(due.0)
            .execute(&mut *writer)
            .await?
            .rows_affected();
        }
        Ok(done)
    }

    /// How many actions are running, or pending and due by `by` (for tests and health
    /// checks).
    pub async fn unfinished_timed(&self, by: Timestamp) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar(
            "SELECT COUNT(*) FROM timed_actions
             WHERE state = 'running' OR (state = 'pending' AND due_at <= $1)",
        )
        .bind(by.0)
        .fetch_one(&self.pool)
        .await?)
    }

    /// When the earliest pending action falls due, if any.
    pub async fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        let due: Option<i64> =
            sqlx::query_scalar("SELECT MIN(due_at) FROM timed_actions WHERE state = 'pending'")
                .fetch_one(&self.pool)
                .await?;
        Ok(due.map(Timestamp))
    }

    /// Pending actions, soonest first.
    pub async fn pending_timed(&self) -> Result<Vec<TimedAction>, StoreError> {
        let rows = sqlx::query_as::<_, TimedRow>(
            "SELECT id, guild_id, kind, target_id, detail, case_id, due_at, attempts
             FROM timed_actions WHERE state = 'pending' ORDER BY due_at, id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(TimedRow::into_timed).collect()
    }

    /// The pending action of `kind` for `target` that ends last, if any (a member who
    /// rejoins during a timeout gets it back until then).
    pub async fn pending_until(
        &self,
        guild: GuildId,
        kind: TimedKind,
        target: UserId,
    ) -> Result<Option<Timestamp>, StoreError> {
        let due: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(due_at) FROM timed_actions
             WHERE guild_id = $1 AND kind = $2 AND target_id = $3 AND state = 'pending'",
        )
        .bind(sql_id(guild.0)?)
        .bind(kind)
        .bind(sql_id(target.0)?)
        .fetch_one(&self.pool)
        .await?;
        Ok(due.map(Timestamp))
    }
}

/// The statement that claims due rows (`$1` now, `$2` at most, `$3` owner, `$4` lease
/// end). On SQLite it holds the database's write lock, so no two claims overlap; on
/// PostgreSQL, where claims of several processes run at once, each locks the rows it
/// picks and skips rows another claim holds, so no row is taken twice.
fn claim_due_sql(backend: Backend) -> String {
    let lock = match backend {
        Backend::Sqlite => "",
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
    };
    format!(
        "UPDATE timed_actions
         SET state = 'running', attempts = attempts + 1, lease_owner = $3, lease_until = $4
         WHERE id IN (SELECT id FROM timed_actions
                      WHERE (state = 'pending' AND due_at <= $1)
                         OR (state = 'running' AND (lease_until IS NULL OR lease_until < $1
                                                    OR lease_owner IN (SELECT owner FROM processes
                                                        WHERE seen_at + timeout_ms < $1)))
                      ORDER BY due_at, id LIMIT $2 {lock})
         RETURNING id, guild_id, kind, target_id, detail, case_id, due_at, attempts"
    )
}

/// A stored timed action, as its columns hold it.
#[derive(sqlx::FromRow)]
struct TimedRow {
    id: i64,
    guild_id: i64,
    kind: TimedKind,
    target_id: Option<i64>,
    detail: String,
    case_id: Option<i64>,
    due_at: i64,
    attempts: i64,
}

impl TimedRow {
    fn into_timed(self) -> Result<TimedAction, StoreError> {
        Ok(TimedAction {
            id: self.id,
            action: NewTimed {
                guild: GuildId(from_sql_id(self.guild_id)),
                kind: self.kind,
                target: self.target_id.map(|t| UserId(from_sql_id(t))),
                detail: serde_json::from_str(&self.detail)
                    .map_err(|e| StoreError::Corrupt(format!("timed action detail: {e}")))?,
                case_id: self.case_id,
                due_at: Timestamp(self.due_at),
            },
            attempts: u32::try_from(self.attempts).unwrap_or(u32::MAX),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    fn unban(user: u64, due: i64) -> NewTimed {
        NewTimed {
            guild: GuildId(1),
            kind: TimedKind::Unban,
            target: Some(UserId(user)),
            detail: serde_json::json!({}),
            case_id: None,
            due_at: Timestamp(due),
        }
    }

    #[tokio::test]
    async fn due_actions_are_claimed_once_in_due_order() {
        let (store, _dir) = fresh().await;
        store.schedule(&unban(3, 300)).await.unwrap();
        store.schedule(&unban(1, 100)).await.unwrap();
        store.schedule(&unban(2, 200)).await.unwrap();
        store.schedule(&unban(4, 900)).await.unwrap();
        let due = store.claim_due(Timestamp(300), 10).await.unwrap();
        let users: Vec<_> = due.iter().map(|t| t.action.target).collect();
        assert_eq!(
            users,
            vec![Some(UserId(1)), Some(UserId(2)), Some(UserId(3))]
        );
        assert!(
            store
                .claim_due(Timestamp(300), 10)
                .await
                .unwrap()
                .is_empty()
        );
        for t in &due {
            store
                .finish_timed(t.id, &TimedOutcome::Done, Timestamp(300))
                .await
                .unwrap();
        }
        assert_eq!(store.pending_timed().await.unwrap().len(), 1);
        assert_eq!(
            store
                .pending_until(GuildId(1), TimedKind::Unban, UserId(4))
                .await
                .unwrap(),
            Some(Timestamp(900))
        );
    }

    #[tokio::test]
    async fn interrupted_actions_resume_after_a_restart() {
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let store = Store::open(&url).await.unwrap();
        store.schedule(&unban(1, 100)).await.unwrap();
        store.schedule(&unban(2, 100)).await.unwrap();
        let claimed = store.claim_due(Timestamp(100), 1).await.unwrap();
        assert_eq!(claimed.len(), 1);
        store.close().await;

        let store = Store::open(&url).await.unwrap();
        assert_eq!(store.resume_timed().await.unwrap(), 1);
        let again = store.claim_due(Timestamp(100), 10).await.unwrap();
        assert_eq!(again.len(), 2, "nothing lost");
        assert_eq!(
            again[0].attempts, 2,
            "the interrupted one is on its second attempt"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn four_processes_claiming_at_once_take_each_row_once() {
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let mut stores = Vec::new();
        for _ in 0..4 {
            stores.push(Store::open(&url).await.unwrap());
        }
        for user in 0..200 {
            stores[0].schedule(&unban(user, 100)).await.unwrap();
        }
        let claims: Vec<_> = stores
            .iter()
            .cloned()
            .map(|store| {
                tokio::spawn(async move {
                    let mut mine = Vec::new();
                    loop {
                        let got = store.claim_due(Timestamp(100), 7).await.unwrap();
                        if got.is_empty() {
                            return mine;
                        }
                        mine.extend(got.into_iter().map(|t| t.id));
                    }
                })
            })
            .collect();
        let mut all = Vec::new();
        for claim in claims {
            all.extend(claim.await.unwrap());
        }
        let total = all.len();
        all.sort_unstable();
        all.dedup();
        assert_eq!(
            (total, all.len()),
            (200, 200),
            "every row claimed exactly once"
        );
    }

    #[tokio::test]
    async fn cancelled_actions_never_run() {
        let (store, _dir) = fresh().await;
        store.schedule(&unban(1, 100)).await.unwrap();
        let n = store
            .cancel_timed(GuildId(1), TimedKind::Unban, Some(UserId(1)), None)
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            store
                .claim_due(Timestamp(1_000), 10)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_leased_row_is_taken_over_only_when_its_lease_runs_out() {
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let first = Store::open(&url).await.unwrap();
        let second = Store::open(&url).await.unwrap();
        first.schedule(&unban(1, 100)).await.unwrap();
        let mine = first.claim_due(Timestamp(100), 10).await.unwrap();
        assert_eq!(mine.len(), 1);
        let within_lease = Timestamp(100 + LEASE.0 as i64);
        assert!(
            second.claim_due(within_lease, 10).await.unwrap().is_empty(),
            "a live lease is respected"
        );
        let after = Timestamp(101 + LEASE.0 as i64);
        let taken = second.claim_due(after, 10).await.unwrap();
        assert_eq!(taken.len(), 1, "an expired lease is taken over");
        assert!(
            !first
                .finish_timed(mine[0].id, &TimedOutcome::Done, after)
                .await
                .unwrap(),
            "the first holder no longer owns the row"
        );
        let retry = TimedOutcome::Retry {
            at: Timestamp(after.0 + 30_000),
            error: "500".into(),
        };
        assert!(
            second
                .finish_timed(taken[0].id, &retry, after)
                .await
                .unwrap()
        );
        assert!(second.claim_due(after, 10).await.unwrap().is_empty());
        let again = second
            .claim_due(Timestamp(after.0 + 30_000), 10)
            .await
            .unwrap();
        assert_eq!(again[0].attempts, 3, "every claim counts as an attempt");
    }
}
