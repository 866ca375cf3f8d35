//! Running projections: follow the feed in batches, each batch applied to the read-model
//! tables and the checkpoints in one transaction, so a crash never loses or doubles an event.
//!
//! A runner runs a group of projections together (the server runs all of them in one): one
//! read of the feed and one transaction per page for the whole group, instead of one of each
//! per projection. Under a steady stream of commits that is what keeps the read side's cost per
//! event low. Each member keeps its own checkpoint (one may be behind: just added, or just
//! rebuilt); a page starts after the earliest, and each member applies only the events after
//! its own. A member that fails is recorded as failed and taken out, and the page is applied
//! again without it: one broken projection never stops the others.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use dinghuo_store::feed::{read_feed, read_feed_in, Checkpoint, FeedEvent};
use dinghuo_store::lock;
use dinghuo_store::sql::{self, Arg, Dialect, Tx};
use dinghuo_store::Database;
use tokio::sync::watch;

use crate::checkpoint;
use crate::error::{guard_panics, RunnerError};
use crate::prepare::prepare;
use crate::projection::{Projection, TableNames};
use crate::settings::RunnerSettings;
use crate::supervise::Transient;
use crate::wait::Progress;
use crate::wake::Wakeup;

pub use crate::checkpoint::stored_checkpoint;

/// Why a page was not applied. Nothing of it was kept, for any member.
pub(crate) enum PageError {
    /// Member `index` could not apply its events.
    Member(usize, RunnerError),
    /// Reading the feed or the checkpoints, or committing, failed: no member is to blame.
    Group(RunnerError),
}

impl<E: Into<RunnerError>> From<E> for PageError {
    fn from(error: E) -> Self {
        Self::Group(error.into())
    }
}

/// A page applied by [`apply_page`].
pub(crate) struct Applied {
    /// The events read (each applied by the members that had not seen it).
    pub events: Vec<FeedEvent>,
    /// Every member has now processed the feed up to here.
    pub through: Checkpoint,
}

/// Applies the next page of the feed to every member, with their checkpoints, in one
/// transaction. `None`: every member is caught up.
///
/// `known` holds the members' checkpoints as the last page left them, so that a runner need
/// not read them before every page (`None`: read them). The transaction checks them under
/// lock either way: a stale guess costs one more read, never a skipped event.
///
/// The members' writes go to the database together where they can (`Tx::combine_writes`):
/// a page then costs a few round trips instead of one per table, and every mutation waiting
/// for the page waits that much less. Writes sent together cannot say whose write failed:
/// when they fail, the page is applied again one write at a time, which names the member to
/// blame (or succeeds, and says so in the log). Any other failure is blamed at once, as it
/// would be without combining.
pub(crate) async fn apply_page(
    db: &Database,
    members: &[&dyn Projection],
    batch_size: u32,
    known: &mut Option<Vec<Checkpoint>>,
) -> Result<Option<Applied>, PageError> {
    let combined_error = match apply_page_with(db, members, batch_size, known, true).await {
        Ok(applied) => return Ok(applied),
        Err(Attempt::Failed(error)) => return Err(error),
        Err(Attempt::CombinedWrites(error)) => error,
    };
    let again = apply_page_with(db, members, batch_size, known, false).await;
    if again.is_ok() {
        tracing::warn!(
            error = %combined_error,
            "a page failed with its writes sent together and was applied one write at a time"
        );
    }
    again.map_err(|attempt| match attempt {
        Attempt::Failed(error) => error,
        // Nothing is sent together in this attempt; kept whole in case that changes.
        Attempt::CombinedWrites(error) => PageError::Group(error),
    })
}

/// How one attempt at applying a page failed.
enum Attempt {
    Failed(PageError),
    /// Writes sent together failed: whose write it was is not known.
    CombinedWrites(RunnerError),
}

impl<E: Into<RunnerError>> From<E> for Attempt {
    fn from(error: E) -> Self {
        Self::Failed(PageError::Group(error.into()))
    }
}

async fn apply_page_with(
    db: &Database,
    members: &[&dyn Projection],
    batch_size: u32,
    known: &mut Option<Vec<Checkpoint>>,
    combine_writes: bool,
) -> Result<Option<Applied>, Attempt> {
    let keys: Vec<&str> = members.iter().map(|member| member.name()).collect();
    let names = TableNames::live("");
    loop {
        let after = match known.take() {
            Some(after) if after.len() == keys.len() => after,
            _ => {
                let stored = checkpoint::stored_all(db, &keys).await?;
                keys.iter()
                    .map(|key| stored.get(*key).copied().ok_or(sqlx::Error::RowNotFound))
                    .collect::<Result<Vec<Checkpoint>, _>>()?
            }
        };
        let Some(&earliest) = after.iter().min() else {
            return Ok(None);
        };
        let Some(OpenPage {
            mut tx,
            events,
            through,
            through_at,
        }) = open_page(db, earliest, batch_size)
            .await
            .map_err(Attempt::Failed)?
        else {
            *known = Some(after);
            return Ok(None);
        };
        if combine_writes {
            tx.combine_writes();
        }
        let locked = checkpoint::lock_all(&mut tx, &keys).await?;
        if keys
            .iter()
            .zip(&after)
            .any(|(key, at)| locked.get(*key) != Some(at))
        {
            // Moved meanwhile (a rebuild swapped in, or another runner took over): read again.
            continue;
        }
        let mut advanced = Vec::with_capacity(members.len());
        for (index, (member, at)) in members.iter().zip(&after).enumerate() {
            let unseen = &events[events.partition_point(|event| event.checkpoint <= *at)..];
            if unseen.is_empty() {
                continue;
            }
            guard_panics(member.apply_batch(&mut tx, &names, unseen))
                .await
                .map_err(|error| match tx.flush_failed() {
                    // The member's statement first sent earlier writes, which failed.
                    true => Attempt::CombinedWrites(error),
                    false => Attempt::Failed(PageError::Member(index, error)),
                })?;
            advanced.push(member.name());
        }
        checkpoint::advance_all(&mut tx, &advanced, through, through_at).await?;
        tx.flush()
            .await
            .map_err(|error| Attempt::CombinedWrites(error.into()))?;
        tx.commit().await?;
        *known = Some(after.iter().map(|at| (*at).max(through)).collect());
        return Ok(Some(Applied { events, through }));
    }
}

/// A page of the feed, not empty, with the transaction to apply it in.
struct OpenPage {
    tx: Tx,
    events: Vec<FeedEvent>,
    /// The last event's checkpoint and time.
    through: Checkpoint,
    through_at: DateTime<Utc>,
}

impl OpenPage {
    /// `None` for no events (the transaction rolls back as it drops).
    fn of(tx: Tx, events: Vec<FeedEvent>) -> Option<Self> {
        let (through, through_at) = events
            .last()
            .map(|last| (last.checkpoint, last.recorded_at))?;
        Some(Self {
            tx,
            events,
            through,
            through_at,
        })
    }
}

/// The next page of the feed after `after`; `None` when nothing is safe to read yet.
///
/// Derived rows only: a crash that loses this transaction's commit loses its checkpoints with
/// it, and the events are applied again. That holds for the SMS reactor's outbox rows too: the
/// dispatcher claims a message with a durable commit before sending it, which makes the page
/// that wrote it durable first. Not waiting for the disk shortens every page, and so every
/// read-your-writes wait behind it.
async fn open_page(
    db: &Database,
    after: Checkpoint,
    limit: u32,
) -> Result<Option<OpenPage>, PageError> {
    if Dialect::of(db).single_writer() {
        // Read before taking the write lock: the transaction holds the database's only write
        // lock, and it must never wait for a pooled connection while the commands that hold
        // the other connections wait for that lock.
        let events = read_feed(db, after, limit).await?;
        if events.is_empty() {
            return Ok(None);
        }
        Ok(OpenPage::of(Tx::begin_lazy(db).await?, events))
    } else {
        // Read inside the transaction: one pooled connection per page instead of two (and one
        // round trip less, for sqlx's check of a connection returned to the pool).
        let mut tx = Tx::begin_lazy(db).await?;
        let events = read_feed_in(&mut tx, after, limit).await?;
        Ok(OpenPage::of(tx, events))
    }
}

/// Applies batches until the feed has nothing more that is safe to read. Answers the number of
/// events applied. Used by the CLI and tests; a running service uses [`Runner::run`].
pub async fn catch_up(
    db: &Database,
    projection: &dyn Projection,
    batch_size: u32,
) -> Result<u64, RunnerError> {
    let mut applied = 0u64;
    loop {
        match apply_page(db, &[projection], batch_size, &mut None).await {
            Ok(None) => return Ok(applied),
            Ok(Some(page)) => applied += page.events.len() as u64,
            Err(PageError::Member(_, error) | PageError::Group(error)) => {
                record_failure(db, projection.name(), &error).await;
                return Err(error);
            }
        }
    }
}

/// Marks a projection failed with the error, for `dinghuo projections status`.
async fn record_failure(db: &Database, name: &str, error: &RunnerError) {
    tracing::error!(projection = name, %error, "projection stopped");
    let marked = sql::execute(
        db,
        "UPDATE projection_checkpoints SET state = 'failed', error = $2 WHERE name = $1",
        &[name.into(), Arg::from(error.to_string())],
    )
    .await;
    if let Err(db_error) = marked {
        tracing::error!(projection = name, %db_error, "cannot record the failure");
    }
}

/// Runs a group of projections until `stop` turns true: waits for their locks (standby),
/// prepares their tables, then follows the feed, waking on commits and polling as a fallback.
pub struct Runner {
    db: Database,
    members: Vec<Arc<dyn Projection>>,
    settings: RunnerSettings,
    wakeup: Wakeup,
    /// Told of each committed batch, for readers waiting for their writes.
    progress: Option<Progress>,
}

impl Runner {
    /// A runner of one projection.
    pub fn new(db: Database, projection: Arc<dyn Projection>, wakeup: Wakeup) -> Self {
        Self::group(db, vec![projection], wakeup)
    }

    /// A runner of several projections together: one feed read and one transaction per page.
    pub fn group(db: Database, members: Vec<Arc<dyn Projection>>, wakeup: Wakeup) -> Self {
        Self {
            settings: RunnerSettings::for_database(&db),
            db,
            members,
            wakeup,
            progress: None,
        }
    }

    /// Tells `progress` of each batch this runner commits (see `wait::wait_for_progress`).
    pub fn with_progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    pub fn with_settings(mut self, settings: RunnerSettings) -> Self {
        self.settings = settings;
        self
    }

    /// Returns when `stop` becomes true (after committing the batch in progress), with the
    /// error that stopped the last of its projections, or at once with a transient database
    /// error (see [`crate::supervise`]), recording no projection as failed for it.
    pub async fn run(mut self, mut stop: watch::Receiver<bool>) -> Result<(), RunnerError> {
        let names: Vec<&'static str> = self.members.iter().map(|m| m.name()).collect();
        let _lock = loop {
            if let Some(lock) = lock::try_lock_all(&self.db, &names).await? {
                break lock;
            }
            tracing::debug!(projections = ?names, "standby: another process runs them");
            tokio::select! {
                _ = tokio::time::sleep(self.settings.standby_interval) => {}
                // A dropped stop sender means nobody can stop us any more: stop now.
                changed = stop.changed() => if changed.is_err() { return Ok(()) },
            }
            if *stop.borrow() {
                return Ok(());
            }
        };
        tracing::info!(projections = ?names, "running");
        // Readers of this process may rely on our reports while we run, and only then.
        let _reporting = self.progress.as_ref().map(Progress::attach_runner);
        // A member that cannot be prepared (its schema's rebuild failed, say) stops alone.
        let mut unprepared = None;
        for member in std::mem::take(&mut self.members) {
            match prepare(&self.db, member.as_ref()).await {
                Ok(()) => self.members.push(member),
                // The database, not the member: the whole run stops, to be started again.
                Err(error) if error.is_transient() => return Err(error),
                Err(error) => {
                    record_failure(&self.db, member.name(), &error).await;
                    unprepared = Some(error);
                }
            }
        }
        if let (true, Some(error)) = (self.members.is_empty(), unprepared) {
            return Err(error);
        }
        let mut wake = self.wakeup.subscribe();
        let mut known = None;
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            // Commits announced from here on may not be in the page about to be read.
            wake.borrow_and_update();
            let members: Vec<&dyn Projection> = self.members.iter().map(AsRef::as_ref).collect();
            let page = apply_page(&self.db, &members, self.settings.batch_size, &mut known).await;
            if let (Ok(Some(applied)), Some(progress)) = (&page, &self.progress) {
                let running: Vec<&'static str> = members.iter().map(|m| m.name()).collect();
                progress.advanced(&running, applied.through, &applied.events);
            }
            drop(members);
            match page {
                Ok(Some(applied)) if applied.events.len() >= self.settings.batch_size as usize => {
                    // A full page: more is waiting.
                }
                // A shorter page read everything committed before it was read: wait for the
                // next commit instead of reading an empty page first.
                Ok(_) => {
                    tokio::select! {
                        _ = wake.changed() => {
                            // Let the commits of a burst gather into one batch: one
                            // transaction for many events instead of one each.
                            tokio::time::sleep(self.settings.gather).await;
                        }
                        _ = tokio::time::sleep(self.settings.poll_interval) => {
                            // Quiet for a while: check the stored checkpoints again, in case a
                            // rebuild moved them.
                            known = None;
                        }
                        changed = stop.changed() => if changed.is_err() { return Ok(()) },
                    }
                }
                // A lost connection or a restarted database is nobody's fault, whichever
                // statement met it: nothing is recorded as failed, and the run stops with the
                // error for its supervisor to start it again (`crate::supervise`).
                Err(PageError::Member(_, error) | PageError::Group(error))
                    if error.is_transient() =>
                {
                    return Err(error);
                }
                Err(PageError::Member(index, error)) => {
                    let failed = self.members.remove(index);
                    record_failure(&self.db, failed.name(), &error).await;
                    if self.members.is_empty() {
                        return Err(error);
                    }
                }
                Err(PageError::Group(error)) => {
                    for member in &self.members {
                        record_failure(&self.db, member.name(), &error).await;
                    }
                    return Err(error);
                }
            }
        }
    }
}
