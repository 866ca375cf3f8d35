//! Dinghuo's read side: projections of the event log into typed read-model tables.
//!
//! Modules:
//! - [`models`]: the read models, one projection per file;
//! - [`outbox`]: the SMS outbox reactor (`notifications`), its dispatcher and SMS providers;
//! - [`projection`]: the `Projection` trait and the naming of its tables;
//! - [`read`]: the read models' queries (typed rows and filters, keyset pages, scope rules);
//! - [`runner`]: following the feed in batches, read models and checkpoint in one transaction;
//! - [`prepare`]: a projection's tables made ready (created, rebuilt on a new schema, leftovers
//!   removed) before its runner starts;
//! - [`settings`]: how runners and rebuilds pace themselves;
//! - [`error`]: why a runner or a rebuild stopped (`RunnerError`), panics included;
//! - [`checkpoint`]: the rows of `projection_checkpoints`;
//! - [`rebuild`]: building from zero into fresh tables and swapping them in;
//! - [`leftovers`]: removing what a failed or interrupted rebuild left behind;
//! - [`wait`]: read-your-writes (wait until projections passed a write);
//! - [`wake`]: waking runners on commits (in-process, and `LISTEN/NOTIFY` across processes);
//! - [`status`]: checkpoint, lag and state of each projection;
//! - [`supervise`]: restarting the server's processors after transient errors, with backoff;

pub mod checkpoint;
pub mod error;
pub mod fingerprint;
pub mod leftovers;
pub mod models;
pub mod outbox;
pub mod prepare;
pub mod projection;
pub mod read;
pub mod rebuild;
pub mod runner;
pub mod settings;
pub mod status;
pub mod supervise;
pub mod wait;
pub mod wake;

pub use error::RunnerError;
pub use prepare::prepare;
pub use projection::{Projection, ProjectionError, TableNames};
pub use rebuild::{rebuild, RebuildProgress};
pub use runner::{catch_up, Runner};
pub use settings::RunnerSettings;
pub use status::{status, ProjectionStatus, State};
pub use supervise::{supervise, Backoff, Transient};
pub use wait::{
    wait_for, wait_for_progress, wait_for_stream_head, wait_for_write, Progress, Supervising,
    WaitError,
};
pub use wake::Wakeup;
