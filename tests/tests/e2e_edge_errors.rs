//! The answers given before GraphQL runs are GraphQL errors (issue 16, item 6), against a real
//! server on both backends: a body that is not JSON, JSON that is not a GraphQL request,
//! variables nested past serde_json's 128 levels, a body over `--max-body-bytes` (declared or
//! chunked) and a body of another media type each answer `{"errors": [...]}` with a code, the
//! request id and the right status, and the server goes on serving.

use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

const MAX_BODY_BYTES: usize = 4096;

/// The one error of an edge answer: its code and request id are there, and the request id is
/// the one in the `x-request-id` header.
fn assert_edge_error(what: &str, body: &Value, request_id: &str, code: &str) {
    let errors = body["errors"]
        .as_array()
        .unwrap_or_else(|| panic!("{what}: {body:#}"));
    assert_eq!(errors.len(), 1, "{what}: {body:#}");
    let error = &errors[0];
    assert_eq!(error["extensions"]["code"], code, "{what}: {body:#}");
    assert_eq!(
        error["extensions"]["requestId"], request_id,
        "{what}: {body:#}"
    );
    assert!(
        error["message"]
            .as_str()
            .is_some_and(|message| !message.is_empty()),
        "{what}: {body:#}"
    );
    assert!(body.get("data").is_none(), "{what}: {body:#}");
}

/// POSTs `body` to `/graphql` as `content_type`; answers the status, the request id header and
/// the JSON body.
async fn post(server: &TestServer, content_type: &str, body: Vec<u8>) -> (u16, String, Value) {
    let response = reqwest::Client::new()
        .post(server.url("/graphql"))
        .header("content-type", content_type)
        .body(body)
        .send()
        .await
        .expect("an answer");
    let status = response.status().as_u16();
    let request_id = response
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text).unwrap_or_else(|error| panic!("{error}: {text}"));
    (status, request_id, json)
}

/// Sends a chunked body of `chunks` chunks of `chunk_len` bytes over a raw connection; answers
/// the raw HTTP answer.
async fn post_chunked(server: &TestServer, chunks: usize, chunk_len: usize) -> String {
    let mut stream = tokio::net::TcpStream::connect(server.address)
        .await
        .expect("a connection");
    let chunk = "x".repeat(chunk_len);
    let mut request = String::from("POST /graphql HTTP/1.1\r\nHost: dinghuo\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n");
    for _ in 0..chunks {
        request.push_str(&format!("{chunk_len:x}\r\n{chunk}\r\n"));
    }
    request.push_str("0\r\n\r\n");
    // The server may answer and close before it has read everything: a failed write is fine.
    let _ = stream.write_all(request.as_bytes()).await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    String::from_utf8_lossy(&answer).into_owned()
}

/// The serving server still answers a plain query.
async fn assert_serving(server: &TestServer, token: &str, what: &str) {
    let data = server.ok(Some(token), "{ viewer { id } }", json!({})).await;
    assert!(data["viewer"]["id"].is_string(), "after {what}: {data:#}");
}

on_both_backends! {
    async fn edge_errors_are_graphql_errors_with_a_code_and_the_request_id(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let max = MAX_BODY_BYTES.to_string();
        let server = TestServer::start(&test.db, &["--max-body-bytes", &max]).await;
        let admin = server.token(&world.admin);

        let deep_variables = format!(
            r#"{{"query":"query ($v: JSON) {{ viewer {{ id }} }}","variables":{{"v":{}1{}}}}}"#,
            "[".repeat(200),
            "]".repeat(200)
        );
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("malformed JSON", br#"{1: "query"}"#.to_vec()),
            ("truncated JSON", br#"{"query": "{ viewer { id } }""#.to_vec()),
            ("JSON that is not a GraphQL request", br#"{"query": 5}"#.to_vec()),
            ("a batch with a number in it", br#"[{"query": "{ viewer { id } }"}, 3]"#.to_vec()),
            ("a JSON string", br#""{ viewer { id } }""#.to_vec()),
            ("variables 200 levels deep", deep_variables.into_bytes()),
        ];
        for (what, body) in cases {
            let (status, request_id, json) = post(&server, "application/json", body).await;
            assert_eq!(status, 400, "{what}: {json:#}");
            assert_edge_error(what, &json, &request_id, "VALIDATION");
            assert_serving(&server, &admin, what).await;
        }

        // Over the limit with Content-Length: refused before the body is read.
        let huge = json!({"query": format!("{{ viewer {{ id }} }} #{}", "x".repeat(2 * MAX_BODY_BYTES))});
        let (status, request_id, json) =
            post(&server, "application/json", huge.to_string().into_bytes()).await;
        assert_eq!(status, 413, "{json:#}");
        assert_edge_error("a declared body over the limit", &json, &request_id, "PAYLOAD_TOO_LARGE");
        assert!(
            json["errors"][0]["message"].as_str().unwrap_or_default().contains(&max),
            "the limit is named: {json:#}"
        );
        assert_serving(&server, &admin, "a declared body over the limit").await;

        // Over the limit, chunked: found out while reading.
        let answer = post_chunked(&server, 3, 3000).await;
        assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
        let (head, body) = answer.split_once("\r\n\r\n").expect("a head and a body");
        let request_id = head
            .lines()
            .find_map(|line| line.to_ascii_lowercase().strip_prefix("x-request-id: ").map(str::to_owned))
            .expect("a request id header");
        // The body may be chunked itself: take the JSON object in it.
        let start = body.find('{').expect("a JSON body");
        let end = body.rfind('}').expect("a JSON body");
        let json: Value = serde_json::from_str(&body[start..=end]).expect("JSON");
        assert_edge_error("a chunked body over the limit", &json, &request_id, "PAYLOAD_TOO_LARGE");
        assert_serving(&server, &admin, "a chunked body over the limit").await;

        // Another media type: 415, in the same shape.
        let (status, request_id, json) =
            post(&server, "text/plain", br#"{"query": "{ viewer { id } }"}"#.to_vec()).await;
        assert_eq!(status, 415, "{json:#}");
        assert_edge_error("text/plain", &json, &request_id, "VALIDATION");
        assert_serving(&server, &admin, "text/plain").await;

        server.stop().await;
    }
}
