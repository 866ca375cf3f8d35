//! Throttling of identity verification: after `MAX_FAILURES` failed bindings of one contact
//! within `WINDOW`, further attempts are refused with `RATE_LIMITED` until the oldest failure
//! leaves the window. Failures are rows outside the event log (a refusal appends no event).

use std::time::Duration;

use crate::db::Database;
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

/// Refuses with `RATE_LIMITED` when the contact already failed too often within the window.
pub async fn check(db: &Database, contact: &str, now_ms: i64) -> Result<(), CommandError> {
    let since = now_ms - window_ms();
    let sql = "SELECT COUNT(*), MIN(failed_at_ms) FROM bind_attempts \
               WHERE contact_id = $1 AND failed_at_ms > $2";
    let (failures, oldest): (i64, Option<i64>) = match db {
        Database::Postgres(pool) => {
            sqlx::query_as(sql)
                .bind(contact)
                .bind(since)
                .fetch_one(pool)
                .await?
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(sql)
                .bind(contact)
                .bind(since)
                .fetch_one(pool)
                .await?
        }
    };
    if failures >= MAX_FAILURES {
        let free_at = oldest.unwrap_or(now_ms) + window_ms();
        let retry_after_secs = u64::try_from((free_at - now_ms).max(0) / 1000 + 1).unwrap_or(1);
        return Err(CommandError::RateLimited { retry_after_secs });
    }
    Ok(())
}

/// Counts one failed attempt, and forgets failures that left the window.
pub async fn record_failure(db: &Database, contact: &str, now_ms: i64) -> Result<(), CommandError> {
    let insert = "INSERT INTO bind_attempts (contact_id, failed_at_ms) VALUES ($1, $2)";
    let prune = "DELETE FROM bind_attempts WHERE contact_id = $1 AND failed_at_ms <= $2";
    let since = now_ms - window_ms();
    match db {
        Database::Postgres(pool) => {
            sqlx::query(insert)
                .bind(contact)
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query(prune)
                .bind(contact)
                .bind(since)
                .execute(pool)
                .await?;
        }
        Database::Sqlite(pool) => {
            sqlx::query(insert)
                .bind(contact)
                .bind(now_ms)
                .execute(pool)
                .await?;
            sqlx::query(prune)
                .bind(contact)
                .bind(since)
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}
