//! Errors as clients see them: a message, `extensions.code` from DESIGN §2, `extensions.field`
//! for `VALIDATION`, `extensions.retryable` (whether the same request may succeed later) with
//! `extensions.retryAfterMs` (how long to wait first) when it is, and (added by the server to
//! every error) `extensions.requestId`. An unexpected failure is `INTERNAL` with no details:
//! those go to the log, under the request id. A database that cannot be reached is never
//! `INTERNAL` but `UNAVAILABLE`: the request may or may not have taken effect, and a retry
//! (with the same idempotency key, for a command) is the answer.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::ErrorExtensions;
use dinghuo_commands::CommandError;
use dinghuo_domain::{DomainError, ErrorCode};
use dinghuo_identity::IdentityError;
use dinghuo_store::transient::{is_unavailable, is_unavailable_cause};

/// How long a client waits before retrying after `UNAVAILABLE`: about the first pauses of the
/// server's own reconnection backoff, so that a brief cut is over when the retry comes.
pub const UNAVAILABLE_RETRY_AFTER: Duration = Duration::from_secs(1);

/// How long a client waits before retrying after `CONFLICT` (the command layer has already
/// retried on fresh state several times: the record is being changed very often).
pub const CONFLICT_RETRY_AFTER: Duration = Duration::from_millis(200);

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
    /// Set when the same request may succeed later: after how long to try again.
    pub retry_after: Option<Duration>,
    /// More extensions the client needs to act on the error (`memberships` of
    /// `TENANT_CHOICE_REQUIRED`, the rules of `QUANTITY_NOT_ALLOWED`, the new `quote` of
    /// `PRICE_CHANGED`). Boxed: rare, and it keeps every `Result<_, ApiError>` small.
    pub detail: Option<Box<Vec<(&'static str, async_graphql::Value)>>>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        let retry_after = match code {
            ErrorCode::Unavailable => Some(UNAVAILABLE_RETRY_AFTER),
            ErrorCode::Conflict => Some(CONFLICT_RETRY_AFTER),
            _ => None,
        };
        Self {
            code,
            message: message.into(),
            field: None,
            retry_after,
            detail: None,
        }
    }

    /// The same error with the extension `name` set to `value`.
    pub fn with_detail(mut self, name: &'static str, value: async_graphql::Value) -> Self {
        self.detail
            .get_or_insert_with(Default::default)
            .push((name, value));
        self
    }

    pub fn unauthenticated() -> Self {
        Self::new(
            ErrorCode::Unauthenticated,
            "a valid bearer token is required",
        )
    }

    pub fn forbidden() -> Self {
        Self::new(ErrorCode::Forbidden, "not allowed for this caller")
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(ErrorCode::NotFound, format!("no such {what}"))
    }

    pub fn validation(field: &str, message: impl Into<String>) -> Self {
        Self {
            field: Some(field.to_owned()),
            ..Self::new(ErrorCode::Validation, message)
        }
    }

    /// `RATE_LIMITED`, retryable once the window has moved on.
    pub fn rate_limited(retry_after: Duration) -> Self {
        let secs = retry_after.as_secs().max(1);
        Self {
            retry_after: Some(retry_after),
            ..Self::new(
                ErrorCode::RateLimited,
                format!("too many attempts; try again in {secs} s"),
            )
        }
    }

    /// The database could not be reached, or the connection was lost. `detail` is logged,
    /// never answered.
    pub fn unavailable(detail: impl std::fmt::Display) -> Self {
        tracing::warn!(%detail, "database unavailable");
        Self::new(
            ErrorCode::Unavailable,
            "the database is unavailable; the request may or may not have taken effect: retry",
        )
    }

    /// A failure the client can do nothing about. `detail` is logged, never answered.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }

    /// A failure of unknown kind: `UNAVAILABLE` when a database error that says the database
    /// could not be reached is behind it, else `INTERNAL`.
    pub fn failure(error: &(dyn std::error::Error + 'static)) -> Self {
        if is_unavailable_cause(error) {
            Self::unavailable(error)
        } else {
            Self::internal(error)
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match &error {
            CommandError::Internal(detail) => Self::internal(detail),
            CommandError::Unavailable(detail) => Self::unavailable(detail),
            CommandError::RateLimited { retry_after_secs } => {
                Self::rate_limited(Duration::from_secs(*retry_after_secs))
            }
            CommandError::Refused(refusal) => {
                let api = Self {
                    field: error.field().map(str::to_owned),
                    ..Self::new(error.code(), error.to_string())
                };
                crate::graphql::types::pricing::refusal_details(api, refusal)
            }
            _ => Self {
                field: error.field().map(str::to_owned),
                ..Self::new(error.code(), error.to_string())
            },
        }
    }
}

/// A sign-in step's refusal or failure, mapped to its code at the edge.
impl From<IdentityError> for ApiError {
    fn from(error: IdentityError) -> Self {
        match error {
            IdentityError::Validation { field, message } => Self::validation(&field, message),
            IdentityError::RateLimited { retry_after } => Self::rate_limited(retry_after),
            IdentityError::Command(error) => error.into(),
            IdentityError::Database(error) => error.into(),
            IdentityError::Internal(detail) => Self::internal(detail),
            other => Self::new(other.code(), other.to_string()),
        }
    }
}

/// A lookup's answer outside a command (e.g. the contact-standing check).
impl From<DomainError> for ApiError {
    fn from(error: DomainError) -> Self {
        CommandError::from(error).into()
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        if is_unavailable(&error) {
            Self::unavailable(error)
        } else {
            Self::internal(error)
        }
    }
}

/// What a DataLoader shares among the fields that asked for one batch.
impl From<Arc<sqlx::Error>> for ApiError {
    fn from(error: Arc<sqlx::Error>) -> Self {
        if is_unavailable(&error) {
            Self::unavailable(error)
        } else {
            Self::internal(error)
        }
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let ApiError {
            code,
            message,
            field,
            retry_after,
            detail,
        } = error;
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code.as_str());
            if let Some(field) = &field {
                extensions.set("field", field.as_str());
            }
            extensions.set("retryable", retry_after.is_some());
            if let Some(delay) = retry_after {
                extensions.set(
                    "retryAfterMs",
                    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
                );
            }
            for (name, value) in detail.iter().flat_map(|detail| detail.iter()) {
                extensions.set(*name, value.clone());
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
