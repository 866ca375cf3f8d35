//! Security headers on every response the router makes — GraphQL answers, health, metrics,
//! refusals such as `413` and `415`, and `404`s (issue 15, item 10).
//!
//! The router's outermost layers, so nothing inside can forget them. Two are defaults that a
//! handler may replace: the content security policy (the GraphiQL page sends its own, which
//! lets it load its scripts) and `Cache-Control` (GraphiQL's versioned assets are cached for a
//! year). The others are the same everywhere and always win. Answers hyper writes itself, before
//! any request reaches the router (`400` for a malformed head, `431`), carry none: they have no
//! body a browser could use.

use axum::http::{header, HeaderName, HeaderValue};
use axum::Router;
use tower_http::set_header::SetResponseHeaderLayer;

/// For everything but an HTML page: load nothing, be framed by nothing.
pub const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// Wraps `router` in the security headers.
pub fn secure(router: Router) -> Router {
    let always = [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (
            HeaderName::from_static("cross-origin-resource-policy"),
            "same-origin",
        ),
    ];
    let defaults = [
        (header::CONTENT_SECURITY_POLICY, DEFAULT_CSP),
        // API answers are per caller and change with every write: no cache may keep them.
        (header::CACHE_CONTROL, "no-store"),
    ];
    let router = always.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::overriding(
            name,
            HeaderValue::from_static(value),
        ))
    });
    defaults.into_iter().fold(router, |router, (name, value)| {
        router.layer(SetResponseHeaderLayer::if_not_present(
            name,
            HeaderValue::from_static(value),
        ))
    })
}
