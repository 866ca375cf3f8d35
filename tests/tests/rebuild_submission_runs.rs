//! A rebuild of `partners` and `onboarding` counts order submissions per partner across pages,
//! and writes a run only before one of the projection's own events (a partner's or a contact's)
//! and at the end. With pages of one or a few events, runs span many pages and are broken in
//! the middle of pages, and the rebuilt tables must still equal what incremental processing
//! built with batches of another size.

use dinghuo_projections::models::{OnboardingProjection, PartnersProjection};
use dinghuo_projections::RunnerSettings;
use dinghuo_projections::{catch_up, prepare, rebuild, Projection};
use dinghuo_store::FeedEvent;
use dinghuo_store::{read_feed, Checkpoint};
use dinghuo_tests::history::History;
use dinghuo_tests::on_both_backends;
use dinghuo_tests::read_model::{dump, settle_feed};

/// Whether an event of `aggregates` comes after an order submission and before a later one: only
/// then does the log break a run of submissions in its middle.
fn breaks_a_run(events: &[FeedEvent], aggregates: &[&str]) -> bool {
    let is_submission = |e: &FeedEvent| e.event_type == "OrderSubmitted";
    let Some(first) = events.iter().position(is_submission) else {
        return false;
    };
    let Some(last) = events.iter().rposition(is_submission) else {
        return false;
    };
    events[first..last]
        .iter()
        .any(|e| aggregates.contains(&e.aggregate_type.as_str()))
}

on_both_backends! {
    async fn submission_runs_that_span_pages_rebuild_to_what_incremental_processing_built(test) {
        let commands = test.commands();
        let mut history = History::start(&commands, 20_261_127).await;
        history.run_every_kind(&commands).await;
        history.run(&commands, 200).await;
        history.run_every_kind(&commands).await;
        settle_feed(&test.db).await;
        let log = read_feed(&test.db, Checkpoint::START, 100_000)
            .await
            .expect("read the log");
        assert!(
            breaks_a_run(&log, &["Partner", "Contact"]),
            "the history should interleave partner and contact events with order submissions"
        );

        let projections: [&dyn Projection; 2] = [&PartnersProjection, &OnboardingProjection];
        for projection in projections {
            prepare(&test.db, projection).await.expect("prepare");
            catch_up(&test.db, projection, 7).await.expect("catch up");
            let incremental = dump(&test.db, projection).await;
            assert!(incremental.row_count() > 0, "{} has rows", projection.name());

            for page in [1, 5, 17] {
                let settings = RunnerSettings {
                    rebuild_batch_size: page,
                    ..RunnerSettings::default()
                };
                rebuild(&test.db, &[projection], settings, |_| {})
                    .await
                    .expect("rebuild");
                let rebuilt = dump(&test.db, projection).await;
                if let Some(difference) = incremental.difference(&rebuilt) {
                    panic!(
                        "{}, pages of {page}: the rebuild differs from incremental processing:\n\
                         {difference}",
                        projection.name()
                    );
                }
            }
        }
    }
}
