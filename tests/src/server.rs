//! A real `dinghuo serve` on a free port of 127.0.0.1, in this process, over a [`TestDb`]: the
//! end-to-end tests and the HTTP load benchmark talk to it with GraphQL over HTTP (and
//! WebSocket), exactly as a client would.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use dinghuo_api::auth::{load_outbox_key, JwtSecret, Tokens};
use dinghuo_api::server::{self, ServeArgs};
use dinghuo_commands::{Actor, Commands};
use dinghuo_domain::{ContactId, Lookup};
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_store::Database;
use serde_json::{json, Value};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use uuid::Uuid;

/// Parses `serve`'s flags as the CLI would.
#[derive(Parser)]
struct Flags {
    #[command(flatten)]
    serve: ServeArgs,
}

pub struct TestServer {
    pub address: SocketAddr,
    pub tokens: Tokens,
    http: reqwest::Client,
    stop: std::sync::Mutex<Option<oneshot::Sender<()>>>,
    task: tokio::sync::Mutex<Option<JoinHandle<Result<(), String>>>>,
    data_dir: PathBuf,
}

impl TestServer {
    /// Starts a server over `db` with the default flags plus `extra` (e.g. `--no-processors`).
    pub async fn start(db: &Database, extra: &[&str]) -> Self {
        // The server's logs, shown for failing tests (`RUST_LOG` filters; errors by default).
        let _ = tracing_subscriber::fmt()
            .with_env_filter(
                tracing_subscriber::EnvFilter::try_from_default_env()
                    .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("error")),
            )
            .with_test_writer()
            .try_init();
        let data_dir =
            std::env::temp_dir().join(format!("dinghuo-server-{}", Uuid::now_v7().simple()));
        std::fs::create_dir_all(&data_dir).expect("a data directory");
        let mut argv = vec!["serve", "--listen", "127.0.0.1:0"];
        argv.extend_from_slice(extra);
        let args = Flags::try_parse_from(argv)
            .expect("valid serve flags")
            .serve;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free port");
        let address = listener.local_addr().expect("the bound address");
        // The server generates the secret file on start; mint tokens from the same file.
        let secret = JwtSecret::load(&data_dir).expect("a JWT secret");
        let tokens = Tokens::new(&secret);
        let (stop, stopped) = oneshot::channel::<()>();
        let db = db.clone();
        let dir = data_dir.clone();
        let task = tokio::spawn(async move {
            server::serve(db, &dir, &args, listener, async {
                let _ = stopped.await;
            })
            .await
            .map_err(|error| error.to_string())
        });
        let server = Self {
            address,
            tokens,
            http: reqwest::Client::new(),
            stop: std::sync::Mutex::new(Some(stop)),
            task: tokio::sync::Mutex::new(Some(task)),
            data_dir,
        };
        server.wait_until_healthy().await;
        server
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    async fn wait_until_healthy(&self) {
        for _ in 0..200 {
            if let Ok(response) = self.http.get(self.url("/healthz")).send().await {
                if response.status().is_success() {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        panic!("the server did not become healthy");
    }

    /// A bearer token for `actor`, valid for an hour.
    pub fn token(&self, actor: &Actor) -> String {
        self.tokens
            .issue(actor, Duration::from_secs(3600))
            .expect("a token")
    }

    /// The secret the server signs tokens with (from its data directory), to hand-craft tokens
    /// that [`Tokens`] would never issue.
    pub fn jwt_secret(&self) -> JwtSecret {
        JwtSecret::load(&self.data_dir).expect("the server's JWT secret")
    }

    /// The key the server seals pending SMS secrets with (from its data directory), to read a
    /// code or password the way the phone receives it.
    pub fn outbox_key(&self) -> OutboxKey {
        load_outbox_key(&self.data_dir).expect("the server's outbox key")
    }

    /// A contact's token as signing in makes it: naming the contact's binding epoch now, read
    /// from its committed events (a contact bound again after its binding was cleared needs
    /// one of these; [`token`](Self::token) names none, which counts as the first epoch).
    pub async fn contact_token(&self, commands: &Commands, contact: &Actor) -> String {
        let epoch = Lookup::contact(commands.lookup(), ContactId::from_uuid(contact.id))
            .await
            .expect("the contact's events")
            .binding_epoch();
        self.tokens
            .issue_for_contact(contact, epoch, Duration::from_secs(3600))
            .expect("a token")
    }

    /// Posts one GraphQL operation; answers the whole JSON response (`data` and `errors`).
    pub async fn graphql(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        self.try_graphql(token, query, variables)
            .await
            .expect("the server answers with JSON")
    }

    /// Like [`graphql`](Self::graphql), but a transport failure (say, a stopped server) is an
    /// `Err` instead of a panic.
    pub async fn try_graphql(
        &self,
        token: Option<&str>,
        query: &str,
        variables: Value,
    ) -> Result<Value, reqwest::Error> {
        let mut request = self
            .http
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await?.json().await
    }

    /// Like [`graphql`](Self::graphql), asserting success; answers `data`.
    pub async fn ok(&self, token: Option<&str>, query: &str, variables: Value) -> Value {
        let response = self.graphql(token, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "{query}\nfailed: {response:#}"
        );
        response["data"].clone()
    }

    /// Like [`graphql`](Self::graphql), asserting failure; answers the first error's code.
    pub async fn refused(&self, token: Option<&str>, query: &str, variables: Value) -> String {
        let response = self.graphql(token, query, variables).await;
        let code = response["errors"][0]["extensions"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("{query}\nwas not refused: {response:#}"))
            .to_owned();
        assert!(
            response["errors"][0]["extensions"]["requestId"].is_string(),
            "every error names its request: {response:#}"
        );
        assert_retry_advice(&response["errors"][0]);
        code
    }

    /// Starts a graceful shutdown (as SIGTERM does): the server stops accepting connections
    /// and finishes the requests it has.
    pub fn begin_shutdown(&self) {
        if let Some(stop) = self.stop.lock().ok().and_then(|mut stop| stop.take()) {
            let _ = stop.send(());
        }
    }

    /// Shuts down gracefully and waits until the server, its projections and its dispatcher
    /// have stopped.
    pub async fn stop(&self) {
        self.begin_shutdown();
        if let Some(task) = self.task.lock().await.take() {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => panic!("the server failed: {error}"),
                Err(error) => panic!("the server task failed: {error}"),
            }
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.begin_shutdown();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

/// An error's retry advice, where it gives one, fits its code: `retryable` is true exactly for
/// the codes worth retrying as they are, and then says how long to wait first.
pub fn assert_retry_advice(error: &Value) {
    let extensions = &error["extensions"];
    let Some(retryable) = extensions.get("retryable") else {
        return;
    };
    let code = extensions["code"].as_str().unwrap_or_default();
    let worth_retrying = matches!(code, "UNAVAILABLE" | "CONFLICT" | "RATE_LIMITED");
    assert_eq!(retryable, &Value::Bool(worth_retrying), "{error:#}");
    assert_eq!(
        extensions["retryAfterMs"].as_u64().is_some_and(|ms| ms > 0),
        worth_retrying,
        "{error:#}"
    );
}
