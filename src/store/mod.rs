//! Everything steward remembers, in SQLite or PostgreSQL through sqlx. All SQL lives
//! under this module.
//!
//! Snowflakes are stored as 64-bit integers and times as integer milliseconds since the
//! Unix epoch (UTC). One SQL text serves both back ends wherever they agree (numbered `$n`
//! parameters, `RETURNING`, `ON CONFLICT`, `IS NOT DISTINCT FROM`); [`Backend`] picks the
//! statement where they do not (full-text search, write locks). A SQLite database is
//! created on first use and runs in WAL mode with a busy timeout and foreign keys on; both
//! are migrated from their own folder under `migrations/` when opened.

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
mod names;
pub mod stats;
pub mod timers;
pub mod warnings;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration as StdDuration;

use sqlx::AnyConnection;
use sqlx::any::AnyPoolOptions;
use sqlx::{Any, AnyPool, Connection, Executor};
use tokio::sync::Mutex;

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
    #[error("id {0} does not fit in a 64-bit signed integer")]
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

/// Which database engine a store runs on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// One file (or memory), one machine: the embedded default.
    Sqlite,
    /// A shared server, for several steward processes.
    Postgres,
}

/// A handle on the database, cheap to clone (it wraps connection pools).
#[derive(Clone, Debug)]
pub struct Store {
    backend: Backend,
    /// Reads.
    pool: AnyPool,
    /// One connection every write of this process goes through, so its writes never wait
    /// on each other's locks and writes that arrive together share a transaction. A
    /// connection of its own rather than a pool's: a pool tests each connection as it comes
    /// back, a round trip per write.
    writer: Arc<Mutex<WriterConnection>>,
    /// Where a PostgreSQL writer reconnects to.
    url: Arc<str>,
    /// The newest row of each audit chain (by chain: the guild, 0 for steward's own rows)
    /// as this process last wrote or read it; appends hold the lock, so this process
    /// chains its rows one at a time.
    audit_heads: Arc<Mutex<std::collections::HashMap<i64, (i64, String)>>>,
    /// Audit rows waiting for the chain's lock.
    audit_queue: Arc<batch::Queue<audit::AuditWrite, i64>>,
    /// Cases waiting for the writer.
    case_queue: Arc<batch::Queue<cases::CaseWrite, cases::CaseWritten>>,
    /// Outbox rows to open or close, waiting for the writer.
    outbox_queue: Arc<batch::Queue<intents::OutboxWrite, i64>>,
    /// Names this process in the leases it takes on timed actions.
    owner: Arc<str>,
    /// The file whose lock one process at a time holds while migrating (none in memory
    /// and on PostgreSQL, whose migrator takes a lock in the database itself).
    migration_lock: Option<std::path::PathBuf>,
}

/// Where a database URL or path leads.
#[derive(Debug, PartialEq, Eq)]
enum Target {
    /// A SQLite file (path) or a private in-memory database (`None`).
    Sqlite(Option<std::path::PathBuf>),
    Postgres(String),
}

impl Target {
    fn parse(url: &str) -> Result<Target, StoreError> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Target::Postgres(url.to_string()));
        }
        if url == ":memory:" || url == "sqlite::memory:" {
            return Ok(Target::Sqlite(None));
        }
        let path = match url.strip_prefix("sqlite:") {
            // A URL's query (`?mode=…`) is steward's to set.
            Some(rest) => {
                let rest = rest.trim_start_matches("//");
                rest.split('?').next().unwrap_or(rest)
            }
            None if url.contains("://") => return Err(StoreError::BadUrl(url.to_string())),
            None => url,
        };
        if path.is_empty() {
            return Err(StoreError::BadUrl(url.to_string()));
        }
        Ok(Target::Sqlite(Some(std::path::PathBuf::from(path))))
    }
}

impl Store {
    /// Opens (creating it if needed) and migrates the database at `url`: a `sqlite:` URL, a
    /// plain file path, `:memory:` for a private in-memory database, or a `postgres://` URL.
    pub async fn open(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, true).await
    }

    /// Opens an existing database; a path with no database behind it is an error rather
    /// than a new empty database (so a mistyped `--database` cannot verify "nothing").
    pub async fn open_existing(url: &str) -> Result<Store, StoreError> {
        Store::open_with(url, false).await
    }

    async fn open_with(url: &str, create: bool) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        match Target::parse(url)? {
            Target::Postgres(url) => Store::open_postgres(&url).await,
            Target::Sqlite(path) => Store::open_sqlite(path, create).await,
        }
    }

    async fn open_postgres(url: &str) -> Result<Store, StoreError> {
        let writer = AnyConnection::connect(url).await?;
        // A read connection is tried before it is handed out, so a restarted server costs
        // one failed ping rather than a failed read.
        let pool = AnyPoolOptions::new()
            .max_connections(8)
            .min_connections(0)
            .test_before_acquire(true)
            .acquire_timeout(StdDuration::from_secs(10))
            .idle_timeout(Some(StdDuration::from_secs(600)))
            .connect(url)
            .await?;
        let store = Store::new(Backend::Postgres, url, pool, writer, None);
        store.apply_migrations().await?;
        Ok(store)
    }

    async fn open_sqlite(
        path: Option<std::path::PathBuf>,
        create: bool,
    ) -> Result<Store, StoreError> {
        let url = match &path {
            Some(path) => {
                if !create && !path.exists() {
                    return Err(StoreError::NotFound(format!(
                        "there is no database at {}",
                        path.display()
                    )));
                }
                format!(
                    "sqlite:{}?mode={}",
                    url_escape(&path.to_string_lossy()),
                    if create { "rwc" } else { "rw" }
                )
            }
            // One named in-memory database shared by this store's connections only; it
            // lives while one of them is open (the writer keeps one open).
            None => {
                static NEXT: AtomicU64 = AtomicU64::new(0);
                let n = NEXT.fetch_add(1, Ordering::Relaxed);
                format!(
                    "sqlite:file:steward-memory-{}-{n}?mode=memory&cache=shared",
                    std::process::id()
                )
            }
        };
        let memory = path.is_none();
        let migration_lock = path.as_ref().map(|p| {
            let mut name = p.as_os_str().to_owned();
            name.push(".migrate-lock");
            std::path::PathBuf::from(name)
        });
        // Processes opening one new database at once take turns: creating it, switching
        // it to WAL and migrating are not safe to do twice at the same time.
        let turn = match &migration_lock {
            Some(path) => Some(take_turn(path).await?),
            None => None,
        };
        let options = |max: u32| {
            let pool = AnyPoolOptions::new()
                .max_connections(max)
                .test_before_acquire(false)
                .after_connect(move |conn, _| {
                    Box::pin(async move { sqlite_settings(conn, memory).await })
                });
            if memory {
                pool.min_connections(1)
                    .idle_timeout(None)
                    .max_lifetime(None)
            } else {
                pool.min_connections(0)
                    .idle_timeout(Some(StdDuration::from_secs(600)))
                    .max_lifetime(Some(StdDuration::from_secs(3600)))
            }
        };
        let mut writer = AnyConnection::connect(&url).await?;
        sqlite_settings(&mut writer, memory).await?;
        let pool = options(if memory { 1 } else { 4 }).connect(&url).await?;
        let store = Store::new(Backend::Sqlite, &url, pool, writer, migration_lock);
        store.apply_migrations().await?;
        drop(turn);
        Ok(store)
    }

    fn new(
        backend: Backend,
        url: &str,
        pool: AnyPool,
        writer: AnyConnection,
        migration_lock: Option<std::path::PathBuf>,
    ) -> Store {
        Store {
            backend,
            pool,
            writer: Arc::new(Mutex::new(WriterConnection {
                conn: writer,
                used: std::time::Instant::now(),
            })),
            url: url.into(),
            audit_heads: Arc::default(),
            audit_queue: Arc::default(),
            case_queue: Arc::default(),
            outbox_queue: Arc::default(),
            owner: process_name().into(),
            migration_lock,
        }
    }

    /// Applies migrations not yet applied; a no-op on an up-to-date database. Processes
    /// opening one new SQLite database at once take turns (SQLite's migrations are not
    /// safe to run twice at the same time; PostgreSQL's migrator locks the database).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let _turn = match &self.migration_lock {
            Some(path) => Some(take_turn(path).await?),
            None => None,
        };
        self.apply_migrations().await
    }

    async fn apply_migrations(&self) -> Result<(), StoreError> {
        let mut conn = self.writer().await?;
        match self.backend {
            Backend::Sqlite => {
                sqlx::migrate!("./migrations/sqlite")
                    .run(&mut *conn)
                    .await?
            }
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&mut *conn)
                    .await?
            }
        }
        Ok(())
    }

    /// Whether the database answers and accepts writes (for health checks): takes the write
    /// lock and lets it go. A PostgreSQL writer that fails it is replaced by a new
    /// connection, so a restarted server is written to again within a probe.
    pub async fn writable(&self) -> bool {
        let Ok(mut conn) = self.writer().await else {
            return false;
        };
        let ok = match self.begin_write(&mut conn).await {
            Ok(tx) => tx.rollback().await.is_ok(),
            Err(_) => false,
        };
        if !ok
            && self.backend == Backend::Postgres
            && let Ok(fresh) = AnyConnection::connect(&self.url).await
        {
            conn.0.conn = fresh;
        }
        ok
    }

    /// Runs the database's own consistency check: SQLite's `integrity_check`; a PostgreSQL
    /// server checks its pages itself, so there it is whether the server answers.
    pub async fn integrity_ok(&self) -> Result<bool, StoreError> {
        match self.backend {
            Backend::Sqlite => {
                let result: String = sqlx::query_scalar("PRAGMA integrity_check")
                    .fetch_one(&self.pool)
                    .await?;
                Ok(result == "ok")
            }
            Backend::Postgres => {
                let one: i32 = sqlx::query_scalar("SELECT 1").fetch_one(&self.pool).await?;
                Ok(one == 1)
            }
        }
    }

    /// Waits for running statements and closes every connection.
    pub async fn close(&self) {
        self.pool.close().await;
        // The writer closes when the last handle on the store is dropped.
    }

    /// The connection every write goes through. One writer means SQLite never makes two of
    /// this process's writes wait on each other's locks, and the connection's page cache
    /// stays warm; reads use the pool. A PostgreSQL writer idle for a while is pinged
    /// first and replaced when the server no longer knows it (it restarted).
    async fn writer(&self) -> Result<Writer<'_>, StoreError> {
        let mut guard = self.writer.lock().await;
        if self.backend == Backend::Postgres
            && guard.used.elapsed() > WRITER_IDLE_CHECK
            && guard.conn.ping().await.is_err()
        {
            guard.conn = AnyConnection::connect(&self.url).await?;
        }
        guard.used = std::time::Instant::now();
        Ok(Writer(guard))
    }

    /// Starts a transaction that writes: on SQLite it takes the database's write lock at
    /// once (`BEGIN IMMEDIATE`), so a read inside it cannot be outdated by another
    /// process before the write.
    async fn begin_write<'c>(
        &self,
        conn: &'c mut AnyConnection,
    ) -> Result<sqlx::Transaction<'c, Any>, StoreError> {
        Ok(match self.backend {
            Backend::Sqlite => conn.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => conn.begin().await?,
        })
    }
}

/// The writer's connection and when it was last handed out.
#[derive(Debug)]
struct WriterConnection {
    conn: AnyConnection,
    used: std::time::Instant,
}

/// How long a PostgreSQL writer may sit unused before it is pinged before its next write.
const WRITER_IDLE_CHECK: StdDuration = StdDuration::from_secs(1);

/// The writer connection, held: one write at a time.
pub(crate) struct Writer<'a>(tokio::sync::MutexGuard<'a, WriterConnection>);

impl std::ops::Deref for Writer<'_> {
    type Target = AnyConnection;
    fn deref(&self) -> &AnyConnection {
        &self.0.conn
    }
}

impl std::ops::DerefMut for Writer<'_> {
    fn deref_mut(&mut self) -> &mut AnyConnection {
        &mut self.0.conn
    }
}

/// The settings every SQLite connection runs with.
async fn sqlite_settings(conn: &mut AnyConnection, memory: bool) -> Result<(), sqlx::Error> {
    let journal = if memory {
        "PRAGMA journal_mode = MEMORY"
    } else {
        "PRAGMA journal_mode = WAL"
    };
    for pragma in [
        "PRAGMA busy_timeout = 10000",
        journal,
        "PRAGMA synchronous = NORMAL",
        "PRAGMA foreign_keys = ON",
    ] {
        conn.execute(pragma).await?;
    }
    Ok(())
}

/// `rows` groups of `columns` numbered parameters, `($1, $2), ($3, $4)`, for a statement
/// that writes many rows at once (sqlx's query builder numbers no parameters for `Any`).
fn values_list(rows: usize, columns: usize) -> String {
    let mut out = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        out.push_str(if row == 0 { "(" } else { ", (" });
        for column in 0..columns {
            if column > 0 {
                out.push_str(", ");
            }
            out.push('$');
            out.push_str(&(row * columns + column + 1).to_string());
        }
        out.push(')');
    }
    out
}

/// `path` with the characters a SQLite URL gives meaning to escaped.
fn url_escape(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3F"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// `url` as it may be shown or logged: a password in it is replaced by `***`.
pub fn display_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, tail) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:***@{host}{tail}"),
            None => url.to_string(),
        },
        None => url.to_string(),
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

/// A snowflake as the database stores it.
pub(crate) fn sql_id(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))
}

/// A snowflake read back from the database.
pub(crate) fn from_sql_id(id: i64) -> u64 {
    id as u64
}

#[cfg(test)]
pub(crate) mod test_support {
    use super::Store;

    /// A fresh migrated database that lives as long as the guard: in a schema of its own
    /// on the PostgreSQL server `STEWARD_TEST_POSTGRES` names, if set, else a SQLite file
    /// in a temporary directory.
    pub async fn fresh() -> (Store, tempfile::TempDir) {
        match std::env::var("STEWARD_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let store = Store::open(&new_schema(&url).await)
                    .await
                    .expect("store opens");
                (store, dir)
            }
            _ => fresh_sqlite().await,
        }
    }

    /// The URL of a new empty database (on `STEWARD_TEST_POSTGRES`'s server if set) that
    /// lives as long as the guard, for tests that open one database twice.
    pub async fn fresh_url() -> (String, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let url = match std::env::var("STEWARD_TEST_POSTGRES") {
            Ok(url) if !url.is_empty() => new_schema(&url).await,
            _ => dir
                .path()
                .join("steward.db")
                .to_str()
                .expect("UTF-8 path")
                .to_string(),
        };
        (url, dir)
    }

    /// Removes the audit log's trigger `name`, as someone with the database's own
    /// rights could.
    pub async fn drop_trigger(store: &Store, name: &str) {
        let sql = match store.backend {
            super::Backend::Sqlite => format!("DROP TRIGGER {name}"),
            super::Backend::Postgres => format!("DROP TRIGGER {name} ON audit_log"),
        };
        sqlx::query(&sql)
            .execute(&store.pool)
            .await
            .expect("trigger dropped");
    }

    /// A fresh migrated SQLite file in a temporary directory (for what only SQLite has:
    /// files, pragmas, several stores on one file).
    pub async fn fresh_sqlite() -> (Store, tempfile::TempDir) {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("steward.db");
        let store = Store::open(path.to_str().expect("UTF-8 path"))
            .await
            .expect("store opens");
        (store, dir)
    }

    /// Creates an empty schema on the server at `url`; returns a URL whose connections
    /// use it.
    pub async fn new_schema(url: &str) -> String {
        use sqlx::Connection;
        use std::sync::atomic::{AtomicU64, Ordering};
        static NEXT: AtomicU64 = AtomicU64::new(0);
        sqlx::any::install_default_drivers();
        let started = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let name = format!(
            "t_{}_{}_{started}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let mut conn = sqlx::AnyConnection::connect(url)
            .await
            .expect("STEWARD_TEST_POSTGRES is reachable");
        sqlx::query(&format!("CREATE SCHEMA {name}"))
            .execute(&mut conn)
            .await
            .expect("schema created");
        let sep = if url.contains('?') { '&' } else { '?' };
        format!("{url}{sep}options=-c%20search_path%3D{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The text sqlx stores for `value`.
    async fn stored<T>(store: &Store, value: T) -> String
    where
        T: for<'q> sqlx::Encode<'q, sqlx::Any> + sqlx::Type<sqlx::Any> + Send,
    {
        sqlx::query_scalar("SELECT $1")
            .bind(value)
            .fetch_one(&store.pool)
            .await
            .expect("a stored name")
    }

    #[tokio::test]
    async fn the_names_enums_are_stored_under_are_the_names_they_are_shown_and_hashed_under() {
        use audit::Phase;
        use cases::CaseKind;
        use names::StoredName;
        use timers::TimedKind;
        let (store, _dir) = test_support::fresh().await;
        for &kind in CaseKind::ALL.iter() {
            assert_eq!(stored(&store, kind).await, kind.as_str());
        }
        for &phase in <Phase as StoredName>::ALL {
            assert_eq!(stored(&store, phase).await, phase.as_str());
        }
        for &kind in <TimedKind as StoredName>::ALL {
            assert_eq!(stored(&store, kind).await, kind.as_str());
        }
    }

    #[tokio::test]
    async fn opens_migrates_and_reopens() {
        let (store, dir) = test_support::fresh_sqlite().await;
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
        // NORMAL: a commit in WAL mode waits for no flush to disk.
        let sync: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *again.writer().await.unwrap())
            .await
            .unwrap();
        assert_eq!(sync, 1);
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

    #[test]
    fn passwords_in_database_urls_are_never_shown() {
        assert_eq!(
            display_url("postgres://steward:s3cret@db.example:5432/steward?sslmode=require"),
            "postgres://steward:***@db.example:5432/steward?sslmode=require"
        );
        assert_eq!(
            display_url("postgres://steward@db/steward"),
            "postgres://steward@db/steward"
        );
        assert_eq!(display_url("steward.db"), "steward.db");
        assert_eq!(
            Target::parse("postgresql://u@h/d").unwrap(),
            Target::Postgres("postgresql://u@h/d".into())
        );
        assert!(matches!(
            Target::parse("mysql://u@h/d"),
            Err(StoreError::BadUrl(_))
        ));
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
