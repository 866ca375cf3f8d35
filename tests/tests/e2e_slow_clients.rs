//! Slow and numerous clients cannot hold the server (issue 15, item 6), against a real server
//! on both backends, over raw TCP where a well-behaved client library would not misbehave:
//! half a header is cut at the header limit, an idle keep-alive connection too, a trickled body
//! at the body limit (`408`), the connection past the limit waits until one closes, and other
//! clients are served all along. A graceful shutdown still lets a request in flight finish.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use futures::{SinkExt, StreamExt};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Far longer than any limit the tests set: reaching it means the server never let go.
const PATIENCE: Duration = Duration::from_secs(10);

/// Opens a connection and sends `bytes` on it.
async fn send(address: SocketAddr, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(address).await.expect("a connection");
    stream.write_all(bytes).await.expect("the bytes are sent");
    stream
}

/// Everything the server sends until it closes the connection; `None` if it kept the
/// connection open past `patience`.
async fn until_closed(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match tokio::time::timeout(patience, stream.read(&mut buffer)).await {
            Err(_) => return None,
            Ok(Ok(0)) | Ok(Err(_)) => return Some(String::from_utf8_lossy(&received).into_owned()),
            Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
        }
    }
}

/// The first response on `stream` (a `/healthz` answer: the body is `ok`), or `None` if none
/// came within `patience`.
async fn health_answer(stream: &mut TcpStream, patience: Duration) -> Option<String> {
    let mut received = Vec::new();
    let mut buffer = [0u8; 1024];
    let deadline = Instant::now() + patience;
    while !String::from_utf8_lossy(&received).ends_with("\r\n\r\nok") {
        let left = deadline.checked_duration_since(Instant::now())?;
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Ok(Ok(read)) if read > 0 => received.extend_from_slice(&buffer[..read]),
            _ => return None,
        }
    }
    Some(String::from_utf8_lossy(&received).into_owned())
}

const HEALTH: &[u8] = b"GET /healthz HTTP/1.1\r\nHost: dinghuo\r\n\r\n";

/// Opens a subscription socket (anonymous `connection_init`), which holds its connection.
async fn websocket(
    server: &TestServer,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<TcpStream>> {
    let mut request = format!("ws://{}/graphql/ws", server.address)
        .into_client_request()
        .expect("a WebSocket request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().expect("a header value"),
    );
    let (mut socket, _) = tokio::time::timeout(PATIENCE, tokio_tungstenite::connect_async(request))
        .await
        .expect("the WebSocket opens in time")
        .expect("the WebSocket opens");
    let init = json!({"type": "connection_init", "payload": {}});
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .expect("send connection_init");
    let ack = tokio::time::timeout(PATIENCE, socket.next())
        .await
        .expect("an answer in time")
        .expect("the socket is open")
        .expect("a message");
    assert!(ack.to_string().contains("connection_ack"), "{ack:?}");
    socket
}

on_both_backends! {
    async fn a_client_that_sends_half_a_header_or_idles_is_disconnected_while_others_are_served(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--header-timeout", "400"]).await;
        let admin = server.token(&world.admin);

        // Fifty clients send half a request head and stop.
        let mut stalled = Vec::new();
        for _ in 0..50 {
            stalled.push(send(server.address, b"POST /graphql HTTP/1.1\r\nHost: dinghuo\r\nContent-Ty").await);
        }
        // Meanwhile the server answers everyone else.
        for _ in 0..5 {
            server.ok(Some(&admin), "{ viewer { id } }", json!({})).await;
        }
        // Each stalled connection is closed, without an answer, soon after the limit.
        for stream in &mut stalled {
            let answer = until_closed(stream, PATIENCE)
                .await
                .expect("the server closes a connection that sent half a header");
            assert_eq!(answer, "", "no response to half a request head");
        }

        // A keep-alive connection that goes quiet after a request is closed too.
        // (Timed from before the request: the server's clock starts after its answer, so the
        // connection cannot close sooner, however late this task reads.)
        let opened = Instant::now();
        let mut idle = send(server.address, HEALTH).await;
        health_answer(&mut idle, PATIENCE).await.expect("the first request is answered");
        until_closed(&mut idle, PATIENCE)
            .await
            .expect("the server closes an idle keep-alive connection");
        let lived = opened.elapsed();
        assert!(lived >= Duration::from_millis(390), "closed after {lived:?}, before the limit");

        // A client that sends its head in time is served.
        let mut quick = send(server.address, HEALTH).await;
        assert!(health_answer(&mut quick, PATIENCE).await.is_some());
        server.ok(Some(&admin), "{ viewer { id } }", json!({})).await;
        server.stop().await;
    }

    async fn a_body_trickled_past_its_time_limit_is_cut_with_408(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--body-timeout", "500"]).await;
        let admin = server.token(&world.admin);

        // A 1,000-byte body announced, then one byte every 50 ms: never 50 ms without data, so
        // only a limit on the whole body (20 s of trickle) can cut it.
        let head = "POST /graphql HTTP/1.1\r\nHost: dinghuo\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
        let stream = send(server.address, head.as_bytes()).await;
        let (mut reader, mut writer) = stream.into_split();
        let trickle = tokio::spawn(async move {
            for _ in 0..1000 {
                if writer.write_all(b" ").await.is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        // The server keeps answering others while the body trickles.
        server.ok(Some(&admin), "{ viewer { id } }", json!({})).await;
        let started = Instant::now();
        let mut received = Vec::new();
        let mut buffer = [0u8; 4096];
        loop {
            match tokio::time::timeout(PATIENCE, reader.read(&mut buffer)).await {
                Err(_) => panic!("the trickled body was not cut: {}", String::from_utf8_lossy(&received)),
                Ok(Ok(0)) | Ok(Err(_)) => break,
                Ok(Ok(read)) => received.extend_from_slice(&buffer[..read]),
            }
        }
        let answer = String::from_utf8_lossy(&received);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(started.elapsed() < Duration::from_secs(5), "cut after {:?}", started.elapsed());
        trickle.abort();

        // A body sent at once is served as before.
        server.ok(Some(&admin), "{ viewer { id } }", json!({})).await;
        server.stop().await;
    }

    async fn past_the_connection_limit_a_connection_waits_until_one_closes(test) {
        // The header limit also closes the idle connection the helper's client keeps from
        // checking health, so that the three slots are the test's alone.
        let server = TestServer::start(&test.db, &["--max-connections", "3", "--header-timeout", "300"]).await;
        tokio::time::sleep(Duration::from_millis(600)).await;

        // Three subscription sockets take the three slots (a WebSocket keeps its slot).
        let mut held = vec![websocket(&server).await, websocket(&server).await, websocket(&server).await];
        // A fourth connection is not served; it waits, it is not refused.
        let mut fourth = send(server.address, HEALTH).await;
        assert!(
            health_answer(&mut fourth, Duration::from_millis(1500)).await.is_none(),
            "the fourth connection was served while three were held"
        );
        // One closes: the fourth is served.
        let mut closed = held.pop().expect("a socket");
        closed.close(None).await.expect("the socket closes");
        drop(closed);
        let answer = health_answer(&mut fourth, PATIENCE).await;
        assert!(answer.is_some_and(|answer| answer.starts_with("HTTP/1.1 200")));
        drop(fourth);
        drop(held);

        // With the slots free again, the server serves as usual.
        let http = reqwest::Client::new();
        for _ in 0..5 {
            let status = http.get(server.url("/healthz")).send().await.expect("an answer").status();
            assert!(status.is_success());
        }
        server.stop().await;
    }

    async fn a_graceful_shutdown_lets_a_request_in_flight_finish(test) {
        let server = TestServer::start(&test.db, &[]).await;
        let body = json!({"query": "{ __typename }"}).to_string();
        let head = format!(
            "POST /graphql HTTP/1.1\r\nHost: dinghuo\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        // The head and half the body are in when the shutdown begins.
        let mut stream = send(server.address, head.as_bytes()).await;
        let (first, rest) = body.split_at(body.len() / 2);
        stream.write_all(first.as_bytes()).await.expect("half the body");
        tokio::time::sleep(Duration::from_millis(200)).await;
        server.begin_shutdown();
        tokio::time::sleep(Duration::from_millis(200)).await;
        stream.write_all(rest.as_bytes()).await.expect("the rest of the body");
        let answer = until_closed(&mut stream, PATIENCE)
            .await
            .expect("the server answers and closes");
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(answer.contains("\"__typename\":\"QueryRoot\""), "{answer}");
        server.stop().await;
        // Stopped: no new connection is accepted.
        assert!(TcpStream::connect(server.address).await.is_err());
    }
}
