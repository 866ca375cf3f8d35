//! An honest start (issue 16, item 5): `serve` announces itself (the URL, the `--demo` tokens,
//! and answers at all) only once the projections have caught up with the log, so that the first
//! query a newcomer pastes sees the demo's orders.

use dinghuo_projections::models;
use dinghuo_tests::on_both_backends;
use dinghuo_tests::server::TestServer;

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
}
