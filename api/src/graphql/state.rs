//! What every resolver shares.

use std::sync::Arc;
use std::time::Duration;

use dinghuo_commands::{Commands, Database};
use dinghuo_projections::Wakeup;

use crate::auth::Tokens;

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
    /// Signalled each time one of this process's projection runners commits a batch:
    /// read-your-writes waits on it instead of polling.
    pub progress: Wakeup,
}

impl ApiState {
    pub fn db(&self) -> &Database {
        self.commands.database()
    }
}
