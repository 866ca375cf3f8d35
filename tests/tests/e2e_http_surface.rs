//! What any HTTP client (a browser on another site included) sees of the server (issue 15,
//! item 10), against a real server on both backends: security headers on every answer, only
//! JSON bodies executed, no operation over `GET` (a WebSocket handshake from another site
//! included), `/readyz` without database error text, and GraphiQL served from the binary with
//! its own policy and only same-origin references.

use std::collections::BTreeSet;

use dinghuo_store::Database;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

const DEFAULT_CSP: &str = "default-src 'none'; frame-ancestors 'none'";

/// The headers every answer carries, whatever its route and status.
fn assert_secured(what: &str, response: &reqwest::Response) {
    let headers = response.headers();
    for (name, expected) in [
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("x-frame-options", "DENY"),
        ("cross-origin-resource-policy", "same-origin"),
    ] {
        assert_eq!(
            headers.get(name).and_then(|value| value.to_str().ok()),
            Some(expected),
            "{what}: {name} in {headers:#?}"
        );
    }
    let csp = headers
        .get("content-security-policy")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    assert!(
        csp.contains("frame-ancestors 'none'"),
        "{what}: CSP {csp:?}"
    );
}

fn header<'a>(response: &'a reqwest::Response, name: &str) -> &'a str {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
}

/// A JSON (non-HTML) answer: the default policy, and no cache may keep it.
fn assert_api_answer(what: &str, response: &reqwest::Response) {
    assert_secured(what, response);
    assert_eq!(
        header(response, "content-security-policy"),
        DEFAULT_CSP,
        "{what}"
    );
    assert_eq!(header(response, "cache-control"), "no-store", "{what}");
}

/// The events stored so far: a mutation that ran appended one before answering.
async fn event_count(db: &Database) -> i64 {
    let sql = "SELECT COUNT(*) FROM events";
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count events")
}

async fn ordering_enabled(server: &TestServer, token: &str) -> bool {
    let data = server
        .ok(
            Some(token),
            "{ tenant { apps { app enabled } } }",
            json!({}),
        )
        .await;
    data["tenant"]["apps"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|app| app["app"] == "ORDERING" && app["enabled"] == true)
}

/// Renames a table under the server, so that reading it fails with the database's own words.
async fn rename_table(db: &Database, from: &str, to: &str) {
    let sql = format!("ALTER TABLE {from} RENAME TO {to}");
    let result = match db {
        Database::Postgres(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
        Database::Sqlite(pool) => sqlx::query(&sql).execute(pool).await.map(|_| ()),
    };
    result.expect("the table is renamed");
}

/// Opens `/graphql/ws` with `origin` (none: as a non-browser client) and asks for an anonymous
/// `connection_init`; answers the first message, or the handshake's refusal status.
async fn websocket_from(server: &TestServer, origin: Option<&str>) -> Result<Value, u16> {
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .expect("a WebSocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    if let Some(origin) = origin {
        request
            .headers_mut()
            .insert("Origin", origin.parse().expect("a header value"));
    }
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return Err(response.status().as_u16())
        }
        Err(error) => panic!("the handshake failed: {error}"),
    };
    let init = json!({"type": "connection_init", "payload": {}});
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("send connection_init");
    let message = socket.next().await.expect("an answer").expect("a message");
    Ok(serde_json::from_str(message.to_text().expect("text")).expect("JSON"))
}

on_both_backends! {
    async fn every_answer_carries_the_security_headers(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--max-body-bytes", "4096"]).await;
        let admin = server.token(&world.admin);
        let http = reqwest::Client::new();

        for path in ["/healthz", "/readyz", "/metrics", "/no-such-page", "/graphiql/react@0.0.0/react.js"] {
            let response = http.get(server.url(path)).send().await.expect("an answer");
            assert_api_answer(path, &response);
        }
        let not_found = http.get(server.url("/no-such-page")).send().await.expect("an answer");
        assert_eq!(not_found.status().as_u16(), 404);

        let query = http
            .post(server.url("/graphql"))
            .bearer_auth(&admin)
            .json(&json!({"query": "{ viewer { id } }"}))
            .send()
            .await
            .expect("an answer");
        assert_eq!(query.status().as_u16(), 200);
        assert_api_answer("POST /graphql", &query);

        let refused = http
            .post(server.url("/graphql"))
            .header("authorization", "Bearer not-a-token")
            .json(&json!({"query": "{ viewer { id } }"}))
            .send()
            .await
            .expect("an answer");
        assert_api_answer("POST /graphql, bad token", &refused);

        // Over the body limit, announced (413 before the body is read) ...
        let huge = json!({"query": format!("{{ viewer {{ id }} }} #{}", "x".repeat(8192))});
        let too_large = http.post(server.url("/graphql")).json(&huge).send().await.expect("an answer");
        assert_eq!(too_large.status().as_u16(), 413);
        assert_api_answer("413", &too_large);

        // ... or found out while reading a chunked body (no length announced).
        let mut stream = tokio::net::TcpStream::connect(server.address).await.expect("a connection");
        let chunk = "x".repeat(3000);
        let mut request = String::from("POST /graphql HTTP/1.1\r\nHost: dinghuo\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
        for _ in 0..3 {
            request.push_str(&format!("{:x}\r\n{chunk}\r\n", chunk.len()));
        }
        request.push_str("0\r\n\r\n");
        stream.write_all(request.as_bytes()).await.expect("the request is sent");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.expect("an answer");
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        assert!(answer.to_ascii_lowercase().contains("x-content-type-options: nosniff"), "{answer}");

        // Not JSON.
        let unsupported = http
            .post(server.url("/graphql"))
            .header("content-type", "text/plain")
            .body(json!({"query": "{ viewer { id } }"}).to_string())
            .send()
            .await
            .expect("an answer");
        assert_eq!(unsupported.status().as_u16(), 415);
        assert_api_answer("415", &unsupported);

        // The GraphiQL page sets its own policy (below); the other headers stay.
        let page = http.get(server.url("/graphql")).send().await.expect("an answer");
        assert_secured("GET /graphql", &page);
        server.stop().await;
    }

    async fn only_json_bodies_are_executed_and_get_never_runs_an_operation(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &[]).await;
        let admin = server.token(&world.admin);
        let http = reqwest::Client::new();
        let disable = "mutation { disableApp(input: {app: ORDERING}) { tenantId } }";
        let body = json!({"query": disable}).to_string();
        let events = event_count(&test.db).await;

        // What a page on another site can send without asking first, and a body without type.
        let mut refused = 0;
        for content_type in [
            Some("text/plain"),
            Some("text/plain;charset=UTF-8"),
            Some("application/x-www-form-urlencoded"),
            Some("multipart/form-data; boundary=dinghuo"),
            Some("application/graphql"),
            Some("application/json; charset=latin1"),
            None,
        ] {
            let mut request = http
                .post(server.url("/graphql"))
                .bearer_auth(&admin)
                .body(body.clone());
            if let Some(content_type) = content_type {
                request = request.header("content-type", content_type);
            }
            let response = request.send().await.expect("an answer");
            assert_eq!(response.status().as_u16(), 415, "{content_type:?}");
            let request_id = header(&response, "x-request-id").to_owned();
            let answer: Value = response.json().await.expect("a JSON answer");
            assert_eq!(answer["errors"][0]["extensions"]["code"], "VALIDATION", "{answer:#}");
            assert_eq!(answer["errors"][0]["extensions"]["requestId"], request_id.as_str(), "{answer:#}");
            assert!(answer.get("data").is_none(), "{answer:#}");
            refused += 1;
        }
        assert_eq!(refused, 7);

        // GET /graphql is the GraphiQL page, whatever it asks: it never runs an operation.
        for accept in ["text/html", "application/json", "application/graphql-response+json"] {
            let response = http
                .get(server.url("/graphql"))
                .query(&[("query", disable)])
                .header("accept", accept)
                .bearer_auth(&admin)
                .send()
                .await
                .expect("an answer");
            assert_eq!(header(&response, "content-type"), "text/html; charset=utf-8");
        }
        assert_eq!(event_count(&test.db).await, events, "nothing was executed");

        // The same operation as JSON runs (both accepted types, with a charset or without).
        for content_type in ["application/json; charset=utf-8", "application/graphql-response+json"] {
            let answer: Value = http
                .post(server.url("/graphql"))
                .bearer_auth(&admin)
                .header("content-type", content_type)
                .body(json!({"query": "{ viewer { id } }"}).to_string())
                .send()
                .await
                .expect("an answer")
                .json()
                .await
                .expect("JSON");
            assert!(answer["data"]["viewer"]["id"].is_string(), "{content_type}: {answer:#}");
        }
        server.ok(Some(&admin), disable, json!({})).await;
        assert_eq!(event_count(&test.db).await, events + 1, "the JSON request ran");
        assert!(!ordering_enabled(&server, &admin).await);
        server.stop().await;
    }

    async fn readyz_names_no_database_error(test) {
        let server = TestServer::start(&test.db, &[]).await;
        let http = reqwest::Client::new();
        let ready = http.get(server.url("/readyz")).send().await.expect("an answer");
        assert_eq!(ready.status().as_u16(), 200);

        // A projection's status cannot be read, then the migrations cannot.
        rename_table(&test.db, "projection_checkpoints", "projection_checkpoints_gone").await;
        let answer = http.get(server.url("/readyz")).send().await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 503);
        let text = answer.text().await.expect("a body");
        assert!(text.contains("status unavailable"), "{text}");
        rename_table(&test.db, "_sqlx_migrations", "_sqlx_migrations_gone").await;
        let answer = http.get(server.url("/readyz")).send().await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 503);
        let text = answer.text().await.expect("a body");
        assert!(text.contains("database unavailable"), "{text}");
        for leak in ["_sqlx_migrations", "projection_checkpoints", "does not exist", "no such table", "relation"] {
            assert!(!text.contains(leak), "/readyz shows {leak:?}: {text}");
        }
        rename_table(&test.db, "_sqlx_migrations_gone", "_sqlx_migrations").await;
        rename_table(&test.db, "projection_checkpoints_gone", "projection_checkpoints").await;
        server.stop().await;
    }

    async fn graphiql_is_served_from_the_binary_under_its_own_policy(test) {
        let server = TestServer::start(&test.db, &[]).await;
        let http = reqwest::Client::new();
        let page = http
            .get(server.url("/graphql"))
            .header("accept", "text/html")
            .send()
            .await
            .expect("the page");
        assert_eq!(page.status().as_u16(), 200);
        assert_eq!(header(&page, "x-frame-options"), "DENY");
        assert_eq!(header(&page, "cache-control"), "no-store");
        let csp = header(&page, "content-security-policy").to_owned();
        let directives: BTreeSet<&str> = csp.split(';').map(str::trim).collect();
        for expected in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'none'",
            "img-src 'self' data:",
            "font-src 'self' data:",
        ] {
            assert!(directives.contains(expected), "{expected} in {csp}");
        }
        let host = server.address.to_string();
        assert!(
            directives.contains(format!("connect-src 'self' ws://{host} wss://{host}").as_str()),
            "{csp}"
        );
        let style = directives
            .iter()
            .find(|directive| directive.starts_with("style-src "))
            .unwrap_or_else(|| panic!("a style-src in {csp}"));
        assert!(style.starts_with("style-src 'self' 'nonce-"), "{style}");
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = page.text().await.expect("HTML");

        // Nothing inline, nothing from elsewhere: every script and stylesheet is a path here.
        assert!(!html.contains("<script>") && !html.contains("<style"), "{html}");
        assert!(!html.contains("//"), "no absolute or protocol-relative URL: {html}");
        let references: Vec<&str> = html
            .split(['"', '\''])
            .filter(|text| text.starts_with('/'))
            .collect();
        let scripts = html.matches("<script src=\"/graphiql/").count();
        let sheets = html.matches("<link rel=\"stylesheet\" href=\"/graphiql/").count();
        assert_eq!((scripts, sheets), (4, 2), "{html}");
        assert_eq!(references.len(), 6, "{references:?}");

        // Each is served, typed, compressed when asked, and cached for good.
        let mut compressed = 0;
        for path in references {
            let plain = http.get(server.url(path)).send().await.expect("an asset");
            assert_eq!(plain.status().as_u16(), 200, "{path}");
            assert_eq!(header(&plain, "cache-control"), "public, max-age=31536000, immutable", "{path}");
            assert_secured(path, &plain);
            let expected_type = if path.ends_with(".js") { "text/javascript" } else { "text/css" };
            assert!(header(&plain, "content-type").starts_with(expected_type), "{path}");
            let size = plain.bytes().await.expect("the asset").len();
            for encoding in ["br", "gzip"] {
                let packed = http
                    .get(server.url(path))
                    .header("accept-encoding", encoding)
                    .send()
                    .await
                    .expect("an asset");
                assert_eq!(header(&packed, "content-encoding"), encoding, "{path}");
                assert_eq!(header(&packed, "cache-control"), "public, max-age=31536000, immutable");
                let packed_size = packed.bytes().await.expect("the asset").len();
                assert!(packed_size < size, "{path}: {encoding} {packed_size} of {size}");
                compressed += 1;
            }
        }
        assert_eq!(compressed, 12);

        // Another version, or an unknown file, is not found.
        for path in ["/graphiql/graphiql@4.0.0/graphiql.min.js", "/graphiql/graphiql@4.1.2/index.html"] {
            let response = http.get(server.url(path)).send().await.expect("an answer");
            assert_eq!(response.status().as_u16(), 404, "{path}");
        }
        server.stop().await;
    }

    async fn a_websocket_from_a_page_of_another_site_is_refused(test) {
        let server = TestServer::start(&test.db, &[]).await;
        let here = format!("http://{}", server.address);
        for origin in ["http://evil.example", "null", "http://127.0.0.1:1", &format!("{here}.evil.example")] {
            assert_eq!(websocket_from(&server, Some(origin)).await, Err(403), "{origin}");
        }
        // The same site (GraphiQL), and clients that are not browsers, are served.
        for origin in [Some(here.as_str()), None] {
            let ack = websocket_from(&server, origin).await.expect("the handshake succeeds");
            assert_eq!(ack["type"], "connection_ack", "{origin:?}: {ack:#}");
        }
        server.stop().await;
    }
}
