//! `dinghuo projections rebuild` without a terminal (stderr piped, as under a service manager or
//! in CI) prints progress lines to stderr every `--progress-every` seconds (issue 16, item 7),
//! on both backends.

use std::process::{Command, Output};

use dinghuo_tests::on_both_backends;

/// Runs the built `dinghuo` against `url` with `args`, stderr piped; answers its output.
async fn dinghuo(url: String, args: &'static [&'static str]) -> Output {
    let output = tokio::task::spawn_blocking(move || {
        Command::new(env!("CARGO_BIN_EXE_dinghuo"))
            .args(["--database-url", &url])
            .args(args)
            .env_remove("DATABASE_URL")
            .env_remove("DINGHUO_PROGRESS_EVERY_SECS")
            .output()
    })
    .await
    .expect("the task")
    .expect("run dinghuo");
    assert!(
        output.status.success(),
        "dinghuo {args:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

on_both_backends! {
    async fn a_rebuild_without_a_terminal_prints_progress_lines(test) {
        dinghuo(test.url.clone(), &["demo", "--orders", "50"]).await;
        let output = dinghuo(
            test.url.clone(),
            &["projections", "rebuild", "--all", "--progress-every", "0"],
        )
        .await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        let lines: Vec<&str> = stderr
            .lines()
            .filter(|line| line.starts_with("rebuilding "))
            .collect();
        assert!(!lines.is_empty(), "no progress line in:\n{stderr}");
        for line in &lines {
            assert!(line.contains(" events ("), "{line}");
            assert!(line.ends_with(" events/s"), "{line}");
        }
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(stdout.contains("rebuilt from"), "{stdout}");
    }
}
