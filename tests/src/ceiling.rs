//! The ceiling of `submitOrder` on Postgres, a benchmark baseline: one transaction per order that
//! reads the order's stream and inserts its one event, nothing else, sent by `pgbench` (C,
//! prepared statements) from several connections. No command layer can beat it; the benchmarks
//! report the command layer and HTTP as fractions of it, measured in the same run.
//!
//! The statements are postgres-es's own (its `SqlQueryFactory`'s select and insert), with the
//! payload and metadata bound as parameters as postgres-es binds them. `pgbench` is found as
//! `DINGHUO_PGBENCH`, else `pgbench` on the `PATH`; without it the ceiling is not measured, and
//! the caller says so loudly.

use std::io::Write;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use dinghuo_store::Database;

/// The table the ceiling writes: a copy of `events` with its columns, defaults, generated
/// columns and indexes, so that an insert costs what one into `events` does, while the
/// projection runners of the benchmark's server never see (and never project) its rows: in
/// `events` they slowed every phase that followed the ceiling.
const TABLE: &str = "CREATE TABLE IF NOT EXISTS ceiling_events (LIKE events INCLUDING ALL)";

/// One order: read its (empty) stream, insert its `OrderSubmitted`, commit. `:n` is random per
/// transaction so that every order has a stream of its own, as the command layer's fresh ids.
const SCRIPT: &str = "\
\\set n random(1, 9223372036854775806)
BEGIN;
SELECT aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata
  FROM ceiling_events
  WHERE aggregate_type = :aggregate_type AND aggregate_id = :n
  ORDER BY sequence;
INSERT INTO ceiling_events (aggregate_type, aggregate_id, sequence, event_type, event_version, payload, metadata)
VALUES (:aggregate_type, :n, 1, 'OrderSubmitted', :event_version, :payload, :metadata);
END;
";

/// The workload, ready to run against one database.
pub struct Ceiling {
    pgbench: PathBuf,
    script: PathBuf,
    url: String,
    /// `(name, value)` of each script variable given on the command line.
    variables: Vec<(String, String)>,
}

/// How long each pgbench client runs.
#[derive(Debug, Clone, Copy)]
pub enum Length {
    Time(Duration),
    /// Transactions per client.
    Transactions(u64),
}

/// Why the ceiling cannot be measured.
#[derive(Debug)]
pub struct NoCeiling(pub String);

impl std::fmt::Display for NoCeiling {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The banner a benchmark prints when it could not measure the ceiling.
pub fn skipped(why: &NoCeiling) -> String {
    format!(
        "\n************************************************************************\n\
         *** SKIPPED: the pgbench ceiling was not measured: {why}\n\
         *** The ratios to the ceiling are missing from this run.\n\
         ************************************************************************\n"
    )
}

fn pgbench_binary() -> Result<PathBuf, NoCeiling> {
    let binary = std::env::var_os("DINGHUO_PGBENCH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("pgbench"));
    match Command::new(&binary).arg("--version").output() {
        Ok(output) if output.status.success() => Ok(binary),
        Ok(output) => Err(NoCeiling(format!(
            "{} --version failed: {}",
            binary.display(),
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
        Err(error) => Err(NoCeiling(format!(
            "{} cannot be run ({error}); install pgbench or set DINGHUO_PGBENCH",
            binary.display()
        ))),
    }
}

impl Ceiling {
    /// The workload on the Postgres database at `url` (the one `db` is a pool of), in the table
    /// `ceiling_events` (made here, a copy of `events`), inserting
    /// `payload` and `metadata` (JSON text: a real `OrderSubmitted` and its metadata).
    pub async fn prepare(
        db: &Database,
        url: &str,
        event_version: &str,
        payload: &str,
        metadata: &str,
    ) -> Result<Self, NoCeiling> {
        if !matches!(db, Database::Postgres(_)) {
            return Err(NoCeiling("the ceiling is a Postgres workload".to_owned()));
        }
        let pgbench = pgbench_binary()?;
        dinghuo_store::sql::execute(db, TABLE, &[])
            .await
            .map_err(|error| NoCeiling(format!("cannot create ceiling_events: {error}")))?;
        let script = std::env::temp_dir().join(format!(
            "dinghuo-ceiling-{}.sql",
            uuid::Uuid::now_v7().simple()
        ));
        std::fs::File::create(&script)
            .and_then(|mut file| file.write_all(SCRIPT.as_bytes()))
            .map_err(|error| NoCeiling(format!("cannot write {}: {error}", script.display())))?;
        let variables = [
            ("aggregate_type", "Order"),
            ("event_version", event_version),
            ("payload", payload),
            ("metadata", metadata),
        ]
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .to_vec();
        Ok(Self {
            pgbench,
            script,
            url: url.to_owned(),
            variables,
        })
    }

    /// Runs the workload from `clients` connections, each for `length`; orders per second,
    /// from pgbench's own count and clock (without the time to connect).
    pub fn run(&self, clients: usize, length: Length) -> Result<f64, NoCeiling> {
        let mut command = Command::new(&self.pgbench);
        command
            .args(["--no-vacuum", "--protocol=prepared"])
            .arg(format!("--jobs={}", clients.min(2)))
            .arg(format!("--client={clients}"))
            .arg(match length {
                Length::Time(duration) => format!("--time={}", duration.as_secs().max(1)),
                Length::Transactions(count) => format!("--transactions={}", count.max(1)),
            })
            .arg(format!("--file={}", self.script.display()));
        for (name, value) in &self.variables {
            command.arg(format!("--define={name}={value}"));
        }
        let output = command
            .arg(&self.url)
            .output()
            .map_err(|error| NoCeiling(format!("pgbench did not run: {error}")))?;
        let stdout = String::from_utf8_lossy(&output.stdout);
        if !output.status.success() {
            return Err(NoCeiling(format!(
                "pgbench failed: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        stdout
            .lines()
            .find_map(|line| {
                let rest = line.strip_prefix("tps = ")?;
                rest.split_whitespace().next()?.parse::<f64>().ok()
            })
            .ok_or_else(|| NoCeiling(format!("no tps in pgbench's output: {stdout}")))
    }
}

impl Drop for Ceiling {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.script);
    }
}

/// `(event_version, payload)` of the latest stored `OrderSubmitted`, as JSON text: what the
/// ceiling inserts.
pub async fn stored_order(db: &Database) -> Result<(String, String), sqlx::Error> {
    let sql = "SELECT event_version, CAST(payload AS TEXT) FROM events \
               WHERE aggregate_type = 'Order' AND event_type = 'OrderSubmitted' \
               ORDER BY position DESC LIMIT 1";
    match db {
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_one(pool).await,
    }
}
