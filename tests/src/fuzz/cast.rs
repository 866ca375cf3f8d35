//! Who the fuzzer speaks as, and the real ids it may name: two tenants built through the
//! command layer ([`World`]) with every role of DESIGN §1, some orders, and a token for each
//! actor. Naming real ids is what lets most generated operations pass validation and reach the
//! resolvers and the commands behind them, instead of stopping at `NOT_FOUND` or `VALIDATION`.

use std::time::Duration;

use chrono::{TimeZone, Utc};
use dinghuo_api::auth::{JwtSecret, Tokens};
use dinghuo_commands::{
    Actor, Commands, OrderLineInput, RecordContactInput, RecordCustomerInput, Role,
    SubmitOrderInput,
};
use rand::seq::SliceRandom;
use rand::Rng;
use uuid::Uuid;

use crate::server::TestServer;
use crate::World;

/// The role a case runs as: DESIGN §1's six, no token at all, or a token the server must refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Who {
    Anonymous,
    Operator,
    Admin,
    Employee,
    Contact,
    Auditor,
    Analyst,
    /// A forged, expired, malformed or foreign token.
    BadToken,
}

impl Who {
    pub const ALL: [Who; 8] = [
        Who::Anonymous,
        Who::Operator,
        Who::Admin,
        Who::Employee,
        Who::Contact,
        Who::Auditor,
        Who::Analyst,
        Who::BadToken,
    ];
}

/// The phones the fixture records (the first is [`World::PHONE`]).
const PHONES: [&str; 5] = [
    World::PHONE,
    "13900139000",
    "13700137000",
    "13500135000",
    "13600136000",
];

/// Event types the fixture's log holds.
const EVENT_TYPES: [&str; 7] = [
    "OrderSubmitted",
    "OrderConfirmed",
    "OrderCancelled",
    "ProductListed",
    "PartnerAdded",
    "ContactBound",
    "TenantRegistered",
];

/// The role of each token of a built cast, in order.
const ROLES: [Who; 11] = [
    Who::Operator,
    Who::Admin,
    Who::Admin,
    Who::Employee,
    Who::Employee,
    Who::Contact,
    Who::Contact,
    Who::Contact,
    Who::Auditor,
    Who::Auditor,
    Who::Analyst,
];

/// How many refused `Authorization` values [`bad_tokens`] makes.
const BAD_TOKENS: usize = 7;

/// The ids of the fixture, by what they name.
#[derive(Debug, Clone, Default)]
pub struct Ids {
    pub tenants: Vec<String>,
    /// Partners and a customer that is not a partner yet.
    pub partners: Vec<String>,
    /// Their-side contacts, employees, a contact linked to nothing.
    pub contacts: Vec<String>,
    pub products: Vec<String>,
    pub orders: Vec<String>,
    /// Recorded phones, bound or not.
    pub phones: Vec<String>,
    /// Event types the log holds.
    pub event_types: Vec<String>,
}

impl Ids {
    /// A real id of the kind `hint` suggests (an argument or input field's name, such as
    /// `orderId`, or the root field's name for a bare `id`), sometimes of another kind, or one
    /// that exists nowhere.
    pub fn pick(&self, hint: &str, rng: &mut impl Rng) -> String {
        let hint = hint.to_ascii_lowercase();
        let pool = if hint.contains("order") {
            &self.orders
        } else if hint.contains("partner") || hint.contains("customer") {
            &self.partners
        } else if hint.contains("contact") || hint.contains("actor") {
            &self.contacts
        } else if hint.contains("product") {
            &self.products
        } else if hint.contains("tenant") {
            &self.tenants
        } else {
            // `aggregateId`, `aggregateHistory(id)`, …: any aggregate.
            [
                &self.orders,
                &self.partners,
                &self.contacts,
                &self.products,
                &self.tenants,
            ]
            .choose(rng)
            .copied()
            .unwrap_or(&self.orders)
        };
        match rng.gen_range(0..20) {
            // An id of another kind.
            0 => self.any(rng),
            // An id nobody holds.
            1 => made_up(rng),
            _ => pool.choose(rng).cloned().unwrap_or_else(|| made_up(rng)),
        }
    }

    fn any(&self, rng: &mut impl Rng) -> String {
        let all: Vec<&String> = self
            .tenants
            .iter()
            .chain(&self.partners)
            .chain(&self.contacts)
            .chain(&self.products)
            .chain(&self.orders)
            .collect();
        match all.choose(rng) {
            Some(id) => (*id).clone(),
            None => made_up(rng),
        }
    }
}

/// A well-formed id of nothing, drawn from the case's random source (so a seed repeats it).
fn made_up(rng: &mut impl Rng) -> String {
    uuid::Builder::from_random_bytes(rng.gen())
        .into_uuid()
        .to_string()
}

/// The fixture: its ids, and the bearer tokens of each role (several actors per role, of both
/// tenants), signed with the server's secret.
pub struct Cast {
    pub ids: Ids,
    /// Bearer tokens by role.
    pub tokens: Vec<(Who, String)>,
    /// `Authorization` values the server must refuse (see [`bad_tokens`]).
    pub bad: Vec<String>,
}

impl Cast {
    /// Builds tenants A (partners 1 and 2, a bound contact each, an employee linked to partner
    /// 1, one linked to nothing, a customer not yet a partner) and B (a partner, its contact),
    /// with orders of each contact.
    pub async fn build(commands: &Commands, server: &TestServer) -> Self {
        let a = World::build(commands, 3).await;
        let b = World::build(commands, 2).await;
        let admin = a.admin_ctx();
        let partner_a2 = World::add_partner(commands, &admin, "Dealer Two").await;
        let contact_a2 =
            World::add_bound_contact(commands, &admin, a.tenant, partner_a2, PHONES[1]).await;
        let employee_a1 = World::add_employee(commands, &admin, a.partner, PHONES[2]).await;
        let unbound_a2 = World::add_unbound_contact(commands, &admin, partner_a2, PHONES[3]).await;
        let customer_a3 = commands
            .record_customer(
                &admin,
                RecordCustomerInput {
                    name: "Dealer Three".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record a customer");
        let loose = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: "Wang Wu".into(),
                    phone: Some(PHONES[4].into()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record an employee");

        let contact_a2_actor = Actor::in_tenant(contact_a2.as_uuid(), Role::Contact, a.tenant);
        let mut orders = Vec::new();
        for (actor, world) in [
            (a.contact_actor(), &a),
            (a.contact_actor(), &a),
            (contact_a2_actor, &a),
            (b.contact_actor(), &b),
        ] {
            let order = commands
                .submit_order(
                    &dinghuo_commands::RequestContext::new(actor),
                    SubmitOrderInput {
                        lines: world
                            .products
                            .iter()
                            .take(2)
                            .map(|product| OrderLineInput {
                                product_id: product.to_string(),
                                quantity: 2,
                                sku: None,
                            })
                            .collect(),
                        note: Some("fuzz fixture".into()),
                    },
                )
                .await
                .expect("submit an order");
            orders.push(order.to_string());
        }

        let ids = Ids {
            tenants: vec![a.tenant.to_string(), b.tenant.to_string()],
            partners: vec![
                a.partner.to_string(),
                partner_a2.to_string(),
                customer_a3.to_string(),
                b.partner.to_string(),
            ],
            contacts: vec![
                a.contact.to_string(),
                contact_a2.to_string(),
                employee_a1.to_string(),
                unbound_a2.to_string(),
                loose.to_string(),
                b.contact.to_string(),
            ],
            products: a
                .products
                .iter()
                .chain(&b.products)
                .map(ToString::to_string)
                .collect(),
            orders,
            phones: PHONES.map(str::to_owned).to_vec(),
            event_types: EVENT_TYPES.map(str::to_owned).to_vec(),
        };

        let actors = [
            (Who::Operator, Actor::operator(Uuid::now_v7())),
            (Who::Admin, a.admin),
            (Who::Admin, b.admin),
            (
                Who::Employee,
                Actor::in_tenant(employee_a1.as_uuid(), Role::Employee, a.tenant),
            ),
            (
                Who::Employee,
                Actor::in_tenant(loose.as_uuid(), Role::Employee, a.tenant),
            ),
            (Who::Contact, a.contact_actor()),
            (Who::Contact, contact_a2_actor),
            (Who::Contact, b.contact_actor()),
            (
                Who::Auditor,
                Actor::in_tenant(Uuid::now_v7(), Role::Auditor, a.tenant),
            ),
            (
                Who::Auditor,
                Actor::in_tenant(Uuid::now_v7(), Role::Auditor, b.tenant),
            ),
            (
                Who::Analyst,
                Actor::in_tenant(Uuid::now_v7(), Role::Analyst, a.tenant),
            ),
        ];
        debug_assert!(actors.iter().map(|(who, _)| *who).eq(ROLES));
        Self {
            ids,
            tokens: actors
                .into_iter()
                .map(|(who, actor)| (who, server.token(&actor)))
                .collect(),
            bad: bad_tokens(&server.tokens),
        }
    }

    /// A cast of made-up ids and unsigned tokens, for testing the generator without a server.
    pub fn offline() -> Self {
        let mut next = 0u128;
        let mut ids = |n: usize| {
            (0..n)
                .map(|_| {
                    next += 1;
                    Uuid::from_u128(next).to_string()
                })
                .collect::<Vec<_>>()
        };
        Self {
            ids: Ids {
                tenants: ids(2),
                partners: ids(4),
                contacts: ids(6),
                products: ids(5),
                orders: ids(4),
                phones: PHONES.map(str::to_owned).to_vec(),
                event_types: EVENT_TYPES.map(str::to_owned).to_vec(),
            },
            // As many tokens per role as a built cast has, so that a seed draws the same.
            tokens: ROLES
                .iter()
                .map(|who| (*who, format!("token-of-{who:?}")))
                .collect(),
            bad: (0..BAD_TOKENS).map(|i| format!("Bearer bad-{i}")).collect(),
        }
    }

    /// An `Authorization` header value for `who` (`None`: anonymous).
    pub fn authorization(&self, who: Who, rng: &mut impl Rng) -> Option<String> {
        match who {
            Who::Anonymous => None,
            Who::BadToken => self.bad.choose(rng).cloned(),
            who => {
                let tokens: Vec<&String> = self
                    .tokens
                    .iter()
                    .filter(|(role, _)| *role == who)
                    .map(|(_, token)| token)
                    .collect();
                tokens.choose(rng).map(|token| format!("Bearer {token}"))
            }
        }
    }
}

/// Headers the server must refuse with `UNAUTHENTICATED`: an expired token, one signed with
/// another secret, one cut short, garbage, a scheme other than `Bearer`, an empty one.
pub fn bad_tokens(tokens: &Tokens) -> Vec<String> {
    let someone = Actor::operator(Uuid::now_v7());
    let mut bad = vec![
        "Bearer not.a.jwt".to_owned(),
        "Basic dXNlcjpwYXNz".to_owned(),
        "Bearer ".to_owned(),
        "bearer".to_owned(),
    ];
    if let Some(long_ago) = Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).single() {
        if let Ok(token) = tokens.issue_at(&someone, long_ago, Duration::from_secs(60)) {
            bad.push(format!("Bearer {token}"));
        }
    }
    let foreign = JwtSecret::from_bytes(vec![7; 32]).map(|secret| Tokens::new(&secret));
    if let Some(token) = foreign
        .ok()
        .and_then(|tokens| tokens.issue(&someone, Duration::from_secs(600)).ok())
    {
        bad.push(format!("Bearer {token}"));
    }
    if let Ok(token) = tokens.issue(&someone, Duration::from_secs(600)) {
        // Cut short: the signature no longer matches.
        bad.push(format!(
            "Bearer {}",
            &token[..token.len().saturating_sub(3)]
        ));
    }
    bad
}
