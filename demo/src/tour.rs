//! Ordering the ways dealers order fast (DESIGN §4): a quick order pasted from a spreadsheet, a
//! reorder of a past order at today's prices and rules, and an order an employee places on a
//! dealer's behalf. Each is quoted first and submitted with the quoted total, as the console
//! does; every quoted price is checked against the documented rule, and what was stored against
//! the quote.

use dinghuo_commands::{
    Commands, MoneyInput, OrderLineInput, QuoteInput, RequestContext, SubmitOptions,
    SubmitOrderInput,
};
use dinghuo_domain::order::{OrderEvent, PlacedBy};
use dinghuo_domain::pricing::Quote;
use dinghuo_domain::{Money, OrderId};

use super::catalog::{self, CONTRACT_PARTNER, ON_BEHALF_LINES, QUICK_ORDER_PARTNER};
use super::orders::{Outcome, PlacedOrder};
use super::world::World;
use super::{DemoError, Step};

/// Progress-bar steps: the quick order, the reorder, the order on behalf.
pub const STEPS: u64 = 3;

/// What the tour did, for the summary.
pub struct Tour {
    pub quick_order: String,
    pub reorder: String,
    pub on_behalf: String,
}

fn missing(what: &str) -> DemoError {
    DemoError::Inconsistent(format!("the sample data has no {what}"))
}

pub fn money_input(money: Money) -> MoneyInput {
    MoneyInput {
        amount: money.to_decimal_string(),
        currency: money.currency.code().into(),
    }
}

/// A quote's lines as a submission sends them again: by product id.
pub fn lines_of(quote: &Quote) -> Vec<OrderLineInput> {
    quote
        .lines
        .iter()
        .map(|line| OrderLineInput {
            product_id: line.product_id.to_string(),
            quantity: i64::from(line.quantity.get()),
            sku: None,
        })
        .collect()
}

/// Every line of `quote` is free of problems and priced as the documented rule says.
pub fn check_quote(
    world: &World,
    partner: usize,
    quote: &Quote,
    what: &str,
) -> Result<(), DemoError> {
    for line in &quote.lines {
        if let Some(problem) = line.problems.first() {
            return Err(DemoError::Inconsistent(format!(
                "{what}: product {} has a problem: {problem:?}",
                line.product_id
            )));
        }
        let price = line.price.as_ref().ok_or_else(|| {
            DemoError::Inconsistent(format!("{what}: product {} is not priced", line.product_id))
        })?;
        world
            .check_price(
                partner,
                line.product_id,
                line.quantity.get(),
                price.unit_price,
                &price.reason,
            )
            .map_err(|e| DemoError::Inconsistent(format!("{what}: {e}")))?;
    }
    Ok(())
}

/// The submission event of `order`, to check what was stored.
async fn submitted(commands: &Commands, order: OrderId) -> Result<OrderEvent, DemoError> {
    let events = commands
        .orders()
        .loader()
        .events(&order.to_string())
        .await
        .map_err(|e| DemoError::Inconsistent(format!("cannot read order {order} back: {e}")))?;
    events
        .into_iter()
        .next()
        .map(|envelope| envelope.payload)
        .ok_or_else(|| DemoError::Inconsistent(format!("order {order} has no events")))
}

/// The stored order is the quote: the same total, and who placed it.
async fn check_stored(
    commands: &Commands,
    order: OrderId,
    quote: &Quote,
    placed_by: Option<PlacedBy>,
    what: &str,
) -> Result<(), DemoError> {
    match submitted(commands, order).await? {
        OrderEvent::OrderSubmitted {
            total,
            placed_by: stored,
            ..
        } if total == quote.total && stored == placed_by => Ok(()),
        other => Err(DemoError::Inconsistent(format!(
            "{what}: order {order} was stored as {other:?}, quoted at {}",
            quote.total.to_decimal_string()
        ))),
    }
}

/// Quotes `input` for `partner` (index into `World::partners`; staff name it, a contact orders
/// for its own), checks the quote, and submits with the quoted total; answers the order and its
/// quote.
#[allow(clippy::too_many_arguments)]
async fn quote_and_submit(
    commands: &Commands,
    world: &World,
    ctx: &RequestContext,
    partner: usize,
    named: bool,
    input: SubmitOrderInput,
    key: &str,
    what: &str,
) -> Result<(OrderId, Quote), DemoError> {
    let partner_id = named.then(|| world.partners[partner].id.to_string());
    let (quoted_for, quote) = commands
        .quote(
            ctx,
            QuoteInput {
                partner_id: partner_id.clone(),
                lines: input.lines.clone(),
            },
        )
        .await
        .step(|| format!("quoting {what}"))?;
    if quoted_for != world.partners[partner].id {
        return Err(DemoError::Inconsistent(format!(
            "{what}: quoted for partner {quoted_for}"
        )));
    }
    check_quote(world, partner, &quote, what)?;
    let id = commands
        .submit_order_with(
            &ctx.clone().with_idempotency_key(key),
            input,
            SubmitOptions {
                partner_id,
                expected_total: Some(money_input(quote.total)),
            },
        )
        .await
        .step(|| format!("submitting {what} with its quoted total"))?;
    Ok((id, quote))
}

pub async fn run(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
) -> Result<Tour, DemoError> {
    let quick_order = quick_order(commands, world, placed).await?;
    let reorder = reorder(commands, world, placed).await?;
    let on_behalf = on_behalf(commands, world, placed).await?;
    Ok(Tour {
        quick_order,
        reorder,
        on_behalf,
    })
}

/// A dealer pastes lines from its spreadsheet; the parsed lines (by SKU) are quoted and ordered.
async fn quick_order(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
) -> Result<String, DemoError> {
    let contact = world
        .orderer_of(QUICK_ORDER_PARTNER)
        .ok_or_else(|| missing("contact of the quick-order dealer"))?;
    let who = &world.contacts[contact];
    let ctx = world.contact_ctx(who);
    let parsed = commands
        .parse_order_lines(&ctx, catalog::QUICK_ORDER_TEXT)
        .await
        .step(|| format!("{} pasting a quick order", who.name))?;
    if let Some(bad) = parsed.iter().find(|line| line.error.is_some()) {
        return Err(DemoError::Inconsistent(format!(
            "pasted line {} ({}) was not understood: {:?}",
            bad.line, bad.sku, bad.error
        )));
    }
    let lines: Vec<OrderLineInput> = parsed
        .iter()
        .map(|line| OrderLineInput {
            product_id: String::new(),
            quantity: line.quantity.unwrap_or_default(),
            sku: Some(line.sku.clone()),
        })
        .collect();
    let input = SubmitOrderInput {
        lines,
        note: Some("快速下单：从订货表粘贴".into()),
    };
    let key = "demo-quick-order";
    let what = format!("the quick order of {}", who.name);
    let (id, quote) = quote_and_submit(
        commands,
        world,
        &ctx,
        who.partner,
        false,
        input.clone(),
        key,
        &what,
    )
    .await?;
    check_stored(commands, id, &quote, None, &what).await?;
    placed.push(PlacedOrder {
        id,
        contact,
        on_behalf: None,
        key: key.into(),
        input,
        outcome: Outcome::Submitted,
    });
    Ok(format!(
        "{} of {} pasted {} lines (SKU and quantity); ordered by SKU at the quoted ¥{}",
        who.name,
        world.partners[who.partner].name,
        parsed.len(),
        quote.total.to_decimal_string()
    ))
}

/// A dealer orders again what it received last time, at today's prices and rules.
async fn reorder(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
) -> Result<String, DemoError> {
    let orderers = world.orderers();
    let ordered_by_contact =
        |order: &&PlacedOrder| order.on_behalf.is_none() && orderers.contains(&order.contact);
    let past = placed
        .iter()
        .filter(ordered_by_contact)
        .find(|order| order.outcome == Outcome::Received)
        .or_else(|| placed.iter().find(ordered_by_contact))
        .ok_or_else(|| missing("past order to reorder"))?;
    let (past_id, past_key, contact) = (past.id, past.key.clone(), past.contact);
    let who = &world.contacts[contact];
    let ctx = world.contact_ctx(who);
    let what = format!("{} reordering order {past_key}", who.name);
    let (partner_id, quote) = commands
        .reorder(&ctx, &past_id.to_string())
        .await
        .step(|| what.clone())?;
    if partner_id != world.partners[who.partner].id {
        return Err(DemoError::Inconsistent(format!(
            "{what}: the reorder is quoted for partner {partner_id}"
        )));
    }
    check_quote(world, who.partner, &quote, &what)?;
    let then = match submitted(commands, past_id).await? {
        OrderEvent::OrderSubmitted { total, .. } => total,
        other => {
            return Err(DemoError::Inconsistent(format!(
                "order {past_key} starts with {other:?}"
            )))
        }
    };
    let input = SubmitOrderInput {
        lines: lines_of(&quote),
        note: Some(format!("再来一单（{past_key}）")),
    };
    let key = "demo-reorder";
    let id = commands
        .submit_order_with(
            &ctx.clone().with_idempotency_key(key),
            input.clone(),
            SubmitOptions {
                partner_id: None,
                expected_total: Some(money_input(quote.total)),
            },
        )
        .await
        .step(|| format!("{what}: submitting with the quoted total"))?;
    check_stored(commands, id, &quote, None, &what).await?;
    placed.push(PlacedOrder {
        id,
        contact,
        on_behalf: None,
        key: key.into(),
        input,
        outcome: Outcome::Submitted,
    });
    Ok(format!(
        "{} of {} reordered {past_key} ({} lines): ¥{} then, ¥{} at today's prices",
        who.name,
        world.partners[who.partner].name,
        quote.lines.len(),
        then.to_decimal_string(),
        quote.total.to_decimal_string()
    ))
}

/// An employee who looks after the contract dealer takes its order by phone and places it.
async fn on_behalf(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
) -> Result<String, DemoError> {
    let employee = world
        .employees
        .iter()
        .position(|e| e.partners.contains(&CONTRACT_PARTNER))
        .ok_or_else(|| missing("employee looking after the contract dealer"))?;
    let receiver = world
        .orderer_of(CONTRACT_PARTNER)
        .ok_or_else(|| missing("contact of the contract dealer"))?;
    let staff = &world.employees[employee];
    let partner = &world.partners[CONTRACT_PARTNER];
    let lines = ON_BEHALF_LINES
        .iter()
        .map(|&(sku, quantity)| OrderLineInput {
            product_id: String::new(),
            quantity: i64::from(quantity),
            sku: Some(sku.into()),
        })
        .collect();
    let input = SubmitOrderInput {
        lines,
        note: Some("电话订货，业务员代下单".into()),
    };
    let key = "demo-on-behalf";
    let what = format!("employee {} ordering for {}", staff.name, partner.name);
    let ctx = world.employee_ctx(staff);
    let (id, quote) = quote_and_submit(
        commands,
        world,
        &ctx,
        CONTRACT_PARTNER,
        true,
        input.clone(),
        key,
        &what,
    )
    .await?;
    let by = PlacedBy::Employee {
        contact_id: staff.id,
    };
    check_stored(commands, id, &quote, Some(by), &what).await?;
    placed.push(PlacedOrder {
        id,
        contact: receiver,
        on_behalf: Some(employee),
        key: key.into(),
        input,
        outcome: Outcome::Submitted,
    });
    Ok(format!(
        "employee {} placed an order of {} lines for {} (placed by EMPLOYEE), ¥{}",
        staff.name,
        quote.lines.len(),
        partner.name,
        quote.total.to_decimal_string()
    ))
}
