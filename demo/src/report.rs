//! The summary: what the event store now holds (read back through the command side's lookup,
//! not taken from the demo's own bookkeeping), and the refusals as they happened.

use std::fmt::Write as _;
use std::time::Duration;

use dinghuo_commands::Commands;
use dinghuo_domain::order::OrderStatus;
use dinghuo_domain::{App, Channel, Lookup, Money, PartnerMode, Permission, Side};
use dinghuo_store::audit::count_events;

use super::catalog;
use super::orders::{Outcome, PlacedOrder};
use super::refusals::Shown;
use super::world::World;
use super::{DemoArgs, DemoError};

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

    gather_orders(commands, placed, &mut s).await?;

    let db = commands.database();
    s.events_tenant = count_events(db, Some(tenant)).await?;
    s.events_second = count_events(db, Some(shown.second_tenant)).await?;
    s.events_total = count_events(db, None).await?;
    Ok(s)
}

/// Tallies order statuses from the store, checking each against the outcome the demo drove.
async fn gather_orders(
    commands: &Commands,
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
    args: &DemoArgs,
    elapsed: Duration,
) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_summary(&mut out, s, world, shown, args, elapsed);
    out
}

fn write_summary(
    out: &mut String,
    s: &Summary,
    world: &World,
    shown: &Shown,
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
    writeln!(out)?;
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
