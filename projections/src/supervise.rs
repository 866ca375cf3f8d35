//! Supervision of the server's long-running processors (the projection runner group, the SMS
//! dispatcher, the `LISTEN` connection): a processor that stops on a transient error (the
//! database restarted, a connection was cut, the pool timed out) is started again after an
//! exponential backoff with full jitter, for as long as the process lives. A processor that
//! stops on a permanent error (a projection that cannot apply an event is recorded as failed by
//! the runner itself) is not restarted: trying again would fail the same way.
//!
//! Each restart is logged (warn) and counted in `/metrics` as
//! `dinghuo_processor_restarts_total{processor}`.

use std::fmt::Display;
use std::future::Future;
use std::time::Duration;

use dinghuo_store::feed::FeedError;
use rand::Rng;
use tokio::sync::watch;
use tokio::time::Instant;

use crate::error::RunnerError;
use crate::projection::ProjectionError;

/// Whether an error is worth trying again after a pause.
pub trait Transient: Display {
    fn is_transient(&self) -> bool;
}

pub use dinghuo_store::transient::is_transient;

impl Transient for sqlx::Error {
    fn is_transient(&self) -> bool {
        is_transient(self)
    }
}

impl Transient for RunnerError {
    fn is_transient(&self) -> bool {
        match self {
            Self::Database(error)
            | Self::Feed(FeedError::Database(error))
            | Self::Projection(ProjectionError::Database(error)) => is_transient(error),
            // A runner whose schema changed waits for a running rebuild to end.
            Self::RebuildRunning(_) => true,
            _ => false,
        }
    }
}

/// Exponential backoff with full jitter: the n-th restart in a row waits a random time between
/// zero and `min(cap, base * 2^n)`.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base: Duration,
    pub cap: Duration,
    /// A run that lasted this long counts as healthy: the next failure starts again from `base`.
    pub reset_after: Duration,
}

impl Default for Backoff {
    /// 100 ms doubling to a 2 s cap: once the database is back, a processor is running again
    /// within 2 s, which leaves room in the 5 s the issue allows to be caught up.
    fn default() -> Self {
        Self {
            base: Duration::from_millis(100),
            cap: Duration::from_secs(2),
            reset_after: Duration::from_secs(10),
        }
    }
}

impl Backoff {
    /// The longest wait before restart number `attempt` (0 for the first).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The wait before restart number `attempt`: uniform in `[0, ceiling(attempt)]`.
    pub fn delay(&self, attempt: u32, rng: &mut impl Rng) -> Duration {
        let ceiling = self.ceiling(attempt);
        Duration::from_micros(rng.gen_range(0..=ceiling.as_micros() as u64))
    }
}

/// Runs the processor `start` makes until it ends by itself or `stop` turns true, starting it
/// again after each transient error. Answers the permanent error that ended it, if any.
pub async fn supervise<F, Fut, E>(
    processor: &'static str,
    backoff: Backoff,
    mut stop: watch::Receiver<bool>,
    mut start: F,
) -> Result<(), E>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), E>>,
    E: Transient,
{
    let mut attempt = 0u32;
    loop {
        let began = Instant::now();
        let error = match start().await {
            Ok(()) => return Ok(()),
            Err(error) if !error.is_transient() => {
                tracing::error!(processor, %error, "processor stopped for good");
                return Err(error);
            }
            Err(error) => error,
        };
        if *stop.borrow() {
            return Ok(());
        }
        if began.elapsed() >= backoff.reset_after {
            attempt = 0;
        }
        let delay = backoff.delay(attempt, &mut rand::thread_rng());
        attempt = attempt.saturating_add(1);
        tracing::warn!(
            processor,
            %error,
            attempt,
            delay_ms = delay.as_millis() as u64,
            "processor stopped on a transient error; restarting"
        );
        metrics::counter!("dinghuo_processor_restarts_total", "processor" => processor)
            .increment(1);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            changed = stop.changed() => {
                if changed.is_err() || *stop.borrow() {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    use rand::SeedableRng;

    use super::*;

    #[derive(Debug)]
    struct Fake(bool);

    impl Display for Fake {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "fake, transient: {}", self.0)
        }
    }

    impl Transient for Fake {
        fn is_transient(&self) -> bool {
            self.0
        }
    }

    fn quick() -> Backoff {
        Backoff {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(4),
            reset_after: Duration::from_secs(60),
        }
    }

    #[test]
    fn the_ceiling_doubles_from_the_base_up_to_the_cap() {
        let backoff = Backoff::default();
        let ceilings: Vec<u128> = (0..8).map(|n| backoff.ceiling(n).as_millis()).collect();
        assert_eq!(ceilings, [100, 200, 400, 800, 1600, 2000, 2000, 2000]);
        assert_eq!(backoff.ceiling(u32::MAX), backoff.cap, "no overflow");
    }

    #[test]
    fn every_delay_is_within_zero_and_the_ceiling_and_they_spread() {
        let backoff = Backoff::default();
        let mut rng = rand::rngs::StdRng::seed_from_u64(16);
        for attempt in 0..12 {
            let delays: Vec<Duration> =
                (0..500).map(|_| backoff.delay(attempt, &mut rng)).collect();
            let ceiling = backoff.ceiling(attempt);
            assert!(delays.iter().all(|delay| *delay <= ceiling));
            // Full jitter: the delays cover the range, not one value.
            assert!(delays.iter().any(|delay| *delay < ceiling / 4), "{attempt}");
            assert!(
                delays.iter().any(|delay| *delay > ceiling * 3 / 4),
                "{attempt}"
            );
        }
    }

    #[test]
    fn database_errors_are_told_apart() {
        let poison = RunnerError::Projection(ProjectionError::Unappliable {
            event_type: "OrderSubmitted".into(),
            position: 7,
            reason: "impossible".into(),
        });
        assert!(!poison.is_transient());
        assert!(RunnerError::Feed(FeedError::Database(sqlx::Error::PoolTimedOut)).is_transient());
    }

    #[tokio::test]
    async fn a_processor_is_restarted_after_transient_errors_until_it_ends() {
        let runs = Arc::new(AtomicU32::new(0));
        let (_stop, stopped) = watch::channel(false);
        let counted = runs.clone();
        let ended = supervise("fake", quick(), stopped, move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                match run {
                    0..=2 => Err(Fake(true)),
                    _ => Ok(()),
                }
            }
        })
        .await;
        assert!(ended.is_ok());
        assert_eq!(runs.load(Ordering::SeqCst), 4, "three restarts");
    }

    #[tokio::test]
    async fn a_processor_is_not_restarted_after_a_permanent_error() {
        let runs = Arc::new(AtomicU32::new(0));
        let (_stop, stopped) = watch::channel(false);
        let counted = runs.clone();
        let ended = supervise("fake", quick(), stopped, move || {
            let run = counted.fetch_add(1, Ordering::SeqCst);
            async move {
                match run {
                    0 => Err(Fake(true)),
                    _ => Err(Fake(false)),
                }
            }
        })
        .await;
        assert!(matches!(ended, Err(Fake(false))));
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_stop_ends_the_wait_between_restarts() {
        let (stop, stopped) = watch::channel(false);
        let slow = Backoff {
            base: Duration::from_secs(3600),
            cap: Duration::from_secs(3600),
            reset_after: Duration::from_secs(3600),
        };
        let supervised = tokio::spawn(supervise("fake", slow, stopped, || async {
            Err::<(), _>(Fake(true))
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
        stop.send(true).expect("the supervisor listens");
        let ended = tokio::time::timeout(Duration::from_secs(5), supervised)
            .await
            .expect("stops promptly")
            .expect("no panic");
        assert!(ended.is_ok());
    }
}
