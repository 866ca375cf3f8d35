//! Read-your-writes: wait until projections have passed the events a command appended, bounded
//! by a timeout, and say so when the bound is hit instead of hanging.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dinghuo_store::feed::{head_of_stream, Checkpoint, FeedEvent};
use dinghuo_store::{Database, StreamHead};
use tokio::sync::watch;

use crate::checkpoint::stored_checkpoint;

/// What the runners of this process have committed: each projection's checkpoint after its last
/// committed batch, and where the events of recently processed streams stand in the feed. A
/// reader waiting for its write compares against this without asking the database, and wakes
/// as soon as a batch is committed. Cheap to clone.
#[derive(Clone, Default)]
pub struct Progress {
    sender: Arc<watch::Sender<Reached>>,
    /// Whether a runner of this process reports here: then the database is only a fallback.
    has_runner: Arc<AtomicBool>,
    /// Whether this process supervises runners that report here, running or waiting out a
    /// restart's backoff: then a projection nobody runs this moment will be run again soon.
    supervised: Arc<AtomicBool>,
}

#[derive(Default)]
struct Reached {
    projections: HashMap<&'static str, Checkpoint>,
    streams: RecentStreams,
}

/// For the streams of the latest events processed (at least [`RecentStreams::KEPT`] of them),
/// the sequence number and feed checkpoint of the stream's last event processed: what turns a
/// command's receipt (a stream and a sequence) into a checkpoint to wait for without a query.
/// Two generations, so that forgetting is cheap and never forgets the newest.
#[derive(Default)]
struct RecentStreams {
    current: Generation,
    previous: Generation,
}

/// Streams by aggregate type, then by id: a waiter looks its stream up with borrowed strings,
/// where a pair as the key would need an owned copy of both for every lookup.
type Generation = HashMap<String, HashMap<String, (i64, Checkpoint)>>;

impl RecentStreams {
    const KEPT: usize = 8_192;

    fn record(&mut self, events: &[FeedEvent]) {
        for event in events {
            if self.current_streams() >= Self::KEPT {
                self.previous = std::mem::take(&mut self.current);
            }
            self.current
                .entry(event.aggregate_type.clone())
                .or_default()
                .insert(
                    event.aggregate_id.clone(),
                    (event.sequence, event.checkpoint),
                );
        }
    }

    /// The streams in the current generation (summed over the few aggregate types).
    fn current_streams(&self) -> usize {
        self.current.values().map(HashMap::len).sum()
    }

    /// The checkpoint of the stream's event at `head.sequence`, or of a later one.
    fn checkpoint_of(&self, head: &StreamHead) -> Option<Checkpoint> {
        [&self.current, &self.previous]
            .into_iter()
            .filter_map(|generation| {
                generation
                    .get(head.aggregate_type.as_str())?
                    .get(head.aggregate_id.as_str())
            })
            .find(|(sequence, _)| *sequence >= head.sequence)
            .map(|(_, checkpoint)| *checkpoint)
    }
}

/// A runner reporting to a [`Progress`]; when it stops, readers go back to asking the database.
pub(crate) struct Reporting(Arc<AtomicBool>);

impl Drop for Reporting {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

/// Held by whoever supervises this process's runners (see [`Progress::supervised_here`]).
pub struct Supervising(Arc<AtomicBool>);

impl Drop for Supervising {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Relaxed);
    }
}

impl Progress {
    pub fn new() -> Self {
        Self::default()
    }

    /// Called by a runner that reports its batches here from now on, until the answer drops.
    pub(crate) fn attach_runner(&self) -> Reporting {
        self.has_runner.store(true, Ordering::Relaxed);
        Reporting(Arc::clone(&self.has_runner))
    }

    /// Called by the supervisor of runners reporting here, for as long as it restarts them:
    /// while the answer lives, a wait never concludes that nobody runs a projection (its
    /// runner may be waiting out a backoff), and runs to its bound instead.
    pub fn supervised_here(&self) -> Supervising {
        self.supervised.store(true, Ordering::Relaxed);
        Supervising(Arc::clone(&self.supervised))
    }

    /// Records that `projections` have committed everything up to `to`, the last page being
    /// `events`. A checkpoint here only moves forward.
    pub(crate) fn advanced(
        &self,
        projections: &[&'static str],
        to: Checkpoint,
        events: &[FeedEvent],
    ) {
        self.sender.send_modify(|reached| {
            for name in projections {
                let at = reached.projections.entry(*name).or_insert(to);
                *at = (*at).max(to);
            }
            reached.streams.record(events);
        });
    }

    fn has_reached(&self, projection: &str, target: Checkpoint) -> bool {
        self.sender
            .borrow()
            .projections
            .get(projection)
            .is_some_and(|at| *at >= target)
    }

    fn has_runner(&self) -> bool {
        self.has_runner.load(Ordering::Relaxed)
    }

    fn is_supervised_here(&self) -> bool {
        self.supervised.load(Ordering::Relaxed)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    #[error("projection {projection} had not reached the write after {waited:?}")]
    TimedOut {
        projection: String,
        waited: Duration,
    },
    /// No process runs the projection (on Postgres, nobody holds its lock): waiting would
    /// only run out the bound.
    #[error("no process runs projection {projection}")]
    NotRunning { projection: String },
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
}

impl WaitError {
    /// The projection that had not reached the write, if the wait ended for that reason.
    pub fn projection(&self) -> Option<&str> {
        match self {
            Self::TimedOut { projection, .. } | Self::NotRunning { projection } => Some(projection),
            Self::Database(_) => None,
        }
    }
}

/// Waits until every projection in `names` has a checkpoint at or past `target`, polling.
pub async fn wait_for(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
) -> Result<(), WaitError> {
    wait(db, names, target, timeout, None).await
}

/// Like [`wait_for`], answered from `progress` (given to this process's runners with
/// `Runner::with_progress`) as soon as a runner commits the write, without a query per wake-up.
/// The database is still asked at start and on a backoff, for projections run by another
/// process.
pub async fn wait_for_progress(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), WaitError> {
    wait(db, names, target, timeout, Some(progress)).await
}

/// Like [`wait_for_progress`], for the write a command reported in its receipt (its stream and
/// the sequence it left it at). A runner of this process reports the write's checkpoint when it
/// commits it, so the wait needs no query. Without a local runner, or if no report names the
/// write within [`LOCAL_RECHECK`] (the runner is slow, stopped, or processed the write so long
/// ago that it was forgotten), the stream's head is read from the database instead.
pub async fn wait_for_write(
    db: &Database,
    names: &[&str],
    write: &StreamHead,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), WaitError> {
    let started = Instant::now();
    if write.sequence <= 0 {
        return Ok(()); // Nothing was appended.
    }
    if progress.has_runner() {
        let mut committed = progress.sender.subscribe();
        // However often reports arrive meanwhile: one that names the write may never come.
        let ask_database = tokio::time::sleep(LOCAL_RECHECK.min(timeout));
        tokio::pin!(ask_database);
        loop {
            let reported = progress.sender.borrow().streams.checkpoint_of(write);
            if let Some(target) = reported {
                let left = timeout.saturating_sub(started.elapsed());
                return wait(db, names, target, left, Some(progress)).await;
            }
            tokio::select! {
                changed = committed.changed() => if changed.is_ok() { continue },
                () = &mut ask_database => break,
            }
        }
    }
    let left = timeout.saturating_sub(started.elapsed());
    wait_for_stream_head(
        db,
        names,
        &write.aggregate_type,
        &write.aggregate_id,
        left,
        progress,
    )
    .await
}

/// Like [`wait_for_progress`], for the latest event of one stream, its head read from the log
/// (nothing to wait for when the stream has no events).
pub async fn wait_for_stream_head(
    db: &Database,
    names: &[&str],
    aggregate_type: &str,
    aggregate_id: &str,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), WaitError> {
    match head_of_stream(db, aggregate_type, aggregate_id).await? {
        Some(head) => wait_for_progress(db, names, head, timeout, progress).await,
        None => Ok(()),
    }
}

/// How long a projection may be run by no process before a wait for it gives up: enough for a
/// runner that is starting (or restarting after a lost connection) to take its lock, far less
/// than a read-your-writes bound.
const NOT_RUNNING_GRACE: Duration = Duration::from_millis(250);

/// How long a reader relies on a local runner's reports before asking the database.
const LOCAL_RECHECK: Duration = Duration::from_millis(100);

async fn wait(
    db: &Database,
    names: &[&str],
    target: Checkpoint,
    timeout: Duration,
    progress: Option<&Progress>,
) -> Result<(), WaitError> {
    let started = Instant::now();
    // With a runner in this process, its reports answer the wait; the database is asked at
    // start and then rarely, in case another process runs some of the projections. Without
    // one, the database is all there is: ask it soon, then back off.
    let local = progress.is_some_and(Progress::has_runner);
    let mut pause = if local {
        LOCAL_RECHECK
    } else {
        Duration::from_millis(2)
    };
    let mut committed = progress.map(|progress| progress.sender.subscribe());
    for name in names {
        // A local runner reports every batch it commits, those before this wait included.
        let mut ask_database = !local;
        // Without a local runner (nor one restarting under this process's supervision), whether
        // any process runs the projection is asked when it is found behind, until some process
        // is seen running it.
        let mut ask_lock = !local && !progress.is_some_and(Progress::is_supervised_here);
        let mut unrun_since: Option<Instant> = None;
        loop {
            if progress.is_some_and(|progress| progress.has_reached(name, target)) {
                break;
            }
            if ask_database {
                let reached = stored_checkpoint(db, name)
                    .await?
                    .is_some_and(|checkpoint| checkpoint >= target);
                if reached {
                    break;
                }
                if ask_lock {
                    if is_run_anywhere(db, name).await? {
                        ask_lock = false;
                    } else if unrun_since.get_or_insert_with(Instant::now).elapsed()
                        >= NOT_RUNNING_GRACE
                    {
                        return Err(WaitError::NotRunning {
                            projection: (*name).to_owned(),
                        });
                    }
                }
            }
            let waited = started.elapsed();
            if waited >= timeout {
                return Err(WaitError::TimedOut {
                    projection: (*name).to_owned(),
                    waited,
                });
            }
            let nap = pause.min(timeout - waited);
            match committed.as_mut() {
                Some(committed) => {
                    tokio::select! {
                        _ = committed.changed() => ask_database = false,
                        _ = tokio::time::sleep(nap) => ask_database = true,
                    }
                }
                None => tokio::time::sleep(nap).await,
            }
            pause = (pause * 2).min(if local {
                LOCAL_RECHECK
            } else {
                Duration::from_millis(50)
            });
        }
    }
    Ok(())
}

/// Whether some process runs projection `name`. On Postgres the runner holds the projection's
/// lock; SQLite has no lock to ask (another process on the machine may run it), so it counts
/// as run.
async fn is_run_anywhere(db: &Database, name: &str) -> Result<bool, sqlx::Error> {
    Ok(dinghuo_store::lock::is_held(db, name)
        .await?
        .unwrap_or(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(aggregate_type: &str, id: usize, sequence: i64, position: i64) -> FeedEvent {
        FeedEvent {
            checkpoint: Checkpoint { tx_id: 1, position },
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: format!("stream-{id}"),
            sequence,
            event_type: "Happened".to_owned(),
            event_version: "1".to_owned(),
            payload: serde_json::Value::Null,
            metadata: serde_json::Value::Null,
            recorded_at: chrono::Utc::now(),
            tenant_id: None,
        }
    }

    fn head(aggregate_type: &str, id: usize, sequence: i64) -> StreamHead {
        StreamHead {
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: format!("stream-{id}"),
            sequence,
        }
    }

    fn position_of(streams: &RecentStreams, head: &StreamHead) -> Option<i64> {
        streams.checkpoint_of(head).map(|at| at.position)
    }

    #[test]
    fn a_stream_is_found_by_type_and_id_at_its_sequence_or_a_later_one() {
        let mut streams = RecentStreams::default();
        streams.record(&[event("order", 1, 1, 10), event("partner", 1, 4, 11)]);
        streams.record(&[event("order", 1, 2, 12)]);

        assert_eq!(position_of(&streams, &head("order", 1, 1)), Some(12));
        assert_eq!(position_of(&streams, &head("order", 1, 2)), Some(12));
        assert_eq!(position_of(&streams, &head("partner", 1, 4)), Some(11));
        // Not processed yet: a later sequence, another type, another id.
        assert_eq!(position_of(&streams, &head("order", 1, 3)), None);
        assert_eq!(position_of(&streams, &head("contact", 1, 1)), None);
        assert_eq!(position_of(&streams, &head("order", 2, 1)), None);
    }

    #[test]
    fn the_previous_generation_is_kept_and_the_one_before_it_forgotten() {
        let mut streams = RecentStreams::default();
        let kept = RecentStreams::KEPT;
        let first: Vec<FeedEvent> = (0..kept).map(|i| event("order", i, 1, 1)).collect();
        streams.record(&first);
        assert_eq!(streams.current_streams(), kept);

        // Full: the next stream starts a new generation, and is counted once when seen again.
        streams.record(&[event("order", kept, 1, 3), event("order", kept, 2, 4)]);
        assert_eq!(streams.current_streams(), 1);
        assert_eq!(position_of(&streams, &head("order", 0, 1)), Some(1));
        assert_eq!(position_of(&streams, &head("order", kept, 2)), Some(4));

        let second: Vec<FeedEvent> = (kept + 1..2 * kept + 1)
            .map(|i| event("order", i, 1, 4))
            .collect();
        streams.record(&second);
        assert_eq!(position_of(&streams, &head("order", kept, 2)), Some(4));
        assert_eq!(position_of(&streams, &head("order", 0, 1)), None);
    }
}
