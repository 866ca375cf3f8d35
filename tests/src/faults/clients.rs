//! The load of a fault test: clients that each submit orders one after the other, every order
//! with a fresh idempotency key, retrying it with the same key while the server answers with an
//! error a client is told to retry (or with no answer at all), and recording what they saw.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::server::TestServer;

const SUBMIT: &str = "mutation($input: SubmitOrderInput!) {
    submitOrder(input: $input) { orderId order { status } }
}";

/// The codes a client retries with the same key, besides any error marked
/// `extensions.retryable`.
const RETRIED_CODES: [&str; 3] = ["UNAVAILABLE", "CONFLICT", "RATE_LIMITED"];

/// What the ledger records for a request that got no GraphQL answer (a refused or cut
/// connection, a body that is not JSON).
pub const NO_ANSWER: &str = "no answer";

/// How long one order is retried before its client gives it up.
const GIVE_UP_AFTER: Duration = Duration::from_secs(20);

/// The pause before a retry that the server suggested none for: doubling from the first.
const FIRST_BACKOFF: Duration = Duration::from_millis(50);
const LONGEST_BACKOFF: Duration = Duration::from_secs(1);

/// Everything the clients saw.
#[derive(Debug, Default)]
pub struct Ledger {
    /// `(idempotency key, order id)` of every acknowledged submission.
    pub acknowledged: Vec<(String, String)>,
    /// Acknowledgements whose order was read back (not `null`).
    pub read_back: usize,
    /// Acknowledgements whose order was `null` with no warning saying why.
    pub silent_nulls: usize,
    /// Every warning of an acknowledgement, by code and projection (`READ_MODEL_BEHIND orders`).
    pub warnings: BTreeMap<String, usize>,
    /// Requests sent again with the same key.
    pub retries: usize,
    /// Orders acknowledged only after at least one retry.
    pub retried_orders: usize,
    /// Keys given up: refused with a code that is not retried, or not acknowledged in time.
    pub given_up: Vec<String>,
    /// Every error seen, by code ([`NO_ANSWER`] for no answer).
    pub errors: BTreeMap<String, usize>,
}

/// One order's fate, as its client saw it.
pub enum Outcome {
    Acknowledged { order_id: String, read_back: bool },
    GivenUp,
}

/// A client submitting orders as one contact, recording into a shared ledger.
#[derive(Clone)]
pub struct Client {
    pub server: Arc<TestServer>,
    pub token: String,
    pub product: String,
    /// Keys are `<name>-<n>`: distinct per client.
    pub name: String,
    pub ledger: Arc<Mutex<Ledger>>,
}

impl Client {
    /// Submits one order under `key`, retrying with the same key until it is acknowledged or
    /// given up.
    pub async fn submit(&self, key: &str, quantity: i64) -> Outcome {
        let input = json!({ "input": {
            "lines": [{ "productId": self.product, "quantity": quantity }],
            "note": "fault test",
            "idempotencyKey": key,
        }});
        let began = Instant::now();
        let mut backoff = FIRST_BACKOFF;
        let mut attempts = 0usize;
        loop {
            attempts += 1;
            let answer = self
                .server
                .try_graphql(Some(&self.token), SUBMIT, input.clone())
                .await;
            let pause = match answer {
                Ok(answer) => {
                    if let Some(order_id) = answer["data"]["submitOrder"]["orderId"].as_str() {
                        let read_back = !answer["data"]["submitOrder"]["order"].is_null();
                        let warnings = warnings_of(&answer);
                        self.record(|ledger| {
                            ledger
                                .acknowledged
                                .push((key.to_owned(), order_id.to_owned()));
                            ledger.read_back += usize::from(read_back);
                            ledger.silent_nulls += usize::from(!read_back && warnings.is_empty());
                            ledger.retried_orders += usize::from(attempts > 1);
                            for warning in warnings {
                                *ledger.warnings.entry(warning).or_default() += 1;
                            }
                        });
                        return Outcome::Acknowledged {
                            order_id: order_id.to_owned(),
                            read_back,
                        };
                    }
                    let error = &answer["errors"][0]["extensions"];
                    let code = error["code"].as_str().unwrap_or("no code").to_owned();
                    let retried =
                        RETRIED_CODES.contains(&code.as_str()) || error["retryable"] == true;
                    self.record(|ledger| *ledger.errors.entry(code).or_default() += 1);
                    if !retried {
                        return self.give_up(key);
                    }
                    error["retryAfterMs"].as_u64().map(Duration::from_millis)
                }
                Err(_) => {
                    self.record(|ledger| *ledger.errors.entry(NO_ANSWER.into()).or_default() += 1);
                    None
                }
            };
            if began.elapsed() > GIVE_UP_AFTER {
                return self.give_up(key);
            }
            tokio::time::sleep(pause.unwrap_or(backoff)).await;
            backoff = (backoff * 2).min(LONGEST_BACKOFF);
            self.record(|ledger| ledger.retries += 1);
        }
    }

    fn give_up(&self, key: &str) -> Outcome {
        self.record(|ledger| ledger.given_up.push(key.to_owned()));
        Outcome::GivenUp
    }

    fn record(&self, change: impl FnOnce(&mut Ledger)) {
        let mut ledger = self.ledger.lock().expect("the ledger's lock");
        change(&mut ledger);
    }
}

/// An answer's `extensions.warnings`, each as its code and projection.
fn warnings_of(answer: &Value) -> Vec<String> {
    answer["extensions"]["warnings"]
        .as_array()
        .map(|warnings| {
            warnings
                .iter()
                .map(|warning| {
                    let code = warning["code"].as_str().unwrap_or("no code");
                    match warning["projection"].as_str() {
                        Some(projection) => format!("{code} {projection}"),
                        None => code.to_owned(),
                    }
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Clients submitting orders until told to stop.
pub struct Load {
    stop: Arc<AtomicBool>,
    clients: JoinSet<()>,
    ledger: Arc<Mutex<Ledger>>,
}

impl Load {
    /// Starts one task per client; each submits orders one after the other.
    pub fn start(clients: Vec<Client>, ledger: Arc<Mutex<Ledger>>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = JoinSet::new();
        for client in clients {
            let stop = stop.clone();
            tasks.spawn(async move {
                let mut n = 0i64;
                // An order under way when the load stops is still seen through.
                while !stop.load(Ordering::Acquire) {
                    n += 1;
                    let key = format!("{}-{n}", client.name);
                    client.submit(&key, n % 5 + 1).await;
                }
            });
        }
        Self {
            stop,
            clients: tasks,
            ledger,
        }
    }

    /// Stops the clients once their current orders are through; answers what they saw.
    pub async fn stop(mut self) -> Ledger {
        self.stop.store(true, Ordering::Release);
        while let Some(joined) = self.clients.join_next().await {
            joined.expect("a client task");
        }
        std::mem::take(&mut *self.ledger.lock().expect("the ledger's lock"))
    }
}
