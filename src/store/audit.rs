//! The audit log: append-only and hash-chained, so any edit or deletion of a past row is
//! found by [`Store::verify_audit`].
//!
//! Each row's hash is SHA-256 over its own fields and the previous row's hash. SQLite
//! triggers refuse UPDATE and DELETE on the table; the chain catches whoever goes around
//! them.

use futures_util::TryStreamExt;
use sqlx::SqliteConnection;

use super::intents::IntentState;
use sha2::{Digest, Sha256};
use sqlx::{Connection, QueryBuilder, Sqlite};

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// The hash the first row chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where in its life an action is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, sqlx::Type)]
#[sqlx(type_name = "TEXT", rename_all = "snake_case")]
pub enum Phase {
    /// About to act: written before the executor is called.
    Intent,
    Done,
    Failed,
    /// Not done on purpose (target above the bot, exempt role, missing permission).
    Refused,
    /// A shadow-mode rule matched: recorded, nothing done.
    Shadow,
    /// The rules were loaded or reloaded.
    Reload,
    /// A record with no action (a case note, a pardon, a reason edit).
    Record,
}

impl Phase {
    /// The name it is stored, hashed and shown under.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Intent => "intent",
            Phase::Done => "done",
            Phase::Failed => "failed",
            Phase::Refused => "refused",
            Phase::Shadow => "shadow",
            Phase::Reload => "reload",
            Phase::Record => "record",
        }
    }
}

/// One thing to write to the audit log.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditEntry {
    pub at: Timestamp,
    pub guild: Option<GuildId>,
    /// The person who acted; `None` when steward acted on its own.
    pub actor: Option<UserId>,
    /// The rule that decided, for automatic actions.
    pub rule: Option<String>,
    /// What was done: `ban`, `timeout`, `rules_reload`, `pardon` …
    pub action: String,
    pub phase: Phase,
    pub target: Option<UserId>,
    pub case_id: Option<i64>,
    /// Anything else worth keeping, as JSON.
    pub detail: serde_json::Value,
}

/// A stored audit row.
#[derive(Clone, Debug, PartialEq)]
pub struct AuditRow {
    pub id: i64,
    pub entry: AuditEntry,
    pub prev_hash: String,
    pub hash: String,
}

/// The result of checking the chain.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AuditCheck {
    /// Every row matches its hash and chains to the one before.
    Intact { rows: u64 },
    /// The first row that does not.
    Broken { id: i64, why: String },
}

/// Which rows an audit search returns.
#[derive(Clone, Debug, Default)]
pub struct AuditFilter {
    pub guild: Option<GuildId>,
    pub actor: Option<UserId>,
    pub target: Option<UserId>,
    pub action: Option<String>,
    pub rule: Option<String>,
    pub since: Option<Timestamp>,
    /// At most this many rows, newest first; `None` for all, oldest first.
    pub limit: Option<u32>,
}

impl Store {
    /// Appends `entry` to the chain and returns its row id once the row is committed.
    ///
    /// Appends that arrive together are written together (see [`super::batch`]), in one
    /// statement chained to the head this process knows and only if that is still the newest
    /// row. When another process wrote in between, the head is read again inside a write
    /// transaction.
    pub async fn append_audit(&self, entry: &AuditEntry) -> Result<i64, StoreError> {
        self.append_audit_closing(entry, None).await
    }

    /// [`Store::append_audit`] of an outcome that also closes its outbox row `close` (id,
    /// state, note), in the same transaction.
    pub async fn append_audit_closing(
        &self,
        entry: &AuditEntry,
        close: Option<(i64, IntentState, Option<String>)>,
    ) -> Result<i64, StoreError> {
        let ids = [
            entry.guild.map(|g| g.0),
            entry.actor.map(|a| a.0),
            entry.target.map(|t| t.0),
        ];
        for id in ids.into_iter().flatten() {
            sql_id(id)?;
        }
        let write = AuditWrite {
            entry: entry.clone(),
            close,
        };
        let mut ticket = self.audit_queue.push(write);
        tokio::select! {
            biased;
            answer = ticket.answer() => return answer,
            mut head = self.audit_head.lock() => {
                let batch = self.audit_queue.take(MAX_BATCH);
                if !batch.is_empty() {
                    let writes = batch.items();
                    let n = writes.len() as i64;
                    let written = self.write_audit_batch(&mut head, &writes).await;
                    batch.answer(written.map(|first| (first..first + n).collect()));
                }
            }
        }
        ticket.answer().await
    }

    /// Writes `writes` after the chain's head, with the outbox rows they close, in one
    /// transaction; returns the first new row's id.
    async fn write_audit_batch(
        &self,
        head: &mut Option<(i64, String)>,
        writes: &[&AuditWrite],
    ) -> Result<i64, StoreError> {
        let entries: Vec<&AuditEntry> = writes.iter().map(|w| &w.entry).collect();
        let at = |w: &AuditWrite| w.entry.at;
        if let Some((last_id, last_hash)) = head.clone() {
            let rows = chain(last_id, &last_hash, &entries);
            let mut conn = self.writer().await;
            let mut tx = conn.begin().await?;
            let inserted = insert_rows(&rows).build().execute(&mut *tx).await?;
            if inserted.rows_affected() == rows.len() as u64 {
                close_rows(&mut tx, writes, at).await?;
                tx.commit().await?;
                *head = rows.last().map(|r| (r.id, r.hash.clone()));
                return Ok(last_id + 1);
            }
            tx.rollback().await?;
        }
        let mut conn = self.writer().await;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let last: Option<(i64, String)> =
            sqlx::query_as("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1")
                .fetch_optional(&mut *tx)
                .await?;
        let (last_id, last_hash) = last.unwrap_or_else(|| (0, GENESIS.to_string()));
        let rows = chain(last_id, &last_hash, &entries);
        insert_rows(&rows).build().execute(&mut *tx).await?;
        close_rows(&mut tx, writes, at).await?;
        tx.commit().await?;
        *head = rows.last().map(|r| (r.id, r.hash.clone()));
        Ok(last_id + 1)
    }

    /// Recomputes every hash in order and names the first row that does not match.
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let mut rows = sqlx::query_as::<_, AuditColumns>("SELECT * FROM audit_log ORDER BY id")
            .fetch(&self.pool);
        let mut expected = (0, GENESIS.to_string());
        let mut count = 0u64;
        loop {
            let row = match rows.try_next().await {
                Ok(Some(row)) => row,
                Ok(None) => break,
                // A column that cannot be read (an unknown phase, a NULL where a value
                // belongs) was written by something other than steward.
                Err(sqlx::Error::ColumnDecode { index, source }) => {
                    return Ok(AuditCheck::Broken {
                        id: expected.0 + 1,
                        why: format!(
                            "the row after {} has an unreadable {index}: {source}",
                            expected.0
                        ),
                    });
                }
                Err(e) => return Err(e.into()),
            };
            if row.prev_hash != expected.1 {
                return Ok(AuditCheck::Broken {
                    id: row.id,
                    why: "does not chain to the row before it (a row was removed or changed)"
                        .to_string(),
                });
            }
            if row.hash() != row.hash {
                return Ok(AuditCheck::Broken {
                    id: row.id,
                    why: "its content does not match its hash (the row was edited)".to_string(),
                });
            }
            expected = (row.id, row.hash);
            count += 1;
        }
        Ok(AuditCheck::Intact { rows: count })
    }

    /// Audit rows matching `filter`.
    pub async fn audit_rows(&self, filter: &AuditFilter) -> Result<Vec<AuditRow>, StoreError> {
        let sql = if filter.limit.is_some() {
            AUDIT_ROWS_NEWEST_FIRST
        } else {
            AUDIT_ROWS_OLDEST_FIRST
        };
        let rows = sqlx::query_as::<_, AuditColumns>(sql)
            .bind(filter.guild.map(|g| sql_id(g.0)).transpose()?)
            .bind(filter.actor.map(|a| sql_id(a.0)).transpose()?)
            .bind(filter.target.map(|t| sql_id(t.0)).transpose()?)
            .bind(&filter.action)
            .bind(&filter.rule)
            .bind(filter.since.map(|s| s.0))
            .bind(filter.limit.map_or(-1, i64::from))
            .fetch_all(&self.pool)
            .await?;
        rows.into_iter().map(AuditColumns::into_row).collect()
    }
}

impl Store {
    /// Hands every audit row (of `guild`, or all) to `each` as it is read, oldest first,
    /// without holding them all; `each` returns `false` to stop.
    pub async fn each_audit_row(
        &self,
        guild: Option<GuildId>,
        mut each: impl FnMut(AuditRow) -> bool,
    ) -> Result<(), StoreError> {
        let mut rows = sqlx::query_as::<_, AuditColumns>(
            "SELECT * FROM audit_log WHERE ?1 IS NULL OR guild_id = ?1 ORDER BY id",
        )
        .bind(guild.map(|g| sql_id(g.0)).transpose()?)
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            if !each(row.into_row()?) {
                break;
            }
        }
        Ok(())
    }
}

/// The filters of [`Store::audit_rows`], the newest rows first when a limit is set.
const AUDIT_ROWS_NEWEST_FIRST: &str = "SELECT * FROM audit_log
     WHERE (?1 IS NULL OR guild_id = ?1) AND (?2 IS NULL OR actor_id = ?2)
       AND (?3 IS NULL OR target_id = ?3) AND (?4 IS NULL OR action = ?4)
       AND (?5 IS NULL OR rule = ?5) AND (?6 IS NULL OR at >= ?6)
     ORDER BY id DESC LIMIT ?7";
const AUDIT_ROWS_OLDEST_FIRST: &str = "SELECT * FROM audit_log
     WHERE (?1 IS NULL OR guild_id = ?1) AND (?2 IS NULL OR actor_id = ?2)
       AND (?3 IS NULL OR target_id = ?3) AND (?4 IS NULL OR action = ?4)
       AND (?5 IS NULL OR rule = ?5) AND (?6 IS NULL OR at >= ?6)
     ORDER BY id ASC LIMIT ?7";

/// An audit row as its columns hold it: what is hashed, inserted and read back.
#[derive(Debug, sqlx::FromRow)]
struct AuditColumns {
    id: i64,
    at: i64,
    guild_id: Option<i64>,
    actor_id: Option<i64>,
    rule: Option<String>,
    action: String,
    phase: Phase,
    target_id: Option<i64>,
    case_id: Option<i64>,
    detail: String,
    prev_hash: String,
    hash: String,
}

impl AuditColumns {
    /// SHA-256 over the row id, every field and the previous hash, in a fixed layout.
    fn hash(&self) -> String {
        let opt = |v: Option<i64>| v.map_or_else(String::new, |v| v.to_string());
        let text = [
            self.id.to_string(),
            self.at.to_string(),
            opt(self.guild_id),
            opt(self.actor_id),
            self.rule.clone().unwrap_or_default(),
            self.action.clone(),
            self.phase.as_str().to_string(),
            opt(self.target_id),
            opt(self.case_id),
            self.detail.clone(),
            self.prev_hash.clone(),
        ];
        let mut hasher = Sha256::new();
        for field in &text {
            // Length-prefixed so no two different rows can serialize alike.
            hasher.update((field.len() as u64).to_le_bytes());
            hasher.update(field.as_bytes());
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    fn into_row(self) -> Result<AuditRow, StoreError> {
        let id = |v: Option<i64>| v.map(from_sql_id);
        Ok(AuditRow {
            id: self.id,
            entry: AuditEntry {
                at: Timestamp(self.at),
                guild: id(self.guild_id).map(GuildId),
                actor: id(self.actor_id).map(UserId),
                rule: self.rule,
                action: self.action,
                phase: self.phase,
                target: id(self.target_id).map(UserId),
                case_id: self.case_id,
                detail: serde_json::from_str(&self.detail)
                    .map_err(|e| StoreError::Corrupt(format!("audit detail is not JSON: {e}")))?,
            },
            prev_hash: self.prev_hash,
            hash: self.hash,
        })
    }
}

/// An audit row to append, with the outbox row its outcome closes, if any.
#[derive(Debug)]
pub(crate) struct AuditWrite {
    entry: AuditEntry,
    close: Option<(i64, IntentState, Option<String>)>,
}

/// Closes the outbox rows `writes` carry, on the transaction that appends them.
async fn close_rows(
    conn: &mut SqliteConnection,
    writes: &[&AuditWrite],
    at: impl Fn(&AuditWrite) -> Timestamp,
) -> Result<(), StoreError> {
    for w in writes {
        if let Some((id, state, note)) = &w.close {
            super::intents::close_row(conn, *id, *state, note.as_deref(), at(w)).await?;
        }
    }
    Ok(())
}

/// Chains `entries` after the row `last_id` whose hash is `last_hash`. Ids must have been
/// checked with `sql_id`.
fn chain(last_id: i64, last_hash: &str, entries: &[&AuditEntry]) -> Vec<AuditColumns> {
    let id_of = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
    let mut prev = last_hash.to_string();
    let mut rows = Vec::with_capacity(entries.len());
    for (n, e) in entries.iter().enumerate() {
        let mut row = AuditColumns {
            id: last_id + 1 + n as i64,
            at: e.at.0,
            guild_id: id_of(e.guild.map(|g| g.0)),
            actor_id: id_of(e.actor.map(|a| a.0)),
            rule: e.rule.clone(),
            action: e.action.clone(),
            phase: e.phase,
            target_id: id_of(e.target.map(|t| t.0)),
            case_id: e.case_id,
            detail: e.detail.to_string(),
            prev_hash: prev,
            hash: String::new(),
        };
        row.hash = row.hash();
        prev = row.hash.clone();
        rows.push(row);
    }
    rows
}

/// Most rows one statement inserts (SQLite allows 32,766 bound values; a row has 12).
const MAX_BATCH: usize = 1000;

/// One statement inserting `rows`, but only when the first row's `prev_hash` is the hash
/// of the newest row (or the genesis hash on an empty log).
fn insert_rows(rows: &[AuditColumns]) -> QueryBuilder<'_, Sqlite> {
    let mut query = QueryBuilder::new(
        "INSERT INTO audit_log (id, at, guild_id, actor_id, rule, action, phase, target_id,
             case_id, detail, prev_hash, hash) SELECT * FROM (",
    );
    query.push_values(rows, |mut b, r| {
        b.push_bind(r.id)
            .push_bind(r.at)
            .push_bind(r.guild_id)
            .push_bind(r.actor_id)
            .push_bind(r.rule.as_deref())
            .push_bind(r.action.as_str())
            .push_bind(r.phase)
            .push_bind(r.target_id)
            .push_bind(r.case_id)
            .push_bind(r.detail.as_str())
            .push_bind(r.prev_hash.as_str())
            .push_bind(r.hash.as_str());
    });
    query.push(") WHERE COALESCE((SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), ");
    query.push_bind(GENESIS);
    query.push(") = ");
    query.push_bind(rows.first().map_or(GENESIS, |r| r.prev_hash.as_str()));
    query
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    fn entry(at: i64, action: &str) -> AuditEntry {
        AuditEntry {
            at: Timestamp(at),
            guild: Some(GuildId(1)),
            actor: None,
            rule: Some("flood".into()),
            action: action.into(),
            phase: Phase::Intent,
            target: Some(UserId(5)),
            case_id: None,
            detail: serde_json::json!({"reason": "5 messages in 5s"}),
        }
    }

    #[tokio::test]
    async fn the_chain_verifies_and_rows_read_back() {
        let (store, _dir) = fresh().await;
        for i in 0..5 {
            store.append_audit(&entry(i, "timeout")).await.unwrap();
        }
        assert_eq!(
            store.verify_audit().await.unwrap(),
            AuditCheck::Intact { rows: 5 }
        );
        let rows = store.audit_rows(&AuditFilter::default()).await.unwrap();
        assert_eq!(rows.len(), 5);
        assert_eq!(rows[0].prev_hash, GENESIS);
        assert_eq!(rows[1].prev_hash, rows[0].hash);
        assert_eq!(rows[2].entry, entry(2, "timeout"));
        let newest = store
            .audit_rows(&AuditFilter {
                limit: Some(2),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(newest.iter().map(|r| r.id).collect::<Vec<_>>(), vec![5, 4]);
    }

    #[tokio::test]
    async fn updates_and_deletes_are_refused_and_edits_are_found() {
        let (store, _dir) = fresh().await;
        for i in 0..4 {
            store.append_audit(&entry(i, "ban")).await.unwrap();
        }
        let update = sqlx::query("UPDATE audit_log SET action = 'warn' WHERE id = 2")
            .execute(&store.pool)
            .await;
        assert!(update.is_err(), "the trigger refuses updates");
        let delete = sqlx::query("DELETE FROM audit_log WHERE id = 2")
            .execute(&store.pool)
            .await;
        assert!(delete.is_err(), "the trigger refuses deletes");

        // Someone who drops the trigger can edit, but the chain names the row.
        sqlx::query("DROP TRIGGER audit_log_no_update")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("UPDATE audit_log SET action = 'warn' WHERE id = 3")
            .execute(&store.pool)
            .await
            .unwrap();
        match store.verify_audit().await.unwrap() {
            AuditCheck::Broken { id, why } => {
                assert_eq!(id, 3);
                assert!(why.contains("edited"), "{why}");
            }
            intact => panic!("tampering went unnoticed: {intact:?}"),
        }
    }

    #[tokio::test]
    async fn a_row_with_an_unreadable_phase_breaks_the_chain_there() {
        let (store, _dir) = fresh().await;
        for i in 0..4 {
            store.append_audit(&entry(i, "ban")).await.unwrap();
        }
        // The table's CHECK refuses an unknown phase: a copy of the table without it does not.
        for sql in [
            "ALTER TABLE audit_log RENAME TO audit_log_kept",
            "CREATE TABLE audit_log AS SELECT * FROM audit_log_kept",
            "UPDATE audit_log SET phase = 'forgiven' WHERE id = 3",
        ] {
            sqlx::query(sql).execute(&store.pool).await.unwrap();
        }
        match store.verify_audit().await.unwrap() {
            AuditCheck::Broken { id, why } => {
                assert_eq!(id, 3);
                assert!(why.contains("phase"), "{why}");
            }
            intact => panic!("tampering went unnoticed: {intact:?}"),
        }
    }

    #[tokio::test]
    async fn a_removed_row_breaks_the_chain_at_the_next() {
        let (store, _dir) = fresh().await;
        for i in 0..4 {
            store.append_audit(&entry(i, "kick")).await.unwrap();
        }
        sqlx::query("DROP TRIGGER audit_log_no_delete")
            .execute(&store.pool)
            .await
            .unwrap();
        sqlx::query("DELETE FROM audit_log WHERE id = 2")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            AuditCheck::Broken { id: 3, .. }
        ));
    }

    #[tokio::test]
    async fn two_writers_on_one_file_keep_one_chain() {
        let (first, dir) = fresh().await;
        let second = Store::open(dir.path().join("steward.db").to_str().unwrap())
            .await
            .unwrap();
        for i in 0..6 {
            let writer = if i % 2 == 0 { &first } else { &second };
            assert_eq!(writer.append_audit(&entry(i, "warn")).await.unwrap(), i + 1);
        }
        assert_eq!(
            first.verify_audit().await.unwrap(),
            AuditCheck::Intact { rows: 6 }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_share_statements_and_keep_one_chain() {
        let (store, _dir) = fresh().await;
        let tasks: Vec<_> = (0..200)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.append_audit(&entry(i, "timeout")).await })
            })
            .collect();
        let mut ids = Vec::new();
        for task in tasks {
            ids.push(task.await.unwrap().unwrap());
        }
        ids.sort_unstable();
        assert_eq!(ids, (1..=200).collect::<Vec<i64>>());
        assert_eq!(
            store.verify_audit().await.unwrap(),
            AuditCheck::Intact { rows: 200 }
        );
        let rows = store.audit_rows(&AuditFilter::default()).await.unwrap();
        for row in &rows {
            let at = row.entry.at.0;
            assert_eq!(
                row.entry,
                entry(at, "timeout"),
                "row {} kept its own content",
                row.id
            );
        }
    }

    #[tokio::test]
    async fn searches_filter_by_field() {
        let (store, _dir) = fresh().await;
        store.append_audit(&entry(10, "ban")).await.unwrap();
        store.append_audit(&entry(20, "kick")).await.unwrap();
        let kicks = store
            .audit_rows(&AuditFilter {
                action: Some("kick".into()),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(kicks.len(), 1);
        let since = store
            .audit_rows(&AuditFilter {
                since: Some(Timestamp(15)),
                guild: Some(GuildId(1)),
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(since.len(), 1);
        assert_eq!(since[0].entry.action, "kick");
    }
}
