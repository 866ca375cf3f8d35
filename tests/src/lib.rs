//! Shared helpers for the cross-crate tests and benchmarks:
//! - [`at_rest`]: the raw bytes of a SQLite database's files, to prove what is not in them;
//! - [`TestDb`]: a fresh, migrated database per test on either backend (a temporary SQLite file,
//!   or a throwaway Postgres database that is dropped afterwards);
//! - [`World`]: the product document's onboarding flow run through the command layer, leaving an
//!   upstream tenant with a partner, a bound their-side contact and listed products;
//! - [`on_both_backends!`]: declares one test per backend from one body;
//! - [`history`]: a seeded-random history of valid and invalid commands over two tenants;
//! - [`logs`]: what the code under test logs, captured;
//! - [`read_model`]: full dumps of a projection's tables, and waiting for the feed to settle;
//! - [`proxy`]: a TCP proxy to Postgres that cuts or refuses connections on demand, or cuts them
//!   right after `COMMIT` (fault tests);
//! - [`faults`]: fault tests under load: 16 clients with same-key retries, and the checks after a
//!   fault (nothing lost or duplicated, no `INTERNAL`, recovery within 5 s, read models equal a
//!   rebuild);
//! - [`pricing`]: dealer pricing through GraphQL (issue 18): its documents, a tenant with two
//!   dealers, and refusals that must append nothing;
//! - [`server`]: a real `dinghuo serve` on a free port, and a GraphQL client for it;
//! - [`submit_load`]: 16 clients sending `submitOrder` over HTTP, with latencies and error codes
//!   (load benchmarks);
//! - [`ws`]: a GraphQL client over the server's WebSocket (subscriptions);
//! - [`staff`]: staff sign-in through GraphQL: the operator's first admin, invited employees,
//!   codes read from the SMS outbox, passwords;
//! - [`bench_env`]: the benchmarks' settings from the environment;
//! - [`ceiling`]: the pgbench ceiling of `submitOrder` on Postgres (one transaction per order:
//!   read its stream, insert its event), a baseline of the load benchmarks;
//! - [`cpu`]: the CPU time a benchmark phase took, client side and Postgres side;
//! - [`generated_log`]: a realistic event log of any size, bulk-loaded (rebuild benchmark and
//!   rebuild-under-load tests);
//! - [`fuzz`]: a GraphQL fuzzer generated from the schema, with its oracle.

pub mod at_rest;
pub mod bench_env;
pub mod ceiling;
pub mod cpu;
pub mod faults;
pub mod fuzz;
pub mod generated_log;
pub mod history;
pub mod inspect;
pub mod logs;
pub mod pricing;
pub mod proxy;
pub mod read_model;
pub mod refusal;
pub mod server;
pub mod staff;
pub mod submit_load;
mod test_db;
mod world;
pub mod ws;

pub use test_db::{Backend, TestDb};
pub use world::World;

/// Declares `mod name { fn sqlite(); fn postgres(); }` running the same body on each backend.
/// The body receives a fresh migrated [`TestDb`].
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {
        $(
            mod $name {
                #[allow(unused_imports)]
                use super::*;

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn sqlite() {
                    if let Some($db) = $crate::TestDb::new($crate::Backend::Sqlite).await {
                        $body
                    }
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn postgres() {
                    if let Some($db) = $crate::TestDb::new($crate::Backend::Postgres).await {
                        $body
                    }
                }
            }
        )*
    };
}
