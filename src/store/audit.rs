//! The audit log: append-only and hash-chained, so any edit or deletion of a past row is
//! found by [`Store::verify_audit`].
//!
//! Each row's hash is SHA-256 over its own fields and the previous row's hash. SQLite
//! triggers refuse UPDATE and DELETE on the table; the chain catches whoever goes around
//! them.

use futures_util::TryStreamExt;
use sqlx::AnyConnection;

use super::intents::IntentState;
use sha2::{Digest, Sha256};
use sqlx::Connection;

use std::collections::{BTreeSet, HashMap};

use super::{Backend, Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// The hash the first row chains to.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Where in its life an action is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

impl super::names::StoredName for Phase {
    const ALL: &'static [Phase] = &[
        Phase::Intent,
        Phase::Done,
        Phase::Failed,
        Phase::Refused,
        Phase::Shadow,
        Phase::Reload,
        Phase::Record,
    ];
    fn name(self) -> &'static str {
        self.as_str()
    }
}
super::names::stored_by_name!(Phase);

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
    /// Appends `entry` to its server's chain and returns its row id once the row is
    /// committed.
    ///
    /// Appends that arrive together are written together (see [`super::batch`]), in one
    /// statement chained to the heads this process knows. Each row's place in its chain is
    /// unique, so when another process wrote to a chain in between the statement fails
    /// and the heads are read again inside a write transaction that holds the chains.
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
            mut heads = self.audit_heads.lock() => {
                let batch = self.audit_queue.take(MAX_BATCH);
                if !batch.is_empty() {
                    let written = self.write_audit_batch(&mut heads, &batch.items()).await;
                    batch.answer(written);
                }
            }
        }
        ticket.answer().await
    }

    /// Writes `writes` after their chains' heads, with the outbox rows they close, in one
    /// transaction; returns each new row's id, in order.
    async fn write_audit_batch(
        &self,
        heads: &mut HashMap<i64, (i64, String)>,
        writes: &[&AuditWrite],
    ) -> Result<Vec<i64>, StoreError> {
        let entries: Vec<&AuditEntry> = writes.iter().map(|w| &w.entry).collect();
        let at = |w: &AuditWrite| w.entry.at;
        let chains: BTreeSet<i64> = entries.iter().map(|e| chain_of(e)).collect();
        let mut conn = self.writer().await?;
        if chains.iter().all(|c| heads.contains_key(c)) {
            let rows = chain(heads, &entries);
            let mut tx = conn.begin().await?;
            match insert_rows(&mut tx, &rows).await {
                Ok(ids) => {
                    close_rows(&mut tx, writes, at).await?;
                    tx.commit().await?;
                    remember_heads(heads, &rows);
                    return Ok(ids);
                }
                // Another process wrote to one of these chains: read their heads again.
                Err(StoreError::Database(sqlx::Error::Database(e))) if e.is_unique_violation() => {
                    tx.rollback().await?;
                }
                Err(e) => return Err(e),
            }
        }
        let mut tx = self.begin_write(&mut conn).await?;
        for &c in &chains {
            if self.backend == Backend::Postgres {
                // Held to the end of the transaction; taken in one order by everyone.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(c)
                    .execute(&mut *tx)
                    .await?;
            }
            let head: Option<(i64, String)> = sqlx::query_as(
                "SELECT seq, hash FROM audit_log WHERE chain = $1 ORDER BY seq DESC LIMIT 1",
            )
            .bind(c)
            .fetch_optional(&mut *tx)
            .await?;
            heads.insert(c, head.unwrap_or_else(|| (0, GENESIS.to_string())));
        }
        let rows = chain(heads, &entries);
        let ids = insert_rows(&mut tx, &rows).await?;
        close_rows(&mut tx, writes, at).await?;
        tx.commit().await?;
        remember_heads(heads, &rows);
        Ok(ids)
    }

    /// Recomputes every hash of every chain in order and names the first row that does
    /// not match.
    pub async fn verify_audit(&self) -> Result<AuditCheck, StoreError> {
        let legacy = sqlx::query_as::<_, AuditColumns>(
            "SELECT * FROM audit_log WHERE seq IS NULL ORDER BY id",
        )
        .fetch(&self.pool);
        let (legacy_rows, chains_rows) = match verify_rows(legacy).await? {
            AuditCheck::Intact { rows } => (rows, 0),
            broken => return Ok(broken),
        };
        let chains = sqlx::query_as::<_, AuditColumns>(
            "SELECT * FROM audit_log WHERE seq IS NOT NULL ORDER BY chain, seq",
        )
        .fetch(&self.pool);
        Ok(match verify_rows(chains).await? {
            AuditCheck::Intact { rows } => AuditCheck::Intact {
                rows: legacy_rows + chains_rows + rows,
            },
            broken => broken,
        })
    }

    /// [`Store::verify_audit`] of one server's chain only.
    pub async fn verify_audit_chain(&self, guild: GuildId) -> Result<AuditCheck, StoreError> {
        let rows = sqlx::query_as::<_, AuditColumns>(
            "SELECT * FROM audit_log WHERE chain = $1 ORDER BY seq",
        )
        .bind(sql_id(guild.0)?)
        .fetch(&self.pool);
        verify_rows(rows).await
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
            .bind(filter.limit.map_or(i64::MAX, i64::from))
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
            "SELECT * FROM audit_log WHERE $1 IS NULL OR guild_id = $1 ORDER BY id",
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
     WHERE ($1 IS NULL OR guild_id = $1) AND ($2 IS NULL OR actor_id = $2)
       AND ($3 IS NULL OR target_id = $3) AND ($4 IS NULL OR action = $4)
       AND ($5 IS NULL OR rule = $5) AND ($6 IS NULL OR at >= $6)
     ORDER BY id DESC LIMIT $7";
const AUDIT_ROWS_OLDEST_FIRST: &str = "SELECT * FROM audit_log
     WHERE ($1 IS NULL OR guild_id = $1) AND ($2 IS NULL OR actor_id = $2)
       AND ($3 IS NULL OR target_id = $3) AND ($4 IS NULL OR action = $4)
       AND ($5 IS NULL OR rule = $5) AND ($6 IS NULL OR at >= $6)
     ORDER BY id ASC LIMIT $7";

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
    /// The chain the row belongs to (its server, 0 for steward's own rows) and its place
    /// in it from 1; both `None` on rows written before each server had its own chain,
    /// which form one chain in id order.
    chain: Option<i64>,
    seq: Option<i64>,
}

impl AuditColumns {
    /// SHA-256 over the row's place, every field and the previous hash, in a fixed
    /// layout: its chain and place in it, or (on rows from before per-server chains) its id.
    fn hash(&self) -> String {
        let opt = |v: Option<i64>| v.map_or_else(String::new, |v| v.to_string());
        let place = match (self.chain, self.seq) {
            (Some(chain), Some(seq)) => vec![format!("chain {chain}"), seq.to_string()],
            _ => vec![self.id.to_string()],
        };
        let fields = [
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
        for field in place.iter().chain(&fields) {
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
    conn: &mut AnyConnection,
    writes: &[&AuditWrite],
    at: impl Fn(&AuditWrite) -> Timestamp,
) -> Result<(), StoreError> {
    let closes: Vec<super::intents::Close> = writes
        .iter()
        .filter_map(|w| {
            let (id, state, note) = w.close.as_ref()?;
            Some(super::intents::Close {
                id: *id,
                state: *state,
                note: note.as_deref(),
                at: at(w),
            })
        })
        .collect();
    super::intents::close_rows(conn, &closes).await
}

/// The chain an entry belongs to: its server's, or 0 for steward's own rows.
fn chain_of(entry: &AuditEntry) -> i64 {
    entry
        .guild
        .and_then(|g| i64::try_from(g.0).ok())
        .unwrap_or(0)
}

/// Chains `entries`, each after its chain's head in `heads` (which every chain of them
/// has). Ids must have been checked with `sql_id`.
fn chain(heads: &HashMap<i64, (i64, String)>, entries: &[&AuditEntry]) -> Vec<AuditColumns> {
    let id_of = |v: Option<u64>| v.and_then(|v| i64::try_from(v).ok());
    let mut tips: HashMap<i64, (i64, String)> = HashMap::new();
    let mut rows = Vec::with_capacity(entries.len());
    for e in entries {
        let c = chain_of(e);
        let tip = tips
            .entry(c)
            .or_insert_with(|| heads.get(&c).cloned().unwrap_or((0, GENESIS.to_string())));
        let mut row = AuditColumns {
            id: 0,
            at: e.at.0,
            guild_id: id_of(e.guild.map(|g| g.0)),
            actor_id: id_of(e.actor.map(|a| a.0)),
            rule: e.rule.clone(),
            action: e.action.clone(),
            phase: e.phase,
            target_id: id_of(e.target.map(|t| t.0)),
            case_id: e.case_id,
            detail: e.detail.to_string(),
            prev_hash: tip.1.clone(),
            hash: String::new(),
            chain: Some(c),
            seq: Some(tip.0 + 1),
        };
        row.hash = row.hash();
        *tip = (tip.0 + 1, row.hash.clone());
        rows.push(row);
    }
    rows
}

/// Moves each chain's head in `heads` to the last of `rows` in it.
fn remember_heads(heads: &mut HashMap<i64, (i64, String)>, rows: &[AuditColumns]) {
    for row in rows {
        if let (Some(c), Some(seq)) = (row.chain, row.seq) {
            heads.insert(c, (seq, row.hash.clone()));
        }
    }
}

/// Checks rows read in chain order: each chains to the one before it in its chain (the
/// first of a chain to the genesis hash) and matches its own hash.
async fn verify_rows(
    mut rows: impl futures_util::Stream<Item = Result<AuditColumns, sqlx::Error>> + Unpin,
) -> Result<AuditCheck, StoreError> {
    // The chain being read, the place and hash of its last row, and that row's id.
    let mut expected: (Option<i64>, i64, String) = (None, 0, GENESIS.to_string());
    let mut last_id = 0;
    let mut count = 0u64;
    loop {
        let row = match rows.try_next().await {
            Ok(Some(row)) => row,
            Ok(None) => break,
            // A column that cannot be read (an unknown phase, a NULL where a value
            // belongs) was written by something other than steward.
            Err(sqlx::Error::ColumnDecode { index, source }) => {
                return Ok(AuditCheck::Broken {
                    id: last_id + 1,
                    why: format!("the row after {last_id} has an unreadable {index}: {source}"),
                });
            }
            Err(e) => return Err(e.into()),
        };
        if row.chain != expected.0 {
            expected = (row.chain, 0, GENESIS.to_string());
        }
        let place_ok = row.seq.is_none_or(|seq| seq == expected.1 + 1);
        if !place_ok || row.prev_hash != expected.2 {
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
        expected = (row.chain, row.seq.unwrap_or(0), row.hash);
        last_id = row.id;
        count += 1;
    }
    Ok(AuditCheck::Intact { rows: count })
}

/// Most rows one statement inserts (SQLite allows 32,766 bound values; a row has 13).
const MAX_BATCH: usize = 1000;

/// Inserts `rows` in one statement; returns their ids, in order. A row whose place in its
/// chain is taken fails the statement with a unique violation.
async fn insert_rows(
    conn: &mut AnyConnection,
    rows: &[AuditColumns],
) -> Result<Vec<i64>, StoreError> {
    let sql = format!(
        "INSERT INTO audit_log (at, guild_id, actor_id, rule, action, phase, target_id,
             case_id, detail, prev_hash, hash, chain, seq) VALUES {}
         RETURNING id, chain, seq",
        super::values_list(rows.len(), 13)
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
    for r in rows {
        query = query
            .bind(r.at)
            .bind(r.guild_id)
            .bind(r.actor_id)
            .bind(r.rule.as_deref())
            .bind(r.action.as_str())
            .bind(r.phase)
            .bind(r.target_id)
            .bind(r.case_id)
            .bind(r.detail.as_str())
            .bind(r.prev_hash.as_str())
            .bind(r.hash.as_str())
            .bind(r.chain)
            .bind(r.seq);
    }
    let returned = query.fetch_all(&mut *conn).await?;
    // RETURNING promises no order: each row is found by its place.
    let ids: HashMap<(i64, i64), i64> = returned
        .into_iter()
        .map(|(id, chain, seq)| ((chain, seq), id))
        .collect();
    rows.iter()
        .map(|r| {
            r.chain
                .zip(r.seq)
                .and_then(|place| ids.get(&place).copied())
                .ok_or_else(|| StoreError::Corrupt("a new audit row was not returned".into()))
        })
        .collect()
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
        crate::store::test_support::drop_trigger(&store, "audit_log_no_update").await;
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
        crate::store::test_support::drop_trigger(&store, "audit_log_no_delete").await;
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
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let first = Store::open(&url).await.unwrap();
        let second = Store::open(&url).await.unwrap();
        let mut ids = Vec::new();
        for i in 0..6 {
            let writer = if i % 2 == 0 { &first } else { &second };
            ids.push(writer.append_audit(&entry(i, "warn")).await.unwrap());
        }
        // PostgreSQL spends an id on a statement that lost the race for a place.
        assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
        assert_eq!(
            first.verify_audit().await.unwrap(),
            AuditCheck::Intact { rows: 6 }
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn each_server_keeps_its_own_chain_under_two_writers() {
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let first = Store::open(&url).await.unwrap();
        let second = Store::open(&url).await.unwrap();
        let of = |guild: u64, at: i64| AuditEntry {
            guild: Some(GuildId(guild)),
            ..entry(at, "warn")
        };
        let tasks: Vec<_> = (0..120)
            .map(|i| {
                let store = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                // Both writers write to server 3; each also has a server of its own.
                let guild = if i % 3 == 0 { 3 } else { 10 + (i % 2) as u64 };
                tokio::spawn(async move { store.append_audit(&of(guild, i)).await })
            })
            .collect();
        for task in tasks {
            task.await.unwrap().unwrap();
        }
        first
            .append_audit(&AuditEntry {
                guild: None,
                ..entry(500, "rules_reload")
            })
            .await
            .unwrap();
        assert_eq!(
            first.verify_audit().await.unwrap(),
            AuditCheck::Intact { rows: 121 }
        );
        for guild in [3, 10, 11] {
            let AuditCheck::Intact { rows } =
                second.verify_audit_chain(GuildId(guild)).await.unwrap()
            else {
                panic!("chain {guild} broken");
            };
            assert_eq!(rows, 40, "chain {guild}");
        }
        let seqs: Vec<i64> =
            sqlx::query_scalar("SELECT seq FROM audit_log WHERE chain = 3 ORDER BY seq")
                .fetch_all(&first.pool)
                .await
                .unwrap();
        assert_eq!(seqs, (1..=40).collect::<Vec<i64>>(), "no gap, no fork");
        // An edit in one server's chain is named there and leaves the others intact.
        crate::store::test_support::drop_trigger(&first, "audit_log_no_update").await;
        sqlx::query("UPDATE audit_log SET action = 'ban' WHERE chain = 10 AND seq = 7")
            .execute(&first.pool)
            .await
            .unwrap();
        assert!(matches!(
            first.verify_audit().await.unwrap(),
            AuditCheck::Broken { .. }
        ));
        assert!(matches!(
            first.verify_audit_chain(GuildId(10)).await.unwrap(),
            AuditCheck::Broken { .. }
        ));
        assert_eq!(
            first.verify_audit_chain(GuildId(11)).await.unwrap(),
            AuditCheck::Intact { rows: 40 }
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
