//! `POST /graphql` takes JSON only (issue 15, item 10).
//!
//! A browser sends `text/plain`, `application/x-www-form-urlencoded` and `multipart/form-data`
//! across sites without asking first (no CORS preflight). async-graphql would parse such a
//! body as JSON (or as a multipart upload) and run it, so any page a user visits could fire
//! anonymous sign-in mutations from the user's address. `application/json` cannot be sent
//! across sites without a preflight, which this server never grants. Anything else, or no
//! `Content-Type` at all, is refused with `415` and a GraphQL error (`VALIDATION`) before the
//! body is parsed.

use axum::extract::Request;
use axum::http::{header, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::Response;
use dinghuo_domain::ErrorCode;

use super::edge_error;
use super::request_id::RequestId;

/// The media types a GraphQL request body may have: JSON, and the GraphQL-over-HTTP
/// response type, which some clients send for both directions.
const ACCEPTED: [&str; 2] = ["application/json", "application/graphql-response+json"];

/// Passes a request whose body is JSON on; answers anything else with `415`.
pub async fn json_only(request: Request, next: Next) -> Response {
    if request
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(is_json)
    {
        return next.run(request).await;
    }
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|RequestId(id)| *id);
    edge_error::answer(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ErrorCode::Validation,
        "a GraphQL request body must be JSON: send Content-Type: application/json",
        request_id,
    )
}

/// `application/json` or `application/graphql-response+json`, in any case, with no parameter
/// but `charset=utf-8` (JSON is UTF-8).
fn is_json(value: &HeaderValue) -> bool {
    let Ok(text) = value.to_str() else {
        return false;
    };
    let mut parts = text.split(';');
    let essence = parts.next().unwrap_or_default().trim();
    if !ACCEPTED
        .iter()
        .any(|accepted| essence.eq_ignore_ascii_case(accepted))
    {
        return false;
    }
    parts
        .map(str::trim)
        .filter(|parameter| !parameter.is_empty())
        .all(|parameter| {
            parameter.split_once('=').is_some_and(|(name, value)| {
                name.trim().eq_ignore_ascii_case("charset")
                    && value.trim().trim_matches('"').eq_ignore_ascii_case("utf-8")
            })
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepts(text: &str) -> bool {
        is_json(&HeaderValue::from_str(text).expect("a header value"))
    }

    #[test]
    fn json_with_or_without_a_utf8_charset_is_accepted() {
        for text in [
            "application/json",
            "Application/JSON",
            "application/json; charset=utf-8",
            "application/json;charset=\"UTF-8\"",
            "application/graphql-response+json",
            "application/graphql-response+json; charset=utf-8",
        ] {
            assert!(accepts(text), "{text}");
        }
    }

    #[test]
    fn bodies_a_cross_site_form_can_send_are_refused() {
        for text in [
            "text/plain",
            "text/plain; charset=utf-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/graphql",
            "application/json; charset=latin1",
            "application/json; boundary=x",
            "application/jsonp",
            "text/json",
            "",
        ] {
            assert!(!accepts(text), "{text}");
        }
    }
}
