//! Authentication: who a request comes from, proven by an HS256 JSON Web Token.
//!
//! Modules:
//! - [`claims`]: what a token says (subject, tenant, role, times, issuer) and the rules tying a
//!   role to a tenant, both ways between claims and [`Actor`](dinghuo_commands::Actor);
//! - [`token`]: issuing a token for an actor and verifying one back into an actor, with
//!   [`TokenError`] naming each reason a token is refused;
//! - [`secret`]: the signing secret, from `DINGHUO_JWT_SECRET` or generated once into a
//!   private file of the data directory.
//!
//! Contacts are not minted by the CLI: they will get their tokens from binding or login.

pub mod claims;
pub mod secret;
pub mod token;

pub use claims::{Claims, ISSUER};
pub use secret::{JwtSecret, SecretError, MIN_SECRET_BYTES, SECRET_ENV, SECRET_FILE};
pub use token::{TokenError, Tokens};
