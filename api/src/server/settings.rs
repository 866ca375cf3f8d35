//! The flags of `dinghuo serve`, each with a `DINGHUO_*` variable.

use std::time::Duration;

use dinghuo_projections::outbox::{SecretString, SmsSettings};

use super::transport::ConnectionLimits;
use crate::graphql::response_size::DEFAULT_MAX_RESPONSE_BYTES;
use crate::graphql::Limits;

/// The SMS gateway's token: a variable only, so that it never shows in a process list.
pub const SMS_TOKEN_ENV: &str = "DINGHUO_SMS_TOKEN";

#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "DINGHUO_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: String,

    /// Load the demo tenant if the store is empty, then print ready-to-paste bearer tokens.
    #[arg(long)]
    pub demo: bool,

    /// Serve the API only: run no projections and no SMS dispatcher here (extra API nodes;
    /// another process runs them).
    #[arg(long, env = "DINGHUO_NO_PROCESSORS")]
    pub no_processors: bool,

    /// Turn GraphQL introspection off (it is on by default: this is a developer-facing API).
    #[arg(long, env = "DINGHUO_NO_INTROSPECTION")]
    pub no_introspection: bool,

    /// Largest accepted query depth.
    #[arg(long, env = "DINGHUO_MAX_DEPTH", default_value_t = 15)]
    pub max_depth: usize,

    /// Largest accepted query complexity.
    #[arg(long, env = "DINGHUO_MAX_COMPLEXITY", default_value_t = 50_000)]
    pub max_complexity: usize,

    /// Largest accepted request body, in bytes.
    #[arg(long, env = "DINGHUO_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    pub max_body_bytes: usize,

    /// How long a client may take to send a request's headers (milliseconds), counted from the
    /// connection's opening or the end of the previous response: also the longest a keep-alive
    /// connection idles.
    #[arg(long, env = "DINGHUO_HEADER_TIMEOUT_MS", default_value = "10000", value_parser = parse_positive_millis)]
    pub header_timeout: Duration,

    /// How long a client may take to send a request's whole body once its headers are in
    /// (milliseconds).
    #[arg(long, env = "DINGHUO_BODY_TIMEOUT_MS", default_value = "30000", value_parser = parse_positive_millis)]
    pub body_timeout: Duration,

    /// The most connections open at once, WebSockets included; past it the server accepts no
    /// more until one closes.
    #[arg(long, env = "DINGHUO_MAX_CONNECTIONS", default_value_t = 512, value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Largest response sent, in bytes (the whole body of a batch, each message of a
    /// WebSocket); past it the answer is a `RESPONSE_TOO_LARGE` error instead.
    #[arg(long, env = "DINGHUO_MAX_RESPONSE_BYTES", default_value_t = DEFAULT_MAX_RESPONSE_BYTES)]
    pub max_response_bytes: usize,

    /// Most operations in one batched request.
    #[arg(long, env = "DINGHUO_MAX_BATCH", default_value_t = 10)]
    pub max_batch: usize,

    /// How long a mutation waits for the read models to show its write (milliseconds).
    #[arg(long, env = "DINGHUO_READ_YOUR_WRITES_MS", default_value = "5000", value_parser = parse_millis)]
    pub read_your_writes_timeout: Duration,

    /// Where SMS go: `log` (records and prints them) or `http` (POSTs JSON to `--sms-url` with
    /// the bearer token `DINGHUO_SMS_TOKEN`).
    #[arg(long, env = "DINGHUO_SMS_PROVIDER", default_value = "log")]
    pub sms_provider: String,

    /// The SMS gateway's endpoint (http provider).
    #[arg(long, env = "DINGHUO_SMS_URL")]
    pub sms_url: Option<String>,

    /// `/readyz` fails when a projection lags more than this (seconds).
    #[arg(long, env = "DINGHUO_READY_MAX_LAG_SECS", default_value_t = 30.0)]
    pub ready_max_lag_secs: f64,

    /// `/readyz` fails when a projection has more than this many events left to apply (a
    /// burst can leave many events behind while the oldest is still young).
    #[arg(long, env = "DINGHUO_READY_MAX_LAG_EVENTS", default_value_t = 1_000)]
    pub ready_max_lag_events: i64,

    /// How many reverse proxies stand in front of the server, each appending to
    /// `X-Forwarded-For`: the sign-in rate limits then count per the address the farthest one
    /// received from. 0 (the default) trusts no header and counts per TCP peer. Set it only
    /// when every request passes through exactly that many proxies, or clients choose their
    /// own address.
    #[arg(long, env = "DINGHUO_TRUSTED_PROXY_HOPS", default_value_t = 0, value_parser = clap::value_parser!(u8).range(0..=8))]
    pub trusted_proxy_hops: u8,
}

fn parse_millis(text: &str) -> Result<Duration, String> {
    text.parse::<u64>()
        .map(Duration::from_millis)
        .map_err(|_| format!("expected milliseconds, got {text:?}"))
}

fn parse_positive_millis(text: &str) -> Result<Duration, String> {
    match parse_millis(text)? {
        duration if duration.is_zero() => Err("expected at least 1 millisecond".to_owned()),
        duration => Ok(duration),
    }
}

impl ServeArgs {
    /// The limits of the accept loop these flags describe.
    pub fn connection_limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            header_timeout: self.header_timeout,
            max_connections: self.max_connections as usize,
        }
    }

    pub fn limits(&self) -> Limits {
        Limits {
            max_depth: self.max_depth,
            max_complexity: self.max_complexity,
            introspection: !self.no_introspection,
            max_response_bytes: self.max_response_bytes,
        }
    }
}

impl ServeArgs {
    /// The SMS settings these flags describe.
    pub fn sms(&self) -> Result<SmsSettings, String> {
        Ok(SmsSettings {
            provider: self.sms_provider.parse()?,
            url: self.sms_url.clone(),
            token: std::env::var(SMS_TOKEN_ENV).ok().map(SecretString::new),
            ..SmsSettings::default()
        })
    }
}
