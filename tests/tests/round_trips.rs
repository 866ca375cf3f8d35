//! How many statements one `submitOrder` sends (issue 17, item 4): two reads — the contact's
//! stream (to find its partner), then the order's own stream with every other stream its
//! decision reads — and the append's one insert. It used to read eight times: the contact
//! twice, the order, the tenant, the partner and each product.
//!
//! Counted from sqlx's own statement log (target `sqlx::query`, one event per statement),
//! captured by a subscriber for the whole process: this file holds this one test.

use std::sync::OnceLock;

use dinghuo_commands::SubmitOrderInput;
use dinghuo_tests::logs::Captured;
use dinghuo_tests::submit_load::lines;
use dinghuo_tests::{Backend, TestDb, World};

const ORDERS: usize = 5;

/// Every statement sqlx sends from now on, as a log line.
fn statements() -> &'static Captured {
    static CAPTURED: OnceLock<Captured> = OnceLock::new();
    CAPTURED.get_or_init(|| {
        let captured = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_writer(captured.clone())
            .with_ansi(false)
            .with_env_filter("sqlx::query=trace")
            .finish();
        tracing::subscriber::set_global_default(subscriber).expect("the only subscriber");
        captured
    })
}

/// `(reads, inserts)` among the statements logged in `text`.
fn count(text: &str) -> (usize, usize) {
    let kind = |prefix: &str| {
        text.lines()
            .filter(|line| line.contains("sqlx::query"))
            .filter(|line| line.contains(&format!("summary=\"{prefix}")))
            .count()
    };
    (kind("SELECT"), kind("INSERT"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submission_reads_twice_and_inserts_once_on_both_backends() {
    let captured = statements();
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let Some(test) = TestDb::new(backend).await else {
            continue;
        };
        let commands = test.commands().without_postgres_notify();
        let world = World::build(&commands, 3).await;
        let before = captured.text().len();
        for _ in 0..ORDERS {
            let input = SubmitOrderInput {
                lines: lines(&world),
                note: None,
            };
            commands
                .submit_order(&world.contact_ctx(), input)
                .await
                .expect("an order");
        }
        let text = captured.text();
        let (reads, inserts) = count(&text[before..]);
        assert_eq!(
            (reads, inserts),
            (2 * ORDERS, ORDERS),
            "{backend:?}: statements of {ORDERS} submissions"
        );
    }
}
