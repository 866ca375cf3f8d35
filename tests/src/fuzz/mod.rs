//! A GraphQL fuzzer generated from the schema (issue 15, item 12), run by
//! `tests/tests/fuzz_graphql.rs` against a real server on each backend.
//!
//! It writes at least a thousand requests per run from the served SDL, valid and broken, as
//! every role, sends them several at a time, and checks what no answer may ever be: a 5xx, an
//! error without `extensions.code`, an `INTERNAL`, a dead server, or memory that keeps growing.
//! Everything is drawn from one seed, printed at the start; the same seed writes the same
//! requests (with the ids and tokens of that run's fixture).
//!
//! Modules, one concern each:
//! - [`schema`]: the schema model, read from the SDL with async-graphql's parser;
//! - [`cast`]: the fixture (two tenants, every role, orders), its ids and tokens;
//! - [`values`]: argument values, valid and broken;
//! - [`operations`]: documents and requests (the cases);
//! - [`oracle`]: what every answer must satisfy, and the report;
//! - [`runner`]: sends the cases over HTTP and WebSocket, concurrently, under a deadline.
//!
//! Settings (environment variables, for reproducing or for a longer run):
//! `DINGHUO_FUZZ_SEED` (decimal or `0x…` hex), `DINGHUO_FUZZ_CASES`, `DINGHUO_FUZZ_SECS` (the
//! deadline per backend), `DINGHUO_FUZZ_CONCURRENCY`, `DINGHUO_FUZZ_MAX_NESTING`.

pub mod cast;
pub mod operations;
pub mod oracle;
pub mod runner;
pub mod schema;
pub mod values;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// How deep generated list and object values nest, by default: the depth that overflowed the
/// server's stack before its request gate bounded nesting (issue 15, item 1).
pub const DEFAULT_MAX_NESTING: usize = 2_000;

/// What a run does.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Every case is drawn from this seed and its index.
    pub seed: u64,
    /// How many cases to send (the run stops earlier at the deadline).
    pub cases: usize,
    /// When to stop sending, counted from the start of the run.
    pub deadline: Duration,
    /// Cases in flight at once.
    pub concurrency: usize,
    /// The deepest nesting of generated list and object values.
    pub max_nesting: usize,
    /// The server's `--max-depth` (selections deeper than this are expected to be refused).
    pub server_max_depth: usize,
    /// The server's `--max-body-bytes` (larger bodies are expected to be refused with 413).
    pub server_max_body_bytes: usize,
    /// Cases between two health checks.
    pub round: usize,
    /// How long one HTTP request may take before the run calls the server stalled.
    pub request_timeout: Duration,
    /// How long a subscription is listened to for its first message.
    pub subscription_patience: Duration,
}

/// `dinghuo serve`'s flags, parsed as the test server parses them (defaults and `DINGHUO_*`).
#[derive(clap::Parser)]
struct ServeFlags {
    #[command(flatten)]
    serve: dinghuo_api::server::ServeArgs,
}

impl Default for Settings {
    fn default() -> Self {
        use clap::Parser;
        let serve = ServeFlags::try_parse_from(["serve"])
            .map(|flags| flags.serve)
            .ok();
        Self {
            seed: fresh_seed(),
            cases: 1_000,
            deadline: Duration::from_secs(60),
            concurrency: 8,
            max_nesting: DEFAULT_MAX_NESTING,
            server_max_depth: serve.as_ref().map_or(10, |serve| serve.max_depth),
            server_max_body_bytes: serve.as_ref().map_or(1 << 20, |serve| serve.max_body_bytes),
            round: 50,
            request_timeout: Duration::from_secs(30),
            subscription_patience: Duration::from_millis(1_500),
        }
    }
}

impl Settings {
    /// The defaults, overridden by the `DINGHUO_FUZZ_*` variables that are set.
    pub fn from_env() -> Self {
        let mut settings = Self::default();
        if let Some(seed) = env("DINGHUO_FUZZ_SEED").and_then(|text| parse_seed(&text)) {
            settings.seed = seed;
        }
        if let Some(cases) = env("DINGHUO_FUZZ_CASES").and_then(|text| text.parse().ok()) {
            settings.cases = cases;
        }
        if let Some(secs) = env("DINGHUO_FUZZ_SECS").and_then(|text| text.parse().ok()) {
            settings.deadline = Duration::from_secs(secs);
        }
        if let Some(n) = env("DINGHUO_FUZZ_CONCURRENCY").and_then(|text| text.parse().ok()) {
            settings.concurrency = std::cmp::max(n, 1);
        }
        if let Some(n) = env("DINGHUO_FUZZ_MAX_NESTING").and_then(|text| text.parse().ok()) {
            settings.max_nesting = std::cmp::max(n, 2);
        }
        settings
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name)
        .ok()
        .filter(|value| !value.trim().is_empty())
}

fn parse_seed(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// A seed for a run nobody asked to repeat: the clock's nanoseconds.
fn fresh_seed() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos() as u64)
        .unwrap_or(0x5eed)
}

/// A feature of a case: a flaw of a value, or a construct of the document. Counted in the
/// report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tag {
    // Values.
    WrongType,
    NullForNonNull,
    MissingRequired,
    OutOfRange,
    HugeString,
    EmptyString,
    Unicode,
    ControlChars,
    /// A NUL byte in a string.
    Nul,
    /// An id, date or time that does not parse.
    MalformedScalar,
    DeepNesting,
    UnknownEnum,
    UnknownField,
    DuplicateField,
    OneOfViolation,
    LongList,
    /// Literal text JSON cannot carry (lone surrogates, bad escapes).
    RawLiteral,
    Variables,
    VariableTypeMismatch,
    UnusedVariable,
    // Documents.
    Alias,
    DuplicateAlias,
    InlineFragment,
    NamedFragment,
    UnusedFragment,
    FragmentCycle,
    WrongFragmentType,
    Directive,
    UnknownDirective,
    UnknownArgument,
    DuplicateArgument,
    InvalidSelection,
    /// Deeper than the server's `--max-depth`.
    DeepSelection,
    /// One root field repeated under hundreds of aliases.
    AliasFlood,
    /// Cut and spliced until it (probably) no longer parses.
    Mangled,
    MultipleOperations,
    Introspection,
    // Requests.
    Batch,
    OversizedBatch,
    RawBody,
    SubscriptionOverHttp,
    /// A WebSocket client breaking the protocol.
    ProtocolAbuse,
    /// A `Content-Type` other than `application/json`, or none.
    ContentType,
}
