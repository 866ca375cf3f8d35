//! The HTTP answer of `POST /graphql`: the response serialised once, within the response size
//! cap (`graphql::response_size`), with the headers async-graphql asks for.

use axum::body::Body;
use axum::http::{header, HeaderValue};
use axum::response::Response;
use uuid::Uuid;

use crate::graphql::response_size;

/// `response` as the HTTP answer, its JSON at most about `max_bytes` long.
pub fn graphql(
    response: async_graphql::BatchResponse,
    max_bytes: usize,
    request_id: Uuid,
) -> Response {
    let (body, replaced) = response_size::to_json(&response, max_bytes, request_id);
    if replaced > 0 {
        tracing::warn!(
            replaced,
            max_bytes,
            "answered RESPONSE_TOO_LARGE instead of a response past the size cap"
        );
    }
    let mut answer = Response::new(Body::from(body));
    answer.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    if replaced == 0 && response.is_ok() {
        if let Some(value) = response
            .cache_control()
            .value()
            .and_then(|value| HeaderValue::from_str(&value).ok())
        {
            answer.headers_mut().insert(header::CACHE_CONTROL, value);
        }
    }
    answer.headers_mut().extend(response.http_headers());
    answer
}
