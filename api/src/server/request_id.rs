//! A request id per request: the client's `x-request-id` when it is a UUID, or a fresh one,
//! answered in the `x-request-id` header, in every GraphQL error and in the logs.

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use tracing::Instrument;
use uuid::Uuid;

pub const REQUEST_ID_HEADER: &str = "x-request-id";

/// The request id of this request, as the `request_id` middleware stored it.
#[derive(Debug, Clone, Copy)]
pub struct RequestId(pub Uuid);

/// Takes the client's `x-request-id` when it is a UUID, or makes one; runs the request in a
/// span carrying it; answers it in the header; records the HTTP latency.
pub async fn request_id(mut request: Request, next: Next) -> Response {
    let id = request
        .headers()
        .get(REQUEST_ID_HEADER)
        .and_then(|value| value.to_str().ok())
        .and_then(|text| Uuid::parse_str(text).ok())
        .unwrap_or_else(Uuid::now_v7);
    request.extensions_mut().insert(RequestId(id));
    let path = request
        .extensions()
        .get::<MatchedPath>()
        .map(|path| path.as_str().to_owned())
        .unwrap_or_else(|| "other".to_owned());
    let method = request.method().to_string();
    let span = tracing::info_span!("request", request_id = %id, %method, %path);
    let started = Instant::now();
    let mut response = next.run(request).instrument(span).await;
    super::metrics::record_http(
        &method,
        &path,
        response.status().as_u16(),
        started.elapsed(),
    );
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    response
}
