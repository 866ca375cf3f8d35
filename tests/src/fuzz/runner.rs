//! Sends the cases to a [`TestServer`]: [`Settings::concurrency`] at a time, in rounds of
//! [`Settings::round`] with a health check after each, until all are sent or the deadline
//! passes; then a last health check and a plain query that must still be answered.

use std::time::{Duration, Instant};

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;

use super::cast::Cast;
use super::operations::{Body, Case, Generator, Transport, WsStep};
use super::oracle::{rss_kib, Answer, Report};
use super::schema::SchemaModel;
use super::Settings;
use crate::server::TestServer;
use crate::Backend;

/// Runs the fuzzer against `server` and answers its report (the caller asserts on it).
pub async fn run(
    server: &TestServer,
    cast: &Cast,
    settings: &Settings,
    backend: Backend,
) -> Report {
    let schema = SchemaModel::served();
    let generator = Generator {
        schema: &schema,
        cast,
        settings,
    };
    let http = Clients {
        // Idle connections are dropped after a second: a server that closes idle connections
        // (a header-read timeout) must not make the next request race that close.
        pooled: reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .pool_idle_timeout(Duration::from_secs(1))
            .build()
            .expect("an HTTP client"),
        // The server answers 413 to a body past its limit without reading the rest, and then
        // closes the connection: such a connection must not go back to the pool, where the
        // next request would find it closed.
        oversized: reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .pool_max_idle_per_host(0)
            .build()
            .expect("an HTTP client"),
    };
    let mut report = Report {
        backend: format!("{backend:?}"),
        seed: settings.seed,
        rss_before_kib: rss_kib(),
        ..Report::default()
    };
    let started = Instant::now();
    let mut next = 0;
    while next < settings.cases {
        if started.elapsed() >= settings.deadline {
            report.deadline_hit = true;
            break;
        }
        let end = (next + settings.round).min(settings.cases);
        let cases: Vec<Case> = (next..end).map(|index| generator.case(index)).collect();
        let answers: Vec<(Case, Answer)> = futures::stream::iter(cases)
            .map(|case| {
                let http = &http;
                async move {
                    let answer = send(server, http, settings, &case).await;
                    (case, answer)
                }
            })
            .buffer_unordered(settings.concurrency)
            .collect()
            .await;
        for (case, answer) in &answers {
            report.record(case, answer);
        }
        next = end;
        if !healthy(server, &http.pooled).await {
            report.violation(format!(
                "the server failed its health check after cases {}..{end}",
                end.saturating_sub(settings.round)
            ));
            break;
        }
        report.health_checks += 1;
    }
    report.elapsed = started.elapsed();
    // Still serving: healthy, and a query is answered.
    if healthy(server, &http.pooled).await {
        report.health_checks += 1;
        let answer = server
            .try_graphql(None, "{ __typename }", json!({}))
            .await
            .map_err(|error| error.to_string());
        if !matches!(&answer, Ok(value) if value["data"]["__typename"].is_string()) {
            report.violation(format!(
                "after the run, `{{ __typename }}` answered {answer:?}"
            ));
        }
    } else {
        report.violation("the server failed its health check at the end of the run".to_owned());
    }
    report.rss_after_kib = rss_kib();
    report
}

async fn healthy(server: &TestServer, http: &reqwest::Client) -> bool {
    let check = http
        .get(server.url("/healthz"))
        .timeout(Duration::from_secs(10))
        .send()
        .await;
    matches!(check, Ok(response) if response.status().is_success())
}

/// The HTTP clients of a run.
struct Clients {
    pooled: reqwest::Client,
    /// For bodies past the server's limit: a connection per request.
    oversized: reqwest::Client,
}

async fn send(server: &TestServer, http: &Clients, settings: &Settings, case: &Case) -> Answer {
    match case.transport {
        Transport::Http => send_http(server, http, settings, case).await,
        Transport::WebSocket => {
            // The whole exchange is bounded: a server that accepts and then says nothing must
            // not hold the run.
            let limit = settings.subscription_patience * 4 + Duration::from_secs(5);
            match tokio::time::timeout(limit, send_ws(server, settings, case)).await {
                Ok(answer) => answer,
                Err(_) => Answer::Failed(format!("the WebSocket exchange took over {limit:?}")),
            }
        }
    }
}

async fn send_http(
    server: &TestServer,
    http: &Clients,
    settings: &Settings,
    case: &Case,
) -> Answer {
    let body = match &case.body {
        Body::Json(value) => value.to_string().into_bytes(),
        Body::Raw(bytes) => bytes.clone(),
    };
    let oversized = body.len() > settings.server_max_body_bytes;
    let client = if oversized {
        &http.oversized
    } else {
        &http.pooled
    };
    let mut request = client.post(server.url("/graphql")).body(body);
    match case.content_type {
        None => request = request.header(reqwest::header::CONTENT_TYPE, "application/json"),
        Some("") => {}
        Some(content_type) => request = request.header(reqwest::header::CONTENT_TYPE, content_type),
    }
    if let Some(authorization) = &case.authorization {
        request = request.header(reqwest::header::AUTHORIZATION, authorization);
    }
    let response = match request.send().await {
        Ok(response) => response,
        // The server refused the body past its limit before the client finished sending it.
        Err(error) if oversized && error.is_request() => {
            return Answer::CutOff(format!("{error:?}"));
        }
        Err(error) => return Answer::Failed(format!("{error:?}")),
    };
    let status = response.status().as_u16();
    match response.bytes().await {
        Ok(bytes) => Answer::Http {
            status,
            body: bytes.to_vec(),
        },
        Err(error) => Answer::Failed(format!("HTTP {status}, then the body failed: {error:?}")),
    }
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// `connection_init` (with the token, if any), `subscribe`, then the messages until the
/// first `next` (after which the client completes), an `error`, `complete`, a close, or the
/// patience running out.
async fn send_ws(server: &TestServer, settings: &Settings, case: &Case) -> Answer {
    let url = format!("ws://{}/graphql/ws", server.address);
    let mut request = match url.into_client_request() {
        Ok(request) => request,
        Err(error) => return Answer::Failed(format!("{error:?}")),
    };
    if let Ok(protocol) = "graphql-transport-ws".parse() {
        request
            .headers_mut()
            .insert("Sec-WebSocket-Protocol", protocol);
    }
    let mut socket = match tokio_tungstenite::connect_async(request).await {
        Ok((socket, _)) => socket,
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            return Answer::WebSocket {
                refused: Some(response.status().as_u16()),
                messages: Vec::new(),
                closed: None,
                waiting: false,
            };
        }
        Err(error) => return Answer::Failed(format!("the WebSocket did not open: {error:?}")),
    };
    let payload = match &case.authorization {
        Some(authorization) => json!({ "Authorization": authorization }),
        None => json!({}),
    };
    let mut messages = Vec::new();
    let init = json!({"type": "connection_init", "payload": payload}).to_string();
    let body = match &case.body {
        Body::Json(value) => value.clone(),
        Body::Raw(bytes) => Value::String(String::from_utf8_lossy(bytes).into()),
    };
    let subscribe = json!({"id": "1", "type": "subscribe", "payload": body}).to_string();
    // The usual exchange waits for the ack before subscribing; a script sends all at once.
    let steps = match &case.ws_script {
        Some(script) => script.clone(),
        None => vec![WsStep::Init],
    };
    for step in steps {
        let text = match step {
            WsStep::Init => init.clone(),
            WsStep::Subscribe => subscribe.clone(),
            WsStep::Raw(text) => text,
        };
        if let Err(error) = socket.send(Message::Text(text.into())).await {
            // The server may close the socket on a message that breaks the protocol.
            if case.ws_script.is_some() {
                break;
            }
            return Answer::Failed(format!("sending to the WebSocket: {error:?}"));
        }
    }
    let mut subscribed = case.ws_script.is_some();
    let patience = settings.subscription_patience;
    loop {
        let message = match tokio::time::timeout(patience, next_message(&mut socket)).await {
            Err(_) => {
                let _ = socket.close(None).await;
                return Answer::WebSocket {
                    refused: None,
                    messages,
                    closed: None,
                    waiting: true,
                };
            }
            Ok(message) => message,
        };
        match message {
            Incoming::Json(value) => {
                let kind = value["type"].as_str().unwrap_or_default().to_owned();
                messages.push(value);
                match kind.as_str() {
                    "connection_ack" if !subscribed => {
                        subscribed = true;
                        let message = Message::Text(subscribe.clone().into());
                        if let Err(error) = socket.send(message).await {
                            return Answer::Failed(format!("subscribe: {error:?}"));
                        }
                    }
                    "next" => {
                        let complete = json!({"id": "1", "type": "complete"});
                        let _ = socket
                            .send(Message::Text(complete.to_string().into()))
                            .await;
                        let _ = socket.close(None).await;
                        return ws_answer(messages, None);
                    }
                    "error" | "complete" => {
                        let _ = socket.close(None).await;
                        return ws_answer(messages, None);
                    }
                    _ => {}
                }
            }
            Incoming::Closed(code, reason) => return ws_answer(messages, Some((code, reason))),
            Incoming::Ended => return ws_answer(messages, Some((1006, "no close frame".into()))),
            // Asked to terminate, async-graphql ends the connection without a close frame; what
            // the script still sends after that may find the socket gone (a reset).
            Incoming::Broken(error)
                if terminated(case)
                    && (error.contains("ResetWithoutClosing")
                        || error.contains("ConnectionReset")) =>
            {
                return ws_answer(messages, Some((1006, error)));
            }
            Incoming::Broken(error) => return Answer::Failed(format!("WebSocket: {error}")),
        }
    }
}

/// The case's script sends `connection_terminate` (of the older graphql-ws protocol).
fn terminated(case: &Case) -> bool {
    case.ws_script
        .iter()
        .flatten()
        .any(|step| matches!(step, WsStep::Raw(text) if text.contains("connection_terminate")))
}

fn ws_answer(messages: Vec<Value>, closed: Option<(u16, String)>) -> Answer {
    Answer::WebSocket {
        refused: None,
        messages,
        closed,
        waiting: false,
    }
}

enum Incoming {
    Json(Value),
    Closed(u16, String),
    /// The stream ended without a close frame.
    Ended,
    Broken(String),
}

/// The next protocol message; pings are answered, anything not JSON is reported as broken.
async fn next_message(socket: &mut Socket) -> Incoming {
    loop {
        match socket.next().await {
            None => return Incoming::Ended,
            Some(Err(error)) => return Incoming::Broken(format!("{error:?}")),
            Some(Ok(Message::Text(text))) => match serde_json::from_str::<Value>(&text) {
                Ok(value) if value["type"] == "ping" => {
                    let pong = json!({"type": "pong"}).to_string();
                    let _ = socket.send(Message::Text(pong.into())).await;
                }
                Ok(value) => return Incoming::Json(value),
                Err(error) => return Incoming::Broken(format!("{error}: {text}")),
            },
            Some(Ok(Message::Ping(payload))) => {
                let _ = socket.send(Message::Pong(payload)).await;
            }
            Some(Ok(Message::Close(frame))) => {
                let (code, reason) = frame
                    .map(|frame| (u16::from(frame.code), frame.reason.to_string()))
                    .unwrap_or((u16::from(CloseCode::Status), String::new()));
                return Incoming::Closed(code, reason);
            }
            Some(Ok(_)) => {}
        }
    }
}
