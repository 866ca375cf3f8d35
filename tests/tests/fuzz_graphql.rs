//! The GraphQL fuzz suite (issue 15, item 12), on both backends: at least 1,000 requests
//! written from the schema (`dinghuo_tests::fuzz`), valid and broken, as every role, sent
//! eight at a time to a real server. No answer may be a 5xx, an error without a code, or
//! `INTERNAL`; the server must pass a health check after every round and at the end; and the
//! process's memory must not grow past a generous bound.
//!
//! The seed is printed; `DINGHUO_FUZZ_SEED=<seed>` repeats a run (see `fuzz/mod.rs` for the
//! other settings). The run stops at a deadline (60 s by default); short of it, every case
//! must have been sent.

use std::io::Write;

use dinghuo_tests::fuzz::cast::Cast;
use dinghuo_tests::fuzz::{runner, Settings};
use dinghuo_tests::on_both_backends;
use dinghuo_tests::server::TestServer;

/// The two backends' runs share the process: one at a time, so that each has the machine
/// (and its RSS figures are its own).
static ONE_AT_A_TIME: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// How much the process's resident memory may grow over a run. Generous: the allocator keeps
/// what it freed, and responses of up to a megabyte are in flight eight at a time. A leak of
/// a few KB per request, or a cache that pins what it is sent, goes past it.
const MAX_RSS_GROWTH_MIB: i64 = 256;

/// Writes to the process's stderr past the test harness's capture, so that the seed and the
/// counts are in every CI log, not only in a failing test's.
fn show(text: &str) {
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

on_both_backends! {
    async fn no_generated_request_crashes_stalls_or_gets_an_uncoded_error(test) {
        let _turn = ONE_AT_A_TIME.lock().await;
        let settings = Settings::from_env();
        show(&format!(
            "GraphQL fuzz on {:?}: seed {:#x} ({} cases, deadline {:?}, {} at a time, values nested up to {}); \
             repeat with DINGHUO_FUZZ_SEED={:#x}",
            test.backend,
            settings.seed,
            settings.cases,
            settings.deadline,
            settings.concurrency,
            settings.max_nesting,
            settings.seed,
        ));
        let server = TestServer::start(&test.db, &[]).await;
        let cast = Cast::build(&test.commands(), &server).await;

        let report = runner::run(&server, &cast, &settings, test.backend).await;
        show(&report.to_string());

        assert_eq!(
            report.violation_count, 0,
            "violations (seed {:#x}):\n{report}",
            settings.seed
        );
        if report.deadline_hit {
            show(&format!(
                "*** the deadline of {:?} stopped the run after {} of {} cases ***",
                settings.deadline, report.cases, settings.cases
            ));
        } else {
            assert_eq!(report.cases, settings.cases, "every case was sent:\n{report}");
        }
        assert!(
            report.rss_growth_kib() / 1024 < MAX_RSS_GROWTH_MIB,
            "RSS grew by {} MiB (bound {MAX_RSS_GROWTH_MIB} MiB):\n{report}",
            report.rss_growth_kib() / 1024
        );
        server.stop().await;
    }
}
