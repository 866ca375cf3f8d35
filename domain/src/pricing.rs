//! The one pricing function (DESIGN §4): every line, everywhere (a quote, a submission, a
//! reorder, a product's "my price"), is priced here, with the reason for its price.
//!
//! Among the price lists that apply to the partner (valid at that moment, not archived, scoped
//! to it) and have a price for the product at or below the quantity, the highest priority wins
//! (ties: the newer list), and within it the largest break at or below the quantity. None means
//! the catalog price.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ValidationError};
use crate::ids::{PartnerId, PriceListId, ProductId, TenantId};
use crate::lookup::{Found, Lookup, Wanted};
use crate::order::RequestedLine;
use crate::partner::Partner;
use crate::price_list::Breaks;
use crate::values::{Money, Name, Priority, Quantity, QuantityRules, Sku, Unit};

/// Why a line costs what it costs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceReason {
    /// The product's catalog price: no price list applied.
    Catalog,
    /// A price list's price: the list, its priority then, the break (the least quantity the
    /// price applies from; 1 is the list's base price), and the catalog price it replaced.
    PriceList {
        price_list_id: PriceListId,
        name: Name,
        priority: Priority,
        min_quantity: Quantity,
        catalog_price: Money,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinePrice {
    pub unit_price: Money,
    pub reason: PriceReason,
}

/// A list that applies to the buyer, with its prices of one product.
#[derive(Debug, Clone, Copy)]
pub struct Offer<'a> {
    pub price_list_id: PriceListId,
    pub name: &'a Name,
    pub priority: Priority,
    pub breaks: &'a Breaks,
}

/// The price of `quantity` units of a product whose catalog price is `catalog`, given the
/// offers of the lists that apply.
pub fn price_line<'a>(
    catalog: Money,
    quantity: Quantity,
    offers: impl IntoIterator<Item = Offer<'a>>,
) -> LinePrice {
    let best = offers
        .into_iter()
        .filter_map(|offer| {
            let (min, price) = offer.breaks.range(..=quantity).next_back()?;
            Some((offer, *min, *price))
        })
        .max_by_key(|(offer, ..)| (offer.priority, offer.price_list_id));
    match best {
        Some((offer, min_quantity, unit_price)) => LinePrice {
            unit_price,
            reason: PriceReason::PriceList {
                price_list_id: offer.price_list_id,
                name: offer.name.clone(),
                priority: offer.priority,
                min_quantity,
                catalog_price: catalog,
            },
        },
        None => LinePrice {
            unit_price: catalog,
            reason: PriceReason::Catalog,
        },
    }
}

/// What is wrong with a line, for the buyer to fix; a quote shows it, a submission refuses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineProblem {
    /// Not a listed product of the tenant (`PRODUCT_NOT_LISTED`).
    NotListed,
    /// Outside the partner's assortment (`PRODUCT_NOT_AVAILABLE`).
    NotAvailable,
    /// The quantity breaks the product's rules (`QUANTITY_NOT_ALLOWED`).
    QuantityNotAllowed(QuantityRules),
}

/// A priced line. A product that is not listed, or not in the partner's assortment, has no
/// name, price or total here (nothing about it is shown to a buyer who may not buy it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuotedLine {
    pub product_id: ProductId,
    pub sku: Option<Sku>,
    pub name: Option<Name>,
    pub unit: Option<Unit>,
    pub quantity: Quantity,
    pub rules: QuantityRules,
    pub price: Option<LinePrice>,
    pub line_total: Option<Money>,
    pub problems: Vec<LineProblem>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quote {
    pub lines: Vec<QuotedLine>,
    /// The sum of the priced lines.
    pub total: Money,
}

impl Quote {
    /// The first line with a problem, as the refusal a submission answers.
    pub fn first_problem(&self) -> Option<DomainError> {
        self.lines.iter().enumerate().find_map(|(line, quoted)| {
            let product_id = quoted.product_id;
            quoted.problems.first().map(|problem| match problem {
                LineProblem::NotListed => DomainError::ProductNotListed { product_id },
                LineProblem::NotAvailable => DomainError::ProductNotAvailable { product_id },
                LineProblem::QuantityNotAllowed(rules) => DomainError::QuantityNotAllowed {
                    line,
                    product_id,
                    rules: *rules,
                },
            })
        })
    }
}

/// Who is buying, and when: the lists that apply depend on both.
#[derive(Debug, Clone, Copy)]
pub struct Buyer<'a> {
    pub tenant: TenantId,
    pub partner_id: PartnerId,
    pub partner: &'a Partner,
    pub at: DateTime<Utc>,
}

/// Everything pricing `products` for `partner` reads but the lists themselves, which the
/// tenant's index names ([`lists_wanted`]).
pub fn wanted(
    tenant: TenantId,
    partner: PartnerId,
    products: impl IntoIterator<Item = ProductId> + Clone,
) -> Wanted {
    Wanted::new()
        .tenant(tenant)
        .partner(partner)
        .products(products.clone())
        .list_prices(products)
}

/// The lists `found`'s tenant keeps unarchived: every one that may apply.
pub fn lists_wanted(found: &Found, tenant: TenantId) -> Result<Wanted, DomainError> {
    let lists = found.tenant(tenant)?.price_lists().iter().copied();
    Ok(Wanted::new().price_lists(lists))
}

/// Loads `wanted` (which must include [`wanted`]'s streams) and then the tenant's lists.
pub async fn load(
    lookup: &dyn Lookup,
    tenant: TenantId,
    wanted: &Wanted,
) -> Result<Found, DomainError> {
    let mut found = lookup.load(wanted).await?;
    let lists = lists_wanted(&found, tenant)?;
    if !lists.is_empty() {
        found.extend(lookup.load(&lists).await?);
    }
    Ok(found)
}

fn too_large() -> ValidationError {
    ValidationError::new("lines", "the order total is too large")
}

/// Prices `requested` for `buyer` from `found`, which holds what [`load`] reads. A line's
/// problems are reported on it, never refused here.
pub fn quote(
    buyer: Buyer<'_>,
    requested: &[RequestedLine],
    found: &Found,
) -> Result<Quote, DomainError> {
    let Buyer {
        tenant,
        partner_id,
        partner,
        at,
    } = buyer;
    let level = partner.level();
    let listed: &BTreeSet<PriceListId> = found.tenant(tenant)?.price_lists();
    let mut applying = Vec::new();
    for &id in listed {
        let list = found.price_list(id)?;
        if let (true, Some(name), Some(priority)) = (
            list.applies(tenant, partner_id, level, at),
            list.name(),
            list.priority(),
        ) {
            applying.push((id, name, priority));
        }
    }

    let mut lines = Vec::with_capacity(requested.len());
    let mut total: Option<Money> = None;
    for line in requested {
        let product = found.product(line.product_id)?;
        let mut quoted = QuotedLine {
            product_id: line.product_id,
            sku: None,
            name: None,
            unit: None,
            quantity: line.quantity,
            rules: QuantityRules::default(),
            price: None,
            line_total: None,
            problems: Vec::new(),
        };
        let Some(entry) = product.listed_in(tenant) else {
            quoted.problems.push(LineProblem::NotListed);
            lines.push(quoted);
            continue;
        };
        if !partner.may_buy(entry.category) {
            quoted.problems.push(LineProblem::NotAvailable);
            lines.push(quoted);
            continue;
        }
        if entry.rules.check(line.quantity).is_err() {
            quoted
                .problems
                .push(LineProblem::QuantityNotAllowed(entry.rules));
        }
        let prices = found.list_prices(line.product_id)?;
        let offers = applying.iter().filter_map(|&(id, name, priority)| {
            prices.in_list(id).map(|breaks| Offer {
                price_list_id: id,
                name,
                priority,
                breaks,
            })
        });
        let price = price_line(entry.price, line.quantity, offers);
        let line_total = price
            .unit_price
            .times(line.quantity.get())
            .ok_or_else(too_large)?;
        total = Some(match total {
            None => line_total,
            Some(sum) => sum.checked_add(line_total).ok_or_else(too_large)?,
        });
        quoted.sku = Some(entry.sku.clone());
        quoted.name = Some(entry.name.clone());
        quoted.unit = Some(entry.unit.clone());
        quoted.rules = entry.rules;
        quoted.price = Some(price);
        quoted.line_total = Some(line_total);
        lines.push(quoted);
    }
    let total = total.unwrap_or(Money::zero(Default::default()));
    Ok(Quote { lines, total })
}

#[cfg(test)]
mod tests {
    //! Properties of the one pricing function: [`price_line`] against a plain restatement of
    //! the rule, and [`quote`] over random lists, some of which must never apply.

    use std::collections::BTreeMap;

    use cqrs_es::test::TestFramework;
    use proptest::prelude::*;
    use uuid::Uuid;

    use super::*;
    use crate::fixtures::{
        cny, days_from_now, level, name, now, ordering_world, price_list_created, price_set,
        priority, quantity, scoped, OTHER_PARTNER, OTHER_TENANT, PARTNER, PRODUCT, PRODUCT_PRICE,
        SECOND_PRODUCT, SECOND_PRODUCT_PRICE, TENANT,
    };
    use crate::order::{Order, OrderCommand, OrderEvent, Submitter};
    use crate::partner::PartnerEvent;
    use crate::price_list::PriceListEvent;
    use crate::tenant::TenantEvent;
    use crate::values::{Note, PriceListScope};

    fn list_id(n: u16) -> PriceListId {
        PriceListId::from_uuid(Uuid::from_u128(
            0x0190_0000_0000_7000_8000_0002_0000_0000 | u128::from(n),
        ))
    }

    /// Up to 5 prices of one list: unit price (fen) by break.
    fn breaks() -> impl Strategy<Value = BTreeMap<u32, i64>> {
        prop::collection::btree_map(1u32..=40, 0i64..=5_000, 0..5)
    }

    fn to_breaks(prices: &BTreeMap<u32, i64>) -> Breaks {
        prices
            .iter()
            .map(|(min, price)| (quantity(i64::from(*min)), cny(*price)))
            .collect()
    }

    /// The rule of DESIGN §4, said plainly: among the offers with a break at or below the
    /// quantity, the greatest (priority, id); in it, the greatest such break; else the catalog.
    fn expected_price(
        catalog: i64,
        n: u32,
        offers: &[(PriceListId, Name, u32, BTreeMap<u32, i64>)],
    ) -> LinePrice {
        let mut best: Option<(u32, PriceListId, &Name, u32, i64)> = None;
        for (id, name, rank, prices) in offers {
            let Some((&min, &price)) = prices.iter().rev().find(|(min, _)| **min <= n) else {
                continue;
            };
            if best.is_none_or(|(best_rank, best_id, ..)| (*rank, *id) > (best_rank, best_id)) {
                best = Some((*rank, *id, name, min, price));
            }
        }
        match best {
            None => LinePrice {
                unit_price: cny(catalog),
                reason: PriceReason::Catalog,
            },
            Some((rank, id, name, min, price)) => LinePrice {
                unit_price: cny(price),
                reason: PriceReason::PriceList {
                    price_list_id: id,
                    name: name.clone(),
                    priority: priority(rank),
                    min_quantity: quantity(i64::from(min)),
                    catalog_price: cny(catalog),
                },
            },
        }
    }

    /// Where a list was made.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Made {
        Here,
        InAnotherTenant,
        /// Indexed by the tenant, never created.
        Never,
    }

    #[derive(Debug, Clone)]
    enum Scope {
        Unscoped,
        All,
        Levels(Vec<&'static str>),
        Partners(Vec<PartnerId>),
    }

    /// One random price list: how it was made, its terms, and its prices of `PRODUCT`.
    #[derive(Debug, Clone)]
    struct ListSpec {
        made: Made,
        archived: bool,
        /// Days from `now()`.
        from: Option<i64>,
        to: Option<i64>,
        scope: Scope,
        rank: u32,
        prices: BTreeMap<u32, i64>,
    }

    impl ListSpec {
        /// Whether the list may price for `PARTNER` at `partner_level` at `now()`, judged
        /// from the spec alone.
        fn applies(&self, partner_level: Option<&str>) -> bool {
            let in_scope = match &self.scope {
                Scope::Unscoped => false,
                Scope::All => true,
                Scope::Levels(levels) => partner_level.is_some_and(|l| levels.contains(&l)),
                Scope::Partners(partners) => partners.contains(&PARTNER),
            };
            self.made == Made::Here
                && !self.archived
                && self.from.is_none_or(|from| from <= 0)
                && self.to.is_none_or(|to| to > 0)
                && in_scope
        }

        fn history(&self, title: &str) -> Vec<PriceListEvent> {
            let tenant = match self.made {
                Made::Here => TENANT,
                Made::InAnotherTenant => OTHER_TENANT,
                Made::Never => return vec![],
            };
            let mut events = vec![price_list_created(tenant, title, self.rank)];
            if self.from.is_some() || self.to.is_some() {
                events.push(PriceListEvent::PriceListValiditySet {
                    from: self.from.map(days_from_now),
                    to: self.to.map(days_from_now),
                });
            }
            let scope = match &self.scope {
                Scope::Unscoped => None,
                Scope::All => Some(PriceListScope::All),
                Scope::Levels(levels) => Some(PriceListScope::Levels {
                    levels: levels.iter().map(|l| level(l)).collect(),
                }),
                Scope::Partners(partners) => Some(PriceListScope::Partners {
                    partners: partners.iter().copied().collect(),
                }),
            };
            events.extend(scope.map(|scope| PriceListEvent::PriceListScopeSet { scope }));
            if self.archived {
                events.push(PriceListEvent::PriceListArchived);
            }
            events
        }
    }

    fn scope() -> impl Strategy<Value = Scope> {
        prop_oneof![
            Just(Scope::Unscoped),
            Just(Scope::All),
            prop_oneof![Just(vec!["A"]), Just(vec!["B"]), Just(vec!["A", "B"])]
                .prop_map(Scope::Levels),
            prop_oneof![
                Just(vec![PARTNER]),
                Just(vec![OTHER_PARTNER]),
                Just(vec![PARTNER, OTHER_PARTNER])
            ]
            .prop_map(Scope::Partners),
        ]
    }

    fn list_spec() -> impl Strategy<Value = ListSpec> {
        let made = prop_oneof![
            6 => Just(Made::Here),
            1 => Just(Made::InAnotherTenant),
            1 => Just(Made::Never),
        ];
        // Windows around now, often on its edges: `from` is inclusive, `to` exclusive.
        let window = (prop::option::of(-2i64..=2), prop::option::of(-2i64..=2)).prop_filter(
            "a window ends after it starts",
            |window| match window {
                (Some(from), Some(to)) => to > from,
                _ => true,
            },
        );
        (
            made,
            prop::bool::weighted(0.2),
            window,
            scope(),
            0u32..3,
            prop::collection::btree_map(1u32..=40, 0i64..=5_000, 1..5),
        )
            .prop_map(
                |(made, archived, (from, to), scope, rank, prices)| ListSpec {
                    made,
                    archived,
                    from,
                    to,
                    scope,
                    rank,
                    prices,
                },
            )
    }

    proptest! {
        #[test]
        fn the_highest_applying_offer_prices_from_its_largest_break_at_or_below_the_quantity(
            lists in prop::collection::hash_map(any::<u16>(), (0u32..4, breaks()), 0..6),
            catalog in 0i64..=5_000,
            n in 1u32..=50,
        ) {
            let offers: Vec<_> = lists
                .into_iter()
                .map(|(id, (rank, prices))| {
                    (list_id(id), name(&format!("List {id}")), rank, prices)
                })
                .collect();
            let all_breaks: Vec<Breaks> =
                offers.iter().map(|(.., prices)| to_breaks(prices)).collect();
            let priced = price_line(
                cny(catalog),
                quantity(i64::from(n)),
                offers.iter().zip(&all_breaks).map(|((id, name, rank, _), breaks)| Offer {
                    price_list_id: *id,
                    name,
                    priority: priority(*rank),
                    breaks,
                }),
            );
            prop_assert_eq!(&priced, &expected_price(catalog, n, &offers));
            if let PriceReason::PriceList { price_list_id, min_quantity, .. } = &priced.reason {
                prop_assert!(min_quantity.get() <= n);
                let (.., prices) = offers
                    .iter()
                    .find(|(id, ..)| id == price_list_id)
                    .expect("the reason names one of the offers");
                prop_assert_eq!(prices.get(&min_quantity.get()), Some(&priced.unit_price.amount_minor));
            }
        }

        #[test]
        fn no_archived_expired_unstarted_out_of_scope_or_foreign_list_ever_prices_a_line(
            specs in prop::collection::vec(list_spec(), 1..6),
            partner_level in prop::option::of(prop_oneof![Just("A"), Just("B")]),
            n in 1u32..=50,
            m in 1u32..=10,
        ) {
            let titles: Vec<String> = (0..specs.len()).map(|i| format!("List {i}")).collect();
            let ids: Vec<PriceListId> = (0..specs.len())
                .map(|i| list_id(u16::try_from(i).expect("few lists")))
                .collect();

            let mut world = ordering_world()
                .partner(PARTNER, [PartnerEvent::PartnerLevelSet {
                    level: partner_level.map(level),
                }])
                .tenant(
                    TENANT,
                    ids.iter()
                        .map(|id| TenantEvent::PriceListIndexed { price_list_id: *id })
                        .collect::<Vec<_>>(),
                );
            let mut prices = Vec::new();
            for ((spec, id), title) in specs.iter().zip(&ids).zip(&titles) {
                world = world.price_list(*id, spec.history(title));
                prices.extend(spec.prices.iter().map(|(min, price)| {
                    price_set(*id, PRODUCT, i64::from(*min), *price)
                }));
            }
            let world = world.list_prices(PRODUCT, prices);

            let requested = vec![
                RequestedLine { product_id: PRODUCT, quantity: quantity(i64::from(n)) },
                RequestedLine { product_id: SECOND_PRODUCT, quantity: quantity(i64::from(m)) },
            ];
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("a runtime");
            let found = runtime
                .block_on(load(&world, TENANT, &wanted(TENANT, PARTNER, [PRODUCT, SECOND_PRODUCT])))
                .expect("the world answers");
            let buyer = Buyer {
                tenant: TENANT,
                partner_id: PARTNER,
                partner: found.partner(PARTNER).expect("the partner was asked for"),
                at: now(),
            };
            let quoted = quote(buyer, &requested, &found).expect("a quote");

            // Only the lists that apply, judged from how they were made, may price the line.
            let applying: Vec<_> = specs
                .iter()
                .zip(&ids)
                .zip(&titles)
                .filter(|((spec, _), _)| spec.applies(partner_level))
                .map(|((spec, id), title)| (*id, name(title), spec.rank, spec.prices.clone()))
                .collect();
            let line = &quoted.lines[0];
            prop_assert!(line.problems.is_empty());
            let price = line.price.clone().expect("a listed product is priced");
            if let PriceReason::PriceList { price_list_id, .. } = &price.reason {
                let i = ids.iter().position(|id| id == price_list_id).expect("one of the lists");
                prop_assert!(
                    specs[i].applies(partner_level),
                    "list {} priced the line but must not apply: {:?}", i, specs[i]
                );
            }
            prop_assert_eq!(&price, &expected_price(PRODUCT_PRICE, n, &applying));
            prop_assert_eq!(
                quoted.lines[1].price.clone().map(|price| price.reason),
                Some(PriceReason::Catalog)
            );
            let line_total = price.unit_price.times(n).expect("a small total");
            prop_assert_eq!(line.line_total, Some(line_total));
            prop_assert_eq!(
                quoted.total,
                cny(line_total.amount_minor + SECOND_PRODUCT_PRICE * i64::from(m))
            );

            // Nothing changed since: a submission expecting the quoted total is taken at it,
            // each line at its quoted price and reason.
            let submitted = TestFramework::<Order>::with(world.services())
                .given_no_previous_events()
                .when(scoped(OrderCommand::SubmitOrder {
                    partner_id: PARTNER,
                    by: Submitter::Contact(crate::fixtures::CONTACT),
                    lines: requested.clone(),
                    note: Note::parse("").expect("an empty note"),
                    expected_total: Some(quoted.total),
                    at: now(),
                }))
                .inspect_result()
                .expect("the quoted order is taken");
            let [OrderEvent::OrderSubmitted { total, lines, .. }] = submitted.as_slice() else {
                panic!("one OrderSubmitted, got {submitted:?}");
            };
            prop_assert_eq!(*total, quoted.total);
            for (written, quoted) in lines.iter().zip(&quoted.lines) {
                let price = quoted.price.as_ref().expect("priced");
                prop_assert_eq!(written.unit_price, price.unit_price);
                prop_assert_eq!(&written.price_reason, &price.reason);
                prop_assert_eq!(Some(written.line_total), quoted.line_total);
            }
        }
    }
}
