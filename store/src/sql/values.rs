//! The values bound to statements: one argument ([`Arg`]), or a column of bulk rows
//! ([`Column`], which `Rows` keeps and `deferred` binds as an array).

use chrono::{DateTime, SecondsFormat, Utc};

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

/// One column of [`Rows`].
#[derive(Debug, Clone)]
pub(super) enum Column {
    Text(Vec<Option<String>>),
    Int(Vec<Option<i64>>),
    Bool(Vec<bool>),
    Time(Vec<Option<DateTime<Utc>>>),
}

impl Column {
    pub(super) fn of(first: &Arg) -> Self {
        match first {
            Arg::Text(_) => Self::Text(Vec::new()),
            Arg::Int(_) => Self::Int(Vec::new()),
            Arg::Bool(_) => Self::Bool(Vec::new()),
            Arg::Time(_) => Self::Time(Vec::new()),
        }
    }

    pub(super) fn push(&mut self, value: Arg) -> Result<(), String> {
        match (self, value) {
            (Self::Text(values), Arg::Text(v)) => values.push(v),
            (Self::Int(values), Arg::Int(v)) => values.push(v),
            (Self::Bool(values), Arg::Bool(v)) => values.push(v),
            (Self::Time(values), Arg::Time(v)) => values.push(v),
            (_, other) => return Err(format!("{other:?}")),
        }
        Ok(())
    }

    pub(super) fn get(&self, row: usize) -> Arg {
        match self {
            Self::Text(values) => Arg::Text(values.get(row).cloned().flatten()),
            Self::Int(values) => Arg::Int(values.get(row).copied().flatten()),
            Self::Bool(values) => Arg::Bool(values.get(row).copied().unwrap_or_default()),
            Self::Time(values) => Arg::Time(values.get(row).copied().flatten()),
        }
    }

    /// Appends the value of `row` in the text format of `COPY` (`\\N` for null).
    pub(super) fn write_copy_text(&self, row: usize, out: &mut String) {
        use std::fmt::Write;
        const NULL: &str = "\\N";
        match self {
            Self::Text(values) => match values.get(row).and_then(Option::as_deref) {
                Some(text) => push_copy_escaped(text, out),
                None => out.push_str(NULL),
            },
            Self::Int(values) => match values.get(row).copied().flatten() {
                Some(value) => {
                    // Writing to a `String` cannot fail.
                    let _ = write!(out, "{value}");
                }
                None => out.push_str(NULL),
            },
            Self::Bool(values) => match values.get(row) {
                Some(true) => out.push('t'),
                Some(false) => out.push('f'),
                None => out.push_str(NULL),
            },
            // Microseconds, as Postgres stores them and as a bound value is sent.
            Self::Time(values) => match values.get(row).copied().flatten() {
                Some(time) => out.push_str(&time.to_rfc3339_opts(SecondsFormat::Micros, true)),
                None => out.push_str(NULL),
            },
        }
    }

    pub(super) fn array_type(&self) -> &'static str {
        match self {
            Self::Text(_) => "text[]",
            Self::Int(_) => "int8[]",
            Self::Bool(_) => "boolean[]",
            Self::Time(_) => "timestamptz[]",
        }
    }
}

/// Appends `text` escaped for the text format of `COPY`: backslash, tab, newline and carriage
/// return would otherwise end a value or a row.
fn push_copy_escaped(text: &str, out: &mut String) {
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escaped = match byte {
            b'\\' => "\\\\",
            b'\t' => "\\t",
            b'\n' => "\\n",
            b'\r' => "\\r",
            _ => continue,
        };
        // An ASCII byte is a whole character: `i` is on a character boundary.
        out.push_str(&text[start..i]);
        out.push_str(escaped);
        start = i + 1;
    }
    out.push_str(&text[start..]);
}
