//! `submitOrder` over HTTP from 16 clients, as the load benchmarks send it: one order of 3
//! lines (quantities 1, 2, 3) per request, each client as its own contact, on a thread of its
//! own (a separate load generator); latencies and the count of each error code.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use dinghuo_commands::{Actor, OrderLineInput, Role};
use dinghuo_domain::ContactId;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::server::TestServer;
use crate::World;

/// What one phase measured.
#[derive(Default)]
pub struct Phase {
    pub latencies: Vec<Duration>,
    pub errors: BTreeMap<String, u64>,
    pub wall: Duration,
}

impl Phase {
    pub fn merge(&mut self, other: Phase) {
        self.latencies.extend(other.latencies);
        self.wall += other.wall;
        for (code, count) in other.errors {
            *self.errors.entry(code).or_default() += count;
        }
    }

    pub fn throughput(&self) -> f64 {
        self.latencies.len() as f64 / self.wall.as_secs_f64()
    }

    pub fn percentile(&mut self, p: f64) -> Duration {
        self.latencies.sort();
        let index = ((self.latencies.len() as f64 - 1.0) * p).round() as usize;
        self.latencies.get(index).copied().unwrap_or_default()
    }

    pub fn describe(&mut self, name: &str) -> String {
        let (p50, p99) = (self.percentile(0.50), self.percentile(0.99));
        format!(
            "{name}: {} orders in {:.1} s = {:.0} orders/s; p50 {:.1} ms, p99 {:.1} ms; errors {:?}",
            self.latencies.len(),
            self.wall.as_secs_f64(),
            self.throughput(),
            p50.as_secs_f64() * 1e3,
            p99.as_secs_f64() * 1e3,
            self.errors
        )
    }
}

/// The lines of every order: each of the world's products, quantities 1, 2, 3….
pub fn lines(world: &World) -> Vec<OrderLineInput> {
    world
        .products
        .iter()
        .zip(1..)
        .map(|(product, quantity)| OrderLineInput {
            product_id: product.to_string(),
            quantity,
            sku: None,
        })
        .collect()
}

/// The parts of a `submitOrder` answer the clients check.
#[derive(Deserialize)]
struct Answer {
    data: Option<AnswerData>,
    #[serde(default)]
    errors: Vec<AnswerError>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AnswerData {
    submit_order: Option<Submitted>,
}

#[derive(Deserialize)]
struct Submitted {
    order: Option<SubmittedOrder>,
}

#[derive(Deserialize)]
struct SubmittedOrder {
    status: String,
}

#[derive(Deserialize)]
struct AnswerError {
    extensions: Option<ErrorExtensions>,
}

#[derive(Deserialize)]
struct ErrorExtensions {
    code: Option<String>,
}

impl Answer {
    fn submitted(&self) -> bool {
        let order = self
            .data
            .as_ref()
            .and_then(|data| data.submit_order.as_ref());
        order
            .and_then(|submitted| submitted.order.as_ref())
            .is_some_and(|order| order.status == "SUBMITTED")
    }

    fn error_code(self) -> String {
        self.errors
            .into_iter()
            .next()
            .and_then(|error| error.extensions)
            .and_then(|extensions| extensions.code)
            .unwrap_or_else(|| "NO_ORDER_IN_ANSWER".to_owned())
    }
}

/// `submitOrder` from one client per contact in `contacts`, each in a loop for `duration`.
pub async fn over_http(
    server: Arc<TestServer>,
    world: Arc<World>,
    contacts: &[ContactId],
    duration: Duration,
) -> Phase {
    const SUBMIT: &str = "mutation($input: SubmitOrderInput!) {
        submitOrder(input: $input) { orderId order { status total { amount } } }
    }";
    let input: Vec<Value> = lines(&world)
        .into_iter()
        .map(|line| json!({"productId": line.product_id, "quantity": line.quantity}))
        .collect();
    let started = Instant::now();
    let mut clients = Vec::new();
    for contact in contacts {
        let token = server.token(&Actor::in_tenant(
            contact.as_uuid(),
            Role::Contact,
            world.tenant,
        ));
        // The clients share the 2 cores with the server, so they do as little as they can:
        // the request is serialised once, and only the fields checked are decoded.
        let body = serde_json::to_vec(&json!({
            "query": SUBMIT,
            "variables": {"input": {"lines": input}},
        }))
        .expect("the request serialises");
        let url = server.url("/graphql");
        clients.push(async move {
            let client = reqwest::Client::new();
            let mut phase = Phase::default();
            while started.elapsed() < duration {
                let began = Instant::now();
                let response = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await;
                let answer = match response {
                    Ok(response) => response.json::<Answer>().await,
                    Err(error) => Err(error),
                };
                match answer {
                    Ok(answer) if answer.submitted() => phase.latencies.push(began.elapsed()),
                    Ok(answer) => *phase.errors.entry(answer.error_code()).or_default() += 1,
                    Err(_) => *phase.errors.entry("TRANSPORT".into()).or_default() += 1,
                }
            }
            phase
        });
    }
    let load = std::thread::spawn(move || {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("the clients' runtime");
        runtime.block_on(futures::future::join_all(clients))
    });
    let phases = tokio::task::spawn_blocking(move || load.join())
        .await
        .expect("the clients' thread is joined")
        .expect("the clients' thread does not panic");
    let mut total = Phase::default();
    for phase in phases {
        total.merge(phase);
    }
    total.wall = started.elapsed();
    total
}
