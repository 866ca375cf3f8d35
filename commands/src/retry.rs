//! Re-running a command that lost the race for its stream's next sequence number.
//!
//! postgres-es loads an aggregate outside the write transaction and relies on the primary key
//! alone, and cqrs-es never retries: with 16 writers on 10 aggregates 47 % of commands failed.
//! A lost race is harmless to re-run on fresh state (the command is decided again against the
//! events that won), so we try a few times, with exponential backoff and full jitter, before
//! answering `CONFLICT`.

use std::future::Future;
use std::time::Duration;

use rand::Rng;

use crate::error::CommandError;

#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Total tries, the first included. 1 means no retry.
    pub max_attempts: u32,
    /// The pause before the n-th retry is random in `0..=min(max_pause, first_pause × 2^(n-1))`
    /// ("full jitter"): racing writers spread out quickly instead of colliding in step.
    pub first_pause: Duration,
    pub max_pause: Duration,
}

impl Default for RetryPolicy {
    /// Enough for 16 writers hammering one aggregate to all get through (each round one wins);
    /// the worst case waits about a third of a second before answering `CONFLICT`.
    fn default() -> Self {
        Self {
            max_attempts: 10,
            first_pause: Duration::from_millis(2),
            max_pause: Duration::from_millis(64),
        }
    }
}

impl RetryPolicy {
    pub const NEVER: Self = Self {
        max_attempts: 1,
        first_pause: Duration::ZERO,
        max_pause: Duration::ZERO,
    };

    fn pause_before_retry(&self, retry: u32) -> Duration {
        let exponential = self.first_pause.saturating_mul(
            1u32.checked_shl(retry.saturating_sub(1))
                .unwrap_or(u32::MAX),
        );
        let bound = exponential.min(self.max_pause);
        rand::thread_rng().gen_range(Duration::ZERO..=bound)
    }

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
                    let pause = self.pause_before_retry(tries);
                    tracing::debug!(tries, ?pause, "conflict: retrying on fresh state");
                    tokio::time::sleep(pause).await;
                }
                other => return other,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pauses_grow_exponentially_up_to_the_cap() {
        let policy = RetryPolicy::default();
        for retry in 1..=20 {
            let bound = policy
                .first_pause
                .saturating_mul(1u32.checked_shl(retry - 1).unwrap_or(u32::MAX))
                .min(policy.max_pause);
            assert!(policy.pause_before_retry(retry) <= bound);
        }
    }

    #[tokio::test]
    async fn a_conflict_is_retried_until_the_attempts_run_out() {
        let policy = RetryPolicy {
            max_attempts: 3,
            first_pause: Duration::ZERO,
            max_pause: Duration::ZERO,
        };
        let mut calls = 0;
        let result: Result<(), _> = policy
            .run(|| {
                calls += 1;
                async { Err(CommandError::Conflict) }
            })
            .await;
        assert!(matches!(result, Err(CommandError::Conflict)));
        assert_eq!(calls, 3);
    }

    #[tokio::test]
    async fn a_refusal_is_never_retried() {
        let mut calls = 0;
        let result: Result<(), _> = RetryPolicy::default()
            .run(|| {
                calls += 1;
                async { Err(CommandError::forbidden()) }
            })
            .await;
        assert!(matches!(result, Err(CommandError::Refused(_))));
        assert_eq!(calls, 1);
    }
}
