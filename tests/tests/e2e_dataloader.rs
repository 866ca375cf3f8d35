//! No N+1 (issue 4, item 3): a page of orders with each order's partner, contact and lines runs
//! a bounded number of SQL statements, not one per order, because request-scoped DataLoaders
//! fetch each kind of row for many orders at once. SQL
//! statements are counted from sqlx's own `sqlx::query` trace events, in a server that runs no
//! projections of its own (so that nothing else queries meanwhile).
//!
//! Its own test binary: it installs the process-wide tracing subscriber that counts.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use dinghuo_commands::{OrderLineInput, SubmitOrderInput};
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_projections::{catch_up, models, prepare};
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::json;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Counts the statements sqlx runs, as it reports them.
struct CountStatements(Arc<AtomicUsize>);

impl<S: tracing::Subscriber> Layer<S> for CountStatements {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        if event.metadata().target().starts_with("sqlx::query") {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
}

fn statements() -> &'static Arc<AtomicUsize> {
    static COUNT: OnceLock<Arc<AtomicUsize>> = OnceLock::new();
    COUNT.get_or_init(|| {
        let count = Arc::new(AtomicUsize::new(0));
        let subscriber = tracing_subscriber::registry().with(
            CountStatements(count.clone()).with_filter(
                tracing_subscriber::filter::Targets::new()
                    .with_target("sqlx", tracing::Level::TRACE),
            ),
        );
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        count
    })
}

static TURN: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

const PAGE: &str = "query($first: Int!) { orders(first: $first) { edges { node {
    id status partner { name } contact { name } lines { sku quantity }
} } } }";

on_both_backends! {
    async fn a_page_of_orders_with_partner_contact_and_lines_runs_a_bounded_number_of_statements(test) {
        // The count is process-wide: the two backends' tests take turns.
        let _turn = TURN.lock().await;
        let counter = statements();
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        for _ in 0..100 {
            commands
                .submit_order(
                    &world.contact_ctx(),
                    SubmitOrderInput {
                        lines: world
                            .products
                            .iter()
                            .map(|p| OrderLineInput { product_id: p.to_string(), quantity: 1, sku: None })
                            .collect(),
                        note: None,
                    },
                )
                .await
                .expect("submit");
        }
        settle_feed(&test.db).await;
        for projection in models::all_with_key(OutboxKey::generate()) {
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
            catch_up(&test.db, projection.as_ref(), 500).await.expect("catch up");
        }
        let server = TestServer::start(&test.db, &["--no-processors"]).await;
        let admin = server.token(&world.admin);

        // Once before counting: the pool opens its connections (SQLite runs PRAGMAs on each).
        server.ok(Some(&admin), PAGE, json!({"first": 100})).await;
        let mut counts = Vec::new();
        for first in [10, 100] {
            let before = counter.load(Ordering::SeqCst);
            let data = server.ok(Some(&admin), PAGE, json!({"first": first})).await;
            counts.push(counter.load(Ordering::SeqCst) - before);
            let edges = data["orders"]["edges"].as_array().expect("edges");
            assert_eq!(edges.len(), first);
            for edge in edges {
                assert_eq!(edge["node"]["partner"]["name"], "Dealer One");
                assert_eq!(edge["node"]["lines"].as_array().map(Vec::len), Some(3));
                assert!(edge["node"]["contact"]["name"].is_string());
            }
        }
        // One query per order and kind would be 301 for a page of 100. The loaders batch the
        // keys that arrive within their window, so a slow (debug, loaded) machine may split a
        // page into a few batches (eight per loader were seen on a busy 2-core machine): the
        // bound, ten per loader, is far from one per order.
        for (first, count) in [10usize, 100].iter().zip(&counts) {
            assert!(*count <= 1 + 3 * 10, "a page of {first} orders ran {count} statements: {counts:?}");
        }
        server.stop().await;
    }
}
