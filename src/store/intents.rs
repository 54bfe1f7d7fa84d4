//! The outbox of requests to Discord: each is stored before it is sent and closed with
//! its outcome, so a run that dies mid-call leaves a row saying what was under way.

use sqlx::AnyConnection;

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::GuildId;
use crate::engine::time::Timestamp;
use crate::moderation::Request;

/// A request whose outcome was never recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct OpenIntent {
    pub id: i64,
    pub guild: GuildId,
    pub request: Request,
    pub case_id: Option<i64>,
    pub created_at: Timestamp,
}

/// One write to the outbox, queued to share a transaction with others.
#[derive(Debug)]
pub(crate) enum OutboxWrite {
    Open {
        guild: i64,
        request: String,
        case_id: Option<i64>,
        at: i64,
    },
    Close {
        id: i64,
        state: IntentState,
        note: Option<String>,
        at: i64,
    },
}

/// Most outbox writes one transaction holds.
const MAX_OUTBOX_BATCH: usize = 500;

/// Writes `writes` in order in one transaction; the id of each opened row (0 for closes).
async fn write_outbox(
    conn: &mut AnyConnection,
    writes: &[&OutboxWrite],
    owner: &str,
) -> Result<Vec<i64>, StoreError> {
    let mut tx = sqlx::Connection::begin(conn).await?;
    let mut ids = Vec::with_capacity(writes.len());
    let mut closes = Vec::new();
    for write in writes {
        match write {
            OutboxWrite::Open {
                guild,
                request,
                case_id,
                at,
            } => {
                let id = insert_intent(
                    &mut tx,
                    GuildId(from_sql_id(*guild)),
                    request,
                    *case_id,
                    Timestamp(*at),
                    owner,
                )
                .await?;
                ids.push(id);
            }
            OutboxWrite::Close {
                id,
                state,
                note,
                at,
            } => {
                closes.push(Close {
                    id: *id,
                    state: *state,
                    note: note.as_deref(),
                    at: Timestamp(*at),
                });
                ids.push(0);
            }
        }
    }
    // A row opened in this batch cannot be closed in it (its id was not known yet).
    close_rows(&mut tx, &closes).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Inserts one open outbox row on `conn`; returns its id.
pub(crate) async fn insert_intent(
    conn: &mut AnyConnection,
    guild: GuildId,
    request: &str,
    case_id: Option<i64>,
    at: Timestamp,
    owner: &str,
) -> Result<i64, StoreError> {
    Ok(sqlx::query_scalar(
        "INSERT INTO sanction_intents (guild_id, request, case_id, created_at, lease_owner)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(sql_id(guild.0)?)
    .bind(request)
    .bind(case_id)
    .bind(at.0)
    .bind(owner)
    .fetch_one(&mut *conn)
    .await?)
}

/// An outbox row to close, and how its request ended.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Close<'a> {
    pub id: i64,
    pub state: IntentState,
    pub note: Option<&'a str>,
    pub at: Timestamp,
}

/// Closes the outbox rows `closes` on `conn` in one statement; a row already closed keeps
/// its first outcome, and so does a row named twice.
pub(crate) async fn close_rows(
    conn: &mut AnyConnection,
    closes: &[Close<'_>],
) -> Result<(), StoreError> {
    let mut seen = std::collections::HashSet::new();
    let closes: Vec<&Close> = closes.iter().filter(|c| seen.insert(c.id)).collect();
    for chunk in closes.chunks(MAX_OUTBOX_BATCH) {
        let sql = format!(
            "UPDATE sanction_intents
             SET state = v.column2, note = v.column3, finished_at = v.column4
             FROM (VALUES {}) AS v
             WHERE sanction_intents.id = v.column1 AND sanction_intents.state = 'open'",
            super::values_list(chunk.len(), 4)
        );
        let mut query = sqlx::query(&sql);
        for close in chunk {
            query = query
                .bind(close.id)
                .bind(close.state)
                .bind(close.note)
                .bind(close.at.0);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// How a request ended, as the outbox keeps it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IntentState {
    Done,
    Refused,
    Failed,
}

impl super::names::StoredName for IntentState {
    const ALL: &'static [IntentState] =
        &[IntentState::Done, IntentState::Refused, IntentState::Failed];
    fn name(self) -> &'static str {
        match self {
            IntentState::Done => "done",
            IntentState::Refused => "refused",
            IntentState::Failed => "failed",
        }
    }
}
super::names::stored_by_name!(IntentState);

impl Store {
    /// Stores `request` as under way; returns its id.
    pub async fn open_intent(
        &self,
        guild: GuildId,
        request: &Request,
        case_id: Option<i64>,
        at: Timestamp,
    ) -> Result<i64, StoreError> {
        let text = serde_json::to_string(request)
            .map_err(|e| StoreError::Corrupt(format!("request not serializable: {e}")))?;
        self.outbox_write(OutboxWrite::Open {
            guild: sql_id(guild.0)?,
            request: text,
            case_id,
            at: at.0,
        })
        .await
    }

    /// Records how the request `id` ended.
    pub async fn close_intent(
        &self,
        id: i64,
        state: IntentState,
        note: Option<&str>,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.outbox_write(OutboxWrite::Close {
            id,
            state,
            note: note.map(str::to_string),
            at: at.0,
        })
        .await
        .map(|_| ())
    }

    /// Queues `write`; whoever takes the writer first writes every queued one in one
    /// transaction, so requests in flight together cost one commit.
    async fn outbox_write(&self, write: OutboxWrite) -> Result<i64, StoreError> {
        let mut ticket = self.outbox_queue.push(write);
        tokio::select! {
            biased;
            answer = ticket.answer() => answer,
            conn = self.writer() => {
                let mut conn = conn?;
                let batch = self.outbox_queue.take(MAX_OUTBOX_BATCH);
                if !batch.is_empty() {
                    let written = write_outbox(&mut conn, &batch.items(), &self.owner).await;
                    batch.answer(written);
                }
                drop(conn);
                ticket.answer().await
            }
        }
    }

    /// Requests left open by runs that died mid-call: held by a process whose heartbeat
    /// stopped, or opened before `stale_before` (no live call takes that long) by one
    /// that keeps none, and not being completed by another process. They are leased to
    /// this process until `now` plus the lease.
    pub async fn take_open_intents(
        &self,
        stale_before: Timestamp,
        now: Timestamp,
    ) -> Result<Vec<OpenIntent>, StoreError> {
        let rows: Vec<(i64, i64, String, Option<i64>, i64)> = sqlx::query_as(
            "UPDATE sanction_intents SET lease_owner = $1, lease_until = $2
             WHERE state = 'open'
               AND ((lease_until IS NULL AND created_at < $3) OR lease_until < $4
                    OR lease_owner IN (SELECT owner FROM processes
                                       WHERE seen_at + timeout_ms < $4))
             RETURNING id, guild_id, request, case_id, created_at",
        )
        .bind(&*self.owner)
        .bind((now + super::timers::LEASE).0)
        .bind(stale_before.0)
        .bind(now.0)
        .fetch_all(&mut *self.writer().await?)
        .await?;
        let mut open = rows
            .into_iter()
            .map(|(id, guild, request, case_id, created_at)| {
                Ok(OpenIntent {
                    id,
                    guild: GuildId(from_sql_id(guild)),
                    request: serde_json::from_str(&request)
                        .map_err(|e| StoreError::Corrupt(format!("stored request {id}: {e}")))?,
                    case_id,
                    created_at: Timestamp(created_at),
                })
            })
            .collect::<Result<Vec<_>, StoreError>>()?;
        open.sort_by_key(|i| i.id);
        Ok(open)
    }

    /// The state and case of the `n` newest outbox rows, newest first (for tests).
    #[cfg(test)]
    pub(crate) async fn latest_intents(
        &self,
        n: i64,
    ) -> Result<Vec<(String, Option<i64>)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT state, case_id FROM sanction_intents ORDER BY id DESC LIMIT $1")
                .bind(n)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// How many requests are still open (for tests and health checks).
    pub async fn open_intent_count(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM sanction_intents WHERE state = 'open'")
                .fetch_one(&self.pool)
                .await?,
        )
    }
}
