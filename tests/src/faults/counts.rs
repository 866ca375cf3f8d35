//! What a fault test counts: the clients' ledger against the `OrderSubmitted` events of the log
//! (lost, duplicated), and how long recovery took; and which promises the counts break.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use dinghuo_store::Database;

use super::clients::{Ledger, NO_ANSWER};
use super::recovery::{Recovery, RECOVERY, WATCHED_FOR};
use crate::inspect::all_events;

/// The codes a client may see during a fault: those it retries, and no answer at all.
const EXPECTED_CODES: [&str; 4] = ["UNAVAILABLE", "CONFLICT", "RATE_LIMITED", NO_ANSWER];

/// The `OrderSubmitted` events of the log, counted by order and by idempotency key.
pub struct OrderLog {
    by_order: HashMap<String, usize>,
    by_key: HashMap<String, Vec<String>>,
}

impl OrderLog {
    pub async fn read(db: &Database) -> Self {
        let mut log = Self {
            by_order: HashMap::new(),
            by_key: HashMap::new(),
        };
        for event in all_events(db).await {
            if event.event_type != "OrderSubmitted" {
                continue;
            }
            *log.by_order.entry(event.aggregate_id.clone()).or_default() += 1;
            if let Some(key) = event.meta("idempotency_key") {
                log.by_key
                    .entry(key.to_owned())
                    .or_default()
                    .push(event.aggregate_id.clone());
            }
        }
        log
    }
}

/// What a fault test reports: the clients' ledger, and what the log and the server made of it.
pub struct Counts<'a> {
    ledger: &'a Ledger,
    /// Acknowledged orders with no `OrderSubmitted` under the acknowledged id and key.
    lost: Vec<String>,
    /// Keys or orders with more than one `OrderSubmitted`.
    duplicated: Vec<String>,
    recovery: Recovery,
    /// Connections the proxy cut after `COMMIT`.
    commit_cuts: usize,
}

impl<'a> Counts<'a> {
    pub fn of(ledger: &'a Ledger, log: &OrderLog, recovery: Recovery, commit_cuts: usize) -> Self {
        let lost = ledger
            .acknowledged
            .iter()
            .filter(|(key, order)| {
                log.by_key
                    .get(key)
                    .is_none_or(|orders| !orders.contains(order))
            })
            .map(|(key, order)| format!("key {key}, order {order}"))
            .collect();
        let duplicated = log
            .by_key
            .iter()
            .filter(|(_, orders)| orders.len() > 1)
            .map(|(key, orders)| format!("key {key}: orders {orders:?}"))
            .chain(
                log.by_order
                    .iter()
                    .filter(|(_, submitted)| **submitted > 1)
                    .map(|(order, submitted)| {
                        format!("order {order}: submitted {submitted} times")
                    }),
            )
            .collect();
        Self {
            ledger,
            lost,
            duplicated,
            recovery,
            commit_cuts,
        }
    }

    pub fn broken_promises(&self) -> Vec<String> {
        let ledger = self.ledger;
        let mut broken = Vec::new();
        if ledger.acknowledged.is_empty() {
            broken.push("no order was acknowledged: there was no load".to_owned());
        }
        if !self.lost.is_empty() {
            broken.push(format!(
                "{} acknowledged orders lost: {:?}",
                self.lost.len(),
                first(&self.lost)
            ));
        }
        if !self.duplicated.is_empty() {
            broken.push(format!(
                "{} duplicated: {:?}",
                self.duplicated.len(),
                first(&self.duplicated)
            ));
        }
        let unexpected: BTreeMap<_, _> = ledger
            .errors
            .iter()
            .filter(|(code, _)| !EXPECTED_CODES.contains(&code.as_str()))
            .collect();
        if !unexpected.is_empty() {
            broken.push(format!(
                "clients saw codes they cannot act on by retrying (expected only \
                 {EXPECTED_CODES:?}): {unexpected:?}"
            ));
        }
        if !ledger.given_up.is_empty() {
            broken.push(format!(
                "{} orders given up (refused with a code not retried, or not acknowledged in \
                 time): {:?}",
                ledger.given_up.len(),
                first(&ledger.given_up)
            ));
        }
        if ledger.silent_nulls > 0 {
            broken.push(format!(
                "{} acknowledgements answered `order: null` without a warning saying why",
                ledger.silent_nulls
            ));
        }
        for (sign, took) in [
            (
                "every projection caught up with the log and /readyz ready",
                self.recovery.caught_up,
            ),
            (
                "an order read back by its own mutation",
                self.recovery.read_back,
            ),
        ] {
            if took.is_none_or(|took| took > RECOVERY) {
                broken.push(format!(
                    "{sign} took {} after the database was back; the bound is {RECOVERY:?}",
                    shown(took)
                ));
            }
        }
        broken
    }
}

/// The first few of a long list, for a failure message.
fn first(items: &[String]) -> &[String] {
    &items[..items.len().min(5)]
}

fn shown(took: Option<Duration>) -> String {
    took.map_or_else(
        || format!("more than {WATCHED_FOR:?}"),
        |took| format!("{} ms", took.as_millis()),
    )
}

impl fmt::Display for Counts<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ledger = self.ledger;
        write!(
            f,
            "{} acknowledged ({} read back, warnings {:?}), {} retried ({} retries), \
             {} given up, errors by code {:?}, {} lost, {} duplicated, \
             {} connections cut after COMMIT; after the database was back: every projection \
             caught up in {}, an order read back in {}",
            ledger.acknowledged.len(),
            ledger.read_back,
            ledger.warnings,
            ledger.retried_orders,
            ledger.retries,
            ledger.given_up.len(),
            ledger.errors,
            self.lost.len(),
            self.duplicated.len(),
            self.commit_cuts,
            shown(self.recovery.caught_up),
            shown(self.recovery.read_back),
        )
    }
}
