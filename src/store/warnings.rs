//! Warnings: points toward the escalation ladder, with expiry and pardons.

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// A warning about to be recorded.
#[derive(Clone, Debug)]
pub struct NewWarning {
    pub guild: GuildId,
    pub user: UserId,
    pub case_id: i64,
    pub points: u32,
    pub reason: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
}

/// Who forgave a warning, when and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Pardon {
    pub by: UserId,
    pub at: Timestamp,
    pub reason: String,
}

/// A stored warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    pub id: i64,
    pub guild: GuildId,
    pub user: UserId,
    pub case_id: i64,
    pub points: u32,
    pub reason: String,
    pub created_at: Timestamp,
    pub expires_at: Option<Timestamp>,
    pub pardon: Option<Pardon>,
}

impl Warning {
    /// Whether the warning still counts at `now`.
    pub fn active(&self, now: Timestamp) -> bool {
        self.pardon.is_none() && self.expires_at.is_none_or(|e| e > now)
    }
}

impl Store {
    /// Records a warning.
    pub async fn add_warning(&self, new: &NewWarning) -> Result<Warning, StoreError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO warnings (guild_id, user_id, case_id, points, reason, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
        )
        .bind(sql_id(new.guild.0)?)
        .bind(sql_id(new.user.0)?)
        .bind(new.case_id)
        .bind(i64::from(new.points))
        .bind(&new.reason)
        .bind(new.created_at.0)
        .bind(new.expires_at.map(|t| t.0))
        .fetch_one(&mut *self.writer().await?)
        .await?;
        Ok(Warning {
            id,
            guild: new.guild,
            user: new.user,
            case_id: new.case_id,
            points: new.points,
            reason: new.reason.clone(),
            created_at: new.created_at,
            expires_at: new.expires_at,
            pardon: None,
        })
    }

    /// Points of `user`'s warnings given since `since` that still count at `now`: neither
    /// expired nor pardoned.
    pub async fn active_points(
        &self,
        guild: GuildId,
        user: UserId,
        since: Timestamp,
        now: Timestamp,
    ) -> Result<u32, StoreError> {
        let points: i64 = sqlx::query_scalar(
            "SELECT CAST(COALESCE(SUM(points), 0) AS BIGINT) FROM warnings
             WHERE guild_id = $1 AND user_id = $2 AND created_at >= $3 AND created_at <= $4
               AND pardoned_at IS NULL AND (expires_at IS NULL OR expires_at > $4)",
        )
        .bind(sql_id(guild.0)?)
        .bind(sql_id(user.0)?)
        .bind(since.0)
        .bind(now.0)
        .fetch_one(&self.pool)
        .await?;
        Ok(u32::try_from(points).unwrap_or(u32::MAX))
    }

    /// Every warning of `user`, newest first.
    pub async fn warnings_for(
        &self,
        guild: GuildId,
        user: UserId,
    ) -> Result<Vec<Warning>, StoreError> {
        let rows = sqlx::query_as::<_, WarningRow>(
            "SELECT * FROM warnings WHERE guild_id = $1 AND user_id = $2
             ORDER BY created_at DESC, id DESC",
        )
        .bind(sql_id(guild.0)?)
        .bind(sql_id(user.0)?)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(WarningRow::into_warning).collect())
    }

    /// Warning `id` of `guild`, if there is one.
    pub async fn warning(&self, guild: GuildId, id: i64) -> Result<Option<Warning>, StoreError> {
        let row = sqlx::query_as::<_, WarningRow>(WARNING)
            .bind(id)
            .bind(sql_id(guild.0)?)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(WarningRow::into_warning))
    }

    /// Forgives warning `id` of `guild`: it stops counting and says who forgave it and why.
    pub async fn pardon_warning(
        &self,
        guild: GuildId,
        id: i64,
        pardon: &Pardon,
    ) -> Result<Warning, StoreError> {
        let updated = sqlx::query(
            "UPDATE warnings SET pardoned_at = $1, pardoned_by = $2, pardon_reason = $3
             WHERE id = $4 AND guild_id = $5 AND pardoned_at IS NULL",
        )
        .bind(pardon.at.0)
        .bind(sql_id(pardon.by.0)?)
        .bind(&pardon.reason)
        .bind(id)
        .bind(sql_id(guild.0)?)
        .execute(&mut *self.writer().await?)
        .await?;
        let row = sqlx::query_as::<_, WarningRow>(WARNING)
            .bind(id)
            .bind(sql_id(guild.0)?)
            .fetch_optional(&self.pool)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("there is no warning {id}")))?;
        if updated.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "warning {id} is already pardoned"
            )));
        }
        Ok(row.into_warning())
    }
}

/// Warning `$1` of guild `$2`.
const WARNING: &str = "SELECT * FROM warnings WHERE id = $1 AND guild_id = $2";

/// A warning as its columns hold it.
#[derive(sqlx::FromRow)]
struct WarningRow {
    id: i64,
    guild_id: i64,
    user_id: i64,
    case_id: i64,
    points: i64,
    reason: String,
    created_at: i64,
    expires_at: Option<i64>,
    pardoned_at: Option<i64>,
    pardoned_by: Option<i64>,
    pardon_reason: Option<String>,
}

impl WarningRow {
    fn into_warning(self) -> Warning {
        let pardon = match (self.pardoned_at, self.pardoned_by) {
            (Some(at), Some(by)) => Some(Pardon {
                by: UserId(from_sql_id(by)),
                at: Timestamp(at),
                reason: self.pardon_reason.unwrap_or_default(),
            }),
            _ => None,
        };
        Warning {
            id: self.id,
            guild: GuildId(from_sql_id(self.guild_id)),
            user: UserId(from_sql_id(self.user_id)),
            case_id: self.case_id,
            points: u32::try_from(self.points).unwrap_or(u32::MAX),
            reason: self.reason,
            created_at: Timestamp(self.created_at),
            expires_at: self.expires_at.map(Timestamp),
            pardon,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cases::{Actor, CaseEvidence, CaseKind, NewCase};
    use crate::store::test_support::fresh;

    const HOUR: i64 = 3_600_000;

    async fn warn(store: &Store, at: i64, points: u32, expires: Option<i64>) -> Warning {
        let case = store
            .create_case(&NewCase {
                guild: GuildId(1),
                kind: CaseKind::Warn,
                target: UserId(5),
                actor: Actor::User(UserId(9)),
                reason: "rude".into(),
                evidence: CaseEvidence::default(),
                rules_hash: None,
                created_at: Timestamp(at),
                expires_at: expires.map(Timestamp),
            })
            .await
            .unwrap();
        store
            .add_warning(&NewWarning {
                guild: GuildId(1),
                user: UserId(5),
                case_id: case.id,
                points,
                reason: "rude".into(),
                created_at: Timestamp(at),
                expires_at: expires.map(Timestamp),
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn expired_and_pardoned_warnings_stop_counting() {
        let (store, _dir) = fresh().await;
        let points = |since: i64, now: i64| {
            let store = store.clone();
            async move {
                store
                    .active_points(GuildId(1), UserId(5), Timestamp(since), Timestamp(now))
                    .await
                    .unwrap()
            }
        };
        warn(&store, 0, 1, Some(2 * HOUR)).await;
        let second = warn(&store, HOUR, 2, None).await;
        assert_eq!(points(0, HOUR).await, 3);
        assert_eq!(points(0, 3 * HOUR).await, 2, "the first expired");
        assert_eq!(points(HOUR + 1, 3 * HOUR).await, 0, "outside the window");
        let pardon = Pardon {
            by: UserId(9),
            at: Timestamp(4 * HOUR),
            reason: "misunderstanding".into(),
        };
        let pardoned = store
            .pardon_warning(GuildId(1), second.id, &pardon)
            .await
            .unwrap();
        assert_eq!(pardoned.pardon, Some(pardon.clone()));
        assert!(!pardoned.active(Timestamp(4 * HOUR)));
        assert_eq!(points(0, 5 * HOUR).await, 0);
        let again = store.pardon_warning(GuildId(1), second.id, &pardon).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))));
        let other_guild = store.pardon_warning(GuildId(2), second.id, &pardon).await;
        assert!(matches!(other_guild, Err(StoreError::NotFound(_))));
        assert_eq!(
            store
                .warnings_for(GuildId(1), UserId(5))
                .await
                .unwrap()
                .len(),
            2
        );
    }
}
