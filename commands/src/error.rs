//! What a command entry point answers when it does not succeed.

use cqrs_es::AggregateError;
use dinghuo_domain::{DomainError, ErrorCode, ValidationError};

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A rule said no (including `VALIDATION` and `FORBIDDEN`); nothing was appended.
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The stream kept changing under us after every retry; nothing was appended.
    #[error("the record was changed concurrently; try again")]
    Conflict,
    /// Too many failed attempts; try again later.
    #[error("too many failed attempts; try again in {retry_after_secs} s")]
    RateLimited { retry_after_secs: u64 },
    /// A failure, not a refusal: the database is down, a stored event cannot be read. The text
    /// is for logs only, never for clients.
    #[error("internal error: {0}")]
    Internal(String),
}

impl CommandError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Refused(error) => error.code(),
            Self::Conflict => ErrorCode::Conflict,
            Self::RateLimited { .. } => ErrorCode::RateLimited,
            Self::Internal(_) => ErrorCode::Internal,
        }
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
            AggregateError::UserError(DomainError::Lookup(text)) => Self::Internal(text),
            AggregateError::UserError(refusal) => Self::Refused(refusal),
            AggregateError::AggregateConflict => Self::Conflict,
            other => Self::Internal(other.to_string()),
        }
    }
}

impl From<sqlx::Error> for CommandError {
    fn from(error: sqlx::Error) -> Self {
        Self::Internal(error.to_string())
    }
}
