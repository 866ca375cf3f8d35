//! The read models on both backends: what a user would check after a realistic sequence of
//! commands, and every example query of `docs/read-models.md` runs as written.

use dinghuo_commands::{
    AddPartnerContactInput, CancelOrderInput, CommandError, Commands, ConfirmOrderInput,
    CreatePriceListInput, MoneyInput, OrderLineInput, PriceListScopeInput, ReceiveOrderInput,
    RecordContactInput, RejectOrderInput, RestrictContactPermissionsInput, SetPriceInput,
    ShipOrderInput, SubmitOptions, SubmitOrderInput,
};
use dinghuo_domain::OrderId;
use dinghuo_projections::outbox::OutboxKey;
use dinghuo_projections::{catch_up, models, prepare};
use dinghuo_store::Database;
use dinghuo_tests::{on_both_backends, World};

const DOC: &str = include_str!("../../docs/read-models.md");

/// The ```sql blocks of the read-model documentation, with the backend they are for (`None`:
/// both), taken from a leading `-- postgres` or `-- sqlite` comment.
fn documented_queries() -> Vec<(Option<&'static str>, String)> {
    DOC.split("```sql")
        .skip(1)
        .filter_map(|block| block.split("```").next())
        .map(|sql| {
            let sql = sql.trim();
            let only = ["postgres", "sqlite"]
                .into_iter()
                .find(|backend| sql.starts_with(&format!("-- {backend}")));
            (only, sql.trim_end_matches(';').to_owned())
        })
        .collect()
}

async fn catch_up_all(db: &Database) {
    // Other tests' transactions in the shared Postgres cluster may briefly hold the feed back.
    dinghuo_tests::read_model::settle_feed(db).await;
    for projection in models::all_with_key(OutboxKey::generate()) {
        prepare(db, projection.as_ref()).await.expect("prepare");
        catch_up(db, projection.as_ref(), 50)
            .await
            .expect("catch up");
    }
}

async fn scalar(db: &Database, sql: &str) -> i64 {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

async fn text(db: &Database, sql: &str) -> String {
    match db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The order's lines: `quantities[i]` of product `i` (none where the quantity is 0).
fn lines(world: &World, quantities: &[i64]) -> Vec<OrderLineInput> {
    quantities
        .iter()
        .zip(&world.products)
        .filter(|(quantity, _)| **quantity > 0)
        .map(|(quantity, product)| OrderLineInput {
            product_id: product.to_string(),
            quantity: *quantity,
            sku: None,
        })
        .collect()
}

async fn order(commands: &Commands, world: &World, quantities: &[i64]) -> OrderId {
    let lines = lines(world, quantities);
    commands
        .submit_order(&world.contact_ctx(), SubmitOrderInput { lines, note: None })
        .await
        .expect("submit")
}

/// Products cost 10.00, 11.00 and 12.00 (see `World::build`). The last two orders come after a
/// price list ("A dealers", 9.00 for product 0): one by the contact with a line priced below
/// the catalog by it, one placed by the admin on the partner's behalf.
async fn history(commands: &Commands, world: &World) -> Result<(), CommandError> {
    let admin = world.admin_ctx();
    let kept = order(commands, world, &[1, 2]).await; // 10 + 22 = 32.00
    let shipped = order(commands, world, &[1, 1, 3]).await; // 10 + 11 + 36 = 57.00
    let rejected = order(commands, world, &[5]).await; // 50.00
    let cancelled = order(commands, world, &[2]).await; // 20.00
    let list = commands
        .create_price_list(
            &admin,
            CreatePriceListInput {
                name: "A dealers".into(),
                priority: 10,
                scope: Some(PriceListScopeInput {
                    kind: "ALL".into(),
                    ..Default::default()
                }),
                ..Default::default()
            },
        )
        .await?;
    commands
        .set_price(
            &admin,
            SetPriceInput {
                price_list_id: list.to_string(),
                product_id: Some(world.products[0].to_string()),
                unit_price: MoneyInput::cny("9.00"),
                ..Default::default()
            },
        )
        .await?;
    order(commands, world, &[4, 0, 1]).await; // 4 × 9.00 (the list) + 12 = 48.00
    commands
        .submit_order_with(
            &admin,
            SubmitOrderInput {
                lines: lines(world, &[0, 2]),
                note: Some("phoned in".into()),
            },
            SubmitOptions {
                partner_id: Some(world.partner.to_string()),
                expected_total: Some(MoneyInput::cny("22.00")),
            },
        )
        .await?; // 2 × 11.00 = 22.00, on the partner's behalf
    commands
        .confirm_order(
            &admin,
            ConfirmOrderInput {
                order_id: shipped.to_string(),
            },
        )
        .await?;
    commands
        .ship_order(
            &admin,
            ShipOrderInput {
                order_id: shipped.to_string(),
                carrier: Some("SF Express".into()),
                tracking: Some("SF123".into()),
            },
        )
        .await?;
    commands
        .receive_order(
            &world.contact_ctx(),
            ReceiveOrderInput {
                order_id: shipped.to_string(),
            },
        )
        .await?;
    commands
        .reject_order(
            &admin,
            RejectOrderInput {
                order_id: rejected.to_string(),
                reason: "out of stock".into(),
            },
        )
        .await?;
    commands
        .cancel_order(
            &world.contact_ctx(),
            CancelOrderInput {
                order_id: cancelled.to_string(),
                reason: "ordered twice".into(),
            },
        )
        .await?;
    let _ = kept;
    // A second their-side contact, never bound, restricted from ordering.
    let second = commands
        .record_contact(
            &admin,
            RecordContactInput {
                name: "Han Meimei".into(),
                phone: Some("139 0013 9000".into()),
                customer_id: Some(world.partner.to_string()),
                employee: false,
            },
        )
        .await?;
    commands
        .add_partner_contact(
            &admin,
            AddPartnerContactInput {
                contact_id: second.to_string(),
                partner_id: world.partner.to_string(),
                side: "THEIRS".into(),
            },
        )
        .await?;
    commands
        .restrict_contact_permissions(
            &admin,
            RestrictContactPermissionsInput {
                contact_id: second.to_string(),
                app: "ORDERING".into(),
                denied: vec!["CREATE_SALES_ORDER".into()],
            },
        )
        .await?;
    Ok(())
}

on_both_backends! {
    async fn the_read_models_show_what_the_commands_did(test) {
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        history(&commands, &world).await.expect("history");
        catch_up_all(&test.db).await;
        let db = &test.db;

        assert_eq!(scalar(db, "SELECT COUNT(*) FROM rm_orders").await, 6);
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE status = 'RECEIVED' AND carrier = 'SF Express'").await,
            1
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE status = 'CANCELLED' AND cancelled_by_role = 'contact'").await,
            1
        );
        // Net sales: 32.00 kept + 57.00 received + 48.00 + 22.00 submitted; the rejected and the
        // cancelled order are out.
        assert_eq!(scalar(db, "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM rm_sales_daily").await, 15900);
        assert_eq!(scalar(db, "SELECT CAST(SUM(total_minor) AS BIGINT) FROM rm_orders").await, 15900 + 5000 + 2000);
        assert_eq!(scalar(db, "SELECT COUNT(*) FROM rm_order_lines").await, 2 + 3 + 1 + 1 + 2 + 1);
        assert_eq!(
            scalar(db, "SELECT orders_count FROM rm_partners").await,
            6
        );
        // Each line's price says why: one by the list, below the catalog, the rest the catalog's.
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_order_lines WHERE price_reason = 'CATALOG' AND price_list_id IS NULL AND price_break IS NULL AND unit_price_minor = catalog_price_minor").await,
            9
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_order_lines WHERE price_reason = 'PRICE_LIST' AND price_list_name = 'A dealers' AND price_list_priority = 10 AND price_break = 1 AND unit_price_minor = 900 AND catalog_price_minor = 1000 AND line_total_minor = 3600").await,
            1
        );
        // The order placed on the partner's behalf names the admin and no contact.
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE placed_by_role IS NOT NULL").await,
            1
        );
        assert_eq!(
            text(db, "SELECT placed_by_id FROM rm_orders WHERE placed_by_role = 'ADMIN' AND contact_id IS NULL AND total_minor = 2200").await,
            world.admin.id.to_string()
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE placed_by_role IS NULL AND contact_id IS NOT NULL").await,
            5
        );
        assert_eq!(
            text(db, "SELECT name FROM rm_price_lists WHERE scope_kind = 'ALL' AND NOT archived").await,
            "A dealers"
        );
        assert_eq!(
            scalar(db, "SELECT unit_price_minor FROM rm_price_list_entries WHERE min_quantity = 1").await,
            900
        );
        assert_eq!(scalar(db, "SELECT their_side_contacts FROM rm_partners").await, 2);
        assert_eq!(
            text(db, "SELECT phone_masked FROM rm_contacts WHERE name = 'Han Meimei'").await,
            "139****9000"
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_contacts WHERE bound AND can_create_sales_order").await,
            1
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_contacts WHERE NOT bound AND NOT can_create_sales_order AND can_cancel_order").await,
            1
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_onboarding_partners WHERE first_order_at IS NOT NULL AND first_contact_bound_at IS NOT NULL").await,
            1
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_tenants WHERE ordering_enabled AND interconnect_enabled").await,
            1
        );
    }

    async fn every_documented_query_runs_as_written(test) {
        let commands = test.commands();
        let world = World::build(&commands, 3).await;
        history(&commands, &world).await.expect("history");
        catch_up_all(&test.db).await;
        let queries = documented_queries();
        assert!(queries.len() >= 8, "the documentation lost its examples");
        let mut ran = 0;
        let mut empty = Vec::new();
        for (only, sql) in queries {
            let rows = match (&test.db, only) {
                (Database::Postgres(pool), None | Some("postgres")) => {
                    sqlx::query(&sql).fetch_all(pool).await.map(|rows| rows.len())
                }
                (Database::Sqlite(pool), None | Some("sqlite")) => {
                    sqlx::query(&sql).fetch_all(pool).await.map(|rows| rows.len())
                }
                _ => continue,
            };
            let rows = rows.unwrap_or_else(|e| panic!("documented query failed: {e}\n{sql}"));
            ran += 1;
            if rows == 0 {
                empty.push(sql);
            }
        }
        // This history has no assigned partner without orders; every other example has rows
        // (revenue by price list, lines below the catalog price and orders placed on behalf
        // included).
        assert!(empty.len() <= 1, "documented queries answered nothing: {empty:#?}");
        assert!(ran >= 8);
    }
}
