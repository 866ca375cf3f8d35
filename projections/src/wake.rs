//! Waking runners when events are committed: an in-process signal from the command layer, and on
//! Postgres `LISTEN dinghuo_events` for commits made by other processes. Polling stays as the
//! fallback, so a lost signal delays a projection by at most one poll interval.

use std::sync::Arc;

use dinghuo_commands::Database;
use tokio::sync::watch;

/// The Postgres channel on which the command layer announces commits (sent after commit).
pub const CHANNEL: &str = dinghuo_commands::COMMIT_CHANNEL;

/// A counter of commits seen; runners wait for it to change. Cheap to clone.
#[derive(Clone)]
pub struct Wakeup {
    sender: Arc<watch::Sender<u64>>,
}

impl Default for Wakeup {
    fn default() -> Self {
        Self::new()
    }
}

impl Wakeup {
    pub fn new() -> Self {
        Self {
            sender: Arc::new(watch::channel(0).0),
        }
    }

    /// Signals that new events were committed.
    pub fn wake(&self) {
        self.sender
            .send_modify(|count| *count = count.wrapping_add(1));
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.sender.subscribe()
    }

    /// On Postgres, forwards `NOTIFY dinghuo_events` from any process to this wakeup until the
    /// returned task is aborted. Reconnects after a lost connection.
    pub fn listen(&self, db: &Database) -> Option<tokio::task::JoinHandle<()>> {
        let Database::Postgres(pool) = db else {
            return None;
        };
        let pool = pool.clone();
        let wakeup = self.clone();
        Some(tokio::spawn(async move {
            loop {
                match sqlx::postgres::PgListener::connect_with(&pool).await {
                    Ok(mut listener) => {
                        if let Err(error) = listener.listen(CHANNEL).await {
                            tracing::warn!(%error, "cannot LISTEN; retrying");
                        } else {
                            while listener.recv().await.is_ok() {
                                wakeup.wake();
                            }
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot connect the listener; retrying"),
                }
                // Events committed while we were not listening are found by polling.
                wakeup.wake();
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }))
    }
}
