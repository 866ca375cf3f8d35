//! `dinghuo serve`: the HTTP server (GraphQL, health, readiness, metrics) and, unless turned off,
//! the projection runners and the SMS dispatcher in the same process.
//!
//! Modules:
//! - [`settings`]: flags and `DINGHUO_*` variables of `serve`;
//! - [`transport`]: the accept loop: HTTP/1.1 connections, the header time limit, the
//!   connection limit, graceful shutdown;
//! - [`routes`]: the router and the GraphQL handlers;
//! - [`app_state`]: what every handler shares;
//! - [`request_id`]: a request id per request, in the answer, its errors and the logs;
//! - [`client_addr`]: the client address the sign-in limits count per (`X-Forwarded-For` only
//!   with `--trusted-proxy-hops`);
//! - [`body_deadline`]: a request body must arrive in time and within the size limit;
//! - [`content_type`]: `POST /graphql` takes JSON only;
//! - [`graphql_body`]: the body of `POST /graphql` decoded as a GraphQL request;
//! - [`edge_error`]: the errors answered before GraphQL runs, in GraphQL's shape;
//! - [`origin`]: no WebSocket from a page of another site;
//! - [`headers`]: security headers on every answer;
//! - [`graphiql`]: the GraphiQL page and its pinned assets, compiled in;
//! - [`respond`]: the GraphQL HTTP answer, serialised within the response size cap;
//! - [`health`]: `/healthz` and `/readyz`;
//! - [`metrics`]: `/metrics` (Prometheus) and what is recorded;
//! - [`processors`]: runners and dispatcher started and stopped with the server;
//! - [`first_run`]: `--demo`: load the demo tenant into an empty store and print tokens.

pub mod app_state;
pub mod body_deadline;
pub mod client_addr;
pub mod content_type;
pub mod edge_error;
pub mod first_run;
pub mod graphiql;
pub mod graphql_body;
pub mod headers;
pub mod health;
pub mod metrics;
pub mod origin;
pub mod processors;
pub mod request_id;
pub mod respond;
pub mod routes;
pub mod settings;
pub mod transport;

use std::net::SocketAddr;
use std::sync::Arc;

use dinghuo_commands::Commands;
use dinghuo_projections::outbox::seal_cleartext_secrets;
use dinghuo_projections::{Progress, Wakeup};
use dinghuo_store::Database;
use tokio::net::TcpListener;

use crate::auth::{load_outbox_key, JwtSecret, Tokens};
use crate::graphql::order_reads::OrderReads;
use crate::graphql::{self, ApiState};
pub use settings::ServeArgs;

pub type Error = Box<dyn std::error::Error + Send + Sync>;

/// Runs the server until SIGTERM or Ctrl-C, then shuts down gracefully: stops accepting, lets
/// in-flight requests (and so commands) finish, then stops the processors, which commit the
/// batch they are applying.
pub async fn run(db: Database, data_dir: &std::path::Path, args: &ServeArgs) -> Result<(), Error> {
    let listener = TcpListener::bind(&args.listen).await?;
    serve(db, data_dir, args, listener, shutdown_signal()).await
}

/// [`run`] on a bound listener, until `shutdown` completes (tests pass their own).
pub async fn serve(
    db: Database,
    data_dir: &std::path::Path,
    args: &ServeArgs,
    listener: TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Error> {
    let secret = JwtSecret::load(data_dir)?;
    let tokens = Tokens::new(&secret);
    let outbox_key = load_outbox_key(data_dir)?;
    // Before anything can send them: secrets an earlier version left in the clear.
    seal_cleartext_secrets(&db, &outbox_key).await?;
    let wakeup = Wakeup::new();
    let progress = Progress::new();
    let waker = wakeup.clone();
    let commands = Commands::new(db.clone()).with_commit_signal(Arc::new(move || waker.wake()));
    let state = ApiState {
        commands: Arc::new(commands),
        tokens: tokens.clone(),
        read_your_writes_timeout: args.read_your_writes_timeout,
        wakeup: wakeup.clone(),
        progress: progress.clone(),
        order_reader: OrderReads::shared(&db),
        outbox_key: outbox_key.clone(),
        standings: Arc::default(),
        sessions: Arc::default(),
    };

    let demo = match args.demo {
        true => Some(first_run::load_demo_if_empty(&state, args).await?),
        false => None,
    };

    let processors = if args.no_processors {
        None
    } else {
        Some(processors::start(
            &db,
            &wakeup,
            &progress,
            &outbox_key,
            args,
        )?)
    };

    // Announce nothing (URL, tokens) before the read models show what the log holds.
    let strict = demo.as_ref().is_some_and(first_run::Demo::loaded);
    wait_for_read_models(&db, strict).await;
    if let Some(demo) = demo {
        first_run::print_demo_tokens(&state, &tokens, demo).await?;
    }

    let metrics = metrics::install()?;
    let schema = graphql::build(state.clone(), args.limits());
    let app = routes::router(state, schema, metrics, args);
    let address: SocketAddr = listener.local_addr()?;
    tracing::info!(%address, "listening");
    println!("GraphiQL: http://{address}/graphql");

    transport::serve(listener, app, args.connection_limits(), shutdown).await?;
    tracing::info!("stopped accepting; in-flight requests finished");
    if let Some(processors) = processors {
        processors.stop().await;
    }
    Ok(())
}

/// Completes on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = terminate => {}
    }
    tracing::info!("shutting down");
}

/// Waits (bounded) until every projection has caught up with the log — run by this process's
/// runners, or by the process that runs them — so that the first requests see what the log
/// holds. Caught up: no event left to apply, or (unless `strict`: this process just wrote the
/// whole log) none older than a second, which a runner following a busy log satisfies. A
/// failed projection is not waited for; `/readyz` says so.
async fn wait_for_read_models(db: &Database, strict: bool) {
    const PATIENCE: std::time::Duration = std::time::Duration::from_secs(30);
    let started = std::time::Instant::now();
    loop {
        let mut behind = Vec::new();
        for projection in dinghuo_projections::models::all() {
            match dinghuo_projections::status(db, projection.as_ref()).await {
                Ok(status) if matches!(status.state, dinghuo_projections::State::Failed(_)) => {}
                Ok(status)
                    if !matches!(status.state, dinghuo_projections::State::New)
                        && (status.lag_events == 0 || (!strict && status.lag_seconds < 1.0)) => {}
                _ => behind.push(projection.name()),
            }
        }
        if behind.is_empty() {
            return;
        }
        if started.elapsed() > PATIENCE {
            tracing::warn!(
                ?behind,
                "serving before these read models caught up; /readyz says so"
            );
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}
