//! Where each projection stands: checkpoint, lag behind the log (in events and in seconds), and
//! state. Read by `dinghuo projections status` and, later, by `/readyz` and `/metrics`.

use chrono::{DateTime, Utc};
use dinghuo_store::Database;

use crate::lock;
use crate::projection::Projection;
use dinghuo_store::feed::Checkpoint;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Never started: its tables do not exist yet.
    New,
    /// A process holds its lock and follows the feed (Postgres), or it is healthy (SQLite).
    Running,
    /// Healthy, but no process runs it right now (Postgres only).
    Idle,
    /// Stopped on an event it could not apply; the error says which.
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct ProjectionStatus {
    pub name: String,
    pub checkpoint: Checkpoint,
    pub lag_events: i64,
    pub lag_seconds: f64,
    pub state: State,
}

type Row = (i64, i64, String, Option<String>);

pub async fn status(
    db: &Database,
    projection: &dyn Projection,
) -> Result<ProjectionStatus, sqlx::Error> {
    let name = projection.name();
    let sql = "SELECT tx_id, position, state, error FROM projection_checkpoints WHERE name = $1";
    let row: Option<Row> = match db {
        Database::Postgres(pool) => sqlx::query_as(sql).bind(name).fetch_optional(pool).await?,
        Database::Sqlite(pool) => sqlx::query_as(sql).bind(name).fetch_optional(pool).await?,
    };
    let Some((tx_id, position, state, error)) = row else {
        return Ok(ProjectionStatus {
            name: name.to_owned(),
            checkpoint: Checkpoint::START,
            lag_events: count_after(db, Checkpoint::START).await?,
            lag_seconds: 0.0,
            state: State::New,
        });
    };
    let checkpoint = Checkpoint {
        tx_id: u64::try_from(tx_id).unwrap_or(0),
        position,
    };
    let lag_events = count_after(db, checkpoint).await?;
    let lag_seconds = if lag_events == 0 {
        0.0
    } else {
        oldest_unapplied_age(db, checkpoint).await?
    };
    let state = if state == "failed" {
        State::Failed(error.unwrap_or_default())
    } else {
        match db {
            Database::Sqlite(_) => State::Running,
            Database::Postgres(pool) => {
                if lock::is_held(pool, name).await? {
                    State::Running
                } else {
                    State::Idle
                }
            }
        }
    };
    Ok(ProjectionStatus {
        name: name.to_owned(),
        checkpoint,
        lag_events,
        lag_seconds,
        state,
    })
}

/// Events in the log that a reader at `after` has not yet processed.
async fn count_after(db: &Database, after: Checkpoint) -> Result<i64, sqlx::Error> {
    match db {
        Database::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT COUNT(*) FROM events WHERE (tx_id, position) > ($1::text::xid8, $2)",
            )
            .bind(after.tx_id.to_string())
            .bind(after.position)
            .fetch_one(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_scalar("SELECT COUNT(*) FROM events WHERE position > $1")
                .bind(after.position)
                .fetch_one(pool)
                .await
        }
    }
}

/// Seconds since the oldest event not yet processed was recorded: how stale the read model is.
async fn oldest_unapplied_age(db: &Database, after: Checkpoint) -> Result<f64, sqlx::Error> {
    let oldest: Option<DateTime<Utc>> = match db {
        Database::Postgres(pool) => sqlx::query_scalar(
            "SELECT MIN(recorded_at) FROM events WHERE (tx_id, position) > ($1::text::xid8, $2)",
        )
        .bind(after.tx_id.to_string())
        .bind(after.position)
        .fetch_one(pool)
        .await?,
        Database::Sqlite(pool) => {
            let text: Option<String> =
                sqlx::query_scalar("SELECT MIN(recorded_at) FROM events WHERE position > $1")
                    .bind(after.position)
                    .fetch_one(pool)
                    .await?;
            text.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
                .map(|t| t.with_timezone(&Utc))
        }
    };
    Ok(oldest
        .map(|t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0)
        .unwrap_or(0.0)
        .max(0.0))
}
