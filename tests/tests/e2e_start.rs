//! An honest start (issue 16, item 5): `serve` announces itself (the URL, the `--demo` tokens,
//! and answers at all) only once the projections have caught up with the log, so that the first
//! query a newcomer pastes sees the demo's orders.

use dinghuo_projections::models;
use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::Value;

on_both_backends! {
    async fn serve_demo_answers_only_once_every_projection_has_applied_the_demo(test) {
        assert_eq!(test.event_count().await, 0, "an empty store");
        let server = TestServer::start(&test.db, &["--demo"]).await;
        let events = test.event_count().await;
        assert!(events > 100, "the demo is loaded: {events} events");
        for projection in models::all() {
            let status = dinghuo_projections::status(&test.db, projection.as_ref())
                .await
                .expect("a status");
            assert_eq!(
                status.lag_events, 0,
                "{} had {} of {events} events left to apply when the server first answered",
                status.name, status.lag_events
            );
        }
        server.stop().await;
    }

    async fn readyz_is_not_ready_while_a_projection_has_more_events_left_than_its_bound(test) {
        // A server that runs the projections brings them up to date, then stops.
        let first = TestServer::start(&test.db, &[]).await;
        first.stop().await;
        let applied = test.event_count().await;
        // The log grows while no process applies it.
        World::build(&test.commands(), 3).await;
        let behind = test.event_count().await - applied;
        assert!(behind > 5, "the world appended {behind} events");

        // Young events, but more of them than the bound: not ready.
        let strict = ["--no-processors", "--ready-max-lag-secs", "3600", "--ready-max-lag-events", "5"];
        let server = TestServer::start(&test.db, &strict).await;
        let answer = reqwest::get(server.url("/readyz")).await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 503);
        let body: Value = answer.json().await.expect("JSON");
        assert_eq!(body["ready"], false, "{body:#}");
        let problems = body["problems"].as_array().cloned().unwrap_or_default();
        assert!(!problems.is_empty(), "{body:#}");
        assert!(
            problems.iter().all(|problem| problem.as_str().is_some_and(|text| text.contains(" events"))),
            "every problem is a lag counted in events: {body:#}"
        );
        server.stop().await;

        // The same lag within the default bound of events: ready.
        let lenient = ["--no-processors", "--ready-max-lag-secs", "3600"];
        let server = TestServer::start(&test.db, &lenient).await;
        let answer = reqwest::get(server.url("/readyz")).await.expect("an answer");
        assert_eq!(answer.status().as_u16(), 200, "{:#}", answer.text().await.unwrap_or_default());
        server.stop().await;
    }
}
