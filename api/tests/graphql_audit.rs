//! The audit, analytics and notification queries and the subscriptions, on both backends,
//! executing the schema directly (as `server::routes` does, with the caller and the lines loader
//! in the request's data) over a world built through the command layer and projected by
//! catching up every projection.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::{Request, Variables};
use chrono::{DateTime, Utc};
use dinghuo_api::auth::{JwtSecret, Tokens};
use dinghuo_api::graphql::order_reads::OrderReads;
use dinghuo_api::graphql::{self, ApiState, Caller, DinghuoSchema, Limits};
use dinghuo_api::server::routes::lines_loader;
use dinghuo_commands::{
    Actor, Commands, ConfirmOrderInput, CreateTenantAdminInput, MoneyInput, OrderLineInput,
    RecordCustomerInput, RepriceProductInput, RequestContext, RevokeStaffAccessInput, Role,
    SubmitOrderInput,
};
use dinghuo_domain::{OrderId, TenantId};
use dinghuo_projections::{catch_up, models, prepare, Wakeup};
use dinghuo_store::Database;
use dinghuo_tests::read_model::settle_feed;
use dinghuo_tests::{on_both_backends, TestDb, World};
use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::{json, Value};
use uuid::Uuid;

struct Api {
    state: ApiState,
    schema: DinghuoSchema,
}

impl Api {
    fn new(db: &TestDb) -> Self {
        let wakeup = Wakeup::new();
        let waker = wakeup.clone();
        let commands = db
            .commands()
            .with_commit_signal(Arc::new(move || waker.wake()));
        let secret = JwtSecret::from_bytes(vec![7; 64]).expect("a long enough secret");
        let order_reader = OrderReads::shared(commands.database());
        let state = ApiState {
            commands: Arc::new(commands),
            tokens: Tokens::new(&secret),
            read_your_writes_timeout: Duration::from_secs(5),
            wakeup,
            progress: dinghuo_projections::Progress::new(),
            order_reader,
            outbox_key: dinghuo_projections::outbox::OutboxKey::generate(),
            standings: Default::default(),
            sessions: Default::default(),
        };
        let schema = graphql::build(state.clone(), Limits::default());
        Self { state, schema }
    }

    fn commands(&self) -> &Commands {
        &self.state.commands
    }

    fn request(&self, actor: Actor, query: &str, variables: Value) -> Request {
        Request::new(query)
            .variables(Variables::from_json(variables))
            .data(Caller {
                actor: Some(actor),
                request_id: Uuid::now_v7(),
                client_addr: None,
                written: Default::default(),
                valid_until: None,
                binding_epoch: None,
                session: None,
                password_change_only: false,
                member: None,
                signed_in_by_code: false,
                issued_at: None,
            })
            .data(lines_loader(&self.state))
    }

    /// The response as JSON: `{"data": …, "errors": […]}`.
    async fn run(&self, actor: Actor, query: &str, variables: Value) -> Value {
        let response = self
            .schema
            .execute(self.request(actor, query, variables))
            .await;
        serde_json::to_value(&response).expect("a response is JSON")
    }

    /// The data of a response that must have no errors.
    async fn data(&self, actor: Actor, query: &str, variables: Value) -> Value {
        let response = self.run(actor, query, variables).await;
        assert!(
            response.get("errors").is_none(),
            "unexpected errors: {response}"
        );
        response["data"].clone()
    }

    /// Applies every committed event to every projection (once the feed delivers them all: on
    /// Postgres, a transaction anywhere in the shared test cluster can hold it back).
    async fn project(&self) {
        let db = self.commands().database();
        settle_feed(db).await;
        for projection in models::all_with_key(self.state.outbox_key.clone()) {
            prepare(db, projection.as_ref())
                .await
                .expect("prepare projection");
            catch_up(db, projection.as_ref(), 500)
                .await
                .expect("catch up projection");
        }
    }
}

fn error_codes(response: &Value) -> Vec<String> {
    response["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|error| {
                    error["extensions"]["code"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned()
                })
                .collect()
        })
        .unwrap_or_default()
}

fn role(world: &World, role: Role) -> Actor {
    Actor::in_tenant(Uuid::now_v7(), role, world.tenant)
}

async fn submit(commands: &Commands, world: &World, quantity: i64) -> OrderId {
    commands
        .submit_order(
            &world.contact_ctx(),
            SubmitOrderInput {
                lines: vec![OrderLineInput {
                    product_id: world.products[0].to_string(),
                    quantity,
                    sku: None,
                }],
                note: None,
            },
        )
        .await
        .expect("submit order")
}

async fn confirm(commands: &Commands, world: &World, order: OrderId) {
    commands
        .confirm_order(
            &world.admin_ctx(),
            ConfirmOrderInput {
                order_id: order.to_string(),
            },
        )
        .await
        .expect("confirm order");
}

/// Distinct `recorded_at` times, even at SQLite's millisecond precision.
async fn pause() {
    tokio::time::sleep(Duration::from_millis(15)).await;
}

const EVENTS: &str = r#"
query Events($filter: AuditEventFilter, $first: Int, $after: String) {
  events(filter: $filter, first: $first, after: $after) {
    edges { cursor node { position aggregateType aggregateId sequence eventType eventVersion
                          payload metadata recordedAt } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}"#;

const HISTORY: &str = r#"
query History($id: ID!, $first: Int, $after: String) {
  aggregateHistory(id: $id, first: $first, after: $after) {
    edges { cursor node { sequence eventType } }
    pageInfo { hasNextPage endCursor }
  }
}"#;

fn nodes(data: &Value) -> Vec<Value> {
    connection_nodes(&data["events"])
}

/// The nodes of a connection's edges.
fn connection_nodes(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .map(|edges| edges.iter().map(|edge| edge["node"].clone()).collect())
        .unwrap_or_default()
}

fn time(value: &Value) -> DateTime<Utc> {
    value
        .as_str()
        .and_then(|text| DateTime::parse_from_rfc3339(text).ok())
        .map(|t| t.with_timezone(&Utc))
        .expect("an RFC 3339 time")
}

on_both_backends! {
    async fn events_are_filtered_by_type_actor_and_time_and_paged(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let other = World::build(api.commands(), 1).await;
        let mut orders = Vec::new();
        for quantity in 1..=3 {
            orders.push(submit(api.commands(), &world, quantity).await);
            pause().await;
        }
        confirm(api.commands(), &world, orders[0]).await;
        let foreign = submit(api.commands(), &other, 1).await;
        let auditor = role(&world, Role::Auditor);

        // Paged by type: two, then the last one.
        let submitted = json!({"eventTypes": ["OrderSubmitted"]});
        let page = api
            .data(auditor, EVENTS, json!({"filter": submitted, "first": 2}))
            .await;
        let first_page = nodes(&page);
        assert_eq!(first_page.len(), 2);
        assert_eq!(page["events"]["pageInfo"]["hasNextPage"], true);
        assert_eq!(page["events"]["pageInfo"]["hasPreviousPage"], false);
        let after = page["events"]["pageInfo"]["endCursor"].clone();
        let page = api
            .data(
                auditor,
                EVENTS,
                json!({"filter": submitted, "first": 2, "after": after}),
            )
            .await;
        let second_page = nodes(&page);
        assert_eq!(second_page.len(), 1);
        assert_eq!(page["events"]["pageInfo"]["hasNextPage"], false);
        let all: Vec<Value> = first_page.into_iter().chain(second_page).collect();
        let ids: Vec<&str> = all
            .iter()
            .map(|node| node["aggregateId"].as_str().expect("an id"))
            .collect();
        let expected: Vec<String> = orders.iter().map(ToString::to_string).collect();
        assert_eq!(ids, expected, "this tenant's orders, in log order, never the other's");
        let positions: Vec<i64> = all
            .iter()
            .map(|node| node["position"].as_i64().expect("a position"))
            .collect();
        assert!(positions.windows(2).all(|pair| pair[0] < pair[1]));
        let first = &all[0];
        assert_eq!(first["aggregateType"], "Order");
        assert_eq!(first["sequence"], 1);
        assert_eq!(first["eventVersion"], "2.0", "OrderSubmitted is stored at 2.0 since issue 18");
        assert!(first["payload"]["OrderSubmitted"].is_object(), "{first}");
        assert_eq!(
            first["metadata"]["actor_id"],
            world.contact.to_string(),
            "{first}"
        );

        // By actor: the admin's confirmation only.
        let by_admin = api
            .data(
                auditor,
                EVENTS,
                json!({"filter": {"actorId": world.admin.id.to_string(),
                                  "eventTypes": ["OrderConfirmed", "OrderSubmitted"]}}),
            )
            .await;
        let by_admin = nodes(&by_admin);
        assert_eq!(by_admin.len(), 1);
        assert_eq!(by_admin[0]["eventType"], "OrderConfirmed");
        assert_eq!(by_admin[0]["aggregateId"], orders[0].to_string());
        // By actor: everything the contact did is its own.
        let by_contact = nodes(
            &api.data(
                auditor,
                EVENTS,
                json!({"filter": {"actorId": world.contact.to_string()}}),
            )
            .await,
        );
        assert!(by_contact
            .iter()
            .all(|node| node["metadata"]["actor_id"] == world.contact.to_string()));
        assert_eq!(
            by_contact
                .iter()
                .filter(|node| node["eventType"] == "OrderSubmitted")
                .count(),
            3
        );

        // By time: `from` includes the second submission, `to` excludes it.
        let second_at = all[1]["recordedAt"].clone();
        let from = nodes(
            &api.data(
                auditor,
                EVENTS,
                json!({"filter": {"eventTypes": ["OrderSubmitted"], "from": second_at}}),
            )
            .await,
        );
        assert_eq!(from.len(), 2);
        assert_eq!(from[0]["aggregateId"], orders[1].to_string());
        let to = nodes(
            &api.data(
                auditor,
                EVENTS,
                json!({"filter": {"eventTypes": ["OrderSubmitted"], "to": second_at}}),
            )
            .await,
        );
        assert_eq!(to.len(), 1);
        assert_eq!(to[0]["aggregateId"], orders[0].to_string());

        // Another tenant's aggregate is invisible: no events, no history.
        let foreign_events = nodes(
            &api.data(
                auditor,
                EVENTS,
                json!({"filter": {"aggregateId": foreign.to_string()}}),
            )
            .await,
        );
        assert!(foreign_events.is_empty());
        let history = api
            .data(
                auditor,
                "query($id: ID!) { aggregateHistory(id: $id) { edges { node { sequence } } } }",
                json!({"id": foreign.to_string()}),
            )
            .await;
        assert_eq!(history["aggregateHistory"], Value::Null);

        // Bad input is VALIDATION, never a crash.
        let bad = api
            .run(auditor, EVENTS, json!({"filter": {"actorId": "not-a-uuid"}}))
            .await;
        assert_eq!(error_codes(&bad), ["VALIDATION"]);
        let bad = api.run(auditor, EVENTS, json!({"after": "garbage"})).await;
        assert_eq!(error_codes(&bad), ["VALIDATION"]);
        let too_many = api.run(auditor, EVENTS, json!({"first": 101})).await;
        assert!(too_many.get("errors").is_some(), "{too_many}");
    }

    async fn a_history_is_paged_in_stream_order_with_cursors_of_its_own(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let product = world.products[0].to_string();
        // Listed, then repriced 24 times: a stream of 25 events, more than a default page.
        for cents in 1..=24 {
            api.commands()
                .reprice_product(
                    &world.admin_ctx(),
                    RepriceProductInput {
                        product_id: product.clone(),
                        price: MoneyInput {
                            amount: format!("20.{cents:02}"),
                            currency: String::new(),
                        },
                    },
                )
                .await
                .expect("reprice");
        }
        let auditor = role(&world, Role::Auditor);
        let page = |first: Value, after: Value| {
            let api = &api;
            let product = product.clone();
            async move {
                api.run(auditor, HISTORY, json!({"id": product, "first": first, "after": after}))
                    .await
            }
        };
        let sequences = |response: &Value| -> Vec<i64> {
            connection_nodes(&response["data"]["aggregateHistory"])
                .iter()
                .map(|node| node["sequence"].as_i64().expect("a sequence"))
                .collect()
        };

        // Without `first`: the default page of 20, the oldest first.
        let first_page = page(Value::Null, Value::Null).await;
        assert_eq!(sequences(&first_page), (1..=20).collect::<Vec<_>>(), "{first_page}");
        assert_eq!(first_page["data"]["aggregateHistory"]["pageInfo"]["hasNextPage"], true);

        // Page after page of 10: every event once, in order, and the end is said.
        let mut seen = Vec::new();
        let mut after = Value::Null;
        loop {
            let response = page(json!(10), after.clone()).await;
            assert!(response.get("errors").is_none(), "{response}");
            seen.extend(sequences(&response));
            let info = &response["data"]["aggregateHistory"]["pageInfo"];
            if info["hasNextPage"] == false {
                after = info["endCursor"].clone();
                break;
            }
            after = info["endCursor"].clone();
        }
        assert_eq!(seen, (1..=25).collect::<Vec<_>>());
        // After the last event: an empty page of an existing stream, not `null`.
        let past_the_end = page(json!(10), after.clone()).await;
        assert_eq!(sequences(&past_the_end), Vec::<i64>::new(), "{past_the_end}");
        assert!(past_the_end["data"]["aggregateHistory"].is_object(), "{past_the_end}");

        // Its cursors and those of `events` are not interchangeable.
        let events = api.data(auditor, EVENTS, json!({"first": 1})).await;
        let events_cursor = events["events"]["pageInfo"]["endCursor"].clone();
        let mixed = page(json!(10), events_cursor).await;
        assert_eq!(error_codes(&mixed), ["VALIDATION"], "{mixed}");
        let mixed = api.run(auditor, EVENTS, json!({"after": after})).await;
        assert_eq!(error_codes(&mixed), ["VALIDATION"], "{mixed}");

        // At most 100 a page, never a negative count.
        for first in [101, -1] {
            let refused = page(json!(first), Value::Null).await;
            assert!(refused.get("errors").is_some(), "{refused}");
            assert_eq!(refused["data"], Value::Null, "{refused}");
        }

        // Another tenant's auditor, and an unknown id, get `null`, with or without a cursor.
        let elsewhere = Actor::in_tenant(Uuid::now_v7(), Role::Auditor, TenantId::from_uuid(Uuid::now_v7()));
        for (who, id) in [(elsewhere, product.clone()), (auditor, Uuid::now_v7().to_string())] {
            for after in [Value::Null, after.clone()] {
                let response = api.data(who, HISTORY, json!({"id": id, "after": after})).await;
                assert_eq!(response["aggregateHistory"], Value::Null, "{response}");
            }
        }
    }

    async fn aggregate_at_by_version_and_by_time_replays_the_order(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let order = submit(api.commands(), &world, 2).await;
        pause().await;
        confirm(api.commands(), &world, order).await;
        let auditor = role(&world, Role::Auditor);
        let id = order.to_string();

        let history = api
            .data(
                auditor,
                "query($id: ID!) {
                   aggregateHistory(id: $id) { edges { node { sequence eventType recordedAt } } } }",
                json!({"id": id}),
            )
            .await;
        let history = connection_nodes(&history["aggregateHistory"]);
        let types: Vec<&str> = history
            .iter()
            .map(|event| event["eventType"].as_str().expect("a type"))
            .collect();
        assert_eq!(types, ["OrderSubmitted", "OrderConfirmed"]);
        let submitted_at = time(&history[0]["recordedAt"]);
        let confirmed_at = time(&history[1]["recordedAt"]);
        assert!(submitted_at < confirmed_at);

        let at = |as_of: Value| {
            let api = &api;
            let id = id.clone();
            async move {
                api.data(
                    auditor,
                    "query($id: ID!, $asOf: AsOf!) {
                       aggregateAt(id: $id, asOf: $asOf) {
                         aggregateType aggregateId version recordedAt state } }",
                    json!({"id": id, "asOf": as_of}),
                )
                .await["aggregateAt"]
                    .clone()
            }
        };
        let v1 = at(json!({"version": 1})).await;
        assert_eq!(v1["aggregateType"], "Order");
        assert_eq!(v1["version"], 1);
        assert_eq!(v1["state"]["status"], "SUBMITTED", "{v1}");
        assert_eq!(v1["state"]["partner_id"], world.partner.to_string());
        let v2 = at(json!({"version": 2})).await;
        assert_eq!(v2["version"], 2);
        assert_eq!(v2["state"]["status"], "CONFIRMED", "{v2}");
        assert_ne!(v1["state"], v2["state"]);
        // Past the end: the current state, and the version says how far the stream goes.
        assert_eq!(at(json!({"version": 99})).await["state"], v2["state"]);

        // By time: at the submission, between the two, and at the confirmation.
        let by_time = at(json!({"time": history[0]["recordedAt"]})).await;
        assert_eq!(by_time["version"], 1);
        assert_eq!(by_time["state"], v1["state"]);
        let between = submitted_at + (confirmed_at - submitted_at) / 2;
        let by_time = at(json!({"time": between.to_rfc3339()})).await;
        assert_eq!(by_time["state"], v1["state"]);
        let by_time = at(json!({"time": history[1]["recordedAt"]})).await;
        assert_eq!(by_time["version"], 2);
        assert_eq!(by_time["state"], v2["state"]);
        // Before it existed: version 0, no state.
        let earlier = submitted_at - chrono::Duration::seconds(1);
        let before = at(json!({"time": earlier.to_rfc3339()})).await;
        assert_eq!(before["version"], 0);
        assert_eq!(before["state"], Value::Null);

        // Another tenant's auditor sees nothing of it.
        let elsewhere = TenantId::from_uuid(Uuid::now_v7());
        let stranger = Actor::in_tenant(Uuid::now_v7(), Role::Auditor, elsewhere);
        let response = api
            .data(
                stranger,
                "query($id: ID!) { aggregateAt(id: $id, asOf: {version: 1}) { version } }",
                json!({"id": id}),
            )
            .await;
        assert_eq!(response["aggregateAt"], Value::Null);
    }

    async fn a_staff_membership_has_a_history_and_past_states(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let operator = RequestContext::new(world.operator);
        let admin = api
            .commands()
            .create_tenant_admin(
                &operator,
                CreateTenantAdminInput {
                    tenant_id: world.tenant.to_string(),
                    name: "王芳".into(),
                    phone: "13700137000".into(),
                },
            )
            .await
            .expect("the operator creates an admin");
        api.commands()
            .revoke_staff_access(
                &operator,
                RevokeStaffAccessInput {
                    member_id: admin.id.to_string(),
                    tenant_id: Some(world.tenant.to_string()),
                },
            )
            .await
            .expect("the operator revokes it");
        let auditor = role(&world, Role::Auditor);
        let id = admin.id.to_string();
        let history = api
            .data(
                auditor,
                "query($id: ID!) { aggregateHistory(id: $id) { edges { node { eventType } } } }",
                json!({"id": id}),
            )
            .await;
        let types: Vec<Value> = connection_nodes(&history["aggregateHistory"])
            .iter()
            .map(|event| event["eventType"].clone())
            .collect();
        assert_eq!(types, [json!("TenantAdminCreated"), json!("StaffAccessRevoked")]);
        let state = |version: i64| {
            let api = &api;
            let id = id.clone();
            async move {
                api.data(
                    auditor,
                    "query($id: ID!, $v: Int!) {
                       aggregateAt(id: $id, asOf: {version: $v}) { aggregateType version state } }",
                    json!({"id": id, "v": version}),
                )
                .await["aggregateAt"]
                    .clone()
            }
        };
        let created = state(1).await;
        assert_eq!(created["aggregateType"], "Member");
        assert_eq!(created["state"]["active"], true, "{created}");
        assert_eq!(created["state"]["phone"], "13700137000");
        let revoked = state(2).await;
        assert_eq!(revoked["state"]["active"], false, "{revoked}");
    }

    async fn an_analyst_sees_sales_but_cannot_mutate_or_read_the_log(db) {
        let metrics = dinghuo_api::server::metrics::install().expect("a metrics recorder");
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let kept = submit(api.commands(), &world, 3).await;
        submit(api.commands(), &world, 4).await;
        api.project().await;
        let analyst = role(&world, Role::Analyst);
        let today = Utc::now().date_naive();
        let sales = "query($from: Date!, $to: Date!, $partner: ID) {
              salesDaily(from: $from, to: $to, partnerId: $partner) { nodes {
                day partnerId productId orders quantity amount { amount currency } } } }";
        let range = json!({
            "from": (today - chrono::Duration::days(1)).to_string(),
            "to": (today + chrono::Duration::days(1)).to_string(),
        });
        let data = api.data(analyst, sales, range.clone()).await;
        let rows = data["salesDaily"]["nodes"].as_array().expect("rows").clone();
        assert_eq!(rows.len(), 1, "{data}");
        assert_eq!(rows[0]["partnerId"], world.partner.to_string());
        assert_eq!(rows[0]["productId"], world.products[0].to_string());
        assert_eq!(rows[0]["orders"], 2);
        assert_eq!(rows[0]["quantity"], 7);
        // Product 0 costs 10.00.
        assert_eq!(rows[0]["amount"], json!({"amount": "70.00", "currency": "CNY"}));
        // Another partner's filter finds nothing; the admin sees the same rows.
        let mut elsewhere = range.clone();
        elsewhere["partner"] = json!(Uuid::now_v7().to_string());
        assert_eq!(api.data(analyst, sales, elsewhere).await["salesDaily"]["nodes"], json!([]));
        assert_eq!(api.data(world.admin, sales, range.clone()).await, data);
        let reversed = json!({"from": range["to"], "to": range["from"]});
        assert_eq!(error_codes(&api.run(analyst, sales, reversed).await), ["VALIDATION"]);

        // No mutation, no event log, no outbox for an analyst.
        let before = db.event_count().await;
        let refused = api
            .run(
                analyst,
                "mutation($id: ID!) { confirmOrder(input: {orderId: $id}) { orderId } }",
                json!({"id": kept.to_string()}),
            )
            .await;
        assert_eq!(error_codes(&refused), ["FORBIDDEN"], "{refused}");
        assert_eq!(db.event_count().await, before, "nothing appended");
        let rendered = metrics.render();
        assert!(
            rendered.lines().any(|line| line.starts_with("dinghuo_commands_total")
                && line.contains("command=\"confirmOrder\"")
                && line.contains("outcome=\"FORBIDDEN\"")),
            "the refused command is counted:\n{rendered}"
        );
        let events = api.run(analyst, EVENTS, json!({})).await;
        assert_eq!(error_codes(&events), ["FORBIDDEN"]);
        let notifications = "{ notifications { edges { node { id status phoneMasked template
                                 attempts queuedAt failureReason } } } }";
        assert_eq!(
            error_codes(&api.run(analyst, notifications, json!({})).await),
            ["FORBIDDEN"]
        );

        // Each area to its roles: the log to auditors, analytics to analysts, the outbox to
        // admins; contacts and employees to none of them.
        let auditor = role(&world, Role::Auditor);
        assert_eq!(error_codes(&api.run(auditor, sales, range.clone()).await), ["FORBIDDEN"]);
        assert_eq!(
            error_codes(&api.run(auditor, notifications, json!({})).await),
            ["FORBIDDEN"]
        );
        for outsider in [world.contact_actor(), role(&world, Role::Employee)] {
            assert_eq!(error_codes(&api.run(outsider, EVENTS, json!({})).await), ["FORBIDDEN"]);
            assert_eq!(
                error_codes(&api.run(outsider, sales, range.clone()).await),
                ["FORBIDDEN"]
            );
            assert_eq!(
                error_codes(&api.run(outsider, notifications, json!({})).await),
                ["FORBIDDEN"]
            );
        }

        // The admin sees the world's SMS, masked, without its text.
        let outbox = api.data(world.admin, notifications, json!({})).await;
        let messages = outbox["notifications"]["edges"].as_array().expect("edges").clone();
        assert_eq!(messages.len(), 1, "{outbox}");
        assert_eq!(messages[0]["node"]["phoneMasked"], "138****8000");
        assert!(!outbox.to_string().contains(World::PHONE));
    }

    async fn sales_are_paged_by_day_partner_and_product(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 3).await;
        api.commands()
            .submit_order(
                &world.contact_ctx(),
                SubmitOrderInput {
                    lines: world
                        .products
                        .iter()
                        .map(|product| OrderLineInput { product_id: product.to_string(), quantity: 1, sku: None })
                        .collect(),
                    note: None,
                },
            )
            .await
            .expect("submit order");
        api.project().await;
        let analyst = role(&world, Role::Analyst);
        let today = Utc::now().date_naive();
        let sales = "query($from: Date!, $to: Date!, $first: Int, $after: String) {
              salesDaily(from: $from, to: $to, first: $first, after: $after) {
                edges { node { productId } } pageInfo { hasNextPage endCursor } } }";
        let page = |first: i64, after: Value| {
            json!({
                "from": (today - chrono::Duration::days(1)).to_string(),
                "to": (today + chrono::Duration::days(1)).to_string(),
                "first": first,
                "after": after,
            })
        };
        let first = api.data(analyst, sales, page(2, Value::Null)).await;
        let second_after = first["salesDaily"]["pageInfo"]["endCursor"].clone();
        assert_eq!(first["salesDaily"]["pageInfo"]["hasNextPage"], true, "{first}");
        let second = api.data(analyst, sales, page(2, second_after)).await;
        assert_eq!(second["salesDaily"]["pageInfo"]["hasNextPage"], false, "{second}");
        let mut seen: Vec<Value> = connection_nodes(&first["salesDaily"])
            .into_iter()
            .chain(connection_nodes(&second["salesDaily"]))
            .map(|node| node["productId"].clone())
            .collect();
        assert_eq!(seen.len(), 3, "{first}\n{second}");
        // By product within the day and partner, each once.
        let mut sorted = seen.clone();
        sorted.sort_by_key(|id| id.as_str().unwrap_or_default().to_owned());
        assert_eq!(seen, sorted);
        seen.dedup();
        assert_eq!(seen.len(), 3);
        let refused = api.run(analyst, sales, page(101, Value::Null)).await;
        assert!(refused.get("errors").is_some(), "{refused}");
    }

    async fn the_onboarding_funnel_counts_what_the_world_did(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        submit(api.commands(), &world, 1).await;
        // A customer that never became a partner: recorded, and nothing more.
        api.commands()
            .record_customer(
                &world.admin_ctx(),
                RecordCustomerInput {
                    name: "Prospect".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");
        // Another tenant's funnel stays out.
        World::build(api.commands(), 1).await;
        api.project().await;

        let data = api
            .data(
                role(&world, Role::Analyst),
                "{ onboardingFunnel { steps { step reached medianHoursFromPrevious }
                                      medianHoursToFirstOrder } }",
                json!({}),
            )
            .await;
        let steps = data["onboardingFunnel"]["steps"].as_array().expect("steps").clone();
        let reached: Vec<(&str, i64)> = steps
            .iter()
            .map(|step| {
                (
                    step["step"].as_str().expect("a step"),
                    step["reached"].as_i64().expect("a count"),
                )
            })
            .collect();
        assert_eq!(
            reached,
            [
                ("CUSTOMER_RECORDED", 2),
                ("PARTNER_ADDED", 1),
                ("ORDERING_ASSIGNED", 1),
                ("CONTACT_ADDED", 1),
                ("CONTACT_BOUND", 1),
                ("FIRST_ORDER", 1),
            ]
        );
        assert_eq!(steps[0]["medianHoursFromPrevious"], Value::Null);
        for step in &steps[1..] {
            let hours = step["medianHoursFromPrevious"].as_f64().expect("a median");
            // The world was built in well under an hour, in funnel order.
            assert!((0.0..1.0).contains(&hours), "{step}");
        }
        let to_first_order = data["onboardingFunnel"]["medianHoursToFirstOrder"]
            .as_f64()
            .expect("a median");
        assert!((0.0..1.0).contains(&to_first_order));

        // A cohort after everything happened is empty.
        let later = api
            .data(
                world.admin,
                "query($from: DateTime) {
                   onboardingFunnel(recordedFrom: $from) { steps { reached } } }",
                json!({"from": (Utc::now() + chrono::Duration::hours(1)).to_rfc3339()}),
            )
            .await;
        assert!(later["onboardingFunnel"]["steps"]
            .as_array()
            .expect("steps")
            .iter()
            .all(|step| step["reached"] == 0));
    }

    async fn an_events_subscription_delivers_a_newly_appended_event(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let old = submit(api.commands(), &world, 1).await;
        let auditor = role(&world, Role::Auditor);
        let request = api.request(
            auditor,
            r#"subscription { events(eventTypes: ["OrderSubmitted"]) {
                 aggregateId eventType sequence payload } }"#,
            json!({}),
        );
        let mut stream = api.schema.execute_stream(request);

        // Appended a moment after the subscription started following the log.
        let commands = Arc::clone(&api.state.commands);
        let contact = world.contact_ctx();
        let product = world.products[0].to_string();
        let append = tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(300)).await;
            commands
                .submit_order(
                    &contact,
                    SubmitOrderInput {
                        lines: vec![OrderLineInput {
                            product_id: product,
                            quantity: 2,
                            sku: None,
                        }],
                        note: None,
                    },
                )
                .await
                .expect("submit order")
        });
        let mut answers = vec![next(&mut stream).await];
        let new = append.await.expect("the submitting task");
        let new_id = json!(new.to_string());
        // On Postgres the subscription starts at the last event that was safe to read (no older
        // transaction anywhere in the cluster still running), so an event committed just before
        // it may come first: it never misses one, at worst it repeats the recent past.
        if answers[0]["data"]["events"]["aggregateId"] != new_id {
            assert_eq!(
                answers[0]["data"]["events"]["aggregateId"],
                old.to_string(),
                "only the order just before may precede it"
            );
            answers.push(next(&mut stream).await);
        }
        for answer in &answers {
            assert!(answer.get("errors").is_none(), "{answer}");
            assert_eq!(answer["data"]["events"]["eventType"], "OrderSubmitted");
            assert_eq!(answer["data"]["events"]["sequence"], 1);
        }
        assert_eq!(answers[answers.len() - 1]["data"]["events"]["aggregateId"], new_id);

        // Not for analysts.
        let refused = api.request(
            role(&world, Role::Analyst),
            "subscription { events { eventType } }",
            json!({}),
        );
        let response = api
            .schema
            .execute_stream(refused)
            .next()
            .await
            .expect("an answer");
        let response = serde_json::to_value(&response).expect("JSON");
        assert_eq!(error_codes(&response), ["FORBIDDEN"]);
    }

    async fn an_order_subscription_answers_the_order_then_its_changes(db) {
        let api = Api::new(&db);
        let world = World::build(api.commands(), 1).await;
        let order = submit(api.commands(), &world, 1).await;
        api.project().await;
        let request = api.request(
            world.contact_actor(),
            "subscription($id: ID!) {
               orderUpdated(orderId: $id) { id status lines { quantity } } }",
            json!({"id": order.to_string()}),
        );
        let mut stream = api.schema.execute_stream(request);
        let now = next(&mut stream).await;
        assert_eq!(now["data"]["orderUpdated"]["status"], "SUBMITTED", "{now}");
        assert_eq!(now["data"]["orderUpdated"]["lines"][0]["quantity"], 1);

        confirm(api.commands(), &world, order).await;
        api.project().await;
        let changed = next(&mut stream).await;
        assert_eq!(changed["data"]["orderUpdated"]["status"], "CONFIRMED", "{changed}");

        // Another partner's contact (here: another tenant's) cannot watch it.
        let other = World::build(api.commands(), 1).await;
        let refused = api.request(
            other.contact_actor(),
            "subscription($id: ID!) { orderUpdated(orderId: $id) { id } }",
            json!({"id": order.to_string()}),
        );
        let response = api
            .schema
            .execute_stream(refused)
            .next()
            .await
            .expect("an answer");
        let response = serde_json::to_value(&response).expect("JSON");
        assert_eq!(error_codes(&response), ["NOT_FOUND"]);
    }
}

#[test]
fn the_schema_has_the_audit_analytics_and_subscription_fields() {
    let sdl = graphql::sdl();
    for needle in [
        "events(filter: AuditEventFilter",
        "aggregateHistory(id: ID!, first: Int, after: String): AggregateHistoryConnection",
        "aggregateAt(id: ID!, asOf: AsOf!)",
        "salesDaily(from: Date!, to: Date!",
        "onboardingFunnel",
        "notifications(",
        "orderUpdated(orderId: ID!)",
        "scalar Date",
        "scalar JSON",
    ] {
        assert!(sdl.contains(needle), "the SDL lacks {needle:?}:\n{sdl}");
    }
}

/// The issue's attack: 1,600 aliases of a full history page. Refused while validating, before
/// any resolver runs: here the database is one nobody listens on, so a query that reached it
/// would fail with `INTERNAL` instead.
#[tokio::test]
async fn the_alias_attack_on_a_history_is_refused_before_the_database_is_asked() {
    let nowhere = sqlx::postgres::PgPoolOptions::new()
        .acquire_timeout(Duration::from_secs(5))
        .connect_lazy("postgres://postgres@127.0.0.1:1/nowhere")
        .expect("a lazy pool");
    let commands = Commands::new(Database::Postgres(nowhere));
    let secret = JwtSecret::from_bytes(vec![7; 64]).expect("a long enough secret");
    let order_reader = OrderReads::shared(commands.database());
    let state = ApiState {
        commands: Arc::new(commands),
        tokens: Tokens::new(&secret),
        read_your_writes_timeout: Duration::from_secs(5),
        wakeup: Wakeup::new(),
        progress: dinghuo_projections::Progress::new(),
        order_reader,
        outbox_key: dinghuo_projections::outbox::OutboxKey::generate(),
        standings: Default::default(),
        sessions: Default::default(),
    };
    let api = Api {
        schema: graphql::build(state.clone(), Limits::default()),
        state,
    };
    let auditor = Actor::in_tenant(
        Uuid::now_v7(),
        Role::Auditor,
        TenantId::from_uuid(Uuid::now_v7()),
    );
    let aliases: String = (0..1_600)
        .map(|i| {
            format!(
                " h{i}: aggregateHistory(id: $id, first: 100) \
                 {{ nodes {{ payload }} }}"
            )
        })
        .collect();
    let id = json!({"id": Uuid::now_v7().to_string()});
    let refused = api
        .run(
            auditor,
            &format!("query($id: ID!) {{{aliases} }}"),
            id.clone(),
        )
        .await;
    let first_error = &refused["errors"][0];
    assert_eq!(refused["data"], Value::Null, "{first_error}");
    let message = first_error["message"].as_str().unwrap_or_default();
    assert!(message.contains("too complex"), "{first_error}");

    // One page passes validation, reaches for the database, and fails there: a database out of
    // reach is `UNAVAILABLE`.
    let reached = api
        .run(
            auditor,
            "query($id: ID!) { aggregateHistory(id: $id, first: 100) { edges { node { position } } } }",
            id,
        )
        .await;
    assert_eq!(error_codes(&reached), ["UNAVAILABLE"], "{reached}");
}

/// The next answer of a subscription, bounded.
async fn next(stream: &mut BoxStream<'static, async_graphql::Response>) -> Value {
    let response = tokio::time::timeout(Duration::from_secs(15), stream.next())
        .await
        .expect("an answer within the timeout")
        .expect("the stream is open");
    serde_json::to_value(&response).expect("JSON")
}
