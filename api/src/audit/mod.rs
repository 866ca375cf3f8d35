//! The audit export (`dinghuo audit export`). The reads themselves (one tenant's stored events,
//! filtered and keyset-paged, through the pool or an `EventSnapshot`) are `dinghuo_store::audit`'s;
//! the GraphQL `events` query shares them.
//!
//! Modules:
//! - [`export`]: the NDJSON export, page after page, so memory stays flat for any log size;
//! - [`output`]: where the export goes, stdout or a file that appears only when complete.

pub mod export;
pub mod output;
