//! Why a token was refused, or could not be issued.

use dinghuo_domain::ErrorCode;

/// Why a token was refused (or, for the last two variants, could not be issued).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed Dinghuo token")]
    Malformed,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    #[error("the token has expired")]
    Expired,
    /// Its `nbf` is later than now plus the clock skew.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Its `iat` is later than now plus the clock skew: no honest issuer makes such a token.
    #[error("the token claims to be issued in the future")]
    IssuedInFuture,
    /// Its header lists critical extensions (`crit`, RFC 7515 §4.1.11). Dinghuo understands
    /// none, so it may not accept the token.
    #[error("the token's header names critical extensions")]
    CriticalHeader,
    #[error("the token was not issued by dinghuo")]
    WrongIssuer,
    #[error("the token names an unknown role {0:?}")]
    UnknownRole(String),
    #[error("a token with role {role} must name a tenant")]
    MissingTenant { role: &'static str },
    #[error("an operator token must not name a tenant")]
    OperatorWithTenant,
    /// Issuing only: the issue time is before 1970 or the expiry does not fit in a timestamp.
    #[error("the token's issue or expiry time is out of range")]
    TimeOutOfRange,
    /// Issuing only: signing failed (not expected with an HMAC key).
    #[error("cannot sign the token: {0}")]
    Signing(String),
}

impl TokenError {
    /// The client-visible code (DESIGN §2). Every refusal is `UNAUTHENTICATED`: a client can do
    /// the same thing about each (get a new token), and finer codes would help an attacker probe.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TimeOutOfRange | Self::Signing(_) => ErrorCode::Internal,
            _ => ErrorCode::Unauthenticated,
        }
    }
}
