//! The product document's refusals, each really attempted. A refusal that does not happen, comes
//! with another code, or leaves an event behind stops the demo with an error.

use std::future::Future;

use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppInput, BindContactInput,
    BindWechatAccountInput, CommandError, Commands, ConfirmOrderInput, DelistProductInput,
    ListProductInput, MenuButtonInput, MoneyInput, OrderLineInput, PublishWechatMenuInput,
    QuoteInput, RepriceProductInput, RequestContext, Role, SubmitOptions, SubmitOrderInput,
};
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::{DomainError, ErrorCode, Side, TenantId};
use dinghuo_store::audit::count_events;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use uuid::Uuid;

use super::catalog;
use super::load;
use super::orders::{self, Outcome, PlacedOrder};
use super::refusal_check::{check_refused, RefusalFault, Watched};
use super::tour::{check_quote, money_input};
use super::world::{TheirContact, World};
use super::{DemoError, Step};

/// One refusal, as it happened.
pub struct Refusal {
    pub code: ErrorCode,
    pub tried: String,
    /// The refusal's message, as the command layer words it.
    pub message: String,
}

/// What the demonstration showed.
pub struct Shown {
    pub refusals: Vec<Refusal>,
    /// The second tenant (registered, ordering bought, interconnect never enabled).
    pub second_tenant: TenantId,
    /// The idempotent replay: the key, and whether it answered the same order.
    pub replay: String,
    /// A price that moved under a dealer's quote, and the dealer ordering at the new one.
    pub price_change: String,
}

/// Attempts commands that must be refused, checking the code and that nothing was appended to
/// the logs of the tenants involved.
struct Attempts<'a> {
    commands: &'a Commands,
    tenants: Vec<TenantId>,
    refusals: Vec<Refusal>,
}

impl Attempts<'_> {
    /// Runs `attempt`, which must be refused with `expected`; `show` puts it in the table.
    async fn must_refuse<T>(
        &mut self,
        expected: ErrorCode,
        tried: String,
        show: bool,
        attempt: impl Future<Output = Result<T, CommandError>>,
    ) -> Result<(), DemoError> {
        self.must_refuse_with(expected, tried, show, attempt)
            .await
            .map(drop)
    }

    /// [`Self::must_refuse`], answering the refusal for checks of its details.
    async fn must_refuse_with<T>(
        &mut self,
        expected: ErrorCode,
        tried: String,
        show: bool,
        attempt: impl Future<Output = Result<T, CommandError>>,
    ) -> Result<CommandError, DemoError> {
        let watched = Watched::Tenants(&self.tenants);
        let error = match check_refused(self.commands.database(), watched, expected, attempt).await
        {
            Ok(error) => error,
            Err(RefusalFault::Count(error)) => return Err(error.into()),
            Err(RefusalFault::Appended { appended, .. }) => {
                return Err(DemoError::RefusalAppended {
                    tried,
                    code: expected,
                    appended,
                })
            }
            Err(fault) => {
                return Err(DemoError::RuleNotEnforced {
                    tried,
                    expected,
                    outcome: fault.to_string(),
                })
            }
        };
        if show {
            // A validation error's text starts with the field at fault.
            self.refusals.push(Refusal {
                code: expected,
                tried,
                message: error.to_string(),
            });
        }
        Ok(error)
    }
}

fn one_line(world: &World, product: usize, quantity: i64) -> SubmitOrderInput {
    SubmitOrderInput {
        lines: vec![OrderLineInput {
            product_id: world.products[product].id.to_string(),
            quantity,
            sku: None,
        }],
        note: None,
    }
}

fn missing(what: &str) -> DemoError {
    DemoError::Inconsistent(format!("the sample data has no {what}"))
}

/// A number that differs from `phone` in its last digit.
fn wrong_phone(phone: &str) -> String {
    let (head, last) = phone.split_at(phone.len() - 1);
    let digit = if last == "9" { "0" } else { "9" };
    format!("{head}{digit}")
}

pub async fn demonstrate(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
    rng: &mut StdRng,
) -> Result<Shown, DemoError> {
    // Orders in the states the refusals need, taken before anything is delisted.
    let submitted = orders::ensure(commands, world, placed, Outcome::Submitted, rng).await?;
    let confirmed = orders::ensure(commands, world, placed, Outcome::Confirmed, rng).await?;

    let second = second_tenant(commands, world.operator).await?;
    let mut attempts = Attempts {
        commands,
        tenants: vec![world.tenant, second.tenant],
        refusals: Vec::new(),
    };
    let admin = || world.admin_ctx();

    // Seed: a partner without the ordering app assigned cannot order.
    let unassigned = catalog::WITHOUT_ORDERING[0];
    let contact = world
        .bound_contact_of(unassigned)
        .ok_or_else(|| missing("bound contact of a partner without ordering"))?;
    attempts
        .must_refuse(
            ErrorCode::AppNotAssigned,
            format!(
                "{} orders for {}, which has no ORDERING assigned",
                contact.name, world.partners[unassigned].name
            ),
            true,
            commands.submit_order(&world.contact_ctx(contact), one_line(world, 0, 2)),
        )
        .await?;

    // Seed note 1: a partner contact must have a mobile number.
    let customer = &world.customers[1];
    let name = catalog::PHONELESS_PERSON;
    let phoneless = load::record_person(commands, world, name, None, Some(customer.id)).await?;
    attempts
        .must_refuse(
            ErrorCode::ContactHasNoPhone,
            format!(
                "{name} (no mobile recorded) is added as a contact of {}",
                customer.name
            ),
            true,
            commands.add_partner_contact(
                &admin(),
                AddPartnerContactInput {
                    contact_id: phoneless.to_string(),
                    partner_id: customer.id.to_string(),
                    side: Side::Theirs.as_str().into(),
                },
            ),
        )
        .await?;

    // Seed §2: the number typed when binding must be the recorded one; failures are throttled.
    let mut unbound = world.unbound_contacts();
    let mistyping = unbound.next().ok_or_else(|| missing("unbound contact"))?;
    let not_yet = unbound
        .next()
        .ok_or_else(|| missing("second unbound contact"))?;
    bind_refusals(&mut attempts, world, mistyping).await?;

    // Seed preamble: an enterprise enables the app after switching on interconnect; and the
    // app is not offered for the custom menu while it is not enabled.
    attempts
        .must_refuse(
            ErrorCode::InterconnectNotEnabled,
            format!(
                "{} enables ORDERING without interconnect",
                catalog::SECOND_TENANT_NAME
            ),
            true,
            commands.enable_app(
                &second.admin_ctx(),
                AppInput {
                    app: "ORDERING".into(),
                },
            ),
        )
        .await?;
    attempts
        .must_refuse(
            ErrorCode::AppNotEnabled,
            format!(
                "{} puts ORDERING (not enabled) in its WeChat menu",
                catalog::SECOND_TENANT_NAME
            ),
            true,
            commands.publish_wechat_menu(
                &second.admin_ctx(),
                PublishWechatMenuInput {
                    app_id: second.wechat_app_id.clone(),
                    buttons: vec![MenuButtonInput {
                        name: "在线订货".into(),
                        app: Some("ORDERING".into()),
                        url: None,
                    }],
                },
            ),
        )
        .await?;

    // Seed: only a customer maintained in the CRM can become a partner enterprise.
    attempts
        .must_refuse(
            ErrorCode::CustomerNotRecorded,
            "the admin adds a partner from a customer never recorded".into(),
            true,
            commands.add_partner(
                &admin(),
                AddPartnerInput {
                    customer_id: Uuid::now_v7().to_string(),
                    mode: None,
                },
            ),
        )
        .await?;

    // A customer that is not a partner enterprise cannot have partner contacts.
    let outsider = &world.customers[catalog::PARTNERS];
    let (name, phone) = catalog::OUTSIDER_PERSON;
    let person = load::record_person(commands, world, name, Some(phone), Some(outsider.id)).await?;
    attempts
        .must_refuse(
            ErrorCode::NotAPartner,
            format!(
                "{name} is added as a contact of {}, a customer but no partner",
                outsider.name
            ),
            true,
            commands.add_partner_contact(
                &admin(),
                AddPartnerContactInput {
                    contact_id: person.to_string(),
                    partner_id: outsider.id.to_string(),
                    side: Side::Theirs.as_str().into(),
                },
            ),
        )
        .await?;

    // An employee is an our-side contact, never a their-side one.
    let employee = world.employees.first().ok_or_else(|| missing("employee"))?;
    let looked_after = &world.partners[employee.partners[0]];
    attempts
        .must_refuse(
            ErrorCode::WrongSide,
            format!(
                "employee {} is added as a their-side contact of {}",
                employee.name, looked_after.name
            ),
            true,
            commands.add_partner_contact(
                &admin(),
                AddPartnerContactInput {
                    contact_id: employee.id.to_string(),
                    partner_id: looked_after.id.to_string(),
                    side: Side::Theirs.as_str().into(),
                },
            ),
        )
        .await?;

    // Only a bound contact orders.
    attempts
        .must_refuse(
            ErrorCode::ContactNotBound,
            format!(
                "{} (invited, not bound yet) orders for {}",
                not_yet.name, world.partners[not_yet.partner].name
            ),
            true,
            commands.submit_order(&world.contact_ctx(not_yet), one_line(world, 1, 3)),
        )
        .await?;

    // A suspended partner cannot order.
    let suspended = &world.partners[catalog::SUSPENDED];
    let contact = world
        .bound_contact_of(catalog::SUSPENDED)
        .ok_or_else(|| missing("bound contact of the suspended partner"))?;
    attempts
        .must_refuse(
            ErrorCode::PartnerSuspended,
            format!("{} orders for {}, suspended", contact.name, suspended.name),
            true,
            commands.submit_order(&world.contact_ctx(contact), one_line(world, 2, 5)),
        )
        .await?;

    // Seed note 2: a contact denied "create sales order" cannot submit orders.
    let restricted = world
        .restricted_contact()
        .ok_or_else(|| missing("restricted contact"))?;
    attempts
        .must_refuse(
            ErrorCode::PermissionDenied,
            format!(
                "{} (denied CREATE_SALES_ORDER) orders for {}",
                restricted.name, world.partners[restricted.partner].name
            ),
            true,
            commands.submit_order(&world.contact_ctx(restricted), one_line(world, 3, 1)),
        )
        .await?;

    // A dealer that may buy the whole catalog, so that only the rule tried can refuse it.
    let whole_catalog: Vec<usize> = world
        .orderers()
        .into_iter()
        .filter(|&i| {
            world.partners[world.contacts[i].partner]
                .assortment
                .is_none()
        })
        .collect();
    let orderer_index = *whole_catalog
        .choose(rng)
        .ok_or_else(|| missing("contact allowed to order the whole catalog"))?;
    let orderer = &world.contacts[orderer_index];
    attempts
        .must_refuse(
            ErrorCode::Validation,
            format!("{} orders 0 of a product", orderer.name),
            true,
            commands.submit_order(&world.contact_ctx(orderer), one_line(world, 4, 0)),
        )
        .await?;

    // A delisted product cannot be ordered.
    let last = world.products.len() - 1;
    let delisted = &world.products[last];
    commands
        .delist_product(
            &admin(),
            DelistProductInput {
                product_id: delisted.id.to_string(),
            },
        )
        .await
        .step(|| format!("delisting {}", delisted.sku))?;
    attempts
        .must_refuse(
            ErrorCode::ProductNotListed,
            format!(
                "{} orders {} {}, delisted after the season",
                orderer.name, delisted.sku, delisted.name
            ),
            true,
            commands.submit_order(&world.contact_ctx(orderer), one_line(world, last, 10)),
        )
        .await?;

    // SKUs are unique per tenant, whatever their case.
    let first = &world.products[0];
    attempts
        .must_refuse(
            ErrorCode::DuplicateSku,
            format!("the admin lists {} again", first.sku.to_lowercase()),
            true,
            commands.list_product(
                &admin(),
                ListProductInput {
                    sku: first.sku.to_lowercase(),
                    name: format!("{}（重复录入）", first.name),
                    unit: first.unit.into(),
                    price: MoneyInput::cny("1.00"),
                },
            ),
        )
        .await?;

    let price_change = pricing_refusals(&mut attempts, world, placed, orderer_index).await?;

    // Orders move forward only.
    let confirmed = &placed[confirmed];
    attempts
        .must_refuse(
            ErrorCode::InvalidState,
            format!("the admin confirms order {} a second time", confirmed.key),
            true,
            commands.confirm_order(
                &admin(),
                ConfirmOrderInput {
                    order_id: confirmed.id.to_string(),
                },
            ),
        )
        .await?;

    order_scope_refusals(&mut attempts, world, &second, &placed[submitted]).await?;
    let replay = idempotent_replay(commands, world, placed).await?;

    Ok(Shown {
        refusals: attempts.refusals,
        second_tenant: second.tenant,
        replay,
        price_change,
    })
}

/// DESIGN §4's rules of dealer ordering: the assortment, each kind of quantity rule, the quoted
/// total, and who may order on a dealer's behalf. `orderer` (index into `World::contacts`) may
/// buy the whole catalog. Answers what happened to the price change.
async fn pricing_refusals(
    attempts: &mut Attempts<'_>,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
    orderer: usize,
) -> Result<String, DemoError> {
    let commands = attempts.commands;

    // A dealer with a restricted assortment orders outside it.
    let (partner, contact) = (0..world.partners.len())
        .filter(|&p| world.partners[p].assortment.is_some())
        .find_map(|p| world.orderer_of(p).map(|c| (p, &world.contacts[c])))
        .ok_or_else(|| missing("contact of a dealer with a restricted assortment"))?;
    let restricted = &world.partners[partner];
    let outside = world
        .products
        .iter()
        .position(|product| !restricted.may_buy(product))
        .ok_or_else(|| missing("product outside a restricted assortment"))?;
    let product = &world.products[outside];
    attempts
        .must_refuse(
            ErrorCode::ProductNotAvailable,
            format!(
                "{} of {} (buys {} only) orders {} {} ({})",
                contact.name,
                restricted.name,
                restricted.assortment.unwrap_or_default().join("/"),
                product.sku,
                product.name,
                product.category.unwrap_or("—")
            ),
            true,
            commands.submit_order(&world.contact_ctx(contact), one_line(world, outside, 2)),
        )
        .await?;

    // Each product with quantity rules, ordered against one of them: a case broken open, too
    // few, too many. The first of each kind is shown.
    let who = &world.contacts[orderer];
    let mut shown_kinds = Vec::new();
    for (index, product) in world.products.iter().enumerate() {
        let rules = product.rules;
        let (kind, quantity) = if rules.multiple.is_some_and(|step| step > 1) {
            ("case", rules.nearest_allowed(1) + 1)
        } else if let Some(min) = rules.min.filter(|&min| min > 1) {
            ("minimum", min - 1)
        } else if let Some(max) = rules.max {
            ("maximum", max + 1)
        } else {
            continue;
        };
        if rules.allows(quantity) {
            return Err(DemoError::Inconsistent(format!(
                "{quantity} of {} meets its rules {}",
                product.sku,
                rules.describe()
            )));
        }
        let show = !shown_kinds.contains(&kind);
        shown_kinds.push(kind);
        let error = attempts
            .must_refuse_with(
                ErrorCode::QuantityNotAllowed,
                format!(
                    "{} orders {quantity} {} of {} {} (rules {})",
                    who.name,
                    product.unit,
                    product.sku,
                    product.name,
                    rules.describe()
                ),
                show,
                commands.submit_order(
                    &world.contact_ctx(who),
                    one_line(world, index, i64::from(quantity)),
                ),
            )
            .await?;
        let reported = match error {
            CommandError::Refused(DomainError::QuantityNotAllowed { line, rules, .. }) => {
                let get = |q: Option<dinghuo_domain::Quantity>| q.map(|q| q.get());
                line == 0
                    && get(rules.min) == product.rules.min
                    && get(rules.multiple) == product.rules.multiple
                    && get(rules.max) == product.rules.max
            }
            _ => false,
        };
        if !reported {
            return Err(DemoError::Inconsistent(format!(
                "ordering {quantity} of {} was refused without the line and the rules {}",
                product.sku,
                rules.describe()
            )));
        }
    }

    let price_change = price_change(attempts, world, placed, orderer).await?;

    // An employee orders on behalf of a dealer it does not look after: to it, that dealer does
    // not exist.
    let employee = world.employees.first().ok_or_else(|| missing("employee"))?;
    let stranger = (0..world.partners.len())
        .find(|p| !employee.partners.contains(p) && world.partners[*p].ordering)
        .map(|p| &world.partners[p])
        .ok_or_else(|| missing("dealer an employee does not look after"))?;
    attempts
        .must_refuse(
            ErrorCode::NotFound,
            format!(
                "employee {}, not looking after {}, orders on its behalf",
                employee.name, stranger.name
            ),
            true,
            commands.submit_order_with(
                &world.employee_ctx(employee),
                one_line(world, 1, 2),
                SubmitOptions {
                    partner_id: Some(stranger.id.to_string()),
                    expected_total: None,
                },
            ),
        )
        .await?;
    Ok(price_change)
}

/// A dealer quotes its cart; the admin raises the catalog price of one of its products; the
/// submission with the quoted total is `PRICE_CHANGED` and carries the new quote, with which
/// the dealer orders.
async fn price_change(
    attempts: &mut Attempts<'_>,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
    orderer: usize,
) -> Result<String, DemoError> {
    let commands = attempts.commands;
    let who = &world.contacts[orderer];
    let ctx = || world.contact_ctx(who);
    let lines = catalog::PRICE_CHANGE_CART
        .iter()
        .map(|&(sku, quantity)| {
            let product = world
                .product_by_sku(sku)
                .ok_or_else(|| missing("product of the cart"))?;
            Ok(OrderLineInput {
                product_id: world.products[product].id.to_string(),
                quantity: i64::from(quantity),
                sku: None,
            })
        })
        .collect::<Result<Vec<_>, DemoError>>()?;
    let cart = SubmitOrderInput { lines, note: None };
    let (sku, _) = catalog::PRICE_CHANGE_CART[0];
    let raised = catalog::RAISED_PRICE;
    let repriced = world
        .product_by_sku(sku)
        .ok_or_else(|| missing("product to reprice"))?;
    let what = format!("{} quoting a cart", who.name);
    let (_, quote) = commands
        .quote(
            &ctx(),
            QuoteInput {
                partner_id: None,
                lines: cart.lines.clone(),
            },
        )
        .await
        .step(|| what.clone())?;
    check_quote(world, who.partner, &quote, &what)?;
    // Only a catalog price moves the total when the catalog price moves.
    if quote.lines[0].price.as_ref().map(|p| &p.reason) != Some(&PriceReason::Catalog) {
        return Err(DemoError::Inconsistent(format!(
            "{sku} should be priced by the catalog for {}",
            world.partners[who.partner].name
        )));
    }
    commands
        .reprice_product(
            &world.admin_ctx(),
            RepriceProductInput {
                product_id: world.products[repriced].id.to_string(),
                price: MoneyInput::cny(raised),
            },
        )
        .await
        .step(|| format!("raising the price of {sku} to {raised}"))?;
    let quoted = quote.total.to_decimal_string();
    let error = attempts
        .must_refuse_with(
            ErrorCode::PriceChanged,
            format!(
                "{} submits its cart at the quoted ¥{quoted}, after the admin raised {sku} to ¥{raised}",
                who.name
            ),
            true,
            commands.submit_order_with(
                &ctx(),
                cart.clone(),
                SubmitOptions {
                    partner_id: None,
                    expected_total: Some(money_input(quote.total)),
                },
            ),
        )
        .await?;
    let CommandError::Refused(DomainError::PriceChanged { quote: new_quote }) = error else {
        return Err(DemoError::Inconsistent(format!(
            "PRICE_CHANGED came without the new quote: {error}"
        )));
    };
    if new_quote.total == quote.total {
        return Err(DemoError::Inconsistent(format!(
            "PRICE_CHANGED carries the old total ¥{quoted}"
        )));
    }
    // The dealer accepts the new total.
    let key = "demo-requote";
    let id = commands
        .submit_order_with(
            &ctx().with_idempotency_key(key),
            cart.clone(),
            SubmitOptions {
                partner_id: None,
                expected_total: Some(money_input(new_quote.total)),
            },
        )
        .await
        .step(|| format!("{} ordering at the new quote", who.name))?;
    placed.push(PlacedOrder {
        id,
        contact: orderer,
        on_behalf: None,
        key: key.into(),
        input: cart,
        outcome: Outcome::Submitted,
    });
    Ok(format!(
        "{} of {} was quoted ¥{quoted}; the admin raised {sku} to ¥{raised}; submitting at ¥{quoted} \
         was PRICE_CHANGED with the new quote ¥{}, at which it ordered ({key})",
        who.name,
        world.partners[who.partner].name,
        new_quote.total.to_decimal_string()
    ))
}

/// A wrong number does not bind; after five wrong numbers even the right one waits.
async fn bind_refusals(
    attempts: &mut Attempts<'_>,
    world: &World,
    contact: &TheirContact,
) -> Result<(), DemoError> {
    let commands = attempts.commands;
    let bind = |phone: String| {
        let ctx = world.contact_ctx(contact);
        let input = BindContactInput {
            contact_id: contact.id.to_string(),
            phone,
            channel: "MINI_PROGRAM".into(),
            wechat_open_id: None,
        };
        async move { commands.bind_contact(&ctx, input).await }
    };
    let wrong = wrong_phone(&contact.phone);
    for attempt in 1..=dinghuo_commands::limiter::MAX_FAILURES {
        attempts
            .must_refuse(
                ErrorCode::PhoneMismatch,
                format!(
                    "{} binds in the mini program with {wrong} (recorded: {})",
                    contact.name, contact.phone
                ),
                attempt == 1,
                bind(wrong.clone()),
            )
            .await?;
    }
    attempts
        .must_refuse(
            ErrorCode::RateLimited,
            format!(
                "{} tries the right number after {} wrong ones",
                contact.name,
                dinghuo_commands::limiter::MAX_FAILURES
            ),
            true,
            bind(contact.phone.clone()),
        )
        .await
}

/// Who may touch an order: not the dealer's contact, not an employee of other dealers, not
/// another tenant.
async fn order_scope_refusals(
    attempts: &mut Attempts<'_>,
    world: &World,
    second: &SecondTenant,
    order: &PlacedOrder,
) -> Result<(), DemoError> {
    let commands = attempts.commands;
    let contact = &world.contacts[order.contact];
    let partner = contact.partner;
    let confirm = |ctx: RequestContext| {
        let input = ConfirmOrderInput {
            order_id: order.id.to_string(),
        };
        async move { commands.confirm_order(&ctx, input).await }
    };
    attempts
        .must_refuse(
            ErrorCode::Forbidden,
            format!("{} confirms its own order {}", contact.name, order.key),
            true,
            confirm(world.contact_ctx(contact)),
        )
        .await?;
    let outsider = world
        .employees
        .iter()
        .find(|e| !e.partners.contains(&partner))
        .ok_or_else(|| missing("employee looking after other dealers"))?;
    attempts
        .must_refuse(
            ErrorCode::NotFound,
            format!(
                "employee {}, not looking after {}, confirms its order",
                outsider.name, world.partners[partner].name
            ),
            true,
            confirm(world.employee_ctx(outsider)),
        )
        .await?;
    attempts
        .must_refuse(
            ErrorCode::NotFound,
            format!(
                "the admin of {} confirms an order of {}",
                catalog::SECOND_TENANT_NAME,
                catalog::TENANT_NAME
            ),
            true,
            confirm(second.admin_ctx()),
        )
        .await
}

/// Resubmitting with the first order's idempotency key answers the same order and appends
/// nothing.
async fn idempotent_replay(
    commands: &Commands,
    world: &World,
    placed: &[PlacedOrder],
) -> Result<String, DemoError> {
    let Some(first) = placed.iter().find(|o| {
        o.on_behalf.is_none() && !world.partners[world.contacts[o.contact].partner].suspended
    }) else {
        return Ok("no order to replay".into());
    };
    let contact = &world.contacts[first.contact];
    let before = count_events(commands.database(), Some(world.tenant)).await?;
    let answered = commands
        .submit_order(
            &world.contact_ctx(contact).with_idempotency_key(&first.key),
            first.input.clone(),
        )
        .await
        .step(|| format!("replaying order {}", first.key))?;
    let appended = count_events(commands.database(), Some(world.tenant)).await? - before;
    if answered != first.id || appended != 0 {
        return Err(DemoError::Inconsistent(format!(
            "resubmitting order {} with its idempotency key answered {answered} and appended \
             {appended} event(s); expected {} and none",
            first.key, first.id
        )));
    }
    Ok(format!(
        "resubmitting order {} with its idempotency key answered the same order {} and appended nothing",
        first.key, first.id
    ))
}

struct SecondTenant {
    tenant: TenantId,
    admin: Actor,
    wechat_app_id: String,
}

impl SecondTenant {
    fn admin_ctx(&self) -> RequestContext {
        RequestContext::new(self.admin)
    }
}

/// A small tenant that bought ordering but never enabled interconnect, with an official account.
async fn second_tenant(commands: &Commands, operator: Actor) -> Result<SecondTenant, DemoError> {
    let tenant =
        load::register_tenant(commands, operator, catalog::SECOND_TENANT_NAME, false).await?;
    let admin = Actor::in_tenant(Uuid::now_v7(), Role::Admin, tenant);
    // Derived from the tenant id rather than the RNG, so the main tenant's shape does not
    // depend on whether this tenant exists.
    let wechat_app_id = format!("wx{}", &tenant.as_uuid().simple().to_string()[16..]);
    let second = SecondTenant {
        tenant,
        admin,
        wechat_app_id,
    };
    commands
        .bind_wechat_account(
            &second.admin_ctx(),
            BindWechatAccountInput {
                app_id: second.wechat_app_id.clone(),
                name: "海港干货服务号".into(),
            },
        )
        .await
        .step(|| {
            format!(
                "binding the official account of {}",
                catalog::SECOND_TENANT_NAME
            )
        })?;
    Ok(second)
}
