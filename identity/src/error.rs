//! `IdentityError`: why a sign-in step did not succeed. The API maps it to its GraphQL error
//! at the edge (`api/src/graphql/error.rs`); each variant names the stable code it answers.

use std::time::Duration;

use dinghuo_commands::limiter::LimitError;
use dinghuo_commands::CommandError;
use dinghuo_domain::ErrorCode;

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// `VALIDATION`: an input is malformed; `field` is its path, for a form to mark.
    #[error("{message}")]
    Validation { field: String, message: String },
    /// `UNAUTHENTICATED`: a secret (code, password) did not prove who the caller is. The text
    /// never tells whether the phone exists.
    #[error("{0}")]
    Unauthenticated(&'static str),
    /// `RATE_LIMITED`: too many attempts; try again after `retry_after`.
    #[error("too many attempts; try again in {} s", retry_after.as_secs().max(1))]
    RateLimited { retry_after: Duration },
    /// `NOT_FOUND`: the named thing does not exist for this caller.
    #[error("no such {0}")]
    NotFound(&'static str),
    /// `CONFLICT`: a concurrent change won; nothing was changed by this request.
    #[error("{0}")]
    Conflict(&'static str),
    /// The command layer refused or failed; its own code.
    #[error(transparent)]
    Command(#[from] CommandError),
    /// The database failed: `UNAVAILABLE` or `INTERNAL`, decided at the edge. Logged, never shown.
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    /// `INTERNAL`: a failure the client can do nothing about. The text is for the log only.
    #[error("internal error: {0}")]
    Internal(String),
}

impl IdentityError {
    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self::Validation {
            field: field.to_owned(),
            message: message.into(),
        }
    }

    pub fn internal(detail: impl std::fmt::Display) -> Self {
        Self::Internal(detail.to_string())
    }

    /// The stable code this error answers (`Database` is `INTERNAL` here; the edge tells an
    /// unreachable database apart as `UNAVAILABLE`).
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation { .. } => ErrorCode::Validation,
            Self::Unauthenticated(_) => ErrorCode::Unauthenticated,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::NotFound(_) => ErrorCode::NotFound,
            Self::Conflict(_) => ErrorCode::Conflict,
            Self::Command(error) => error.code(),
            Self::Database(_) | Self::Internal(_) => ErrorCode::Internal,
        }
    }
}

impl From<LimitError> for IdentityError {
    fn from(error: LimitError) -> Self {
        match error {
            LimitError::Limited { retry_after_secs } => Self::RateLimited {
                retry_after: Duration::from_secs(retry_after_secs),
            },
            LimitError::Database(error) => Self::Database(error),
        }
    }
}

pub type IdentityResult<T> = Result<T, IdentityError>;
