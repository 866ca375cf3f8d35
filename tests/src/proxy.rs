//! A TCP proxy between a server under test and its database, for fault tests: it forwards
//! every connection to the target, and on demand cuts every open connection at once (what a
//! database restart does to its clients) or refuses new ones for a while (a database that is
//! down).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio::time::Instant;

pub struct Proxy {
    pub address: SocketAddr,
    /// Bumped by [`Proxy::cut_all`]: every connection open at that moment ends.
    cuts: watch::Sender<u64>,
    /// New connections are closed at once until this instant.
    refuse_until: Arc<Mutex<Option<Instant>>>,
    accepting: JoinHandle<()>,
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
        let accepting = tokio::spawn({
            let cuts = cuts.subscribe();
            let refuse_until = refuse_until.clone();
            async move {
                while let Ok((client, _)) = listener.accept().await {
                    let refused = refuse_until
                        .lock()
                        .map(|until| until.is_some_and(|until| Instant::now() < until))
                        .unwrap_or(false);
                    if refused {
                        // Dropped: the client sees its connection closed at once.
                        drop(client);
                        continue;
                    }
                    tokio::spawn(forward(client, target, cuts.clone()));
                }
            }
        });
        Self {
            address,
            cuts,
            refuse_until,
            accepting,
        }
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
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accepting.abort();
        self.cut_all();
    }
}

/// Copies both ways until either side closes or a cut is announced.
async fn forward(mut client: TcpStream, target: SocketAddr, mut cuts: watch::Receiver<u64>) {
    cuts.borrow_and_update();
    let Ok(mut upstream) = TcpStream::connect(target).await else {
        return;
    };
    tokio::select! {
        _ = tokio::io::copy_bidirectional(&mut client, &mut upstream) => {}
        _ = cuts.changed() => {}
    }
    // Dropping both streams closes them: each side sees the connection end.
}
