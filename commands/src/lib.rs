//! Dinghuo's write side: every command of DESIGN §3 from entry point to stored event.
//!
//! Modules:
//! - [`lookup`]: the domain's `Lookup`, answered from committed events;
//! - [`context`]: the caller (`Actor`, `Role`) and the metadata every event carries;
//! - [`policy`]: which role may run which command;
//! - [`service`]: the entry points (`Commands`), input parsing, idempotency;
//! - [`retry`]: re-running a command that lost the race for its stream;
//! - [`limiter`]: the one rate limiter: attempts per subject within a window (bind guesses
//!   here, every sign-in path in `dinghuo-identity`);
//! - [`error`]: `CommandError` and its stable codes.

pub mod context;
pub mod error;
pub mod limiter;
pub mod lookup;
pub mod policy;
pub mod retry;
pub mod service;
pub mod written;

pub use context::{Actor, RequestContext, Role};
pub use error::CommandError;
pub use retry::RetryPolicy;
pub use service::*;
pub use written::Written;
