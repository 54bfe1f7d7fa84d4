//! Rules history: every distinct rules file steward has run, so any case can be traced to
//! the exact rules that decided it.

use super::{Store, StoreError};
use crate::engine::time::Timestamp;

/// One stored rules file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesVersion {
    pub hash: String,
    pub content: String,
    pub loaded_at: Timestamp,
    pub loaded_by: String,
}

impl Store {
    /// Stores a rules file the first time its hash is seen; returns whether it was new.
    pub async fn record_rules(
        &self,
        hash: &str,
        content: &str,
        at: Timestamp,
        by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO rules_history (hash, content, loaded_at, loaded_by)
             VALUES ($1, $2, $3, $4) ON CONFLICT (hash) DO NOTHING",
        )
        .bind(hash)
        .bind(content)
        .bind(at.0)
        .bind(by)
        .execute(&mut *self.writer().await?)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The rules file with `hash`, if it was ever loaded.
    pub async fn rules_version(&self, hash: &str) -> Result<Option<RulesVersion>, StoreError> {
        let row: Option<(String, String, i64, String)> = sqlx::query_as(
            "SELECT hash, content, loaded_at, loaded_by FROM rules_history WHERE hash = $1",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(hash, content, at, by)| RulesVersion {
            hash,
            content,
            loaded_at: Timestamp(at),
            loaded_by: by,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    #[tokio::test]
    async fn each_distinct_file_is_kept_once() {
        let (store, _dir) = fresh().await;
        assert!(
            store
                .record_rules("h1", "rules: []", Timestamp(1), "startup")
                .await
                .unwrap()
        );
        assert!(
            !store
                .record_rules("h1", "rules: []", Timestamp(2), "reload")
                .await
                .unwrap()
        );
        let v = store.rules_version("h1").await.unwrap().unwrap();
        assert_eq!(
            (v.loaded_at, v.loaded_by.as_str()),
            (Timestamp(1), "startup")
        );
        assert_eq!(store.rules_version("h2").await.unwrap(), None);
    }
}
