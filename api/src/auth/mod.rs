//! Authentication: who a request comes from, proven by an HS256 JSON Web Token. The tokens,
//! their claims, the secrets and whether a contact's token still stands are `dinghuo-identity`'s
//! (`claims`, `token`, `secret`, `standing` there); they are re-exported here under the paths
//! the server, the CLI and the tests use.
//!
//! Contacts are not minted by the CLI: they get their tokens from binding or login.

pub use dinghuo_identity::{claims, secret, standing, token};

pub use claims::{Claims, ISSUER};
pub use secret::{
    load_outbox_key, JwtSecret, SecretError, MIN_SECRET_BYTES, OUTBOX_KEY_ENV, OUTBOX_KEY_FILE,
    SECRET_ENV, SECRET_FILE,
};
pub use standing::{Standing, Standings};
pub use token::{TokenError, Tokens, Verified};
