//! Authentication: who a request comes from, proven by an HS256 JSON Web Token.
//!
//! Modules:
//! - [`claims`]: what a token says (subject, tenant, role, times, issuer) and the rules tying a
//!   role to a tenant, both ways between claims and [`Actor`](dinghuo_commands::Actor);
//! - [`token`]: issuing a token for an actor and verifying one back into an actor, with
//!   [`TokenError`] naming each reason a token is refused;
//! - [`secret`]: the signing secret and the outbox key (which seals pending SMS secrets), each
//!   from a `DINGHUO_*` variable or generated once into a private file of the data directory;
//! - [`standing`]: whether a contact's token still stands (bound, linked, same binding epoch)
//!   and whether it may read orders, from committed state, kept a few seconds.
//!
//! Contacts are not minted by the CLI: they get their tokens from binding or login, whose codes,
//! passwords and rate limits live in `dinghuo-identity`.

pub mod claims;
pub mod secret;
pub mod standing;
pub mod token;

pub use claims::{Claims, ISSUER};
pub use secret::{
    load_outbox_key, JwtSecret, SecretError, MIN_SECRET_BYTES, OUTBOX_KEY_ENV, OUTBOX_KEY_FILE,
    SECRET_ENV, SECRET_FILE,
};
pub use standing::{Standing, Standings};
pub use token::{TokenError, Tokens, Verified};
