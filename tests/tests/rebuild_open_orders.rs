//! A rebuild of `orders` keeps unfinished orders in memory across pages and writes the oldest
//! early when there are too many; a later event for such an order updates the stored row. With
//! a bound of zero or a few orders, and pages of one or a few events, almost every order takes
//! that path, and the rebuilt tables must still equal what incremental processing built.

use async_trait::async_trait;
use dinghuo_projections::models::OrdersProjection;
use dinghuo_projections::projection::RebuildFold;
use dinghuo_projections::{
    catch_up, prepare, rebuild, Projection, ProjectionError, RunnerSettings, TableNames,
};
use dinghuo_store::sql::{Dialect, Tx};
use dinghuo_store::FeedEvent;
use dinghuo_tests::history::History;
use dinghuo_tests::on_both_backends;
use dinghuo_tests::read_model::{dump, settle_feed};

/// The orders projection, except that a rebuild keeps at most `open_orders` orders in memory.
struct SmallMemoryOrders {
    open_orders: usize,
}

#[async_trait]
impl Projection for SmallMemoryOrders {
    fn name(&self) -> &'static str {
        OrdersProjection.name()
    }

    fn schema_version(&self) -> i32 {
        OrdersProjection.schema_version()
    }

    fn tables(&self) -> &'static [&'static str] {
        OrdersProjection.tables()
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        OrdersProjection.schema(dialect, names)
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        OrdersProjection.indexes(names)
    }

    fn rebuild_fold(&self) -> Option<Box<dyn RebuildFold>> {
        Some(OrdersProjection::rebuild_fold_keeping(self.open_orders))
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        OrdersProjection.apply(tx, names, event).await
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        OrdersProjection.apply_batch(tx, names, events).await
    }

    async fn finish_rebuild(&self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        OrdersProjection.finish_rebuild(tx, names).await
    }
}

on_both_backends! {
    async fn orders_written_early_by_a_rebuild_still_get_their_later_events(test) {
        let commands = test.commands();
        let mut history = History::start(&commands, 20_261_126).await;
        history.run_every_kind(&commands).await;
        history.run(&commands, 200).await;
        settle_feed(&test.db).await;
        prepare(&test.db, &OrdersProjection).await.expect("prepare");
        catch_up(&test.db, &OrdersProjection, 7).await.expect("catch up");
        let incremental = dump(&test.db, &OrdersProjection).await;
        let orders = &incremental.tables[0];
        assert!(
            orders.rows.iter().any(|row| row.contains("'RECEIVED'"))
                && orders.rows.iter().any(|row| row.contains("'SHIPPED'")),
            "the history should leave orders both finished and open: {:?}",
            orders.rows
        );

        for (open_orders, page) in [(0, 1), (1, 1), (2, 5), (3, 17)] {
            let projection = SmallMemoryOrders { open_orders };
            let settings = RunnerSettings {
                rebuild_batch_size: page,
                ..RunnerSettings::default()
            };
            rebuild(&test.db, &[&projection], settings, |_| {})
                .await
                .expect("rebuild");
            let rebuilt = dump(&test.db, &OrdersProjection).await;
            if let Some(difference) = incremental.difference(&rebuilt) {
                panic!(
                    "keeping {open_orders} open orders, pages of {page}: the rebuild differs \
                     from incremental processing:\n{difference}"
                );
            }
        }
    }
}
