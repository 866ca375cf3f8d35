//! What a command entry point answers when it does not succeed.

use cqrs_es::AggregateError;
use dinghuo_domain::{DomainError, ErrorCode, ValidationError};

use dinghuo_store::transient::{is_unavailable, is_unavailable_cause};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A rule said no (including `VALIDATION` and `FORBIDDEN`); nothing was appended.
    #[error(transparent)]
    Refused(DomainError),
    /// The stream kept changing under us after every retry; nothing was appended.
    #[error("the record was changed concurrently; try again")]
    Conflict,
    /// Too many failed attempts; try again later.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// The database could not be reached, or the connection was lost in the middle of the
    /// command: it may or may not have been appended. A retry with the same idempotency key is
    /// safe. The text is for logs only.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// A failure, not a refusal: a stored event cannot be read, an invariant of ours broke. The
    /// text is for logs only, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused(error) => error.code(),
            Self::Conflict => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Internal(_) => ErrorCode::Internal,
        }
    }

    /// A failure (logged where it happened, with its detail) rather than a refusal.
    pub fn is_failure(&self) -> bool {
        matches!(self, Self::Unavailable(_) | Self::Internal(_))
    }

    /// The field at fault, for `VALIDATION`.
    pub fn field(&self) -> Option<&str> {
        match self {
            Self::Refused(DomainError::Validation(error)) => Some(&error.field),
            _ => None,
        }
    }

    pub(crate) fn forbidden() -> Self {
        Self::Refused(DomainError::Forbidden)
    }
}

impl From<ValidationError> for CommandError {
    fn from(error: ValidationError) -> Self {
        Self::Refused(DomainError::Validation(error))
    }
}

impl From<AggregateError<DomainError>> for CommandError {
    fn from(error: AggregateError<DomainError>) -> Self {
        match error {
            AggregateError::UserError(error) => error.into(),
            AggregateError::AggregateConflict => Self::Conflict,
            AggregateError::DatabaseConnectionError(error) => Self::Unavailable(error.to_string()),
            AggregateError::UnexpectedError(error) if is_unavailable_cause(error.as_ref()) => {
                Self::Unavailable(error.to_string())
            }
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<DomainError> for CommandError {
    fn from(error: DomainError) -> Self {
        match error {
            DomainError::Unavailable(text) => Self::Unavailable(text),
            DomainError::Lookup(text) => Self::Internal(text),
            refusal => Self::Refused(refusal),
        }
    }
}

impl From<crate::limiter::LimitError> for CommandError {
    fn from(error: crate::limiter::LimitError) -> Self {
        match error {
            crate::limiter::LimitError::Limited { retry_after_secs } => {
                Self::RateLimited { retry_after_secs }
            }
            crate::limiter::LimitError::Database(error) => error.into(),
        }
    }
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::Unavailable(error.to_string())
        } else {
            Self::Internal(error.to_string())
        }
    }
}
