//! What every resolver shares.

use std::sync::Arc;
use std::time::Duration;

use dinghuo_commands::Commands;
use dinghuo_identity::sessions::Sessions;
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_projections::{Progress, Wakeup};
use dinghuo_store::Database;

use crate::auth::{Standings, Tokens};
use crate::graphql::order_reads::OrderReader;

/// Cheap to clone: everything inside is shared.
#[derive(Clone)]
pub struct ApiState {
    pub commands: Arc<Commands>,
    pub tokens: Tokens,
    /// How long a mutation waits for the read models to show its write before answering with
    /// what they show.
    pub read_your_writes_timeout: Duration,
    /// Signalled on every commit (in this process, and from others through `LISTEN` when the
    /// processors run): subscriptions wake on it instead of polling fast.
    pub wakeup: Wakeup,
    /// What this process's projection runner has committed: read-your-writes waits on it
    /// instead of polling the checkpoints.
    pub progress: Progress,
    /// Reads of single orders, batched across concurrent requests (mutations' read-backs).
    pub order_reader: OrderReader,
    /// Seals the binding codes queued for sending (the same key on every node).
    pub outbox_key: OutboxKey,
    /// Contacts' standing (is the token still good, may it read orders), kept a few seconds.
    pub standings: Arc<Standings>,
    /// Sign-in sessions (signed-in tokens name one), with what this node read of them.
    pub sessions: Arc<Sessions>,
}

impl ApiState {
    pub fn db(&self) -> &Database {
        self.commands.database()
    }
}
