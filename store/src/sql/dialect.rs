//! The one place where the SQL of the two backends differs in more than its values: column
//! types, table options, and what each backend can do at once.

use crate::database::Database;

/// Which dialect to write SQL for: the thin layer where the two backends' SQL differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Postgres,
    Sqlite,
}

impl Dialect {
    pub fn of(db: &Database) -> Self {
        match db {
            Database::Postgres(_) => Self::Postgres,
            Database::Sqlite(_) => Self::Sqlite,
        }
    }

    /// Whether the database takes one writer at a time (SQLite's one write lock): a writer that
    /// holds it holds up every other, so bulk work goes in turns and short transactions.
    pub fn single_writer(self) -> bool {
        self == Self::Sqlite
    }

    /// A condition that `column` is one of the values `subquery` selects. On Postgres the
    /// values are an array computed once (`= ANY (ARRAY(…))`): planned in about a third of the
    /// time of `IN (SELECT …)`, which Postgres turns into a join and plans again at every
    /// execution, and still usable as an index condition. SQLite has no arrays.
    pub fn in_subquery(self, column: &str, subquery: &str) -> String {
        match self {
            Self::Postgres => format!("{column} = ANY (ARRAY({subquery}))"),
            Self::Sqlite => format!("{column} IN ({subquery})"),
        }
    }

    /// The column type of a point in time (see [`super::sqlite_time`] for the SQLite text form).
    pub fn time_type(self) -> &'static str {
        match self {
            Self::Postgres => "timestamptz",
            Self::Sqlite => "text",
        }
    }

    /// Table options of a table whose rows are updated in place after they are written: on
    /// Postgres, room left in each page so that an update can stay on its page (a HOT update,
    /// which touches no index). SQLite updates in place anyway.
    pub fn updated_in_place(self) -> &'static str {
        match self {
            Self::Postgres => " WITH (fillfactor = 50)",
            Self::Sqlite => "",
        }
    }

    /// The column type of text compared byte by byte: identifiers, codes, days. Postgres
    /// otherwise compares text under the database's locale, which means nothing for such
    /// values and costs in every index, join and sort over them (measured: a rebuild's
    /// `GROUP BY` over a million events' order lines sorted about 3 times faster). SQLite
    /// compares bytes anyway. Equality is the same either way.
    pub fn key_text_type(self) -> &'static str {
        match self {
            Self::Postgres => "text COLLATE \"C\"",
            Self::Sqlite => "text",
        }
    }

    /// The locking clause of a `SELECT` that claims rows for work: on Postgres, rows another
    /// transaction is claiming are skipped instead of waited for. SQLite has one writer, so
    /// nothing to skip.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Self::Postgres => "FOR UPDATE SKIP LOCKED",
            Self::Sqlite => "",
        }
    }

    /// The column type of a boolean (`0`/`1` on SQLite).
    pub fn bool_type(self) -> &'static str {
        match self {
            Self::Postgres => "boolean",
            Self::Sqlite => "integer",
        }
    }
}
