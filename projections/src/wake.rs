//! Waking runners when events are committed: an in-process signal from the command layer, and on
//! Postgres `LISTEN dinghuo_events` for commits made by other processes. Polling stays as the
//! fallback, so a lost signal delays a projection by at most one poll interval.

use std::sync::Arc;

use dinghuo_store::Database;
use tokio::sync::watch;

/// The Postgres channel on which the command layer announces commits (sent after commit).
pub const CHANNEL: &str = dinghuo_store::COMMIT_CHANNEL;

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
    /// returned task is aborted. A lost connection is connected again after a backoff (see
    /// [`crate::supervise`]), counted as a restart of the `listener` processor.
    pub fn listen(&self, db: &Database) -> Option<tokio::task::JoinHandle<()>> {
        let pool = db.postgres()?.clone();
        let wakeup = self.clone();
        Some(tokio::spawn(async move {
            // Never stopped but by aborting the task: the sender lives as long as it.
            let (_never, stop) = watch::channel(false);
            let ended = crate::supervise::supervise(
                "listener",
                crate::supervise::Backoff::default(),
                stop,
                || listen_once(&pool, &wakeup),
            )
            .await;
            if let Err(Lost(error)) = ended {
                tracing::error!(%error, "the listener stopped");
            }
        }))
    }
}

/// Any error of the listening connection: it is about that connection, so always worth
/// connecting again.
struct Lost(sqlx::Error);

impl std::fmt::Display for Lost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "listener connection: {}", self.0)
    }
}

impl crate::supervise::Transient for Lost {
    fn is_transient(&self) -> bool {
        true
    }
}

/// Connects, listens, and wakes on each notification until the connection fails.
async fn listen_once(pool: &sqlx::PgPool, wakeup: &Wakeup) -> Result<(), Lost> {
    let result: Result<(), sqlx::Error> = async {
        let mut listener = sqlx::postgres::PgListener::connect_with(pool).await?;
        listener.listen(CHANNEL).await?;
        // Events committed while we were not listening: look for them now.
        wakeup.wake();
        loop {
            listener.recv().await?;
            wakeup.wake();
        }
    }
    .await;
    // Events committed from now until we listen again are found by polling.
    wakeup.wake();
    result.map_err(Lost)
}
