//! Dinghuo's read side. For now it holds the commit-safe global feed that projections follow:
//! [`feed`] reads the log after a checkpoint, in an order that never changes once read.

pub mod feed;

pub use feed::{read_feed, Checkpoint, FeedError, FeedEvent};
