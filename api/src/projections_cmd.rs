//! `dinghuo projections status|rebuild|catch-up`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use dinghuo_projections::{models, Projection, RunnerSettings, State};
use dinghuo_store::Database;

use crate::auth::load_outbox_key;
use crate::rebuild_progress::Report;

#[derive(Debug, clap::Subcommand)]
pub enum ProjectionsCommand {
    /// Each projection's checkpoint, lag (events and seconds) and state.
    Status,
    /// Rebuild from position zero into fresh tables while the old ones keep serving, then swap.
    Rebuild {
        /// The projection to rebuild (see `status` for names).
        name: Option<String>,
        /// Rebuild every projection.
        #[arg(long, conflicts_with = "name")]
        all: bool,
        /// Without a terminal (a service, CI, a pipe), a progress line on stderr every this many
        /// seconds; on a terminal, a progress bar instead.
        #[arg(long, env = "DINGHUO_PROGRESS_EVERY_SECS", default_value = "5")]
        progress_every: u64,
    },
    /// Apply everything in the log that the projections have not seen yet, then exit.
    CatchUp,
}

type Error = Box<dyn std::error::Error>;

/// Runs `command`; `data_dir` holds the outbox key when `DINGHUO_OUTBOX_KEY` is not set (the
/// SMS reactor seals with it when catching up).
pub async fn run(
    db: &Database,
    data_dir: &Path,
    command: &ProjectionsCommand,
) -> Result<(), Error> {
    match command {
        ProjectionsCommand::Status => print_status(db).await,
        ProjectionsCommand::Rebuild {
            name,
            all,
            progress_every,
        } => {
            let chosen: Vec<Arc<dyn Projection>> = match (name, all) {
                (Some(name), false) => vec![models::by_name(name).ok_or_else(|| {
                    format!("no projection named {name:?}; `dinghuo projections status` lists them")
                })?],
                // Reactors act on the world once; they are never rebuilt.
                (None, true) => models::all()
                    .into_iter()
                    .filter(|projection| projection.replayable())
                    .collect(),
                _ => return Err("name a projection, or pass --all".into()),
            };
            let chosen: Vec<&dyn Projection> = chosen.iter().map(|p| p.as_ref()).collect();
            rebuild(db, &chosen, Duration::from_secs(*progress_every)).await
        }
        ProjectionsCommand::CatchUp => {
            for projection in models::all_with_key(load_outbox_key(data_dir)?) {
                dinghuo_projections::prepare(db, projection.as_ref()).await?;
                let applied = dinghuo_projections::catch_up(db, projection.as_ref(), 500).await?;
                println!("{:<20} {applied} events applied", projection.name());
            }
            Ok(())
        }
    }
}

async fn print_status(db: &Database) -> Result<(), Error> {
    println!(
        "{:<20} {:>22} {:>12} {:>10}  state",
        "projection", "checkpoint (tx, pos)", "lag events", "lag s"
    );
    for projection in models::all() {
        let status = dinghuo_projections::status(db, projection.as_ref()).await?;
        let state = match &status.state {
            State::New => "new (never run)".to_owned(),
            State::Running => "running".to_owned(),
            State::Idle => "idle (no process runs it)".to_owned(),
            State::Failed(error) => format!("FAILED: {error}"),
        };
        println!(
            "{:<20} {:>22} {:>12} {:>10.1}  {state}",
            status.name,
            format!(
                "({}, {})",
                status.checkpoint.tx_id, status.checkpoint.position
            ),
            status.lag_events,
            status.lag_seconds,
        );
    }
    Ok(())
}

/// Rebuilds `projections` in one pass over the log, showing its progress (a bar on a terminal,
/// a line every `progress_every` otherwise).
async fn rebuild(
    db: &Database,
    projections: &[&dyn Projection],
    progress_every: Duration,
) -> Result<(), Error> {
    let Some(first) = projections.first() else {
        return Ok(());
    };
    let total = dinghuo_projections::status(db, *first).await?;
    // The whole log is replayed: its size is the bar's length.
    let total_events = u64::try_from(total.lag_events.max(0)).unwrap_or(0)
        + u64::try_from(total.checkpoint.position.max(0)).unwrap_or(0);
    let names: Vec<&str> = projections.iter().map(|p| p.name()).collect();
    let mut report = Report::new(names.join(", "), total_events, progress_every);
    let applied = dinghuo_projections::rebuild(db, projections, RunnerSettings::default(), |p| {
        report.show(&p);
    })
    .await?;
    report.finish();
    for name in names {
        println!("{name:<20} rebuilt from {applied} events and swapped in");
    }
    Ok(())
}
