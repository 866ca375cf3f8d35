//! Writes held back to go to Postgres together: a runner's page writes a few rows to each of
//! several read models, and sending each statement on its own makes the page wait for one
//! round trip after another, while every mutation waiting for the page waits with it.
//!
//! Held-back statements are sent as one: `WITH w0 AS (<first>), w1 AS (<second>), … SELECT 1`,
//! their `$n` placeholders numbered on. Postgres runs every data-modifying part of a `WITH`
//! once, to completion, on one snapshot, so **a held-back write does not see the ones held
//! back with it**. What keeps that from mattering:
//! - a held-back statement reads no table but the one it writes (and its bound rows `v`);
//! - a second write to a table that already has one held back sends the held-back ones first;
//! - any other statement on the transaction reaches the connection through `Tx::connection`,
//!   which sends them first.
//!
//! So every statement sees the writes before it, as if they had run one by one.

use std::mem;

use sqlx::postgres::PgArguments;
use sqlx::query::Query;
use sqlx::{PgConnection, Postgres};

use super::values::{Arg, Column};

/// The value of one placeholder of a held-back statement.
#[derive(Debug)]
pub(super) enum Bound {
    Value(Arg),
    /// A column of [`super::Rows`], bound as one array for `UNNEST`.
    Array(Column),
}

/// The writes a Postgres transaction holds back; see the module's documentation.
#[derive(Debug, Default)]
pub struct Deferred {
    /// Whether the `defer` methods of `Tx` hold writes back (otherwise they run at once).
    pub(super) enabled: bool,
    /// Whether a flush failed.
    pub(super) failed: bool,
    statements: Vec<String>,
    bound: Vec<Bound>,
    /// The table each held-back statement writes.
    tables: Vec<String>,
}

impl Deferred {
    /// Whether a write to `table` is held back.
    pub(super) fn writes(&self, table: &str) -> bool {
        self.tables.iter().any(|held| held == table)
    }

    /// Holds back `sql`, which writes `table` and reads no other.
    pub(super) fn push(&mut self, table: &str, sql: &str, bound: Vec<Bound>) {
        self.statements.push(renumber(sql, self.bound.len()));
        self.bound.extend(bound);
        self.tables.push(table.to_owned());
    }

    /// Sends the held-back writes, as one statement, on `connection`.
    pub(super) async fn flush(&mut self, connection: &mut PgConnection) -> Result<(), sqlx::Error> {
        let statements = mem::take(&mut self.statements);
        self.tables.clear();
        let sql = match statements.len() {
            0 => return Ok(()),
            1 => statements.into_iter().next().unwrap_or_default(),
            _ => combined(&statements),
        };
        let mut query = sqlx::query(&sql);
        for bound in mem::take(&mut self.bound) {
            query = bind(query, bound);
        }
        let sent = query.execute(connection).await;
        self.failed |= sent.is_err();
        sent.map(drop)
    }
}

/// One statement running each of `statements` as a part of its `WITH`.
fn combined(statements: &[String]) -> String {
    let parts: Vec<String> = statements
        .iter()
        .enumerate()
        .map(|(i, statement)| format!("w{i} AS ({statement})"))
        .collect();
    format!("WITH {} SELECT 1", parts.join(", "))
}

/// `sql` with each placeholder `$n` turned into `$(n + offset)`. Read-model SQL has no `$`
/// other than its placeholders (no dollar quoting, no `$` in literals or names).
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

fn bind(query: Query<'_, Postgres, PgArguments>, bound: Bound) -> Query<'_, Postgres, PgArguments> {
    match bound {
        Bound::Value(Arg::Text(v)) => query.bind(v),
        Bound::Value(Arg::Int(v)) => query.bind(v),
        Bound::Value(Arg::Bool(v)) => query.bind(v),
        Bound::Value(Arg::Time(v)) => query.bind(v),
        Bound::Array(Column::Text(v)) => query.bind(v),
        Bound::Array(Column::Int(v)) => query.bind(v),
        Bound::Array(Column::Bool(v)) => query.bind(v),
        Bound::Array(Column::Time(v)) => query.bind(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_placeholders_on_and_leaves_the_rest_alone() {
        assert_eq!(renumber("SELECT $1, $2", 0), "SELECT $1, $2");
        assert_eq!(
            renumber("UPDATE t SET a = $1 WHERE b IN ($2, $10)", 3),
            "UPDATE t SET a = $4 WHERE b IN ($5, $13)"
        );
        assert_eq!(renumber("$1::text[]", 2), "$3::text[]");
        assert_eq!(renumber("a $ b", 2), "a $ b", "a lone `$` stays");
    }

    #[test]
    fn several_statements_become_the_parts_of_one_with() {
        let mut deferred = Deferred::default();
        deferred.push(
            "a",
            "UPDATE a SET x = $1",
            vec![Bound::Value(Arg::Int(Some(1)))],
        );
        assert!(deferred.writes("a") && !deferred.writes("b"));
        deferred.push(
            "b",
            "WITH v (y) AS (SELECT * FROM UNNEST($1::int8[])) INSERT INTO b (y) SELECT y FROM v",
            vec![Bound::Array(Column::Int(vec![Some(2)]))],
        );
        assert_eq!(
            combined(&deferred.statements),
            "WITH w0 AS (UPDATE a SET x = $1), w1 AS (WITH v (y) AS (SELECT * FROM \
             UNNEST($2::int8[])) INSERT INTO b (y) SELECT y FROM v) SELECT 1"
        );
        assert_eq!(deferred.bound.len(), 2);
    }
}
