//! Asserting a refusal the way a user would notice it: the stable error code, and an event log
//! that did not grow.

use std::fmt::Debug;
use std::future::Future;

use dinghuo_commands::CommandError;
use dinghuo_demo::{check_refused, RefusalFault, Watched};
use dinghuo_domain::ErrorCode;

use crate::TestDb;

/// Runs `attempt` and asserts that it was refused with `code` and appended no event (the check
/// `dinghuo demo` makes of its refusals). Answers the error, for checks on its field or details.
pub async fn assert_refused<T: Debug>(
    test: &TestDb,
    code: ErrorCode,
    attempt: impl Future<Output = Result<T, CommandError>>,
) -> CommandError {
    match check_refused(&test.db, Watched::WholeLog, code, attempt).await {
        Ok(error) => error,
        Err(RefusalFault::Succeeded(answer)) => {
            panic!("expected {code}, but the command succeeded with {answer:?}")
        }
        Err(RefusalFault::OtherCode(error)) => panic!("unexpected refusal: {error:?}"),
        Err(RefusalFault::Appended { error, appended }) => {
            panic!("a command refused with {code} appended {appended} events: {error:?}")
        }
        Err(RefusalFault::Count(error)) => panic!("count events: {error}"),
    }
}

/// Like [`assert_refused`], for `VALIDATION` on the input field `field`.
pub async fn assert_invalid<T: Debug>(
    test: &TestDb,
    field: &str,
    attempt: impl Future<Output = Result<T, CommandError>>,
) -> CommandError {
    let error = assert_refused(test, ErrorCode::Validation, attempt).await;
    assert_eq!(
        error.field(),
        Some(field),
        "wrong field at fault: {error:?}"
    );
    error
}
