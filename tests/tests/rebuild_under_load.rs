//! `dinghuo projections rebuild --all` while `serve` takes 16-client load (issue 16, item 4):
//! the rebuild succeeds, no client's order is refused (on SQLite, above all: not for a lock), no
//! acknowledged order is read back as a silent `null`, and afterwards every read model equals a
//! rebuild from the log and no rebuild table is left.
//!
//! The rebuild runs on a pool of its own, as the CLI's process would: on SQLite its connections
//! compete for the one write lock with the server's exactly as another process's do.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use dinghuo_commands::{Actor, Role};
use dinghuo_projections::{models, rebuild, wait_for, Projection, RunnerSettings};
use dinghuo_store::{Database, DatabaseSettings};
use dinghuo_tests::faults::clients::{Client, Ledger};
use dinghuo_tests::faults::{Load, CLIENTS};
use dinghuo_tests::generated_log::{self, DEFAULT_SEED};
use dinghuo_tests::on_both_backends;
use dinghuo_tests::read_model::{
    dump, leftover_rebuild_tables, rebuild_differs, replayable_projections, settle_feed,
};
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{TestDb, World};
use tokio::time::Instant;
use uuid::Uuid;

/// The log under the load: large enough that the rebuild lasts while the clients submit.
const EVENTS: u64 = 30_000;

/// How long the projections may take to apply the log (a debug build applying 30,000 events).
const CATCH_UP: Duration = Duration::from_secs(300);

async fn caught_up(db: &Database) {
    let head = settle_feed(db).await;
    let names: Vec<&str> = models::all().iter().map(|p| p.name()).collect();
    wait_for(db, &names, head, CATCH_UP)
        .await
        .expect("the projections apply the whole log");
}

async fn rebuild_all_under_load(test: TestDb) {
    generated_log::load(&test.db, EVENTS, DEFAULT_SEED).await;
    let commands = test.commands();
    let world = World::build(&commands, 1).await;
    let server = Arc::new(TestServer::start(&test.db, &[]).await);
    let admin = world.admin_ctx();
    let ledger: Arc<Mutex<Ledger>> = Arc::default();
    let run = Uuid::now_v7().simple().to_string();
    let mut clients = Vec::with_capacity(CLIENTS);
    for n in 0..CLIENTS {
        let phone = format!("1390014{n:04}");
        let contact =
            World::add_bound_contact(&commands, &admin, world.tenant, world.partner, &phone).await;
        clients.push(Client {
            server: server.clone(),
            token: server.token(&Actor::in_tenant(
                contact.as_uuid(),
                Role::Contact,
                world.tenant,
            )),
            product: world.products[0].to_string(),
            name: format!("{run}-client{n}"),
            ledger: ledger.clone(),
        });
    }
    caught_up(&test.db).await;

    let load = Load::start(clients, ledger);
    // The CLI's process: a pool of its own over the same database.
    let cli = Database::connect(&DatabaseSettings {
        url: Some(test.url.clone()),
        ..DatabaseSettings::default()
    })
    .await
    .expect("the CLI connects");
    let projections = replayable_projections();
    let projections: Vec<&dyn Projection> = projections.iter().map(AsRef::as_ref).collect();
    let started = Instant::now();
    let rebuilt = rebuild(&cli, &projections, RunnerSettings::default(), |_| {}).await;
    let took = started.elapsed();
    let ledger = load.stop().await;
    cli.close().await;
    eprintln!(
        "{:?}: rebuild --all of {EVENTS}+ events under {CLIENTS} clients took {:.1} s; \
         {} orders acknowledged, {} read back, {} retries, warnings {:?}, errors {:?}",
        test.backend,
        took.as_secs_f64(),
        ledger.acknowledged.len(),
        ledger.read_back,
        ledger.retries,
        ledger.warnings,
        ledger.errors,
    );
    let applied = rebuilt.expect("rebuild --all succeeds under load");
    assert!(applied >= EVENTS, "the rebuild replayed {applied} events");
    assert!(
        ledger.acknowledged.len() >= CLIENTS,
        "the clients were barely served during the rebuild: {} orders",
        ledger.acknowledged.len()
    );
    assert_eq!(ledger.errors.len(), 0, "orders refused during the rebuild");
    assert!(
        ledger.given_up.is_empty(),
        "orders given up: {:?}",
        ledger.given_up
    );
    assert_eq!(ledger.silent_nulls, 0, "orders read back as a silent null");

    caught_up(&test.db).await;
    server.stop().await;
    assert_eq!(
        leftover_rebuild_tables(&test.db).await,
        Vec::<String>::new()
    );
    for projection in replayable_projections() {
        let live = dump(&test.db, projection.as_ref()).await;
        if let Some(difference) = rebuild_differs(&test.db, projection.as_ref(), &live).await {
            panic!("{difference}");
        }
    }
}

on_both_backends! {
    async fn rebuild_all_succeeds_while_sixteen_clients_submit(test) {
        rebuild_all_under_load(test).await;
    }
}
