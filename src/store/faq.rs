//! FAQ entries per guild, searched through SQLite's FTS5 index ranked by bm25, or
//! PostgreSQL's full-text search ranked by `ts_rank`, with the same weights: titles most,
//! then keywords, then answers.

use super::{Backend, Store, StoreError, from_sql_id, sql_id};
use crate::engine::event::{GuildId, UserId};
use crate::engine::time::Timestamp;

/// One answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FaqEntry {
    pub id: i64,
    pub guild: GuildId,
    pub title: String,
    pub answer: String,
    pub keywords: String,
    pub author: UserId,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// A search hit: the entry and its bm25 rank (lower is better).
#[derive(Clone, Debug, PartialEq)]
pub struct FaqHit {
    pub entry: FaqEntry,
    pub rank: f64,
}

impl Store {
    /// Adds an entry; a title already used in the guild is a conflict.
    pub async fn faq_add(
        &self,
        guild: GuildId,
        title: &str,
        answer: &str,
        keywords: &str,
        author: UserId,
        at: Timestamp,
    ) -> Result<FaqEntry, StoreError> {
        let inserted = sqlx::query_scalar::<_, i64>(
            "INSERT INTO faq (guild_id, title, answer, keywords, author_id, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $6)
             ON CONFLICT (guild_id, title) DO NOTHING RETURNING id",
        )
        .bind(sql_id(guild.0)?)
        .bind(title)
        .bind(answer)
        .bind(keywords)
        .bind(sql_id(author.0)?)
        .bind(at.0)
        .fetch_optional(&mut *self.writer().await?)
        .await?;
        let Some(id) = inserted else {
            return Err(StoreError::Conflict(format!(
                "there is already an entry titled `{title}`"
            )));
        };
        Ok(FaqEntry {
            id,
            guild,
            title: title.to_string(),
            answer: answer.to_string(),
            keywords: keywords.to_string(),
            author,
            created_at: at,
            updated_at: at,
        })
    }

    /// Replaces the answer and keywords of the entry titled `title`.
    pub async fn faq_edit(
        &self,
        guild: GuildId,
        title: &str,
        answer: &str,
        keywords: &str,
        at: Timestamp,
    ) -> Result<FaqEntry, StoreError> {
        let row = sqlx::query_as::<_, FaqRow>(
            "UPDATE faq SET answer = $1, keywords = $2, updated_at = $3
             WHERE guild_id = $4 AND title = $5 RETURNING *",
        )
        .bind(answer)
        .bind(keywords)
        .bind(at.0)
        .bind(sql_id(guild.0)?)
        .bind(title)
        .fetch_optional(&mut *self.writer().await?)
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("there is no entry titled `{title}`")))?;
        Ok(row.into_entry())
    }

    /// Removes the entry titled `title`.
    pub async fn faq_remove(&self, guild: GuildId, title: &str) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM faq WHERE guild_id = $1 AND title = $2")
            .bind(sql_id(guild.0)?)
            .bind(title)
            .execute(&mut *self.writer().await?)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound(format!(
                "there is no entry titled `{title}`"
            )));
        }
        Ok(())
    }

    /// Every entry of the guild, by title.
    pub async fn faq_list(&self, guild: GuildId) -> Result<Vec<FaqEntry>, StoreError> {
        let rows =
            sqlx::query_as::<_, FaqRow>("SELECT * FROM faq WHERE guild_id = $1 ORDER BY title")
                .bind(sql_id(guild.0)?)
                .fetch_all(&self.pool)
                .await?;
        Ok(rows.into_iter().map(FaqRow::into_entry).collect())
    }

    /// Entries matching `query` best first. Every word of the query is a prefix (so it works
    /// while a member is still typing) and any word may match; titles weigh most.
    pub async fn faq_search(
        &self,
        guild: GuildId,
        query: &str,
        limit: u32,
    ) -> Result<Vec<FaqHit>, StoreError> {
        let terms = search_terms(query);
        if terms.is_empty() {
            return Ok(Vec::new());
        }
        let (sql, search) = match self.backend {
            Backend::Sqlite => (FTS5_SEARCH, fts5_query(&terms)),
            Backend::Postgres => (POSTGRES_SEARCH, tsquery(&terms)),
        };
        let rows = sqlx::query_as::<_, RankedFaqRow>(sql)
            .bind(search)
            .bind(sql_id(guild.0)?)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await?;
        Ok(rows
            .into_iter()
            .map(|r| FaqHit {
                entry: r.entry.into_entry(),
                rank: r.rank,
            })
            .collect())
    }
}

/// The search on SQLite: bm25 over title, answer and keywords, lower is better.
const FTS5_SEARCH: &str = "SELECT faq.*, bm25(faq_fts, 10.0, 1.0, 5.0) AS rank
     FROM faq_fts JOIN faq ON faq.id = faq_fts.rowid
     WHERE faq_fts MATCH $1 AND faq.guild_id = $2
     ORDER BY rank LIMIT $3";

/// The search on PostgreSQL, over the expression the `faq_search` index holds; the rank
/// is negated so that lower is better on both back ends.
const POSTGRES_SEARCH: &str = "SELECT faq.*,
        CAST(-ts_rank('{0.1, 0.2, 0.5, 1.0}', v.doc, q.query) AS DOUBLE PRECISION) AS rank
     FROM faq
     CROSS JOIN LATERAL (SELECT setweight(to_tsvector('english', title), 'A')
                                || setweight(to_tsvector('english', keywords), 'B')
                                || setweight(to_tsvector('english', answer), 'C') AS doc) v
     CROSS JOIN (SELECT to_tsquery('english', $1) AS query) q
     WHERE faq.guild_id = $2
       AND (setweight(to_tsvector('english', title), 'A')
            || setweight(to_tsvector('english', keywords), 'B')
            || setweight(to_tsvector('english', answer), 'C')) @@ q.query
     ORDER BY rank, faq.id LIMIT $3";

/// The words of free text, lowercased: letters and digits only, so no member input can
/// be read as query syntax; at most 16.
fn search_terms(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(16)
        .map(str::to_lowercase)
        .collect()
}

/// An FTS5 query matching any term as a prefix.
fn fts5_query(terms: &[String]) -> String {
    terms
        .iter()
        .map(|w| format!("\"{w}\"*"))
        .collect::<Vec<_>>()
        .join(" OR ")
}

/// A `to_tsquery` text matching any term as a prefix.
fn tsquery(terms: &[String]) -> String {
    terms
        .iter()
        .map(|w| format!("{w}:*"))
        .collect::<Vec<_>>()
        .join(" | ")
}

#[derive(sqlx::FromRow)]
struct FaqRow {
    id: i64,
    guild_id: i64,
    title: String,
    answer: String,
    keywords: String,
    author_id: i64,
    created_at: i64,
    updated_at: i64,
}

impl FaqRow {
    fn into_entry(self) -> FaqEntry {
        FaqEntry {
            id: self.id,
            guild: GuildId(from_sql_id(self.guild_id)),
            title: self.title,
            answer: self.answer,
            keywords: self.keywords,
            author: UserId(from_sql_id(self.author_id)),
            created_at: Timestamp(self.created_at),
            updated_at: Timestamp(self.updated_at),
        }
    }
}

/// An entry found by a search, with its bm25 rank (lower is better).
#[derive(sqlx::FromRow)]
struct RankedFaqRow {
    #[sqlx(flatten)]
    entry: FaqRow,
    rank: f64,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::test_support::fresh;

    #[tokio::test]
    async fn search_ranks_by_relevance_within_the_guild() {
        let (store, _dir) = fresh().await;
        let g = GuildId(1);
        let add = |title: &'static str, answer: &'static str, keywords: &'static str| {
            let store = store.clone();
            async move {
                store
                    .faq_add(g, title, answer, keywords, UserId(9), Timestamp(1))
                    .await
                    .unwrap()
            }
        };
        add("How do I get verified?", "React in #rules.", "verify role").await;
        add("Where are the rules?", "In #rules, pinned.", "rules").await;
        add("Server IP", "play.example.net", "minecraft address").await;
        store
            .faq_add(
                GuildId(2),
                "Verification",
                "other guild",
                "",
                UserId(9),
                Timestamp(1),
            )
            .await
            .unwrap();

        let hits = store.faq_search(g, "verif", 5).await.unwrap();
        assert_eq!(hits.len(), 1, "prefix match, this guild only");
        assert_eq!(hits[0].entry.title, "How do I get verified?");
        let hits = store
            .faq_search(g, "what is the minecraft ip", 5)
            .await
            .unwrap();
        assert_eq!(hits[0].entry.title, "Server IP");
        assert!(
            store
                .faq_search(g, "\"*) OR NEAR(", 5)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.faq_search(g, "   ", 5).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn edits_and_removals_keep_the_index_in_step() {
        let (store, _dir) = fresh().await;
        let g = GuildId(1);
        store
            .faq_add(
                g,
                "Server IP",
                "old.example.net",
                "",
                UserId(9),
                Timestamp(1),
            )
            .await
            .unwrap();
        let dup = store
            .faq_add(g, "Server IP", "x", "", UserId(9), Timestamp(1))
            .await;
        assert!(matches!(dup, Err(StoreError::Conflict(_))));
        let edited = store
            .faq_edit(g, "Server IP", "new.example.net", "minecraft", Timestamp(2))
            .await
            .unwrap();
        assert_eq!(edited.answer, "new.example.net");
        assert_eq!(store.faq_search(g, "minecraft", 5).await.unwrap().len(), 1);
        assert!(store.faq_search(g, "old", 5).await.unwrap().is_empty());
        store.faq_remove(g, "Server IP").await.unwrap();
        assert!(
            store
                .faq_search(g, "minecraft", 5)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(store.faq_list(g).await.unwrap().is_empty());
        assert!(matches!(
            store.faq_remove(g, "Server IP").await,
            Err(StoreError::NotFound(_))
        ));
    }
}
