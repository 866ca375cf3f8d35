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
//! - [`claims`]: what a token says (subject, tenant, role, times, issuer, session, binding
//!   epoch) and the rules tying a role to a tenant, both ways between claims and `Actor`;
//! - [`token`]: issuing an HS256 token for an actor and verifying one back, with `TokenError`
//!   naming each reason a token is refused;
//! - [`secret`]: the token signing secret and the outbox key (which seals the codes and
//!   passwords sign-in sends), each from a `DINGHUO_*` variable or generated once into a private
//!   file of the data directory;
//! - [`standing`]: whether a contact's token still stands (bound, linked, same binding epoch)
//!   and whether it may read orders, from committed state, kept a few seconds;
//! - [`staff`]: staff sign-in: a phone's memberships across tenants, its codes and its
//!   password;
//! - [`sessions`]: sign-in sessions, which every signed-in token names and which signing out or
//!   a password change ends;
//! - [`sms`]: queuing an SMS that carries a secret, sealed, in the notifications outbox;
//! - [`error`]: [`IdentityError`], each variant with its stable code.
//!
//! Nothing here writes the event log except through the command layer, and no secret (code,
//! password, hash) reaches a log line, an event or a read model.

pub mod accounts;
pub mod binding;
pub mod claims;
pub mod codes;
pub mod error;
pub mod limits;
pub mod password;
pub mod secret;
pub mod sessions;
pub mod sms;
pub mod staff;
pub mod standing;
pub mod token;
pub mod token_error;

pub use error::{IdentityError, IdentityResult};
