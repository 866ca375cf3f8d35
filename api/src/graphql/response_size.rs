//! The response size cap (`--max-response-bytes`). The complexity limit bounds how many items a
//! query may ask for, but not how large each is (an event's payload, a long note); past the cap
//! an answer is replaced by a `RESPONSE_TOO_LARGE` error naming the request.
//!
//! A response is serialised once anyway: here it is serialised into a [`Bounded`] buffer that
//! refuses to grow past the cap, so that an oversized answer never costs more than the cap in
//! bytes before it is dropped. In a batch the cap bounds the whole body: each operation gets
//! what the ones before it left, and one that does not fit is replaced alone, so that the batch
//! keeps its shape. Over WebSocket ([`SubscriptionCap`]) each message is measured (counted, not
//! built) before it is sent: an event past the cap is replaced, and the subscription goes on.

use std::io;
use std::sync::Arc;

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextSubscribe};
use async_graphql::{BatchResponse, ErrorExtensionValues, Response, ServerError};
use dinghuo_domain::ErrorCode;
use futures::stream::BoxStream;
use futures::StreamExt;
use serde::Serialize;
use uuid::Uuid;

use crate::graphql::Caller;

/// The default cap: far above any page the complexity limit lets through, far below what
/// would hurt the server.
pub const DEFAULT_MAX_RESPONSE_BYTES: usize = 8 << 20;

/// A buffer that refuses a write that would take it past `cap` bytes (serde_json then stops).
struct Bounded {
    bytes: Vec<u8>,
    cap: usize,
}

impl io::Write for Bounded {
    fn write(&mut self, chunk: &[u8]) -> io::Result<usize> {
        if self.bytes.len().saturating_add(chunk.len()) > self.cap {
            return Err(io::Error::other("past the response size cap"));
        }
        self.bytes.extend_from_slice(chunk);
        Ok(chunk.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Counts the bytes of a serialisation without keeping them, and stops past `cap`.
struct Counter {
    count: usize,
    cap: usize,
}

impl io::Write for Counter {
    fn write(&mut self, chunk: &[u8]) -> io::Result<usize> {
        self.count = self.count.saturating_add(chunk.len());
        if self.count > self.cap {
            return Err(io::Error::other("past the response size cap"));
        }
        Ok(chunk.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// `value` as JSON appended to `out`, unless that takes `out` past `cap` bytes: then `out` is
/// left as it was and the answer is `false`.
fn append_within<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T, cap: usize) -> bool {
    let mut bounded = Bounded {
        bytes: std::mem::take(out),
        cap,
    };
    let mark = bounded.bytes.len();
    let fits = serde_json::to_writer(&mut bounded, value).is_ok();
    *out = bounded.bytes;
    if !fits {
        out.truncate(mark);
    }
    fits
}

/// Whether `value` serialises within `cap` bytes (measured without building it).
pub fn fits<T: Serialize + ?Sized>(value: &T, cap: usize) -> bool {
    serde_json::to_writer(Counter { count: 0, cap }, value).is_ok()
}

/// The answer that replaces one past the cap.
pub fn too_large(cap: usize, request_id: Option<Uuid>) -> Response {
    let mut error = ServerError::new(
        format!(
            "the response is larger than {cap} bytes, the most this server sends: ask for \
             less (a smaller page, fewer fields or aliases)"
        ),
        None,
    );
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", ErrorCode::ResponseTooLarge.as_str());
    extensions.set("maxResponseBytes", cap);
    if let Some(id) = request_id {
        extensions.set("requestId", id.to_string());
    }
    error.extensions = Some(extensions);
    Response::from_errors(vec![error])
}

/// The JSON body of `response`, at most about `cap` bytes, and how many of its operations were
/// replaced by [`too_large`] (their errors are written even past the cap: they are small, and
/// a batch holds at most `--max-batch` of them).
pub fn to_json(response: &BatchResponse, cap: usize, request_id: Uuid) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut replaced = 0;
    let mut one = |out: &mut Vec<u8>, response: &Response| {
        if !append_within(out, response, cap) {
            replaced += 1;
            // Serialising a small, plain object into a Vec cannot fail.
            let _ = serde_json::to_writer(&mut *out, &too_large(cap, Some(request_id)));
        }
    };
    match response {
        BatchResponse::Single(response) => one(&mut out, response),
        BatchResponse::Batch(responses) => {
            out.push(b'[');
            for (i, response) in responses.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                one(&mut out, response);
            }
            out.push(b']');
        }
    }
    (out, replaced)
}

/// Caps every message of a WebSocket operation (a subscription's events, or a query sent over
/// the socket) at `cap` bytes.
pub struct SubscriptionCap {
    cap: usize,
}

impl SubscriptionCap {
    pub fn new(cap: usize) -> Self {
        Self { cap }
    }
}

impl ExtensionFactory for SubscriptionCap {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(SubscriptionCapExtension { cap: self.cap })
    }
}

struct SubscriptionCapExtension {
    cap: usize,
}

#[async_graphql::async_trait::async_trait]
impl Extension for SubscriptionCapExtension {
    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let cap = self.cap;
        let request_id = ctx.data_opt::<Caller>().map(|caller| caller.request_id);
        next.run(ctx, stream)
            .map(move |response| {
                if fits(&response, cap) {
                    return response;
                }
                tracing::warn!(
                    request_id = ?request_id,
                    cap,
                    "a WebSocket message was past the response size cap: answered \
                     RESPONSE_TOO_LARGE instead"
                );
                too_large(cap, request_id)
            })
            .boxed()
    }
}

#[cfg(test)]
mod tests {
    use async_graphql::{Name, Value};

    use super::*;

    fn response_of(text: &str) -> Response {
        let mut object = async_graphql::indexmap::IndexMap::new();
        object.insert(Name::new("text"), Value::String(text.to_owned()));
        Response::new(Value::Object(object))
    }

    fn json(bytes: &[u8]) -> serde_json::Value {
        serde_json::from_slice(bytes).expect("valid JSON")
    }

    #[test]
    fn under_the_cap_the_body_is_the_plain_serialisation() {
        let response = BatchResponse::Single(response_of("hello"));
        let (body, replaced) = to_json(&response, 1024, Uuid::nil());
        assert_eq!(replaced, 0);
        assert_eq!(body, serde_json::to_vec(&response).expect("JSON"));
        let batch = BatchResponse::Batch(vec![response_of("a"), response_of("b")]);
        let (body, _) = to_json(&batch, 1024, Uuid::nil());
        assert_eq!(body, serde_json::to_vec(&batch).expect("JSON"));
    }

    #[test]
    fn past_the_cap_the_answer_is_the_coded_error_and_no_more_than_the_cap_was_built() {
        let id = Uuid::now_v7();
        let response = BatchResponse::Single(response_of(&"x".repeat(10_000)));
        let (body, replaced) = to_json(&response, 1_000, id);
        assert_eq!(replaced, 1);
        assert!(body.len() < 1_000, "{}", body.len());
        let answer = json(&body);
        assert_eq!(answer["data"], serde_json::Value::Null);
        assert_eq!(
            answer["errors"][0]["extensions"]["code"],
            "RESPONSE_TOO_LARGE"
        );
        assert_eq!(
            answer["errors"][0]["extensions"]["requestId"],
            id.to_string()
        );
        assert_eq!(answer["errors"][0]["extensions"]["maxResponseBytes"], 1_000);

        // The buffer never grew past the cap: the serialisation stopped there.
        let mut out = Vec::new();
        assert!(!append_within(
            &mut out,
            &response_of(&"x".repeat(10_000)),
            1_000
        ));
        assert!(out.is_empty());
        assert!(out.capacity() <= 2 * 1_000, "{}", out.capacity());
    }

    #[test]
    fn in_a_batch_only_what_does_not_fit_is_replaced() {
        let batch = BatchResponse::Batch(vec![
            response_of("small"),
            response_of(&"x".repeat(5_000)),
            response_of("small too"),
        ]);
        let (body, replaced) = to_json(&batch, 1_000, Uuid::nil());
        assert_eq!(replaced, 1);
        let answers = json(&body);
        let answers = answers.as_array().expect("a batch answers an array");
        assert_eq!(answers.len(), 3);
        assert_eq!(answers[0]["data"]["text"], "small");
        assert_eq!(
            answers[1]["errors"][0]["extensions"]["code"],
            "RESPONSE_TOO_LARGE"
        );
        assert_eq!(answers[2]["data"]["text"], "small too");

        // The cap bounds the whole body: each answer gets what the ones before it left.
        let batch = BatchResponse::Batch(vec![
            response_of(&"a".repeat(600)),
            response_of(&"b".repeat(600)),
        ]);
        let (body, replaced) = to_json(&batch, 1_000, Uuid::nil());
        assert_eq!(replaced, 1);
        let answers = json(&body);
        assert_eq!(answers[0]["data"]["text"], "a".repeat(600));
        assert_eq!(
            answers[1]["errors"][0]["extensions"]["code"],
            "RESPONSE_TOO_LARGE"
        );
    }

    #[test]
    fn measuring_agrees_with_the_serialisation() {
        let response = response_of(&"y".repeat(100));
        let size = serde_json::to_vec(&response).expect("JSON").len();
        assert!(fits(&response, size));
        assert!(!fits(&response, size - 1));
    }
}
