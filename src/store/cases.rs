//! Cases: the numbered record of each sanction or note, per guild.

use sqlx::sqlite::SqliteRow;
use sqlx::{Connection, Row};

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

    /// The stored name.
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

    /// The kind a stored name stands for.
    pub fn parse(name: &str) -> Option<CaseKind> {
        CaseKind::ALL.into_iter().find(|k| k.as_str() == name)
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
}

/// One change to a case's reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReasonEdit {
    pub old_reason: String,
    pub new_reason: String,
    pub editor: Option<UserId>,
    pub edited_at: Timestamp,
}

const CASE_COLUMNS: &str = "id, guild_id, number, kind, target_id, moderator_id, rule, reason, \
     evidence, normalized, span_start, span_end, rules_hash, created_at, expires_at, active";

impl Store {
    /// Opens a case with the guild's next number.
    pub async fn create_case(&self, new: &NewCase) -> Result<Case, StoreError> {
        let guild = sql_id(new.guild.0)?;
        let span = new.evidence.span;
        // One statement, so SQLite's write lock covers reading the highest number and
        // inserting the next.
        let (id, number): (i64, i64) = sqlx::query_as(
            "INSERT INTO cases (guild_id, number, kind, target_id, moderator_id, rule, reason,
                 evidence, normalized, span_start, span_end, rules_hash, created_at, expires_at)
             VALUES (?1, (SELECT COALESCE(MAX(number), 0) + 1 FROM cases WHERE guild_id = ?1),
                 ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             RETURNING id, number",
        )
        .bind(guild)
        .bind(0i64)
        .bind(new.kind.as_str())
        .bind(sql_id(new.target.0)?)
        .bind(new.actor.user_id().map(|u| sql_id(u.0)).transpose()?)
        .bind(new.actor.rule())
        .bind(&new.reason)
        .bind(&new.evidence.original)
        .bind(&new.evidence.normalized)
        .bind(span.map(|s| s.0 as i64))
        .bind(span.map(|s| s.1 as i64))
        .bind(&new.rules_hash)
        .bind(new.created_at.0)
        .bind(new.expires_at.map(|t| t.0))
        .fetch_one(&mut *self.writer().await)
        .await?;
        Ok(Case {
            id,
            guild: new.guild,
            number: number as u64,
            kind: new.kind,
            target: new.target,
            actor: new.actor.clone(),
            reason: new.reason.clone(),
            evidence: new.evidence.clone(),
            rules_hash: new.rules_hash.clone(),
            created_at: new.created_at,
            expires_at: new.expires_at,
            active: true,
        })
    }

    /// Case `number` of `guild`.
    pub async fn case(&self, guild: GuildId, number: u64) -> Result<Option<Case>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE guild_id = ?1 AND number = ?2"
        ))
        .bind(sql_id(guild.0)?)
        .bind(number as i64)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| case_from_row(&r)).transpose()
    }

    /// Every case about `target` in `guild`, oldest first.
    pub async fn cases_for(&self, guild: GuildId, target: UserId) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE guild_id = ?1 AND target_id = ?2 ORDER BY number"
        ))
        .bind(sql_id(guild.0)?)
        .bind(sql_id(target.0)?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_from_row).collect()
    }

    /// Every case, of one guild or all, in guild and number order (for export).
    pub async fn all_cases(&self, guild: Option<GuildId>) -> Result<Vec<Case>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM cases WHERE ?1 IS NULL OR guild_id = ?1
             ORDER BY guild_id, number"
        ))
        .bind(guild.map(|g| sql_id(g.0)).transpose()?)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(case_from_row).collect()
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
        let mut conn = self.writer().await;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        let row = sqlx::query("SELECT id, reason FROM cases WHERE guild_id = ?1 AND number = ?2")
            .bind(sql_id(guild.0)?)
            .bind(number as i64)
            .fetch_optional(&mut *tx)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("there is no case #{number}")))?;
        let (id, old): (i64, String) = (row.try_get("id")?, row.try_get("reason")?);
        sqlx::query(
            "INSERT INTO case_reason_edits (case_id, old_reason, new_reason, editor_id, edited_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )
        .bind(id)
        .bind(&old)
        .bind(reason)
        .bind(editor.map(|e| sql_id(e.0)).transpose()?)
        .bind(at.0)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE cases SET reason = ?1 WHERE id = ?2")
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
        let rows = sqlx::query(
            "SELECT old_reason, new_reason, editor_id, edited_at FROM case_reason_edits
             WHERE case_id = ?1 ORDER BY id",
        )
        .bind(case_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(ReasonEdit {
                    old_reason: r.try_get("old_reason")?,
                    new_reason: r.try_get("new_reason")?,
                    editor: r
                        .try_get::<Option<i64>, _>("editor_id")?
                        .map(|e| UserId(from_sql_id(e))),
                    edited_at: Timestamp(r.try_get("edited_at")?),
                })
            })
            .collect()
    }

    /// Marks a case as no longer in force (a ban lifted, a timeout ended).
    pub async fn close_case(&self, case_id: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE cases SET active = 0 WHERE id = ?1")
            .bind(case_id)
            .execute(&mut *self.writer().await)
            .await?;
        Ok(())
    }
}

fn case_from_row(r: &SqliteRow) -> Result<Case, StoreError> {
    let kind: String = r.try_get("kind")?;
    let kind = CaseKind::parse(&kind)
        .ok_or_else(|| StoreError::Corrupt(format!("unknown case kind `{kind}`")))?;
    let moderator: Option<i64> = r.try_get("moderator_id")?;
    let rule: Option<String> = r.try_get("rule")?;
    let actor = match moderator {
        Some(id) => Actor::User(UserId(from_sql_id(id))),
        None => Actor::Steward {
            rule: rule.unwrap_or_default(),
        },
    };
    let start: Option<i64> = r.try_get("span_start")?;
    let end: Option<i64> = r.try_get("span_end")?;
    Ok(Case {
        id: r.try_get("id")?,
        guild: GuildId(from_sql_id(r.try_get("guild_id")?)),
        number: r.try_get::<i64, _>("number")? as u64,
        kind,
        target: UserId(from_sql_id(r.try_get("target_id")?)),
        actor,
        reason: r.try_get("reason")?,
        evidence: CaseEvidence {
            original: r.try_get("evidence")?,
            normalized: r.try_get("normalized")?,
            span: start.zip(end).map(|(s, e)| (s as usize, e as usize)),
        },
        rules_hash: r.try_get("rules_hash")?,
        created_at: Timestamp(r.try_get("created_at")?),
        expires_at: r.try_get::<Option<i64>, _>("expires_at")?.map(Timestamp),
        active: r.try_get::<i64, _>("active")? != 0,
    })
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
