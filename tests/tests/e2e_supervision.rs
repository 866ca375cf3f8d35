//! The server recovers by itself from a database outage (issue 16, item 1): between the server
//! and Postgres sits a proxy that cuts every connection at once (what a restart does) or
//! refuses connections for a while (a database that is down). Once the database is reachable
//! again, the projections run again without restarting the process: a submitted order is seen
//! by its own mutation (read-your-writes), and `/readyz` is ready, within a few seconds.

use std::time::Duration;

use dinghuo_tests::proxy::Proxy;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{Backend, TestDb, World};
use serde_json::{json, Value};
use tokio::time::Instant;

const SUBMIT: &str = "mutation($input: SubmitOrderInput!) {
    submitOrder(input: $input) { orderId order { status } }
}";

/// How long recovery may take once the database is reachable again.
const RECOVERY: Duration = Duration::from_secs(8);

fn submit_input(world: &World) -> Value {
    json!({ "input": {
        "lines": [{ "productId": world.products[0].to_string(), "quantity": 1 }],
        "note": "supervision"
    }})
}

/// Submits orders until one comes back with its order read (not `null`); answers how long it
/// took. Errors and `order: null` while recovering are retried.
async fn until_an_order_is_read_back(server: &TestServer, token: &str, world: &World) -> Duration {
    let began = Instant::now();
    let mut last = Value::Null;
    while began.elapsed() < RECOVERY {
        if let Ok(response) = server
            .try_graphql(Some(token), SUBMIT, submit_input(world))
            .await
        {
            if response["data"]["submitOrder"]["order"]["status"] == "SUBMITTED" {
                return began.elapsed();
            }
            last = response;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no order read back within {RECOVERY:?} of the database's return; last: {last:#}");
}

/// Polls `/readyz` until it answers 200; answers how long it took.
async fn until_ready(server: &TestServer) -> Duration {
    let began = Instant::now();
    let http = reqwest::Client::new();
    let mut last = String::new();
    while began.elapsed() < RECOVERY {
        if let Ok(response) = http.get(server.url("/readyz")).send().await {
            if response.status() == reqwest::StatusCode::OK {
                return began.elapsed();
            }
            last = response.text().await.unwrap_or_default();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("/readyz not ready within {RECOVERY:?} of the database's return; last: {last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn projections_run_again_after_connections_are_cut_and_refused() {
    let Some(test) = TestDb::new(Backend::Postgres).await else {
        return;
    };
    let world = World::build(&test.commands(), 1).await;
    let (proxy, proxied) = Proxy::in_front_of(&test.url, 16).await;
    let server = TestServer::start(&proxied, &[]).await;
    let token = server.token(&world.contact_actor());
    until_an_order_is_read_back(&server, &token, &world).await;
    until_ready(&server).await;

    // A restart: every connection cut at once, in the middle of whatever they were doing.
    proxy.cut_all();
    let read_back = until_an_order_is_read_back(&server, &token, &world).await;
    let ready = until_ready(&server).await;
    eprintln!("after a cut: an order read back in {read_back:?}, ready in {ready:?}");

    // A database that is down for 2 s: connections cut, and refused until it is back.
    let down = Duration::from_secs(2);
    proxy.refuse_for(down);
    tokio::time::sleep(down).await;
    let read_back = until_an_order_is_read_back(&server, &token, &world).await;
    let ready = until_ready(&server).await;
    eprintln!("after 2 s down: an order read back in {read_back:?}, ready in {ready:?}");

    // Each restart is counted.
    let metrics = reqwest::get(server.url("/metrics"))
        .await
        .expect("/metrics answers")
        .text()
        .await
        .expect("a text body");
    let restarts = metrics
        .lines()
        .find(|line| {
            line.starts_with("dinghuo_processor_restarts_total{processor=\"projections\"}")
        })
        .unwrap_or_else(|| panic!("no projection restarts counted:\n{metrics}"));
    eprintln!("{restarts}");

    server.stop().await;
}
