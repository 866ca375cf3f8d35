//! The dealer-pricing read models on both backends (issue 18): a log written as the command
//! side writes it (including an `OrderSubmitted` stored at 1.0), folded by the projections, read
//! through `read::*` under each kind of scope, and rebuilt into exactly the same rows.
//!
//! Postgres runs at `DINGHUO_TEST_POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/
//! postgres`); when it is unreachable, the Postgres test says so loudly and passes, unless
//! `CI=true`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use dinghuo_domain::Side;
use dinghuo_projections::models::{
    OrdersProjection, PartnersProjection, PriceListsProjection, ProductsProjection,
    TenantsProjection,
};
use dinghuo_projections::read::orders;
use dinghuo_projections::read::partners;
use dinghuo_projections::read::price_lists::{
    self, PriceEntryAt, PriceListAt, PriceListFilter, PriceListRow,
};
use dinghuo_projections::read::products::{self, ProductAt, ProductFilter, ProductRow};
use dinghuo_projections::read::{PageRequest, Scope};
use dinghuo_projections::{catch_up, models, prepare, rebuild, Projection, RunnerSettings};
use dinghuo_store::feed::{read_feed, Checkpoint};
use dinghuo_store::{Database, DatabaseSettings};
use sqlx::Executor;

const TENANT: &str = "01900000-0000-7000-8000-0000000000a1";
const OTHER_TENANT: &str = "01900000-0000-7000-8000-0000000000a2";
/// Restricted to 调味品, level A.
const PARTNER_A: &str = "01900000-0000-7000-8000-0000000000b1";
/// Unrestricted.
const PARTNER_B: &str = "01900000-0000-7000-8000-0000000000b2";
/// Restricted, then cleared.
const PARTNER_C: &str = "01900000-0000-7000-8000-0000000000b3";
/// Their side of A.
const CONTACT_A: &str = "01900000-0000-7000-8000-0000000000c1";
/// Their side of B.
const CONTACT_B: &str = "01900000-0000-7000-8000-0000000000c2";
/// An employee linked to A on our side.
const EMPLOYEE: &str = "01900000-0000-7000-8000-0000000000c3";
/// A customer's contact linked to no partner.
const UNLINKED: &str = "01900000-0000-7000-8000-0000000000c4";
/// 调味品, quantity rules.
const SAUCE: &str = "01900000-0000-7000-8000-0000000000d1";
/// Drinks.
const TEA: &str = "01900000-0000-7000-8000-0000000000d2";
/// Uncategorised.
const CUPS: &str = "01900000-0000-7000-8000-0000000000d3";
/// The other tenant's.
const FOREIGN: &str = "01900000-0000-7000-8000-0000000000d4";
/// Priority 10, every partner, validity set.
const PROMO: &str = "01900000-0000-7000-8000-0000000000e1";
/// Priority 20, level A.
const LEVEL_A: &str = "01900000-0000-7000-8000-0000000000e2";
/// Priority 5, partner A, archived.
const CONTRACT: &str = "01900000-0000-7000-8000-0000000000e3";
/// The other tenant's.
const FOREIGN_LIST: &str = "01900000-0000-7000-8000-0000000000e4";
const ADMIN: &str = "01900000-0000-7000-8000-0000000000f1";
const CATALOG_ORDER: &str = "01900000-0000-7000-8000-000000000101";
const ADMIN_ORDER: &str = "01900000-0000-7000-8000-000000000102";
const EMPLOYEE_ORDER: &str = "01900000-0000-7000-8000-000000000103";

/// A throwaway, migrated database.
struct TestDb {
    db: Database,
    cleanup: Cleanup,
}

enum Cleanup {
    Directory(PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!(
            "dinghuo-projections-test-{}",
            uuid::Uuid::now_v7().simple()
        ));
        let url = format!("sqlite://{}", dir.join("dinghuo.db").display());
        Self::connect(url, Cleanup::Directory(dir)).await
    }

    async fn postgres() -> Option<Self> {
        let admin_url = std::env::var("DINGHUO_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
        let admin = match sqlx::postgres::PgPoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(5))
            .connect(&admin_url)
            .await
        {
            Ok(pool) => pool,
            Err(error) if std::env::var("CI").as_deref() != Ok("true") => {
                eprintln!("\n*** SKIPPED: Postgres is unreachable at {admin_url}: {error} ***\n");
                return None;
            }
            Err(error) => panic!("Postgres is unreachable under CI=true: {error}"),
        };
        let name = format!("dinghuo_projections_{}", uuid::Uuid::now_v7().simple());
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("create the test database");
        admin.close().await;
        let (server, _) = admin_url.rsplit_once('/').expect("a database in the URL");
        let url = format!("{server}/{name}");
        Some(Self::connect(url, Cleanup::Postgres { admin_url, name }).await)
    }

    async fn connect(url: String, cleanup: Cleanup) -> Self {
        let settings = DatabaseSettings {
            url: Some(url),
            max_connections: 4,
            ..DatabaseSettings::default()
        };
        let db = Database::connect(&settings).await.expect("connect");
        db.migrate().await.expect("migrate");
        Self { db, cleanup }
    }

    async fn drop_database(self) {
        self.db.close().await;
        match self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                if let Ok(admin) = sqlx::postgres::PgPoolOptions::new()
                    .max_connections(1)
                    .connect(&admin_url)
                    .await
                {
                    let _ = admin
                        .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                        .await;
                    admin.close().await;
                }
            }
        }
    }
}

/// Appends events straight into the log, as the event store writes them.
struct Log<'a> {
    db: &'a Database,
    sequences: HashMap<(String, String), i64>,
}

impl<'a> Log<'a> {
    fn new(db: &'a Database) -> Self {
        Self {
            db,
            sequences: HashMap::new(),
        }
    }

    /// Appends `payload` (at version 1.0) to stream `aggregate_type`/`id` of `tenant`.
    async fn append(&mut self, tenant: &str, aggregate_type: &str, id: &str, payload: &str) {
        self.append_at("1.0", tenant, aggregate_type, id, payload)
            .await;
    }

    async fn append_at(
        &mut self,
        version: &str,
        tenant: &str,
        aggregate_type: &str,
        id: &str,
        payload: &str,
    ) {
        let sequence = self
            .sequences
            .entry((aggregate_type.to_owned(), id.to_owned()))
            .or_insert(0);
        *sequence += 1;
        let value: serde_json::Value = serde_json::from_str(payload).expect("a JSON payload");
        let event_type = match &value {
            serde_json::Value::String(unit) => unit.clone(),
            serde_json::Value::Object(map) => map.keys().next().cloned().expect("a variant"),
            _ => panic!("not an event: {payload}"),
        };
        let metadata = serde_json::json!({
            "tenant_id": tenant,
            "actor_id": ADMIN,
            "actor_role": "admin",
        })
        .to_string();
        let sql = match self.db {
            Database::Postgres(_) => {
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                     event_version, payload, metadata)
                 VALUES ($1, $2, $3, $4, $5, CAST($6 AS json), CAST($7 AS json))"
            }
            Database::Sqlite(_) => {
                "INSERT INTO events (aggregate_type, aggregate_id, sequence, event_type,
                                     event_version, payload, metadata)
                 VALUES ($1, $2, $3, $4, $5, $6, $7)"
            }
        };
        let query = sqlx::query(sql);
        let result = match self.db {
            Database::Postgres(pool) => query
                .bind(aggregate_type)
                .bind(id)
                .bind(*sequence)
                .bind(&event_type)
                .bind(version)
                .bind(payload)
                .bind(&metadata)
                .execute(pool)
                .await
                .map(drop),
            Database::Sqlite(pool) => sqlx::query(sql)
                .bind(aggregate_type)
                .bind(id)
                .bind(*sequence)
                .bind(&event_type)
                .bind(version)
                .bind(payload)
                .bind(&metadata)
                .execute(pool)
                .await
                .map(drop),
        };
        result.unwrap_or_else(|error| panic!("append {event_type}: {error}"));
    }
}

/// The history: two tenants, partners with levels and assortments, categorised products with
/// rules, three price lists (one archived) and one of another tenant, prices set, replaced and
/// removed, and orders priced from the catalog (one stored at 1.0) and from a list, placed by a
/// contact, an admin and an employee.
async fn write_history(db: &Database) {
    let mut log = Log::new(db);
    let t = TENANT;
    log.append(
        t,
        "Tenant",
        t,
        r#"{"TenantRegistered":{"name":"艾克美食品"}}"#,
    )
    .await;
    log.append(
        OTHER_TENANT,
        "Tenant",
        OTHER_TENANT,
        r#"{"TenantRegistered":{"name":"Other"}}"#,
    )
    .await;

    for (id, sku, name, price) in [
        (SAUCE, "AB-1", "Soy sauce 500ml", 1250),
        (TEA, "CD-2", "Green tea", 800),
        (CUPS, "EF-3", "Paper cups", 300),
    ] {
        log.append(
            t,
            "Product",
            id,
            &format!(
                r#"{{"ProductListed":{{"tenant_id":"{t}","sku":"{sku}","name":"{name}","unit":"box","price":{{"amount_minor":{price},"currency":"CNY"}}}}}}"#
            ),
        )
        .await;
    }
    log.append(
        OTHER_TENANT,
        "Product",
        FOREIGN,
        &format!(
            r#"{{"ProductListed":{{"tenant_id":"{OTHER_TENANT}","sku":"AB-1","name":"Foreign sauce","unit":"box","price":{{"amount_minor":100,"currency":"CNY"}}}}}}"#
        ),
    )
    .await;
    log.append(
        t,
        "Product",
        SAUCE,
        r#"{"ProductCategorized":{"category":"调味品"}}"#,
    )
    .await;
    log.append(
        t,
        "Product",
        SAUCE,
        r#"{"ProductQuantityRulesSet":{"rules":{"min":12,"multiple":6,"max":null}}}"#,
    )
    .await;
    log.append(
        t,
        "Product",
        TEA,
        r#"{"ProductCategorized":{"category":"Drinks"}}"#,
    )
    .await;
    // Categorised and taken out again, rules set and lifted: back to nothing.
    log.append(
        t,
        "Product",
        CUPS,
        r#"{"ProductCategorized":{"category":"Drinks"}}"#,
    )
    .await;
    log.append(
        t,
        "Product",
        CUPS,
        r#"{"ProductCategorized":{"category":null}}"#,
    )
    .await;
    log.append(
        t,
        "Product",
        CUPS,
        r#"{"ProductQuantityRulesSet":{"rules":{"min":2,"multiple":null,"max":10}}}"#,
    )
    .await;
    log.append(
        t,
        "Product",
        CUPS,
        r#"{"ProductQuantityRulesSet":{"rules":{"min":null,"multiple":null,"max":null}}}"#,
    )
    .await;

    for (id, name) in [
        (PARTNER_A, "A Dealer"),
        (PARTNER_B, "B Dealer"),
        (PARTNER_C, "C Dealer"),
    ] {
        log.append(
            t,
            "Partner",
            id,
            &format!(
                r#"{{"CustomerRecorded":{{"tenant_id":"{t}","name":"{name}","phone":null,"address":null}}}}"#
            ),
        )
        .await;
        log.append(t, "Partner", id, r#"{"PartnerAdded":{"mode":"TENANT"}}"#)
            .await;
    }
    log.append(
        t,
        "Partner",
        PARTNER_A,
        r#"{"PartnerLevelSet":{"level":"A"}}"#,
    )
    .await;
    log.append(
        t,
        "Partner",
        PARTNER_A,
        r#"{"PartnerAssortmentRestricted":{"categories":["调味品"]}}"#,
    )
    .await;
    log.append(
        t,
        "Partner",
        PARTNER_C,
        r#"{"PartnerLevelSet":{"level":"B"}}"#,
    )
    .await;
    log.append(
        t,
        "Partner",
        PARTNER_C,
        r#"{"PartnerLevelSet":{"level":null}}"#,
    )
    .await;
    log.append(
        t,
        "Partner",
        PARTNER_C,
        r#"{"PartnerAssortmentRestricted":{"categories":["Drinks","调味品"]}}"#,
    )
    .await;
    log.append(t, "Partner", PARTNER_C, r#""PartnerAssortmentCleared""#)
        .await;

    for (contact, partner, side, affiliation) in [
        (
            CONTACT_A,
            Some(PARTNER_A),
            "THEIRS",
            format!(r#"{{"kind":"CUSTOMER","customer_id":"{PARTNER_A}"}}"#),
        ),
        (
            CONTACT_B,
            Some(PARTNER_B),
            "THEIRS",
            format!(r#"{{"kind":"CUSTOMER","customer_id":"{PARTNER_B}"}}"#),
        ),
        (
            EMPLOYEE,
            Some(PARTNER_A),
            "OURS",
            r#"{"kind":"EMPLOYEE"}"#.to_owned(),
        ),
        (
            UNLINKED,
            None,
            "THEIRS",
            format!(r#"{{"kind":"CUSTOMER","customer_id":"{PARTNER_B}"}}"#),
        ),
    ] {
        log.append(
            t,
            "Contact",
            contact,
            &format!(
                r#"{{"ContactRecorded":{{"tenant_id":"{t}","name":"Someone","phone":null,"affiliation":{affiliation}}}}}"#
            ),
        )
        .await;
        if let Some(partner) = partner {
            log.append(
                t,
                "Contact",
                contact,
                &format!(
                    r#"{{"PartnerContactAdded":{{"partner_id":"{partner}","side":"{side}","mode":"TENANT"}}}}"#
                ),
            )
            .await;
        }
    }

    for (id, name, priority) in [
        (PROMO, "春季促销", 10),
        (LEVEL_A, "A 级经销商", 20),
        (CONTRACT, "A 合同价", 5),
    ] {
        log.append(
            t,
            "PriceList",
            id,
            &format!(
                r#"{{"PriceListCreated":{{"tenant_id":"{t}","name":"{name}","priority":{priority}}}}}"#
            ),
        )
        .await;
        // The tenant's index of its lists: the command side's, no read model's.
        log.append(
            t,
            "Tenant",
            t,
            &format!(r#"{{"PriceListIndexed":{{"price_list_id":"{id}"}}}}"#),
        )
        .await;
    }
    log.append(
        OTHER_TENANT,
        "PriceList",
        FOREIGN_LIST,
        &format!(
            r#"{{"PriceListCreated":{{"tenant_id":"{OTHER_TENANT}","name":"Foreign","priority":1000}}}}"#
        ),
    )
    .await;
    log.append(
        t,
        "PriceList",
        PROMO,
        r#"{"PriceListValiditySet":{"from":"2025-03-01T00:00:00Z","to":"2025-06-01T00:00:00Z"}}"#,
    )
    .await;
    log.append(
        t,
        "PriceList",
        PROMO,
        r#"{"PriceListScopeSet":{"scope":{"kind":"ALL"}}}"#,
    )
    .await;
    log.append(
        t,
        "PriceList",
        LEVEL_A,
        r#"{"PriceListScopeSet":{"scope":{"kind":"ALL"}}}"#,
    )
    .await;
    log.append(
        t,
        "PriceList",
        LEVEL_A,
        r#"{"PriceListScopeSet":{"scope":{"kind":"LEVELS","levels":["A","省级代理"]}}}"#,
    )
    .await;
    log.append(
        t,
        "PriceList",
        CONTRACT,
        &format!(r#"{{"PriceListScopeSet":{{"scope":{{"kind":"PARTNERS","partners":["{PARTNER_A}"]}}}}}}"#),
    )
    .await;

    let price = |list: &str, product: &str, min: i64, minor: i64| {
        format!(
            r#"{{"PriceSet":{{"tenant_id":"{t}","price_list_id":"{list}","product_id":"{product}","min_quantity":{min},"unit_price":{{"amount_minor":{minor},"currency":"CNY"}}}}}}"#
        )
    };
    // The prices of a product live in its own stream, whatever the list.
    let stream = |product: &str| format!("list-prices-of-{product}");
    for (list, product, min, minor) in [
        (PROMO, SAUCE, 1, 1100),
        (PROMO, SAUCE, 12, 1000),
        (LEVEL_A, SAUCE, 1, 1050),
        (LEVEL_A, SAUCE, 24, 990),
        (LEVEL_A, TEA, 1, 500),
        (CONTRACT, SAUCE, 1, 900),
        (PROMO, SAUCE, 1, 1080),
    ] {
        log.append(
            t,
            "ListPrices",
            &stream(product),
            &price(list, product, min, minor),
        )
        .await;
    }
    log.append(
        t,
        "ListPrices",
        &stream(SAUCE),
        &format!(
            r#"{{"PriceRemoved":{{"price_list_id":"{PROMO}","product_id":"{SAUCE}","min_quantity":12}}}}"#
        ),
    )
    .await;
    log.append(t, "PriceList", CONTRACT, r#""PriceListArchived""#)
        .await;
    log.append(
        OTHER_TENANT,
        "ListPrices",
        &stream(FOREIGN),
        &format!(
            r#"{{"PriceSet":{{"tenant_id":"{OTHER_TENANT}","price_list_id":"{FOREIGN_LIST}","product_id":"{FOREIGN}","min_quantity":1,"unit_price":{{"amount_minor":1,"currency":"CNY"}}}}}}"#
        ),
    )
    .await;

    // Stored before price reasons existed: read as CATALOG, placed by its contact.
    log.append_at(
        "1.0",
        t,
        "Order",
        CATALOG_ORDER,
        &format!(
            r#"{{"OrderSubmitted":{{"tenant_id":"{t}","partner_id":"{PARTNER_A}","contact_id":"{CONTACT_A}","lines":[{{"product_id":"{SAUCE}","sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":12,"unit_price":{{"amount_minor":1250,"currency":"CNY"}},"line_total":{{"amount_minor":15000,"currency":"CNY"}}}}],"total":{{"amount_minor":15000,"currency":"CNY"}},"note":""}}}}"#
        ),
    )
    .await;
    log.append_at(
        "2.0",
        t,
        "Order",
        ADMIN_ORDER,
        &format!(
            r#"{{"OrderSubmitted":{{"tenant_id":"{t}","partner_id":"{PARTNER_A}","contact_id":null,"placed_by":{{"role":"ADMIN","id":"{ADMIN}"}},"lines":[{{"product_id":"{SAUCE}","sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":24,"unit_price":{{"amount_minor":990,"currency":"CNY"}},"line_total":{{"amount_minor":23760,"currency":"CNY"}},"price_reason":{{"kind":"PRICE_LIST","price_list_id":"{LEVEL_A}","name":"A 级经销商","priority":20,"min_quantity":24,"catalog_price":{{"amount_minor":1250,"currency":"CNY"}}}}}},{{"product_id":"{CUPS}","sku":"EF-3","name":"Paper cups","unit":"box","quantity":1,"unit_price":{{"amount_minor":300,"currency":"CNY"}},"line_total":{{"amount_minor":300,"currency":"CNY"}},"price_reason":{{"kind":"CATALOG"}}}}],"total":{{"amount_minor":24060,"currency":"CNY"}},"note":""}}}}"#
        ),
    )
    .await;
    log.append_at(
        "2.0",
        t,
        "Order",
        EMPLOYEE_ORDER,
        &format!(
            r#"{{"OrderSubmitted":{{"tenant_id":"{t}","partner_id":"{PARTNER_A}","contact_id":null,"placed_by":{{"role":"EMPLOYEE","contact_id":"{EMPLOYEE}"}},"lines":[{{"product_id":"{SAUCE}","sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":12,"unit_price":{{"amount_minor":1050,"currency":"CNY"}},"line_total":{{"amount_minor":12600,"currency":"CNY"}},"price_reason":{{"kind":"PRICE_LIST","price_list_id":"{LEVEL_A}","name":"A 级经销商","priority":20,"min_quantity":1,"catalog_price":{{"amount_minor":1250,"currency":"CNY"}}}}}}],"total":{{"amount_minor":12600,"currency":"CNY"}},"note":""}}}}"#
        ),
    )
    .await;
    log.append(
        t,
        "Order",
        EMPLOYEE_ORDER,
        r#"{"OrderCancelled":{"reason":"Ordered by mistake"}}"#,
    )
    .await;
}

/// Waits until the feed delivers every stored event (on Postgres, other databases' running
/// transactions may hold it back for a moment).
async fn settle_feed(db: &Database) {
    let sql = "SELECT COUNT(*) FROM events";
    let stored: i64 = match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count events");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut after = Checkpoint::START;
        let mut delivered = 0;
        loop {
            let page = read_feed(db, after, 1000).await.expect("read the feed");
            let Some(last) = page.last() else { break };
            after = last.checkpoint;
            delivered += page.len();
        }
        if i64::try_from(delivered).ok() == Some(stored) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the feed never delivered every event"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every replayable projection, prepared and caught up in small batches.
fn replayable() -> Vec<std::sync::Arc<dyn Projection>> {
    models::all()
        .into_iter()
        .filter(|projection| projection.replayable())
        .collect()
}

async fn catch_up_all(db: &Database) {
    settle_feed(db).await;
    for projection in replayable() {
        prepare(db, projection.as_ref()).await.expect("prepare");
        catch_up(db, projection.as_ref(), 7)
            .await
            .unwrap_or_else(|error| panic!("catch up {}: {error}", projection.name()));
    }
}

/// Every row of `table`, each rendered as one text (values quoted as SQL quotes them), sorted.
async fn dump_table(db: &Database, table: &str) -> Vec<String> {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(&format!(
            "SELECT CAST(t.* AS text) FROM {table} t ORDER BY 1"
        ))
        .fetch_all(pool)
        .await
        .expect("dump"),
        Database::Sqlite(pool) => {
            let columns: Vec<String> =
                sqlx::query_scalar("SELECT name FROM pragma_table_info($1) ORDER BY cid")
                    .bind(table)
                    .fetch_all(pool)
                    .await
                    .expect("columns");
            let row = columns
                .iter()
                .map(|column| format!("quote({column})"))
                .collect::<Vec<_>>()
                .join(" || ',' || ");
            sqlx::query_scalar(&format!("SELECT {row} FROM {table} ORDER BY 1"))
                .fetch_all(pool)
                .await
                .expect("dump")
        }
    }
}

async fn dump(db: &Database, projection: &dyn Projection) -> Vec<(String, Vec<String>)> {
    let mut tables = Vec::new();
    for table in projection.tables() {
        let name = format!("rm_{table}");
        let rows = dump_table(db, &name).await;
        tables.push((name, rows));
    }
    tables
}

fn first<K>(n: usize) -> PageRequest<K> {
    PageRequest::new(n, None)
}

fn skus(rows: &[ProductRow]) -> Vec<&str> {
    rows.iter().map(|row| row.sku.as_str()).collect()
}

fn list_ids(rows: &[PriceListRow]) -> Vec<&str> {
    rows.iter().map(|row| row.price_list_id.as_str()).collect()
}

async fn visible_skus(db: &Database, scope: &Scope, filter: &ProductFilter) -> Vec<String> {
    let page = products::list(db, scope, filter, &first::<ProductAt>(100))
        .await
        .expect("list products");
    skus(&page.rows).into_iter().map(str::to_owned).collect()
}

async fn the_read_models_show_dealer_pricing(db: &Database) {
    write_history(db).await;
    catch_up_all(db).await;

    let tenant = Scope::tenant(TENANT);
    let contact_a = Scope::linked(TENANT, CONTACT_A, Side::Theirs);
    let contact_b = Scope::linked(TENANT, CONTACT_B, Side::Theirs);
    let employee = Scope::linked(TENANT, EMPLOYEE, Side::Ours);
    let unlinked = Scope::linked(TENANT, UNLINKED, Side::Theirs);
    let other_tenant = Scope::tenant(OTHER_TENANT);

    // Products: category and rules, and what each scope sees of the catalog.
    let all = ProductFilter::default();
    let catalog = products::list(db, &tenant, &all, &first::<ProductAt>(10))
        .await
        .expect("products");
    assert_eq!(skus(&catalog.rows), ["AB-1", "CD-2", "EF-3"]);
    let sauce = &catalog.rows[0];
    assert_eq!(sauce.category.as_deref(), Some("调味品"));
    assert_eq!(
        (sauce.min_quantity, sauce.multiple, sauce.max_quantity),
        (Some(12), Some(6), None)
    );
    let cups = &catalog.rows[2];
    assert_eq!(cups.category, None);
    assert_eq!(
        (cups.min_quantity, cups.multiple, cups.max_quantity),
        (None, None, None)
    );
    let drinks = ProductFilter {
        category: Some("Drinks".to_owned()),
        ..ProductFilter::default()
    };
    assert_eq!(visible_skus(db, &tenant, &drinks).await, ["CD-2"]);
    // A's contact sees only its assortment; B's, unrestricted, everything; so does our
    // employee; a contact linked to no partner keeps to no assortment.
    assert_eq!(visible_skus(db, &contact_a, &all).await, ["AB-1"]);
    assert_eq!(
        visible_skus(db, &contact_a, &drinks).await,
        Vec::<String>::new()
    );
    assert_eq!(
        visible_skus(db, &contact_b, &all).await,
        ["AB-1", "CD-2", "EF-3"]
    );
    assert_eq!(
        visible_skus(db, &employee, &all).await,
        ["AB-1", "CD-2", "EF-3"]
    );
    assert_eq!(
        visible_skus(db, &unlinked, &all).await,
        ["AB-1", "CD-2", "EF-3"]
    );
    // `find` follows the same rule.
    assert!(products::find(db, &contact_a, TEA)
        .await
        .expect("find")
        .is_none());
    assert!(products::find(db, &contact_a, SAUCE)
        .await
        .expect("find")
        .is_some());
    assert!(products::find(db, &contact_b, TEA)
        .await
        .expect("find")
        .is_some());

    // Partners: level and assortment.
    let a = partners::find(db, &tenant, PARTNER_A)
        .await
        .expect("find")
        .expect("partner A");
    assert_eq!(a.level.as_deref(), Some("A"));
    assert_eq!(a.assortment.as_deref(), Some(r#"["调味品"]"#));
    assert_eq!(a.assortment_categories(), Some(vec!["调味品".to_owned()]));
    let c = partners::find(db, &tenant, PARTNER_C)
        .await
        .expect("find")
        .expect("partner C");
    assert_eq!((c.level, c.assortment), (None, None));
    let b = partners::find(db, &contact_b, PARTNER_B)
        .await
        .expect("find")
        .expect("partner B, by its contact");
    assert_eq!(b.assortment_categories(), None);

    // Price lists: the tenant's staff see them, by priority; archived ones on request.
    let current = price_lists::list(
        db,
        &tenant,
        &PriceListFilter::default(),
        &first::<PriceListAt>(10),
    )
    .await
    .expect("lists");
    assert_eq!(list_ids(&current.rows), [LEVEL_A, PROMO]);
    assert!(!current.has_next);
    let everything = PriceListFilter {
        include_archived: true,
    };
    let page1 = price_lists::list(db, &employee, &everything, &first::<PriceListAt>(2))
        .await
        .expect("lists");
    assert_eq!(list_ids(&page1.rows), [LEVEL_A, PROMO]);
    assert!(page1.has_next);
    let after = page1
        .rows
        .last()
        .map(|row| PriceListAt(row.priority, row.price_list_id.clone()));
    let page2 = price_lists::list(db, &employee, &everything, &PageRequest::new(2, after))
        .await
        .expect("lists");
    assert_eq!(list_ids(&page2.rows), [CONTRACT]);
    assert!(!page2.has_next);
    let contract = &page2.rows[0];
    assert!(contract.archived && contract.archived_at.is_some());
    assert_eq!(contract.scope_kind.as_deref(), Some("PARTNERS"));
    assert_eq!(contract.partners(), Some(vec![PARTNER_A.to_owned()]));
    assert_eq!(contract.levels(), None);

    let level_a = price_lists::find(db, &tenant, LEVEL_A)
        .await
        .expect("find")
        .expect("the level list");
    assert_eq!(
        (level_a.name.as_str(), level_a.priority),
        ("A 级经销商", 20)
    );
    assert_eq!(level_a.scope_kind.as_deref(), Some("LEVELS"));
    assert_eq!(level_a.scope_levels.as_deref(), Some(r#"["A","省级代理"]"#));
    assert_eq!(level_a.scope_partners, None);
    assert_eq!((level_a.valid_from, level_a.valid_to), (None, None));
    let promo = price_lists::find(db, &tenant, PROMO)
        .await
        .expect("find")
        .expect("the promotion");
    assert_eq!(
        promo.valid_from.map(|at| at.0.to_rfc3339()),
        Some("2025-03-01T00:00:00+00:00".to_owned())
    );
    assert_eq!(
        promo.valid_to.map(|at| at.0.to_rfc3339()),
        Some("2025-06-01T00:00:00+00:00".to_owned())
    );
    assert_eq!(promo.scope_kind.as_deref(), Some("ALL"));

    // A partner's contact sees no list, no entry; another tenant none of these.
    for scope in [&contact_a, &contact_b, &unlinked] {
        let lists = price_lists::list(db, scope, &everything, &first::<PriceListAt>(10))
            .await
            .expect("lists");
        assert!(lists.rows.is_empty() && !lists.has_next);
        assert!(price_lists::find(db, scope, PROMO)
            .await
            .expect("find")
            .is_none());
        let entries = price_lists::entries(db, scope, LEVEL_A, &first::<PriceEntryAt>(10))
            .await
            .expect("entries");
        assert!(entries.rows.is_empty());
        let across = price_lists::entries_for_products(db, scope, &[SAUCE.to_owned()])
            .await
            .expect("entries");
        assert!(across.is_empty());
    }
    assert!(price_lists::find(db, &other_tenant, PROMO)
        .await
        .expect("find")
        .is_none());
    let foreign = price_lists::entries(db, &other_tenant, LEVEL_A, &first::<PriceEntryAt>(10))
        .await
        .expect("entries");
    assert!(foreign.rows.is_empty());

    // Entries: by SKU then break, with the product's name; replaced and removed prices show
    // as they stand.
    let entries = price_lists::entries(db, &tenant, LEVEL_A, &first::<PriceEntryAt>(2))
        .await
        .expect("entries");
    let shown: Vec<(&str, i64, i64)> = entries
        .rows
        .iter()
        .map(|e| (e.sku.as_str(), e.min_quantity, e.unit_price_minor))
        .collect();
    assert_eq!(shown, [("AB-1", 1, 1050), ("AB-1", 24, 990)]);
    assert!(entries.has_next);
    assert_eq!(
        entries.rows[0].product_name.as_deref(),
        Some("Soy sauce 500ml")
    );
    assert_eq!(entries.rows[0].currency, "CNY");
    let last = entries
        .rows
        .last()
        .map(|e| PriceEntryAt(e.sku.clone(), e.min_quantity));
    let rest = price_lists::entries(db, &tenant, LEVEL_A, &PageRequest::new(2, last))
        .await
        .expect("entries");
    let shown: Vec<(&str, &str, i64)> = rest
        .rows
        .iter()
        .map(|e| (e.sku.as_str(), e.product_id.as_str(), e.unit_price_minor))
        .collect();
    assert_eq!(shown, [("CD-2", TEA, 500)]);
    assert!(!rest.has_next);
    let promo_entries = price_lists::entries(db, &tenant, PROMO, &first::<PriceEntryAt>(10))
        .await
        .expect("entries");
    let shown: Vec<(i64, i64)> = promo_entries
        .rows
        .iter()
        .map(|e| (e.min_quantity, e.unit_price_minor))
        .collect();
    assert_eq!(shown, [(1, 1080)]);

    // A product's prices across the lists that may still apply, the winning list first.
    let across = price_lists::entries_for_products(
        db,
        &employee,
        &[SAUCE.to_owned(), CUPS.to_owned(), FOREIGN.to_owned()],
    )
    .await
    .expect("entries");
    let shown: Vec<(&str, i64, i64)> = across
        .iter()
        .map(|e| (e.price_list_id.as_str(), e.min_quantity, e.unit_price_minor))
        .collect();
    assert_eq!(
        shown,
        [(LEVEL_A, 1, 1050), (LEVEL_A, 24, 990), (PROMO, 1, 1080)]
    );

    // Orders: who placed them, and each line's reason.
    let order = |id: &'static str| {
        let tenant = tenant.clone();
        async move {
            orders::find(db, &tenant, id)
                .await
                .expect("find")
                .expect("the order")
        }
    };
    let by_contact = order(CATALOG_ORDER).await;
    assert_eq!(by_contact.contact_id.as_deref(), Some(CONTACT_A));
    assert_eq!(
        (by_contact.placed_by_role, by_contact.placed_by_id),
        (None, None)
    );
    let by_admin = order(ADMIN_ORDER).await;
    assert_eq!(by_admin.contact_id, None);
    assert_eq!(by_admin.placed_by_role.as_deref(), Some("ADMIN"));
    assert_eq!(by_admin.placed_by_id.as_deref(), Some(ADMIN));
    let by_employee = order(EMPLOYEE_ORDER).await;
    assert_eq!(by_employee.placed_by_role.as_deref(), Some("EMPLOYEE"));
    assert_eq!(by_employee.placed_by_id.as_deref(), Some(EMPLOYEE));
    // A contact reads its partner's orders, whoever placed them.
    assert!(orders::find(db, &contact_a, ADMIN_ORDER)
        .await
        .expect("find")
        .is_some());

    let lines = orders::lines(db, &[CATALOG_ORDER.to_owned(), ADMIN_ORDER.to_owned()])
        .await
        .expect("lines");
    let reasons: Vec<_> = lines
        .iter()
        .map(|l| {
            (
                l.order_id.as_str(),
                l.price_reason.as_str(),
                l.price_list_id.as_deref(),
                l.price_list_name.as_deref(),
                l.price_list_priority,
                l.price_break,
                l.unit_price_minor,
                l.catalog_price_minor,
            )
        })
        .collect();
    assert_eq!(
        reasons,
        [
            (CATALOG_ORDER, "CATALOG", None, None, None, None, 1250, 1250),
            (
                ADMIN_ORDER,
                "PRICE_LIST",
                Some(LEVEL_A),
                Some("A 级经销商"),
                Some(20),
                Some(24),
                990,
                1250
            ),
            (ADMIN_ORDER, "CATALOG", None, None, None, None, 300, 300),
        ]
    );

    // The documented analyst queries run as written, and answer what happened.
    let revenue = documented_query(db, "AS revenue_minor").await;
    assert_eq!(
        revenue,
        [
            format!("'A 级经销商','{LEVEL_A}',23760"),
            "'CATALOG',NULL,15300".to_owned(),
        ],
        "revenue by price list (the cancelled order does not count)"
    );
    let below = documented_query(db, "l.unit_price_minor < l.catalog_price_minor").await;
    let orders_below: Vec<&str> = below
        .iter()
        .filter_map(|row| row.split(',').next())
        .collect();
    assert_eq!(
        orders_below,
        [format!("'{ADMIN_ORDER}'"), format!("'{EMPLOYEE_ORDER}'")],
        "lines below the catalog price: {below:?}"
    );

    // A rebuild gives exactly these rows.
    let rebuilt: [&dyn Projection; 5] = [
        &PriceListsProjection,
        &ProductsProjection,
        &PartnersProjection,
        &OrdersProjection,
        &TenantsProjection,
    ];
    for projection in rebuilt {
        let incremental = dump(db, projection).await;
        assert!(
            incremental.iter().any(|(_, rows)| !rows.is_empty()),
            "{} has rows",
            projection.name()
        );
        rebuild(db, &[projection], RunnerSettings::default(), |_| {})
            .await
            .unwrap_or_else(|error| panic!("rebuild {}: {error}", projection.name()));
        assert_eq!(
            dump(db, projection).await,
            incremental,
            "{}: a rebuild differs from incremental processing",
            projection.name()
        );
    }
}

/// Runs the ```sql block of `docs/read-models.md` that contains `marker`; answers its rows,
/// each as its values joined by commas (text quoted, `NULL` for null).
async fn documented_query(db: &Database, marker: &str) -> Vec<String> {
    const DOC: &str = include_str!("../../docs/read-models.md");
    let sql = DOC
        .split("```sql")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .find(|block| block.contains(marker))
        .unwrap_or_else(|| panic!("no documented query contains {marker}"))
        .trim()
        .trim_end_matches(';');
    match db {
        Database::Postgres(pool) => sqlx::query(sql)
            .fetch_all(pool)
            .await
            .map(|rows| rows.iter().map(render).collect()),
        Database::Sqlite(pool) => sqlx::query(sql)
            .fetch_all(pool)
            .await
            .map(|rows| rows.iter().map(render).collect()),
    }
    .unwrap_or_else(|error| panic!("{sql}: {error}"))
}

/// A row's values, each an integer, a quoted text or `NULL`.
fn render<R>(row: &R) -> String
where
    R: sqlx::Row,
    usize: sqlx::ColumnIndex<R>,
    for<'r> i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    for<'r> String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    (0..row.len())
        .map(|i| {
            if let Ok(Some(number)) = row.try_get::<Option<i64>, _>(i) {
                number.to_string()
            } else if let Ok(Some(text)) = row.try_get::<Option<String>, _>(i) {
                format!("'{text}'")
            } else {
                "NULL".to_owned()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[tokio::test]
async fn the_read_models_show_dealer_pricing_on_sqlite() {
    let test = TestDb::sqlite().await;
    the_read_models_show_dealer_pricing(&test.db).await;
    test.drop_database().await;
}

#[tokio::test]
async fn the_read_models_show_dealer_pricing_on_postgres() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    the_read_models_show_dealer_pricing(&test.db).await;
    test.drop_database().await;
}

/// A deployment whose read models predate dealer pricing rebuilds them into the new shape at
/// start: `prepare` sees an older schema version and replays the log.
async fn an_older_schema_is_rebuilt_into_the_new_shape(db: &Database) {
    write_history(db).await;
    catch_up_all(db).await;
    let orders_projection = OrdersProjection;
    // As an older deployment left it: no price columns, and an older version in the checkpoint.
    let drop_column = "ALTER TABLE rm_order_lines DROP COLUMN catalog_price_minor";
    let older = "UPDATE projection_checkpoints SET schema_version = 3 WHERE name = 'orders'";
    for sql in [drop_column, older] {
        match db {
            Database::Postgres(pool) => pool.execute(sql).await.map(drop),
            Database::Sqlite(pool) => pool.execute(sql).await.map(drop),
        }
        .expect("age the read model");
    }
    prepare(db, &orders_projection).await.expect("prepare");
    let lines = orders::lines(db, &[ADMIN_ORDER.to_owned()])
        .await
        .expect("lines after the rebuild");
    assert_eq!(
        lines
            .iter()
            .map(|l| l.catalog_price_minor)
            .collect::<Vec<_>>(),
        [1250, 300]
    );
}

#[tokio::test]
async fn an_older_schema_is_rebuilt_into_the_new_shape_on_sqlite() {
    let test = TestDb::sqlite().await;
    an_older_schema_is_rebuilt_into_the_new_shape(&test.db).await;
    test.drop_database().await;
}

#[tokio::test]
async fn an_older_schema_is_rebuilt_into_the_new_shape_on_postgres() {
    let Some(test) = TestDb::postgres().await else {
        return;
    };
    an_older_schema_is_rebuilt_into_the_new_shape(&test.db).await;
    test.drop_database().await;
}
