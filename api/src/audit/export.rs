//! The NDJSON export: one event per line, every column, in log order, read page after page
//! inside one [`EventSnapshot`] so that memory stays flat and the file is one consistent cut of
//! the log.

use std::io::Write;

use dinghuo_store::Database;

use dinghuo_store::audit::{EventFilter, EventReadError, EventSnapshot};

/// How far an export has come, reported after each page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    pub written: u64,
    /// How many events the export will write, when it was asked to count them first.
    pub total: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Read(#[from] EventReadError),
    #[error("cannot write the export: {0}")]
    Write(#[from] std::io::Error),
}

/// Writes every event matching `filter` (its cursor is the starting point, its limit the page
/// size) to `out` as NDJSON, and answers how many it wrote. `count_first` costs one extra
/// query and fills [`Progress::total`], for a progress bar.
///
/// `out` is written synchronously: this runs in a CLI, where blocking on the terminal or the
/// disk for a moment is what we want.
pub async fn write_ndjson(
    db: &Database,
    filter: &EventFilter,
    count_first: bool,
    out: &mut impl Write,
    mut progress: impl FnMut(Progress),
) -> Result<u64, ExportError> {
    let mut snapshot = EventSnapshot::begin(db).await?;
    let total = if count_first {
        Some(snapshot.count(filter).await?)
    } else {
        None
    };
    let mut page_filter = filter.clone();
    // A page size of zero would never advance.
    page_filter.limit = page_filter.limit.max(1);
    let mut written = 0u64;
    progress(Progress { written, total });
    loop {
        let page = snapshot.read_page(&page_filter).await?;
        let Some(last) = page.last() else { break };
        page_filter.after_position = Some(last.position);
        for event in &page {
            serde_json::to_writer(&mut *out, event).map_err(std::io::Error::from)?;
            out.write_all(b"\n")?;
        }
        written += page.len() as u64;
        progress(Progress { written, total });
        if page.len() < page_filter.limit as usize {
            break;
        }
    }
    out.flush()?;
    snapshot.finish().await?;
    Ok(written)
}
