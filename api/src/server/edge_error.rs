//! The answers the server gives before GraphQL runs (a body too large, too slow, not JSON, not
//! a GraphQL request), in GraphQL's own shape (issue 16, item 6): `{"errors": [{"message",
//! "extensions": {"code", "requestId"}}]}` with the HTTP status that says what went wrong, so a
//! client handles them like any other error and can quote the request id.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use dinghuo_domain::ErrorCode;
use serde_json::json;
use uuid::Uuid;

/// A GraphQL error answer with `status`, one error with `code`, `message` and the request id
/// (none where the request id middleware did not run).
pub fn answer(
    status: StatusCode,
    code: ErrorCode,
    message: &str,
    request_id: Option<Uuid>,
) -> Response {
    let error = json!({
        "message": message,
        "extensions": {
            "code": code.as_str(),
            "requestId": request_id.map(|id| id.to_string()),
        },
    });
    let mut response = (status, Json(json!({ "errors": [error] }))).into_response();
    // The media type GraphQL over HTTP gives errors that are not a 200 (and `POST /graphql`
    // gives its other answers).
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/graphql-response+json"),
    );
    response
}
