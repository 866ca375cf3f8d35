//! Who may sign in and how: the sign-in paths' rules and secrets, apart from GraphQL. The API
//! calls these and maps [`IdentityError`] to its answer at the edge.
//!
//! Modules:
//! - [`limits`]: the rate limits of every sign-in path (per phone, per client address, per
//!   signed-in contact), on the platform's one limiter, `dinghuo_commands::limiter`;
//! - [`codes`]: one-time SMS codes (drawn, hashed, sealed into the outbox, redeemed once);
//! - [`binding`]: the codes that let a their-side contact bind;
//! - [`password`]: the rules of a chosen password, argon2id hashing and verifying of secrets;
//! - [`accounts`]: tenant-mode contacts' platform accounts (`credentials`);
//! - [`sessions`]: sign-in sessions, which every signed-in token names and which signing out or
//!   a password change ends;
//! - [`sms`]: queuing an SMS that carries a secret, sealed, in the notifications outbox;
//! - [`error`]: [`IdentityError`], each variant with its stable code.
//!
//! Nothing here writes the event log except through the command layer, and no secret (code,
//! password, hash) reaches a log line, an event or a read model.

pub mod accounts;
pub mod binding;
pub mod codes;
pub mod error;
pub mod limits;
pub mod password;
pub mod sessions;
pub mod sms;

pub use error::{IdentityError, IdentityResult};
