//! Appeals: a member's request, made in Discord, that a case be lifted; one open appeal
//! per case, and a wait after a denial before the same case may be appealed again.

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::{Duration, Timestamp};

/// Where an appeal stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AppealState {
    Open,
    Accepted,
    Denied,
}

impl super::names::StoredName for AppealState {
    const ALL: &'static [AppealState] = &[
        AppealState::Open,
        AppealState::Accepted,
        AppealState::Denied,
    ];
    fn name(self) -> &'static str {
        match self {
            AppealState::Open => "open",
            AppealState::Accepted => "accepted",
            AppealState::Denied => "denied",
        }
    }
}
super::names::stored_by_name!(AppealState);

/// One appeal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Appeal {
    pub id: i64,
    pub guild: GuildId,
    /// The case appealed (its row id, not its number).
    pub case_id: i64,
    pub user: UserId,
    pub text: String,
    pub state: AppealState,
    pub created_at: Timestamp,
    /// Where the appeal was posted for the moderators: (channel, message).
    pub post: Option<(u64, u64)>,
}

#[derive(sqlx::FromRow)]
struct AppealRow {
    id: i64,
    guild_id: i64,
    case_id: i64,
    user_id: i64,
    text: String,
    state: AppealState,
    created_at: i64,
    post_channel_id: Option<i64>,
    post_message_id: Option<i64>,
}

impl From<AppealRow> for Appeal {
    fn from(row: AppealRow) -> Appeal {
        Appeal {
            id: row.id,
            guild: GuildId(from_sql_id(row.guild_id)),
            case_id: row.case_id,
            user: UserId(from_sql_id(row.user_id)),
            text: row.text,
            state: row.state,
            created_at: Timestamp(row.created_at),
            post: row
                .post_channel_id
                .zip(row.post_message_id)
                .map(|(c, m)| (from_sql_id(c), from_sql_id(m))),
        }
    }
}

/// Whether a case may be appealed now.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Appealable {
    Yes,
    /// An appeal of the case waits for the moderators.
    AlreadyOpen,
    /// An appeal of the case was denied; the next may come at this time.
    After(Timestamp),
}

impl Store {
    /// Whether case `case_id` may be appealed at `now`, `cooldown` after its last denial.
    pub async fn appealable(
        &self,
        case_id: i64,
        cooldown: Duration,
        now: Timestamp,
    ) -> Result<Appealable, StoreError> {
        let open: Option<i64> =
            sqlx::query_scalar("SELECT id FROM appeals WHERE case_id = $1 AND state = 'open'")
                .bind(case_id)
                .fetch_optional(&self.pool)
                .await?;
        if open.is_some() {
            return Ok(Appealable::AlreadyOpen);
        }
        let denied: Option<i64> = sqlx::query_scalar(
            "SELECT MAX(decided_at) FROM appeals WHERE case_id = $1 AND state = 'denied'",
        )
        .bind(case_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(match denied.map(|at| Timestamp(at) + cooldown) {
            Some(next) if next > now => Appealable::After(next),
            _ => Appealable::Yes,
        })
    }

    /// Opens an appeal of case `case_id`; `None` when one is open already (two presses
    /// of the form racing each other open one).
    pub async fn open_appeal(
        &self,
        guild: GuildId,
        case_id: i64,
        user: UserId,
        text: &str,
        now: Timestamp,
    ) -> Result<Option<i64>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO appeals (guild_id, case_id, user_id, text, state, created_at)
             VALUES ($1, $2, $3, $4, 'open', $5)
             ON CONFLICT (case_id) WHERE state = 'open' DO NOTHING
             RETURNING id",
        )
        .bind(sql_id(guild.0)?)
        .bind(case_id)
        .bind(sql_id(user.0)?)
        .bind(text)
        .bind(now.0)
        .fetch_optional(&mut *self.writer().await?)
        .await?;
        Ok(id)
    }

    /// Appeal `id`, if there is one.
    pub async fn appeal(&self, id: i64) -> Result<Option<Appeal>, StoreError> {
        let row: Option<AppealRow> = sqlx::query_as("SELECT * FROM appeals WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(Appeal::from))
    }

    /// Keeps where appeal `id` was posted for the moderators.
    pub async fn set_appeal_post(
        &self,
        id: i64,
        channel: u64,
        message: u64,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE appeals SET post_channel_id = $1, post_message_id = $2 WHERE id = $3")
            .bind(sql_id(channel)?)
            .bind(sql_id(message)?)
            .bind(id)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }

    /// Decides open appeal `id`; returns whether this call decided it (false when it was
    /// decided already, so two moderators pressing at once act once).
    pub async fn decide_appeal(
        &self,
        id: i64,
        state: AppealState,
        by: UserId,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE appeals SET state = $1, decided_by = $2, decided_at = $3
             WHERE id = $4 AND state = 'open'",
        )
        .bind(state)
        .bind(sql_id(by.0)?)
        .bind(now.0)
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Reopens appeal `id` when acting on its acceptance failed, so it can be pressed again.
    pub async fn reopen_appeal(&self, id: i64) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE appeals SET state = 'open', decided_by = NULL, decided_at = NULL
             WHERE id = $1",
        )
        .bind(id)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::cases::{Actor, CaseEvidence, CaseKind, NewCase};
    use crate::store::test_support::fresh;

    const WEEK: Duration = Duration::from_secs(7 * 86_400);

    async fn a_case(store: &Store) -> i64 {
        let ban = NewCase {
            guild: GuildId(1),
            kind: CaseKind::Ban,
            target: UserId(5),
            actor: Actor::User(UserId(9)),
            reason: "raiding".into(),
            evidence: CaseEvidence::default(),
            rules_hash: None,
            created_at: Timestamp(0),
            expires_at: None,
        };
        store.create_case(&ban).await.expect("case").id
    }

    #[tokio::test]
    async fn one_open_appeal_per_case() {
        let (store, _dir) = fresh().await;
        let case = a_case(&store).await;
        assert_eq!(
            store.appealable(case, WEEK, Timestamp(0)).await.unwrap(),
            Appealable::Yes
        );
        let first = store
            .open_appeal(GuildId(1), case, UserId(5), "sorry", Timestamp(0))
            .await
            .unwrap();
        assert!(first.is_some());
        let second = store
            .open_appeal(GuildId(1), case, UserId(5), "sorry!!", Timestamp(1))
            .await
            .unwrap();
        assert_eq!(second, None);
        assert_eq!(
            store.appealable(case, WEEK, Timestamp(2)).await.unwrap(),
            Appealable::AlreadyOpen
        );
        let appeal = store.appeal(first.unwrap()).await.unwrap().expect("kept");
        assert_eq!(
            (appeal.text.as_str(), appeal.state),
            ("sorry", AppealState::Open)
        );
    }

    #[tokio::test]
    async fn an_appeal_is_decided_once_and_a_denial_holds_off_the_next() {
        let (store, _dir) = fresh().await;
        let case = a_case(&store).await;
        let id = store
            .open_appeal(GuildId(1), case, UserId(5), "sorry", Timestamp(0))
            .await
            .unwrap()
            .expect("opened");
        let at = Timestamp(1_000);
        assert!(
            store
                .decide_appeal(id, AppealState::Denied, UserId(9), at)
                .await
                .unwrap()
        );
        assert!(
            !store
                .decide_appeal(id, AppealState::Accepted, UserId(8), at)
                .await
                .unwrap()
        );
        let next = at + WEEK;
        assert_eq!(
            store
                .appealable(case, WEEK, Timestamp(2_000))
                .await
                .unwrap(),
            Appealable::After(next)
        );
        assert_eq!(
            store.appealable(case, WEEK, next).await.unwrap(),
            Appealable::Yes
        );
    }
}
