//! What a projection is: a named, versioned fold of the feed into tables it owns.

use async_trait::async_trait;

use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::{Dialect, Tx};

/// Physical names of a projection's tables. Live tables are `rm_<table>`; a rebuild writes into
/// `rm_<table>__next` and swaps them in. Index names carry the build's generation so that the
/// indexes of a swapped-in table never collide with those of the next rebuild.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNames {
    suffix: &'static str,
    generation: String,
}

impl TableNames {
    pub const LIVE_PREFIX: &'static str = "rm_";
    const NEXT_SUFFIX: &'static str = "__next";

    pub fn live(generation: &str) -> Self {
        Self {
            suffix: "",
            generation: generation.to_owned(),
        }
    }

    pub fn next(generation: &str) -> Self {
        Self {
            suffix: Self::NEXT_SUFFIX,
            generation: generation.to_owned(),
        }
    }

    /// The physical name of logical table `table` (`orders` → `rm_orders`).
    pub fn table(&self, table: &str) -> String {
        format!("{}{table}{}", Self::LIVE_PREFIX, self.suffix)
    }

    /// A name for an index of `table`, unique to this build.
    pub fn index(&self, table: &str, purpose: &str) -> String {
        format!("ix_{table}_{purpose}_{}", self.generation)
    }

    pub fn is_next(&self) -> bool {
        !self.suffix.is_empty()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProjectionError {
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// The event cannot be applied (unknown shape, impossible state). The projection stops here
    /// rather than skip it: a silently skipped event is a wrong read model forever.
    #[error("cannot apply {event_type} at position {position}: {reason}")]
    Unappliable {
        event_type: String,
        position: i64,
        reason: String,
    },
}

impl ProjectionError {
    pub fn unappliable(event: &FeedEvent, reason: impl Into<String>) -> Self {
        Self::Unappliable {
            event_type: event.event_type.clone(),
            position: event.position(),
            reason: reason.into(),
        }
    }
}

/// A read model: a fold of the feed into tables. `apply` must be deterministic and call no
/// service: it runs again, identically, on every rebuild.
#[async_trait]
pub trait Projection: Send + Sync {
    /// Stable name: the checkpoint's key and what operators type (`dinghuo projections rebuild orders`).
    fn name(&self) -> &'static str;

    /// Bump when the tables or the fold change: the runner then rebuilds at start.
    fn schema_version(&self) -> i32;

    /// `false` for reactors (they act on the world: send an SMS, provision an account). Their
    /// effects must happen once, so they are never rebuilt or replayed from zero.
    fn replayable(&self) -> bool {
        true
    }

    /// The logical names of the tables this projection owns.
    fn tables(&self) -> &'static [&'static str];

    /// Statements creating the tables (with their primary keys) under `names`.
    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String>;

    /// Statements creating the secondary indexes under `names`, and the unique keys of tables
    /// that a rebuild neither reads nor upserts into while filling them. Kept apart from
    /// [`schema`] so that a rebuild fills its fresh tables first and indexes them once, at the
    /// end; a rebuild runs them in transactions of their own, in any order and several at once.
    ///
    /// [`schema`]: Projection::schema
    fn indexes(&self, _names: &TableNames) -> Vec<String> {
        Vec::new()
    }

    /// Folds one event into the tables under `names`. Events it has no interest in are `Ok`.
    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError>;

    /// Called once by a rebuild after the last batch, before the swap and beside the index
    /// builds (so it must not count on any of [`indexes`] existing): a table that is cheaper to
    /// derive from the others in one set-based statement than to maintain event by event can
    /// be filled here (see `TableNames::is_next`). The rebuild-equals-incremental tests hold
    /// the two ways to the same rows.
    ///
    /// [`indexes`]: Projection::indexes
    async fn finish_rebuild(
        &self,
        _tx: &mut Tx,
        _names: &TableNames,
    ) -> Result<(), ProjectionError> {
        Ok(())
    }

    /// State that a rebuild keeps across its pages, or `None` (the default) to apply each page
    /// with [`apply_batch`]. A projection whose rows change many times overrides it to hold rows
    /// in memory until they are final, so that a rebuild writes each of them once.
    ///
    /// [`apply_batch`]: Projection::apply_batch
    fn rebuild_fold(&self) -> Option<Box<dyn RebuildFold>> {
        None
    }

    /// Folds a batch of events, in feed order, into the tables under `names`. The result must
    /// equal applying them one by one with [`apply`]; a projection whose events are many
    /// overrides it to fold the batch in memory and write each table with a few bulk statements.
    ///
    /// [`apply`]: Projection::apply
    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        for event in events {
            self.apply(tx, names, event).await?;
        }
        Ok(())
    }
}

/// A rebuild's fold of one projection, kept from its first page to its last (see
/// [`Projection::rebuild_fold`]). Folding is kept apart from writing so that a rebuild folds the
/// next page while the writes of this one run on the server. Once the writes of every page and
/// of [`flush`] are done, in that order, the tables must hold exactly what applying every page
/// with [`Projection::apply_batch`] gives. What a fold holds is lost if the rebuild stops, which
/// is harmless: a rebuild always starts again from zero.
///
/// [`flush`]: RebuildFold::flush
pub trait RebuildFold: Send {
    /// Folds one page, in feed order, in memory; answers what to write for it (what it does not
    /// keep). The writes of earlier pages may not have run yet.
    fn fold_page(&mut self, events: &[FeedEvent]) -> Result<Box<dyn Writes>, ProjectionError>;

    /// Everything still kept, after the last page (written before `finish_rebuild`).
    fn flush(&mut self) -> Box<dyn Writes>;
}

/// Rows a [`RebuildFold`] decided to write, owned, so that they can be written while the fold
/// goes on. Writes run in the order they were made, each after the previous one committed.
#[async_trait]
pub trait Writes: Send {
    async fn write(self: Box<Self>, tx: &mut Tx, names: &TableNames)
        -> Result<(), ProjectionError>;
}

/// A fresh generation token for index names.
pub(crate) fn new_generation() -> String {
    uuid::Uuid::now_v7().simple().to_string()[20..].to_owned()
}
