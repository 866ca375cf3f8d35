//! Why a runner, a rebuild or a preparation stopped, and panics in a projection turned into
//! such an error.

use std::panic::AssertUnwindSafe;

use dinghuo_store::feed::FeedError;
use futures::FutureExt;

use crate::projection::ProjectionError;

#[derive(Debug, thiserror::Error)]
pub enum RunnerError {
    #[error(transparent)]
    Feed(#[from] FeedError),
    #[error(transparent)]
    Projection(#[from] ProjectionError),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("{0} is a reactor: its effects happen once, so it is never rebuilt")]
    NotReplayable(String),
    #[error("the projection panicked: {0}")]
    Panicked(String),
    #[error("a rebuild of {0} is already running")]
    RebuildRunning(String),
    #[error(transparent)]
    RebuildLock(#[from] dinghuo_store::lock::RebuildLockError),
}

impl From<RunnerError> for ProjectionError {
    fn from(error: RunnerError) -> Self {
        match error {
            RunnerError::Projection(inner) => inner,
            RunnerError::Database(inner) => Self::Database(inner),
            RunnerError::Feed(FeedError::Database(inner)) => Self::Database(inner),
            RunnerError::Feed(FeedError::Malformed { position, reason }) => Self::Unappliable {
                event_type: "?".into(),
                position,
                reason,
            },
            RunnerError::Panicked(message) => Self::Unappliable {
                event_type: "?".into(),
                position: 0,
                reason: format!("panicked: {message}"),
            },
            RunnerError::NotReplayable(name) => Self::Unappliable {
                event_type: "-".into(),
                position: 0,
                reason: format!("{name} is not replayable"),
            },
            error @ (RunnerError::RebuildRunning(_) | RunnerError::RebuildLock(_)) => {
                Self::Unappliable {
                    event_type: "-".into(),
                    position: 0,
                    reason: error.to_string(),
                }
            }
        }
    }
}

/// Runs `work`, turning a panic in it into [`RunnerError::Panicked`]. A panic in a projection
/// must stop it like an error does, visibly: the transaction is dropped (rolled back) either
/// way, and the caller records the failure.
pub(crate) async fn guard_panics<T, E>(
    work: impl std::future::Future<Output = Result<T, E>>,
) -> Result<T, RunnerError>
where
    RunnerError: From<E>,
{
    match AssertUnwindSafe(work).catch_unwind().await {
        Ok(result) => result.map_err(RunnerError::from),
        Err(panic) => {
            let message = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_owned());
            Err(RunnerError::Panicked(message))
        }
    }
}
