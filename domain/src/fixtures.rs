//! Shared fixtures for the given/when/then tests: fixed ids, parsed values, and the event
//! histories most tests start from (an upstream tenant with `ORDERING` enabled, a partner with
//! `ORDERING` assigned, a bound their-side contact, a linked employee, listed products), and the
//! pieces of dealer pricing (price lists and their prices, levels, categories, a fixed clock).
//!
//! The histories are built from events, never from aggregate state, so they exercise `apply`
//! exactly as a replay from the event store would.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use uuid::Uuid;

use crate::contact::{Affiliation, ContactEvent};
use crate::ids::{ContactId, PartnerId, PriceListId, ProductId, TenantId};
use crate::lookup::Scoped;
use crate::partner::PartnerEvent;
use crate::price_list::{ListPricesEvent, PriceListEvent};
use crate::product::ProductEvent;
use crate::tenant::TenantEvent;
use crate::testing::InMemoryLookup;
use crate::values::{
    App, Category, Channel, Currency, Level, Money, Name, Note, OpenId, PartnerMode, Phone,
    Priority, Quantity, Reason, Side, Sku, Unit, WechatAppId,
};

const fn uuid(n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | n)
}

/// The tenant every test acts in.
pub(crate) const TENANT: TenantId = TenantId::from_uuid(uuid(0x01));
/// Another upstream tenant, whose data `TENANT` must never reach.
pub(crate) const OTHER_TENANT: TenantId = TenantId::from_uuid(uuid(0x02));
/// A partner of `TENANT` with `ORDERING` assigned; `CONTACT` orders for it.
pub(crate) const PARTNER: PartnerId = PartnerId::from_uuid(uuid(0x11));
/// A second partner of `TENANT` with `ORDERING` assigned; `OTHER_CONTACT` orders for it.
pub(crate) const OTHER_PARTNER: PartnerId = PartnerId::from_uuid(uuid(0x12));
/// A partner of `OTHER_TENANT`.
pub(crate) const FOREIGN_PARTNER: PartnerId = PartnerId::from_uuid(uuid(0x13));
/// A bound their-side contact of `PARTNER`.
pub(crate) const CONTACT: ContactId = ContactId::from_uuid(uuid(0x21));
/// A bound their-side contact of `OTHER_PARTNER`.
pub(crate) const OTHER_CONTACT: ContactId = ContactId::from_uuid(uuid(0x22));
/// An employee of `TENANT`, our-side contact of `PARTNER`.
pub(crate) const EMPLOYEE: ContactId = ContactId::from_uuid(uuid(0x23));
/// An employee of `TENANT` linked to no partner.
pub(crate) const UNLINKED_EMPLOYEE: ContactId = ContactId::from_uuid(uuid(0x24));
/// Listed in `TENANT`'s catalog: SKU `AB-1`, 12.50 a box.
pub(crate) const PRODUCT: ProductId = ProductId::from_uuid(uuid(0x31));
/// Listed in `TENANT`'s catalog: SKU `CD-2`, 3.99 a box.
pub(crate) const SECOND_PRODUCT: ProductId = ProductId::from_uuid(uuid(0x32));
/// Listed in `OTHER_TENANT`'s catalog.
pub(crate) const FOREIGN_PRODUCT: ProductId = ProductId::from_uuid(uuid(0x33));

/// A price list of `TENANT`.
pub(crate) const PRICE_LIST: PriceListId = PriceListId::from_uuid(uuid(0x41));
/// A second price list of `TENANT`, newer than `PRICE_LIST` (its id is greater).
pub(crate) const NEWER_PRICE_LIST: PriceListId = PriceListId::from_uuid(uuid(0x42));
/// A price list of `OTHER_TENANT`.
pub(crate) const FOREIGN_PRICE_LIST: PriceListId = PriceListId::from_uuid(uuid(0x43));

/// The number recorded for every contact in these fixtures.
pub(crate) const PHONE: &str = "13800138000";
/// The price of `PRODUCT` in fen.
pub(crate) const PRODUCT_PRICE: i64 = 1250;
/// The price of `SECOND_PRODUCT` in fen.
pub(crate) const SECOND_PRODUCT_PRICE: i64 = 399;

pub(crate) fn name(text: &str) -> Name {
    Name::parse(text).expect("a valid name")
}

pub(crate) fn phone(text: &str) -> Phone {
    Phone::parse(text).expect("a valid phone")
}

pub(crate) fn sku(text: &str) -> Sku {
    Sku::parse(text).expect("a valid SKU")
}

pub(crate) fn unit(text: &str) -> Unit {
    Unit::parse(text).expect("a valid unit")
}

pub(crate) fn cny(amount_minor: i64) -> Money {
    Money::price(amount_minor, Currency::CNY, "price").expect("a valid price")
}

pub(crate) fn quantity(n: i64) -> Quantity {
    Quantity::parse(n, "quantity").expect("a valid quantity")
}

pub(crate) fn reason(text: &str) -> Reason {
    Reason::parse(text).expect("a valid reason")
}

pub(crate) fn note(text: &str) -> Note {
    Note::parse(text).expect("a valid note")
}

pub(crate) fn open_id(text: &str) -> OpenId {
    OpenId::parse(text).expect("a valid open id")
}

pub(crate) fn wechat_app_id() -> WechatAppId {
    WechatAppId::parse("wx0123456789abcdef").expect("a valid app id")
}

pub(crate) fn level(text: &str) -> Level {
    Level::parse(text).expect("a valid level")
}

pub(crate) fn category(text: &str) -> Category {
    Category::parse(text).expect("a valid category")
}

pub(crate) fn priority(n: u32) -> Priority {
    Priority::try_from(n).expect("a valid priority")
}

/// The moment orders are priced at in these tests: 1 June 2025, 09:00 UTC.
pub(crate) fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 6, 1, 9, 0, 0)
        .single()
        .expect("a valid moment")
}

/// `n` days after [`now`] (before it when negative).
pub(crate) fn days_from_now(n: i64) -> DateTime<Utc> {
    now() + TimeDelta::days(n)
}

/// A command addressed to `TENANT`.
pub(crate) fn scoped<C>(command: C) -> Scoped<C> {
    Scoped::new(TENANT, command)
}

/// A tenant the operator registered, nothing more.
pub(crate) fn registered_tenant() -> Vec<TenantEvent> {
    vec![TenantEvent::TenantRegistered {
        name: name("Acme Foods"),
    }]
}

/// A registered tenant with interconnect on and `ORDERING` purchased and enabled.
pub(crate) fn upstream_tenant() -> Vec<TenantEvent> {
    let mut events = registered_tenant();
    events.extend([
        TenantEvent::InterconnectEnabled,
        TenantEvent::AppPurchased { app: App::Ordering },
        TenantEvent::AppEnabled { app: App::Ordering },
    ]);
    events
}

/// A CRM customer of `tenant`, not (yet) a partner.
pub(crate) fn customer_recorded(tenant: TenantId) -> PartnerEvent {
    PartnerEvent::CustomerRecorded {
        tenant_id: tenant,
        name: name("Shanghai Dealer Co."),
        phone: Some(phone("139 1234 5678")),
        address: None,
    }
}

/// A customer of `tenant` added as a partner (tenantless) with `ORDERING` assigned.
pub(crate) fn ordering_partner(tenant: TenantId) -> Vec<PartnerEvent> {
    vec![
        customer_recorded(tenant),
        PartnerEvent::PartnerAdded {
            mode: PartnerMode::Tenantless,
        },
        PartnerEvent::AppAssigned { app: App::Ordering },
    ]
}

/// A CRM contact of `partner`'s customer in `TENANT`, with the fixture phone.
pub(crate) fn their_side_contact_recorded(partner: PartnerId) -> ContactEvent {
    ContactEvent::ContactRecorded {
        tenant_id: TENANT,
        name: name("Li Lei"),
        phone: Some(phone(PHONE)),
        affiliation: Affiliation::Customer {
            customer_id: partner,
        },
    }
}

/// A their-side contact of `partner` that verified its identity in the mini program.
pub(crate) fn bound_their_side_contact(partner: PartnerId) -> Vec<ContactEvent> {
    vec![
        their_side_contact_recorded(partner),
        ContactEvent::PartnerContactAdded {
            partner_id: partner,
            side: Side::Theirs,
            mode: PartnerMode::Tenantless,
        },
        ContactEvent::ContactBound {
            channel: Channel::MiniProgram,
            wechat_open_id: Some(open_id("o6_bmjrPTlm6_2sgVt7hMZOPfL2M")),
        },
    ]
}

/// An employee of `TENANT` with the fixture phone, linked to no partner.
pub(crate) fn employee_recorded() -> ContactEvent {
    ContactEvent::ContactRecorded {
        tenant_id: TENANT,
        name: name("Han Meimei"),
        phone: Some(phone(PHONE)),
        affiliation: Affiliation::Employee,
    }
}

/// An employee of `TENANT` who is the our-side contact of `partner`.
pub(crate) fn linked_employee(partner: PartnerId) -> Vec<ContactEvent> {
    vec![
        employee_recorded(),
        ContactEvent::PartnerContactAdded {
            partner_id: partner,
            side: Side::Ours,
            mode: PartnerMode::Tenantless,
        },
    ]
}

/// A product listed in `tenant`'s catalog.
pub(crate) fn product_listed(
    tenant: TenantId,
    code: &str,
    title: &str,
    price: i64,
) -> ProductEvent {
    ProductEvent::ProductListed {
        tenant_id: tenant,
        sku: sku(code),
        name: name(title),
        unit: unit("box"),
        price: cny(price),
    }
}

/// Everything an order needs, in `TENANT` and beside it in `OTHER_TENANT` (see the constants).
pub(crate) fn ordering_world() -> InMemoryLookup {
    ordering_world_with(bound_their_side_contact(PARTNER))
}

/// The ordering world, with `contact` as the history of `CONTACT`.
pub(crate) fn ordering_world_with(contact: Vec<ContactEvent>) -> InMemoryLookup {
    InMemoryLookup::new()
        .tenant(TENANT, upstream_tenant())
        .tenant(OTHER_TENANT, upstream_tenant())
        .partner(PARTNER, ordering_partner(TENANT))
        .partner(OTHER_PARTNER, ordering_partner(TENANT))
        .partner(FOREIGN_PARTNER, ordering_partner(OTHER_TENANT))
        .contact(CONTACT, contact)
        .contact(OTHER_CONTACT, bound_their_side_contact(OTHER_PARTNER))
        .contact(EMPLOYEE, linked_employee(PARTNER))
        .contact(UNLINKED_EMPLOYEE, [employee_recorded()])
        .product(
            PRODUCT,
            [product_listed(
                TENANT,
                "AB-1",
                "Soy sauce 500ml",
                PRODUCT_PRICE,
            )],
        )
        .product(
            SECOND_PRODUCT,
            [product_listed(
                TENANT,
                "CD-2",
                "Rice vinegar 250ml",
                SECOND_PRODUCT_PRICE,
            )],
        )
        .product(
            FOREIGN_PRODUCT,
            [product_listed(OTHER_TENANT, "AB-1", "Soy sauce 500ml", 999)],
        )
}

/// A price list of `tenant` named `title`, created with `priority` and nothing more (it prices for
/// nobody until scoped).
pub(crate) fn price_list_created(tenant: TenantId, title: &str, rank: u32) -> PriceListEvent {
    PriceListEvent::PriceListCreated {
        tenant_id: tenant,
        name: name(title),
        priority: priority(rank),
    }
}

/// `TENANT`'s price list `title` at `rank`, scoped to every partner, valid always.
pub(crate) fn tenant_wide_list(title: &str, rank: u32) -> Vec<PriceListEvent> {
    vec![
        price_list_created(TENANT, title, rank),
        PriceListEvent::PriceListScopeSet {
            scope: crate::values::PriceListScope::All,
        },
    ]
}

/// `TENANT`'s price of `product` in `list` from `min` units on, in fen.
pub(crate) fn price_set(
    list: PriceListId,
    product: ProductId,
    min: i64,
    price: i64,
) -> ListPricesEvent {
    ListPricesEvent::PriceSet {
        tenant_id: TENANT,
        price_list_id: list,
        product_id: product,
        min_quantity: quantity(min),
        unit_price: cny(price),
    }
}
