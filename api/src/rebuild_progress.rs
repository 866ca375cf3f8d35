//! How `dinghuo projections rebuild` shows its progress: a bar on a terminal, and a plain line
//! every `--progress-every` seconds otherwise (issue 16, item 7), so that a rebuild run by a
//! service manager, over SSH without a terminal or in CI says how far it is in its log.

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use dinghuo_projections::RebuildProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The progress of one rebuild, shown as it goes.
pub enum Report {
    /// On a terminal: a bar, redrawn in place.
    Bar(ProgressBar),
    /// Elsewhere: a line to stderr at most every `every`.
    Lines {
        names: String,
        total: u64,
        every: Duration,
        last: Instant,
    },
}

impl Report {
    /// A report of rebuilding `names` over a log of `total` events, as fits stderr.
    pub fn new(names: String, total: u64, every: Duration) -> Self {
        if !std::io::stderr().is_terminal() {
            return Self::Lines {
                names,
                total,
                every,
                last: Instant::now(),
            };
        }
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{msg:16} [{bar:40}] {pos}/{len} events  {per_sec}  ETA {eta}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(names);
        Self::Bar(bar)
    }

    /// Shows `progress`: the bar moves; a line is written if `every` has passed since the last.
    pub fn show(&mut self, progress: &RebuildProgress) {
        match self {
            Self::Bar(bar) => bar.set_position(progress.applied),
            Self::Lines {
                names,
                total,
                every,
                last,
            } => {
                if last.elapsed() < *every {
                    return;
                }
                *last = Instant::now();
                // A failed write to stderr is no reason to stop a rebuild.
                let _ = writeln!(std::io::stderr(), "{}", line(names, *total, progress));
            }
        }
    }

    /// Clears the bar once the rebuild is over.
    pub fn finish(self) {
        if let Self::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }
}

/// `rebuilding orders: 12000/30000 events (40 %), 2500 events/s`.
fn line(names: &str, total: u64, progress: &RebuildProgress) -> String {
    let percent = progress
        .applied
        .saturating_mul(100)
        .checked_div(total)
        .unwrap_or(100);
    format!(
        "rebuilding {names}: {}/{total} events ({percent} %), {:.0} events/s",
        progress.applied, progress.events_per_second
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_says_how_far_and_how_fast() {
        let progress = RebuildProgress {
            applied: 12_000,
            position: 12_000,
            events_per_second: 2_499.6,
        };
        assert_eq!(
            line("orders, catalog", 30_000, &progress),
            "rebuilding orders, catalog: 12000/30000 events (40 %), 2500 events/s"
        );
        assert!(line("orders", 0, &progress).contains("(100 %)"));
    }
}
