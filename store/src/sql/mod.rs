//! The thin dialect layer of the read side: one transaction type and one argument type over
//! Postgres and SQLite, so that each projection is written once. Read-model SQL uses only what
//! both dialects share (`$n` parameters, `INSERT … ON CONFLICT … DO UPDATE`, `excluded.`).
//!
//! Timestamps are `timestamptz` on Postgres and fixed-width RFC 3339 text on SQLite
//! (`2026-11-25T20:00:00.123456Z`), which sorts and compares correctly as text.

use chrono::{DateTime, SecondsFormat, Utc};
use sqlx::{PgConnection, PgExecutor, Postgres, Sqlite, SqliteConnection, Transaction};

use crate::database::Database;

mod deferred;
mod dialect;
mod values;

use deferred::Bound;
pub use deferred::Deferred;
pub use dialect::Dialect;
pub use values::Arg;
use values::Column;

/// The text form of a timestamp on SQLite.
pub fn sqlite_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// From how many rows [`Tx::insert_rows`] uses `COPY` on Postgres.
pub const COPY_FROM_ROWS: usize = 256;

/// A transaction on either backend. On Postgres it may hold writes back to send them together
/// ([`Tx::combine_writes`], [`deferred`]): every statement reaches the connection through
/// [`Tx::connection`], which sends those first.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>, Deferred),
    Sqlite(Transaction<'static, Sqlite>),
}

/// The connection of a [`Tx`], once the writes it held back are sent.
pub enum Connection<'c> {
    Postgres(&'c mut PgConnection),
    Sqlite(&'c mut SqliteConnection),
}

macro_rules! bind_all {
    ($query:expr, $args:expr, sqlite) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Int(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
                Arg::Time(v) => query.bind(v.map(sqlite_time)),
            };
        }
        query
    }};
    ($query:expr, $args:expr, postgres) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(v) => query.bind(v.clone()),
                Arg::Int(v) => query.bind(*v),
                Arg::Bool(v) => query.bind(*v),
                Arg::Time(v) => query.bind(*v),
            };
        }
        query
    }};
}

impl Tx {
    pub async fn begin(db: &Database) -> Result<Self, sqlx::Error> {
        Ok(match db {
            Database::Postgres(pool) => Self::Postgres(pool.begin().await?, Deferred::default()),
            Database::Sqlite(pool) => {
                let mut tx = pool.begin().await?;
                // Take the write lock now: a deferred transaction that reads first and writes
                // later can fail with SQLITE_BUSY instead of waiting its turn.
                sqlx::query("UPDATE projection_checkpoints SET name = name WHERE 0")
                    .execute(&mut *tx)
                    .await?;
                Self::Sqlite(tx)
            }
        })
    }

    /// A transaction of work that a crash may lose: its commit returns before its WAL reaches
    /// the disk (Postgres `synchronous_commit = off`, set in the same round trip as `BEGIN`).
    /// WAL is still written in order, so the next durable commit makes this one durable too;
    /// what a crash loses is rows that can be derived again (a runner's page with its
    /// checkpoints, a rebuild's batch), never events.
    pub async fn begin_lazy(db: &Database) -> Result<Self, sqlx::Error> {
        match db {
            Database::Postgres(pool) => Ok(Self::Postgres(
                pool.begin_with("BEGIN; SET LOCAL synchronous_commit = off")
                    .await?,
                Deferred::default(),
            )),
            Database::Sqlite(_) => Self::begin(db).await,
        }
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        self.flush().await?;
        match self {
            Self::Postgres(tx, _) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(..))
    }

    /// From now on, the `defer` methods hold their writes back until the next other statement
    /// or the commit, and send them together (Postgres; on SQLite, whose statements cost no
    /// round trip, they run at once). A failure of the writes sent together cannot say whose
    /// write failed: the caller that needs to know applies the work again without this.
    pub fn combine_writes(&mut self) {
        if let Self::Postgres(_, deferred) = self {
            deferred.enabled = true;
        }
    }

    /// Sends the writes held back so far.
    pub async fn flush(&mut self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx, deferred) => deferred.flush(tx).await,
            Self::Sqlite(_) => Ok(()),
        }
    }

    /// The connection, for a statement that must see every write before it: the held-back
    /// writes are sent first.
    pub async fn connection(&mut self) -> Result<Connection<'_>, sqlx::Error> {
        self.flush().await?;
        Ok(match self {
            Self::Postgres(tx, _) => Connection::Postgres(tx),
            Self::Sqlite(tx) => Connection::Sqlite(tx),
        })
    }

    /// Whether writes held back failed when they were sent: the transaction is lost, and
    /// whose write failed is not known.
    pub fn flush_failed(&self) -> bool {
        matches!(self, Self::Postgres(_, deferred) if deferred.failed)
    }

    /// Whether the `defer` methods hold writes back.
    fn defers(&self) -> bool {
        matches!(self, Self::Postgres(_, deferred) if deferred.enabled)
    }

    /// [`Tx::execute`] of `sql`, which writes `table` and reads no other table: held back while
    /// writes are combined (see [`deferred`]).
    pub async fn defer(&mut self, table: &str, sql: &str, args: &[Arg]) -> Result<(), sqlx::Error> {
        if !self.defers() {
            return self.execute(sql, args).await.map(drop);
        }
        let bound = args.iter().cloned().map(Bound::Value).collect();
        self.hold_back(table, sql, bound).await
    }

    /// [`Tx::execute_rows`] of `statement`, which writes `table` and reads no other table but
    /// `v`: held back while writes are combined (see [`deferred`]).
    pub async fn defer_rows(
        &mut self,
        table: &str,
        rows: Rows,
        statement: &str,
    ) -> Result<(), sqlx::Error> {
        if !self.defers() {
            return self.execute_rows(rows, statement).await.map(drop);
        }
        if rows.is_empty() {
            return Ok(());
        }
        rows.check()?;
        let sql = rows.postgres(statement);
        let bound = rows.columns.into_iter().map(Bound::Array).collect();
        self.hold_back(table, &sql, bound).await
    }

    /// [`Tx::insert_rows`], held back while writes are combined, unless there are enough rows
    /// for `COPY`.
    pub async fn defer_insert_rows(&mut self, rows: Rows, table: &str) -> Result<(), sqlx::Error> {
        if self.defers() && rows.len < COPY_FROM_ROWS {
            let statement = insert_statement(&rows, table);
            self.defer_rows(table, rows, &statement).await
        } else {
            self.insert_rows(rows, table).await.map(drop)
        }
    }

    /// Holds back `sql`, which writes `table`. When a write to `table` is held back already,
    /// the held-back writes are sent first, so that this one sees them.
    async fn hold_back(
        &mut self,
        table: &str,
        sql: &str,
        bound: Vec<Bound>,
    ) -> Result<(), sqlx::Error> {
        if matches!(self, Self::Postgres(_, deferred) if deferred.writes(table)) {
            self.flush().await?;
        }
        if let Self::Postgres(_, deferred) = self {
            deferred.push(table, sql, bound);
        }
        Ok(())
    }

    /// Runs one statement; answers the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
        Ok(match self.connection().await? {
            Connection::Postgres(connection) => bind_all!(sqlx::query(sql), args, postgres)
                .execute(connection)
                .await?
                .rows_affected(),
            Connection::Sqlite(connection) => bind_all!(sqlx::query(sql), args, sqlite)
                .execute(connection)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query answering one integer (or none), e.g. `SELECT count(*) …`.
    pub async fn fetch_int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, sqlx::Error> {
        Ok(match self.connection().await? {
            Connection::Postgres(connection) => {
                bind_all!(sqlx::query_scalar::<_, Option<i64>>(sql), args, postgres)
                    .fetch_optional(connection)
                    .await?
                    .flatten()
            }
            Connection::Sqlite(connection) => {
                bind_all!(sqlx::query_scalar::<_, Option<i64>>(sql), args, sqlite)
                    .fetch_optional(connection)
                    .await?
                    .flatten()
            }
        })
    }

    /// Runs a query inside the transaction and answers its rows as `T`.
    pub async fn fetch_all<T>(&mut self, sql: &str, args: &[Arg]) -> Result<Vec<T>, sqlx::Error>
    where
        T: FromEitherRow,
    {
        match self.connection().await? {
            Connection::Postgres(connection) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args, postgres)
                    .fetch_all(connection)
                    .await
            }
            Connection::Sqlite(connection) => {
                bind_all!(sqlx::query_as::<_, T>(sql), args, sqlite)
                    .fetch_all(connection)
                    .await
            }
        }
    }
}

/// `$from, $from+1, …`: `count` numbered placeholders, for an `IN (…)` list of arguments.
pub fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs a statement outside any transaction (DDL, status queries).
pub async fn execute(db: &Database, sql: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
    Ok(match db {
        Database::Postgres(pool) => bind_all!(sqlx::query(sql), args, postgres)
            .execute(pool)
            .await?
            .rows_affected(),
        Database::Sqlite(pool) => bind_all!(sqlx::query(sql), args, sqlite)
            .execute(pool)
            .await?
            .rows_affected(),
    })
}

/// Many rows bound as one relation `v(column, …)` that a single statement reads, so that a
/// batch writes each table with one statement instead of one per row: Postgres binds one array
/// per column (`UNNEST`), SQLite a multi-row `VALUES` list (in chunks under its parameter limit).
///
/// Values are kept by column, as Postgres takes them. Each column's type is that of its first
/// value; a row giving another type is an error when the statement runs.
#[derive(Debug, Clone)]
pub struct Rows {
    names: Vec<&'static str>,
    columns: Vec<Column>,
    len: usize,
    mixed: Option<String>,
}

/// SQLite's default `SQLITE_MAX_VARIABLE_NUMBER` (since 3.32).
const SQLITE_MAX_PARAMETERS: usize = 32_766;

/// Rows per SQLite statement. Every full chunk of a table's rows is the same statement text,
/// prepared once and then taken from the connection's statement cache; a statement of all the
/// rows at once was prepared anew for every page, and SQLite's preparation grows faster than
/// the number of parameters (a page of the orders rebuild spent 1.2 to 5 s per statement in a
/// debug build, holding the only write lock).
const SQLITE_ROWS_PER_STATEMENT: usize = 64;

impl Rows {
    pub fn new(names: &[&'static str]) -> Self {
        Self {
            names: names.to_vec(),
            columns: Vec::new(),
            len: 0,
            mixed: None,
        }
    }

    /// Adds a row; `values` follow the order of the columns.
    pub fn push(&mut self, values: Vec<Arg>) {
        debug_assert_eq!(values.len(), self.names.len(), "one value per column");
        if self.columns.is_empty() {
            self.columns = values.iter().map(Column::of).collect();
        }
        for (column, value) in self.columns.iter_mut().zip(values) {
            if let Err(mixed) = column.push(value) {
                self.mixed.get_or_insert(mixed);
            }
        }
        self.len += 1;
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn len(&self) -> usize {
        self.len
    }

    fn check(&self) -> Result<(), sqlx::Error> {
        match &self.mixed {
            Some(mixed) => Err(sqlx::Error::Protocol(format!(
                "a column of bulk rows mixes types ({mixed})"
            ))),
            None => Ok(()),
        }
    }

    fn prefix(&self) -> String {
        format!("WITH v ({}) AS ", self.names.join(", "))
    }

    /// The Postgres form: `WITH v (…) AS (SELECT * FROM UNNEST($1::text[], …)) <statement>`.
    fn postgres(&self, statement: &str) -> String {
        let arrays: Vec<String> = self
            .columns
            .iter()
            .enumerate()
            .map(|(i, column)| format!("${}::{}", i + 1, column.array_type()))
            .collect();
        format!(
            "{}(SELECT * FROM UNNEST({})) {statement}",
            self.prefix(),
            arrays.join(", ")
        )
    }

    /// The SQLite form, one statement per chunk of [`SQLITE_ROWS_PER_STATEMENT`] rows:
    /// `WITH v (…) AS (VALUES (?, ?), (?, ?)) <statement>`. Anonymous parameters: SQLite
    /// looks each named one (`$n`) up among those seen before it.
    fn sqlite_chunks<'a>(
        &'a self,
        statement: &'a str,
    ) -> impl Iterator<Item = (String, Vec<Arg>)> + 'a {
        let width = self.names.len().max(1);
        let per_chunk = SQLITE_ROWS_PER_STATEMENT
            .min(SQLITE_MAX_PARAMETERS / width)
            .max(1);
        let tuple = format!("({})", vec!["?"; width].join(", "));
        (0..self.len).step_by(per_chunk).map(move |start| {
            let end = (start + per_chunk).min(self.len);
            let mut args = Vec::with_capacity((end - start) * width);
            for row in start..end {
                args.extend(self.columns.iter().map(|column| column.get(row)));
            }
            let tuples = vec![tuple.as_str(); end - start].join(", ");
            let sql = format!("{}(VALUES {tuples}) {statement}", self.prefix());
            (sql, args)
        })
    }
}

macro_rules! bind_columns {
    ($query:expr, $columns:expr) => {{
        let mut query = $query;
        for column in $columns {
            query = match column {
                Column::Text(v) => query.bind(v),
                Column::Int(v) => query.bind(v),
                Column::Bool(v) => query.bind(v),
                Column::Time(v) => query.bind(v),
            };
        }
        query
    }};
}

impl Tx {
    /// Runs `statement`, which reads the relation `v` of `rows` (e.g. `INSERT INTO t (a, b)
    /// SELECT a, b FROM v WHERE true ON CONFLICT …`; SQLite needs that `WHERE true` to parse an
    /// upsert from a `SELECT`). Answers the number of rows changed; does nothing for no rows.
    pub async fn execute_rows(&mut self, rows: Rows, statement: &str) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        rows.check()?;
        match self.connection().await? {
            Connection::Postgres(connection) => {
                let sql = rows.postgres(statement);
                Ok(bind_columns!(sqlx::query(&sql), rows.columns)
                    .execute(connection)
                    .await?
                    .rows_affected())
            }
            Connection::Sqlite(connection) => {
                let mut changed = 0;
                for (sql, args) in rows.sqlite_chunks(statement) {
                    changed += bind_all!(sqlx::query(&sql), &args, sqlite)
                        .execute(&mut *connection)
                        .await?
                        .rows_affected();
                }
                Ok(changed)
            }
        }
    }

    /// Inserts `rows` into `table` (the columns of `rows`). On Postgres, from
    /// [`COPY_FROM_ROWS`] rows on, this is `COPY … FROM STDIN`, which the server inserts in bulk
    /// without planning a statement or decoding bound arrays; fewer rows (a live batch) take one
    /// `INSERT … SELECT` from `v`, which costs one round trip where `COPY` costs two. Answers the
    /// number of rows inserted.
    pub async fn insert_rows(&mut self, rows: Rows, table: &str) -> Result<u64, sqlx::Error> {
        if rows.is_empty() {
            return Ok(0);
        }
        rows.check()?;
        if rows.len >= COPY_FROM_ROWS {
            if let Connection::Postgres(connection) = self.connection().await? {
                // A guess at the row width, to spare most of the buffer's regrowth.
                let mut data = String::with_capacity(rows.len * rows.columns.len() * 16);
                for row in 0..rows.len {
                    for (i, column) in rows.columns.iter().enumerate() {
                        if i > 0 {
                            data.push('\t');
                        }
                        column.write_copy_text(row, &mut data);
                    }
                    data.push('\n');
                }
                let columns = rows.names.join(", ");
                let mut copy = connection
                    .copy_in_raw(&format!("COPY {table} ({columns}) FROM STDIN"))
                    .await?;
                copy.send(data.as_bytes()).await?;
                return copy.finish().await;
            }
        }
        let statement = insert_statement(&rows, table);
        self.execute_rows(rows, &statement).await
    }

    /// Runs a query that reads the relation `v` of `rows` and answers rows of `T`.
    pub async fn fetch_rows<T>(&mut self, rows: Rows, query: &str) -> Result<Vec<T>, sqlx::Error>
    where
        T: FromEitherRow,
    {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        rows.check()?;
        match self.connection().await? {
            Connection::Postgres(connection) => fetch_rows_postgres(connection, rows, query).await,
            Connection::Sqlite(connection) => fetch_rows_sqlite(connection, rows, query).await,
        }
    }
}

/// The statement of [`Tx::insert_rows`] below `COPY`: every row of `v` into `table`.
fn insert_statement(rows: &Rows, table: &str) -> String {
    let columns = rows.names.join(", ");
    format!("INSERT INTO {table} ({columns}) SELECT {columns} FROM v")
}

/// A point in time read back from a read-model table: `timestamptz` on Postgres, the fixed-width
/// RFC 3339 text of [`sqlite_time`] on SQLite. Lets one `FromRow` struct read either backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StoredTime(pub DateTime<Utc>);

impl sqlx::Type<Postgres> for StoredTime {
    fn type_info() -> sqlx::postgres::PgTypeInfo {
        <DateTime<Utc> as sqlx::Type<Postgres>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Postgres> for StoredTime {
    fn decode(value: sqlx::postgres::PgValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        Ok(Self(<DateTime<Utc> as sqlx::Decode<Postgres>>::decode(
            value,
        )?))
    }
}

impl sqlx::Type<Sqlite> for StoredTime {
    fn type_info() -> sqlx::sqlite::SqliteTypeInfo {
        <String as sqlx::Type<Sqlite>>::type_info()
    }
}

impl<'r> sqlx::Decode<'r, Sqlite> for StoredTime {
    fn decode(value: sqlx::sqlite::SqliteValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        let text = <&str as sqlx::Decode<Sqlite>>::decode(value)?;
        Ok(Self(
            DateTime::parse_from_rfc3339(text)?.with_timezone(&Utc),
        ))
    }
}

/// A row type that both backends' rows decode into: what the queries here answer.
pub trait FromEitherRow:
    for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
    + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
    + Send
    + Unpin
{
}

impl<T> FromEitherRow for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + Send
        + Unpin
{
}

/// Runs a query that reads the relation `v` of `rows`, outside any transaction, and answers
/// rows of `T` (a batch of read-model lookups, each row of `v` one lookup).
pub async fn fetch_rows<T>(db: &Database, rows: Rows, query: &str) -> Result<Vec<T>, sqlx::Error>
where
    T: FromEitherRow,
{
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    rows.check()?;
    match db {
        Database::Postgres(pool) => fetch_rows_postgres(pool, rows, query).await,
        Database::Sqlite(pool) => fetch_rows_sqlite(&mut *pool.acquire().await?, rows, query).await,
    }
}

async fn fetch_rows_postgres<'e, T>(
    executor: impl PgExecutor<'e>,
    rows: Rows,
    query: &str,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let sql = rows.postgres(query);
    bind_columns!(sqlx::query_as::<_, T>(&sql), rows.columns)
        .fetch_all(executor)
        .await
}

/// One statement per chunk of rows (SQLite's parameter limit), on one connection.
async fn fetch_rows_sqlite<T>(
    connection: &mut SqliteConnection,
    rows: Rows,
    query: &str,
) -> Result<Vec<T>, sqlx::Error>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin,
{
    let mut found = Vec::new();
    for (sql, args) in rows.sqlite_chunks(query) {
        found.extend(
            bind_all!(sqlx::query_as::<_, T>(&sql), &args, sqlite)
                .fetch_all(&mut *connection)
                .await?,
        );
    }
    Ok(found)
}

/// Runs a query outside any transaction and answers its rows as `T` (read-model queries).
pub async fn fetch_all<T>(db: &Database, sql: &str, args: &[Arg]) -> Result<Vec<T>, sqlx::Error>
where
    T: FromEitherRow,
{
    match db {
        Database::Postgres(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args, postgres)
                .fetch_all(pool)
                .await
        }
        Database::Sqlite(pool) => {
            bind_all!(sqlx::query_as::<_, T>(sql), args, sqlite)
                .fetch_all(pool)
                .await
        }
    }
}
