//! Getting a projection's tables ready before a runner applies anything to them.

use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::Tx;
use dinghuo_store::Database;

use crate::checkpoint;
use crate::error::RunnerError;
use crate::projection::{new_generation, Projection, TableNames};
use crate::settings::RunnerSettings;

/// Removes what an interrupted rebuild left behind; creates the live tables and checkpoint of
/// a projection seen for the first time; rebuilds a projection whose schema version changed.
pub async fn prepare(db: &Database, projection: &dyn Projection) -> Result<(), RunnerError> {
    crate::leftovers::clean_up(db, projection).await?;
    let mut tx = Tx::begin(db).await?;
    let version = checkpoint::schema_version(&mut tx, projection.name()).await?;
    match version {
        Some(v) if v == projection.schema_version() => Ok(()),
        Some(_) if !projection.replayable() => {
            // A reactor's tables come from migrations; a new version just continues.
            tx.execute(
                "UPDATE projection_checkpoints SET schema_version = $2 WHERE name = $1",
                &[
                    projection.name().into(),
                    i64::from(projection.schema_version()).into(),
                ],
            )
            .await?;
            tx.commit().await?;
            Ok(())
        }
        Some(_) => {
            drop(tx);
            tracing::info!(projection = projection.name(), "schema changed: rebuilding");
            crate::rebuild::rebuild(db, &[projection], RunnerSettings::default(), |_| {}).await?;
            Ok(())
        }
        None => {
            let names = TableNames::live(&new_generation());
            for table in projection.tables() {
                tx.execute(&format!("DROP TABLE IF EXISTS {}", names.table(table)), &[])
                    .await?;
            }
            let statements = projection.schema(Dialect::of(db), &names);
            for statement in statements.iter().chain(&projection.indexes(&names)) {
                tx.execute(statement, &[]).await?;
            }
            checkpoint::reset(&mut tx, projection.name(), projection.schema_version()).await?;
            tx.commit().await?;
            Ok(())
        }
    }
}
