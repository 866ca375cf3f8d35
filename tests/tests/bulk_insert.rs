//! `Tx::insert_rows` (Postgres `COPY … FROM STDIN` for many rows, `INSERT … SELECT` for a few and
//! on SQLite) stores exactly what the bound bulk statement (`Tx::execute_rows`) stores, including
//! text that the `COPY` text format must escape (tabs, newlines, backslashes, a literal `\N`)
//! and nulls.

use chrono::{TimeZone, Utc};
use dinghuo_store::sql::{Arg, Rows, Tx, COPY_FROM_ROWS};
use dinghuo_store::Database;
use dinghuo_tests::on_both_backends;

const COLUMNS: &[&str] = &["id", "name", "amount", "flag", "at"];

const AWKWARD: &[&str] = &[
    "",
    "plain",
    "tab\there",
    "two\nlines",
    "carriage\r\nreturn",
    "back\\slash",
    "\\N",
    "\\",
    "名字\t和\\反斜杠",
];

/// The awkward texts, then plain ones up to `count` rows, then a row of nulls.
fn rows(count: usize) -> Rows {
    let mut rows = Rows::new(COLUMNS);
    let texts = AWKWARD.iter().copied().chain(std::iter::repeat("filler"));
    for (i, text) in texts.take(count.max(AWKWARD.len())).enumerate() {
        let i = i as i64;
        rows.push(vec![
            format!("row-{i:04}").into(),
            Some(text).into(),
            Arg::from((i % 2 == 0).then_some(-i)),
            (i % 3 == 0).into(),
            Utc.timestamp_opt(1_764_000_000 + i, 123_456_000 * (i as u32 % 5))
                .single()
                .into(),
        ]);
    }
    rows.push(vec![
        "row-null".into(),
        Arg::Text(None),
        Arg::Int(None),
        false.into(),
        Arg::Time(None),
    ]);
    rows
}

/// Every row of `table`, the time rendered by the database, in `id` order.
async fn contents(
    tx: &mut Tx,
    table: &str,
) -> Vec<(String, Option<String>, Option<i64>, bool, Option<String>)> {
    let at = if tx.is_postgres() { "at::text" } else { "at" };
    let sql = format!("SELECT id, name, amount, flag, {at} FROM {table} ORDER BY id");
    tx.fetch_all(&sql, &[]).await.expect("read the table")
}

on_both_backends! {
    async fn inserted_rows_equal_those_of_the_bound_bulk_statement(test) {
        let time = if matches!(test.db, Database::Postgres(_)) { "timestamptz" } else { "text" };
        let mut tx = Tx::begin(&test.db).await.expect("begin");
        for table in ["copied", "bound"] {
            tx.execute(
                &format!(
                    "CREATE TABLE {table} (id text PRIMARY KEY, name text, amount bigint,
                                           flag boolean NOT NULL, at {time})"
                ),
                &[],
            )
            .await
            .expect("create");
        }
        // A few rows go through `INSERT`, many through `COPY` on Postgres.
        for count in [AWKWARD.len(), COPY_FROM_ROWS + 1] {
            tx.execute("DELETE FROM copied", &[]).await.expect("empty");
            tx.execute("DELETE FROM bound", &[]).await.expect("empty");
            let inserted = tx.insert_rows(rows(count), "copied").await.expect("insert");
            assert_eq!(inserted, count as u64 + 1);
            tx.execute_rows(
                rows(count),
                "INSERT INTO bound SELECT id, name, amount, flag, at FROM v",
            )
            .await
            .expect("bound insert");
            assert_eq!(tx.insert_rows(Rows::new(COLUMNS), "copied").await.expect("no rows"), 0);

            let copied = contents(&mut tx, "copied").await;
            assert_eq!(copied, contents(&mut tx, "bound").await, "{count} rows");
            let names: Vec<Option<String>> =
                copied.iter().take(AWKWARD.len()).map(|row| row.1.clone()).collect();
            let expected: Vec<Option<String>> =
                AWKWARD.iter().map(|text| Some((*text).to_owned())).collect();
            assert_eq!(names, expected, "text comes back as given");
            assert_eq!(copied.last().map(|row| row.1.clone()), Some(None), "null comes back");
        }
    }
}
