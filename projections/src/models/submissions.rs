//! Order submissions counted per partner over a run of a batch, for the projections that keep
//! per-partner order facts (`partners`, `onboarding`): orders are most of the log, and one bulk
//! statement per run replaces one update per order.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use dinghuo_domain::PartnerId;
use serde::Deserialize;

use crate::feed::FeedEvent;
use crate::projection::{ProjectionError, TableNames};
use crate::sql::{Rows, Tx};

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
pub(crate) trait CountsSubmissions: Sync {
    /// The aggregates whose events [`Self::apply_other`] applies; events of any other
    /// aggregate change nothing here, so they need not write the run first.
    const OTHER_AGGREGATES: &'static [&'static str];

    /// Writes a run of submissions (rows of [`SubmissionsByPartner::COLUMNS`]).
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

/// The `apply_batch` of a [`CountsSubmissions`] projection: runs of submissions are counted in
/// memory; an event of one of its other aggregates writes the run so far first, so that
/// everything lands in feed order. Events of other aggregates (products repriced, say) are
/// skipped without breaking the run.
pub(crate) async fn apply_batch<P: CountsSubmissions>(
    projection: &P,
    tx: &mut Tx,
    names: &TableNames,
    events: &[FeedEvent],
) -> Result<(), ProjectionError> {
    let mut submissions = SubmissionsByPartner::default();
    for event in events {
        if submissions.add(event)? || !P::OTHER_AGGREGATES.contains(&event.aggregate_type.as_str())
        {
            continue;
        }
        projection
            .write_submissions(tx, names, submissions.take())
            .await?;
        projection.apply_other(tx, names, event).await?;
    }
    projection
        .write_submissions(tx, names, submissions.take())
        .await
}
