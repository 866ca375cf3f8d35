//! What a failed or interrupted rebuild leaves behind, its `__next` tables and its
//! `<name>@rebuild` checkpoint, is removed when nobody is rebuilding that projection: by the
//! failed rebuild itself when it still can, at a runner's start ([`crate::prepare`]), and at the
//! next rebuild. A rebuild in progress holds its rebuild lock ([`crate::lock`]), so its tables
//! are never mistaken for leftovers.

use dinghuo_commands::Database;

use crate::checkpoint::{self, rebuild_key};
use crate::error::RunnerError;
use crate::lock::{try_lock_rebuild, RebuildLock};
use crate::projection::{Projection, TableNames};
use crate::sql::Tx;

/// Removes the leftovers of an earlier rebuild of `projection`, unless a rebuild of it is
/// running. Answers whether there were any.
pub async fn clean_up(db: &Database, projection: &dyn Projection) -> Result<bool, RunnerError> {
    if !has_leftovers(db, &[projection]).await? {
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

/// Whether a rebuild checkpoint of any of `projections` is stored: a rebuild creates it with
/// its `__next` tables, in one transaction, and the swap removes both in one.
async fn has_leftovers(
    db: &Database,
    projections: &[&dyn Projection],
) -> Result<bool, RunnerError> {
    let keys: Vec<String> = projections.iter().map(|p| rebuild_key(p.name())).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    Ok(!checkpoint::stored_all(db, &keys).await?.is_empty())
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
