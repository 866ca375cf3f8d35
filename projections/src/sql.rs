//! The thin dialect layer of the read side: one transaction type and one argument type over
//! Postgres and SQLite, so that each projection is written once. Read-model SQL uses only what
//! both dialects share (`$n` parameters, `INSERT … ON CONFLICT … DO UPDATE`, `excluded.`).
//!
//! Timestamps are `timestamptz` on Postgres and fixed-width RFC 3339 text on SQLite
//! (`2026-11-25T20:00:00.123456Z`), which sorts and compares correctly as text.

use chrono::{DateTime, SecondsFormat, Utc};
use dinghuo_commands::Database;
use sqlx::{Postgres, Sqlite, Transaction};

/// A value bound to a `$n` parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Text(Option<String>),
    Int(Option<i64>),
    Bool(bool),
    Time(Option<DateTime<Utc>>),
}

impl From<&str> for Arg {
    fn from(value: &str) -> Self {
        Self::Text(Some(value.to_owned()))
    }
}
impl From<String> for Arg {
    fn from(value: String) -> Self {
        Self::Text(Some(value))
    }
}
impl From<Option<String>> for Arg {
    fn from(value: Option<String>) -> Self {
        Self::Text(value)
    }
}
impl From<Option<&str>> for Arg {
    fn from(value: Option<&str>) -> Self {
        Self::Text(value.map(str::to_owned))
    }
}
impl From<i64> for Arg {
    fn from(value: i64) -> Self {
        Self::Int(Some(value))
    }
}
impl From<Option<i64>> for Arg {
    fn from(value: Option<i64>) -> Self {
        Self::Int(value)
    }
}
impl From<bool> for Arg {
    fn from(value: bool) -> Self {
        Self::Bool(value)
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(value: DateTime<Utc>) -> Self {
        Self::Time(Some(value))
    }
}
impl From<Option<DateTime<Utc>>> for Arg {
    fn from(value: Option<DateTime<Utc>>) -> Self {
        Self::Time(value)
    }
}

/// The text form of a timestamp on SQLite.
pub fn sqlite_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A transaction on either backend.
pub enum Tx {
    Postgres(Transaction<'static, Postgres>),
    Sqlite(Transaction<'static, Sqlite>),
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
            Database::Postgres(pool) => Self::Postgres(pool.begin().await?),
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

    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self, Self::Postgres(_))
    }

    /// Runs one statement; answers the number of rows it changed.
    pub async fn execute(&mut self, sql: &str, args: &[Arg]) -> Result<u64, sqlx::Error> {
        Ok(match self {
            Self::Postgres(tx) => bind_all!(sqlx::query(sql), args, postgres)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
            Self::Sqlite(tx) => bind_all!(sqlx::query(sql), args, sqlite)
                .execute(&mut **tx)
                .await?
                .rows_affected(),
        })
    }

    /// Runs a query answering one integer (or none), e.g. `SELECT count(*) …`.
    pub async fn fetch_int(&mut self, sql: &str, args: &[Arg]) -> Result<Option<i64>, sqlx::Error> {
        Ok(match self {
            Self::Postgres(tx) => {
                bind_all!(sqlx::query_scalar::<_, Option<i64>>(sql), args, postgres)
                    .fetch_optional(&mut **tx)
                    .await?
                    .flatten()
            }
            Self::Sqlite(tx) => bind_all!(sqlx::query_scalar::<_, Option<i64>>(sql), args, sqlite)
                .fetch_optional(&mut **tx)
                .await?
                .flatten(),
        })
    }

    /// Runs a query answering one row of two integers (or none), e.g. a checkpoint.
    pub async fn fetch_int_pair(
        &mut self,
        sql: &str,
        args: &[Arg],
    ) -> Result<Option<(i64, i64)>, sqlx::Error> {
        match self {
            Self::Postgres(tx) => {
                bind_all!(sqlx::query_as::<_, (i64, i64)>(sql), args, postgres)
                    .fetch_optional(&mut **tx)
                    .await
            }
            Self::Sqlite(tx) => {
                bind_all!(sqlx::query_as::<_, (i64, i64)>(sql), args, sqlite)
                    .fetch_optional(&mut **tx)
                    .await
            }
        }
    }
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
