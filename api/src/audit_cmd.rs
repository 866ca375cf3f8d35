//! `dinghuo audit export`: one tenant's events as NDJSON, to stdout or a file, with progress on
//! stderr (a bar on a terminal; always a final count).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use dinghuo_domain::TenantId;
use dinghuo_store::audit::EventFilter;
use dinghuo_store::Database;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use uuid::Uuid;

use crate::audit::export::{write_ndjson, Progress};
use crate::audit::output::Output;

#[derive(Debug, clap::Subcommand)]
pub enum AuditCommand {
    /// Write one tenant's events as NDJSON: one JSON object per line, in log order (position
    /// ascending), with every column of the event log (position, aggregate, sequence, type,
    /// version, payload, metadata, recorded_at, tenant_id; tx_id on Postgres).
    Export(ExportArgs),
}

#[derive(Debug, clap::Args)]
pub struct ExportArgs {
    /// The tenant whose events are exported.
    #[arg(long)]
    pub tenant: Uuid,

    /// Only events recorded at or after this time (RFC 3339, e.g. 2026-01-31T00:00:00+08:00).
    #[arg(long, value_parser = parse_time)]
    pub from: Option<DateTime<Utc>>,

    /// Only events recorded before this time (RFC 3339; exclusive).
    #[arg(long, value_parser = parse_time)]
    pub to: Option<DateTime<Utc>>,

    /// Write to this file instead of stdout. It appears only when the export is complete
    /// (replacing an earlier file of that name) and is readable by its owner only.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
}

type Error = Box<dyn std::error::Error>;

pub async fn run(db: &Database, command: &AuditCommand) -> Result<(), Error> {
    match command {
        AuditCommand::Export(args) => export(db, args).await,
    }
}

async fn export(db: &Database, args: &ExportArgs) -> Result<(), Error> {
    if let (Some(from), Some(to)) = (args.from, args.to) {
        if from >= to {
            return Err(format!("--from ({from}) must be before --to ({to})").into());
        }
    }
    let filter = EventFilter {
        from: args.from,
        to: args.to,
        ..EventFilter::tenant(TenantId::from_uuid(args.tenant))
    };
    let mut output = match &args.output {
        Some(path) => Output::file(path)?,
        None => Output::stdout(),
    };
    let terminal = std::io::stderr().is_terminal();
    let bar = terminal.then(progress_bar);
    let on_page = |progress: Progress| {
        if let Some(bar) = &bar {
            if let Some(total) = progress.total {
                bar.set_length(total);
            }
            bar.set_position(progress.written);
        }
    };
    let written = tokio::select! {
        written = write_ndjson(db, &filter, terminal, &mut output, on_page) => written?,
        // Returning drops the output: a file export leaves no half-written file behind.
        signal = stop_signal() => {
            let left = match &args.output {
                Some(path) => format!("{} was not written", path.display()),
                None => "what reached stdout is incomplete".to_owned(),
            };
            return Err(format!("export {signal}: {left}").into());
        }
    };
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }
    let target = output.describe();
    output.finish()?;
    let _ = writeln!(std::io::stderr(), "exported {written} events to {target}");
    Ok(())
}

fn progress_bar() -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if let Ok(style) =
        ProgressStyle::with_template("exporting [{bar:40}] {pos}/{len} events {per_sec} ETA {eta}")
    {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// Resolves on Ctrl-C or SIGTERM; never, when signals cannot be watched.
async fn stop_signal() -> &'static str {
    use tokio::signal::unix::{signal, SignalKind};
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    let terminate = async {
        match signal(SignalKind::terminate()) {
            Ok(mut stream) => {
                stream.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = interrupt => "interrupted",
        () = terminate => "terminated",
    }
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| at.with_timezone(&Utc))
        .map_err(|error| {
            format!("{error}: expected an RFC 3339 time such as 2026-01-31T00:00:00+08:00")
        })
}
