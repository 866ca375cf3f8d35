//! The projection machinery on both backends: catch-up, rebuild-and-swap, failure.

use dinghuo_commands::{Database, MoneyInput, RepriceProductInput};
use dinghuo_projections::models::ProductsProjection;
use dinghuo_projections::{catch_up, prepare, rebuild, RunnerSettings};
use dinghuo_tests::{on_both_backends, World};

async fn product_rows(db: &Database) -> Vec<(String, String, i64)> {
    let sql = "SELECT product_id, sku, price_minor FROM rm_products ORDER BY product_id";
    match db {
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("read rm_products")
}

on_both_backends! {
    async fn a_caught_up_projection_shows_the_catalog_and_a_rebuild_gives_the_same_rows(test) {
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        commands
            .reprice_product(
                &world.admin_ctx(),
                RepriceProductInput {
                    product_id: world.products[0].to_string(),
                    price: MoneyInput::cny("99.90"),
                },
            )
            .await
            .expect("reprice");
        let projection = ProductsProjection;
        prepare(&test.db, &projection).await.expect("prepare");
        let applied = catch_up(&test.db, &projection, 4).await.expect("catch up");
        assert_eq!(applied as i64, test.event_count().await);

        let incremental = product_rows(&test.db).await;
        assert_eq!(incremental.len(), 3);
        let repriced = incremental
            .iter()
            .find(|(id, _, _)| *id == world.products[0].to_string())
            .expect("the repriced product");
        assert_eq!(repriced.2, 9990);

        let rebuilt_events = rebuild(&test.db, &projection, RunnerSettings::default(), |_| {})
            .await
            .expect("rebuild");
        assert_eq!(rebuilt_events as i64, test.event_count().await);
        assert_eq!(product_rows(&test.db).await, incremental);
        // After the swap the live runner continues where the rebuild stopped: nothing is re-applied.
        assert_eq!(catch_up(&test.db, &projection, 4).await.expect("catch up"), 0);
    }
}
