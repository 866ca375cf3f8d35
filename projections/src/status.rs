//! Where each projection stands: checkpoint, lag behind the log (in events and in seconds), and
//! state. Read by `dinghuo projections status` and, later, by `/readyz` and `/metrics`.

use chrono::Utc;
use dinghuo_store::feed::{count_after, oldest_recorded_after, Checkpoint};
use dinghuo_store::lock;
use dinghuo_store::sql;
use dinghuo_store::Database;

use crate::projection::Projection;

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
    let row: Option<Row> = sql::fetch_all(db, sql, &[name.into()])
        .await?
        .into_iter()
        .next();
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
        oldest_recorded_after(db, checkpoint)
            .await?
            .map(|t| (Utc::now() - t).num_milliseconds() as f64 / 1000.0)
            .unwrap_or(0.0)
            .max(0.0)
    };
    let state = if state == "failed" {
        State::Failed(error.unwrap_or_default())
    } else {
        match lock::is_held(db, name).await? {
            // SQLite has no lock to ask: a healthy projection counts as running.
            None | Some(true) => State::Running,
            Some(false) => State::Idle,
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
