//! Dinghuo's read side: projections of the event log into typed read-model tables.
//!
//! Modules:
//! - [`feed`]: the commit-safe global feed every projection follows;
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
//! - [`lock`]: one process per projection (Postgres advisory lock), one rebuild at a time;
//! - [`wake`]: waking runners on commits (in-process, and `LISTEN/NOTIFY` across processes);
//! - [`status`]: checkpoint, lag and state of each projection;
//! - [`supervise`]: restarting the server's processors after transient errors, with backoff;
//! - [`sql`]: the thin dialect layer (one transaction and argument type for both backends).

pub mod checkpoint;
pub mod error;
pub mod feed;
pub mod leftovers;
pub mod lock;
pub mod models;
pub mod outbox;
pub mod prepare;
pub mod projection;
pub mod read;
pub mod rebuild;
pub mod runner;
pub mod settings;
pub mod sql;
pub mod status;
pub mod supervise;
pub mod wait;
pub mod wake;

pub use error::RunnerError;
pub use feed::{read_feed, Checkpoint, FeedError, FeedEvent};
pub use prepare::prepare;
pub use projection::{Dialect, Projection, ProjectionError, TableNames};
pub use rebuild::{rebuild, RebuildProgress};
pub use runner::{catch_up, Runner};
pub use settings::RunnerSettings;
pub use status::{status, ProjectionStatus, State};
pub use supervise::{supervise, Backoff, Transient};
pub use wait::{
    head_of_stream, wait_for, wait_for_progress, wait_for_stream_head, wait_for_write, Progress,
    Supervising, WaitError,
};
pub use wake::Wakeup;
