//! Dinghuo's write side: every command of DESIGN §3 from entry point to stored event.
//!
//! Modules:
//! - [`db`]: the database (Postgres or SQLite by URL), connection settings, migrations;
//! - [`private`]: the data directory and database files, private to the service's user;
//! - [`sqlite_busy`]: how a SQLite connection waits for the write lock;
//! - [`store`]: one aggregate type's cqrs-es framework over postgres-es / sqlite-es;
//! - [`lookup`]: the domain's `Lookup`, answered from committed events;
//! - [`announce`]: telling other processes' projection runners that events were committed;
//! - [`context`]: the caller (`Actor`, `Role`) and the metadata every event carries;
//! - [`policy`]: which role may run which command;
//! - [`service`]: the entry points (`Commands`), input parsing, idempotency;
//! - [`retry`]: re-running a command that lost the race for its stream;
//! - [`limiter`]: the one rate limiter: attempts per subject within a window (bind guesses
//!   here, every sign-in path in `dinghuo-identity`);
//! - [`transient`]: a database that could not be reached, told from a statement that failed;
//! - [`error`]: `CommandError` and its stable codes.

pub mod announce;
pub mod context;
pub mod db;
pub mod error;
pub mod limiter;
pub mod lookup;
pub mod policy;
pub mod private;
pub mod retry;
pub mod service;
pub mod sqlite_busy;
pub mod store;
pub mod transient;
pub mod written;

pub use announce::COMMIT_CHANNEL;
pub use context::{Actor, RequestContext, Role};
pub use db::{Database, DatabaseError, DatabaseSettings, SqliteDurability};
pub use error::CommandError;
pub use retry::RetryPolicy;
pub use service::*;
pub use written::{StreamHead, Written};
