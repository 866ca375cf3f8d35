//! `dinghuo audit export` end to end on both backends: after `dinghuo demo` (which leaves a
//! second tenant beside the demo tenant), each tenant's export holds exactly its events, in log
//! order, every line a complete JSON event; `--from`/`--to` cut by `recorded_at`.

use std::path::Path;
use std::process::{Command, Output};

use chrono::{DateTime, FixedOffset, SecondsFormat, Utc};
use dinghuo_api::audit::export::write_ndjson;
use dinghuo_domain::TenantId;
use dinghuo_store::audit::read_page;
use dinghuo_store::audit::EventFilter;
use dinghuo_store::Database;
use dinghuo_tests::{on_both_backends, Backend, TestDb};
use serde_json::Value;
use uuid::Uuid;

/// Runs the built `dinghuo --database-url <url> <args>`.
async fn dinghuo(url: &str, args: &[&str]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dinghuo"));
    command
        .env_remove("DATABASE_URL")
        .args(["--database-url", url])
        .args(args);
    tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the dinghuo task")
        .expect("run dinghuo")
}

fn succeeded(output: &Output) -> String {
    assert!(
        output.status.success(),
        "dinghuo failed ({}):\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Each tenant with events, and how many, most events first.
async fn tenants(db: &Database) -> Vec<(String, i64)> {
    let sql = "SELECT CAST(tenant_id AS TEXT), COUNT(*) FROM events \
               WHERE tenant_id IS NOT NULL GROUP BY tenant_id ORDER BY COUNT(*) DESC";
    match db {
        Database::Postgres(pool) => sqlx::query_as(sql).fetch_all(pool).await,
        Database::Sqlite(pool) => sqlx::query_as(sql).fetch_all(pool).await,
    }
    .expect("count events per tenant")
}

/// The export's lines, each parsed, checked for the columns every line must have.
fn parse(ndjson: &str, backend: Backend) -> Vec<Value> {
    ndjson
        .lines()
        .map(|line| {
            let event: Value = serde_json::from_str(line)
                .unwrap_or_else(|error| panic!("not JSON ({error}): {line}"));
            for column in [
                "position",
                "aggregate_type",
                "aggregate_id",
                "sequence",
                "event_type",
                "event_version",
                "recorded_at",
                "tenant_id",
            ] {
                assert!(!event[column].is_null(), "no {column}: {line}");
            }
            // Decoded, not a string of JSON: serde's `{"Variant": {...}}`, or `"Variant"` for
            // an event without fields.
            let payload = &event["payload"];
            let event_type = event["event_type"].as_str().expect("event_type is text");
            assert!(
                payload.get(event_type).is_some() || payload.as_str() == Some(event_type),
                "payload is not the decoded event: {line}"
            );
            assert!(
                event["metadata"].is_object(),
                "metadata is not JSON: {line}"
            );
            assert_eq!(
                event["tx_id"].is_u64(),
                backend == Backend::Postgres,
                "tx_id on Postgres only: {line}"
            );
            event
        })
        .collect()
}

fn position(event: &Value) -> i64 {
    event["position"].as_i64().expect("a numeric position")
}

fn positions(events: &[Value]) -> Vec<i64> {
    events.iter().map(position).collect()
}

/// The positions of the events `keep` keeps, in export order.
fn kept(all: &[Value], keep: impl Fn(&Value) -> bool) -> Vec<i64> {
    all.iter()
        .filter(|event| keep(event))
        .map(position)
        .collect()
}

fn recorded_at(event: &Value) -> DateTime<Utc> {
    let text = event["recorded_at"].as_str().expect("recorded_at is text");
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|error| panic!("recorded_at {text:?} is not RFC 3339: {error}"))
        .to_utc()
}

/// A bound as a user would type it, in the export's own format.
fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// The positions `dinghuo audit export --tenant <tenant> <extra…>` writes.
async fn exported(test: &TestDb, tenant: &str, extra: &[&str]) -> Vec<i64> {
    let mut args = vec!["audit", "export", "--tenant", tenant];
    args.extend_from_slice(extra);
    positions(&parse(
        &succeeded(&dinghuo(&test.url, &args).await),
        test.backend,
    ))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .expect("list the output directory")
        .filter_map(|entry| entry.ok())
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

on_both_backends! {
    async fn the_export_holds_exactly_one_tenants_events_in_log_order(test) {
        succeeded(&dinghuo(&test.url, &["demo", "--orders", "30"]).await);
        let tenants = tenants(&test.db).await;
        assert!(tenants.len() >= 2, "the demo should leave two tenants: {tenants:?}");
        let dir = tempfile::tempdir().expect("a temporary directory");

        let mut exported_positions = Vec::new();
        for (tenant, count) in &tenants {
            let file = dir.path().join(format!("{tenant}.ndjson"));
            let file_arg = file.to_string_lossy().into_owned();
            let output = dinghuo(
                &test.url,
                &["audit", "export", "--tenant", tenant, "--output", &file_arg],
            )
            .await;
            assert!(succeeded(&output).is_empty(), "a file export writes nothing on stdout");
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains(&format!("exported {count} events")), "{stderr}");

            let text = std::fs::read_to_string(&file).expect("the export file");
            let events = parse(&text, test.backend);
            assert_eq!(events.len() as i64, *count, "one line per event of {tenant}");
            let positions = positions(&events);
            assert!(
                positions.windows(2).all(|pair| pair[0] < pair[1]),
                "lines are in log order"
            );
            for event in &events {
                assert_eq!(event["tenant_id"], tenant.as_str(), "another tenant's event");
                assert_eq!(event["metadata"]["tenant_id"], tenant.as_str());
            }
            exported_positions.extend(positions);
        }
        let total = exported_positions.len();
        exported_positions.sort_unstable();
        exported_positions.dedup();
        assert_eq!(exported_positions.len(), total, "an event in two tenants' exports");
        // Only the finished exports, no temporary files.
        let files = files_in(dir.path());
        assert_eq!(files.len(), tenants.len(), "{files:?}");

        // To stdout, the same lines as the file.
        let (tenant, _) = &tenants[0];
        let stdout = dinghuo(&test.url, &["audit", "export", "--tenant", tenant]).await;
        let stdout = succeeded(&stdout);
        let from_file = std::fs::read_to_string(dir.path().join(format!("{tenant}.ndjson")))
            .expect("the export file");
        assert_eq!(stdout, from_file);
    }

    async fn from_and_to_cut_the_export_by_recorded_time(test) {
        succeeded(&dinghuo(&test.url, &["demo", "--orders", "30"]).await);
        let (tenant, _) = tenants(&test.db).await.into_iter().next().expect("a tenant");
        let all = parse(
            &succeeded(&dinghuo(&test.url, &["audit", "export", "--tenant", &tenant]).await),
            test.backend,
        );
        // Bounds taken from stored times: an event recorded exactly at --from is in, one
        // recorded exactly at --to is out.
        let mut times: Vec<_> = all.iter().map(recorded_at).collect();
        times.sort();
        times.dedup();
        assert!(times.len() >= 4, "the demo should record events at several moments");
        let from = times[times.len() / 4];
        let to = times[3 * times.len() / 4];
        let expect = |keep: &dyn Fn(DateTime<Utc>) -> bool| {
            kept(&all, |event| keep(recorded_at(event)))
        };
        let (from_arg, to_arg) = (rfc3339(from), rfc3339(to));
        let between = exported(&test, &tenant, &["--from", &from_arg, "--to", &to_arg]).await;
        assert_eq!(between, expect(&|at| from <= at && at < to));
        assert!(!between.is_empty());

        let since = exported(&test, &tenant, &["--from", &from_arg]).await;
        assert_eq!(since, expect(&|at| from <= at));

        let until = exported(&test, &tenant, &["--to", &to_arg]).await;
        assert_eq!(until, expect(&|at| at < to));

        // The same instant in another zone is the same bound.
        let in_beijing = from
            .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("UTC+8"))
            .to_rfc3339_opts(SecondsFormat::AutoSi, true);
        assert_eq!(exported(&test, &tenant, &["--from", &in_beijing]).await, since);

        let backwards = [
            "audit", "export", "--tenant", &tenant, "--from", &to_arg, "--to", &from_arg,
        ];
        let backwards = dinghuo(&test.url, &backwards).await;
        assert!(!backwards.status.success());
        let stderr = String::from_utf8_lossy(&backwards.stderr);
        assert!(stderr.contains("must be before"), "{stderr}");
    }
}

on_both_backends! {
    async fn small_pages_and_each_filter_read_what_the_full_export_holds(test) {
        succeeded(&dinghuo(&test.url, &["demo", "--orders", "30"]).await);
        let (tenant, count) = tenants(&test.db).await.into_iter().next().expect("a tenant");
        let cli = succeeded(&dinghuo(&test.url, &["audit", "export", "--tenant", &tenant]).await);
        let all = parse(&cli, test.backend);
        let tenant_id = TenantId::parse(&tenant, "tenant").expect("a tenant id");

        // Pages of 7 (not a divisor of the count): the same bytes as pages of 1000.
        let filter = EventFilter {
            limit: 7,
            ..EventFilter::tenant(tenant_id)
        };
        let mut paged = Vec::new();
        let mut reports = Vec::new();
        let written = write_ndjson(&test.db, &filter, true, &mut paged, |p| reports.push(p))
            .await
            .expect("export in small pages");
        assert_eq!(written as i64, count);
        assert_eq!(String::from_utf8(paged).expect("UTF-8"), cli);
        assert!(reports.len() as i64 > count / 7, "progress after each page: {}", reports.len());
        assert!(reports.iter().all(|p| p.total == Some(written)));

        // One aggregate, some event types, one actor: what the GraphQL audit query will ask.
        let order = all
            .iter()
            .find(|event| event["event_type"] == "OrderSubmitted")
            .expect("the demo submits orders");
        let order_id = order["aggregate_id"].as_str().expect("an id").to_owned();
        let actor = order["metadata"]["actor_id"].as_str().expect("an actor").to_owned();
        let types = vec!["OrderSubmitted".to_owned(), "OrderConfirmed".to_owned()];
        let read_all = |filter: EventFilter| {
            let db = test.db.clone();
            async move {
                let mut filter = EventFilter { limit: 5, ..filter };
                let mut positions = Vec::new();
                loop {
                    let page = read_page(&db, &filter).await.expect("a page");
                    let Some(last) = page.last() else { break };
                    filter.after_position = Some(last.position);
                    positions.extend(page.iter().map(|event| event.position));
                }
                positions
            }
        };
        assert_eq!(
            read_all(EventFilter {
                aggregate_id: Some(order_id.clone()),
                ..EventFilter::tenant(tenant_id)
            })
            .await,
            kept(&all, |event| event["aggregate_id"] == order_id.as_str())
        );
        assert_eq!(
            read_all(EventFilter {
                event_types: types.clone(),
                ..EventFilter::tenant(tenant_id)
            })
            .await,
            kept(&all, |event| types.iter().any(|t| event["event_type"] == t.as_str()))
        );
        let by_actor = read_all(EventFilter {
            actor_id: Some(Uuid::parse_str(&actor).expect("a UUID")),
            ..EventFilter::tenant(tenant_id)
        })
        .await;
        assert!(!by_actor.is_empty());
        let of_actor = kept(&all, |event| event["metadata"]["actor_id"] == actor.as_str());
        assert_eq!(by_actor, of_actor);
    }
}
