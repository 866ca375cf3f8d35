//! GraphiQL at `GET /graphql`, served entirely from the binary (issue 15, item 10): React,
//! ReactDOM and GraphiQL at pinned versions (`api/assets/graphiql/`, listed with their
//! checksums and licences in `VENDORED.md` there), and our page, its stylesheet and its start
//! script. The page works on a network without any CDN, and loads nothing from elsewhere.
//!
//! - **Paths are versioned**: `/graphiql/<package>@<version>/<file>`, ours under
//!   `dinghuo@<hash of the file>`, so each is cached for a year as immutable and a new binary
//!   with other files uses other paths.
//! - **Compressed** (brotli or gzip, as the client accepts): GraphiQL is 1.5 MB as is.
//! - **The page's policy** (`page_csp`): scripts and styles from this origin only — no inline
//!   script at all (the start script is a file), fonts and images embedded in GraphiQL's
//!   stylesheet (`data:`), requests to this origin over HTTP and WebSocket, no framing. The one
//!   exception is a per-answer nonce for the `<style>` elements GraphiQL's dialogs add; it
//!   spares the page `style-src 'unsafe-inline'`.

use std::sync::LazyLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use sha2::{Digest, Sha256};
use tower_http::compression::{CompressionLayer, CompressionLevel};
use uuid::Uuid;

/// Where the assets are served.
const PREFIX: &str = "/graphiql";

/// One file served under [`PREFIX`].
struct Asset {
    /// `<package>@<version>`: the versioned directory.
    directory: String,
    file: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

impl Asset {
    fn vendored(
        package: &str,
        version: &str,
        file: &'static str,
        content_type: &'static str,
        bytes: &'static [u8],
    ) -> Self {
        Self {
            directory: format!("{package}@{version}"),
            file,
            content_type,
            bytes,
        }
    }

    /// One of ours, versioned by its content.
    fn ours(file: &'static str, content_type: &'static str, bytes: &'static [u8]) -> Self {
        let digest = Sha256::digest(bytes);
        let hash: String = digest[..6]
            .iter()
            .map(|byte| format!("{byte:02x}"))
            .collect();
        Self {
            directory: format!("dinghuo@{hash}"),
            file,
            content_type,
            bytes,
        }
    }

    fn path(&self) -> String {
        format!("{PREFIX}/{}/{}", self.directory, self.file)
    }
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

static ASSETS: LazyLock<Vec<Asset>> = LazyLock::new(|| {
    vec![
        Asset::vendored(
            "react",
            "18.3.1",
            "react.production.min.js",
            JS,
            include_bytes!("../../assets/graphiql/react.production.min.js"),
        ),
        Asset::vendored(
            "react-dom",
            "18.3.1",
            "react-dom.production.min.js",
            JS,
            include_bytes!("../../assets/graphiql/react-dom.production.min.js"),
        ),
        Asset::vendored(
            "graphiql",
            "4.1.2",
            "graphiql.min.js",
            JS,
            include_bytes!("../../assets/graphiql/graphiql.min.js"),
        ),
        Asset::vendored(
            "graphiql",
            "4.1.2",
            "graphiql.min.css",
            CSS,
            include_bytes!("../../assets/graphiql/graphiql.min.css"),
        ),
        Asset::ours(
            "page.css",
            CSS,
            include_bytes!("../../assets/graphiql/page.css"),
        ),
        Asset::ours(
            "init.js",
            JS,
            include_bytes!("../../assets/graphiql/init.js"),
        ),
    ]
});

/// The page with every asset's path filled in; only the nonce is left for each answer.
static PAGE: LazyLock<String> = LazyLock::new(|| {
    ASSETS.iter().fold(
        include_str!("../../assets/graphiql/index.html").to_owned(),
        |page, asset| page.replace(&format!("{{{{{}}}}}", asset.file), &asset.path()),
    )
});

/// The routes of the assets, compressed.
pub fn assets<S: Clone + Send + Sync + 'static>() -> Router<S> {
    // Brotli's default quality (11) takes seconds of CPU for GraphiQL's megabyte, on every
    // first visit; 5 compresses nearly as well in milliseconds.
    let compression = CompressionLayer::new().quality(CompressionLevel::Precise(5));
    Router::new().route(
        &format!("{PREFIX}/{{directory}}/{{file}}"),
        get(asset).layer(compression),
    )
}

/// A versioned asset, cached for a year.
async fn asset(Path((directory, file)): Path<(String, String)>) -> Response {
    let Some(asset) = ASSETS
        .iter()
        .find(|asset| asset.directory == directory && asset.file == file)
    else {
        return StatusCode::NOT_FOUND.into_response();
    };
    (
        [
            (header::CONTENT_TYPE, asset.content_type),
            (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
        ],
        asset.bytes,
    )
        .into_response()
}

/// The GraphiQL page, with its own content security policy.
pub async fn page(headers: HeaderMap) -> Response {
    let nonce = Uuid::new_v4().simple().to_string();
    let html = PAGE.replace("{{nonce}}", &nonce);
    let csp = page_csp(&nonce, headers.get(header::HOST));
    let mut response = ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response();
    if let Ok(csp) = HeaderValue::from_str(&csp) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// The page's content security policy. Subscriptions open a WebSocket to this host: older
/// browsers do not count `ws:`/`wss:` as `'self'`, so the host is named when the `Host` header
/// is a plain host (and port), and left out otherwise rather than copied into the policy.
fn page_csp(nonce: &str, host: Option<&HeaderValue>) -> String {
    let websocket = host
        .and_then(|host| host.to_str().ok())
        .filter(|host| is_plain_authority(host))
        .map(|host| format!(" ws://{host} wss://{host}"))
        .unwrap_or_default();
    format!(
        "default-src 'none'; script-src 'self'; style-src 'self' 'nonce-{nonce}'; \
         img-src 'self' data:; font-src 'self' data:; connect-src 'self'{websocket}; \
         base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
}

/// A host name, IPv4 or bracketed IPv6 address, with an optional port: nothing that could end
/// a CSP source or directive.
fn is_plain_authority(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 255
        && host
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric() || b".-:[]".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_references_every_asset_and_nothing_else() {
        for asset in ASSETS.iter() {
            assert!(
                PAGE.contains(&asset.path()),
                "{} is not on the page",
                asset.file
            );
        }
        let placeholders = PAGE.matches("{{").count();
        assert_eq!(
            placeholders, 1,
            "only the nonce is left to fill:\n{}",
            *PAGE
        );
        assert!(!PAGE.contains("<script>"), "no inline script");
        assert!(!PAGE.contains("<style"), "no inline style");
    }

    #[test]
    fn a_host_header_is_named_in_the_policy_only_when_plain() {
        let plain = HeaderValue::from_static("127.0.0.1:8080");
        assert!(page_csp("n", Some(&plain)).contains(" ws://127.0.0.1:8080 wss://127.0.0.1:8080;"));
        let forged = HeaderValue::from_static("evil.example; script-src *");
        let csp = page_csp("n", Some(&forged));
        assert!(!csp.contains("evil"), "{csp}");
        assert!(csp.contains("connect-src 'self';"), "{csp}");
    }

    /// The files compiled in are the ones `VENDORED.md` lists, byte for byte.
    #[test]
    fn the_vendored_files_match_their_listed_checksums() {
        let listing = include_str!("../../assets/graphiql/VENDORED.md");
        for asset in ASSETS
            .iter()
            .filter(|asset| !asset.directory.starts_with("dinghuo@"))
        {
            let digest: String = Sha256::digest(asset.bytes)
                .iter()
                .map(|byte| format!("{byte:02x}"))
                .collect();
            let (package, version) = asset.directory.split_once('@').unwrap_or_default();
            let row = listing
                .lines()
                .find(|line| line.contains(&format!("`{}`", asset.file)))
                .unwrap_or_else(|| panic!("VENDORED.md lists no {}", asset.file));
            for expected in [package, version, digest.as_str()] {
                assert!(
                    row.contains(expected),
                    "{}: {row} lacks {expected}",
                    asset.file
                );
            }
        }
    }
}
