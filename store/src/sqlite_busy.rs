//! How a SQLite connection waits for the write lock.
//!
//! SQLite's own busy handler (what `busy_timeout` installs) sleeps between attempts for longer
//! and longer, 100 ms at a time after the first third of a second. A writer that holds the lock
//! most of the time with short gaps between its transactions, a rebuild in another process,
//! is then almost never seen to let go: a command waiting behind it would sleep through every
//! gap and give up with `database is locked` after the timeout (issue 16 measured 55 of 189
//! orders refused so during a rebuild). This handler tries again every millisecond, and every
//! 3 ms after the first ten attempts, so a waiter takes the lock in the first gap it is given;
//! it gives up only once the same timeout has passed. The attempts cost a system call each, on
//! the connection's own worker thread.

use std::cell::Cell;
use std::ffi::{c_int, c_void};
use std::time::{Duration, Instant};

use sqlx::SqliteConnection;

/// How long a connection waits for the lock before its statement fails with `SQLITE_BUSY`.
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Attempts with a 1 ms pause before the pause grows to 3 ms: a long wait tries less often,
/// still often enough to find a rebuild's gaps (4 ms, `dinghuo_projections::rebuild`).
const QUICK_ATTEMPTS: c_int = 10;

thread_local! {
    /// When the current wait began. sqlx runs each SQLite connection on a thread of its own,
    /// and a handler runs on the thread of the statement waiting.
    static WAITING_SINCE: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Installs the handler on `connection` (in place of the one `busy_timeout` installed).
pub async fn install(connection: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let mut handle = connection.lock_handle().await?;
    let raw = handle.as_raw_handle();
    // SAFETY: `raw` is the live handle of this connection, held locked for the call; the
    // handler is a plain function that keeps no pointer and ignores its data argument.
    let code = unsafe {
        libsqlite3_sys::sqlite3_busy_handler(raw.as_ptr(), Some(busy), std::ptr::null_mut())
    };
    if code == libsqlite3_sys::SQLITE_OK {
        Ok(())
    } else {
        Err(sqlx::Error::Protocol(format!(
            "cannot install the SQLite busy handler (code {code})"
        )))
    }
}

/// SQLite's busy callback: nonzero to try again, zero to give up. `attempts` counts the calls
/// of this wait, from 0.
extern "C" fn busy(_data: *mut c_void, attempts: c_int) -> c_int {
    let now = Instant::now();
    let since = WAITING_SINCE.with(|since| {
        if attempts == 0 {
            since.set(Some(now));
        }
        since.get().unwrap_or(now)
    });
    if now.duration_since(since) >= BUSY_TIMEOUT {
        return 0;
    }
    let pause = if attempts < QUICK_ATTEMPTS { 1 } else { 3 };
    std::thread::sleep(Duration::from_millis(pause));
    1
}
