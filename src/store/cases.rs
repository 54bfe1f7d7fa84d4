//! Cases: the numbered record of each sanction or note, per guild.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// What kind of case; the names are stored and exported as written here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CaseKind {
    Warn,
    Timeout,
    Kick,
    Ban,
    Unban,
    Softban,
    Note,
    Delete,
    Lockdown,
    Raid,
}

impl super::names::StoredName for CaseKind {
    const ALL: &'static [CaseKind] = &CaseKind::ALL;
    fn name(self) -> &'static str {
        self.as_str()
    }
}
super::names::stored_by_name!(CaseKind);

impl CaseKind {
    /// Every kind, in the order moderators see them listed.
    pub const ALL: [CaseKind; 10] = [
        CaseKind::Warn,
        CaseKind::Timeout,
        CaseKind::Kick,
        CaseKind::Ban,
        CaseKind::Unban,
        CaseKind::Softban,
        CaseKind::Note,
        CaseKind::Delete,
        CaseKind::Lockdown,
        CaseKind::Raid,
    ];

    /// The name it is stored and shown under.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseKind::Warn => "warn",
            CaseKind::Timeout => "timeout",
            CaseKind::Kick => "kick",
            CaseKind::Ban => "ban",
            CaseKind::Unban => "unban",
            CaseKind::Softban => "softban",
            CaseKind::Note => "note",
            CaseKind::Delete => "delete",
            CaseKind::Lockdown => "lockdown",
            CaseKind::Raid => "raid",
        }
    }
}

/// Who decided: a person, or steward itself under a rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    User(UserId),
    Steward { rule: String },
}

impl Actor {
    /// The person's id, if a person decided.
    pub fn user_id(&self) -> Option<UserId> {
        match self {
            Actor::User(id) => Some(*id),
            Actor::Steward { .. } => None,
        }
    }

    /// The rule's name, if steward decided.
    pub fn rule(&self) -> Option<&str> {
        match self {
            Actor::User(_) => None,
            Actor::Steward { rule } => Some(rule),
        }
    }
}

/// The text behind a case, as the member wrote it and as steward read it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CaseEvidence {
    pub original: Option<String>,
    pub normalized: Option<String>,
    pub span: Option<(usize, usize)>,
}

/// A case about to be opened.
#[derive(Clone, Debug)]
pub struct NewCase {
    pub guild: GuildId,
    pub kind: CaseKind,
    pub target: UserId,
    pub actor: Actor,
    pub reason: String,
    pub evidence: CaseEvidence,
    pub rules_hash: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// A stored case.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Case {
    /// Row id, unique across guilds (what warnings and timers point at).
    pub id: i64,
    pub guild: GuildId,
    /// The number moderators use: 1, 2, 3 … within the guild.
    pub number: u64,
    pub kind: CaseKind,
    pub target: UserId,
    pub actor: Actor,
    pub reason: String,
    pub evidence: CaseEvidence,
    pub rules_hash: Option<String>,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub active: bool,
    /// Why the sanction did not happen: `refused: …` or `failed: …`; `None` when it did
    /// (or has not been answered yet).
    pub outcome: Option<String>,
    /// The case's post in the case log: (channel, message).
    pub post: Option<(u64, u64)>,
    /// How telling the member by DM went: `sent`, or why not.
    pub dm: Option<String>,
}

/// One change to a case's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonEdit {
    pub old_reason: String,
    pub new_reason: String,
    pub editor: Option<UserId>,
    pub edited_at: Timestamp,
}

impl Store {
    /// Opens a case with the guild's next number. Cases opened together are written
    /// together (see [`super::batch`]).
    pub async fn create_case(&self, new: &NewCase) -> Result<Case, StoreError> {
        self.create_case_with_intent(new, None)
            .await
            .map(|(case, _)| case)
    }

    /// Opens a case and, in the same transaction, stores `intent` (a request about to be
    /// sent, as the outbox keeps it) pointing at it; returns both.
    pub async fn create_case_with_intent(
        &self,
        new: &NewCase,
        intent: Option<&crate::moderation::Request>,
    ) -> Result<(Case, Option<i64>), StoreError> {
        sql_id(new.guild.0)?;
        sql_id(new.target.0)?;
        if let Some(user) = new.actor.user_id() {
            sql_id(user.0)?;
        }
        let intent = intent
            .map(|r| {
                serde_json::to_string(r)
                    .map_err(|e| StoreError::Corrupt(format!("request not serializable: {e}")))
            })
            .transpose()?;
        let write = CaseWrite {
            case: new.clone(),
            intent,
        };
        let mut ticket = self.case_queue.push(write);
        let (id, number, intent_id) = tokio::select! {
            biased;
            answer = ticket.answer() => answer?,
            conn = self.writer() => {
                let mut conn = conn?;
                let batch = self.case_queue.take(MAX_CASE_BATCH);
                if !batch.is_empty() {
                    let written = write_cases_retrying(&mut conn, &batch.items(), &self.owner).await;
                    batch.answer(written);
                }
                drop(conn);
                ticket.answer().await?
            }
        };
        let case = Case {
            id,
            guild: new.guild,
            number,
            kind: new.kind,
            target: new.target,
            actor: new.actor.clone(),
            reason: new.reason.clone(),
            evidence: new.evidence.clone(),
            rules_hash: new.rules_hash.clone(),
            created_at: new.created_at,
            expires_at: new.expires_at,
            active: true,
            outcome: None,
            post: None,
            dm: None,
        };
        Ok((case, intent_id))
    }

    /// Case `number` of `guild`.
    pub async fn case(&self, guild: GuildId, number: u64) -> Result<Option<Case>, StoreError> {
        let row =
            sqlx::query_as::<_, CaseRow>("SELECT * FROM cases WHERE guild_id = $1 AND number = $2")
                .bind(sql_id(guild.0)?)
                .bind(number as i64)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.map(CaseRow::into_case))
    }

    /// The case with row id `id`.
    pub async fn case_by_id(&self, id: i64) -> Result<Option<Case>, StoreError> {
        let row = sqlx::query_as::<_, CaseRow>("SELECT * FROM cases WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(CaseRow::into_case))
    }

    /// Every case about `target` in `guild`, oldest first.
    pub async fn cases_for(&self, guild: GuildId, target: UserId) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query_as::<_, CaseRow>(
            "SELECT * FROM cases WHERE guild_id = $1 AND target_id = $2 ORDER BY number",
        )
        .bind(sql_id(guild.0)?)
        .bind(sql_id(target.0)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(CaseRow::into_case).collect())
    }

    /// Every case, of one guild or all, in guild and number order (for export).
    pub async fn all_cases(&self, guild: Option<GuildId>) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query_as::<_, CaseRow>(ALL_CASES)
            .bind(guild.map(|g| sql_id(g.0)).transpose()?)
            .fetch_all(&self.pool)
            .await?;
        Ok(rows.into_iter().map(CaseRow::into_case).collect())
    }

    /// Hands every case (of `guild`, or all) to `each` as it is read, in the order of
    /// [`Store::all_cases`], without holding them all; `each` returns `false` to stop.
    pub async fn each_case(
        &self,
        guild: Option<GuildId>,
        mut each: impl FnMut(Case) -> bool,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, CaseRow>(ALL_CASES)
            .bind(guild.map(|g| sql_id(g.0)).transpose()?)
            .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            if !each(row.into_case()) {
                break;
            }
        }
        Ok(())
    }

    /// Replaces a case's reason, keeping the old one in the case's edit history.
    pub async fn edit_case_reason(
        &self,
        guild: GuildId,
        number: u64,
        reason: &str,
        editor: Option<UserId>,
        at: Timestamp,
    ) -> Result<Case, StoreError> {
        let mut conn = self.writer().await?;
        let mut tx = self.begin_write(&mut conn).await?;
        let (id, old): (i64, String) =
            sqlx::query_as("SELECT id, reason FROM cases WHERE guild_id = $1 AND number = $2")
                .bind(sql_id(guild.0)?)
                .bind(number as i64)
                .fetch_optional(&mut *tx)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("there is no case #{number}")))?;
        sqlx::query(
            "INSERT INTO case_reason_edits (case_id, old_reason, new_reason, editor_id, edited_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(id)
        .bind(&old)
        .bind(reason)
        .bind(editor.map(|e| sql_id(e.0)).transpose()?)
        .bind(at.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET reason = $1 WHERE id = $2")
            .bind(reason)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        drop(conn);
        self.case(guild, number)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("there is no case #{number}")))
    }

    /// How a case's reason changed over time, oldest edit first.
    pub async fn reason_edits(&self, case_id: i64) -> Result<Vec<ReasonEdit>, StoreError> {
        let rows: Vec<(String, String, Option<i64>, i64)> = sqlx::query_as(
            "SELECT old_reason, new_reason, editor_id, edited_at FROM case_reason_edits
             WHERE case_id = $1 ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(old_reason, new_reason, editor, edited_at)| ReasonEdit {
                old_reason,
                new_reason,
                editor: editor.map(|e| UserId(from_sql_id(e))),
                edited_at: Timestamp(edited_at),
            })
            .collect())
    }

    /// Remembers where case `case_id` was posted.
    pub async fn set_case_post(
        &self,
        case_id: i64,
        channel: u64,
        message: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET post_channel_id = $1, post_message_id = $2 WHERE id = $3")
            .bind(sql_id(channel)?)
            .bind(sql_id(message)?)
            .bind(case_id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Notes how telling the member about case `case_id` by DM went.
    pub async fn set_case_dm(&self, case_id: i64, note: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET dm = $1 WHERE id = $2")
            .bind(note)
            .bind(case_id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Whether the case is still active (a temporary sanction's end has not run).
    pub async fn case_active(&self, case_id: i64) -> Result<bool, StoreError> {
        let active: Option<i64> = sqlx::query_scalar("SELECT active FROM cases WHERE id = $1")
            .bind(case_id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(active == Some(1))
    }

    /// Closes a case whose sanction never happened, saying why.
    pub async fn close_case_unapplied(
        &self,
        case_id: i64,
        outcome: &str,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET active = 0, outcome = $2 WHERE id = $1")
            .bind(case_id)
            .bind(outcome)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Marks a case as no longer in force (a ban lifted, a timeout ended).
    pub async fn close_case(&self, case_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET active = 0 WHERE id = $1")
            .bind(case_id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }
}

/// A written case: its row id, its number, and its outbox row's id.
pub(crate) type CaseWritten = (i64, u64, Option<i64>);

/// A case to open, with the request (JSON) the outbox stores with it, if any.
#[derive(Debug)]
pub(crate) struct CaseWrite {
    case: NewCase,
    intent: Option<String>,
}

/// [`write_cases`], again when another process took one of the numbers first (its
/// statement fails whole on the unique number, and the next try counts from the new
/// highest).
async fn write_cases_retrying(
    conn: &mut AnyConnection,
    writes: &[&CaseWrite],
    owner: &str,
) -> Result<Vec<CaseWritten>, StoreError> {
    let mut tries = 0;
    loop {
        match write_cases(conn, writes, owner).await {
            Err(StoreError::Database(sqlx::Error::Database(e)))
                if e.is_unique_violation() && tries < 20 =>
            {
                tries += 1;
            }
            written => return written,
        }
    }
}

/// Writes `writes` in one transaction: the cases, then the outbox rows that point at
/// them. Each case's row id and number, and its outbox row's id, in order.
async fn write_cases(
    conn: &mut AnyConnection,
    writes: &[&CaseWrite],
    owner: &str,
) -> Result<Vec<CaseWritten>, StoreError> {
    let cases: Vec<&NewCase> = writes.iter().map(|w| &w.case).collect();
    if writes.iter().all(|w| w.intent.is_none()) {
        let written = insert_cases(conn, &cases).await?;
        return Ok(written.into_iter().map(|(id, n)| (id, n, None)).collect());
    }
    let mut tx = sqlx::Connection::begin(&mut *conn).await?;
    let written = insert_cases(&mut tx, &cases).await?;
    // The outbox rows, in one statement; each points at its own case, which finds it.
    let opens: Vec<(&CaseWrite, i64)> = writes
        .iter()
        .zip(&written)
        .filter(|(w, _)| w.intent.is_some())
        .map(|(w, (id, _))| (*w, *id))
        .collect();
    let sql = format!(
        "INSERT INTO sanction_intents (guild_id, request, case_id, created_at, lease_owner)
         VALUES {} RETURNING id, case_id",
        super::values_list(opens.len(), 5)
    );
    let mut query = sqlx::query_as::<_, (i64, i64)>(&sql);
    for (w, case_id) in &opens {
        query = query
            .bind(sql_id(w.case.guild.0)?)
            .bind(w.intent.as_deref())
            .bind(*case_id)
            .bind(w.case.created_at.0)
            .bind(owner);
    }
    let intents: HashMap<i64, i64> = query
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .map(|(id, case_id)| (case_id, id))
        .collect();
    let out = writes
        .iter()
        .zip(written)
        .map(|(w, (id, number))| {
            let intent = match w.intent {
                Some(_) => Some(intents.get(&id).copied().ok_or_else(|| {
                    StoreError::Corrupt("a new outbox row was not returned".to_string())
                })?),
                None => None,
            };
            Ok((id, number, intent))
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    tx.commit().await?;
    Ok(out)
}

/// Most cases one statement inserts (SQLite allows 32,766 bound values; a case has 15).
const MAX_CASE_BATCH: usize = 500;

/// Inserts `cases` in one statement and returns each one's row id and number, in order.
///
/// Each case's number is its guild's highest so far plus its place among this batch's
/// cases of the same guild. The statement reads the table it writes, so SQLite evaluates
/// every number before inserting any row, and the writer lock keeps other writers out.
async fn insert_cases(
    conn: &mut AnyConnection,
    cases: &[&NewCase],
) -> Result<Vec<(i64, u64)>, StoreError> {
    let mut place: HashMap<GuildId, i64> = HashMap::new();
    let places: Vec<i64> = cases
        .iter()
        .map(|c| {
            let n = place.entry(c.guild).or_insert(0);
            *n += 1;
            *n
        })
        .collect();
    let sql = format!(
        "INSERT INTO cases (guild_id, number, kind, target_id, moderator_id, rule, reason,
             evidence, normalized, span_start, span_end, rules_hash, created_at, expires_at)
         SELECT v.column1,
             (SELECT COALESCE(MAX(number), 0) FROM cases WHERE guild_id = v.column1) + v.column2,
             v.column3, v.column4, v.column5, v.column6, v.column7, v.column8, v.column9,
             v.column10, v.column11, v.column12, v.column13, v.column14
         FROM (VALUES {}) AS v RETURNING id, guild_id, number",
        super::values_list(cases.len(), 14)
    );
    let mut query = sqlx::query_as::<_, (i64, i64, i64)>(&sql);
    for (c, place) in cases.iter().zip(&places) {
        let span = c.evidence.span;
        query = query
            .bind(c.guild.0 as i64)
            .bind(*place)
            .bind(c.kind)
            .bind(c.target.0 as i64)
            .bind(c.actor.user_id().map(|u| u.0 as i64))
            .bind(c.actor.rule())
            .bind(c.reason.as_str())
            .bind(c.evidence.original.as_deref())
            .bind(c.evidence.normalized.as_deref())
            .bind(span.map(|s| s.0 as i64))
            .bind(span.map(|s| s.1 as i64))
            .bind(c.rules_hash.as_deref())
            .bind(c.created_at.0)
            .bind(c.expires_at.map(|t| t.0));
    }
    let rows = query.fetch_all(&mut *conn).await?;
    // RETURNING gives no order; within a guild, numbers follow the batch's order.
    let mut by_guild: HashMap<GuildId, Vec<(u64, i64)>> = HashMap::new();
    for (id, guild, number) in rows {
        by_guild
            .entry(GuildId(from_sql_id(guild)))
            .or_default()
            .push((number as u64, id));
    }
    for numbers in by_guild.values_mut() {
        numbers.sort_unstable();
        numbers.reverse();
    }
    cases
        .iter()
        .map(|c| {
            by_guild
                .get_mut(&c.guild)
                .and_then(Vec::pop)
                .map(|(number, id)| (id, number))
                .ok_or_else(|| StoreError::Corrupt("a new case was not returned".to_string()))
        })
        .collect()
}

/// Every case of one guild (`$1`) or all, in guild and number order.
const ALL_CASES: &str =
    "SELECT * FROM cases WHERE $1 IS NULL OR guild_id = $1 ORDER BY guild_id, number";

/// A case as its columns hold it.
#[derive(sqlx::FromRow)]
struct CaseRow {
    id: i64,
    guild_id: i64,
    number: i64,
    kind: CaseKind,
    target_id: i64,
    moderator_id: Option<i64>,
    rule: Option<String>,
    reason: String,
    evidence: Option<String>,
    normalized: Option<String>,
    span_start: Option<i64>,
    span_end: Option<i64>,
    rules_hash: Option<String>,
    created_at: i64,
    expires_at: Option<i64>,
    /// 1 while in force, 0 once closed.
    active: i64,
    outcome: Option<String>,
    post_channel_id: Option<i64>,
    post_message_id: Option<i64>,
    dm: Option<String>,
}

impl CaseRow {
    fn into_case(self) -> Case {
        let actor = match self.moderator_id {
            Some(id) => Actor::User(UserId(from_sql_id(id))),
            None => Actor::Steward {
                rule: self.rule.unwrap_or_default(),
            },
        };
        let span = self.span_start.zip(self.span_end);
        Case {
            id: self.id,
            guild: GuildId(from_sql_id(self.guild_id)),
            number: self.number as u64,
            kind: self.kind,
            target: UserId(from_sql_id(self.target_id)),
            actor,
            reason: self.reason,
            evidence: CaseEvidence {
                original: self.evidence,
                normalized: self.normalized,
                span: span.map(|(s, e)| (s as usize, e as usize)),
            },
            rules_hash: self.rules_hash,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            active: self.active != 0,
            outcome: self.outcome,
            post: self
                .post_channel_id
                .zip(self.post_message_id)
                .map(|(c, m)| (from_sql_id(c), from_sql_id(m))),
            dm: self.dm,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    fn new_case(guild: u64, target: u64) -> NewCase {
        NewCase {
            guild: GuildId(guild),
            kind: CaseKind::Warn,
            target: UserId(target),
            actor: Actor::Steward {
                rule: "slurs".into(),
            },
            reason: "blocked word".into(),
            evidence: CaseEvidence {
                original: Some("n1gg3r".into()),
                normalized: Some("nigger".into()),
                span: Some((0, 6)),
            },
            rules_hash: Some("abc".into()),
            created_at: Timestamp(1_000),
            expires_at: None,
        }
    }

    #[tokio::test]
    async fn cases_are_numbered_per_guild() {
        let (store, _dir) = fresh().await;
        let a1 = store.create_case(&new_case(1, 10)).await.unwrap();
        let a2 = store.create_case(&new_case(1, 11)).await.unwrap();
        let b1 = store.create_case(&new_case(2, 10)).await.unwrap();
        assert_eq!((a1.number, a2.number, b1.number), (1, 2, 1));
        let read = store.case(GuildId(1), 1).await.unwrap().unwrap();
        assert_eq!(read, a1);
        assert_eq!(
            store.cases_for(GuildId(1), UserId(10)).await.unwrap(),
            vec![a1]
        );
        assert_eq!(store.all_cases(None).await.unwrap().len(), 3);
        assert_eq!(store.case(GuildId(1), 9).await.unwrap(), None);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_writers_numbering_one_server_leave_no_gap_and_no_twin() {
        let (url, _dir) = crate::store::test_support::fresh_url().await;
        let first = Store::open(&url).await.unwrap();
        let second = Store::open(&url).await.unwrap();
        let tasks: Vec<_> = (0..80u64)
            .map(|i| {
                let store = if i % 2 == 0 {
                    first.clone()
                } else {
                    second.clone()
                };
                tokio::spawn(async move { store.create_case(&new_case(1, 100 + i)).await })
            })
            .collect();
        let mut numbers = Vec::new();
        for t in tasks {
            numbers.push(t.await.unwrap().unwrap().number);
        }
        numbers.sort_unstable();
        assert_eq!(numbers, (1..=80).collect::<Vec<u64>>());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cases_opened_together_get_distinct_numbers_in_order() {
        let (store, _dir) = fresh().await;
        store.create_case(&new_case(1, 1)).await.unwrap();
        let tasks: Vec<_> = (0..120u64)
            .map(|i| {
                let store = store.clone();
                tokio::spawn(async move { store.create_case(&new_case(1 + i % 3, 100 + i)).await })
            })
            .collect();
        let mut cases = Vec::new();
        for t in tasks {
            cases.push(t.await.unwrap().unwrap());
        }
        for guild in 1..=3u64 {
            let mut numbers: Vec<u64> = cases
                .iter()
                .filter(|c| c.guild == GuildId(guild))
                .map(|c| c.number)
                .collect();
            numbers.sort_unstable();
            let first = if guild == 1 { 2 } else { 1 };
            assert_eq!(
                numbers,
                (first..first + 40).collect::<Vec<u64>>(),
                "guild {guild}"
            );
        }
        for case in &cases {
            let stored = store.case(case.guild, case.number).await.unwrap().unwrap();
            assert_eq!(&stored, case, "each caller got its own row back");
        }
    }

    #[tokio::test]
    async fn reason_edits_are_kept() {
        let (store, _dir) = fresh().await;
        store.create_case(&new_case(1, 10)).await.unwrap();
        let edited = store
            .edit_case_reason(
                GuildId(1),
                1,
                "slur in #general",
                Some(UserId(7)),
                Timestamp(2_000),
            )
            .await
            .unwrap();
        assert_eq!(edited.reason, "slur in #general");
        let edits = store.reason_edits(edited.id).await.unwrap();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].old_reason, "blocked word");
        assert_eq!(edits[0].editor, Some(UserId(7)));
        let missing = store
            .edit_case_reason(GuildId(1), 42, "x", None, Timestamp(3_000))
            .await
            .expect_err("no case 42");
        assert!(missing.to_string().contains("#42"), "{missing}");
    }

    #[tokio::test]
    async fn snowflakes_beyond_i64_are_refused() {
        let (store, _dir) = fresh().await;
        let err = store
            .create_case(&new_case(u64::MAX, 1))
            .await
            .expect_err("too big");
        assert!(matches!(err, StoreError::IdOutOfRange(_)));
    }
}
