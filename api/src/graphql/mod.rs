//! The GraphQL API (DESIGN §3 "API"): one schema over the command layer (mutations) and the read
//! models (queries), scoped to the caller's token.
//!
//! Modules:
//! - [`state`]: what every resolver shares (commands, database, tokens, settings);
//! - [`caller`]: who is asking (from the bearer token) and the request id;
//! - [`error`]: every error carries `extensions.code` (DESIGN §2) and the request id;
//! - [`rw`]: read-your-writes, so a mutation answers with what it changed;
//! - [`types`]: the object types, mapped from the rows of `projections::read`;
//! - [`mutations`], [`queries`]: the roots, one file per area, merged here;
//! - [`subscriptions`]: `orderUpdated` and `events`, following the log (over WebSocket);
//! - [`metrics`]: an extension recording each mutation as a command (name, outcome, latency);
//! - [`standing`]: an extension refusing a contact's token that no longer stands, before each
//!   operation and throughout each subscription;
//! - [`gate`]: what a request must satisfy before it is parsed or run (nesting, NUL, one
//!   sign-in field per request), on HTTP and WebSocket;
//! - [`documents`]: parsed documents kept by query text, for HTTP requests (bounded in bytes,
//!   only documents that validated);
//! - [`coalesce`]: reads of one kind batched across concurrent requests;
//! - [`order_reads`]: the order read-backs so batched, each under its caller's scope;
//! - [`complexity`]: what each list field and each root field counts towards the complexity
//!   limit;
//! - [`roots`]: the three roots as served, each root field with the base cost of its kind;
//! - [`response_size`]: the response size cap, on HTTP bodies and WebSocket messages;
//! - [`warnings`]: `extensions.warnings`, e.g. a read model behind a mutation's write.

pub mod caller;
pub mod coalesce;
pub mod complexity;
pub mod documents;
pub mod error;
pub mod gate;
pub mod metrics;
pub mod mutations;
pub mod order_reads;
pub mod queries;
pub mod response_size;
pub mod roots;
pub mod rw;
pub mod standing;
pub mod state;
pub mod subscriptions;
pub mod types;
pub mod warnings;

use async_graphql::{OutputType, Schema};

pub use caller::Caller;
pub use state::ApiState;

pub type DinghuoSchema = Schema<
    roots::Costed<queries::QueryRoot>,
    roots::Costed<mutations::MutationRoot>,
    roots::Costed<subscriptions::SubscriptionRoot>,
>;

/// Limits that protect the server from expensive requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest selection accepted.
    pub max_depth: usize,
    /// Largest total complexity (each field counts 1, a list its selection times the most items
    /// it can return, a root field a base of its kind: see [`complexity`]).
    pub max_complexity: usize,
    /// Introspection is on by default: this is a developer-facing API.
    pub introspection: bool,
    /// Largest answer sent, in bytes: an HTTP body, or one WebSocket message.
    pub max_response_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_depth: 15,
            max_complexity: 50_000,
            introspection: true,
            max_response_bytes: response_size::DEFAULT_MAX_RESPONSE_BYTES,
        }
    }
}

/// The schema served by `dinghuo serve`.
pub fn build(state: ApiState, limits: Limits) -> DinghuoSchema {
    let mut builder = roots::schema_builder()
        .extension(standing::ContactStanding)
        .extension(warnings::CollectWarnings)
        .extension(metrics::CommandMetrics::new(
            &mutations::MutationRoot::type_name(),
        ))
        .extension(response_size::SubscriptionCap::new(
            limits.max_response_bytes,
        ))
        .limit_depth(limits.max_depth)
        .limit_complexity(limits.max_complexity)
        .data(state);
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema as SDL, as exported to `api/schema.graphql`.
pub fn sdl() -> String {
    roots::schema_builder().finish().sdl()
}
