//! A WebSocket handshake from a page on another site is refused (issue 15, item 10).
//!
//! The handshake is a `GET` that browsers send across sites without any CORS check, and a
//! graphql-transport-ws connection runs mutations as well as subscriptions: without this, any
//! page a user visits could open `/graphql/ws` anonymously and fire sign-in mutations from the
//! user's address, as a `text/plain` `POST` could before `content_type` refused it. Browsers
//! always send `Origin` on a WebSocket handshake and let no page set it, nor `Host` or
//! `X-Forwarded-Host`; so a handshake is served when it has no `Origin` (not a browser), or
//! when the `Origin`'s host and port are the `Host` the browser addressed (or, behind a proxy
//! that rewrites `Host`, the `X-Forwarded-Host` it passes on). Anything else gets `403`.

use axum::extract::Request;
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use dinghuo_domain::ErrorCode;
use serde_json::json;

use super::request_id::RequestId;

/// Passes a handshake from this site (or from no browser) on; answers others with `403`.
pub async fn same_site_only(request: Request, next: Next) -> Response {
    let headers = request.headers();
    let allowed = match headers.get(header::ORIGIN) {
        None => true,
        Some(origin) => origin
            .to_str()
            .ok()
            .and_then(authority_of)
            .is_some_and(|origin| addressed_hosts(headers).any(|host| host == origin)),
    };
    if allowed {
        return next.run(request).await;
    }
    tracing::info!(origin = ?request.headers().get(header::ORIGIN), "refused a WebSocket handshake from another site");
    let request_id = request
        .extensions()
        .get::<RequestId>()
        .map(|RequestId(id)| id.to_string());
    let error = json!({
        "message": "a WebSocket from a page on another site is not accepted",
        "extensions": { "code": ErrorCode::Forbidden.as_str(), "requestId": request_id },
    });
    (StatusCode::FORBIDDEN, Json(json!({ "errors": [error] }))).into_response()
}

/// `host[:port]` of an origin (`scheme://host[:port]`), lower-case, without the scheme's
/// default port; `None` for an opaque origin (`null`) or anything else.
fn authority_of(origin: &str) -> Option<String> {
    let (scheme, rest) = origin.split_once("://")?;
    if rest.is_empty() || rest.contains(['/', '?', '#', '@']) {
        return None;
    }
    let default_port = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.to_ascii_lowercase();
    Some(
        authority
            .strip_suffix(default_port)
            .map(str::to_owned)
            .unwrap_or(authority),
    )
}

/// The hosts the client addressed: `Host`, and the first `X-Forwarded-Host`, lower-case and
/// without a default port (a browser leaves it out of both `Host` and `Origin`, but a proxy
/// may add it).
fn addressed_hosts(headers: &HeaderMap) -> impl Iterator<Item = String> + '_ {
    let host = headers.get(header::HOST);
    let forwarded = headers.get("x-forwarded-host");
    [host, forwarded]
        .into_iter()
        .flatten()
        .filter_map(|value| value.to_str().ok())
        .filter_map(|value| value.split(',').next())
        .map(|value| {
            let value = value.trim().to_ascii_lowercase();
            match value
                .strip_suffix(":80")
                .or_else(|| value.strip_suffix(":443"))
            {
                Some(bare) => bare.to_owned(),
                None => value,
            }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn same_site(origin: &str, host: &str, forwarded: Option<&str>) -> bool {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, HeaderValue::from_str(host).expect("a host"));
        if let Some(forwarded) = forwarded {
            headers.insert(
                "x-forwarded-host",
                HeaderValue::from_str(forwarded).expect("a host"),
            );
        }
        authority_of(origin).is_some_and(|origin| addressed_hosts(&headers).any(|h| h == origin))
    }

    #[test]
    fn a_page_of_the_same_host_and_port_is_the_same_site() {
        assert!(same_site("http://127.0.0.1:8080", "127.0.0.1:8080", None));
        assert!(same_site(
            "https://Orders.Example.com",
            "orders.example.com",
            None
        ));
        assert!(same_site(
            "https://orders.example.com",
            "orders.example.com:443",
            None
        ));
        assert!(same_site(
            "https://orders.example.com",
            "10.0.0.5:8080",
            Some("orders.example.com")
        ));
    }

    #[test]
    fn another_host_port_or_an_opaque_origin_is_not() {
        assert!(!same_site("http://evil.example", "127.0.0.1:8080", None));
        assert!(!same_site("http://127.0.0.1:9999", "127.0.0.1:8080", None));
        assert!(!same_site("null", "127.0.0.1:8080", None));
        assert!(!same_site("file://", "127.0.0.1:8080", None));
        assert!(!same_site(
            "http://127.0.0.1:8080@evil.example",
            "127.0.0.1:8080",
            None
        ));
        assert!(!same_site(
            "http://orders.example.com.evil.example",
            "orders.example.com",
            None
        ));
    }
}
