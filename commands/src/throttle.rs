//! Throttling of identity verification: at most `MAX_FAILURES` guesses of one contact's phone
//! within `WINDOW`; further attempts are refused with `RATE_LIMITED` until the oldest failure
//! leaves the window.
//!
//! An attempt is reserved *before* the phone is checked and released afterwards unless it failed,
//! so parallel guesses cannot all pass a check that counts only finished failures: each one sees
//! at least every reservation committed before its own. Under a burst this errs on the side of
//! refusing. The rows live outside the event log, since a refused command appends nothing.

use std::time::Duration;

use dinghuo_store::Database;
use uuid::Uuid;

use crate::error::CommandError;

pub const MAX_FAILURES: i64 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

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

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// A reserved attempt: keep it with [`Attempt::failed`] or give it back with [`Attempt::release`].
#[must_use]
pub struct Attempt {
    id: String,
}

/// Reserves an attempt for `contact`, or refuses with `RATE_LIMITED` when the reservations and
/// failures within the window already reach the limit.
pub async fn reserve(db: &Database, contact: &str, now_ms: i64) -> Result<Attempt, CommandError> {
    let attempt = Attempt {
        id: Uuid::now_v7().to_string(),
    };
    let insert =
        "INSERT INTO bind_attempts (attempt_id, contact_id, attempted_at_ms) VALUES ($1, $2, $3)";
    let count = "SELECT COUNT(*), MIN(attempted_at_ms) FROM bind_attempts \
                 WHERE contact_id = $1 AND attempted_at_ms > $2";
    let since = now_ms - window_ms();
    let (attempts, oldest): (i64, Option<i64>) = match db {
        Database::Postgres(pool) => {
            sqlx::query(insert)
                .bind(&attempt.id)
                .bind(contact)
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query_as(count)
                .bind(contact)
                .bind(since)
                .fetch_one(pool)
                .await?
        }
        Database::Sqlite(pool) => {
            sqlx::query(insert)
                .bind(&attempt.id)
                .bind(contact)
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query_as(count)
                .bind(contact)
                .bind(since)
                .fetch_one(pool)
                .await?
        }
    };
    if attempts > MAX_FAILURES {
        attempt.release(db).await?;
        let free_at = oldest.unwrap_or(now_ms) + window_ms();
        let retry_after_secs = u64::try_from((free_at - now_ms).max(0) / 1000 + 1).unwrap_or(1);
        return Err(CommandError::RateLimited { retry_after_secs });
    }
    Ok(attempt)
}

impl Attempt {
    /// The attempt guessed wrong: it keeps counting until it leaves the window. Failures that
    /// already left it are forgotten.
    pub async fn failed(
        self,
        db: &Database,
        contact: &str,
        now_ms: i64,
    ) -> Result<(), CommandError> {
        let prune = "DELETE FROM bind_attempts WHERE contact_id = $1 AND attempted_at_ms <= $2";
        let since = now_ms - window_ms();
        match db {
            Database::Postgres(pool) => {
                sqlx::query(prune)
                    .bind(contact)
                    .bind(since)
                    .execute(pool)
                    .await?;
            }
            Database::Sqlite(pool) => {
                sqlx::query(prune)
                    .bind(contact)
                    .bind(since)
                    .execute(pool)
                    .await?;
            }
        }
        Ok(())
    }

    /// The attempt was not a wrong guess (it bound, or was refused for another reason).
    pub async fn release(self, db: &Database) -> Result<(), CommandError> {
        let delete = "DELETE FROM bind_attempts WHERE attempt_id = $1";
        match db {
            Database::Postgres(pool) => {
                sqlx::query(delete).bind(&self.id).execute(pool).await?;
            }
            Database::Sqlite(pool) => {
                sqlx::query(delete).bind(&self.id).execute(pool).await?;
            }
        }
        Ok(())
    }
}
