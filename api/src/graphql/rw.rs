//! Read-your-writes: a mutation answers only once the read models it returns have passed its
//! write, bounded by the configured timeout. When the bound is hit (a projection stopped, or
//! runs far behind), when no process runs a projection at all (an API-only node on Postgres
//! whose projection runners are gone: the wait gives up within 250 ms), or when the wait itself
//! fails, the mutation still answers — its write is committed — with what the read model shows,
//! plus a `READ_MODEL_BEHIND` warning in `extensions.warnings`, and the wait is logged.

use async_graphql::Context;
use dinghuo_commands::Written;
use dinghuo_projections::{wait_for_stream_head, wait_for_write, WaitError};

use super::caller;
use super::state::ApiState;
use super::warnings::{Warning, Warnings, READ_MODEL_BEHIND};

/// Waits until `projections` show the caller's latest write to aggregate `aggregate_type`/`id`
/// (the command layer's receipt in `caller.written`), or, when the caller wrote nothing there
/// (an idempotent replay), the latest event of that aggregate.
pub async fn wait(ctx: &Context<'_>, aggregate_type: &str, id: &str, projections: &[&str]) {
    let (caller, state) = caller::of(ctx);
    if let Err(error) = wait_for(state, &caller.written, aggregate_type, id, projections).await {
        tracing::warn!(%error, aggregate_type, id, "read-your-writes wait ended early");
        let projection = error.projection().map(str::to_owned);
        let message = match &error {
            WaitError::NotRunning { projection } => format!(
                "the write is committed, but no process runs the {projection} read model: \
                 what this answer reads from it may be stale"
            ),
            WaitError::TimedOut { projection, .. } => format!(
                "the write is committed, but the {projection} read model had not caught up \
                 within the read-your-writes bound: what this answer reads from it may be stale"
            ),
            WaitError::Database(_) => "the write is committed, but whether the read models \
                 show it could not be checked: what this answer reads from them may be stale"
                .to_owned(),
        };
        Warnings::add(
            ctx,
            Warning {
                code: READ_MODEL_BEHIND,
                message,
                projection,
            },
        );
    }
}

async fn wait_for(
    state: &ApiState,
    written: &Written,
    aggregate_type: &str,
    id: &str,
    projections: &[&str],
) -> Result<(), WaitError> {
    let timeout = state.read_your_writes_timeout;
    match written.head(aggregate_type, id) {
        Some(write) => {
            wait_for_write(state.db(), projections, &write, timeout, &state.progress).await
        }
        None => {
            let (db, progress) = (state.db(), &state.progress);
            wait_for_stream_head(db, projections, aggregate_type, id, timeout, progress).await
        }
    }
}
