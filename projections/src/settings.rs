//! How runners and rebuilds pace themselves.

use std::time::Duration;

use dinghuo_store::sql::Dialect;
use dinghuo_store::Database;

/// How a runner paces itself.
#[derive(Debug, Clone, Copy)]
pub struct RunnerSettings {
    /// Events per transaction.
    pub batch_size: u32,
    /// Events per transaction of a rebuild: larger, since nobody reads the tables it fills and
    /// a projection folds a batch in memory before writing it.
    pub rebuild_batch_size: u32,
    /// The longest a caught-up runner sleeps without a wake-up signal.
    pub poll_interval: Duration,
    /// How often a standby tries to take over the lock.
    pub standby_interval: Duration,
    /// How long a runner woken by a commit waits for more commits before reading the feed.
    /// Every mutation's read-your-writes wait includes it; see [`RunnerSettings::for_database`].
    pub gather: Duration,
}

impl Default for RunnerSettings {
    fn default() -> Self {
        Self {
            batch_size: 500,
            rebuild_batch_size: 5_000,
            poll_interval: Duration::from_millis(500),
            standby_interval: Duration::from_secs(1),
            gather: Duration::from_millis(5),
        }
    }
}

impl RunnerSettings {
    /// The defaults, with the `gather` that suits the backend (measured in
    /// `docs/performance.md`). On Postgres 1 ms: under load the commits made while a page is
    /// applied make the next page anyway, and a shorter wait answers mutations sooner. On SQLite
    /// 5 ms: each page takes the database's only write lock, and more, smaller pages leave
    /// the commands waiting for it.
    pub fn for_database(db: &Database) -> Self {
        let gather = if Dialect::of(db).single_writer() {
            Duration::from_millis(5)
        } else {
            Duration::from_millis(1)
        };
        Self {
            gather,
            ..Self::default()
        }
    }
}
