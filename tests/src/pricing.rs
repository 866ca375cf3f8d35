//! Dealer pricing through the public GraphQL API (DESIGN §4, issue 18), as an admin sets it up
//! and a dealer's contact (or staff on its behalf) quotes and orders: the GraphQL documents, a
//! tenant with two dealers ([`Dealers`]), and a refusal checked the way a user notices it (its
//! code, and an event log that did not grow).

use dinghuo_commands::{Actor, Commands, Role};
use dinghuo_domain::PartnerId;
use serde_json::{json, Value};

use crate::server::TestServer;
use crate::{staff, TestDb, World};

/// Everything a price's reason says.
pub const REASON: &str =
    "kind priceListId priceListName priority minQuantity catalogPrice { amount currency } explanation";

/// `quote` with every field of its lines.
pub const QUOTE: &str = "query($p: ID, $l: [LineInput!]!) { quote(input: {partnerId: $p, lines: $l}) { partnerId total { amount currency } orderable lines { productId sku name unit quantity unitPrice { amount currency } lineTotal { amount } reason { kind priceListId priceListName priority minQuantity catalogPrice { amount currency } explanation } quantityRules { min multiple max } problems { code message } } } }";

/// An order with who placed it and each line's price and reason.
pub const ORDER_FIELDS: &str = "id status partnerId contactId placedBy { role id } lineCount total { amount currency } lines { lineNo productId sku quantity unitPrice { amount } lineTotal { amount } priceReason { kind priceListId priceListName priority minQuantity catalogPrice { amount currency } explanation } }";

/// `submitOrder` with everything it takes, answering the order with [`ORDER_FIELDS`].
pub fn submit_query() -> String {
    format!(
        "mutation($l: [SubmitOrderLineInput!]!, $e: MoneyInput, $p: ID, $k: String) {{ submitOrder(input: {{lines: $l, expectedTotal: $e, partnerId: $p, idempotencyKey: $k}}) {{ orderId order {{ {ORDER_FIELDS} }} }} }}"
    )
}

/// `order(id)` with [`ORDER_FIELDS`].
pub fn order_query() -> String {
    format!("query($id: ID!) {{ order(id: $id) {{ {ORDER_FIELDS} }} }}")
}

/// A price list's own fields and its prices.
pub const LIST_FIELDS: &str = "id name priority validFrom validTo scope { kind levels partnerIds } archived createdAt updatedAt entries(first: 50) { nodes { productId sku productName minQuantity unitPrice { amount currency } } }";

pub fn create_list_query() -> String {
    format!(
        "mutation($n: String!, $p: Int!, $s: PriceListScopeInput, $f: DateTime, $t: DateTime) {{ createPriceList(input: {{name: $n, priority: $p, scope: $s, validFrom: $f, validTo: $t}}) {{ priceListId priceList {{ {LIST_FIELDS} }} }} }}"
    )
}

pub fn set_price_query() -> String {
    format!(
        "mutation($l: ID!, $p: ID, $s: String, $m: Int, $a: String!) {{ setPrice(input: {{priceListId: $l, productId: $p, sku: $s, minQuantity: $m, unitPrice: {{amount: $a}}}}) {{ priceListId priceList {{ {LIST_FIELDS} }} }} }}"
    )
}

/// `categorizeProduct`, answering the product's category.
pub const CATEGORIZE: &str = "mutation($p: ID!, $c: String) { categorizeProduct(input: {productId: $p, category: $c}) { productId product { sku category } } }";

/// `setQuantityRules`, answering the product's rules.
pub const SET_RULES: &str = "mutation($p: ID!, $min: Int, $mul: Int, $max: Int) { setQuantityRules(input: {productId: $p, min: $min, multiple: $mul, max: $max}) { productId product { sku quantityRules { min multiple max } } } }";

/// `setPartnerLevel`, answering the partner's level.
pub const SET_LEVEL: &str = "mutation($p: ID!, $l: String) { setPartnerLevel(input: {partnerId: $p, level: $l}) { partnerId partner { id level assortment } } }";

/// `restrictPartnerAssortment`, answering the partner's assortment.
pub const RESTRICT: &str = "mutation($p: ID!, $c: [String!]!) { restrictPartnerAssortment(input: {partnerId: $p, categories: $c}) { partnerId partner { id level assortment } } }";

/// `repriceProduct` (the catalog price).
pub const REPRICE: &str = "mutation($p: ID!, $a: String!) { repriceProduct(input: {productId: $p, price: {amount: $a}}) { productId } }";

/// A requested line by SKU.
pub fn by_sku(sku: &str, quantity: i64) -> Value {
    json!({"sku": sku, "quantity": quantity})
}

/// A requested line by product id.
pub fn by_id(product: &str, quantity: i64) -> Value {
    json!({"productId": product, "quantity": quantity})
}

/// The SKU `World::build` gave its `i`-th product (priced `10 + i`.00).
pub fn sku(i: usize) -> String {
    format!("SKU-{i:04}")
}

/// A price list's scope as `PriceListScopeInput`.
pub fn all_partners() -> Value {
    json!({"kind": "ALL"})
}

pub fn levels(levels: &[&str]) -> Value {
    json!({"kind": "LEVELS", "levels": levels})
}

pub fn partners(partners: &[&str]) -> Value {
    json!({"kind": "PARTNERS", "partnerIds": partners})
}

/// Runs `query` as `token` and asserts that it was refused with `code` and appended no event.
/// Answers the error, for its extensions.
pub async fn assert_refused(
    test: &TestDb,
    server: &TestServer,
    token: Option<&str>,
    query: &str,
    variables: Value,
    code: &str,
) -> Value {
    let before = test.event_count().await;
    let response = server.graphql(token, query, variables).await;
    let error = staff::error_of(query, &response);
    assert_eq!(staff::code_of(&error), code, "{query}\n{response:#}");
    assert_eq!(
        test.event_count().await,
        before,
        "{query} was refused with {code} but appended events: {response:#}"
    );
    error
}

/// Runs `query` as `token`, asserting that it succeeded and appended no event (a change that
/// changes nothing).
pub async fn assert_nothing_appended(
    test: &TestDb,
    server: &TestServer,
    token: &str,
    query: &str,
    variables: Value,
) -> Value {
    let before = test.event_count().await;
    let data = server.ok(Some(token), query, variables).await;
    assert_eq!(
        test.event_count().await,
        before,
        "{query} changed nothing but appended events: {data:#}"
    );
    data
}

/// A tenant (the [`World`], with `products` products) and its two dealers: partner 1 with its
/// bound contact, and partner 2 ("Dealer Two") with its own; tokens for the admin and both
/// contacts; a server over it all.
pub struct Dealers {
    pub server: TestServer,
    pub commands: Commands,
    pub world: World,
    pub admin: String,
    /// Partner 1's contact.
    pub contact: String,
    pub partner2: PartnerId,
    pub contact2_actor: Actor,
    /// Partner 2's contact.
    pub contact2: String,
}

impl Dealers {
    pub async fn build(test: &TestDb, products: usize) -> Self {
        let commands = test.commands();
        let world = World::build(&commands, products).await;
        let admin_ctx = world.admin_ctx();
        let partner2 = World::add_partner(&commands, &admin_ctx, "Dealer Two").await;
        let contact2 =
            World::add_bound_contact(&commands, &admin_ctx, world.tenant, partner2, "13900139000")
                .await;
        let contact2_actor = Actor::in_tenant(contact2.as_uuid(), Role::Contact, world.tenant);
        let server = TestServer::start(&test.db, &[]).await;
        let admin = server.token(&world.admin);
        let contact = server.token(&world.contact_actor());
        let contact2 = server.token(&contact2_actor);
        Self {
            server,
            commands,
            world,
            admin,
            contact,
            partner2,
            contact2_actor,
            contact2,
        }
    }

    /// Partner 1.
    pub fn partner(&self) -> String {
        self.world.partner.to_string()
    }

    /// The `i`-th product's id.
    pub fn product(&self, i: usize) -> String {
        self.world.products[i].to_string()
    }

    /// Creates a price list as the admin; answers its id.
    pub async fn create_list(&self, name: &str, priority: i64, scope: Value) -> String {
        let data = self
            .server
            .ok(
                Some(&self.admin),
                &create_list_query(),
                json!({"n": name, "p": priority, "s": scope}),
            )
            .await;
        data["createPriceList"]["priceListId"]
            .as_str()
            .unwrap_or_else(|| panic!("a price list id: {data:#}"))
            .to_owned()
    }

    /// Sets `list`'s price of `sku` from `min` units up, as the admin; answers the list.
    pub async fn set_price(&self, list: &str, sku: &str, min: i64, amount: &str) -> Value {
        let data = self
            .server
            .ok(
                Some(&self.admin),
                &set_price_query(),
                json!({"l": list, "s": sku, "m": min, "a": amount}),
            )
            .await;
        data["setPrice"]["priceList"].clone()
    }

    /// Puts the `i`-th product in `category`, as the admin.
    pub async fn categorize(&self, i: usize, category: &str) {
        self.server
            .ok(
                Some(&self.admin),
                CATEGORIZE,
                json!({"p": self.product(i), "c": category}),
            )
            .await;
    }

    /// `quote` of `lines` as `token`, for `partner` when given; answers the quote.
    pub async fn quote(&self, token: &str, partner: Option<&str>, lines: Value) -> Value {
        let data = self
            .server
            .ok(Some(token), QUOTE, json!({"p": partner, "l": lines}))
            .await;
        data["quote"].clone()
    }

    /// `submitOrder` as `token`, asserting success; answers its payload.
    pub async fn submit(
        &self,
        token: &str,
        partner: Option<&str>,
        lines: Value,
        expected_total: Option<&str>,
    ) -> Value {
        let data = self
            .server
            .ok(
                Some(token),
                &submit_query(),
                submit_variables(partner, lines, expected_total),
            )
            .await;
        data["submitOrder"].clone()
    }
}

/// The variables of [`submit_query`].
pub fn submit_variables(
    partner: Option<&str>,
    lines: Value,
    expected_total: Option<&str>,
) -> Value {
    json!({
        "l": lines,
        "p": partner,
        "e": expected_total.map(|amount| json!({"amount": amount})),
    })
}

/// The amount of a `Money` value (`"12.50"`).
pub fn amount(money: &Value) -> &str {
    money["amount"]
        .as_str()
        .unwrap_or_else(|| panic!("an amount: {money:#}"))
}
