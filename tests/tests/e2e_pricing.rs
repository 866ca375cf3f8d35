//! Dealer pricing end to end (DESIGN §4, issue 18 item 6): a real server on both backends, every
//! new mutation and query through GraphQL as an admin, a dealer's contact, an employee and an
//! auditor use them.
//!
//! - The admin's terms: levels, assortments, categories, quantity rules, price lists with their
//!   scope, validity and prices, each change shown in its answer.
//! - Every price says why: the quote's reason is the order line's, and the auditor reads it in
//!   the stored event; the pricing function's choices (scope, validity, priority, ties, breaks,
//!   archival) seen through quotes.
//! - A contact sees, quotes and orders only its partner's assortment, at its partner's prices.
//! - Quick order (`parseOrderLines`) and `reorder`.
//! - Every refusal carries its code (and the extensions a client acts on) and appends nothing.
//! - Staff order on behalf of the partners they reach, and the order says who placed it.
//! - `updateContact`, `updateCustomer`, `unbindWechatAccount`.
//! - Repricing while 16 clients submit with a quoted total: each gets that total or
//!   `PRICE_CHANGED`, never a price it was not quoted.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use dinghuo_commands::{Actor, BindContactInput, RecordContactInput, RequestContext, Role};
use dinghuo_store::Database;
use dinghuo_tests::pricing::{
    self, all_partners, amount, assert_nothing_appended, assert_refused, by_id, by_sku, levels,
    partners, sku, Dealers, CATEGORIZE, QUOTE, REPRICE, RESTRICT, SET_LEVEL, SET_RULES,
};
use dinghuo_tests::{on_both_backends, staff, TestDb, World};
use serde_json::{json, Value};
use uuid::Uuid;

const CLEAR: &str = "mutation($p: ID!) { clearPartnerAssortment(input: {partnerId: $p}) { partnerId partner { id level assortment } } }";
const SET_VALIDITY: &str = "mutation($l: ID!, $f: DateTime, $t: DateTime) { setPriceListValidity(input: {priceListId: $l, validFrom: $f, validTo: $t}) { priceListId priceList { id validFrom validTo } } }";
const SET_SCOPE: &str = "mutation($l: ID!, $s: PriceListScopeInput!) { setPriceListScope(input: {priceListId: $l, scope: $s}) { priceListId priceList { id scope { kind levels partnerIds } } } }";
const REMOVE_PRICE: &str = "mutation($l: ID!, $p: ID, $s: String, $m: Int) { removePrice(input: {priceListId: $l, productId: $p, sku: $s, minQuantity: $m}) { priceListId priceList { entries(first: 50) { nodes { sku minQuantity unitPrice { amount } } } } } }";
const ARCHIVE: &str = "mutation($l: ID!) { archivePriceList(input: {priceListId: $l}) { priceListId priceList { id archived } } }";
const PRICE_LISTS: &str = "query($a: Boolean) { priceLists(first: 10, includeArchived: $a) { edges { node { id name priority archived } } } }";
const PRICE_LIST: &str = "query($id: ID!) { priceList(id: $id) { id name priority scope { kind levels partnerIds } archived entries(first: 2) { nodes { sku minQuantity unitPrice { amount } } pageInfo { hasNextPage endCursor } } } }";
const PARSE: &str = "query($t: String!) { parseOrderLines(text: $t) { line sku quantity productId error { code message } } }";
const REORDER: &str = "query($id: ID!) { reorder(orderId: $id) { partnerId total { amount } orderable lines { productId sku quantity unitPrice { amount } lineTotal { amount } reason { kind priceListName priority minQuantity } quantityRules { min multiple max } problems { code } } } }";
const MY_PRODUCTS: &str = "query($c: String) { products(first: 20, filter: {category: $c}) { nodes { sku category listed myPrice { amount { amount currency } reason { kind priceListId priceListName priority minQuantity catalogPrice { amount } explanation } } quantityRules { min multiple max } } } }";
const UPDATE_CONTACT: &str = "mutation($c: ID!, $n: String!, $p: String) { updateContact(input: {contactId: $c, name: $n, phone: $p}) { contactId contact { id name phoneMasked bound } } }";
const UPDATE_CUSTOMER: &str = "mutation($c: ID!, $n: String!, $p: String, $a: String) { updateCustomer(input: {customerId: $c, name: $n, phone: $p, address: $a}) { partnerId partner { id name phoneMasked address } } }";
const BIND_WECHAT: &str = "mutation { bindWechatAccount(input: {appId: \"wx0123456789abcdef\", name: \"Acme 订货\"}) { tenant { wechatAccounts { appId name } } } }";
const UNBIND_WECHAT: &str = "mutation($a: String!) { unbindWechatAccount(input: {appId: $a}) { tenantId tenant { wechatAccounts { appId name } } } }";
const VIEWER: &str = "{ viewer { id role } }";

/// A whole-second time `days` from now, as RFC 3339.
fn days_from_now(days: i64) -> String {
    let at = Utc::now() + TimeDelta::days(days);
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// The instant an RFC 3339 answer names (whatever its precision and offset).
fn instant(value: &Value) -> DateTime<Utc> {
    let text = value
        .as_str()
        .unwrap_or_else(|| panic!("a time: {value:#}"));
    DateTime::parse_from_rfc3339(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .with_timezone(&Utc)
}

fn nodes(connection: &Value) -> &Vec<Value> {
    connection["nodes"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection with nodes: {connection:#}"))
}

fn edges(connection: &Value) -> Vec<Value> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("a connection with edges: {connection:#}"))
        .iter()
        .map(|edge| edge["node"].clone())
        .collect()
}

/// `(sku, minQuantity, unit price)` of a list's entries.
fn entries(list: &Value) -> Vec<(String, i64, String)> {
    nodes(&list["entries"])
        .iter()
        .map(|entry| {
            (
                entry["sku"].as_str().expect("a SKU").to_owned(),
                entry["minQuantity"].as_i64().expect("a break"),
                amount(&entry["unitPrice"]).to_owned(),
            )
        })
        .collect()
}

/// The quote's line for `sku`.
fn line_of<'a>(quote: &'a Value, sku: &str) -> &'a Value {
    quote["lines"]
        .as_array()
        .unwrap_or_else(|| panic!("lines: {quote:#}"))
        .iter()
        .find(|line| line["sku"] == sku)
        .unwrap_or_else(|| panic!("no line of {sku} in {quote:#}"))
}

/// `(unit price, reason kind, list name, priority, break)` of a quoted line.
type Priced = (String, String, Option<String>, Option<i64>, Option<i64>);

fn priced(line: &Value) -> Priced {
    let reason = &line["reason"];
    (
        amount(&line["unitPrice"]).to_owned(),
        reason["kind"].as_str().expect("a reason").to_owned(),
        reason["priceListName"].as_str().map(str::to_owned),
        reason["priority"].as_i64(),
        reason["minQuantity"].as_i64(),
    )
}

fn list_price(price: &str, list: &str, priority: i64, from: i64) -> Priced {
    (
        price.to_owned(),
        "PRICE_LIST".to_owned(),
        Some(list.to_owned()),
        Some(priority),
        Some(from),
    )
}

fn catalog_price(price: &str) -> Priced {
    (price.to_owned(), "CATALOG".to_owned(), None, None, None)
}

/// The codes of a quoted line's problems.
fn problems(line: &Value) -> Vec<String> {
    line["problems"]
        .as_array()
        .unwrap_or_else(|| panic!("problems: {line:#}"))
        .iter()
        .map(|problem| problem["code"].as_str().expect("a code").to_owned())
        .collect()
}

fn id_of(value: &Value) -> String {
    value
        .as_str()
        .unwrap_or_else(|| panic!("an id: {value:#}"))
        .to_owned()
}

/// A token of `role` in the dealers' tenant, as `dinghuo token` mints it.
fn staff_token(dealers: &Dealers, role: Role, id: Uuid) -> String {
    dealers
        .server
        .token(&Actor::in_tenant(id, role, dealers.world.tenant))
}

/// A price list created with a validity as well; answers the whole payload.
async fn create_list_valid(
    dealers: &Dealers,
    name: &str,
    priority: i64,
    scope: Value,
    from: Option<&str>,
    to: Option<&str>,
) -> Value {
    let data = dealers
        .server
        .ok(
            Some(&dealers.admin),
            &pricing::create_list_query(),
            json!({"n": name, "p": priority, "s": scope, "f": from, "t": to}),
        )
        .await;
    data["createPriceList"].clone()
}

on_both_backends! {
    async fn an_admin_sets_levels_assortments_rules_and_price_lists_and_each_answer_shows_the_change(test) {
        let d = Dealers::build(&test, 3).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let partner = d.partner();

        // A dealer's tier, set, cleared and set again.
        let data = s.ok(admin, SET_LEVEL, json!({"p": partner, "l": "省级代理"})).await;
        assert_eq!(data["setPartnerLevel"]["partnerId"], partner.as_str());
        assert_eq!(data["setPartnerLevel"]["partner"]["level"], "省级代理", "{data:#}");
        let data = s.ok(admin, SET_LEVEL, json!({"p": partner, "l": null})).await;
        assert!(data["setPartnerLevel"]["partner"]["level"].is_null(), "{data:#}");
        let data = s.ok(admin, SET_LEVEL, json!({"p": partner, "l": "A"})).await;
        assert_eq!(data["setPartnerLevel"]["partner"]["level"], "A", "{data:#}");

        // Categories, then an assortment of them, lifted again.
        let data = s.ok(admin, CATEGORIZE, json!({"p": d.product(0), "c": "粮油"})).await;
        assert_eq!(data["categorizeProduct"]["productId"], d.product(0).as_str());
        assert_eq!(data["categorizeProduct"]["product"]["category"], "粮油", "{data:#}");
        d.categorize(1, "Drinks").await;
        let data = s.ok(admin, CATEGORIZE, json!({"p": d.product(2), "c": "Snacks"})).await;
        assert_eq!(data["categorizeProduct"]["product"]["category"], "Snacks", "{data:#}");
        let data = s.ok(admin, CATEGORIZE, json!({"p": d.product(2), "c": null})).await;
        assert!(data["categorizeProduct"]["product"]["category"].is_null(), "{data:#}");
        let data = s.ok(admin, RESTRICT, json!({"p": partner, "c": ["粮油", "Drinks"]})).await;
        let assortment: BTreeSet<&str> = data["restrictPartnerAssortment"]["partner"]["assortment"]
            .as_array()
            .unwrap_or_else(|| panic!("an assortment: {data:#}"))
            .iter()
            .map(|c| c.as_str().expect("a category"))
            .collect();
        assert_eq!(assortment, BTreeSet::from(["粮油", "Drinks"]), "{data:#}");
        let data = s.ok(admin, CLEAR, json!({"p": partner})).await;
        assert_eq!(data["clearPartnerAssortment"]["partnerId"], partner.as_str());
        assert!(data["clearPartnerAssortment"]["partner"]["assortment"].is_null(), "{data:#}");
        // Clearing a cleared assortment changes nothing.
        assert_nothing_appended(&test, s, &d.admin, CLEAR, json!({"p": partner})).await;

        // Quantity rules, set and lifted.
        let data = s
            .ok(admin, SET_RULES, json!({"p": d.product(0), "min": 2, "mul": 2, "max": 100}))
            .await;
        assert_eq!(
            data["setQuantityRules"]["product"]["quantityRules"],
            json!({"min": 2, "multiple": 2, "max": 100}),
            "{data:#}"
        );
        let data = s.ok(admin, SET_RULES, json!({"p": d.product(1), "mul": 6})).await;
        assert_eq!(
            data["setQuantityRules"]["product"]["quantityRules"],
            json!({"min": null, "multiple": 6, "max": null}),
            "{data:#}"
        );
        let data = s.ok(admin, SET_RULES, json!({"p": d.product(1)})).await;
        assert_eq!(
            data["setQuantityRules"]["product"]["quantityRules"],
            json!({"min": null, "multiple": null, "max": null}),
            "{data:#}"
        );

        // A list with a scope and a validity, and one with neither.
        let (from, to) = (days_from_now(-1), days_from_now(30));
        let created = create_list_valid(&d, "A 级经销商价", 10, levels(&["A"]), Some(&from), Some(&to)).await;
        let level_list = id_of(&created["priceListId"]);
        let list = &created["priceList"];
        assert_eq!(list["id"], level_list.as_str());
        assert_eq!(list["name"], "A 级经销商价");
        assert_eq!(list["priority"], 10);
        assert_eq!(list["scope"], json!({"kind": "LEVELS", "levels": ["A"], "partnerIds": []}), "{list:#}");
        assert_eq!(instant(&list["validFrom"]), instant(&json!(from)));
        assert_eq!(instant(&list["validTo"]), instant(&json!(to)));
        assert_eq!(list["archived"], false);
        assert!(entries(list).is_empty(), "{list:#}");
        let created = create_list_valid(&d, "Contract", 20, Value::Null, None, None).await;
        let contract = id_of(&created["priceListId"]);
        assert!(created["priceList"]["scope"].is_null(), "{created:#}");
        assert!(created["priceList"]["validFrom"].is_null(), "{created:#}");

        // Validity and scope, changed.
        let data = s.ok(admin, SET_VALIDITY, json!({"l": level_list, "f": null, "t": to})).await;
        assert_eq!(data["setPriceListValidity"]["priceListId"], level_list.as_str());
        assert!(data["setPriceListValidity"]["priceList"]["validFrom"].is_null(), "{data:#}");
        assert_eq!(instant(&data["setPriceListValidity"]["priceList"]["validTo"]), instant(&json!(to)));
        let data = s.ok(admin, SET_VALIDITY, json!({"l": level_list})).await;
        assert!(data["setPriceListValidity"]["priceList"]["validTo"].is_null(), "{data:#}");
        let data = s
            .ok(admin, SET_SCOPE, json!({"l": contract, "s": partners(&[&partner, &d.partner2.to_string()])}))
            .await;
        let scope = &data["setPriceListScope"]["priceList"]["scope"];
        assert_eq!(scope["kind"], "PARTNERS", "{data:#}");
        let named: BTreeSet<&str> = scope["partnerIds"].as_array().expect("partners").iter().map(|p| p.as_str().expect("an id")).collect();
        assert_eq!(named, BTreeSet::from([partner.as_str(), d.partner2.to_string().as_str()]), "{data:#}");
        let data = s.ok(admin, SET_SCOPE, json!({"l": contract, "s": all_partners()})).await;
        assert_eq!(data["setPriceListScope"]["priceList"]["scope"]["kind"], "ALL", "{data:#}");

        // Prices by product id and by SKU, a base price and volume breaks, by SKU then break.
        let data = s
            .ok(admin, &pricing::set_price_query(), json!({"l": level_list, "p": d.product(0), "a": "9.00"}))
            .await;
        assert_eq!(entries(&data["setPrice"]["priceList"]), vec![(sku(0), 1, "9.00".to_owned())]);
        d.set_price(&level_list, &sku(0), 10, "8.50").await;
        d.set_price(&level_list, &sku(1), 1, "10.50").await;
        let list = d.set_price(&level_list, &sku(0), 50, "8.00").await;
        assert_eq!(
            entries(&list),
            vec![
                (sku(0), 1, "9.00".to_owned()),
                (sku(0), 10, "8.50".to_owned()),
                (sku(0), 50, "8.00".to_owned()),
                (sku(1), 1, "10.50".to_owned()),
            ],
            "{list:#}"
        );
        let entry = &nodes(&list["entries"])[0];
        assert_eq!(entry["productId"], d.product(0).as_str());
        assert_eq!(entry["productName"], "Product 0");
        assert_eq!(entry["unitPrice"], json!({"amount": "9.00", "currency": "CNY"}));
        // A price set again replaces the old one.
        let list = d.set_price(&level_list, &sku(1), 1, "10.40").await;
        assert_eq!(entries(&list)[3], (sku(1), 1, "10.40".to_owned()));

        // One break removed by SKU, one by product id; removing what is not there does nothing.
        let data = s.ok(admin, REMOVE_PRICE, json!({"l": level_list, "s": sku(0), "m": 50})).await;
        assert_eq!(data["removePrice"]["priceListId"], level_list.as_str());
        let data = s.ok(admin, REMOVE_PRICE, json!({"l": level_list, "p": d.product(1)})).await;
        let left: Vec<(String, i64)> = nodes(&data["removePrice"]["priceList"]["entries"])
            .iter()
            .map(|e| (e["sku"].as_str().expect("a SKU").to_owned(), e["minQuantity"].as_i64().expect("a break")))
            .collect();
        assert_eq!(left, vec![(sku(0), 1), (sku(0), 10)], "{data:#}");
        assert_nothing_appended(&test, s, &d.admin, REMOVE_PRICE, json!({"l": level_list, "s": sku(0), "m": 50})).await;

        // The lists: highest priority first; one list with its entries a page at a time.
        let data = s.ok(admin, PRICE_LISTS, json!({})).await;
        let listed: Vec<(String, i64)> = edges(&data["priceLists"])
            .iter()
            .map(|l| (id_of(&l["id"]), l["priority"].as_i64().expect("a priority")))
            .collect();
        assert_eq!(listed, vec![(contract.clone(), 20), (level_list.clone(), 10)], "{data:#}");
        let data = s.ok(admin, PRICE_LIST, json!({"id": level_list})).await;
        let list = &data["priceList"];
        assert_eq!(list["name"], "A 级经销商价");
        assert_eq!(nodes(&list["entries"]).len(), 2, "{data:#}");
        assert_eq!(list["entries"]["pageInfo"]["hasNextPage"], false, "{data:#}");
        let data = s.ok(admin, PRICE_LIST, json!({"id": Uuid::now_v7().to_string()})).await;
        assert!(data["priceList"].is_null(), "{data:#}");
        // Staff who only read see the lists too.
        let auditor = staff_token(&d, Role::Auditor, Uuid::now_v7());
        let data = s.ok(Some(&auditor), PRICE_LIST, json!({"id": level_list})).await;
        assert_eq!(data["priceList"]["id"], level_list.as_str(), "{data:#}");

        // Archived: out of the default listing, still there when asked for.
        let data = s.ok(admin, ARCHIVE, json!({"l": contract})).await;
        assert_eq!(data["archivePriceList"]["priceList"]["archived"], true, "{data:#}");
        let data = s.ok(admin, PRICE_LISTS, json!({})).await;
        let listed: Vec<String> = edges(&data["priceLists"]).iter().map(|l| id_of(&l["id"])).collect();
        assert_eq!(listed, vec![level_list.clone()], "{data:#}");
        let data = s.ok(admin, PRICE_LISTS, json!({"a": true})).await;
        let listed: Vec<(String, bool)> = edges(&data["priceLists"])
            .iter()
            .map(|l| (id_of(&l["id"]), l["archived"].as_bool().expect("archived")))
            .collect();
        assert_eq!(listed, vec![(contract.clone(), true), (level_list.clone(), false)], "{data:#}");
        s.stop().await;
    }

    async fn every_price_says_why_in_the_quote_on_the_order_and_in_the_audit_log(test) {
        let d = Dealers::build(&test, 4).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let partner = d.partner();
        let partner2 = d.partner2.to_string();
        s.ok(admin, SET_LEVEL, json!({"p": partner, "l": "A"})).await;
        let promotion = create_list_valid(&d, "Spring promotion", 5, all_partners(), Some(&days_from_now(-1)), Some(&days_from_now(30))).await;
        let promotion = id_of(&promotion["priceListId"]);
        let level_list = d.create_list("A dealers", 10, levels(&["A"])).await;
        let contract = d.create_list("Dealer Two contract", 20, partners(&[&partner2])).await;
        d.set_price(&promotion, &sku(0), 1, "9.50").await;
        d.set_price(&promotion, &sku(2), 1, "11.80").await;
        d.set_price(&level_list, &sku(0), 1, "9.00").await;
        d.set_price(&level_list, &sku(0), 10, "8.50").await;
        d.set_price(&level_list, &sku(0), 50, "8.00").await;
        d.set_price(&level_list, &sku(1), 1, "10.50").await;
        d.set_price(&contract, &sku(0), 1, "7.00").await;

        // Partner 1 (level A): the level list's largest break at or below 12, its base price,
        // the promotion where the level list has no price, and the catalog.
        let lines = json!([by_id(&d.product(0), 12), by_sku(&sku(1), 2), by_sku(&sku(2), 1), by_sku(&sku(3), 1)]);
        let before = test.event_count().await;
        let quote = d.quote(&d.contact, None, lines.clone()).await;
        assert_eq!(test.event_count().await, before, "a quote appends nothing");
        assert_eq!(quote["partnerId"], partner.as_str());
        assert_eq!(quote["orderable"], true, "{quote:#}");
        assert_eq!(quote["total"], json!({"amount": "147.80", "currency": "CNY"}), "{quote:#}");
        let rice = line_of(&quote, &sku(0));
        assert_eq!(priced(rice), list_price("8.50", "A dealers", 10, 10), "{quote:#}");
        assert_eq!(amount(&rice["lineTotal"]), "102.00");
        assert_eq!(rice["productId"], d.product(0).as_str());
        assert_eq!((rice["name"].as_str(), rice["unit"].as_str(), rice["quantity"].as_i64()), (Some("Product 0"), Some("box"), Some(12)));
        assert_eq!(rice["reason"]["priceListId"], level_list.as_str());
        assert_eq!(rice["reason"]["catalogPrice"], json!({"amount": "10.00", "currency": "CNY"}));
        assert_eq!(rice["reason"]["explanation"], "Price list \"A dealers\" (priority 10), from 10 units; catalog 10.00");
        assert!(problems(rice).is_empty(), "{quote:#}");
        let oil = line_of(&quote, &sku(1));
        assert_eq!(priced(oil), list_price("10.50", "A dealers", 10, 1), "{quote:#}");
        assert_eq!(amount(&oil["lineTotal"]), "21.00");
        assert_eq!(oil["reason"]["catalogPrice"]["amount"], "11.00");
        let snack = line_of(&quote, &sku(2));
        assert_eq!(priced(snack), list_price("11.80", "Spring promotion", 5, 1), "{quote:#}");
        assert_eq!(snack["reason"]["priceListId"], promotion.as_str());
        let plain = line_of(&quote, &sku(3));
        assert_eq!(priced(plain), catalog_price("13.00"), "{quote:#}");
        assert!(plain["reason"]["priceListId"].is_null() && plain["reason"]["catalogPrice"].is_null(), "{quote:#}");
        assert_eq!(plain["reason"]["explanation"], "Catalog price");
        // The next break up.
        let quote_50 = d.quote(&d.contact, None, json!([by_sku(&sku(0), 50)])).await;
        assert_eq!(priced(line_of(&quote_50, &sku(0))), list_price("8.00", "A dealers", 10, 50));

        // Partner 2 sees its own prices for the same lines, never partner 1's.
        let quote2 = d.quote(&d.contact2, None, lines.clone()).await;
        assert_eq!(quote2["partnerId"], partner2.as_str());
        assert_eq!(priced(line_of(&quote2, &sku(0))), list_price("7.00", "Dealer Two contract", 20, 1));
        assert_eq!(priced(line_of(&quote2, &sku(1))), catalog_price("11.00"));
        assert_eq!(priced(line_of(&quote2, &sku(2))), list_price("11.80", "Spring promotion", 5, 1));

        // The order at the quoted total carries the quote's prices and reasons, line by line.
        let submitted = d.submit(&d.contact, None, lines.clone(), Some("147.80")).await;
        let order_id = id_of(&submitted["orderId"]);
        let order = &submitted["order"];
        assert_eq!(order["total"], json!({"amount": "147.80", "currency": "CNY"}), "{submitted:#}");
        assert_eq!(order["partnerId"], partner.as_str());
        assert_eq!(order["contactId"], d.world.contact.to_string().as_str());
        assert!(order["placedBy"].is_null(), "{order:#}");
        let order_lines = order["lines"].as_array().expect("lines");
        assert_eq!(order_lines.len(), 4);
        for (n, line) in order_lines.iter().enumerate() {
            assert_eq!(line["lineNo"], n + 1);
            let quoted = line_of(&quote, line["sku"].as_str().expect("a SKU"));
            assert_eq!(line["priceReason"], quoted["reason"], "line {n}: {order:#}");
            assert_eq!(line["unitPrice"]["amount"], quoted["unitPrice"]["amount"], "{order:#}");
            assert_eq!(line["lineTotal"], quoted["lineTotal"], "{order:#}");
        }
        // A later price does not touch the order; the next quote has it.
        d.set_price(&level_list, &sku(0), 10, "8.40").await;
        let data = s.ok(Some(&d.contact), &pricing::order_query(), json!({"id": order_id})).await;
        assert_eq!(data["order"]["lines"], order["lines"], "{data:#}");
        assert_eq!(data["order"]["total"]["amount"], "147.80");
        let requote = d.quote(&d.contact, None, lines.clone()).await;
        assert_eq!(priced(line_of(&requote, &sku(0))), list_price("8.40", "A dealers", 10, 10));

        // The auditor reads the reason where it is stored: the event, and the order's state.
        let auditor = staff_token(&d, Role::Auditor, Uuid::now_v7());
        let data = s
            .ok(
                Some(&auditor),
                "query($id: ID!) { events(first: 5, filter: {aggregateId: $id, eventTypes: [\"OrderSubmitted\"]}) { nodes { eventType eventVersion payload } } }",
                json!({"id": order_id}),
            )
            .await;
        let event = &nodes(&data["events"])[0];
        assert_eq!(event["eventVersion"], "2.0", "{event:#}");
        let payload = event["payload"].get("OrderSubmitted").unwrap_or(&event["payload"]);
        let stored = payload["lines"].as_array().unwrap_or_else(|| panic!("stored lines: {event:#}"));
        let stored_rice = stored.iter().find(|l| l["sku"] == sku(0).as_str()).expect("the line");
        assert_eq!(
            stored_rice["price_reason"],
            json!({
                "kind": "PRICE_LIST",
                "price_list_id": level_list,
                "name": "A dealers",
                "priority": 10,
                "min_quantity": 10,
                "catalog_price": {"amount_minor": 1000, "currency": "CNY"},
            }),
            "{event:#}"
        );
        assert_eq!(stored_rice["unit_price"]["amount_minor"], 850);
        let stored_plain = stored.iter().find(|l| l["sku"] == sku(3).as_str()).expect("the line");
        assert_eq!(stored_plain["price_reason"], json!({"kind": "CATALOG"}), "{event:#}");
        assert_eq!(payload["total"]["amount_minor"], 14780, "{event:#}");
        let data = s
            .ok(
                Some(&auditor),
                "query($id: ID!) { aggregateHistory(id: $id, first: 5) { nodes { eventType payload } } }",
                json!({"id": order_id}),
            )
            .await;
        let history = nodes(&data["aggregateHistory"]);
        assert_eq!(history[0]["eventType"], "OrderSubmitted", "{data:#}");
        assert_eq!(history[0]["payload"], event["payload"], "{data:#}");
        // The order's replayed state keeps what its rules need (its total), not its lines.
        let data = s
            .ok(
                Some(&auditor),
                "query($id: ID!) { aggregateAt(id: $id, asOf: {version: 1}) { aggregateType version state } }",
                json!({"id": order_id}),
            )
            .await;
        assert_eq!(data["aggregateAt"]["version"], 1, "{data:#}");
        assert_eq!(data["aggregateAt"]["state"]["total"]["amount_minor"], 14780, "{data:#}");

        // What the pricing function chooses as the lists change, seen through quotes.
        let one = json!([by_sku(&sku(0), 1)]);
        // An expired contract: partner 2 falls back to the tenant-wide promotion.
        s.ok(admin, SET_VALIDITY, json!({"l": contract, "t": days_from_now(-1)})).await;
        assert_eq!(priced(line_of(&d.quote(&d.contact2, None, one.clone()).await, &sku(0))), list_price("9.50", "Spring promotion", 5, 1));
        // One that starts tomorrow does not price today either.
        s.ok(admin, SET_VALIDITY, json!({"l": contract, "f": days_from_now(1)})).await;
        assert_eq!(priced(line_of(&d.quote(&d.contact2, None, one.clone()).await, &sku(0))), list_price("9.50", "Spring promotion", 5, 1));
        // An archived promotion prices nothing: the catalog.
        s.ok(admin, ARCHIVE, json!({"l": promotion})).await;
        assert_eq!(priced(line_of(&d.quote(&d.contact2, None, one.clone()).await, &sku(0))), catalog_price("10.00"));
        // Two lists of one priority: the newer wins.
        let newer = d.create_list("A dealers, autumn", 10, levels(&["A"])).await;
        d.set_price(&newer, &sku(1), 1, "10.20").await;
        let quote = d.quote(&d.contact, None, json!([by_sku(&sku(1), 1)])).await;
        assert_eq!(priced(line_of(&quote, &sku(1))), list_price("10.20", "A dealers, autumn", 10, 1));
        // A list scoped to partner 2 now: partner 1 no longer gets it, partner 2 does.
        s.ok(admin, SET_SCOPE, json!({"l": level_list, "s": partners(&[&partner2])})).await;
        let twelve = json!([by_sku(&sku(0), 12)]);
        assert_eq!(priced(line_of(&d.quote(&d.contact, None, twelve.clone()).await, &sku(0))), catalog_price("10.00"));
        assert_eq!(priced(line_of(&d.quote(&d.contact2, None, twelve).await, &sku(0))), list_price("8.40", "A dealers", 10, 10));
        // Off its level, partner 1 leaves the level list too.
        s.ok(admin, SET_LEVEL, json!({"p": partner, "l": null})).await;
        let quote = d.quote(&d.contact, None, json!([by_sku(&sku(1), 1)])).await;
        assert_eq!(priced(line_of(&quote, &sku(1))), catalog_price("11.00"));
        s.stop().await;
    }

    async fn a_contact_sees_and_quotes_only_its_assortment_each_product_at_its_own_price(test) {
        let d = Dealers::build(&test, 4).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let partner = d.partner();
        d.categorize(0, "粮油").await;
        d.categorize(1, "粮油").await;
        d.categorize(2, "Drinks").await;
        s.ok(admin, RESTRICT, json!({"p": partner, "c": ["粮油"]})).await;
        s.ok(admin, SET_RULES, json!({"p": d.product(1), "min": 2, "mul": 2, "max": 100})).await;
        s.ok(admin, SET_LEVEL, json!({"p": partner, "l": "A"})).await;
        let level_list = d.create_list("A dealers", 10, levels(&["A"])).await;
        d.set_price(&level_list, &sku(0), 1, "9.00").await;
        let contract = d.create_list("Dealer Two contract", 20, partners(&[&d.partner2.to_string()])).await;
        d.set_price(&contract, &sku(0), 1, "7.00").await;
        d.set_price(&contract, &sku(2), 1, "11.11").await;

        // Partner 1's contact: its two categories' products, each at its price and with its rules.
        let data = s.ok(Some(&d.contact), MY_PRODUCTS, json!({})).await;
        let mine = nodes(&data["products"]);
        let skus: Vec<&str> = mine.iter().map(|p| p["sku"].as_str().expect("a SKU")).collect();
        assert_eq!(skus, vec![sku(0), sku(1)], "{data:#}");
        assert_eq!(mine[0]["myPrice"]["amount"], json!({"amount": "9.00", "currency": "CNY"}), "{data:#}");
        let reason = &mine[0]["myPrice"]["reason"];
        assert_eq!((reason["kind"].as_str(), reason["priceListName"].as_str(), reason["priority"].as_i64(), reason["minQuantity"].as_i64()), (Some("PRICE_LIST"), Some("A dealers"), Some(10), Some(1)), "{data:#}");
        assert_eq!(reason["priceListId"], level_list.as_str());
        assert_eq!(reason["catalogPrice"]["amount"], "10.00");
        assert_eq!(mine[1]["myPrice"]["amount"]["amount"], "11.00", "{data:#}");
        assert_eq!(mine[1]["myPrice"]["reason"]["kind"], "CATALOG", "{data:#}");
        assert_eq!(mine[1]["quantityRules"], json!({"min": 2, "multiple": 2, "max": 100}), "{data:#}");
        assert_eq!(mine[0]["quantityRules"], json!({"min": null, "multiple": null, "max": null}));
        let data = s.ok(Some(&d.contact), MY_PRODUCTS, json!({"c": "Drinks"})).await;
        assert!(nodes(&data["products"]).is_empty(), "outside its assortment: {data:#}");

        // Partner 2's contact (no assortment): every listed product, at its contract's prices.
        s.ok(admin, "mutation($p: ID!) { delistProduct(input: {productId: $p}) { productId } }", json!({"p": d.product(3)})).await;
        let data = s.ok(Some(&d.contact2), MY_PRODUCTS, json!({})).await;
        let theirs = nodes(&data["products"]);
        let skus: Vec<&str> = theirs.iter().map(|p| p["sku"].as_str().expect("a SKU")).collect();
        assert_eq!(skus, vec![sku(0), sku(1), sku(2)], "{data:#}");
        assert_eq!(theirs[0]["myPrice"]["amount"]["amount"], "7.00");
        assert_eq!(theirs[0]["myPrice"]["reason"]["priceListName"], "Dealer Two contract");
        assert_eq!(theirs[1]["myPrice"]["reason"]["kind"], "CATALOG");
        assert!(!data.to_string().contains("A dealers"), "partner 2 sees partner 1's list: {data:#}");
        // Staff see the whole catalog, and no price of their own.
        let data = s.ok(admin, MY_PRODUCTS, json!({})).await;
        let all = nodes(&data["products"]);
        assert_eq!(all.len(), 4, "{data:#}");
        assert!(all.iter().all(|p| p["myPrice"].is_null()), "{data:#}");

        // A quote names each line's problems and refuses none.
        let lines = json!([
            by_sku(&sku(0), 3),
            by_sku(&sku(1), 3),
            by_id(&d.product(2), 1),
            by_sku(&sku(3), 1),
        ]);
        let before = test.event_count().await;
        let quote = d.quote(&d.contact, None, lines).await;
        assert_eq!(test.event_count().await, before);
        assert_eq!(quote["orderable"], false, "{quote:#}");
        assert!(problems(line_of(&quote, &sku(0))).is_empty(), "{quote:#}");
        let odd = line_of(&quote, &sku(1));
        assert_eq!(problems(odd), vec!["QUANTITY_NOT_ALLOWED"], "{quote:#}");
        assert_eq!(odd["quantityRules"], json!({"min": 2, "multiple": 2, "max": 100}));
        let outside = quote["lines"][2].clone();
        assert_eq!(outside["productId"], d.product(2).as_str());
        assert_eq!(problems(&outside), vec!["PRODUCT_NOT_AVAILABLE"], "{quote:#}");
        assert!(outside["unitPrice"].is_null() && outside["lineTotal"].is_null() && outside["name"].is_null(), "a product outside the assortment shows nothing of itself: {quote:#}");
        assert!(!quote.to_string().contains("11.11"), "partner 2's contract price leaks: {quote:#}");
        let delisted = &quote["lines"][3];
        assert_eq!(problems(delisted), vec!["PRODUCT_NOT_LISTED"], "{quote:#}");
        for quantity in [1, 102] {
            let quote = d.quote(&d.contact, None, json!([by_sku(&sku(1), quantity)])).await;
            assert_eq!(problems(&quote["lines"][0]), vec!["QUANTITY_NOT_ALLOWED"], "{quote:#}");
        }
        let quote = d.quote(&d.contact, None, json!([by_sku(&sku(1), 4)])).await;
        assert_eq!(quote["orderable"], true, "{quote:#}");
        assert_eq!(quote["total"]["amount"], "44.00");

        // Partner 2's lists, prices and assortment are not partner 1's to read.
        let code = s.refused(Some(&d.contact), QUOTE, json!({"p": d.partner2.to_string(), "l": [by_sku(&sku(0), 1)]})).await;
        assert_eq!(code, "NOT_FOUND");
        let code = s.refused(Some(&d.contact), PRICE_LISTS, json!({})).await;
        assert_eq!(code, "FORBIDDEN");
        let code = s.refused(Some(&d.contact), PRICE_LIST, json!({"id": contract})).await;
        assert_eq!(code, "FORBIDDEN");
        let data = s
            .ok(Some(&d.contact), "query($id: ID!) { partner(id: $id) { id assortment } }", json!({"id": d.partner2.to_string()}))
            .await;
        assert!(data["partner"].is_null(), "{data:#}");
        s.stop().await;
    }

    async fn pasted_lines_parse_by_line_number_and_a_past_order_reorders_at_todays_prices(test) {
        let d = Dealers::build(&test, 3).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        d.categorize(0, "粮油").await;
        d.categorize(1, "粮油").await;
        d.categorize(2, "Drinks").await;
        s.ok(admin, RESTRICT, json!({"p": d.partner(), "c": ["粮油"]})).await;

        // "SKU quantity" lines, blank lines skipped, each error at its line number.
        let text = "SKU-0000 3\n\nsku-0001\t5\nSKU-0002 1\nNOPE-1 2\nSKU-0000, 4\nSKU-0001 x\nSKU-0001\nSKU-0001 0\n";
        let data = s.ok(Some(&d.contact), PARSE, json!({"t": text})).await;
        let parsed = data["parseOrderLines"].as_array().expect("parsed lines");
        let summary: Vec<(i64, Option<i64>, Option<&str>)> = parsed
            .iter()
            .map(|l| (l["line"].as_i64().expect("a line"), l["quantity"].as_i64(), l["error"]["code"].as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (1, Some(3), None),
                (3, Some(5), None),
                (4, Some(1), Some("PRODUCT_NOT_AVAILABLE")),
                (5, Some(2), Some("PRODUCT_NOT_LISTED")),
                (6, Some(4), Some("VALIDATION")),
                (7, None, Some("VALIDATION")),
                (8, None, Some("VALIDATION")),
                (9, Some(0), Some("VALIDATION")),
            ],
            "{data:#}"
        );
        assert_eq!(parsed[0]["productId"], d.product(0).as_str());
        assert_eq!(parsed[1]["productId"], d.product(1).as_str(), "a lower-case SKU names the product: {data:#}");
        assert!(parsed[2..].iter().all(|l| l["productId"].is_null()), "{data:#}");
        assert!(parsed[4]["error"]["message"].as_str().expect("a message").contains("line 1"), "{data:#}");
        // Staff check lines against the catalog alone.
        let data = s.ok(admin, PARSE, json!({"t": "SKU-0002 1"})).await;
        assert!(data["parseOrderLines"][0]["error"].is_null(), "{data:#}");
        assert_eq!(data["parseOrderLines"][0]["productId"], d.product(2).as_str());

        // CSV with a header naming its columns, in any order, quoted cells and all.
        let csv = "name,qty,sku\n\"Jasmine rice\",4,SKU-0000\nOil,6,\"SKU-0001\"\n";
        let data = s.ok(Some(&d.contact), PARSE, json!({"t": csv})).await;
        let parsed = data["parseOrderLines"].as_array().expect("parsed lines");
        let summary: Vec<(i64, &str, Option<i64>, Option<&str>)> = parsed
            .iter()
            .map(|l| (l["line"].as_i64().expect("a line"), l["sku"].as_str().expect("a SKU"), l["quantity"].as_i64(), l["productId"].as_str()))
            .collect();
        assert_eq!(
            summary,
            vec![
                (2, "SKU-0000", Some(4), Some(d.product(0).as_str())),
                (3, "SKU-0001", Some(6), Some(d.product(1).as_str())),
            ],
            "{data:#}"
        );
        // At most 500 lines; nothing else is wrong with these.
        let many = "SKU-0000 1\n".repeat(501);
        let error = assert_refused(&test, s, Some(&d.contact), PARSE, json!({"t": many}), "VALIDATION").await;
        assert_eq!(error["extensions"]["field"], "text", "{error:#}");
        let data = s.ok(Some(&d.contact), PARSE, json!({"t": "SKU-0000 1\n".repeat(500)})).await;
        assert_eq!(data["parseOrderLines"].as_array().map(Vec::len), Some(500));

        // The parsed lines ordered, then reordered at today's prices and rules.
        let lines = json!([by_id(&d.product(0), 3), by_id(&d.product(1), 5)]);
        let submitted = d.submit(&d.contact, None, lines, None).await;
        let order_id = id_of(&submitted["orderId"]);
        assert_eq!(submitted["order"]["total"]["amount"], "85.00", "{submitted:#}");
        s.ok(admin, REPRICE, json!({"p": d.product(0), "a": "10.50"})).await;
        let list = d.create_list("Everyone", 1, all_partners()).await;
        d.set_price(&list, &sku(1), 1, "10.00").await;
        s.ok(admin, SET_RULES, json!({"p": d.product(1), "mul": 4})).await;
        let data = s.ok(Some(&d.contact), REORDER, json!({"id": order_id})).await;
        let again = &data["reorder"];
        assert_eq!(again["partnerId"], d.partner().as_str());
        let summary: Vec<(&str, i64, &str, &str)> = again["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|l| (l["sku"].as_str().expect("a SKU"), l["quantity"].as_i64().expect("a quantity"), amount(&l["unitPrice"]), l["reason"]["kind"].as_str().expect("a reason")))
            .collect();
        assert_eq!(summary, vec![("SKU-0000", 3, "10.50", "CATALOG"), ("SKU-0001", 5, "10.00", "PRICE_LIST")], "{data:#}");
        assert_eq!(again["lines"][1]["reason"]["priceListName"], "Everyone");
        assert_eq!(problems(&again["lines"][1]), vec!["QUANTITY_NOT_ALLOWED"], "{data:#}");
        assert_eq!(again["lines"][1]["quantityRules"]["multiple"], 4);
        assert_eq!(again["orderable"], false);
        assert_eq!(again["total"]["amount"], "81.50", "{data:#}");
        // The admin reorders it for the partner too; another partner's contact cannot see it.
        let data = s.ok(admin, REORDER, json!({"id": order_id})).await;
        assert_eq!(data["reorder"]["partnerId"], d.partner().as_str());
        assert_eq!(data["reorder"]["total"]["amount"], "81.50");
        assert_refused(&test, s, Some(&d.contact2), REORDER, json!({"id": order_id}), "NOT_FOUND").await;
        assert_refused(&test, s, Some(&d.contact), REORDER, json!({"id": Uuid::now_v7().to_string()}), "NOT_FOUND").await;
        s.stop().await;
    }

    async fn every_pricing_refusal_answers_its_code_with_what_the_client_needs_and_appends_nothing(test) {
        let d = Dealers::build(&test, 3).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let contact = Some(d.contact.as_str());
        let submit = pricing::submit_query();
        d.categorize(0, "粮油").await;
        d.categorize(2, "粮油").await;
        d.categorize(1, "Drinks").await;
        s.ok(admin, RESTRICT, json!({"p": d.partner(), "c": ["粮油"]})).await;
        s.ok(admin, SET_RULES, json!({"p": d.product(2), "min": 2, "mul": 2, "max": 10})).await;

        // PRODUCT_NOT_AVAILABLE: outside the assortment, with the product.
        let error = assert_refused(&test, s, contact, &submit, pricing::submit_variables(None, json!([by_sku(&sku(1), 1)]), None), "PRODUCT_NOT_AVAILABLE").await;
        assert_eq!(error["extensions"]["productId"], d.product(1).as_str(), "{error:#}");

        // QUANTITY_NOT_ALLOWED: the line (from 0) and its product's rules.
        for (quantity, what) in [(3, "not a multiple"), (1, "below the minimum"), (12, "above the maximum")] {
            let lines = json!([by_sku(&sku(0), 1), by_sku(&sku(2), quantity)]);
            let error = assert_refused(&test, s, contact, &submit, pricing::submit_variables(None, lines, None), "QUANTITY_NOT_ALLOWED").await;
            let ext = &error["extensions"];
            assert_eq!((ext["line"].as_i64(), ext["min"].as_i64(), ext["multiple"].as_i64(), ext["max"].as_i64()), (Some(1), Some(2), Some(2), Some(10)), "{what}: {error:#}");
            assert_eq!(ext["productId"], d.product(2).as_str());
        }
        // A rule that is not set is null in the extensions.
        s.ok(admin, SET_RULES, json!({"p": d.product(0), "mul": 5})).await;
        let error = assert_refused(&test, s, contact, &submit, pricing::submit_variables(None, json!([by_sku(&sku(0), 7)]), None), "QUANTITY_NOT_ALLOWED").await;
        let ext = &error["extensions"];
        assert_eq!((ext["line"].as_i64(), ext["min"].clone(), ext["multiple"].as_i64(), ext["max"].clone()), (Some(0), Value::Null, Some(5), Value::Null), "{error:#}");

        // PRICE_CHANGED: a quote, a price that moves, the old total refused with the new quote.
        let lines = json!([by_sku(&sku(0), 5), by_sku(&sku(2), 2)]);
        let quote = d.quote(&d.contact, None, lines.clone()).await;
        assert_eq!(quote["total"]["amount"], "74.00", "{quote:#}");
        s.ok(admin, REPRICE, json!({"p": d.product(2), "a": "12.50"})).await;
        let error = assert_refused(&test, s, contact, &submit, pricing::submit_variables(None, lines.clone(), Some("74.00")), "PRICE_CHANGED").await;
        let new_quote = &error["extensions"]["quote"];
        assert_eq!(new_quote["total"]["amount"], "75.00", "{error:#}");
        assert_eq!(line_of(new_quote, &sku(2))["unitPrice"]["amount"], "12.50", "{error:#}");
        assert_eq!(line_of(new_quote, &sku(2))["reason"]["kind"], "CATALOG", "{error:#}");
        // … and the new quote's total orders.
        let submitted = d.submit(&d.contact, None, lines.clone(), Some("75.00")).await;
        assert_eq!(submitted["order"]["total"]["amount"], "75.00");
        // A price list that starts to apply moves the total as well.
        let list = d.create_list("Everyone", 1, all_partners()).await;
        d.set_price(&list, &sku(0), 1, "9.00").await;
        let error = assert_refused(&test, s, contact, &submit, pricing::submit_variables(None, lines, Some("75.00")), "PRICE_CHANGED").await;
        assert_eq!(error["extensions"]["quote"]["total"]["amount"], "70.00", "{error:#}");
        assert_eq!(line_of(&error["extensions"]["quote"], &sku(0))["reason"]["priceListName"], "Everyone", "{error:#}");

        // VALIDATION, with the field at fault.
        let create = pricing::create_list_query();
        let set_price = pricing::set_price_query();
        let now = days_from_now(0);
        for (query, variables, field) in [
            (create.as_str(), json!({"n": "Too high", "p": 1001}), "priority"),
            (create.as_str(), json!({"n": "  ", "p": 1}), "name"),
            (create.as_str(), json!({"n": "No levels", "p": 1, "s": {"kind": "LEVELS", "levels": []}}), "scope.levels"),
            (create.as_str(), json!({"n": "Backwards", "p": 1, "f": now, "t": days_from_now(-1)}), "validTo"),
            (SET_VALIDITY, json!({"l": list, "f": now, "t": now}), "validTo"),
            (SET_SCOPE, json!({"l": list, "s": {"kind": "PARTNERS", "partnerIds": ["not-an-id"]}}), "scope.partnerIds[0]"),
            (set_price.as_str(), json!({"l": list, "s": sku(0), "a": "-1.00"}), "unitPrice.amount"),
            (set_price.as_str(), json!({"l": list, "s": sku(0), "m": 0, "a": "1.00"}), "minQuantity"),
            (SET_RULES, json!({"p": d.product(0), "min": 0}), "min"),
            (RESTRICT, json!({"p": d.partner(), "c": []}), "categories"),
            (submit.as_str(), pricing::submit_variables(None, json!([{"quantity": 1}]), None), "lines[0].productId"),
            (submit.as_str(), pricing::submit_variables(None, json!([by_sku(&sku(0), 0)]), None), "lines[0].quantity"),
            (submit.as_str(), pricing::submit_variables(None, json!([by_sku(&sku(0), 5)]), Some("lots")), "expectedTotal.amount"),
            (QUOTE, json!({"l": vec![by_sku(&sku(0), 1); 201]}), "lines"),
        ] {
            let token = if query == submit.as_str() || query == QUOTE { contact } else { admin };
            let error = assert_refused(&test, s, token, query, variables.clone(), "VALIDATION").await;
            assert_eq!(error["extensions"]["field"], field, "{query} {variables}: {error:#}");
        }

        // NOT_FOUND: another tenant's list is no list at all to this tenant's admin.
        let other = World::build(&d.commands, 1).await;
        let other_admin = s.token(&other.admin);
        let other_admin = Some(other_admin.as_str());
        for (query, variables) in [
            (pricing::set_price_query(), json!({"l": list, "s": sku(0), "a": "1.00"})),
            (REMOVE_PRICE.to_owned(), json!({"l": list, "s": sku(0)})),
            (SET_SCOPE.to_owned(), json!({"l": list, "s": all_partners()})),
            (SET_VALIDITY.to_owned(), json!({"l": list})),
            (ARCHIVE.to_owned(), json!({"l": list})),
        ] {
            assert_refused(&test, s, other_admin, &query, variables, "NOT_FOUND").await;
        }
        let data = s.ok(other_admin, PRICE_LIST, json!({"id": list})).await;
        assert!(data["priceList"].is_null(), "{data:#}");
        let data = s.ok(other_admin, PRICE_LISTS, json!({"a": true})).await;
        assert!(edges(&data["priceLists"]).is_empty(), "{data:#}");
        assert_refused(&test, s, admin, &pricing::set_price_query(), json!({"l": Uuid::now_v7().to_string(), "s": sku(0), "a": "1.00"}), "NOT_FOUND").await;

        // INVALID_STATE: an archived list takes no more prices or terms.
        s.ok(admin, ARCHIVE, json!({"l": list})).await;
        assert_refused(&test, s, admin, &pricing::set_price_query(), json!({"l": list, "s": sku(2), "a": "1.00"}), "INVALID_STATE").await;
        assert_refused(&test, s, admin, SET_SCOPE, json!({"l": list, "s": all_partners()}), "INVALID_STATE").await;

        // FORBIDDEN: a contact runs none of the admin's mutations and reads no price list.
        let level_list = d.create_list("A dealers", 10, levels(&["A"])).await;
        for (query, variables) in [
            (SET_LEVEL.to_owned(), json!({"p": d.partner(), "l": "VIP"})),
            (RESTRICT.to_owned(), json!({"p": d.partner(), "c": ["Drinks"]})),
            (CLEAR.to_owned(), json!({"p": d.partner()})),
            (CATEGORIZE.to_owned(), json!({"p": d.product(1), "c": "粮油"})),
            (SET_RULES.to_owned(), json!({"p": d.product(2)})),
            (create.clone(), json!({"n": "Mine", "p": 1000, "s": all_partners()})),
            (SET_VALIDITY.to_owned(), json!({"l": level_list})),
            (SET_SCOPE.to_owned(), json!({"l": level_list, "s": all_partners()})),
            (pricing::set_price_query(), json!({"l": level_list, "s": sku(0), "a": "0.01"})),
            (REMOVE_PRICE.to_owned(), json!({"l": level_list, "s": sku(0)})),
            (ARCHIVE.to_owned(), json!({"l": level_list})),
            (REPRICE.to_owned(), json!({"p": d.product(0), "a": "0.01"})),
            (UPDATE_CONTACT.to_owned(), json!({"c": d.world.contact.to_string(), "n": "Me", "p": World::PHONE})),
            (UPDATE_CUSTOMER.to_owned(), json!({"c": d.partner(), "n": "Mine now"})),
            (UNBIND_WECHAT.to_owned(), json!({"a": "wx0123456789abcdef"})),
            (PRICE_LISTS.to_owned(), json!({})),
            (PRICE_LIST.to_owned(), json!({"id": level_list})),
        ] {
            assert_refused(&test, s, contact, &query, variables, "FORBIDDEN").await;
        }
        s.stop().await;
    }

    async fn staff_order_on_behalf_only_of_the_partners_they_reach_and_the_order_says_who(test) {
        let d = Dealers::build(&test, 3).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let partner = d.partner();
        let partner2 = d.partner2.to_string();
        let admin_ctx = d.world.admin_ctx();
        let linked = World::add_employee(&d.commands, &admin_ctx, d.world.partner, "13700137000").await;
        let elsewhere = World::add_employee(&d.commands, &admin_ctx, d.partner2, "13700137001").await;
        let unlinked = d
            .commands
            .record_contact(
                &admin_ctx,
                RecordContactInput {
                    name: "Wang Wu".into(),
                    phone: Some("13700137002".into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee");
        let linked_token = staff_token(&d, Role::Employee, linked.as_uuid());
        let elsewhere_token = staff_token(&d, Role::Employee, elsewhere.as_uuid());
        let unlinked_token = staff_token(&d, Role::Employee, unlinked.as_uuid());
        d.categorize(0, "粮油").await;
        s.ok(admin, RESTRICT, json!({"p": partner, "c": ["粮油"]})).await;
        let contract = d.create_list("Dealer One contract", 20, partners(&[&partner])).await;
        d.set_price(&contract, &sku(0), 1, "8.00").await;
        let lines = json!([by_sku(&sku(0), 2)]);
        let submit = pricing::submit_query();

        // The admin orders for partner 1, at partner 1's prices, as itself.
        let quote = d.quote(&d.admin, Some(&partner), lines.clone()).await;
        assert_eq!(quote["total"]["amount"], "16.00", "{quote:#}");
        let submitted = d.submit(&d.admin, Some(&partner), lines.clone(), Some("16.00")).await;
        let by_admin = id_of(&submitted["orderId"]);
        let order = &submitted["order"];
        assert_eq!(order["partnerId"], partner.as_str());
        assert!(order["contactId"].is_null(), "{order:#}");
        assert_eq!(order["placedBy"], json!({"role": "ADMIN", "id": d.world.admin.id.to_string()}), "{order:#}");
        assert_eq!(order["lines"][0]["priceReason"]["priceListName"], "Dealer One contract");
        // Staff name the partner; the partner's terms hold for them too.
        let error = assert_refused(&test, s, admin, &submit, pricing::submit_variables(None, lines.clone(), None), "VALIDATION").await;
        assert_eq!(error["extensions"]["field"], "partnerId", "{error:#}");
        assert_refused(&test, s, admin, &submit, pricing::submit_variables(Some(&partner), json!([by_sku(&sku(1), 1)]), None), "PRODUCT_NOT_AVAILABLE").await;

        // An employee linked to partner 1 orders for it, and nowhere else.
        let quote = d.quote(&linked_token, Some(&partner), lines.clone()).await;
        assert_eq!(quote["total"]["amount"], "16.00");
        let submitted = d.submit(&linked_token, Some(&partner), lines.clone(), Some("16.00")).await;
        let by_employee = id_of(&submitted["orderId"]);
        assert_eq!(submitted["order"]["placedBy"], json!({"role": "EMPLOYEE", "id": linked.to_string()}), "{submitted:#}");
        assert!(submitted["order"]["contactId"].is_null());
        for (token, partner_id) in [
            (&linked_token, &partner2),
            (&elsewhere_token, &partner),
            (&unlinked_token, &partner),
        ] {
            assert_refused(&test, s, Some(token), &submit, pricing::submit_variables(Some(partner_id), json!([by_sku(&sku(2), 1)]), None), "NOT_FOUND").await;
            assert_refused(&test, s, Some(token), QUOTE, json!({"p": partner_id, "l": [by_sku(&sku(2), 1)]}), "NOT_FOUND").await;
        }
        // The employee linked to partner 2 orders for partner 2.
        let submitted = d.submit(&elsewhere_token, Some(&partner2), json!([by_sku(&sku(2), 1)]), None).await;
        assert_eq!(submitted["order"]["placedBy"]["id"], elsewhere.to_string().as_str());

        // A contact orders for its own partner only, naming it or not.
        assert_refused(&test, s, Some(&d.contact), &submit, pricing::submit_variables(Some(&partner2), lines.clone(), None), "NOT_FOUND").await;
        let submitted = d.submit(&d.contact, Some(&partner), lines.clone(), None).await;
        assert!(submitted["order"]["placedBy"].is_null(), "{submitted:#}");
        assert_eq!(submitted["order"]["contactId"], d.world.contact.to_string().as_str());
        // Another tenant's partner does not exist for this admin.
        let other = World::build(&d.commands, 1).await;
        assert_refused(&test, s, admin, &submit, pricing::submit_variables(Some(&other.partner.to_string()), lines.clone(), None), "NOT_FOUND").await;

        // The orders show who placed them, to the partner's contact and in the lists.
        let data = s.ok(Some(&d.contact), &pricing::order_query(), json!({"id": by_employee})).await;
        assert_eq!(data["order"]["placedBy"]["role"], "EMPLOYEE", "{data:#}");
        let data = s
            .ok(admin, "query($p: ID!) { orders(first: 10, filter: {partnerId: $p}) { nodes { id placedBy { role id } contact { id } } } }", json!({"p": partner}))
            .await;
        let placed: BTreeSet<(String, Option<String>)> = nodes(&data["orders"])
            .iter()
            .map(|o| (id_of(&o["id"]), o["placedBy"]["role"].as_str().map(str::to_owned)))
            .collect();
        assert!(placed.contains(&(by_admin, Some("ADMIN".to_owned()))), "{data:#}");
        assert!(placed.contains(&(by_employee.clone(), Some("EMPLOYEE".to_owned()))), "{data:#}");
        assert_eq!(placed.len(), 3, "{data:#}");
        let data = s
            .ok(Some(&linked_token), "{ orders(first: 10) { nodes { id placedBy { id } } } }", json!({}))
            .await;
        assert_eq!(nodes(&data["orders"]).len(), 3, "the employee sees its partner's orders: {data:#}");
        s.stop().await;
    }

    async fn contact_customer_and_wechat_updates_show_and_a_new_phone_ends_the_contacts_token(test) {
        let d = Dealers::build(&test, 1).await;
        let s = &d.server;
        let admin = Some(d.admin.as_str());
        let contact_id = d.world.contact.to_string();

        // A new name keeps the binding, and the contact's token.
        let data = s.ok(admin, UPDATE_CONTACT, json!({"c": contact_id, "n": "Li Lei (采购)", "p": World::PHONE})).await;
        let shown = &data["updateContact"]["contact"];
        assert_eq!((shown["name"].as_str(), shown["bound"].as_bool()), (Some("Li Lei (采购)"), Some(true)), "{data:#}");
        s.ok(Some(&d.contact), VIEWER, json!({})).await;
        // A partner contact keeps a phone.
        assert_refused(&test, s, admin, UPDATE_CONTACT, json!({"c": contact_id, "n": "Li Lei"}), "CONTACT_HAS_NO_PHONE").await;
        // A new phone clears the binding: the old token stops standing at once.
        let data = s.ok(admin, UPDATE_CONTACT, json!({"c": contact_id, "n": "Li Lei", "p": "138 0013 8111"})).await;
        let shown = &data["updateContact"]["contact"];
        assert_eq!((shown["phoneMasked"].as_str(), shown["bound"].as_bool()), (Some("138****8111"), Some(false)), "{data:#}");
        for (query, variables) in [
            (VIEWER.to_owned(), json!({})),
            (MY_PRODUCTS.to_owned(), json!({})),
            (pricing::submit_query(), pricing::submit_variables(None, json!([by_sku(&sku(0), 1)]), None)),
        ] {
            assert_refused(&test, s, Some(&d.contact), &query, variables, "UNAUTHENTICATED").await;
        }
        // Partner 2's contact is untouched; partner 1's binds again with the new number.
        s.ok(Some(&d.contact2), VIEWER, json!({})).await;
        let me = d.world.contact_actor();
        d.commands
            .bind_contact(
                &RequestContext::new(me),
                BindContactInput {
                    contact_id: contact_id.clone(),
                    phone: "13800138111".into(),
                    channel: "MINI_PROGRAM".into(),
                    wechat_open_id: None,
                },
            )
            .await
            .expect("bind with the new number");
        let fresh = s.contact_token(&d.commands, &me).await;
        let data = s.ok(Some(&fresh), VIEWER, json!({})).await;
        assert_eq!(data["viewer"]["id"], contact_id.as_str());
        assert_refused(&test, s, Some(&d.contact), VIEWER, json!({}), "UNAUTHENTICATED").await;

        // The customer's details as the CRM has them now.
        let data = s
            .ok(admin, UPDATE_CUSTOMER, json!({"c": d.partner(), "n": "Dealer One Trading", "p": "13912345678", "a": "上海市浦东新区 1 号"}))
            .await;
        assert_eq!(
            data["updateCustomer"]["partner"],
            json!({"id": d.partner(), "name": "Dealer One Trading", "phoneMasked": "139****5678", "address": "上海市浦东新区 1 号"}),
            "{data:#}"
        );
        assert_refused(&test, s, admin, UPDATE_CUSTOMER, json!({"c": Uuid::now_v7().to_string(), "n": "Nobody"}), "NOT_FOUND").await;

        // An official account unbound, then there is nothing left to unbind.
        let data = s.ok(admin, BIND_WECHAT, json!({})).await;
        assert_eq!(data["bindWechatAccount"]["tenant"]["wechatAccounts"][0]["appId"], "wx0123456789abcdef");
        let data = s.ok(admin, UNBIND_WECHAT, json!({"a": "wx0123456789abcdef"})).await;
        assert_eq!(data["unbindWechatAccount"]["tenantId"], d.world.tenant.to_string().as_str());
        assert_eq!(data["unbindWechatAccount"]["tenant"]["wechatAccounts"], json!([]), "{data:#}");
        assert_refused(&test, s, admin, UNBIND_WECHAT, json!({"a": "wx0123456789abcdef"}), "NOT_FOUND").await;
        s.stop().await;
    }

    async fn repricing_while_sixteen_clients_submit_a_quoted_total_never_charges_another_total(test) {
        let d = Arc::new(Dealers::build(&test, 2).await);
        let list = d.create_list("Everyone", 10, all_partners()).await;
        d.set_price(&list, &sku(0), 1, "9.00").await;
        let lines = json!([by_sku(&sku(0), 2), by_sku(&sku(1), 1)]);
        let quote = d.quote(&d.contact, None, lines.clone()).await;
        let expected = amount(&quote["total"]).to_owned();
        assert_eq!(expected, "29.00");
        let before = submitted_orders(&test).await;

        // The admin moves both prices up, step by step, while the clients submit.
        let repricer = {
            let d = Arc::clone(&d);
            tokio::spawn(async move {
                for step in 1..=6 {
                    d.set_price(&list, &sku(0), 1, &format!("9.{step:02}")).await;
                    d.server
                        .ok(Some(&d.admin), REPRICE, json!({"p": d.product(1), "a": format!("11.{step:02}")}))
                        .await;
                }
            })
        };
        let clients: Vec<_> = (0..16)
            .map(|_| {
                let d = Arc::clone(&d);
                let lines = lines.clone();
                let expected = expected.clone();
                tokio::spawn(async move {
                    let mut answers = Vec::new();
                    for _ in 0..3 {
                        let response = d
                            .server
                            .graphql(
                                Some(&d.contact),
                                &pricing::submit_query(),
                                pricing::submit_variables(None, lines.clone(), Some(&expected)),
                            )
                            .await;
                        answers.push(response);
                    }
                    answers
                })
            })
            .collect();
        let mut ordered = Vec::new();
        let mut changed = 0;
        for client in clients {
            for response in client.await.expect("a client") {
                match response["errors"][0]["extensions"]["code"].as_str() {
                    None => {
                        let payload = &response["data"]["submitOrder"];
                        ordered.push(id_of(&payload["orderId"]));
                        if !payload["order"].is_null() {
                            assert_eq!(payload["order"]["total"]["amount"], expected.as_str(), "charged an unquoted total: {response:#}");
                        }
                    }
                    Some("PRICE_CHANGED") => {
                        let now = amount(&response["errors"][0]["extensions"]["quote"]["total"]);
                        assert_ne!(now, expected, "PRICE_CHANGED with the quoted total: {response:#}");
                        changed += 1;
                    }
                    Some(other) => panic!("neither ordered nor PRICE_CHANGED but {other}: {response:#}"),
                }
            }
        }
        repricer.await.expect("the repricing");
        assert_eq!(ordered.len() + changed, 48);
        // One submission per order, none for a refusal; each order at the quoted total.
        assert_eq!(submitted_orders(&test).await - before, i64::try_from(ordered.len()).expect("a count"));
        for id in &ordered {
            let data = d.server.ok(Some(&d.admin), &pricing::order_query(), json!({"id": id})).await;
            assert_eq!(data["order"]["total"]["amount"], expected.as_str(), "{data:#}");
            let prices: Vec<&str> = data["order"]["lines"].as_array().expect("lines").iter().map(|l| amount(&l["unitPrice"])).collect();
            assert_eq!(prices, vec!["9.00", "11.00"], "{data:#}");
        }
        // Now that the prices have moved, the old total is refused for certain.
        let response = d
            .server
            .graphql(Some(&d.contact), &pricing::submit_query(), pricing::submit_variables(None, lines.clone(), Some(&expected)))
            .await;
        let error = staff::error_of("submitOrder", &response);
        assert_eq!(staff::code_of(&error), "PRICE_CHANGED", "{response:#}");
        assert_eq!(error["extensions"]["quote"]["total"]["amount"], "29.18", "2 × 9.06 + 11.06: {response:#}");
        d.server.stop().await;
    }
}

/// How many orders were submitted, over every tenant of the database.
async fn submitted_orders(test: &TestDb) -> i64 {
    let sql = "SELECT COUNT(*) FROM events WHERE event_type = 'OrderSubmitted'";
    match &test.db {
        Database::Postgres(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
        Database::Sqlite(pool) => sqlx::query_scalar(sql).fetch_one(pool).await,
    }
    .expect("count submitted orders")
}
