//! The projection machinery on both backends: catch-up, rebuild-and-swap, failure.

use dinghuo_commands::{MoneyInput, RepriceProductInput};
use dinghuo_projections::models::ProductsProjection;
use dinghuo_projections::{catch_up, prepare, rebuild, RunnerSettings};
use dinghuo_store::Database;
use dinghuo_tests::read_model::settle_feed;
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
        // Other tests' transactions in the shared Postgres cluster may briefly hold the feed back.
        settle_feed(&test.db).await;
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

        let rebuilt_events = rebuild(&test.db, &[&projection], RunnerSettings::default(), |_| {})
            .await
            .expect("rebuild");
        assert_eq!(rebuilt_events as i64, test.event_count().await);
        assert_eq!(product_rows(&test.db).await, incremental);
        // After the swap the live runner continues where the rebuild stopped: nothing is re-applied.
        assert_eq!(catch_up(&test.db, &projection, 4).await.expect("catch up"), 0);
    }
}

/// The products projection, except that it panics on every event.
struct PanickingProducts;

#[async_trait::async_trait]
impl dinghuo_projections::Projection for PanickingProducts {
    fn name(&self) -> &'static str {
        "panicking_products"
    }
    fn schema_version(&self) -> i32 {
        1
    }
    fn tables(&self) -> &'static [&'static str] {
        &["panicking_products"]
    }
    fn schema(
        &self,
        _dialect: dinghuo_store::sql::Dialect,
        names: &dinghuo_projections::TableNames,
    ) -> Vec<String> {
        vec![format!(
            "CREATE TABLE {} (id text PRIMARY KEY)",
            names.table("panicking_products")
        )]
    }
    async fn apply(
        &self,
        _tx: &mut dinghuo_store::sql::Tx,
        _names: &dinghuo_projections::TableNames,
        event: &dinghuo_store::FeedEvent,
    ) -> Result<(), dinghuo_projections::ProjectionError> {
        panic!("cannot fold {}", event.event_type);
    }
}

on_both_backends! {
    async fn a_projection_that_panics_is_stopped_and_shows_as_failed(test) {
        let commands = test.commands();
        World::build(&commands, 1).await;
        // On Postgres the feed holds events back while an older transaction runs anywhere in
        // the cluster (another test's): wait until the world's events can be read.
        settle_feed(&test.db).await;
        prepare(&test.db, &PanickingProducts).await.expect("prepare");
        let error = catch_up(&test.db, &PanickingProducts, 10)
            .await
            .expect_err("a panic must stop the projection");
        assert!(error.to_string().contains("panicked"), "{error}");
        let status = dinghuo_projections::status(&test.db, &PanickingProducts)
            .await
            .expect("status");
        assert!(
            matches!(&status.state, dinghuo_projections::State::Failed(why) if why.contains("cannot fold")),
            "{:?}",
            status.state
        );
        assert_eq!(status.checkpoint, dinghuo_store::Checkpoint::START);
    }

    async fn a_runner_whose_stop_sender_is_gone_stops_instead_of_spinning(test) {
        let (stop, stopped) = tokio::sync::watch::channel(false);
        drop(stop);
        let runner = dinghuo_projections::Runner::new(
            test.db.clone(),
            std::sync::Arc::new(ProductsProjection),
            dinghuo_projections::Wakeup::new(),
        );
        let finished = tokio::time::timeout(std::time::Duration::from_secs(30), runner.run(stopped))
            .await
            .expect("the runner returns once nobody can stop it");
        assert!(finished.is_ok(), "{finished:?}");
    }
}
