//! Looking at read models from the outside, the way an analyst's SQL would: full dumps of every
//! table a projection owns, to compare what incremental processing built with what a rebuild
//! builds; and waiting until the feed delivers everything that was written.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use dinghuo_projections::{models, rebuild, Projection, RunnerSettings, TableNames};
use dinghuo_store::Database;
use dinghuo_store::{read_feed, Checkpoint};
use tokio::time::Instant;

/// Every projection that can be replayed from zero (reactors are never replayed).
pub fn replayable_projections() -> Vec<Arc<dyn Projection>> {
    models::all()
        .into_iter()
        .filter(|projection| projection.replayable())
        .collect()
}

/// One table's full contents: its columns, and every row rendered as text (each value quoted as
/// SQL would quote it, `NULL` for null), sorted, so that two dumps compare row for row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableDump {
    pub table: String,
    pub columns: Vec<String>,
    pub rows: Vec<String>,
}

/// All tables of one projection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dump {
    pub projection: String,
    pub tables: Vec<TableDump>,
}

impl Dump {
    /// Rows over all tables.
    pub fn row_count(&self) -> usize {
        self.tables.iter().map(|t| t.rows.len()).sum()
    }

    /// `None` when equal; otherwise a readable account of the first differences.
    pub fn difference(&self, other: &Dump) -> Option<String> {
        if self == other {
            return None;
        }
        let mut out = String::new();
        for (mine, theirs) in self.tables.iter().zip(&other.tables) {
            if mine == theirs {
                continue;
            }
            out += &format!("table {}:\n", mine.table);
            if mine.columns != theirs.columns {
                out += &format!("  columns {:?} vs {:?}\n", mine.columns, theirs.columns);
            }
            let only_mine: Vec<_> = mine
                .rows
                .iter()
                .filter(|r| !theirs.rows.contains(r))
                .collect();
            let only_theirs: Vec<_> = theirs
                .rows
                .iter()
                .filter(|r| !mine.rows.contains(r))
                .collect();
            out += &format!(
                "  {} rows vs {}; {} only on the left, {} only on the right\n",
                mine.rows.len(),
                theirs.rows.len(),
                only_mine.len(),
                only_theirs.len()
            );
            for row in only_mine.iter().take(5) {
                out += &format!("  < {row}\n");
            }
            for row in only_theirs.iter().take(5) {
                out += &format!("  > {row}\n");
            }
        }
        if self.tables.len() != other.tables.len() {
            out += &format!("{} tables vs {}\n", self.tables.len(), other.tables.len());
        }
        Some(out)
    }
}

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for table in &self.tables {
            writeln!(f, "{} ({})", table.table, table.columns.join(", "))?;
            for row in &table.rows {
                writeln!(f, "  {row}")?;
            }
        }
        Ok(())
    }
}

/// Dumps every live table (`rm_<table>`) of `projection`.
pub async fn dump(db: &Database, projection: &dyn Projection) -> Dump {
    let names = TableNames::live("");
    let mut tables = Vec::new();
    for table in projection.tables() {
        let physical = names.table(table);
        tables.push(dump_table(db, &physical).await);
    }
    Dump {
        projection: projection.name().to_owned(),
        tables,
    }
}

async fn dump_table(db: &Database, table: &str) -> TableDump {
    let columns: Vec<String> = match db {
        Database::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT column_name::text FROM information_schema.columns
              WHERE table_schema = current_schema() AND table_name = $1
              ORDER BY ordinal_position",
            )
            .bind(table)
            .fetch_all(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                .bind(table)
                .fetch_all(pool)
                .await
        }
    }
    .unwrap_or_else(|error| panic!("list the columns of {table}: {error}"));
    assert!(!columns.is_empty(), "table {table} does not exist");
    // Each value as a quoted SQL literal, so NULL, '' and 'NULL' stay apart; rows are sorted
    // below (ordering by the rendered row orders by every column, whatever their types).
    let quote = match db {
        Database::Postgres(_) => "quote_nullable",
        Database::Sqlite(_) => "quote",
    };
    let rendered = columns
        .iter()
        .map(|column| format!("{quote}(\"{column}\")"))
        .collect::<Vec<_>>()
        .join(" || ' | ' || ");
    let sql = format!("SELECT {rendered} FROM {table}");
    let mut rows: Vec<String> = match db {
        Database::Postgres(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(&sql).fetch_all(pool).await,
    }
    .unwrap_or_else(|error| panic!("dump {table}: {error}"));
    rows.sort();
    TableDump {
        table: table.to_owned(),
        columns,
        rows,
    }
}

/// Rebuilds `projection` from zero; answers how the rebuilt tables differ from `expected` (what
/// incremental processing built), or `None` when they hold the same rows.
pub async fn rebuild_differs(
    db: &Database,
    projection: &dyn Projection,
    expected: &Dump,
) -> Option<String> {
    rebuild(db, &[projection], RunnerSettings::default(), |_| {})
        .await
        .unwrap_or_else(|error| panic!("rebuild {}: {error}", projection.name()));
    let rebuilt = dump(db, projection).await;
    expected.difference(&rebuilt).map(|difference| {
        format!(
            "{}: the rebuilt read model (right) differs from what incremental processing built \
             (left):\n{difference}",
            projection.name()
        )
    })
}

/// Tables left behind by rebuilds (`rm_…__next`); a finished rebuild leaves none.
pub async fn leftover_rebuild_tables(db: &Database) -> Vec<String> {
    match db {
        Database::Postgres(pool) => {
            sqlx::query_scalar(
                "SELECT table_name::text FROM information_schema.tables
              WHERE table_schema = current_schema() AND table_name LIKE 'rm\\_%\\_\\_next'",
            )
            .fetch_all(pool)
            .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_scalar(
                "SELECT name FROM sqlite_master
              WHERE type = 'table' AND name LIKE 'rm\\_%\\_\\_next' ESCAPE '\\'",
            )
            .fetch_all(pool)
            .await
        }
    }
    .expect("list the tables")
}

/// How long the feed may withhold committed events. On Postgres it delivers only events of
/// transactions older than every running one in the whole cluster, and the throwaway test
/// databases share one cluster with every other test running at the same time.
const FEED_SETTLES_WITHIN: Duration = Duration::from_secs(60);

/// Waits until the feed delivers every event stored so far (on Postgres, until no older
/// transaction anywhere in the cluster holds it back), and answers the checkpoint of the last
/// one. After this, a reader that catches up has seen the whole log.
pub async fn settle_feed(db: &Database) -> Checkpoint {
    let stored = stored_event_count(db).await;
    let deadline = Instant::now() + FEED_SETTLES_WITHIN;
    loop {
        let mut after = Checkpoint::START;
        let mut delivered = 0usize;
        loop {
            let page = read_feed(db, after, 1000).await.expect("read the feed");
            let Some(last) = page.last() else { break };
            after = last.checkpoint;
            delivered += page.len();
        }
        if delivered as i64 == stored {
            return after;
        }
        assert!(
            Instant::now() < deadline,
            "the feed delivered {delivered} of {stored} stored events after {FEED_SETTLES_WITHIN:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored_event_count(db: &Database) -> i64 {
    let sql = "SELECT COUNT(*) FROM events";
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count events")
}
