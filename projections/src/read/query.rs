//! A read statement built piece by piece: each bound value gets the next `$n`, so no query
//! counts its placeholders by hand. `$n` is what both backends' read-model SQL shares.

use dinghuo_store::sql::{fetch_all, Arg, FromEitherRow};
use dinghuo_store::Database;

use dinghuo_store::sql::Dialect;

pub struct Query {
    dialect: Dialect,
    sql: String,
    args: Vec<Arg>,
}

impl Query {
    /// A statement for `db`'s backend, starting with `sql`.
    pub fn new(db: &Database, sql: &str) -> Self {
        Self {
            dialect: Dialect::of(db),
            sql: sql.to_owned(),
            args: Vec::new(),
        }
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// Binds `value` as the next parameter; answers its placeholder.
    pub fn bind(&mut self, value: impl Into<Arg>) -> String {
        self.args.push(value.into());
        format!("${}", self.args.len())
    }

    /// Appends `sql` as it is.
    pub fn push(&mut self, sql: &str) {
        self.sql.push_str(sql);
    }

    /// Appends ` AND <left> $n`, `value` bound to `$n` (`left` such as `status =`).
    pub fn and(&mut self, left: &str, value: impl Into<Arg>) {
        let at = self.bind(value);
        self.sql.push_str(&format!(" AND {left} {at}"));
    }

    /// Appends ` AND <column> starts with <prefix>`, case-sensitive on both backends (SQLite's
    /// `LIKE` is not, and would need escaping of `%` and `_`).
    pub fn and_prefix(&mut self, column: &str, prefix: &str) {
        let length = self.bind(prefix);
        let text = self.bind(prefix);
        self.sql.push_str(&format!(
            " AND substr({column}, 1, length({length})) = {text}"
        ));
    }

    /// Appends the keyset condition of a page: the rows after `key` in a list ordered by
    /// `columns`, ascending or `descending` (a row value comparison, which both backends
    /// answer from an index on those columns).
    pub fn and_after(&mut self, columns: &str, descending: bool, key: Vec<Arg>) {
        let at: Vec<String> = key.into_iter().map(|value| self.bind(value)).collect();
        let op = if descending { "<" } else { ">" };
        self.sql
            .push_str(&format!(" AND ({columns}) {op} ({})", at.join(", ")));
    }

    /// `$from, …`: one placeholder per value, for an `IN (…)` list.
    pub fn bind_list(&mut self, values: impl IntoIterator<Item = Arg>) -> String {
        values
            .into_iter()
            .map(|value| self.bind(value))
            .collect::<Vec<_>>()
            .join(", ")
    }

    pub async fn fetch<T: FromEitherRow>(self, db: &Database) -> Result<Vec<T>, sqlx::Error> {
        fetch_all(db, &self.sql, &self.args).await
    }

    /// The first row, if any.
    pub async fn fetch_optional<T: FromEitherRow>(
        self,
        db: &Database,
    ) -> Result<Option<T>, sqlx::Error> {
        Ok(self.fetch(db).await?.into_iter().next())
    }
}
