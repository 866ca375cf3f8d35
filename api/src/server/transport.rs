//! The accept loop: HTTP/1.1 connections served by hyper under the limits that keep slow or
//! idle clients from holding the server (issue 15, item 6).
//!
//! - **Headers in time.** hyper's `header_read_timeout` closes a connection that has not sent a
//!   whole request head within [`ConnectionLimits::header_timeout`]. hyper starts that clock
//!   when the connection opens and again each time a response has been written, so it is also
//!   the longest a keep-alive connection may sit idle between two requests.
//! - **At most so many connections.** A connection holds one of
//!   [`ConnectionLimits::max_connections`] slots from accept until its socket is closed — a
//!   WebSocket upgraded from it keeps the slot, since the slot travels inside the socket
//!   ([`Counted`]). With every slot taken the loop stops accepting: new connections wait in
//!   the kernel's listen backlog (the client sees a slow start, not an error) and the first
//!   one is served as soon as a slot frees. Accepting and closing them at once would instead
//!   turn every waiting client into a failed request, and let a flood of connects keep the
//!   loop busy doing nothing useful.
//! - **The body in time** is an axum middleware ([`super::body_deadline`]): it needs the
//!   router's body limit and answers with a status.
//!
//! HTTP/2 over cleartext is not offered: no browser speaks it, and hyper-util's protocol
//! sniffing waits for the preface without a time limit.
//!
//! Shutdown is graceful: the loop stops accepting and closes the listener, every connection
//! finishes the request it is serving (an idle one closes at once), then [`serve`] returns.
//! Upgraded WebSockets are no longer HTTP connections and are not waited for (as with
//! `axum::serve`).

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tower_http::add_extension::AddExtension;

/// The limits of [`serve`], from `serve`'s flags.
#[derive(Debug, Clone, Copy)]
pub struct ConnectionLimits {
    /// How long a client may take to send a request's head, counted from the connection's
    /// opening or from the end of the previous response.
    pub header_timeout: Duration,
    /// The most connections open at once (WebSockets included).
    pub max_connections: usize,
}

/// Serves `router` on `listener` until `shutdown` completes, then drains the connections.
/// Handlers see the client's address as `ConnectInfo<SocketAddr>`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    // Dropped to tell every connection to finish.
    let (draining, _) = watch::channel(());
    // Each connection task holds a clone of `still_open`; `connections.closed()` completes
    // once every one has ended.
    let (connections, still_open) = watch::channel(());
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => match slot {
                Ok(slot) => slot,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    wait_after_accept_error(error).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let io = TokioIo::new(Counted {
            stream,
            _slot: slot,
        });
        let service =
            TowerToHyperService::new(AddExtension::new(router.clone(), ConnectInfo(remote)));
        let connection = builder.serve_connection(io, service).with_upgrades();
        let mut drain = draining.subscribe();
        let open = still_open.clone();
        tokio::spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => log_connection_end(result, remote),
                _ = drain.changed() => {
                    connection.as_mut().graceful_shutdown();
                    log_connection_end(connection.await, remote);
                }
            }
            drop(open);
        });
    }
    drop(listener);
    drop(draining);
    drop(still_open);
    connections.closed().await;
    Ok(())
}

fn log_connection_end(result: Result<(), hyper::Error>, remote: SocketAddr) {
    if let Err(error) = result {
        if error.is_timeout() {
            tracing::info!(%remote, "closed a connection that sent no complete request head in time");
        } else {
            tracing::debug!(%remote, %error, "connection ended");
        }
    }
}

/// Errors of one connection (it was reset before we took it) are skipped; others (out of file
/// descriptors) are logged and the loop pauses, since retrying at once would spin.
async fn wait_after_accept_error(error: io::Error) {
    if matches!(
        error.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::error!(%error, "cannot accept a connection; retrying in a second");
    tokio::time::sleep(Duration::from_secs(1)).await;
}

/// A client's socket holding its connection slot, so that the slot is released when the
/// socket is dropped — by hyper, or by the WebSocket it was upgraded to.
struct Counted {
    stream: TcpStream,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}
