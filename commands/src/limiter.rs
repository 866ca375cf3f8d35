//! The one rate limiter of the platform: attempts counted per subject (a phone, a client
//! address, a contact, …) within a window, in the `auth_attempts` table so that every API node
//! counts the same ones. The write side throttles guesses at a contact's phone with it
//! (`bindContact`); `dinghuo-identity` throttles every sign-in path with it, each subject under
//! its own [`Limit`].
//!
//! An attempt is reserved *before* the secret is checked and given back afterwards unless it
//! failed, so parallel guesses cannot all pass a check that counts only finished failures: each
//! one sees at least every reservation committed before its own. Under a burst this errs on the
//! side of refusing. The rows live outside the event log, since a refused command appends nothing.

use std::time::Duration;

use uuid::Uuid;

use dinghuo_store::sql::{execute, fetch_all};
use dinghuo_store::Database;

/// Guesses at one secret-bearing subject (a phone, a contact) allowed within [`WINDOW`].
pub const MAX_FAILURES: i64 = 5;
/// The window of [`MAX_FAILURES`].
pub const WINDOW: Duration = Duration::from_secs(15 * 60);
/// The longest window a [`Limit`] may have: older attempts are forgotten for every subject.
pub const LONGEST_WINDOW: Duration = Duration::from_secs(60 * 60);

/// Milliseconds since the Unix epoch. A trait so tests can move time.
pub trait Clock: Send + Sync {
    fn now_ms(&self) -> i64;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        chrono::Utc::now().timestamp_millis()
    }
}

/// How many attempts a subject may spend within a window; the next one is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    max: i64,
    window_ms: i64,
}

impl Limit {
    /// `max` attempts within `window`, which is cut to [`LONGEST_WINDOW`] (attempts older than
    /// that are no longer kept).
    pub const fn new(max: i64, window: Duration) -> Self {
        let window = if window.as_secs() > LONGEST_WINDOW.as_secs() {
            LONGEST_WINDOW
        } else {
            window
        };
        Self {
            max,
            window_ms: window.as_secs() as i64 * 1000,
        }
    }

    /// [`MAX_FAILURES`] within [`WINDOW`]: guesses at one phone or one contact's secret.
    pub const GUESSES: Limit = Limit::new(MAX_FAILURES, WINDOW);

    pub fn max(&self) -> i64 {
        self.max
    }

    pub fn window(&self) -> Duration {
        Duration::from_millis(u64::try_from(self.window_ms).unwrap_or(0))
    }
}

/// What attempts are counted against: a namespaced key such as `phone:<fingerprint>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject(String);

impl Subject {
    /// A subject of kind `kind` (`phone`, `addr`, `contact`, …) and key `key`. Kinds keep
    /// subjects of different paths apart: a contact's bind guesses are not its password guesses.
    pub fn new(kind: &str, key: impl std::fmt::Display) -> Self {
        Self(format!("{kind}:{key}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The limiter said no, or could not count.
#[derive(Debug, thiserror::Error)]
pub enum LimitError {
    /// A subject spent its limit: try again after `retry_after_secs`.
    #[error("too many attempts; try again in {retry_after_secs} s")]
    Limited { retry_after_secs: u64 },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

/// Attempts reserved for one request: keep them with [`Reservation::failed`] or give them back
/// with [`Reservation::release`]. Dropped unused (an error on the way), they count as failed:
/// under doubt the limit errs on the side of refusing.
#[must_use]
#[derive(Debug)]
pub struct Reservation {
    attempt_ids: Vec<String>,
}

/// Reserves one attempt per subject at `now_ms`, or refuses with [`LimitError::Limited`] when any
/// subject already spent its limit within its window (a refused attempt does not count).
pub async fn reserve(
    db: &Database,
    subjects: &[(Subject, Limit)],
    now_ms: i64,
) -> Result<Reservation, LimitError> {
    let forget_before = now_ms.saturating_sub(Limit::new(0, LONGEST_WINDOW).window_ms);
    // Attempts that left every window count for nothing: forget them, for every subject.
    execute(
        db,
        "DELETE FROM auth_attempts WHERE attempted_at_ms <= $1",
        &[forget_before.into()],
    )
    .await?;
    let mut reservation = Reservation {
        attempt_ids: Vec::with_capacity(subjects.len()),
    };
    for (subject, _) in subjects {
        let id = Uuid::now_v7().to_string();
        execute(
            db,
            "INSERT INTO auth_attempts (attempt_id, subject, attempted_at_ms) VALUES ($1, $2, $3)",
            &[id.as_str().into(), subject.as_str().into(), now_ms.into()],
        )
        .await?;
        reservation.attempt_ids.push(id);
    }
    // Counted after inserting: of two racing attempts, the later count sees both.
    let mut free_at: Option<i64> = None;
    for (subject, limit) in subjects {
        let since = now_ms.saturating_sub(limit.window_ms);
        let (attempts, oldest) = count(db, subject, since).await?;
        if attempts > limit.max {
            let at = oldest.unwrap_or(now_ms).saturating_add(limit.window_ms);
            free_at = Some(free_at.map_or(at, |other| other.max(at)));
        }
    }
    if let Some(free_at) = free_at {
        reservation.release(db).await?;
        let retry_after_secs = u64::try_from((free_at - now_ms).max(0) / 1000 + 1).unwrap_or(1);
        return Err(LimitError::Limited { retry_after_secs });
    }
    Ok(reservation)
}

impl Reservation {
    /// The attempt failed (a wrong guess, or a request that costs us, such as an SMS): it counts
    /// until it leaves the window.
    pub fn failed(self) {}

    /// The attempt succeeded, or was refused for a reason that is not a guess.
    pub async fn release(self, db: &Database) -> Result<(), sqlx::Error> {
        for id in &self.attempt_ids {
            execute(
                db,
                "DELETE FROM auth_attempts WHERE attempt_id = $1",
                &[id.as_str().into()],
            )
            .await?;
        }
        Ok(())
    }
}

/// The attempts of `subject` after `since`, and the time of the oldest.
async fn count(
    db: &Database,
    subject: &Subject,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let query = "SELECT COUNT(*), MIN(attempted_at_ms) FROM auth_attempts
                  WHERE subject = $1 AND attempted_at_ms > $2";
    let rows: Vec<(i64, Option<i64>)> =
        fetch_all(db, query, &[subject.as_str().into(), since.into()]).await?;
    Ok(rows.into_iter().next().unwrap_or((0, None)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_limit_never_outlives_the_longest_window() {
        assert_eq!(
            Limit::new(3, Duration::from_secs(24 * 3600)).window(),
            LONGEST_WINDOW
        );
        assert_eq!(Limit::GUESSES.window(), WINDOW);
        assert_eq!(Limit::GUESSES.max(), MAX_FAILURES);
    }

    #[test]
    fn subjects_of_different_kinds_never_meet() {
        assert_ne!(Subject::new("bind", "x"), Subject::new("contact", "x"));
    }
}
