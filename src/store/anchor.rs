//! Anchors of the audit chain, kept outside the database. The chain shows that no row
//! was changed or removed from its middle; it cannot show that rows were removed from its
//! end, since the shorter chain is still a valid chain. An anchor (the newest row's id
//! and hash at a moment) written elsewhere closes that gap: a chain that no longer holds
//! an anchored row has lost its tail.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Store, StoreError};
use crate::engine::time::Timestamp;

/// The head of the audit chain at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Anchor {
    pub at: Timestamp,
    /// Rows in the chain then.
    pub rows: u64,
    /// The newest row's id and hash then among rows written before each server had its
    /// own chain (none when there are none).
    pub last_id: Option<i64>,
    pub hash: Option<String>,
    /// The head of every chain then.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chains: Vec<ChainHead>,
}

/// The newest row of one audit chain at one moment.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainHead {
    /// The server whose chain it is (0: steward's own rows).
    pub chain: i64,
    /// The row's place in its chain.
    pub seq: i64,
    pub hash: String,
}

/// Why an anchor file could not be read or does not fit the chain.
#[derive(Debug, thiserror::Error)]
pub enum AnchorError {
    #[error("{}: cannot read the anchor file: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{}:{line}: not an anchor ({why})", path.display())]
    Bad {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Largest anchor file read: an hourly anchor for decades is far smaller.
const MAX_ANCHOR_FILE: u64 = 64 * 1024 * 1024;

/// The anchor file that goes with a database URL or path: beside the file, with
/// `.anchor` added; none for in-memory databases.
pub fn anchor_path(database: &str) -> Option<PathBuf> {
    let path = match database.strip_prefix("sqlite:") {
        Some(rest) => rest.trim_start_matches("//"),
        None if database.contains("://") => return None, // another kind of database
        None => database,
    };
    let path = path.split('?').next().unwrap_or(path);
    if path.is_empty() || path.contains(":memory:") {
        return None;
    }
    Some(PathBuf::from(format!("{path}.anchor")))
}

/// Appends `anchor` to the file at `path` as one JSON line.
pub fn append_anchor(path: &Path, anchor: &Anchor) -> std::io::Result<()> {
    let mut line = serde_json::to_string(anchor).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    file.write_all(line.as_bytes())?;
    file.sync_data()
}

/// Every anchor in the file at `path`, oldest first; a missing file holds none.
pub fn read_anchors(path: &Path) -> Result<Vec<Anchor>, AnchorError> {
    let read = |source| AnchorError::Read {
        path: path.to_path_buf(),
        source,
    };
    let meta = match std::fs::metadata(path) {
        Ok(meta) => meta,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(read(e)),
    };
    if !meta.is_file() || meta.len() > MAX_ANCHOR_FILE {
        return Err(read(std::io::Error::other(format!(
            "not a regular file of at most {MAX_ANCHOR_FILE} bytes"
        ))));
    }
    let text = std::fs::read_to_string(path).map_err(read)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| AnchorError::Bad {
                path: path.to_path_buf(),
                line: i + 1,
                why: e.to_string(),
            })
        })
        .collect()
}

impl Store {
    /// The head of every audit chain now.
    pub async fn audit_anchor(&self, at: Timestamp) -> Result<Anchor, StoreError> {
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
            .fetch_one(&self.pool)
            .await?;
        let legacy: Option<(i64, String)> = sqlx::query_as(
            "SELECT id, hash FROM audit_log WHERE seq IS NULL ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?;
        let chains: Vec<(i64, i64, String)> = sqlx::query_as(
            "SELECT a.chain, a.seq, a.hash FROM audit_log a
             JOIN (SELECT chain, MAX(seq) AS seq FROM audit_log WHERE seq IS NOT NULL
                   GROUP BY chain) h ON h.chain = a.chain AND h.seq = a.seq
             ORDER BY a.chain",
        )
        .fetch_all(&self.pool)
        .await?;
        Ok(Anchor {
            at,
            rows: u64::try_from(rows).unwrap_or(0),
            last_id: legacy.as_ref().map(|(id, _)| *id),
            hash: legacy.map(|(_, hash)| hash),
            chains: chains
                .into_iter()
                .map(|(chain, seq, hash)| ChainHead { chain, seq, hash })
                .collect(),
        })
    }

    /// What is wrong between the chains and `anchor`, if anything: an anchored row is
    /// gone, or holds another hash.
    pub async fn anchor_problem(&self, anchor: &Anchor) -> Result<Option<String>, StoreError> {
        let when = anchor.at.rfc3339();
        if let (Some(id), Some(hash)) = (anchor.last_id, &anchor.hash) {
            let stored: Option<String> =
                sqlx::query_scalar("SELECT hash FROM audit_log WHERE id = $1 AND seq IS NULL")
                    .bind(id)
                    .fetch_optional(&self.pool)
                    .await?;
            let place = format!("row {id}");
            if let Some(problem) = compare(&place, stored, hash, &when) {
                return Ok(Some(problem));
            }
        }
        for head in &anchor.chains {
            let stored: Option<String> =
                sqlx::query_scalar("SELECT hash FROM audit_log WHERE chain = $1 AND seq = $2")
                    .bind(head.chain)
                    .bind(head.seq)
                    .fetch_optional(&self.pool)
                    .await?;
            let place = format!("row {} of chain {}", head.seq, head.chain);
            if let Some(problem) = compare(&place, stored, &head.hash, &when) {
                return Ok(Some(problem));
            }
        }
        Ok(None)
    }
}

/// What is wrong with the anchored row at `place` whose hash was `anchored`, given what
/// the log holds there now.
fn compare(place: &str, stored: Option<String>, anchored: &str, when: &str) -> Option<String> {
    match stored {
        None => Some(format!(
            "{place}, the newest of its chain at {when} (hash {anchored}), is gone: rows were removed from the end of the log"
        )),
        Some(found) if found != anchored => Some(format!(
            "{place} holds hash {found}, not {anchored} as anchored at {when}: the log was rewritten"
        )),
        Some(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::audit::{AuditEntry, Phase};
    use crate::store::test_support::fresh;

    fn entry(at: i64) -> AuditEntry {
        AuditEntry {
            at: Timestamp(at),
            guild: None,
            actor: None,
            rule: None,
            action: "note".into(),
            phase: Phase::Record,
            target: None,
            case_id: None,
            detail: serde_json::json!({}),
        }
    }

    #[tokio::test]
    async fn a_removed_tail_is_found_by_the_anchor() {
        let (store, dir) = fresh().await;
        for at in 0..5 {
            store.append_audit(&entry(at)).await.unwrap();
        }
        let path = dir.path().join("steward.db.anchor");
        let anchor = store.audit_anchor(Timestamp(10)).await.unwrap();
        append_anchor(&path, &anchor).unwrap();
        assert_eq!(read_anchors(&path).unwrap(), vec![anchor.clone()]);
        assert_eq!(store.anchor_problem(&anchor).await.unwrap(), None);
        // Someone goes around the trigger and cuts the last two rows.
        crate::store::test_support::drop_trigger(&store, "audit_log_no_delete").await;
        sqlx::query("DELETE FROM audit_log WHERE seq > 3")
            .execute(&store.pool)
            .await
            .unwrap();
        assert!(matches!(
            store.verify_audit().await.unwrap(),
            crate::store::audit::AuditCheck::Intact { rows: 3 }
        ));
        let problem = store.anchor_problem(&anchor).await.unwrap().expect("found");
        assert!(problem.contains("removed from the end"), "{problem}");
    }

    #[test]
    fn anchor_files_sit_beside_the_database_and_bad_lines_are_named() {
        assert_eq!(
            anchor_path("sqlite://data/steward.db"),
            Some(PathBuf::from("data/steward.db.anchor"))
        );
        assert_eq!(
            anchor_path("/var/steward.db"),
            Some(PathBuf::from("/var/steward.db.anchor"))
        );
        assert_eq!(anchor_path(":memory:"), None);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.anchor");
        std::fs::write(
            &path,
            "{\"at\":1,\"rows\":0,\"last_id\":null,\"hash\":null}\nnonsense\n",
        )
        .unwrap();
        let err = read_anchors(&path).unwrap_err().to_string();
        assert!(err.contains("a.anchor:2: not an anchor"), "{err}");
        assert!(read_anchors(&dir.path().join("none")).unwrap().is_empty());
    }
}
