//! Each server's own rules, with their history.

use super::{Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

impl Store {
    /// Keeps `content` as the rules `guild` runs from now on (empty: the defaults).
    pub async fn save_guild_rules(
        &self,
        guild: GuildId,
        content: &str,
        hash: &str,
        by: UserId,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO guild_rules (guild_id, content, hash, uploaded_by, uploaded_at)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(sql_id(guild.0)?)
        .bind(content)
        .bind(hash)
        .bind(sql_id(by.0)?)
        .bind(at.0)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(())
    }

    /// The rules in force in every server that has its own (newest upload each, empty
    /// ones left out).
    pub async fn guild_rules_in_force(&self) -> Result<Vec<(GuildId, String)>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT guild_id, content FROM guild_rules
             WHERE id IN (SELECT MAX(id) FROM guild_rules GROUP BY guild_id) AND content <> ''
             ORDER BY guild_id",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(g, content)| (GuildId(from_sql_id(g)), content))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    #[tokio::test]
    async fn the_newest_upload_of_each_server_is_in_force() {
        let (store, _dir) = fresh().await;
        let save = |g, content: &'static str, at| {
            let store = store.clone();
            async move {
                store
                    .save_guild_rules(GuildId(g), content, "h", UserId(9), Timestamp(at))
                    .await
                    .unwrap()
            }
        };
        save(1, "old", 1).await;
        save(1, "new", 2).await;
        save(2, "two", 3).await;
        save(3, "three", 4).await;
        save(3, "", 5).await;
        let in_force = store.guild_rules_in_force().await.unwrap();
        assert_eq!(
            in_force,
            vec![
                (GuildId(1), "new".to_string()),
                (GuildId(2), "two".to_string())
            ]
        );
    }
}
