//! Logging: `tracing` to stderr, human-readable or JSON, filtered by `RUST_LOG` (default: info
//! for Dinghuo's crates, warnings for the rest).
//!
//! Every field value of a log line is cut to [`MAX_FIELD_CHARS`] characters (issue 16, item 7).
//! sqlx's slow-statement warning carries the whole SQL: a rebuild's batched insert on SQLite
//! has about 32,000 placeholders, over 200 KB on one line. The cut keeps the start of the
//! statement, which names it, and says how much was left out.

use std::fmt::Write as _;

use tracing::{Event, Subscriber};
use tracing_subscriber::field::MakeExt;
use tracing_subscriber::fmt::format::{self, debug_fn, FormatEvent, FormatFields, Json, Writer};
use tracing_subscriber::fmt::{FmtContext, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// The most characters of one field value a log line shows.
pub const MAX_FIELD_CHARS: usize = 400;

pub fn init(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        EnvFilter::new(
            "warn,dinghuo=info,dinghuo_api=info,dinghuo_commands=warn,dinghuo_projections=info",
        )
    });
    install(format, filter, std::io::stderr);
}

/// Sets the global subscriber: `format` (`json` or text) lines to `writer`, fields cut.
fn install<W>(format: &str, filter: EnvFilter, writer: W)
where
    W: for<'writer> MakeWriter<'writer> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    if format == "json" {
        builder
            .json()
            .event_format(CutJson(format::format().json()))
            .init();
    } else {
        builder.fmt_fields(cut_fields()).init();
    }
}

/// The text format's fields, as tracing-subscriber writes them (the message bare, then
/// `name=value`), each value cut.
pub fn cut_fields() -> impl for<'writer> FormatFields<'writer> + Send + Sync + 'static {
    debug_fn(
        |writer: &mut Writer<'_>, field: &tracing::field::Field, value: &dyn std::fmt::Debug| {
            let text = format!("{value:?}");
            let text = cut(&text, MAX_FIELD_CHARS);
            if field.name() == "message" {
                write!(writer, "{text}")
            } else {
                write!(writer, "{field}={text}")
            }
        },
    )
    .delimited(" ")
}

/// The JSON format, with every string value longer than the cut cut.
pub struct CutJson(pub format::Format<Json>);

impl<S, N> FormatEvent<S, N> for CutJson
where
    S: Subscriber + for<'lookup> LookupSpan<'lookup>,
    N: for<'writer> FormatFields<'writer> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> std::fmt::Result {
        let mut line = String::new();
        self.0.format_event(ctx, Writer::new(&mut line), event)?;
        if line.len() <= MAX_FIELD_CHARS {
            return writer.write_str(&line);
        }
        match serde_json::from_str::<serde_json::Value>(&line) {
            Ok(mut json) => {
                cut_strings(&mut json);
                writeln!(writer, "{json}")
            }
            Err(_) => writer.write_str(&line),
        }
    }
}

fn cut_strings(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::String(text) => {
            if let std::borrow::Cow::Owned(cut) = cut(text, MAX_FIELD_CHARS) {
                *text = cut;
            }
        }
        serde_json::Value::Array(values) => values.iter_mut().for_each(cut_strings),
        serde_json::Value::Object(map) => map.values_mut().for_each(cut_strings),
        _ => {}
    }
}

/// `text` if it has at most `max` characters; else its first `max` characters and how many
/// were left out.
pub fn cut(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => {
            let left_out = text[end..].chars().count();
            let mut cut = String::with_capacity(end + 40);
            cut.push_str(&text[..end]);
            let _ = write!(cut, "… ({left_out} more characters)");
            std::borrow::Cow::Owned(cut)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[test]
    fn a_short_text_is_kept_and_a_long_one_cut_on_a_character() {
        assert_eq!(cut("SELECT 1", 400), "SELECT 1");
        assert_eq!(cut("订货订货", 4), "订货订货");
        assert_eq!(cut("订货订货", 2), "订货… (2 more characters)");
        let long = format!("INSERT INTO t VALUES {}", "(?, ?), ".repeat(10_000));
        let shown = cut(&long, MAX_FIELD_CHARS);
        assert!(shown.starts_with("INSERT INTO t VALUES (?, ?), "));
        assert!(shown.chars().count() < MAX_FIELD_CHARS + 40, "{shown}");
        assert!(shown.ends_with(&format!(
            "({} more characters)",
            long.len() - MAX_FIELD_CHARS
        )));
    }

    #[derive(Clone, Default)]
    struct Lines(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Lines {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if let Ok(mut lines) = self.0.lock() {
                lines.extend_from_slice(buf);
            }
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// What one slow-statement warning of 1.6 MB of SQL becomes, in `format`.
    fn logged(json: bool) -> String {
        let lines = Lines::default();
        let writer = {
            let lines = lines.clone();
            move || lines.clone()
        };
        let statement = format!(
            "INSERT INTO orders__next VALUES {}",
            "(?, ?, ?, ?), ".repeat(120_000)
        );
        let log = || {
            tracing::warn!(
                target: "sqlx::query",
                summary = "INSERT INTO orders__next VALUES …",
                db.statement = statement.as_str(),
                rows_affected = 8000,
                "slow statement: execution time exceeded alert threshold"
            )
        };
        if json {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(writer)
                .json()
                .event_format(CutJson(format::format().json()))
                .finish();
            tracing::subscriber::with_default(subscriber, log);
        } else {
            let subscriber = tracing_subscriber::fmt()
                .with_writer(writer)
                .with_ansi(false)
                .fmt_fields(cut_fields())
                .finish();
            tracing::subscriber::with_default(subscriber, log);
        }
        let bytes = lines
            .0
            .lock()
            .map(|bytes| bytes.clone())
            .unwrap_or_default();
        String::from_utf8(bytes).unwrap_or_default()
    }

    #[test]
    fn a_slow_statement_warning_is_one_short_line_in_either_format() {
        for json in [false, true] {
            let text = logged(json);
            assert_eq!(text.lines().count(), 1, "{text}");
            assert!(text.len() < 1_000, "{} characters: {text}", text.len());
            assert!(text.contains("slow statement"), "{text}");
            assert!(
                text.contains("INSERT INTO orders__next VALUES (?, ?, ?, ?)"),
                "{text}"
            );
            assert!(text.contains("more characters)"), "{text}");
            assert!(text.contains("rows_affected"), "{text}");
            if json {
                let parsed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
                assert_eq!(parsed["level"], "WARN", "{parsed}");
            }
        }
    }
}
