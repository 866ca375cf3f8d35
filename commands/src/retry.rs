//! Re-running a command that lost the race for its stream's next sequence number.
//!
//! postgres-es loads an aggregate outside the write transaction and relies on the primary key
//! alone, and cqrs-es never retries: with 16 writers on 10 aggregates 47 % of commands failed.
//! A lost race is harmless to re-run on fresh state (the command is decided again against the
//! events that won), so we try a few times with jitter before answering `CONFLICT`.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::CommandError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total tries, the first included. 1 means no retry.
    pub max_attempts: u32,
    /// Upper bound of the random pause before the n-th retry is n × this.
    pub max_jitter: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            max_jitter: Duration::from_millis(4),
        }
    }
}

impl RetryPolicy {
    pub const NEVER: Self = Self {
        max_attempts: 1,
        max_jitter: Duration::ZERO,
    };

    pub async fn run<T, F, Fut>(&self, mut attempt: F) -> Result<T, CommandError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, CommandError>>,
    {
        let mut tries = 0;
        loop {
            tries += 1;
            match attempt().await {
                Err(CommandError::Conflict) if tries < self.max_attempts => {
                    let bound = self.max_jitter.saturating_mul(tries);
                    let pause = rand::thread_rng().gen_range(Duration::ZERO..=bound);
                    tracing::debug!(tries, ?pause, "conflict: retrying on fresh state");
                    tokio::time::sleep(pause).await;
                }
                other => return other,
            }
        }
    }
}
