//! Locks across processes, by name. Exactly one process runs a given projection: on Postgres a
//! session-level advisory lock held on a connection of its own for as long as the runner lives. When that process dies its
//! connection closes, the lock is released, and a standby takes over. SQLite is a single-machine
//! backend: one process owns the file, and no lock is taken.
//!
//! A rebuild holds a lock of its own for as long as it runs ([`try_lock_rebuild`]), so that two
//! rebuilds never fill the same `__next` tables and a starting runner knows whether the `__next`
//! tables it finds are a rebuild's work in progress or an interrupted rebuild's leftovers. A
//! rebuild runs in a CLI process beside `serve`, also on SQLite, so there the lock is an OS
//! file lock beside the database file, released by the kernel when its process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

use sqlx::{Connection, PgConnection};

use crate::database::Database;
use crate::private::{private_file, PrivateError};

/// Holds the lock until dropped (dropping closes the connection, which releases it).
pub struct ProjectionLock {
    _connection: Option<PgConnection>,
}

/// A stable 64-bit key for the lock of projection `name` (FNV-1a, so every process agrees).
pub fn lock_key(name: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"dinghuo.projection:".iter().chain(name.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    i64::from_ne_bytes(hash.to_ne_bytes())
}

/// Whether some session holds the lock of projection `name`: `None` on SQLite, which has no
/// such lock to ask. On Postgres read from `pg_locks` on a pooled connection: taking the lock to
/// find out would cost a connection of its own.
pub async fn is_held(db: &Database, name: &str) -> Result<Option<bool>, sqlx::Error> {
    let Database::Postgres(pool) = db else {
        return Ok(None);
    };
    // A bigint advisory key shows in `pg_locks` as its high and low 32 bits, with objsubid 1.
    // Both halves are below 2^32, so they fit an i64 unchanged.
    let key = u64::from_ne_bytes(lock_key(name).to_ne_bytes());
    let (high, low) = ((key >> 32) as i64, (key & 0xffff_ffff) as i64);
    sqlx::query_scalar(
        "SELECT EXISTS (
            SELECT 1 FROM pg_locks
             WHERE locktype = 'advisory' AND granted AND objsubid = 1
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid = $1::bigint::oid AND objid = $2::bigint::oid)",
    )
    .bind(high)
    .bind(low)
    .fetch_one(pool)
    .await
    .map(Some)
}

/// Tries once to take the lock of projection `name`. `Ok(None)`: another process holds it.
pub async fn try_lock(db: &Database, name: &str) -> Result<Option<ProjectionLock>, sqlx::Error> {
    try_lock_all(db, &[name]).await
}

/// Tries once to take the locks of every projection in `names`, all or none, on one connection:
/// a group of projections runs in one process or not at all. `Ok(None)`: another process
/// holds at least one of them.
pub async fn try_lock_all(
    db: &Database,
    names: &[&str],
) -> Result<Option<ProjectionLock>, sqlx::Error> {
    match db {
        Database::Sqlite(_) => Ok(Some(ProjectionLock { _connection: None })),
        Database::Postgres(pool) => {
            let mut connection = pool.acquire().await?.detach();
            let keys: Vec<i64> = names.iter().map(|name| lock_key(name)).collect();
            let taken: i64 = sqlx::query_scalar(
                "SELECT COUNT(*) FILTER (WHERE pg_try_advisory_lock(key))
                   FROM UNNEST($1::bigint[]) AS key",
            )
            .bind(&keys)
            .fetch_one(&mut connection)
            .await?;
            if usize::try_from(taken) == Ok(keys.len()) {
                Ok(Some(ProjectionLock {
                    _connection: Some(connection),
                }))
            } else {
                // Closing the session releases the locks it did take.
                let _ = connection.close().await;
                Ok(None)
            }
        }
    }
}

/// Held while a rebuild runs; released when dropped (or when its process dies).
pub struct RebuildLock {
    _held: RebuildHeld,
}

enum RebuildHeld {
    /// Postgres: the advisory locks of the projections' rebuild keys.
    Advisory { _locks: ProjectionLock },
    /// SQLite: an exclusive lock of the file beside the database (one rebuild at a time: the
    /// database has one writer anyway).
    File { _file: File },
    /// An in-memory SQLite database lives in one process, which orders its own rebuilds.
    InMemory,
}

#[derive(Debug, thiserror::Error)]
pub enum RebuildLockError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the rebuild lock file: {0}")]
    Private(#[from] PrivateError),
    #[error("the rebuild lock file {path}: {source}")]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

/// Tries once to take the rebuild locks named `keys` (one per projection: its rebuild key).
/// `Ok(None)`: a rebuild of one of them is running (on SQLite: any rebuild is running).
pub async fn try_lock_rebuild(
    db: &Database,
    keys: &[&str],
) -> Result<Option<RebuildLock>, RebuildLockError> {
    let held = match db {
        Database::Postgres(_) => try_lock_all(db, keys)
            .await?
            .map(|locks| RebuildHeld::Advisory { _locks: locks }),
        Database::Sqlite(pool) => match rebuild_lock_path(pool.connect_options().get_filename()) {
            None => Some(RebuildHeld::InMemory),
            Some(path) => try_lock_file(&path)?.map(|file| RebuildHeld::File { _file: file }),
        },
    };
    Ok(held.map(|held| RebuildLock { _held: held }))
}

/// `<database file>-rebuild.lock`, beside SQLite's own `-wal` and `-shm`; `None` in memory.
fn rebuild_lock_path(database: &Path) -> Option<PathBuf> {
    let name = database.as_os_str();
    // sqlx names an in-memory database `file:sqlx-in-memory-<n>`.
    if name.is_empty() || name == ":memory:" || database.starts_with("file:") {
        return None;
    }
    let mut path = name.to_owned();
    path.push("-rebuild.lock");
    Some(PathBuf::from(path))
}

fn try_lock_file(path: &Path) -> Result<Option<File>, RebuildLockError> {
    let failed = |source| RebuildLockError::File {
        path: path.to_owned(),
        source,
    };
    // Created 0600 like the database beside it (or tightened, if an earlier run left it open).
    private_file(path)?;
    let file = OpenOptions::new().write(true).open(path).map_err(failed)?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(error)) => Err(failed(error)),
    }
}
