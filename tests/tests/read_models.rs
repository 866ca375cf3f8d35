//! The read models on both backends: what a user would check after a realistic sequence of
//! commands, and every example query of `docs/read-models.md` runs as written.

use dinghuo_commands::{
    AddPartnerContactInput, CancelOrderInput, CommandError, Commands, ConfirmOrderInput,
    OrderLineInput, ReceiveOrderInput, RecordContactInput, RejectOrderInput,
    RestrictContactPermissionsInput, ShipOrderInput, SubmitOrderInput,
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

async fn order(commands: &Commands, world: &World, quantities: &[i64]) -> OrderId {
    let lines = quantities
        .iter()
        .zip(&world.products)
        .map(|(quantity, product)| OrderLineInput {
            product_id: product.to_string(),
            quantity: *quantity,
        })
        .collect();
    commands
        .submit_order(&world.contact_ctx(), SubmitOrderInput { lines, note: None })
        .await
        .expect("submit")
}

/// Products cost 10.00, 11.00 and 12.00 (see `World::build`).
async fn history(commands: &Commands, world: &World) -> Result<(), CommandError> {
    let admin = world.admin_ctx();
    let kept = order(commands, world, &[1, 2]).await; // 10 + 22 = 32.00
    let shipped = order(commands, world, &[1, 1, 3]).await; // 10 + 11 + 36 = 57.00
    let rejected = order(commands, world, &[5]).await; // 50.00
    let cancelled = order(commands, world, &[2]).await; // 20.00
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

        assert_eq!(scalar(db, "SELECT COUNT(*) FROM rm_orders").await, 4);
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE status = 'RECEIVED' AND carrier = 'SF Express'").await,
            1
        );
        assert_eq!(
            scalar(db, "SELECT COUNT(*) FROM rm_orders WHERE status = 'CANCELLED' AND cancelled_by_role = 'contact'").await,
            1
        );
        // Net sales: 32.00 kept + 57.00 received; the rejected and the cancelled order are out.
        assert_eq!(scalar(db, "SELECT CAST(SUM(amount_minor) AS BIGINT) FROM rm_sales_daily").await, 8900);
        assert_eq!(scalar(db, "SELECT CAST(SUM(total_minor) AS BIGINT) FROM rm_orders").await, 8900 + 5000 + 2000);
        assert_eq!(scalar(db, "SELECT COUNT(*) FROM rm_order_lines").await, 2 + 3 + 1 + 1);
        assert_eq!(
            scalar(db, "SELECT orders_count FROM rm_partners").await,
            4
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
        // This history has no assigned partner without orders; every other example has rows.
        assert!(empty.len() <= 1, "documented queries answered nothing: {empty:#?}");
        assert!(ran >= 8);
    }
}
