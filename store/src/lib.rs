//! Dinghuo's event log and everything that touches a database directly.
//!
//! Modules:
//! - [`database`]: the database (Postgres or SQLite by URL), connection settings, migrations;
//! - [`private`]: the data directory and database files, private to the service's user;
//! - [`sqlite_busy`]: how a SQLite connection waits for the write lock;
//! - [`sql`]: the one dialect layer: a transaction, argument and row type over both backends;
//! - [`event_store`]: cqrs-es over postgres-es / sqlite-es, the append path, and reading an
//!   aggregate from its committed events;
//! - [`streams`]: "load these streams": several aggregates' events in one statement;
//! - [`feed`]: the commit-safe global feed every projection follows, and the log's head;
//! - [`lock`]: locks across processes by name (one runner per projection, one rebuild at a time);
//! - [`stream_head`]: where one event stream stands after a write;
//! - [`audit`]: one tenant's stored events as auditors read them (filtered, keyset-paged);
//! - [`announce`]: telling other processes that events were committed (`NOTIFY`);
//! - [`upcasters`]: old event shapes read as today's, by every reader of the log;
//! - [`transient`]: a database that could not be reached, told from a statement that failed.

pub mod announce;
pub mod audit;
pub mod database;
pub mod event_store;
pub mod feed;
pub mod lock;
pub mod private;
pub mod sql;
pub mod sqlite_busy;
pub mod stream_head;
pub mod streams;
pub mod transient;
pub mod upcasters;

pub use announce::COMMIT_CHANNEL;
pub use database::{Database, DatabaseError, DatabaseSettings, SqliteDurability};
pub use feed::{read_feed, Checkpoint, FeedError, FeedEvent};
pub use stream_head::StreamHead;
