//! The database: Postgres or SQLite, chosen by the URL. Everything dialect-specific about
//! connecting and migrating lives here.

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

use crate::private::{self, PrivateError};
use crate::sqlite_busy;

/// Connection settings, from flags or `DINGHUO_*` environment variables (see the api crate).
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// `postgres://…` or `sqlite://…`. `None`: a SQLite file in `data_dir`.
    pub url: Option<String>,
    pub data_dir: PathBuf,
    /// Pool size. About 16 suits 16 concurrent clients on 2 cores (DESIGN §3).
    pub max_connections: u32,
    /// SQLite durability. `FULL` (the default) makes an acknowledged order survive a power cut.
    pub sqlite_synchronous: SqliteDurability,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SqliteDurability {
    #[default]
    Full,
    Normal,
}

impl FromStr for SqliteDurability {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "full" => Ok(Self::Full),
            "normal" => Ok(Self::Normal),
            _ => Err(format!("expected full or normal, got {s}")),
        }
    }
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: None,
            data_dir: PathBuf::from("./data"),
            max_connections: 16,
            sqlite_synchronous: SqliteDurability::Full,
        }
    }
}

impl DatabaseSettings {
    /// The URL in effect: the configured one, or the default SQLite file in the data directory.
    pub fn effective_url(&self) -> String {
        match &self.url {
            Some(url) => url.clone(),
            None => default_sqlite_url(&self.data_dir),
        }
    }
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("dinghuo.db").display())
}

/// Makes the SQLite file at `path` private before SQLite opens it (see [`crate::private`]).
/// The data directory (the default database's) is made private too; the directory of a
/// database named by URL is created private when missing, and otherwise left alone: it may be
/// shared, and the files in it are private anyway.
fn private_database_file(path: &Path, settings: &DatabaseSettings) -> Result<(), PrivateError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if settings.url.is_none() {
            private::private_dir(dir)?;
        } else {
            private::create_dir_all(dir)?;
        }
    }
    private::private_sqlite_files(path)
}

#[derive(Debug, thiserror::Error)]
pub enum DatabaseError {
    #[error("unsupported database URL {0:?}: expected postgres://… or sqlite://…")]
    UnsupportedUrl(String),
    #[error("the database's files: {0}")]
    Files(#[from] PrivateError),
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("database error: {0}")]
    Query(#[from] sqlx::Error),
}

/// A pool on one of the two backends. Cheap to clone.
#[derive(Debug, Clone)]
pub enum Database {
    Postgres(PgPool),
    Sqlite(SqlitePool),
}

static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/postgres");
static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("../migrations/sqlite");

impl Database {
    /// Connects (creating the SQLite file and its directory if absent, private to the service's
    /// user: see [`crate::private`]). Does not migrate.
    pub async fn connect(settings: &DatabaseSettings) -> Result<Self, DatabaseError> {
        let url = settings.effective_url();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // Every statement is planned for its own arguments, never from a cached generic
            // plan: a generic plan made while a table was small (a fresh database) is a
            // sequential scan, and each pooled connection kept it while the table grew, until
            // the next ANALYZE. Measured with `http_load` (issue 17, item 4): the batched stream
            // read of every command took 214 buffers and 0.55 ms at about 10,000 events, and 13
            // buffers and 0.05 ms planned each time; Postgres CPU per order fell from 1.4 to
            // 0.73 ms.
            let options = PgConnectOptions::from_str(&url)
                .map_err(DatabaseError::Connect)?
                .options([("plan_cache_mode", "force_custom_plan")]);
            let pool = PgPoolOptions::new()
                .max_connections(settings.max_connections)
                // postgres-es acquires twice per command; a ping on each acquire cost 11-18 %.
                .test_before_acquire(false)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await
                .map_err(DatabaseError::Connect)?;
            Ok(Self::Postgres(pool))
        } else if let Some(path) = url.strip_prefix("sqlite://") {
            let (path, query) = path.split_once('?').unwrap_or((path, ""));
            if path != ":memory:" && !query.split('&').any(|part| part == "mode=memory") {
                private_database_file(Path::new(path), settings)?;
            }
            let synchronous = match settings.sqlite_synchronous {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            };
            let options = SqliteConnectOptions::from_str(&url)
                .map_err(DatabaseError::Connect)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(synchronous)
                .busy_timeout(sqlite_busy::BUSY_TIMEOUT)
                .foreign_keys(true)
                // A row rewritten or deleted (a sent message's secret erased) leaves zeros in
                // its page instead of its old bytes. FAST: only where that costs no extra I/O.
                .pragma("secure_delete", "FAST");
            let pool = SqlitePoolOptions::new()
                .max_connections(settings.max_connections)
                .test_before_acquire(false)
                // Waiting for the write lock, try again every millisecond or two.
                .after_connect(|connection, _| Box::pin(sqlite_busy::install(connection)))
                .connect_with(options)
                .await
                .map_err(DatabaseError::Connect)?;
            Ok(Self::Sqlite(pool))
        } else {
            Err(DatabaseError::UnsupportedUrl(url))
        }
    }

    /// Applies the embedded migrations of this backend; a no-op when they are all applied.
    pub async fn migrate(&self) -> Result<(), DatabaseError> {
        match self {
            Self::Postgres(pool) => POSTGRES_MIGRATIONS.run(pool).await?,
            Self::Sqlite(pool) => SQLITE_MIGRATIONS.run(pool).await?,
        }
        Ok(())
    }

    /// How many embedded migrations the database has not applied (successfully): 0 when the
    /// schema is current. Also answers whether the database is reachable.
    pub async fn pending_migrations(&self) -> Result<usize, sqlx::Error> {
        let sql = "SELECT version FROM _sqlx_migrations WHERE success";
        let (applied, embedded): (Vec<i64>, &sqlx::migrate::Migrator) = match self {
            Self::Postgres(pool) => (
                sqlx::query_scalar(sql).fetch_all(pool).await?,
                &POSTGRES_MIGRATIONS,
            ),
            Self::Sqlite(pool) => (
                sqlx::query_scalar(sql).fetch_all(pool).await?,
                &SQLITE_MIGRATIONS,
            ),
        };
        Ok(embedded
            .iter()
            .filter(|migration| !applied.contains(&migration.version))
            .count())
    }

    /// The pool, on Postgres: for what only Postgres has (`LISTEN`/`NOTIFY`, advisory locks),
    /// which SQLite deployments do without.
    pub fn postgres(&self) -> Option<&PgPool> {
        match self {
            Self::Postgres(pool) => Some(pool),
            Self::Sqlite(_) => None,
        }
    }

    /// Empties SQLite's write-ahead log into the database file, so that the log's frames no
    /// longer hold pages as they were (an erased secret's old bytes). Answers whether a reader
    /// kept it from being emptied; Postgres has nothing to do.
    pub async fn truncate_write_ahead_log(&self) -> Result<bool, sqlx::Error> {
        let Self::Sqlite(pool) = self else {
            return Ok(true);
        };
        let busy: i64 = sqlx::query_scalar("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(pool)
            .await?;
        Ok(busy == 0)
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Postgres(_) => "postgres",
            Self::Sqlite(_) => "sqlite",
        }
    }

    pub async fn close(&self) {
        match self {
            Self::Postgres(pool) => pool.close().await,
            Self::Sqlite(pool) => pool.close().await,
        }
    }
}
