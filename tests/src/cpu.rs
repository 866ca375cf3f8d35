//! Where a benchmark phase's time went: the CPU time of this process (the client side) and of
//! the Postgres backends serving its database (the server side), read from `/proc`.

use std::collections::HashMap;
use std::time::Instant;

use dinghuo_store::Database;

/// Linux reports process CPU times in ticks of 1/100 s (`USER_HZ`).
const TICKS_PER_SECOND: f64 = 100.0;

/// CPU time (user + system, in ticks) of process `pid` so far; 0 if it cannot be read.
fn cpu_ticks(pid: &str) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces): state is
    // the first, utime the 12th and stime the 13th.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .map(|(_, rest)| rest.split_whitespace().collect())
        .unwrap_or_default();
    let field = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    field(11) + field(12)
}

/// CPU ticks of each Postgres backend connected to `db`, by pid. SQLite runs in this process:
/// its time is the client's.
async fn backends(db: &Database) -> HashMap<i32, u64> {
    let Database::Postgres(pool) = db else {
        return HashMap::new();
    };
    let pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
            .fetch_all(pool)
            .await
            .unwrap_or_default();
    pids.into_iter()
        .map(|pid| (pid, cpu_ticks(&pid.to_string())))
        .collect()
}

/// What a phase spent.
#[derive(Debug, Clone, Copy)]
pub struct CpuSpent {
    pub wall_seconds: f64,
    /// CPU time of this process.
    pub client_seconds: f64,
    /// CPU time of the Postgres backends of the database (those still connected at the end).
    pub server_seconds: f64,
}

/// A snapshot taken at the start of a phase.
pub struct CpuClock {
    at: Instant,
    client_ticks: u64,
    server_ticks: HashMap<i32, u64>,
}

impl CpuClock {
    pub async fn start(db: &Database) -> Self {
        Self {
            server_ticks: backends(db).await,
            client_ticks: cpu_ticks("self"),
            at: Instant::now(),
        }
    }

    pub async fn stop(self, db: &Database) -> CpuSpent {
        let wall_seconds = self.at.elapsed().as_secs_f64();
        let client_ticks = cpu_ticks("self").saturating_sub(self.client_ticks);
        let server_ticks: u64 = backends(db)
            .await
            .into_iter()
            .map(|(pid, ticks)| {
                // A backend that connected during the phase spent all its time in it.
                ticks.saturating_sub(self.server_ticks.get(&pid).copied().unwrap_or(0))
            })
            .sum();
        CpuSpent {
            wall_seconds,
            client_seconds: client_ticks as f64 / TICKS_PER_SECOND,
            server_seconds: server_ticks as f64 / TICKS_PER_SECOND,
        }
    }
}
