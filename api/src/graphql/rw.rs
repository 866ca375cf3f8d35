//! Read-your-writes: a mutation answers only once the read models it returns have passed its
//! write, bounded by the configured timeout. When the bound is hit (a projection stopped, or
//! runs far behind), or the wait itself fails, the mutation still answers — its write is
//! committed — with what the read model shows, and the wait is logged.

use dinghuo_commands::Written;
use dinghuo_projections::{head_of_stream, wait_for_progress, wait_for_write, WaitError};

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
    if let Some(write) = written.head(aggregate_type, id) {
        return wait_for_write(state.db(), projections, &write, timeout, &state.progress).await;
    }
    match head_of_stream(state.db(), aggregate_type, id).await? {
        Some(head) => {
            wait_for_progress(state.db(), projections, head, timeout, &state.progress).await
        }
        None => Ok(()),
    }
}
