//! Everything steward remembers, in SQLite through sqlx. All SQL lives under this module.
//!
//! Snowflakes are stored as INTEGER and times as INTEGER milliseconds since the Unix epoch
//! (UTC). The database is created on first use, runs in WAL mode with a busy timeout and
//! foreign keys on, and is migrated from `migrations/` when opened.

pub mod anchor;
pub mod appeals;
pub mod audit;
mod batch;
pub mod cases;
pub mod faq;
pub mod guild_rules;
pub mod history;
pub mod intents;
pub mod locks;
pub mod stats;
pub mod timers;
pub mod warnings;

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration as StdDuration;

use tokio::sync::{Mutex, MutexGuard};

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Connection, SqliteConnection, SqlitePool};

/// The default database when `DATABASE_URL` is unset: a file beside the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://steward.db";

/// What can go wrong with the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("cannot migrate the database: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("`{0}` is not a usable database URL or path")]
    BadUrl(String),
    #[error("id {0} does not fit in SQLite's INTEGER")]
    IdOutOfRange(u64),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("write failed: {0}")]
    BatchWrite(String),
    #[error("stored row is corrupt: {0}")]
    Corrupt(String),
    #[error("cannot lock {0} to migrate the database: {1}")]
    Lock(String, String),
}

/// A handle on the database, cheap to clone (it wraps a connection pool).
#[derive(Clone, Debug)]
pub struct Store {
    pool: SqlitePool,
    /// The newest audit row's id and hash as this process last wrote or read them; appends
    /// hold the lock, so this process chains its rows one at a time.
    audit_head: Arc<Mutex<Option<(i64, String)>>>,
    /// Audit rows waiting for the chain's lock.
    audit_queue: Arc<batch::Queue<audit::AuditWrite, i64>>,
    /// Cases waiting for the writer.
    case_queue: Arc<batch::Queue<cases::CaseWrite, cases::CaseWritten>>,
    /// Outbox rows to open or close, waiting for the writer.
    outbox_queue: Arc<batch::Queue<intents::OutboxWrite, i64>>,
    writer: Arc<Mutex<SqliteConnection>>,
    /// Names this process in the leases it takes on timed actions.
    owner: Arc<str>,
    /// The file whose lock one process at a time holds while migrating (none in memory).
    migration_lock: Option<std::path::PathBuf>,
}

impl Store {
    /// Opens (creating it if needed) and migrates the database at `url`: a `sqlite:` URL, a
    /// plain file path, or `:memory:` for a private in-memory database.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, true).await
    }

    /// Opens an existing database; a path with no database behind it is an error rather
    /// than a new empty database (so a mistyped `--database` cannot verify "nothing").
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, false).await
    }

    async fn open_with(url: &str, create: bool) -> Result<Store, StoreError> {
        let memory = url == ":memory:" || url == "sqlite::memory:";
        let options = if memory {
            SqliteConnectOptions::from_str("sqlite::memory:")?
        } else if url.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url)?
        } else if url.is_empty() {
            return Err(StoreError::BadUrl(url.to_string()));
        } else {
            SqliteConnectOptions::new().filename(url)
        };
        if !create && !memory && !options.get_filename().exists() {
            return Err(StoreError::NotFound(format!(
                "there is no database at {}",
                options.get_filename().display()
            )));
        }
        let migration_lock = (!memory).then(|| {
            let mut name = options.get_filename().as_os_str().to_owned();
            name.push(".migrate-lock");
            std::path::PathBuf::from(name)
        });
        let options = options
            .create_if_missing(create)
            .journal_mode(if memory {
                SqliteJournalMode::Memory
            } else {
                SqliteJournalMode::Wal
            })
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(StdDuration::from_secs(10))
            .foreign_keys(true);
        // `sqlite::memory:` names one shared in-memory database for every connection made
        // from these options; it lives while one of them is open.
        // Processes opening one new database at once take turns: creating it, switching
        // it to WAL and migrating are not safe to do twice at the same time.
        let turn = match &migration_lock {
            Some(path) => Some(take_turn(path).await?),
            None => None,
        };
        let writer = options.connect().await?;
        let pool = SqlitePoolOptions::new()
            .max_connections(if memory { 1 } else { 4 })
            .test_before_acquire(false)
            .min_connections(if memory { 1 } else { 0 })
            .idle_timeout(if memory {
                None
            } else {
                Some(StdDuration::from_secs(600))
            })
            .max_lifetime(if memory {
                None
            } else {
                Some(StdDuration::from_secs(3600))
            })
            .connect_with(options)
            .await?;
        let store = Store {
            pool,
            audit_head: Arc::new(Mutex::new(None)),
            audit_queue: Arc::default(),
            case_queue: Arc::default(),
            outbox_queue: Arc::default(),
            writer: Arc::new(Mutex::new(writer)),
            owner: process_name().into(),
            migration_lock,
        };
        store.apply_migrations().await?;
        drop(turn);
        Ok(store)
    }

    /// Applies migrations not yet applied; a no-op on an up-to-date database. Processes
    /// opening one new database at once take turns (SQLite's migrations are not safe to
    /// run twice at the same time).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let _turn = match &self.migration_lock {
            Some(path) => Some(take_turn(path).await?),
            None => None,
        };
        self.apply_migrations().await
    }

    async fn apply_migrations(&self) -> Result<(), StoreError> {
        sqlx::migrate!("./migrations")
            .run(&mut *self.writer().await)
            .await?;
        Ok(())
    }

    /// Whether the database answers and accepts writes (for health checks): takes the write
    /// lock and lets it go.
    pub async fn writable(&self) -> bool {
        let mut conn = self.writer().await;
        match conn.begin_with("BEGIN IMMEDIATE").await {
            Ok(tx) => tx.rollback().await.is_ok(),
            Err(_) => false,
        }
    }

    /// Runs SQLite's own consistency check of the file.
    pub async fn integrity_ok(&self) -> Result<bool, StoreError> {
        let result: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&self.pool)
            .await?;
        Ok(result == "ok")
    }

    /// Waits for running statements and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        // The writer closes when the last handle on the store is dropped.
    }

    /// The connection every write goes through. One writer means SQLite never makes two of
    /// this process's writes wait on each other's locks, and the connection's page cache
    /// stays warm; reads use the pool.
    async fn writer(&self) -> MutexGuard<'_, SqliteConnection> {
        self.writer.lock().await
    }
}

/// Waits for, then holds, the exclusive lock on `path` (released when the file closes).
async fn take_turn(path: &std::path::Path) -> Result<std::fs::File, StoreError> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| StoreError::Lock(path.display().to_string(), e.to_string()))?;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) => {
                tokio::time::sleep(StdDuration::from_millis(20)).await;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(StoreError::Lock(path.display().to_string(), e.to_string()));
            }
        }
    }
}

/// A name for this process unlikely to be any other's: host process id and start time.
fn process_name() -> String {
    let started = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("{}-{started:x}", std::process::id())
}

/// A snowflake as SQLite stores it.
pub(crate) fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))
}

/// A snowflake read back from SQLite.
pub(crate) fn from_sql_id(id: i64) -> u64 {
    id as u64
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    /// A fresh migrated database in a temporary directory that lives as long as the guard.
    pub async fn fresh() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("steward.db");
        let store = Store::open(path.to_str().expect("UTF-8 path"))
            .await
            .expect("store opens");
        (store, dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text sqlx stores for `value`.
    async fn stored<T>(store: &Store, value: T) -> String
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite> + Send,
    {
        sqlx::query_scalar("SELECT ?1")
            .bind(value)
            .fetch_one(&store.pool)
            .await
            .expect("a stored name")
    }

    #[tokio::test]
    async fn the_names_enums_are_stored_under_are_the_names_they_are_shown_and_hashed_under() {
        use audit::Phase;
        use cases::CaseKind;
        use timers::TimedKind;
        let (store, _dir) = test_support::fresh().await;
        for kind in CaseKind::ALL {
            assert_eq!(stored(&store, kind).await, kind.as_str());
        }
        let phases = [
            Phase::Intent,
            Phase::Done,
            Phase::Failed,
            Phase::Refused,
            Phase::Shadow,
            Phase::Reload,
            Phase::Record,
        ];
        for phase in phases {
            assert_eq!(stored(&store, phase).await, phase.as_str());
        }
        let kinds = [
            TimedKind::Unban,
            TimedKind::EndTimeout,
            TimedKind::EndLockdown,
            TimedKind::EndRaidMode,
            TimedKind::EndQuarantine,
            TimedKind::EndSlowmode,
        ];
        for kind in kinds {
            assert_eq!(stored(&store, kind).await, kind.as_str());
        }
    }

    #[tokio::test]
    async fn opens_migrates_and_reopens() {
        let (store, dir) = test_support::fresh().await;
        assert!(store.writable().await);
        store.close().await;
        let again = Store::open(dir.path().join("steward.db").to_str().unwrap())
            .await
            .expect("reopens");
        again.migrate().await.expect("migrating twice is a no-op");
        let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(mode, "wal");
        let fk: i64 = sqlx::query_scalar("PRAGMA foreign_keys")
            .fetch_one(&again.pool)
            .await
            .unwrap();
        assert_eq!(fk, 1);
    }

    #[tokio::test]
    async fn two_processes_can_create_one_database_at_once() {
        for _ in 0..10 {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("steward.db");
            let path = path.to_str().unwrap().to_string();
            let opens = (0..3).map(|_| Store::open(&path));
            for opened in futures_util::future::join_all(opens).await {
                opened.expect("every opener succeeds");
            }
        }
    }

    #[tokio::test]
    async fn memory_databases_work_and_bad_urls_are_named() {
        let store = Store::open(":memory:").await.expect("memory store");
        assert!(store.writable().await);
        let err = Store::open("").await.expect_err("empty URL");
        assert!(err.to_string().contains("not a usable database"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("typo.db");
        let err = Store::open_existing(missing.to_str().unwrap())
            .await
            .expect_err("no such database");
        assert!(err.to_string().contains("there is no database at"), "{err}");
        assert!(!missing.exists(), "nothing was created");
    }
}
