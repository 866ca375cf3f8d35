//! Read-your-writes: a mutation answers only once the read models it returns have passed its
//! write, bounded by the configured timeout. When the bound is hit (a projection stopped, or
//! runs far behind), or the wait itself fails, the mutation still answers — its write is
//! committed — with what the read model shows, and the wait is logged.

use dinghuo_commands::Written;
use dinghuo_projections::{wait_for_stream_head, wait_for_write, WaitError};

use super::caller::Caller;
use super::state::ApiState;

/// Waits until `projections` show the caller's latest write to aggregate `aggregate_type`/`id`
/// (the command layer's receipt in `caller.written`), or, when the caller wrote nothing there
/// (an idempotent replay), the latest event of that aggregate.
pub async fn wait(
    state: &ApiState,
    caller: &Caller,
    aggregate_type: &str,
    id: &str,
    projections: &[&str],
) {
    if let Err(error) = wait_for(state, &caller.written, aggregate_type, id, projections).await {
        tracing::warn!(%error, aggregate_type, id, "read-your-writes wait ended early");
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
