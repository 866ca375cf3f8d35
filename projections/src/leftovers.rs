//! What a failed or interrupted rebuild leaves behind, its `__next` tables and its
//! `<name>@rebuild` checkpoint, is removed when nobody is rebuilding that projection: by the
//! failed rebuild itself when it still can, at a runner's start ([`crate::prepare`]), and at the
//! next rebuild. A rebuild in progress holds its rebuild lock ([`crate::lock`]), so its tables
//! are never mistaken for leftovers.

use dinghuo_store::lock::RebuildLock;
use dinghuo_store::sql::Tx;
use dinghuo_store::Database;

use crate::checkpoint::try_lock_rebuild;
use crate::checkpoint::{self, rebuild_key};
use crate::error::RunnerError;
use crate::projection::{Projection, TableNames};

/// Removes the leftovers of an earlier rebuild of `projection`, unless a rebuild of it is
/// running. Answers whether there were any.
pub async fn clean_up(db: &Database, projection: &dyn Projection) -> Result<bool, RunnerError> {
    // A rebuild creates its checkpoint with its `__next` tables, in one transaction, and the
    // swap removes both in one: no checkpoint, no leftovers.
    let key = rebuild_key(projection.name());
    if checkpoint::stored_checkpoint(db, &key).await?.is_none() {
        return Ok(false);
    }
    let Some(lock) = try_lock_rebuild(db, &[projection.name()]).await? else {
        return Ok(false); // A rebuild is filling them.
    };
    remove(db, &[projection], &lock).await?;
    tracing::warn!(
        projection = projection.name(),
        "removed the tables and checkpoint an interrupted rebuild left behind"
    );
    Ok(true)
}

/// Drops the `__next` tables and rebuild checkpoints of `projections`; the caller holds their
/// rebuild lock (`_held`), so no rebuild is filling them.
pub(crate) async fn remove(
    db: &Database,
    projections: &[&dyn Projection],
    _held: &RebuildLock,
) -> Result<(), RunnerError> {
    let next = TableNames::next("");
    let mut tx = Tx::begin(db).await?;
    for projection in projections {
        for table in projection.tables() {
            tx.execute(&format!("DROP TABLE IF EXISTS {}", next.table(table)), &[])
                .await?;
        }
        tx.execute(
            "DELETE FROM projection_checkpoints WHERE name = $1",
            &[rebuild_key(projection.name()).as_str().into()],
        )
        .await?;
    }
    tx.commit().await?;
    Ok(())
}
