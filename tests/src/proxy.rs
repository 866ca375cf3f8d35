//! A TCP proxy between a server under test and its Postgres database, for fault tests: it
//! forwards every connection to the target, and on demand cuts every open connection at once
//! (what a database restart does to its clients), refuses new ones for a while (a database that
//! is down), or cuts a connection right after it sent `COMMIT`, once the database has answered
//! but before the answer reaches the client (the client cannot know whether it committed).
//!
//! To see `COMMIT`s the proxy reads the client's messages ([`wire`]), so it refuses encryption
//! itself: it answers an `SSLRequest` with `N`, as a server without TLS does.

mod wire;

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dinghuo_store::{Database, DatabaseSettings};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

/// The Postgres every test database lives on (see [`crate::TestDb`]).
const TEST_POSTGRES: &str = "127.0.0.1:5432";

pub struct Proxy {
    pub address: SocketAddr,
    /// Bumped by [`Proxy::cut_all`]: every connection open at that moment ends.
    cuts: watch::Sender<u64>,
    /// New connections are closed at once until this instant.
    refuse_until: Arc<Mutex<Option<Instant>>>,
    commit_cuts: Arc<CommitCuts>,
    accepting: JoinHandle<()>,
}

/// Cuts after `COMMIT`: how many are still to make, and how many were made.
#[derive(Default)]
struct CommitCuts {
    armed: AtomicUsize,
    made: AtomicUsize,
}

impl CommitCuts {
    /// Takes one armed cut, if any is left.
    fn take(&self) -> bool {
        self.armed
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |armed| {
                armed.checked_sub(1)
            })
            .is_ok()
    }
}

impl Proxy {
    /// Listens on a free port of 127.0.0.1 and forwards to `target`.
    pub async fn start(target: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port for the proxy");
        let address = listener.local_addr().expect("the proxy's address");
        let (cuts, _) = watch::channel(0u64);
        let refuse_until = Arc::new(Mutex::new(None::<Instant>));
        let commit_cuts = Arc::new(CommitCuts::default());
        let accepting = tokio::spawn({
            let cuts = cuts.subscribe();
            let refuse_until = refuse_until.clone();
            let commit_cuts = commit_cuts.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let refused = refuse_until
                        .lock()
                        .map(|until| until.is_some_and(|until| Instant::now() < until))
                        .unwrap_or(false);
                    if refused {
                        // Reset at once, as a host whose database is down refuses a connection
                        // (a plain close would look like a server that broke the protocol).
                        let _ = client.set_zero_linger();
                        drop(client);
                        continue;
                    }
                    tokio::spawn(forward(client, target, cuts.clone(), commit_cuts.clone()));
                }
            }
        });
        Self {
            address,
            cuts,
            refuse_until,
            commit_cuts,
            accepting,
        }
    }

    /// A proxy in front of the test Postgres, and a pool of `max_connections` over the database
    /// of `url` (a [`crate::TestDb`]'s) through it.
    pub async fn in_front_of(url: &str, max_connections: u32) -> (Self, Database) {
        let target: SocketAddr = TEST_POSTGRES.parse().expect("an address");
        assert!(
            url.contains(TEST_POSTGRES),
            "the proxy forwards to {TEST_POSTGRES}; the test database is at {url}"
        );
        let proxy = Self::start(target).await;
        let proxied = Database::connect(&DatabaseSettings {
            url: Some(proxy.url_through(url, target)),
            max_connections,
            ..DatabaseSettings::default()
        })
        .await
        .expect("connect through the proxy");
        (proxy, proxied)
    }

    /// `url` (a Postgres URL naming `target`'s host and port) through this proxy.
    pub fn url_through(&self, url: &str, target: SocketAddr) -> String {
        url.replacen(&target.to_string(), &self.address.to_string(), 1)
    }

    /// Cuts every open connection at once.
    pub fn cut_all(&self) {
        self.cuts.send_modify(|count| *count += 1);
    }

    /// Cuts every open connection and refuses new ones for `period`.
    pub fn refuse_for(&self, period: Duration) {
        if let Ok(mut until) = self.refuse_until.lock() {
            *until = Some(Instant::now() + period);
        }
        self.cut_all();
    }

    /// Arms `count` more cuts after `COMMIT`: each of the next `count` `COMMIT`s (on any
    /// connection) is forwarded, and its connection is cut as soon as the database's answer
    /// arrives, without passing the answer on.
    pub fn cut_after_commits(&self, count: usize) {
        self.commit_cuts.armed.fetch_add(count, Ordering::AcqRel);
    }

    /// Disarms the cuts after `COMMIT` not yet made.
    pub fn disarm_commit_cuts(&self) {
        self.commit_cuts.armed.store(0, Ordering::Release);
    }

    /// How many connections were cut after a `COMMIT` so far.
    pub fn commit_cuts_made(&self) -> usize {
        self.commit_cuts.made.load(Ordering::Acquire)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut_all();
    }
}

/// Relays both ways until either side closes, a cut is announced, or an armed cut after
/// `COMMIT` is made.
async fn forward(
    mut client: TcpStream,
    target: SocketAddr,
    mut cuts: watch::Receiver<u64>,
    commit_cuts: Arc<CommitCuts>,
) {
    cuts.borrow_and_update();
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = relay(&mut client, &mut upstream, &commit_cuts) => {}
        _ = cuts.changed() => {}
    }
    // Dropping both streams closes them: each side sees the connection end.
}

async fn relay(
    client: &mut TcpStream,
    upstream: &mut TcpStream,
    commit_cuts: &CommitCuts,
) -> io::Result<()> {
    let startup_left = pass_startup(client, upstream).await?;
    let mut scanner = wire::CommitScanner::after_startup(startup_left);
    let (mut from_client, mut to_client) = client.split();
    let (mut from_server, mut to_server) = upstream.split();
    let mut client_bytes = vec![0u8; 16 * 1024];
    let mut server_bytes = vec![0u8; 16 * 1024];
    // Set once an armed `COMMIT` went to the server: whatever the server sends next is its
    // answer.
    let mut cut_at_answer = false;
    loop {
        tokio::select! {
            read = from_client.read(&mut client_bytes) => {
                let read = read?;
                if read == 0 {
                    return Ok(());
                }
                to_server.write_all(&client_bytes[..read]).await?;
                // Counted only after forwarding, and before the server's next bytes are read.
                let commits = scanner.feed(&client_bytes[..read]);
                if commits > 0 && !cut_at_answer && commit_cuts.take() {
                    cut_at_answer = true;
                }
            }
            read = from_server.read(&mut server_bytes) => {
                let read = read?;
                if read == 0 {
                    return Ok(());
                }
                if cut_at_answer {
                    // The database has answered the `COMMIT`: it committed (or refused to).
                    commit_cuts.made.fetch_add(1, Ordering::AcqRel);
                    return Ok(());
                }
                to_client.write_all(&server_bytes[..read]).await?;
            }
        }
    }
}

/// Passes the client's startup message to the server, answering `N` (no) to its requests for an
/// encrypted session first; answers how many bytes of the startup message are still to come.
async fn pass_startup(client: &mut TcpStream, upstream: &mut TcpStream) -> io::Result<usize> {
    loop {
        let mut head = [0u8; 8];
        client.read_exact(&mut head).await?;
        let [l0, l1, l2, l3, c0, c1, c2, c3] = head;
        let length = u32::from_be_bytes([l0, l1, l2, l3]);
        let code = u32::from_be_bytes([c0, c1, c2, c3]);
        if wire::asks_for_encryption(length, code) {
            client.write_all(b"N").await?;
            continue;
        }
        upstream.write_all(&head).await?;
        return Ok((length as usize).saturating_sub(head.len()));
    }
}
