//! The read side's bulk statements (`sql::Rows`): many rows in one statement, on both backends,
//! including more rows than SQLite takes parameters in one statement.

use chrono::{TimeZone, Utc};
use dinghuo_store::sql::{Arg, Rows, Tx};
use dinghuo_tests::on_both_backends;

const COLUMNS: &[&str] = &["id", "name", "amount", "flag", "at"];

fn rows(count: i64) -> Rows {
    let mut rows = Rows::new(COLUMNS);
    for i in 0..count {
        rows.push(vec![
            format!("row-{i:05}").into(),
            (i % 3 != 0).then(|| format!("名字 {i}")).into(),
            Arg::from(i),
            (i % 2 == 0).into(),
            Utc.timestamp_opt(1_764_000_000 + i, 0).single().into(),
        ]);
    }
    rows
}

on_both_backends! {
    async fn many_rows_are_written_read_and_updated_by_one_call_each(test) {
        let time = if matches!(test.db, dinghuo_store::Database::Postgres(_)) {
            "timestamptz"
        } else {
            "text"
        };
        let mut tx = Tx::begin(&test.db).await.expect("begin");
        tx.execute(
            &format!(
                "CREATE TABLE bulk (id text PRIMARY KEY, name text, amount bigint NOT NULL,
                                    flag boolean NOT NULL, at {time} NOT NULL)"
            ),
            &[],
        )
        .await
        .expect("create");
        // 10,000 rows of 5 values: 50,000 parameters, above SQLite's 32,766 per statement.
        let inserted = tx
            .execute_rows(rows(10_000), "INSERT INTO bulk SELECT id, name, amount, flag, at FROM v")
            .await
            .expect("insert");
        assert_eq!(inserted, 10_000);
        let named = tx
            .fetch_int("SELECT COUNT(name) FROM bulk", &[])
            .await
            .expect("count");
        assert_eq!(named, Some(6_666), "NULLs stay NULL");
        let total = tx
            .fetch_int("SELECT CAST(SUM(amount) AS bigint) FROM bulk WHERE flag", &[])
            .await
            .expect("sum");
        assert_eq!(total, Some((0..10_000).filter(|i| i % 2 == 0).sum()));

        let mut updates = Rows::new(&["id", "amount"]);
        for i in (0..10_000).step_by(2) {
            updates.push(vec![format!("row-{i:05}").into(), Arg::from(-1)]);
        }
        let updated = tx
            .execute_rows(updates, "UPDATE bulk SET amount = v.amount FROM v WHERE bulk.id = v.id")
            .await
            .expect("update");
        assert_eq!(updated, 5_000);
        assert_eq!(
            tx.fetch_int("SELECT CAST(SUM(amount) AS bigint) FROM bulk", &[]).await.expect("sum"),
            Some(-5_000 + (0..10_000).filter(|i| i % 2 == 1).sum::<i64>())
        );
        // No rows: nothing runs (an empty `VALUES` list would not even parse on SQLite).
        assert_eq!(
            tx.execute_rows(Rows::new(COLUMNS), "DELETE FROM bulk").await.expect("no rows"),
            0
        );
    }

    async fn a_column_given_two_types_is_an_error_and_writes_nothing(test) {
        let mut tx = Tx::begin(&test.db).await.expect("begin");
        tx.execute("CREATE TABLE mixed (a text)", &[]).await.expect("create");
        let mut rows = Rows::new(&["a"]);
        rows.push(vec!["text".into()]);
        rows.push(vec![Arg::from(7)]);
        let error = tx
            .execute_rows(rows, "INSERT INTO mixed SELECT a FROM v")
            .await
            .expect_err("mixed types are refused");
        assert!(error.to_string().contains("mixes types"), "{error}");
        assert_eq!(
            tx.fetch_int("SELECT COUNT(*) FROM mixed", &[]).await.expect("count"),
            Some(0)
        );
    }
}
