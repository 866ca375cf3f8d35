//! The summary: what the event store now holds (read back through the command side's lookup,
//! not taken from the demo's own bookkeeping), how every order line was priced (each checked
//! against the pricing rule as the demo works it out), and the refusals as they happened.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use dinghuo_commands::Commands;
use dinghuo_domain::order::{OrderEvent, OrderStatus};
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::{
    App, Channel, Lookup, Money, PartnerMode, Permission, PriceListId, PriceListScope, Side,
};
use dinghuo_store::audit::count_events;

use super::catalog::{self, Rules};
use super::orders::{Outcome, PlacedOrder};
use super::refusals::Shown;
use super::tour::Tour;
use super::world::World;
use super::{DemoArgs, DemoError};

/// A price list as the event store holds it.
struct ListSummary {
    id: PriceListId,
    name: String,
    priority: u32,
    scope: String,
    validity: String,
    archived: bool,
    prices: usize,
}

#[derive(Default)]
pub struct Summary {
    backend: &'static str,
    products_listed: usize,
    products_delisted: usize,
    customers: usize,
    tenantless: usize,
    tenant_mode: usize,
    ordering_assigned: usize,
    suspended: Vec<&'static str>,
    their_side: usize,
    employees: usize,
    employee_links: usize,
    bound: usize,
    channels: Vec<(Channel, usize)>,
    restricted: usize,
    orders: Vec<(OrderStatus, usize)>,
    cancelled_by_contact: usize,
    cancelled_by_admin: usize,
    ordered_value: Option<Money>,
    received_value: Option<Money>,
    /// Partners per dealer level, and how many have none.
    levels: Vec<(String, usize)>,
    without_level: usize,
    /// Products per category, and how many have none.
    categories: Vec<(String, usize)>,
    uncategorized: usize,
    /// SKU and rules of each product with quantity rules.
    quantity_rules: Vec<(String, String)>,
    /// Partner name and the categories it may buy.
    assortments: Vec<(&'static str, String)>,
    price_lists: Vec<ListSummary>,
    /// Order lines by the reason of their price: the catalog, and each list.
    catalog_lines: usize,
    list_lines: BTreeMap<PriceListId, usize>,
    /// Orders placed on a dealer's behalf by staff.
    on_behalf: usize,
    events_tenant: i64,
    events_second: i64,
    events_total: i64,
}

fn read_failed(what: &str, error: impl std::fmt::Display) -> DemoError {
    DemoError::Inconsistent(format!("cannot read back {what}: {error}"))
}

fn add(sum: Option<Money>, value: Money) -> Result<Option<Money>, DemoError> {
    match sum {
        None => Ok(Some(value)),
        Some(sum) => sum
            .checked_add(value)
            .map(Some)
            .ok_or_else(|| DemoError::Inconsistent("order totals overflow".into())),
    }
}

/// Reads every record the demo made back from the event store.
pub async fn gather(
    commands: &Commands,
    world: &World,
    placed: &[PlacedOrder],
    shown: &Shown,
) -> Result<Summary, DemoError> {
    let lookup = commands.lookup();
    let tenant = world.tenant;
    let mut s = Summary {
        backend: commands.database().backend_name(),
        ..Summary::default()
    };

    for product in &world.products {
        let stored = lookup
            .product(product.id)
            .await
            .map_err(|e| read_failed(product.sku, e))?;
        if stored.listed_in(tenant).is_some() {
            s.products_listed += 1;
        } else if stored.tenant_id() == Some(tenant) {
            s.products_delisted += 1;
        }
    }

    for customer in &world.customers {
        let stored = lookup
            .partner(customer.id)
            .await
            .map_err(|e| read_failed(customer.name, e))?;
        s.customers += usize::from(stored.is_customer_of(tenant));
        if !stored.is_partner_of(tenant) {
            continue;
        }
        match stored.mode() {
            Some(PartnerMode::Tenant) => s.tenant_mode += 1,
            _ => s.tenantless += 1,
        }
        s.ordering_assigned += usize::from(stored.has_app(App::Ordering));
        if stored.is_suspended() {
            s.suspended.push(customer.name);
        }
    }

    for contact in &world.contacts {
        let stored = lookup
            .contact(contact.id)
            .await
            .map_err(|e| read_failed(contact.name, e))?;
        let partner = world.partners[contact.partner].id;
        s.their_side += usize::from(stored.is_linked(partner, Side::Theirs));
        if stored.is_bound() != contact.channel.is_some() {
            return Err(DemoError::Inconsistent(format!(
                "{} is bound in the store: {}, in the demo: {}",
                contact.name,
                stored.is_bound(),
                contact.channel.is_some()
            )));
        }
        s.bound += usize::from(stored.is_bound());
        s.restricted += usize::from(
            stored
                .denied(App::Ordering)
                .contains(&Permission::CreateSalesOrder),
        );
    }
    s.channels = Channel::ALL
        .iter()
        .map(|&channel| {
            let n = world
                .contacts
                .iter()
                .filter(|c| c.channel == Some(channel))
                .count();
            (channel, n)
        })
        .collect();

    for employee in &world.employees {
        let stored = lookup
            .contact(employee.id)
            .await
            .map_err(|e| read_failed(employee.name, e))?;
        let links = world
            .partners
            .iter()
            .filter(|p| stored.is_linked(p.id, Side::Ours))
            .count();
        s.employees += usize::from(stored.is_employee() && links > 0);
        s.employee_links += links;
    }

    gather_pricing(commands, world, &mut s).await?;
    gather_orders(commands, world, placed, &mut s).await?;

    let db = commands.database();
    s.events_tenant = count_events(db, Some(tenant)).await?;
    s.events_second = count_events(db, Some(shown.second_tenant)).await?;
    s.events_total = count_events(db, None).await?;
    Ok(s)
}

/// Levels, categories, rules, assortments and price lists as the store holds them.
async fn gather_pricing(
    commands: &Commands,
    world: &World,
    s: &mut Summary,
) -> Result<(), DemoError> {
    let lookup = commands.lookup();
    let mut levels: BTreeMap<String, usize> = BTreeMap::new();
    for partner in &world.partners {
        let stored = lookup
            .partner(partner.id)
            .await
            .map_err(|e| read_failed(partner.name, e))?;
        match stored.level() {
            Some(level) => *levels.entry(level.as_str().to_owned()).or_default() += 1,
            None => s.without_level += 1,
        }
        if let Some(assortment) = stored.assortment() {
            let categories: Vec<&str> =
                assortment.categories().iter().map(|c| c.as_str()).collect();
            s.assortments.push((partner.name, categories.join(", ")));
        }
    }
    // Most dealers first.
    s.levels = levels.into_iter().collect();
    s.levels.sort_by_key(|(_, n)| std::cmp::Reverse(*n));

    let mut categories: Vec<(String, usize)> = Vec::new();
    let mut prices: BTreeMap<PriceListId, usize> = BTreeMap::new();
    for product in &world.products {
        let stored = lookup
            .product(product.id)
            .await
            .map_err(|e| read_failed(product.sku, e))?;
        match stored.category() {
            Some(category) => match categories.iter_mut().find(|(c, _)| c == category.as_str()) {
                Some(entry) => entry.1 += 1,
                None => categories.push((category.as_str().to_owned(), 1)),
            },
            None => s.uncategorized += 1,
        }
        let rules = stored.quantity_rules();
        if !rules.is_empty() {
            let get = |q: Option<dinghuo_domain::Quantity>| q.map(|q| q.get());
            let rules = Rules {
                min: get(rules.min),
                multiple: get(rules.multiple),
                max: get(rules.max),
            };
            s.quantity_rules
                .push((product.sku.to_owned(), rules.describe()));
        }
        let listed = lookup
            .list_prices(product.id)
            .await
            .map_err(|e| read_failed(product.sku, e))?;
        for (list, breaks) in listed.lists() {
            *prices.entry(list).or_default() += breaks.len();
        }
    }
    s.categories = categories;

    for list in &world.price_lists {
        let stored = lookup
            .price_list(list.id)
            .await
            .map_err(|e| read_failed(list.name, e))?;
        let scope = match stored.scope() {
            None => "no scope (prices for nobody)".to_owned(),
            Some(PriceListScope::All) => "ALL".to_owned(),
            Some(PriceListScope::Levels { levels }) => {
                let levels: Vec<&str> = levels.iter().map(|l| l.as_str()).collect();
                format!("LEVELS {}", levels.join(", "))
            }
            Some(PriceListScope::Partners { partners }) => {
                let names: Vec<&str> = world
                    .partners
                    .iter()
                    .filter(|p| partners.contains(&p.id))
                    .map(|p| p.name)
                    .collect();
                format!("PARTNERS {}", names.join(", "))
            }
        };
        let validity = match stored.validity() {
            (None, None) => "always".to_owned(),
            (from, to) => {
                let day = |at: Option<chrono::DateTime<chrono::Utc>>| {
                    at.map_or_else(|| "…".to_owned(), |at| at.date_naive().to_string())
                };
                format!("{} – {}", day(from), day(to))
            }
        };
        s.price_lists.push(ListSummary {
            id: list.id,
            name: stored.name().map_or(list.name, |n| n.as_str()).to_owned(),
            priority: stored.priority().map_or(0, |p| p.get()),
            scope,
            validity,
            archived: stored.is_archived(),
            prices: prices.get(&list.id).copied().unwrap_or(0),
        });
    }
    Ok(())
}

/// Tallies order statuses from the store, checking each against the outcome the demo drove,
/// and each line's price against the documented rule.
async fn gather_orders(
    commands: &Commands,
    world: &World,
    placed: &[PlacedOrder],
    s: &mut Summary,
) -> Result<(), DemoError> {
    const STATUSES: [OrderStatus; 6] = [
        OrderStatus::Submitted,
        OrderStatus::Confirmed,
        OrderStatus::Rejected,
        OrderStatus::Shipped,
        OrderStatus::Received,
        OrderStatus::Cancelled,
    ];
    s.orders = STATUSES.iter().map(|&status| (status, 0)).collect();
    for order in placed {
        let stored = commands
            .orders()
            .loader()
            .load(&order.id.to_string())
            .await
            .map_err(|e| read_failed(&order.key, e))?
            .aggregate;
        let status = stored.status();
        if status != Some(order.outcome.status()) {
            return Err(DemoError::Inconsistent(format!(
                "order {} is {status:?} in the store, expected {:?}",
                order.key,
                order.outcome.status()
            )));
        }
        if let Some(entry) = s.orders.iter_mut().find(|(st, _)| Some(*st) == status) {
            entry.1 += 1;
        }
        s.cancelled_by_contact += usize::from(order.outcome == Outcome::CancelledByContact);
        s.cancelled_by_admin += usize::from(order.outcome == Outcome::CancelledByAdmin);
        if let Some(total) = stored.total() {
            s.ordered_value = add(s.ordered_value, total)?;
            if status == Some(OrderStatus::Received) {
                s.received_value = add(s.received_value, total)?;
            }
        }
        tally_lines(commands, world, order, s).await?;
    }
    Ok(())
}

/// Counts the order's lines by the reason of their price, checking each against the rule.
async fn tally_lines(
    commands: &Commands,
    world: &World,
    order: &PlacedOrder,
    s: &mut Summary,
) -> Result<(), DemoError> {
    let events = commands
        .orders()
        .loader()
        .events(&order.id.to_string())
        .await
        .map_err(|e| read_failed(&order.key, e))?;
    let Some(OrderEvent::OrderSubmitted {
        partner_id,
        placed_by,
        lines,
        ..
    }) = events.into_iter().next().map(|envelope| envelope.payload)
    else {
        return Err(DemoError::Inconsistent(format!(
            "order {} does not start with its submission",
            order.key
        )));
    };
    if placed_by.is_some() != order.on_behalf.is_some() {
        return Err(DemoError::Inconsistent(format!(
            "order {} is stored as placed by {placed_by:?}",
            order.key
        )));
    }
    s.on_behalf += usize::from(placed_by.is_some());
    let partner = world
        .partners
        .iter()
        .position(|p| p.id == partner_id)
        .ok_or_else(|| {
            DemoError::Inconsistent(format!("order {} is for an unknown partner", order.key))
        })?;
    for line in &lines {
        world
            .check_price(
                partner,
                line.product_id,
                line.quantity.get(),
                line.unit_price,
                &line.price_reason,
            )
            .map_err(|e| DemoError::Inconsistent(format!("order {}: {e}", order.key)))?;
        match &line.price_reason {
            PriceReason::Catalog => s.catalog_lines += 1,
            PriceReason::PriceList { price_list_id, .. } => {
                *s.list_lines.entry(*price_list_id).or_default() += 1;
            }
        }
    }
    Ok(())
}

/// "1234567.80" → "1,234,567.80".
fn grouped(money: Option<Money>) -> String {
    let text = money.map_or_else(|| "0.00".to_owned(), Money::to_decimal_string);
    let (whole, fraction) = text.split_once('.').unwrap_or((&text, ""));
    let mut out = String::new();
    for (i, digit) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(digit);
    }
    if !fraction.is_empty() {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// Renders the summary; printed to stdout as one block.
pub fn render(
    s: &Summary,
    world: &World,
    shown: &Shown,
    tour: &Tour,
    args: &DemoArgs,
    elapsed: Duration,
) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, s, world, args, elapsed);
    let _ = write_pricing(&mut out, s, shown, tour);
    let _ = write_refusals(&mut out, world, shown);
    out
}

fn write_summary(
    out: &mut String,
    s: &Summary,
    world: &World,
    args: &DemoArgs,
    elapsed: Duration,
) -> std::fmt::Result {
    let orders: usize = s.orders.iter().map(|(_, n)| n).sum();
    writeln!(
        out,
        "Dinghuo demo: seed {}, {} orders requested, {} backend, {:.1} s",
        args.seed,
        args.orders,
        s.backend,
        elapsed.as_secs_f64()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Tenant {} ({})",
        catalog::TENANT_NAME,
        catalog::TENANT_NAME_EN
    )?;
    writeln!(out, "  tenant id            {}", world.tenant)?;
    writeln!(
        out,
        "  set-up               interconnect on; ORDERING bought and enabled; default permissions CREATE_SALES_ORDER, CANCEL_ORDER, VIEW_ORDERS"
    )?;
    let (url_name, url) = catalog::WECHAT_URL_BUTTON;
    writeln!(
        out,
        "  WeChat               {} ({}), menu: 在线订货 → ORDERING | {url_name} → {url}",
        catalog::WECHAT_ACCOUNT_NAME,
        world.wechat_app_id
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "Loaded through the command layer (counts read back from the event store)"
    )?;
    writeln!(
        out,
        "  products             {} listed, {} delisted",
        s.products_listed, s.products_delisted
    )?;
    writeln!(out, "  CRM customers        {}", s.customers)?;
    writeln!(
        out,
        "  partners             {}: {} TENANTLESS, {} TENANT; ORDERING assigned to {}; suspended: {}",
        s.tenantless + s.tenant_mode,
        s.tenantless,
        s.tenant_mode,
        s.ordering_assigned,
        if s.suspended.is_empty() {
            "none".to_owned()
        } else {
            s.suspended.join(", ")
        }
    )?;
    writeln!(
        out,
        "  partner contacts     {}: {} THEIRS (dealer staff), {} OURS (employees, {} dealer links)",
        s.their_side + s.employees,
        s.their_side,
        s.employees,
        s.employee_links
    )?;
    let channels: Vec<String> = s
        .channels
        .iter()
        .map(|(channel, n)| format!("{channel} {n}"))
        .collect();
    writeln!(
        out,
        "  bound contacts       {} of {}: {}; {} denied CREATE_SALES_ORDER",
        s.bound,
        s.their_side,
        channels.join(", "),
        s.restricted
    )?;
    writeln!(out, "  orders               {orders}")?;
    for (status, n) in &s.orders {
        write!(out, "    {:<18} {n:>4}", status.as_str())?;
        if *status == OrderStatus::Cancelled {
            write!(
                out,
                "  ({} by the dealer, {} by the admin)",
                s.cancelled_by_contact, s.cancelled_by_admin
            )?;
        }
        writeln!(out)?;
    }
    writeln!(
        out,
        "  order value          ¥{} ordered, ¥{} received",
        grouped(s.ordered_value),
        grouped(s.received_value)
    )?;
    writeln!(
        out,
        "  events               {} in this tenant, {} in {}, {} in the database",
        s.events_tenant,
        s.events_second,
        catalog::SECOND_TENANT_NAME,
        s.events_total
    )?;
    writeln!(out)
}

fn counted(counts: &[(String, usize)]) -> String {
    let parts: Vec<String> = counts
        .iter()
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    parts.join(", ")
}

/// Dealer pricing: what the admin set up, how order lines were priced, and the fast ways of
/// ordering.
fn write_pricing(out: &mut String, s: &Summary, shown: &Shown, tour: &Tour) -> std::fmt::Result {
    writeln!(
        out,
        "Dealer pricing (read back from the event store; every order line checked against the pricing rule)"
    )?;
    writeln!(
        out,
        "  dealer levels        {}; {} partners without a level",
        counted(&s.levels),
        s.without_level
    )?;
    writeln!(
        out,
        "  categories           {} products in {} categories: {}{}",
        s.categories.iter().map(|(_, n)| n).sum::<usize>(),
        s.categories.len(),
        counted(&s.categories),
        if s.uncategorized > 0 {
            format!("; {} without one", s.uncategorized)
        } else {
            String::new()
        }
    )?;
    let rules: Vec<String> = s
        .quantity_rules
        .iter()
        .map(|(sku, rules)| format!("{sku} {rules}"))
        .collect();
    writeln!(out, "  quantity rules       {}", rules.join("; "))?;
    for (i, (partner, categories)) in s.assortments.iter().enumerate() {
        let label = if i == 0 { "assortments" } else { "" };
        writeln!(out, "  {label:<20} {partner} buys only {categories}")?;
    }
    writeln!(out, "  price lists          {}", s.price_lists.len())?;
    for list in &s.price_lists {
        let state = if list.archived {
            "archived: never prices again".to_owned()
        } else {
            format!("{}, valid {}", list.scope, list.validity)
        };
        writeln!(
            out,
            "    {}  priority {}, {} prices; {state}",
            list.name, list.priority, list.prices
        )?;
    }
    let lines = s.catalog_lines + s.list_lines.values().sum::<usize>();
    writeln!(
        out,
        "  order lines by price reason   {lines} lines, each priced as the rule says"
    )?;
    // Counts first: Chinese names do not pad to a column.
    writeln!(out, "    {:>5}  CATALOG", s.catalog_lines)?;
    for list in &s.price_lists {
        let n = s.list_lines.get(&list.id).copied().unwrap_or(0);
        writeln!(out, "    {n:>5}  PRICE_LIST {}", list.name)?;
    }
    writeln!(out, "  quick order          {}", tour.quick_order)?;
    writeln!(out, "  reorder              {}", tour.reorder)?;
    writeln!(
        out,
        "  on behalf            {} ({} order(s) placed on behalf)",
        tour.on_behalf, s.on_behalf
    )?;
    writeln!(out, "  price change         {}", shown.price_change)?;
    writeln!(out)
}

/// The refusals, the idempotent replay, and ids to explore with.
fn write_refusals(out: &mut String, world: &World, shown: &Shown) -> std::fmt::Result {
    writeln!(
        out,
        "Refusals (each really attempted; code checked; no event appended)"
    )?;
    for refusal in &shown.refusals {
        writeln!(out, "  {:<25} {}", refusal.code.as_str(), refusal.tried)?;
        writeln!(out, "  {:<25} “{}”", "", refusal.message)?;
    }
    writeln!(out)?;
    writeln!(out, "Idempotency")?;
    writeln!(out, "  {}", shown.replay)?;
    writeln!(out)?;
    writeln!(out, "For exploring")?;
    writeln!(out, "  tenant id            {}", world.tenant)?;
    writeln!(out, "  admin actor id       {}", world.admin.id)?;
    if let Some(contact) = world.orderers().first().map(|&i| &world.contacts[i]) {
        let partner = &world.partners[contact.partner];
        let channel = contact.channel.map_or("", Channel::as_str);
        writeln!(
            out,
            "  bound contact id     {} ({} of {}, {} mode, bound via {channel})",
            contact.id, contact.name, partner.name, partner.mode
        )?;
    }
    if let Some(employee) = world.employees.first() {
        writeln!(
            out,
            "  employee id          {} ({})",
            employee.id, employee.name
        )?;
    }
    writeln!(out, "  second tenant id     {}", shown.second_tenant)?;
    Ok(())
}
