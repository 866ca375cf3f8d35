//! Errors as clients see them: a message, `extensions.code` from DESIGN §2, `extensions.field`
//! for `VALIDATION`, and (added by the server to every error) `extensions.requestId`. An
//! unexpected failure is `INTERNAL` with no details: those go to the log, under the request id.

use async_graphql::ErrorExtensions;
use dinghuo_commands::CommandError;
use dinghuo_domain::ErrorCode;

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: ErrorCode,
    pub message: String,
    pub field: Option<String>,
}

impl ApiError {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            field: None,
        }
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
            code: ErrorCode::Validation,
            message: message.into(),
            field: Some(field.to_owned()),
        }
    }

    /// A failure the client can do nothing about. `detail` is logged, never answered.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        tracing::error!(%detail, "internal error");
        Self::new(ErrorCode::Internal, "internal error")
    }
}

impl From<CommandError> for ApiError {
    fn from(error: CommandError) -> Self {
        match &error {
            CommandError::Internal(detail) => Self::internal(detail),
            _ => Self {
                code: error.code(),
                message: error.to_string(),
                field: error.field().map(str::to_owned),
            },
        }
    }
}

impl From<sqlx::Error> for ApiError {
    fn from(error: sqlx::Error) -> Self {
        Self::internal(error)
    }
}

impl From<ApiError> for async_graphql::Error {
    fn from(error: ApiError) -> Self {
        let ApiError {
            code,
            message,
            field,
        } = error;
        async_graphql::Error::new(message).extend_with(|_, extensions| {
            extensions.set("code", code.as_str());
            if let Some(field) = &field {
                extensions.set("field", field.as_str());
            }
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
