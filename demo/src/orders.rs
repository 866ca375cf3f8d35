//! Orders: bound contacts order 1–5 products of their dealer's assortment, in quantities its
//! rules allow, then the tenant's staff (the admin or an employee looking after that dealer) and
//! the contact drive each order to one of the outcomes below.

use dinghuo_commands::{
    CancelOrderInput, Commands, ConfirmOrderInput, OrderLineInput, ReceiveOrderInput,
    RejectOrderInput, RequestContext, ShipOrderInput, SubmitOrderInput,
};
use dinghuo_domain::order::OrderStatus;
use dinghuo_domain::OrderId;
use indicatif::ProgressBar;
use rand::rngs::StdRng;
use rand::seq::{index, SliceRandom};
use rand::Rng;

use super::catalog;
use super::world::{ListedProduct, World};
use super::{DemoError, Step};

/// Where an order ends up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Submitted,
    Confirmed,
    Rejected,
    Shipped,
    Received,
    CancelledByContact,
    CancelledByAdmin,
}

impl Outcome {
    const ALL: [Self; 7] = [
        Self::Submitted,
        Self::Confirmed,
        Self::Rejected,
        Self::Shipped,
        Self::Received,
        Self::CancelledByContact,
        Self::CancelledByAdmin,
    ];
    /// Relative frequency, in the order of `ALL`: most orders are done, some are still open.
    const WEIGHTS: [u32; 7] = [12, 12, 8, 18, 34, 8, 8];

    /// The status the event store must show for an order with this outcome.
    pub fn status(self) -> OrderStatus {
        match self {
            Self::Submitted => OrderStatus::Submitted,
            Self::Confirmed => OrderStatus::Confirmed,
            Self::Rejected => OrderStatus::Rejected,
            Self::Shipped => OrderStatus::Shipped,
            Self::Received => OrderStatus::Received,
            Self::CancelledByContact | Self::CancelledByAdmin => OrderStatus::Cancelled,
        }
    }

    /// The first orders go through every outcome once, so any run shows them all; the rest are
    /// drawn by weight.
    fn for_order(number: usize, rng: &mut StdRng) -> Self {
        if let Some(outcome) = Self::ALL.get(number) {
            return *outcome;
        }
        let total: u32 = Self::WEIGHTS.iter().sum();
        let mut roll = rng.gen_range(0..total);
        for (outcome, weight) in Self::ALL.iter().zip(Self::WEIGHTS) {
            if roll < weight {
                return *outcome;
            }
            roll -= weight;
        }
        Self::Received
    }
}

pub struct PlacedOrder {
    pub id: OrderId,
    /// Index into `World::contacts`: who ordered, or for an order placed on behalf, a contact
    /// of the dealer it was placed for (who receives it).
    pub contact: usize,
    /// Index into `World::employees`: who placed the order on the dealer's behalf.
    pub on_behalf: Option<usize>,
    /// The idempotency key it was submitted with.
    pub key: String,
    /// What was submitted: a replay with the same key must send the same request.
    pub input: SubmitOrderInput,
    pub outcome: Outcome,
}

/// Places `count` orders from the contacts allowed to order.
pub async fn place(
    commands: &Commands,
    world: &World,
    count: usize,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<Vec<PlacedOrder>, DemoError> {
    progress.set_message("placing orders");
    let mut placed = Vec::with_capacity(count);
    for number in 0..count {
        let outcome = Outcome::for_order(number, rng);
        placed.push(place_one(commands, world, number, outcome, rng).await?);
        progress.inc(1);
    }
    Ok(placed)
}

/// An order with `outcome`: one placed before if there is one, else a new one.
pub async fn ensure(
    commands: &Commands,
    world: &World,
    placed: &mut Vec<PlacedOrder>,
    outcome: Outcome,
    rng: &mut StdRng,
) -> Result<usize, DemoError> {
    let usable = |order: &PlacedOrder| {
        let contact = &world.contacts[order.contact];
        order.outcome == outcome
            && order.on_behalf.is_none()
            && !world.partners[contact.partner].suspended
    };
    if let Some(found) = placed.iter().position(usable) {
        return Ok(found);
    }
    let order = place_one(commands, world, placed.len(), outcome, rng).await?;
    placed.push(order);
    Ok(placed.len() - 1)
}

async fn place_one(
    commands: &Commands,
    world: &World,
    number: usize,
    outcome: Outcome,
    rng: &mut StdRng,
) -> Result<PlacedOrder, DemoError> {
    let orderers = world.orderers();
    let contact = *orderers
        .choose(rng)
        .ok_or_else(|| DemoError::Inconsistent("no contact may order".into()))?;
    let key = format!("demo-order-{number:04}");
    let (id, input) = submit(commands, world, contact, &key, rng).await?;
    let order = PlacedOrder {
        id,
        contact,
        on_behalf: None,
        key,
        input,
        outcome,
    };
    drive(commands, world, &order, rng).await?;
    Ok(order)
}

/// 1–5 distinct products of the partner's assortment, in plausible quantities that its rules
/// allow (a buyer who knows the case sizes and limits).
pub fn random_lines(world: &World, partner: usize, rng: &mut StdRng) -> Vec<OrderLineInput> {
    let partner = &world.partners[partner];
    let buyable: Vec<&ListedProduct> = world
        .products
        .iter()
        .filter(|product| partner.may_buy(product))
        .collect();
    let count = rng.gen_range(1..=5).min(buyable.len());
    index::sample(rng, buyable.len(), count)
        .into_iter()
        .map(|i| {
            let product = buyable[i];
            let most = if matches!(product.unit, "箱" | "桶" | "盒") {
                20
            } else {
                60
            };
            let quantity = product.rules.nearest_allowed(rng.gen_range(1..=most));
            OrderLineInput {
                product_id: product.id.to_string(),
                quantity: i64::from(quantity),
                sku: None,
            }
        })
        .collect()
}

async fn submit(
    commands: &Commands,
    world: &World,
    contact: usize,
    key: &str,
    rng: &mut StdRng,
) -> Result<(OrderId, SubmitOrderInput), DemoError> {
    let who = &world.contacts[contact];
    let lines = random_lines(world, who.partner, rng);
    let note = rng
        .gen_bool(0.3)
        .then(|| catalog::ORDER_NOTES.choose(rng).copied())
        .flatten()
        .map(str::to_owned);
    let input = SubmitOrderInput { lines, note };
    let id = commands
        .submit_order(
            &world.contact_ctx(who).with_idempotency_key(key),
            input.clone(),
        )
        .await
        .step(|| {
            let partner = &world.partners[who.partner];
            format!("{} of {} submitting order {key}", who.name, partner.name)
        })?;
    Ok((id, input))
}

/// The admin, or now and then an employee who looks after the dealer.
fn staff(world: &World, contact: usize, rng: &mut StdRng) -> RequestContext {
    let partner = world.contacts[contact].partner;
    let linked: Vec<_> = world
        .employees
        .iter()
        .filter(|e| e.partners.contains(&partner))
        .collect();
    match linked.choose(rng) {
        Some(employee) if rng.gen_bool(0.6) => world.employee_ctx(employee),
        _ => world.admin_ctx(),
    }
}

fn pick(reasons: &[&str], rng: &mut StdRng) -> String {
    reasons.choose(rng).copied().unwrap_or("—").to_owned()
}

/// Drives a submitted order to its outcome.
async fn drive(
    commands: &Commands,
    world: &World,
    order: &PlacedOrder,
    rng: &mut StdRng,
) -> Result<(), DemoError> {
    let order_id = order.id.to_string();
    let contact = world.contact_ctx(&world.contacts[order.contact]);
    let doing = |what: &str| format!("{what} order {}", order.key);
    let confirm = |ctx: RequestContext| {
        let order_id = order_id.clone();
        async move {
            commands
                .confirm_order(&ctx, ConfirmOrderInput { order_id })
                .await
                .step(|| doing("confirming"))
        }
    };
    match order.outcome {
        Outcome::Submitted => {}
        Outcome::Confirmed => confirm(staff(world, order.contact, rng)).await?,
        Outcome::Rejected => {
            let input = RejectOrderInput {
                order_id,
                reason: pick(&catalog::REJECT_REASONS, rng),
            };
            commands
                .reject_order(&staff(world, order.contact, rng), input)
                .await
                .step(|| doing("rejecting"))?;
        }
        Outcome::Shipped | Outcome::Received => {
            let by = staff(world, order.contact, rng);
            confirm(by.clone()).await?;
            commands
                .ship_order(&by, shipment(order_id.clone(), rng))
                .await
                .step(|| doing("shipping"))?;
            if order.outcome == Outcome::Received {
                commands
                    .receive_order(&contact, ReceiveOrderInput { order_id })
                    .await
                    .step(|| doing("receiving"))?;
            }
        }
        Outcome::CancelledByContact => {
            let input = CancelOrderInput {
                order_id,
                reason: pick(&catalog::CONTACT_CANCEL_REASONS, rng),
            };
            commands
                .cancel_order(&contact, input)
                .await
                .step(|| doing("the dealer cancelling"))?;
        }
        Outcome::CancelledByAdmin => {
            // The admin may cancel until the goods left: sometimes after confirming.
            if rng.gen_bool(0.5) {
                confirm(staff(world, order.contact, rng)).await?;
            }
            let input = CancelOrderInput {
                order_id,
                reason: pick(&catalog::ADMIN_CANCEL_REASONS, rng),
            };
            commands
                .cancel_order(&world.admin_ctx(), input)
                .await
                .step(|| doing("the admin cancelling"))?;
        }
    }
    Ok(())
}

fn shipment(order_id: String, rng: &mut StdRng) -> ShipOrderInput {
    let (carrier, prefix) = catalog::CARRIERS
        .choose(rng)
        .copied()
        .unwrap_or(("顺丰速运", "SF"));
    ShipOrderInput {
        order_id,
        carrier: Some(carrier.into()),
        tracking: Some(format!(
            "{prefix}{:012}",
            rng.gen_range(0..1_000_000_000_000u64)
        )),
    }
}
