//! A refusal as a user notices it: the stable code, and a log that did not grow. The demo's tour
//! of refusals and the test suites check every refusal through [`check_refused`].

use std::future::Future;

use dinghuo_commands::CommandError;
use dinghuo_domain::{ErrorCode, TenantId};
use dinghuo_store::audit::count_events;
use dinghuo_store::Database;

/// Whose events must not grow: one set of tenants, or the whole log.
#[derive(Debug, Clone, Copy)]
pub enum Watched<'a> {
    Tenants(&'a [TenantId]),
    WholeLog,
}

/// How an attempt that had to be refused was not refused as it should.
#[derive(Debug)]
pub enum RefusalFault<T> {
    Succeeded(T),
    OtherCode(CommandError),
    Appended { error: CommandError, appended: i64 },
    Count(sqlx::Error),
}

impl<T> std::fmt::Display for RefusalFault<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Succeeded(_) => write!(f, "it succeeded"),
            Self::OtherCode(error) => write!(f, "it was refused with {}: {error}", error.code()),
            Self::Appended { appended, .. } => {
                write!(f, "it was refused, yet appended {appended} event(s)")
            }
            Self::Count(error) => write!(f, "counting events: {error}"),
        }
    }
}

/// Runs `attempt`, which must be refused with `expected` and append no event to `watched`.
/// Answers the refusal, for checks of its field or details.
pub async fn check_refused<T>(
    db: &Database,
    watched: Watched<'_>,
    expected: ErrorCode,
    attempt: impl Future<Output = Result<T, CommandError>>,
) -> Result<CommandError, RefusalFault<T>> {
    let before = events(db, watched).await.map_err(RefusalFault::Count)?;
    let result = attempt.await;
    let appended = events(db, watched).await.map_err(RefusalFault::Count)? - before;
    let error = match result {
        Ok(answer) => return Err(RefusalFault::Succeeded(answer)),
        Err(error) if error.code() != expected => return Err(RefusalFault::OtherCode(error)),
        Err(error) => error,
    };
    if appended != 0 {
        return Err(RefusalFault::Appended { error, appended });
    }
    Ok(error)
}

async fn events(db: &Database, watched: Watched<'_>) -> Result<i64, sqlx::Error> {
    match watched {
        Watched::WholeLog => count_events(db, None).await,
        Watched::Tenants(tenants) => {
            let mut total = 0;
            for tenant in tenants {
                total += count_events(db, Some(*tenant)).await?;
            }
            Ok(total)
        }
    }
}
