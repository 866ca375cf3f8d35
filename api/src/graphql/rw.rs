//! Read-your-writes: a mutation answers only once the read models it returns have passed its
//! write, bounded by the configured timeout. When the bound is hit (a projection stopped, or
//! runs far behind) the mutation still answers — its write is committed — with what the read
//! model shows, and the wait is logged.

use dinghuo_projections::{head_of_stream, wait_for_progress};

use super::error::ApiError;
use super::state::ApiState;

/// Waits until `projections` show the latest event of aggregate `aggregate_type`/`id`.
pub async fn wait(
    state: &ApiState,
    aggregate_type: &str,
    id: &str,
    projections: &[&str],
) -> Result<(), ApiError> {
    let Some(head) = head_of_stream(state.db(), aggregate_type, id).await? else {
        return Ok(());
    };
    if let Err(error) = wait_for_progress(
        state.db(),
        projections,
        head,
        state.read_your_writes_timeout,
        &state.progress,
    )
    .await
    {
        tracing::warn!(%error, aggregate_type, id, "read-your-writes wait ended at its bound");
    }
    Ok(())
}
