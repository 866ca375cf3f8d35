//! A request's whole body must arrive within `--body-timeout` of its head (issue 15, item 6).
//!
//! The limit is on the whole body, not between two reads (as tower-http's
//! `RequestBodyTimeoutLayer` has it): a client trickling one byte a second would pass a
//! per-read limit forever. The body is read here, into memory, before any handler runs: the
//! GraphQL handler reads it whole anyway, and the body limit (the layer outside this one)
//! bounds it. Past the deadline the client gets `408 Request Timeout` and hyper closes the
//! connection, whose unread rest cannot be skipped.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::LengthLimitError;

/// How long a request body may take, as the middleware's state.
#[derive(Debug, Clone, Copy)]
pub struct BodyDeadline(pub Duration);

/// Reads the body within the deadline, then hands the request on with the body in memory.
pub async fn read_body_in_time(
    State(BodyDeadline(deadline)): State<BodyDeadline>,
    request: Request,
    next: Next,
) -> Response {
    if axum::body::HttpBody::size_hint(request.body()).exact() == Some(0) {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    match tokio::time::timeout(deadline, axum::body::to_bytes(body, usize::MAX)).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(error)) if exceeds_length_limit(&error) => (
            StatusCode::PAYLOAD_TOO_LARGE,
            "the request body is too large",
        )
            .into_response(),
        Ok(Err(error)) => {
            tracing::info!(%error, "the request body could not be read");
            (
                StatusCode::BAD_REQUEST,
                "the request body could not be read",
            )
                .into_response()
        }
        Err(_) => {
            tracing::info!(?deadline, "the request body did not arrive in time");
            let mut response = (
                StatusCode::REQUEST_TIMEOUT,
                "the request body did not arrive in time",
            )
                .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Whether reading failed on the body limit (tower-http's `RequestBodyLimitLayer` wraps the
/// body in `http_body_util::Limited`, whose error ends up somewhere in the chain).
fn exceeds_length_limit(error: &axum::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(error) = cause {
        if error.is::<LengthLimitError>() {
            return true;
        }
        cause = error.source();
    }
    false
}
