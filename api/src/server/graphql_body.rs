//! The body of `POST /graphql` as a GraphQL request (one operation, or a batch), or a
//! `400 VALIDATION` error in GraphQL's shape that says what is wrong with it (issue 16, item 6).
//!
//! async-graphql-axum's extractor answers a body that is not a GraphQL request with its parse
//! error's Rust debug text in plain text. The body is already in memory here (read within the
//! size and time limits by `body_deadline`), and `content_type` let only JSON through, so the
//! request is plain JSON to decode. serde_json stops nesting at 128 levels, which bounds the
//! stack a request's variables can use; deeper variables are refused like any other bad JSON.

use async_graphql::BatchRequest;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use axum::response::Response;
use dinghuo_domain::ErrorCode;

use super::edge_error;
use super::request_id::RequestId;

/// A decoded GraphQL request body.
#[derive(Debug)]
pub struct GraphqlBody(pub BatchRequest);

impl<S: Send + Sync> FromRequest<S> for GraphqlBody {
    type Rejection = Response;

    async fn from_request(request: Request, _state: &S) -> Result<Self, Self::Rejection> {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(|RequestId(id)| *id);
        // `body_deadline` already bounded the body; nothing more is held back here.
        let body = axum::body::to_bytes(request.into_body(), usize::MAX)
            .await
            .map_err(|error| {
                tracing::info!(%error, "the request body could not be read");
                edge_error::answer(
                    StatusCode::BAD_REQUEST,
                    ErrorCode::Validation,
                    "the request body could not be read",
                    request_id,
                )
            })?;
        decode(&body).map(Self).map_err(|message| {
            edge_error::answer(
                StatusCode::BAD_REQUEST,
                ErrorCode::Validation,
                &message,
                request_id,
            )
        })
    }
}

/// The request in `body`: an object is one operation, an array a batch. Decoding each shape
/// on its own (rather than serde's untagged enum of both) keeps serde_json's message, which
/// names what and where: "invalid type: integer `5`, expected a string at line 1 column 10".
fn decode(body: &Bytes) -> Result<BatchRequest, String> {
    let first = body.iter().find(|byte| !byte.is_ascii_whitespace());
    let decoded = if first == Some(&b'[') {
        serde_json::from_slice(body).map(BatchRequest::Batch)
    } else {
        serde_json::from_slice(body).map(BatchRequest::Single)
    };
    decoded.map_err(|error| format!("the request body is not a GraphQL request: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> String {
        match decode(&Bytes::from(body.to_owned())) {
            Ok(request) => panic!("{body} was decoded: {request:?}"),
            Err(message) => message,
        }
    }

    #[test]
    fn a_request_and_a_batch_are_decoded() {
        let single = decode(&Bytes::from_static(br#"{"query":"{ viewer { id } }"}"#));
        assert!(matches!(single, Ok(BatchRequest::Single(_))), "{single:?}");
        let batch = decode(&Bytes::from_static(
            br#" [{"query":"{ a }"},{"query":"{ b }","variables":{"x":1}}]"#,
        ));
        assert!(
            matches!(&batch, Ok(BatchRequest::Batch(requests)) if requests.len() == 2),
            "{batch:?}"
        );
    }

    #[test]
    fn what_is_wrong_is_named() {
        assert!(refusal("{1:2}").contains("key must be a string"));
        assert!(refusal(r#"{"query":5}"#).contains("invalid type: integer `5`"));
        assert!(refusal(r#""{ a }""#).contains("invalid type: string"));
        assert!(refusal(r#"[{"query":"{ a }"}, 3]"#).contains("invalid type"));
        assert!(refusal("").contains("EOF"));
        let deep = format!(
            r#"{{"query":"{{ a }}","variables":{{"v":{}1{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(refusal(&deep).contains("recursion limit"));
    }
}
