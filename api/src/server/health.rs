//! `/healthz`: the process is up. `/readyz`: it can serve — the database answers, every
//! migration is applied, and no projection lags more than the bound. A database error is
//! answered as a generic reason; its text (which names databases, hosts, users) goes only to
//! the log, under the request id.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use dinghuo_projections::{models, State as ProjectionState};
use serde_json::{json, Value};

use super::app_state::AppState;

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(state): State<AppState>) -> (StatusCode, Json<Value>) {
    let db = state.api.db();
    let mut problems = Vec::new();
    if let Err(error) = db.pending_migrations().await.map(|pending| {
        if pending > 0 {
            problems.push(format!("{pending} migration(s) not applied"));
        }
    }) {
        tracing::warn!(%error, "readiness: cannot read the applied migrations");
        problems.push("database unavailable".to_owned());
    }
    let mut projections = Vec::new();
    if problems.is_empty() {
        for projection in models::all() {
            match dinghuo_projections::status(db, projection.as_ref()).await {
                Ok(status) => {
                    if matches!(status.state, ProjectionState::New) {
                        problems.push(format!("projection {} has never run", status.name));
                    }
                    let failed = matches!(status.state, ProjectionState::Failed(_));
                    let behind = status.lag_seconds > state.ready_max_lag_secs
                        || status.lag_events > state.ready_max_lag_events;
                    if failed || behind {
                        problems.push(format!(
                            "projection {} lags {:.1} s, {} events{}",
                            status.name,
                            status.lag_seconds,
                            status.lag_events,
                            if failed { " (failed)" } else { "" }
                        ));
                    }
                    projections.push(json!({
                        "name": status.name,
                        "lagEvents": status.lag_events,
                        "lagSeconds": status.lag_seconds,
                    }));
                }
                Err(error) => {
                    tracing::warn!(%error, projection = projection.name(), "readiness: cannot read a projection's status");
                    problems.push(format!(
                        "projection {}: status unavailable",
                        projection.name()
                    ));
                }
            }
        }
    }
    let code = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body =
        json!({ "ready": problems.is_empty(), "problems": problems, "projections": projections });
    (code, Json(body))
}
