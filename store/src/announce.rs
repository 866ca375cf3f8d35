//! Announcing commits to projection runners in other processes (Postgres `NOTIFY`), coalesced:
//! a burst of commits costs one `NOTIFY`, not one per command, and never delays a command.
//! Runners also poll, so a lost announcement only delays them by a poll interval.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::Notify;

use crate::database::Database;

/// The Postgres channel on which commits are announced to other processes.
pub const COMMIT_CHANNEL: &str = "dinghuo_events";

/// The least time between two `NOTIFY`s. Under load one `NOTIFY` then stands for every commit
/// of its interval instead of one or two, each a round trip and a wake-up of every listener;
/// a runner in another process learns of a commit at most this much later. Runners in this
/// process are woken directly, not through Postgres.
const SPACING: Duration = Duration::from_millis(5);

pub struct CommitAnnouncer {
    pool: PgPool,
    /// Started on first use, so that building `Commands` needs no runtime.
    pending: OnceLock<Arc<Notify>>,
}

impl CommitAnnouncer {
    /// The announcer of `db`'s commits, on Postgres; on SQLite, where every runner shares the
    /// writer's process or polls, none.
    pub fn for_database(db: &Database) -> Option<Self> {
        db.postgres().cloned().map(Self::new)
    }

    pub fn new(pool: PgPool) -> Self {
        Self {
            pool,
            pending: OnceLock::new(),
        }
    }

    /// Marks that something was committed; the background task sends one `NOTIFY` for all
    /// marks made while it was busy sending the previous one.
    pub fn announce(&self) {
        self.pending
            .get_or_init(|| {
                let pending = Arc::new(Notify::new());
                tokio::spawn(send_loop(self.pool.clone(), Arc::downgrade(&pending)));
                pending
            })
            .notify_one();
    }
}

async fn send_loop(pool: PgPool, pending: std::sync::Weak<Notify>) {
    // Ends when the announcer (and so the `Commands`) is dropped.
    while let Some(signal) = pending.upgrade() {
        signal.notified().await;
        drop(signal);
        if let Err(error) = sqlx::query("SELECT pg_notify($1, '')")
            .bind(COMMIT_CHANNEL)
            .execute(&pool)
            .await
        {
            tracing::debug!(%error, "NOTIFY after commit failed; runners will poll");
        }
        tokio::time::sleep(SPACING).await;
    }
}
