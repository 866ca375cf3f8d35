//! A GraphQL client over WebSocket (graphql-transport-ws at `/graphql/ws`) for the end-to-end
//! tests: open a connection authenticated in `connection_init`, start operations on it, read
//! the protocol's messages (answering pings).

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

use crate::server::TestServer;

pub type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a message may take before the test calls the connection stuck.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// Opens `/graphql/ws` and authenticates with `token` in `connection_init`; answers the
/// socket once acknowledged.
pub async fn connect(server: &TestServer, token: &str) -> Socket {
    let url = format!("ws://{}/graphql/ws", server.address);
    let mut request = url.into_client_request().expect("a WebSocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("the WebSocket opens");
    let init =
        json!({"type": "connection_init", "payload": {"Authorization": format!("Bearer {token}")}});
    send(&mut socket, init).await;
    let ack = next_message(&mut socket).await;
    assert_eq!(ack["type"], "connection_ack", "{ack:#}");
    socket
}

/// Starts operation `query` under `id` on an open connection.
pub async fn start(socket: &mut Socket, id: &str, query: &str, variables: Value) {
    let subscribe =
        json!({"id": id, "type": "subscribe", "payload": {"query": query, "variables": variables}});
    send(socket, subscribe).await;
}

/// Connects with `token` and starts `query` under id `1`.
pub async fn subscribe(server: &TestServer, token: &str, query: &str, variables: Value) -> Socket {
    let mut socket = connect(server, token).await;
    start(&mut socket, "1", query, variables).await;
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send a message");
}

/// The next protocol message (pings answered, anything else returned).
pub async fn next_message(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(PATIENCE, socket.next())
            .await
            .expect("a message before the patience runs out")
            .expect("the socket is open")
            .expect("a WebSocket message");
        match message {
            Message::Text(text) => {
                let value: Value = serde_json::from_str(&text).expect("JSON");
                if value["type"] == "ping" {
                    send(socket, json!({"type": "pong"})).await;
                    continue;
                }
                return value;
            }
            Message::Ping(payload) => {
                socket.send(Message::Pong(payload)).await.expect("pong");
            }
            other => panic!("unexpected WebSocket message {other:?}"),
        }
    }
}

/// The payload of the next `next` message.
pub async fn next_data(socket: &mut Socket) -> Value {
    let message = next_message(socket).await;
    assert_eq!(message["type"], "next", "{message:#}");
    message["payload"].clone()
}

/// The code of the first error of a `next` or `error` message.
pub fn error_code(message: &Value) -> Option<&str> {
    message["payload"]["errors"][0]["extensions"]["code"]
        .as_str()
        .or_else(|| message["payload"][0]["extensions"]["code"].as_str())
}
