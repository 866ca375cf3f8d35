//! The event log as auditors read it.
//!
//! Modules:
//! - [`events`]: one tenant's stored events, every column, filtered (aggregate, event types,
//!   actor, time range) and paged by position; read through the pool, or through an
//!   [`EventSnapshot`] so that many pages see one consistent log. The
//!   GraphQL `events` audit query and the export share it;
//! - [`export`]: the NDJSON export, page after page, so memory stays flat for any log size;
//! - [`output`]: where the export goes, stdout or a file that appears only when complete.

pub mod events;
pub mod export;
pub mod output;

pub use events::{EventFilter, EventReadError, EventSnapshot, StoredEvent};
