//! A request's whole body must arrive within `--body-timeout` of its head (issue 15, item 6),
//! and be no larger than `--max-body-bytes`.
//!
//! The limit is on the whole body, not between two reads (as tower-http's
//! `RequestBodyTimeoutLayer` has it): a client trickling one byte a second would pass a
//! per-read limit forever. The body is read here, into memory, before any handler runs: the
//! GraphQL handler reads it whole anyway. Past the deadline the client gets `408 Request
//! Timeout` and hyper closes the connection, whose unread rest cannot be skipped.
//!
//! The size is checked here too, rather than by tower-http's `RequestBodyLimitLayer`, whose
//! `413` is plain text: a declared `Content-Length` past the limit is refused before reading,
//! a chunked body as soon as it passes it (`http_body_util::Limited`). Every refusal is a
//! GraphQL error with a code and the request id (issue 16, item 6): `PAYLOAD_TOO_LARGE` for
//! the size, `VALIDATION` for a body that is late or cannot be read.

use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use dinghuo_domain::ErrorCode;
use http_body_util::{BodyExt, LengthLimitError, Limited};

use super::edge_error;
use super::request_id::RequestId;

/// How long a request body may take and how large it may be, as the middleware's state.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    pub deadline: Duration,
    pub max_bytes: usize,
}

/// Reads the body within the limits, then hands the request on with the body in memory.
pub async fn read_body_in_time(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let size = request.body().size_hint();
    if size.exact() == Some(0) {
        return next.run(request).await;
    }
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|RequestId(id)| *id);
    if usize::try_from(size.lower()).map_or(true, |declared| declared > limits.max_bytes) {
        return too_large(limits.max_bytes, request_id);
    }
    let (parts, body) = request.into_parts();
    let reading = Limited::new(body, limits.max_bytes).collect();
    match tokio::time::timeout(limits.deadline, reading).await {
        Ok(Ok(collected)) => {
            next.run(Request::from_parts(parts, Body::from(collected.to_bytes())))
                .await
        }
        Ok(Err(error)) if error.is::<LengthLimitError>() => too_large(limits.max_bytes, request_id),
        Ok(Err(error)) => {
            tracing::info!(%error, "the request body could not be read");
            edge_error::answer(
                StatusCode::BAD_REQUEST,
                ErrorCode::Validation,
                "the request body could not be read",
                request_id,
            )
        }
        Err(_) => {
            tracing::info!(deadline = ?limits.deadline, "the request body did not arrive in time");
            let mut response = edge_error::answer(
                StatusCode::REQUEST_TIMEOUT,
                ErrorCode::Validation,
                &format!(
                    "the request body did not arrive within {} s",
                    limits.deadline.as_secs_f64()
                ),
                request_id,
            );
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// `413` with `PAYLOAD_TOO_LARGE`, naming the limit.
fn too_large(max_bytes: usize, request_id: Option<uuid::Uuid>) -> Response {
    edge_error::answer(
        StatusCode::PAYLOAD_TOO_LARGE,
        ErrorCode::PayloadTooLarge,
        &format!("the request body is larger than the {max_bytes} bytes this server takes"),
        request_id,
    )
}
