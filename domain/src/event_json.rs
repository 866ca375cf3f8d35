//! The stored form of every event, pinned. Events are a contract with the past: the log holds
//! the JSON written today, and tomorrow's code must still read it. Renaming a variant, a field or
//! a vocabulary value changes these strings and fails here, instead of silently breaking replay.
//! A deliberate change of shape gets a new `EVENT_VERSION` and an upcaster, never an edit of a
//! pinned string.
//!
//! Each event is checked both ways: it serialises to exactly its pinned JSON, and the pinned JSON
//! deserialises back to an equal event. Its `event_type` and `event_version` are pinned too
//! (every event is at "1.0" but `OrderSubmitted`, at "2.0" since it gained price reasons and
//! `placed_by`; the 1.0 shape is read through the store's upcaster).

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use cqrs_es::DomainEvent;
use uuid::Uuid;

use crate::contact::{Affiliation, ContactEvent};
use crate::ids::{ContactId, PartnerId, PriceListId, ProductId, TenantId};
use crate::order::{OrderEvent, OrderLine, PlacedBy};
use crate::partner::PartnerEvent;
use crate::price_list::{ListPricesEvent, PriceListEvent};
use crate::pricing::PriceReason;
use crate::product::ProductEvent;
use crate::tenant::TenantEvent;
use crate::values::{
    Address, App, Assortment, Carrier, Category, Channel, Currency, Level, MenuAction, MenuButton,
    Money, Name, Note, OpenId, PartnerMode, Permission, Phone, PriceListScope, Priority, Quantity,
    QuantityRules, Reason, Side, Sku, TrackingNumber, Unit, WechatAppId,
};

fn uuid(text: &str) -> Uuid {
    Uuid::parse_str(text).expect("a valid UUID")
}

fn tenant_id() -> TenantId {
    TenantId::from_uuid(uuid("01900000-0000-7000-8000-0000000000a1"))
}

fn partner_id() -> PartnerId {
    PartnerId::from_uuid(uuid("01900000-0000-7000-8000-0000000000b1"))
}

fn contact_id() -> ContactId {
    ContactId::from_uuid(uuid("01900000-0000-7000-8000-0000000000c1"))
}

fn product_id() -> ProductId {
    ProductId::from_uuid(uuid("01900000-0000-7000-8000-0000000000d1"))
}

fn price_list_id() -> PriceListId {
    PriceListId::from_uuid(uuid("01900000-0000-7000-8000-0000000000e1"))
}

fn employee_id() -> ContactId {
    ContactId::from_uuid(uuid("01900000-0000-7000-8000-0000000000c2"))
}

fn quantity(n: i64) -> Quantity {
    Quantity::parse(n, "quantity").expect("a quantity")
}

fn moment(text: &str) -> DateTime<Utc> {
    text.parse().expect("an RFC 3339 moment")
}

fn name(text: &str) -> Name {
    Name::parse(text).expect("a valid name")
}

fn phone(text: &str) -> Phone {
    Phone::parse(text).expect("a valid phone")
}

fn app_id() -> WechatAppId {
    WechatAppId::parse("wx0123456789abcdef").expect("a valid app id")
}

fn cny(amount_minor: i64) -> Money {
    Money::price(amount_minor, Currency::CNY, "price").expect("a valid price")
}

fn permissions(set: &[Permission]) -> BTreeSet<Permission> {
    set.iter().copied().collect()
}

/// The version of every event that never changed shape.
fn first_version<E>(_: &E) -> &'static str {
    "1.0"
}

/// Checks every `(event, pinned JSON)` pair at version 1.0 (see [`check_pinned_at`]).
fn check_pinned<E: DomainEvent>(
    cases: Vec<(E, &str)>,
    stored_type: fn(&E) -> &'static str,
    variants: usize,
) {
    check_pinned_at(cases, stored_type, first_version, variants);
}

/// Checks every `(event, pinned JSON)` pair, each at the version `stored_version` names, and
/// that the pairs cover `variants` event types. `stored_type` is an exhaustive `match`: adding a
/// variant does not compile until it is named there, which is the reminder to pin it here as
/// well.
fn check_pinned_at<E: DomainEvent>(
    cases: Vec<(E, &str)>,
    stored_type: fn(&E) -> &'static str,
    stored_version: fn(&E) -> &'static str,
    variants: usize,
) {
    let mut covered = BTreeSet::new();
    for (event, json) in cases {
        let event_type = stored_type(&event);
        assert_eq!(
            serde_json::to_string(&event).expect("an event serialises"),
            json,
            "the stored JSON of {event_type} changed"
        );
        assert_eq!(event.event_type(), event_type);
        assert_eq!(
            event.event_version(),
            stored_version(&event),
            "the version of {event_type}"
        );
        let read_back: E = serde_json::from_str(json).unwrap_or_else(|error| {
            panic!("the pinned JSON of {event_type} no longer deserialises: {error}")
        });
        assert_eq!(read_back, event, "{event_type} does not read back equal");
        covered.insert(event_type);
    }
    assert_eq!(covered.len(), variants, "one pinned JSON per variant");
}

#[test]
fn every_tenant_event_keeps_its_stored_json() {
    use TenantEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::TenantRegistered { .. } => "TenantRegistered",
            E::InterconnectEnabled => "InterconnectEnabled",
            E::AppPurchased { .. } => "AppPurchased",
            E::AppEnabled { .. } => "AppEnabled",
            E::AppDisabled { .. } => "AppDisabled",
            E::WechatAccountBound { .. } => "WechatAccountBound",
            E::WechatAccountUnbound { .. } => "WechatAccountUnbound",
            E::WechatMenuPublished { .. } => "WechatMenuPublished",
            E::FunctionPermissionsSet { .. } => "FunctionPermissionsSet",
            E::PriceListIndexed { .. } => "PriceListIndexed",
            E::PriceListUnindexed { .. } => "PriceListUnindexed",
        }
    }
    let cases = vec![
        (
            E::TenantRegistered {
                name: name("艾克美食品"),
            },
            r#"{"TenantRegistered":{"name":"艾克美食品"}}"#,
        ),
        (E::InterconnectEnabled, r#""InterconnectEnabled""#),
        (
            E::AppPurchased { app: App::Ordering },
            r#"{"AppPurchased":{"app":"ORDERING"}}"#,
        ),
        (
            E::AppEnabled { app: App::Ordering },
            r#"{"AppEnabled":{"app":"ORDERING"}}"#,
        ),
        (
            E::AppDisabled { app: App::Ordering },
            r#"{"AppDisabled":{"app":"ORDERING"}}"#,
        ),
        (
            E::WechatAccountBound {
                app_id: app_id(),
                name: name("Acme Service"),
            },
            r#"{"WechatAccountBound":{"app_id":"wx0123456789abcdef","name":"Acme Service"}}"#,
        ),
        (
            E::WechatAccountUnbound { app_id: app_id() },
            r#"{"WechatAccountUnbound":{"app_id":"wx0123456789abcdef"}}"#,
        ),
        (
            E::WechatMenuPublished {
                app_id: app_id(),
                buttons: vec![
                    MenuButton {
                        name: name("订货"),
                        action: MenuAction::OpenApp { app: App::Ordering },
                    },
                    MenuButton::open_url(name("Help"), "https://acme.example/help", "url")
                        .expect("a valid URL"),
                ],
            },
            concat!(
                r#"{"WechatMenuPublished":{"app_id":"wx0123456789abcdef","buttons":["#,
                r#"{"name":"订货","action":{"type":"OPEN_APP","app":"ORDERING"}},"#,
                r#"{"name":"Help","action":{"type":"OPEN_URL","url":"https://acme.example/help"}}"#,
                r#"]}}"#,
            ),
        ),
        (
            E::FunctionPermissionsSet {
                app: App::Ordering,
                permissions: permissions(&[Permission::ViewOrders, Permission::CreateSalesOrder]),
            },
            r#"{"FunctionPermissionsSet":{"app":"ORDERING","permissions":["CREATE_SALES_ORDER","VIEW_ORDERS"]}}"#,
        ),
        (
            E::PriceListIndexed {
                price_list_id: price_list_id(),
            },
            r#"{"PriceListIndexed":{"price_list_id":"01900000-0000-7000-8000-0000000000e1"}}"#,
        ),
        (
            E::PriceListUnindexed {
                price_list_id: price_list_id(),
            },
            r#"{"PriceListUnindexed":{"price_list_id":"01900000-0000-7000-8000-0000000000e1"}}"#,
        ),
    ];
    check_pinned(cases, stored_type, 11);
}

#[test]
fn every_partner_event_keeps_its_stored_json() {
    use PartnerEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::CustomerRecorded { .. } => "CustomerRecorded",
            E::CustomerUpdated { .. } => "CustomerUpdated",
            E::PartnerAdded { .. } => "PartnerAdded",
            E::AppAssigned { .. } => "AppAssigned",
            E::AppUnassigned { .. } => "AppUnassigned",
            E::PartnerSuspended => "PartnerSuspended",
            E::PartnerReinstated => "PartnerReinstated",
            E::PartnerLevelSet { .. } => "PartnerLevelSet",
            E::PartnerAssortmentRestricted { .. } => "PartnerAssortmentRestricted",
            E::PartnerAssortmentCleared => "PartnerAssortmentCleared",
        }
    }
    let cases = vec![
        (
            E::CustomerRecorded {
                tenant_id: tenant_id(),
                name: name("Shanghai Dealer Co."),
                phone: Some(phone("+86 139 1234 5678")),
                address: Some(Address::parse("88 Century Ave, Shanghai").expect("an address")),
            },
            concat!(
                r#"{"CustomerRecorded":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""name":"Shanghai Dealer Co.","phone":"13912345678","#,
                r#""address":"88 Century Ave, Shanghai"}}"#,
            ),
        ),
        (
            E::CustomerUpdated {
                name: name("Shanghai Dealer Group"),
                phone: None,
                address: None,
            },
            r#"{"CustomerUpdated":{"name":"Shanghai Dealer Group","phone":null,"address":null}}"#,
        ),
        (
            E::PartnerAdded {
                mode: PartnerMode::Tenant,
            },
            r#"{"PartnerAdded":{"mode":"TENANT"}}"#,
        ),
        (
            E::AppAssigned { app: App::Ordering },
            r#"{"AppAssigned":{"app":"ORDERING"}}"#,
        ),
        (
            E::AppUnassigned { app: App::Ordering },
            r#"{"AppUnassigned":{"app":"ORDERING"}}"#,
        ),
        (E::PartnerSuspended, r#""PartnerSuspended""#),
        (E::PartnerReinstated, r#""PartnerReinstated""#),
        (
            E::PartnerLevelSet {
                level: Some(Level::parse("省级代理").expect("a level")),
            },
            r#"{"PartnerLevelSet":{"level":"省级代理"}}"#,
        ),
        // Taking the partner off every level is stored too.
        (
            E::PartnerLevelSet { level: None },
            r#"{"PartnerLevelSet":{"level":null}}"#,
        ),
        (
            E::PartnerAssortmentRestricted {
                categories: Assortment::new(
                    ["调味品", "Drinks"]
                        .into_iter()
                        .map(|text| Category::parse(text).expect("a category"))
                        .collect(),
                )
                .expect("an assortment"),
            },
            r#"{"PartnerAssortmentRestricted":{"categories":["Drinks","调味品"]}}"#,
        ),
        (E::PartnerAssortmentCleared, r#""PartnerAssortmentCleared""#),
    ];
    check_pinned(cases, stored_type, 10);
}

#[test]
fn every_contact_event_keeps_its_stored_json() {
    use ContactEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::ContactRecorded { .. } => "ContactRecorded",
            E::ContactUpdated { .. } => "ContactUpdated",
            E::PartnerContactAdded { .. } => "PartnerContactAdded",
            E::PartnerContactRemoved { .. } => "PartnerContactRemoved",
            E::ContactBound { .. } => "ContactBound",
            E::ContactPermissionsRestricted { .. } => "ContactPermissionsRestricted",
        }
    }
    let cases = vec![
        (
            E::ContactRecorded {
                tenant_id: tenant_id(),
                name: name("Li Lei"),
                phone: Some(phone("138 0013 8000")),
                affiliation: Affiliation::Customer {
                    customer_id: partner_id(),
                },
            },
            concat!(
                r#"{"ContactRecorded":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""name":"Li Lei","phone":"13800138000","#,
                r#""affiliation":{"kind":"CUSTOMER","customer_id":"01900000-0000-7000-8000-0000000000b1"}}}"#,
            ),
        ),
        // Both shapes of the affiliation are stored; pin the employee one as well.
        (
            E::ContactRecorded {
                tenant_id: tenant_id(),
                name: name("Han Meimei"),
                phone: None,
                affiliation: Affiliation::Employee,
            },
            concat!(
                r#"{"ContactRecorded":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""name":"Han Meimei","phone":null,"affiliation":{"kind":"EMPLOYEE"}}}"#,
            ),
        ),
        (
            E::ContactUpdated {
                name: name("Li Lei"),
                phone: Some(phone("13912345678")),
            },
            r#"{"ContactUpdated":{"name":"Li Lei","phone":"13912345678"}}"#,
        ),
        (
            E::PartnerContactAdded {
                partner_id: partner_id(),
                side: Side::Theirs,
                mode: PartnerMode::Tenantless,
            },
            concat!(
                r#"{"PartnerContactAdded":{"partner_id":"01900000-0000-7000-8000-0000000000b1","#,
                r#""side":"THEIRS","mode":"TENANTLESS"}}"#,
            ),
        ),
        (
            E::PartnerContactRemoved {
                partner_id: partner_id(),
            },
            r#"{"PartnerContactRemoved":{"partner_id":"01900000-0000-7000-8000-0000000000b1"}}"#,
        ),
        (
            E::ContactBound {
                channel: Channel::MiniProgram,
                wechat_open_id: Some(OpenId::parse("o6_bmjrPTlm6_2sgVt7hMZOPfL2M").expect("an id")),
            },
            r#"{"ContactBound":{"channel":"MINI_PROGRAM","wechat_open_id":"o6_bmjrPTlm6_2sgVt7hMZOPfL2M"}}"#,
        ),
        (
            E::ContactPermissionsRestricted {
                app: App::Ordering,
                denied: permissions(&[Permission::CancelOrder]),
            },
            r#"{"ContactPermissionsRestricted":{"app":"ORDERING","denied":["CANCEL_ORDER"]}}"#,
        ),
    ];
    check_pinned(cases, stored_type, 6);
}

#[test]
fn every_product_event_keeps_its_stored_json() {
    use ProductEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::ProductListed { .. } => "ProductListed",
            E::ProductRepriced { .. } => "ProductRepriced",
            E::ProductDelisted => "ProductDelisted",
            E::ProductCategorized { .. } => "ProductCategorized",
            E::ProductQuantityRulesSet { .. } => "ProductQuantityRulesSet",
        }
    }
    let cases = vec![
        (
            E::ProductListed {
                tenant_id: tenant_id(),
                sku: Sku::parse("ab-1").expect("a SKU"),
                name: name("Soy sauce 500ml"),
                unit: Unit::parse("box").expect("a unit"),
                price: cny(1250),
            },
            concat!(
                r#"{"ProductListed":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""sku":"AB-1","name":"Soy sauce 500ml","unit":"box","#,
                r#""price":{"amount_minor":1250,"currency":"CNY"}}}"#,
            ),
        ),
        (
            E::ProductRepriced { price: cny(1399) },
            r#"{"ProductRepriced":{"price":{"amount_minor":1399,"currency":"CNY"}}}"#,
        ),
        (E::ProductDelisted, r#""ProductDelisted""#),
        (
            E::ProductCategorized {
                category: Some(Category::parse("调味品").expect("a category")),
            },
            r#"{"ProductCategorized":{"category":"调味品"}}"#,
        ),
        (
            E::ProductCategorized { category: None },
            r#"{"ProductCategorized":{"category":null}}"#,
        ),
        (
            E::ProductQuantityRulesSet {
                rules: QuantityRules::new(Some(quantity(12)), Some(quantity(6)), None)
                    .expect("rules"),
            },
            r#"{"ProductQuantityRulesSet":{"rules":{"min":12,"multiple":6,"max":null}}}"#,
        ),
        // Lifting every rule is stored as three nulls.
        (
            E::ProductQuantityRulesSet {
                rules: QuantityRules::default(),
            },
            r#"{"ProductQuantityRulesSet":{"rules":{"min":null,"multiple":null,"max":null}}}"#,
        ),
    ];
    check_pinned(cases, stored_type, 5);
}

#[test]
fn every_order_event_keeps_its_stored_json() {
    use OrderEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::OrderSubmitted { .. } => "OrderSubmitted",
            E::OrderConfirmed => "OrderConfirmed",
            E::OrderRejected { .. } => "OrderRejected",
            E::OrderShipped { .. } => "OrderShipped",
            E::OrderReceived => "OrderReceived",
            E::OrderCancelled { .. } => "OrderCancelled",
        }
    }
    fn stored_version(event: &E) -> &'static str {
        match event {
            E::OrderSubmitted { .. } => "2.0",
            _ => "1.0",
        }
    }
    let catalog_line = OrderLine {
        product_id: product_id(),
        sku: Sku::parse("AB-1").expect("a SKU"),
        name: name("Soy sauce 500ml"),
        unit: Unit::parse("box").expect("a unit"),
        quantity: quantity(3),
        unit_price: cny(1250),
        line_total: cny(3750),
        price_reason: PriceReason::Catalog,
    };
    let cases = vec![
        // Placed by the partner's own contact, at the catalog price.
        (
            E::OrderSubmitted {
                tenant_id: tenant_id(),
                partner_id: partner_id(),
                contact_id: Some(contact_id()),
                placed_by: None,
                lines: vec![catalog_line.clone()],
                total: cny(3750),
                note: Note::parse("Deliver before Friday").expect("a note"),
            },
            concat!(
                r#"{"OrderSubmitted":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""partner_id":"01900000-0000-7000-8000-0000000000b1","#,
                r#""contact_id":"01900000-0000-7000-8000-0000000000c1","placed_by":null,"#,
                r#""lines":[{"product_id":"01900000-0000-7000-8000-0000000000d1","#,
                r#""sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":3,"#,
                r#""unit_price":{"amount_minor":1250,"currency":"CNY"},"#,
                r#""line_total":{"amount_minor":3750,"currency":"CNY"},"#,
                r#""price_reason":{"kind":"CATALOG"}}],"#,
                r#""total":{"amount_minor":3750,"currency":"CNY"},"#,
                r#""note":"Deliver before Friday"}}"#,
            ),
        ),
        // Placed on the partner's behalf by an admin, a line priced by a list's volume break.
        (
            E::OrderSubmitted {
                tenant_id: tenant_id(),
                partner_id: partner_id(),
                contact_id: None,
                placed_by: Some(PlacedBy::Admin {
                    id: uuid("01900000-0000-7000-8000-0000000000f1"),
                }),
                lines: vec![OrderLine {
                    quantity: quantity(24),
                    unit_price: cny(1100),
                    line_total: cny(26400),
                    price_reason: PriceReason::PriceList {
                        price_list_id: price_list_id(),
                        name: name("A 级经销商"),
                        priority: Priority::parse(10, "priority").expect("a priority"),
                        min_quantity: quantity(12),
                        catalog_price: cny(1250),
                    },
                    ..catalog_line.clone()
                }],
                total: cny(26400),
                note: Note::parse("").expect("an empty note"),
            },
            concat!(
                r#"{"OrderSubmitted":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""partner_id":"01900000-0000-7000-8000-0000000000b1","#,
                r#""contact_id":null,"#,
                r#""placed_by":{"role":"ADMIN","id":"01900000-0000-7000-8000-0000000000f1"},"#,
                r#""lines":[{"product_id":"01900000-0000-7000-8000-0000000000d1","#,
                r#""sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":24,"#,
                r#""unit_price":{"amount_minor":1100,"currency":"CNY"},"#,
                r#""line_total":{"amount_minor":26400,"currency":"CNY"},"#,
                r#""price_reason":{"kind":"PRICE_LIST","#,
                r#""price_list_id":"01900000-0000-7000-8000-0000000000e1","#,
                r#""name":"A 级经销商","priority":10,"min_quantity":12,"#,
                r#""catalog_price":{"amount_minor":1250,"currency":"CNY"}}}],"#,
                r#""total":{"amount_minor":26400,"currency":"CNY"},"#,
                r#""note":""}}"#,
            ),
        ),
        // Placed on the partner's behalf by a linked employee.
        (
            E::OrderSubmitted {
                tenant_id: tenant_id(),
                partner_id: partner_id(),
                contact_id: None,
                placed_by: Some(PlacedBy::Employee {
                    contact_id: employee_id(),
                }),
                lines: vec![catalog_line],
                total: cny(3750),
                note: Note::parse("Deliver before Friday").expect("a note"),
            },
            concat!(
                r#"{"OrderSubmitted":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""partner_id":"01900000-0000-7000-8000-0000000000b1","#,
                r#""contact_id":null,"#,
                r#""placed_by":{"role":"EMPLOYEE","contact_id":"01900000-0000-7000-8000-0000000000c2"},"#,
                r#""lines":[{"product_id":"01900000-0000-7000-8000-0000000000d1","#,
                r#""sku":"AB-1","name":"Soy sauce 500ml","unit":"box","quantity":3,"#,
                r#""unit_price":{"amount_minor":1250,"currency":"CNY"},"#,
                r#""line_total":{"amount_minor":3750,"currency":"CNY"},"#,
                r#""price_reason":{"kind":"CATALOG"}}],"#,
                r#""total":{"amount_minor":3750,"currency":"CNY"},"#,
                r#""note":"Deliver before Friday"}}"#,
            ),
        ),
        (E::OrderConfirmed, r#""OrderConfirmed""#),
        (
            E::OrderRejected {
                reason: Reason::parse("Out of stock").expect("a reason"),
            },
            r#"{"OrderRejected":{"reason":"Out of stock"}}"#,
        ),
        (
            E::OrderShipped {
                carrier: Some(Carrier::parse("SF Express").expect("a carrier")),
                tracking: Some(TrackingNumber::parse("SF1234567890").expect("a number")),
            },
            r#"{"OrderShipped":{"carrier":"SF Express","tracking":"SF1234567890"}}"#,
        ),
        (E::OrderReceived, r#""OrderReceived""#),
        (
            E::OrderCancelled {
                reason: Reason::parse("Ordered by mistake").expect("a reason"),
            },
            r#"{"OrderCancelled":{"reason":"Ordered by mistake"}}"#,
        ),
    ];
    check_pinned_at(cases, stored_type, stored_version, 6);
}

#[test]
fn every_member_event_keeps_its_stored_json() {
    use crate::member::MemberEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::TenantAdminCreated { .. } => "TenantAdminCreated",
            E::EmployeeInvited { .. } => "EmployeeInvited",
            E::StaffAccessRevoked => "StaffAccessRevoked",
        }
    }
    let cases = vec![
        (
            E::TenantAdminCreated {
                tenant_id: tenant_id(),
                name: name("王芳"),
                phone: phone("+86 138 0013 8000"),
            },
            r#"{"TenantAdminCreated":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","name":"王芳","phone":"13800138000"}}"#,
        ),
        (
            E::EmployeeInvited {
                tenant_id: tenant_id(),
                contact_id: contact_id(),
                name: name("李雷"),
                phone: phone("13900139000"),
            },
            r#"{"EmployeeInvited":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","contact_id":"01900000-0000-7000-8000-0000000000c1","name":"李雷","phone":"13900139000"}}"#,
        ),
        (E::StaffAccessRevoked, r#""StaffAccessRevoked""#),
    ];
    check_pinned(cases, stored_type, 3);
}

#[test]
fn every_price_list_event_keeps_its_stored_json() {
    use PriceListEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::PriceListCreated { .. } => "PriceListCreated",
            E::PriceListValiditySet { .. } => "PriceListValiditySet",
            E::PriceListScopeSet { .. } => "PriceListScopeSet",
            E::PriceListArchived => "PriceListArchived",
        }
    }
    let cases = vec![
        (
            E::PriceListCreated {
                tenant_id: tenant_id(),
                name: name("春季促销"),
                priority: Priority::parse(10, "priority").expect("a priority"),
            },
            concat!(
                r#"{"PriceListCreated":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""name":"春季促销","priority":10}}"#,
            ),
        ),
        (
            E::PriceListValiditySet {
                from: Some(moment("2025-03-01T00:00:00Z")),
                to: Some(moment("2025-06-01T00:00:00Z")),
            },
            r#"{"PriceListValiditySet":{"from":"2025-03-01T00:00:00Z","to":"2025-06-01T00:00:00Z"}}"#,
        ),
        // Open-ended on one side, and a moment given in another offset is stored in UTC.
        (
            E::PriceListValiditySet {
                from: Some(moment("2025-03-01T08:30:00+08:00")),
                to: None,
            },
            r#"{"PriceListValiditySet":{"from":"2025-03-01T00:30:00Z","to":null}}"#,
        ),
        (
            E::PriceListScopeSet {
                scope: PriceListScope::All,
            },
            r#"{"PriceListScopeSet":{"scope":{"kind":"ALL"}}}"#,
        ),
        // Every shape of the scope is stored; pin each.
        (
            E::PriceListScopeSet {
                scope: PriceListScope::levels(
                    ["省级代理", "A"]
                        .into_iter()
                        .map(|text| Level::parse(text).expect("a level"))
                        .collect(),
                )
                .expect("a scope"),
            },
            r#"{"PriceListScopeSet":{"scope":{"kind":"LEVELS","levels":["A","省级代理"]}}}"#,
        ),
        (
            E::PriceListScopeSet {
                scope: PriceListScope::partners([partner_id()].into()).expect("a scope"),
            },
            concat!(
                r#"{"PriceListScopeSet":{"scope":{"kind":"PARTNERS","#,
                r#""partners":["01900000-0000-7000-8000-0000000000b1"]}}}"#,
            ),
        ),
        (E::PriceListArchived, r#""PriceListArchived""#),
    ];
    check_pinned(cases, stored_type, 4);
}

#[test]
fn every_list_prices_event_keeps_its_stored_json() {
    use ListPricesEvent as E;
    fn stored_type(event: &E) -> &'static str {
        match event {
            E::PriceSet { .. } => "PriceSet",
            E::PriceRemoved { .. } => "PriceRemoved",
        }
    }
    let cases = vec![
        (
            E::PriceSet {
                tenant_id: tenant_id(),
                price_list_id: price_list_id(),
                product_id: product_id(),
                min_quantity: quantity(12),
                unit_price: cny(1100),
            },
            concat!(
                r#"{"PriceSet":{"tenant_id":"01900000-0000-7000-8000-0000000000a1","#,
                r#""price_list_id":"01900000-0000-7000-8000-0000000000e1","#,
                r#""product_id":"01900000-0000-7000-8000-0000000000d1","#,
                r#""min_quantity":12,"unit_price":{"amount_minor":1100,"currency":"CNY"}}}"#,
            ),
        ),
        (
            E::PriceRemoved {
                price_list_id: price_list_id(),
                product_id: product_id(),
                min_quantity: quantity(1),
            },
            concat!(
                r#"{"PriceRemoved":{"price_list_id":"01900000-0000-7000-8000-0000000000e1","#,
                r#""product_id":"01900000-0000-7000-8000-0000000000d1","min_quantity":1}}"#,
            ),
        ),
    ];
    check_pinned(cases, stored_type, 2);
}
