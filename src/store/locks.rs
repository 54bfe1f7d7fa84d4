//! Channels held locked by lockdowns that may overlap. A channel locked by a second
//! lockdown keeps the overwrites from before the first, and is put back only when the
//! last lockdown holding it ends, whatever order they end in.

use serde_json::Value;

use super::{Store, StoreError, sql_id};
use crate::engine::event::{ChannelId, GuildId};

impl Store {
    /// Records that lockdown `lockdown` holds `channels`, whose overwrites were `snapshot`
    /// (channel id → overwrite) just before it. A channel another lockdown holds already
    /// keeps that lockdown's record of how it was.
    pub async fn hold_channels(
        &self,
        lockdown: i64,
        guild: GuildId,
        channels: &[ChannelId],
        snapshot: &Value,
    ) -> Result<(), StoreError> {
        let mut writer = self.writer().await?;
        let mut tx = sqlx::Connection::begin(&mut *writer).await?;
        for channel in channels {
            let held: Option<String> = sqlx::query_scalar(
                "SELECT previous FROM channel_locks WHERE guild_id = $1 AND channel_id = $2
                 ORDER BY lockdown_id LIMIT 1",
            )
            .bind(sql_id(guild.0)?)
            .bind(sql_id(channel.0)?)
            .fetch_optional(&mut *tx)
            .await?;
            let previous = held.unwrap_or_else(|| snapshot[channel.to_string()].to_string());
            sqlx::query(
                "INSERT INTO channel_locks (lockdown_id, guild_id, channel_id, previous)
                 VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            )
            .bind(lockdown)
            .bind(sql_id(guild.0)?)
            .bind(sql_id(channel.0)?)
            .bind(previous)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// What ending lockdown `lockdown` puts back: the channels no other lockdown holds,
    /// each with its overwrites from before the first lockdown (channel id → overwrite).
    /// `None` when the lockdown holds no channels here (one stored before this record).
    pub async fn channels_to_restore(&self, lockdown: i64) -> Result<Option<Value>, StoreError> {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT mine.channel_id, mine.previous FROM channel_locks AS mine
             WHERE mine.lockdown_id = $1
               AND NOT EXISTS (SELECT 1 FROM channel_locks AS other
                               WHERE other.guild_id = mine.guild_id
                                 AND other.channel_id = mine.channel_id
                                 AND other.lockdown_id <> mine.lockdown_id)
             ORDER BY mine.channel_id",
        )
        .bind(lockdown)
        .fetch_all(&self.pool)
        .await?;
        let held: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM channel_locks WHERE lockdown_id = $1")
                .bind(lockdown)
                .fetch_one(&self.pool)
                .await?;
        if held == 0 {
            return Ok(None);
        }
        let mut restore = serde_json::Map::new();
        for (channel, previous) in rows {
            let previous = serde_json::from_str(&previous)
                .map_err(|e| StoreError::Corrupt(format!("channel lock: {e}")))?;
            restore.insert((channel as u64).to_string(), previous);
        }
        Ok(Some(Value::Object(restore)))
    }

    /// Lets go of every channel lockdown `lockdown` holds (it ended, or never began).
    pub async fn release_channels(&self, lockdown: i64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM channel_locks WHERE lockdown_id = $1")
            .bind(lockdown)
            .execute(&mut *self.writer().await?)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::engine::time::Timestamp;
    use crate::store::test_support::fresh;
    use crate::store::timers::{NewTimed, TimedKind};

    async fn lockdown(store: &Store) -> i64 {
        store
            .schedule(&NewTimed {
                guild: GuildId(1),
                kind: TimedKind::EndLockdown,
                target: None,
                detail: json!({}),
                case_id: None,
                due_at: Timestamp(0),
            })
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn overlapping_lockdowns_restore_the_first_state_whichever_ends_last() {
        let (store, _dir) = fresh().await;
        let open = json!({"10": {"none": true}});
        let locked = json!({"10": {"allow": "0", "deny": "2048"}, "20": {"none": true}});
        for first_to_end in [0, 1] {
            let a = lockdown(&store).await;
            store
                .hold_channels(a, GuildId(1), &[ChannelId(10)], &open)
                .await
                .unwrap();
            let b = lockdown(&store).await;
            store
                .hold_channels(b, GuildId(1), &[ChannelId(10), ChannelId(20)], &locked)
                .await
                .unwrap();
            let (early, late) = if first_to_end == 0 { (a, b) } else { (b, a) };
            let restored = store.channels_to_restore(early).await.unwrap().unwrap();
            let expected_early = if early == b {
                json!({"20": {"none": true}})
            } else {
                json!({})
            };
            assert_eq!(
                restored, expected_early,
                "the other lockdown still holds #10"
            );
            store.release_channels(early).await.unwrap();
            let restored = store.channels_to_restore(late).await.unwrap().unwrap();
            assert_eq!(restored["10"], json!({"none": true}), "as before the first");
            store.release_channels(late).await.unwrap();
        }
        assert_eq!(store.channels_to_restore(999).await.unwrap(), None);
    }
}
