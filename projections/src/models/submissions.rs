//! Order submissions counted per partner over a run of a batch, for the projections that keep
//! per-partner order facts (`partners`, `onboarding`): orders are most of the log, and one bulk
//! statement per run replaces one update per order.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dinghuo_domain::PartnerId;
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::{Rows, Tx};
use serde::Deserialize;

use crate::projection::{ProjectionError, RebuildFold, TableNames, Writes};

/// The part of an `OrderSubmitted` payload these projections read. Decoding only it skips the
/// lines, which are most of the payload.
#[derive(Deserialize)]
enum Submission {
    OrderSubmitted { partner_id: PartnerId },
}

/// One partner's submissions within the run.
#[derive(Debug)]
struct Submissions {
    count: i64,
    first_at: DateTime<Utc>,
    last_at: DateTime<Utc>,
}

/// Submissions per partner, in the order partners were first seen.
#[derive(Debug, Default)]
pub(crate) struct SubmissionsByPartner {
    partners: Vec<(String, Submissions)>,
    index: HashMap<String, usize>,
}

impl SubmissionsByPartner {
    /// The columns of [`Self::take`]: the partner, how many orders it submitted in the run, when
    /// the first and the last were recorded, and the first as epoch milliseconds.
    pub const COLUMNS: &'static [&'static str] =
        &["partner_id", "orders", "first_at", "last_at", "first_ms"];

    /// Counts `event` if it is an order submission, answering whether it was.
    pub fn add(&mut self, event: &FeedEvent) -> Result<bool, ProjectionError> {
        if event.aggregate_type != "Order" || event.event_type != "OrderSubmitted" {
            return Ok(false);
        }
        let Submission::OrderSubmitted { partner_id } = Submission::deserialize(&event.payload)
            .map_err(|error| ProjectionError::unappliable(event, error.to_string()))?;
        let partner = partner_id.to_string();
        let at = event.recorded_at;
        match self.index.get(&partner) {
            Some(&i) => {
                let submissions = &mut self.partners[i].1;
                submissions.count += 1;
                submissions.last_at = at;
            }
            None => {
                self.index.insert(partner.clone(), self.partners.len());
                self.partners.push((
                    partner,
                    Submissions {
                        count: 1,
                        first_at: at,
                        last_at: at,
                    },
                ));
            }
        }
        Ok(true)
    }

    /// The run so far as rows of [`Self::COLUMNS`]; starts a new run.
    pub fn take(&mut self) -> Rows {
        self.index.clear();
        let mut rows = Rows::new(Self::COLUMNS);
        for (partner, submissions) in self.partners.drain(..) {
            rows.push(vec![
                partner.into(),
                submissions.count.into(),
                submissions.first_at.into(),
                submissions.last_at.into(),
                submissions.first_at.timestamp_millis().into(),
            ]);
        }
        rows
    }
}

/// A projection that counts order submissions per partner ([`SubmissionsByPartner`]) and applies
/// its other events one by one.
#[async_trait]
pub(crate) trait CountsSubmissions: Copy + Send + Sync + 'static {
    /// The aggregates whose events [`Self::apply_other`] applies; events of any other
    /// aggregate change nothing here, so they need not write the run first.
    const OTHER_AGGREGATES: &'static [&'static str];

    /// Writes a run of submissions (rows of [`SubmissionsByPartner::COLUMNS`]). A run may be
    /// empty; `Tx::execute_rows` then runs nothing.
    async fn write_submissions(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        submissions: Rows,
    ) -> Result<(), ProjectionError>;

    /// Applies an event other than an order submission.
    async fn apply_other(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError>;
}

/// The `apply_batch` of a [`CountsSubmissions`] projection: the batch folded as a rebuild folds
/// a page, then the run it ends with.
pub(crate) async fn apply_batch<P: CountsSubmissions>(
    projection: P,
    tx: &mut Tx,
    names: &TableNames,
    events: &[FeedEvent],
) -> Result<(), ProjectionError> {
    let mut fold = SubmissionsFold::new(projection);
    fold.fold(events)?.write_all(tx, names).await?;
    fold.take_run().write_all(tx, names).await
}

/// The fold of a [`CountsSubmissions`] projection: runs of submissions are counted in memory; an
/// event of one of its other aggregates writes the run so far first, so that everything lands
/// in feed order. Events of other aggregates (products repriced, say) are skipped without
/// breaking the run.
///
/// A rebuild keeps one fold for all its pages, so that a run spans pages: in a log of mostly
/// orders, each partner's row is written once per run instead of once per page. What it keeps
/// is one entry per partner that submitted since the run began.
pub(crate) struct SubmissionsFold<P> {
    projection: P,
    run: SubmissionsByPartner,
}

impl<P: CountsSubmissions> SubmissionsFold<P> {
    pub fn new(projection: P) -> Self {
        Self {
            projection,
            run: SubmissionsByPartner::default(),
        }
    }

    /// Folds `events`; answers the writes they call for, leaving the run they end with open.
    fn fold(&mut self, events: &[FeedEvent]) -> Result<SubmissionWrites<P>, ProjectionError> {
        let mut writes = self.writes(Vec::new());
        for event in events {
            if self.run.add(event)? || !P::OTHER_AGGREGATES.contains(&event.aggregate_type.as_str())
            {
                continue;
            }
            writes.steps.push(Step::Run(self.run.take()));
            writes.steps.push(Step::Other(event.clone()));
        }
        Ok(writes)
    }

    /// The open run, to write; starts a new one.
    fn take_run(&mut self) -> SubmissionWrites<P> {
        let run = self.run.take();
        self.writes(vec![Step::Run(run)])
    }

    fn writes(&self, steps: Vec<Step>) -> SubmissionWrites<P> {
        SubmissionWrites {
            projection: self.projection,
            steps,
        }
    }
}

impl<P: CountsSubmissions> RebuildFold for SubmissionsFold<P> {
    fn fold_page(&mut self, events: &[FeedEvent]) -> Result<Box<dyn Writes>, ProjectionError> {
        Ok(Box::new(self.fold(events)?))
    }

    fn flush(&mut self) -> Box<dyn Writes> {
        Box::new(self.take_run())
    }
}

/// One write of a [`SubmissionsFold`], in feed order.
enum Step {
    /// A run of submissions (rows of [`SubmissionsByPartner::COLUMNS`]); an empty one runs no
    /// statement (`Tx::execute_rows`).
    Run(Rows),
    /// An event of one of the projection's other aggregates.
    Other(FeedEvent),
}

/// What a [`SubmissionsFold`] handed out, owned.
pub(crate) struct SubmissionWrites<P> {
    projection: P,
    steps: Vec<Step>,
}

impl<P: CountsSubmissions> SubmissionWrites<P> {
    async fn write_all(self, tx: &mut Tx, names: &TableNames) -> Result<(), ProjectionError> {
        for step in self.steps {
            match step {
                Step::Run(rows) => self.projection.write_submissions(tx, names, rows).await?,
                Step::Other(event) => self.projection.apply_other(tx, names, &event).await?,
            }
        }
        Ok(())
    }
}

#[async_trait]
impl<P: CountsSubmissions> Writes for SubmissionWrites<P> {
    async fn write(
        self: Box<Self>,
        tx: &mut Tx,
        names: &TableNames,
    ) -> Result<(), ProjectionError> {
        self.write_all(tx, names).await
    }
}
