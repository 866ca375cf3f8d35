//! Telling a database that could not be reached from a statement that failed: the first is
//! worth trying again after a pause (a processor restarts, a client gets `UNAVAILABLE`), the
//! second would fail the same way again.

use std::error::Error;

/// A database error that a later attempt may not meet: the connection or the server, not the
/// statement. Postgres SQLSTATE class 08 (connection exception), 57P01-57P03 (admin or crash
/// shutdown, cannot connect now), 53300 (too many connections), 40001/40P01 (serialization
/// failure, deadlock); SQLite busy or locked.
pub fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                // The primary result code is the low byte of the extended one.
                let code = database
                    .code()
                    .and_then(|code| code.parse::<i32>().ok())
                    .unwrap_or(0);
                return matches!(code & 0xff, 5 | 6);
            }
            database.code().is_some_and(|code| {
                code.starts_with("08")
                    || matches!(
                        code.as_ref(),
                        "57P01" | "57P02" | "57P03" | "53300" | "40001" | "40P01"
                    )
            })
        }
        // PoolClosed: the process is shutting down. The rest are about the statement or the
        // data, and would fail again.
        _ => false,
    }
}

/// Whether a client should hear `UNAVAILABLE`: the database could not be reached or the
/// connection was lost (transient), or this process is shutting down (its pool is closed).
/// Either way the request may or may not have taken effect, and a retry (here or on another
/// node) is the answer.
pub fn is_unavailable(error: &sqlx::Error) -> bool {
    is_transient(error) || matches!(error, sqlx::Error::PoolClosed)
}

/// [`is_unavailable`] for an error that may wrap a `sqlx::Error` (cqrs-es boxes the event
/// repository's errors): the error and its chain of sources are searched.
pub fn is_unavailable_cause(error: &(dyn Error + 'static)) -> bool {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(sqlx) = error.downcast_ref::<sqlx::Error>() {
            return is_unavailable(sqlx);
        }
        cause = error.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reset() -> sqlx::Error {
        sqlx::Error::Io(std::io::Error::from(std::io::ErrorKind::ConnectionReset))
    }

    #[test]
    fn connection_failures_are_transient_and_statement_failures_are_not() {
        assert!(is_transient(&sqlx::Error::PoolTimedOut));
        assert!(is_transient(&reset()));
        assert!(!is_transient(&sqlx::Error::PoolClosed));
        assert!(!is_transient(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn a_closed_pool_is_unavailable_to_clients_but_not_worth_a_restart() {
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
    }

    #[test]
    fn a_boxed_connection_failure_is_found_behind_the_box() {
        let boxed: Box<dyn Error + Send + Sync> = Box::new(reset());
        assert!(is_unavailable_cause(boxed.as_ref()));
        let other: Box<dyn Error + Send + Sync> = Box::new(sqlx::Error::RowNotFound);
        assert!(!is_unavailable_cause(other.as_ref()));
        let text: Box<dyn Error + Send + Sync> = "not a database error".into();
        assert!(!is_unavailable_cause(text.as_ref()));
    }
}
