//! Dinghuo's edge: the `dinghuo` command line and the GraphQL server. The binary
//! (`src/main.rs`) only parses flags, sets up tracing and calls [`cli::run`]; everything else
//! lives here so that the server and the tests in `tests/` can use it.
//!
//! Modules:
//! - [`cli`]: the flags (with `DINGHUO_*` environment fallbacks) and the subcommand dispatch;
//! - [`telemetry`]: `tracing` to stderr, text or JSON;
//! - [`auth`]: HS256 JWTs (claims, issuing, verifying into an `Actor`) and the signing secret;
//! - [`audit`]: reading the event log for auditors (filtered, paged) and the NDJSON export;
//! - [`token_cmd`]: `dinghuo token`, minting tokens for every role but `contact`;
//! - [`audit_cmd`]: `dinghuo audit export`;
//! - [`projections_cmd`]: `dinghuo projections status|rebuild|catch-up`;
//! - [`graphql`] and [`server`]: the GraphQL API and `dinghuo serve`.
//!
//! `dinghuo demo` is the `dinghuo-demo` crate: it needs only the command layer.
//!
//! The process's allocator is mimalloc (`allocator.rs`), for the server and for every test and
//! benchmark that links this crate.

mod allocator;
pub mod audit;
pub mod audit_cmd;
pub mod auth;
pub mod cli;
pub mod graphql;
pub mod projections_cmd;
pub mod rebuild_progress;
pub mod server;
pub mod telemetry;
pub mod token_cmd;
