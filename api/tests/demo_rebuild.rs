//! After `dinghuo demo` plus a few hundred random valid and invalid commands, rebuilding each read
//! model from zero gives exactly the rows that incremental processing gave, on both backends.

use std::process::Command;

use dinghuo_projections::{catch_up, prepare, rebuild, Projection, RunnerSettings};
use dinghuo_tests::history::History;
use dinghuo_tests::on_both_backends;
use dinghuo_tests::read_model::{dump, replayable_projections, settle_feed};

/// Runs the built `dinghuo demo` against `url`.
async fn run_demo(url: String) {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_dinghuo"))
            .args(["--database-url", &url, "demo", "--orders", "200"])
            .env_remove("DATABASE_URL")
            .output()
    })
    .await
    .expect("the demo task")
    .expect("run dinghuo");
    assert!(
        output.status.success(),
        "dinghuo demo failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

on_both_backends! {
    async fn after_the_demo_and_random_commands_a_rebuild_equals_incremental_processing(test) {
        run_demo(test.url.clone()).await;
        let commands = test.commands();
        let mut history = History::start(&commands, 20_261_125).await;
        history.run(&commands, 300).await;
        assert!(history.outcomes.refused > 0, "the random commands should include refused ones");
        settle_feed(&test.db).await;
        for projection in replayable_projections() {
            let name = projection.name();
            prepare(&test.db, projection.as_ref()).await.expect("prepare");
            catch_up(&test.db, projection.as_ref(), 37).await.expect("catch up");
            let incremental = dump(&test.db, projection.as_ref()).await;
            assert!(incremental.row_count() > 0, "{name} has no rows after the demo");
            rebuild(&test.db, &[projection.as_ref()], RunnerSettings::default(), |_| {})
                .await
                .expect("rebuild");
            let rebuilt = dump(&test.db, projection.as_ref()).await;
            if let Some(difference) = incremental.difference(&rebuilt) {
                panic!("{name}: the rebuild differs from incremental processing:\n{difference}");
            }
        }
        // All together in one pass, one event per batch: the in-memory folds of a batch give
        // what applying events one at a time gives.
        let all = replayable_projections();
        let together: Vec<&dyn Projection> = all.iter().map(|p| p.as_ref()).collect();
        let expected = {
            let mut dumps = Vec::new();
            for projection in &together {
                dumps.push(dump(&test.db, *projection).await);
            }
            dumps
        };
        let one_by_one = RunnerSettings {
            rebuild_batch_size: 1,
            ..RunnerSettings::default()
        };
        rebuild(&test.db, &together, one_by_one, |_| {})
            .await
            .expect("rebuild one event at a time");
        for (projection, expected) in together.iter().zip(&expected) {
            let rebuilt = dump(&test.db, *projection).await;
            if let Some(difference) = expected.difference(&rebuilt) {
                panic!(
                    "{}: a rebuild in batches of one differs:\n{difference}",
                    projection.name()
                );
            }
        }
    }
}
