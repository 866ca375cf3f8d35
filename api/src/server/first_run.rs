//! `serve --demo`: on an empty store, load the demo tenant through the command layer; then, once
//! the projections have caught up (so that the first query pasted sees the demo's orders), print
//! ready-to-paste bearer tokens for an admin, an employee, a bound contact, an auditor and an
//! analyst of the demo tenant.

use std::time::Duration;

use dinghuo_commands::{Actor, Role};
use dinghuo_demo::{self as demo, DemoArgs};
use dinghuo_domain::{ContactId, Lookup, TenantId};
use dinghuo_store::sql::{fetch_all, Arg};
use uuid::Uuid;

use super::{Error, ServeArgs};
use crate::auth::Tokens;
use crate::graphql::ApiState;

/// How long the printed tokens stay valid.
const TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// Who the printed tokens are for.
pub struct DemoActors {
    tenant: TenantId,
    employee: Option<Uuid>,
    contact: Option<Uuid>,
}

/// What `--demo` found at start: the actors of the demo tenant it just loaded, or `None` for a
/// store that held events already (its actors are read from the read models once they caught
/// up).
pub struct Demo(Option<DemoActors>);

impl Demo {
    /// Whether this process just wrote the whole log: then the projections have all of it to
    /// apply, and the tokens wait until they have.
    pub fn loaded(&self) -> bool {
        self.0.is_some()
    }
}

/// Loads the demo tenant into an empty store. Prints nothing that a newcomer would use before
/// the read models show it: the tokens come from [`print_demo_tokens`], once they do.
pub async fn load_demo_if_empty(state: &ApiState, _args: &ServeArgs) -> Result<Demo, Error> {
    let db = state.db();
    let events: Vec<(i64,)> = fetch_all(db, "SELECT COUNT(*) FROM events", &[]).await?;
    let empty = events.first().is_none_or(|(count,)| *count == 0);
    if !empty {
        return Ok(Demo(None));
    }
    println!("The store is empty: loading the demo tenant…");
    let world = demo::run(
        &state.commands,
        &DemoArgs {
            seed: 20_240_915,
            orders: 240,
        },
    )
    .await?;
    Ok(Demo(Some(DemoActors {
        tenant: world.tenant,
        employee: world.employees.first().map(|e| e.id.as_uuid()),
        contact: world
            .contacts
            .iter()
            .find(|c| c.channel.is_some() && !c.restricted)
            .map(|c| c.id.as_uuid()),
    })))
}

/// Prints the tokens for the demo tenant loaded now, or for the store's first tenant.
pub async fn print_demo_tokens(state: &ApiState, tokens: &Tokens, demo: Demo) -> Result<(), Error> {
    let actors = match demo.0 {
        Some(actors) => actors,
        None => match existing(state.db()).await? {
            Some(actors) => actors,
            None => {
                println!("The store holds events but no demo tenant: no tokens printed.");
                return Ok(());
            }
        },
    };
    print_tokens(state, tokens, &actors).await
}

/// A tenant, one of its employees and one of its bound contacts, read from the event log.
async fn existing(db: &dinghuo_store::Database) -> Result<Option<DemoActors>, Error> {
    let tenants: Vec<(String,)> = fetch_all(
        db,
        "SELECT aggregate_id FROM events WHERE event_type = 'TenantRegistered'
          ORDER BY position LIMIT 1",
        &[],
    )
    .await?;
    let Some((tenant,)) = tenants.into_iter().next() else {
        return Ok(None);
    };
    let tenant_arg = Arg::from(tenant.as_str());
    let pick = |sql: &'static str| {
        let args = [tenant_arg.clone()];
        async move {
            let rows: Vec<(String,)> = fetch_all(db, sql, &args).await?;
            Ok::<_, sqlx::Error>(
                rows.into_iter()
                    .next()
                    .and_then(|(id,)| Uuid::parse_str(&id).ok()),
            )
        }
    };
    let employee = pick(
        "SELECT contact_id FROM rm_contacts WHERE tenant_id = $1 AND kind = 'EMPLOYEE'
          ORDER BY contact_id LIMIT 1",
    )
    .await?;
    let contact = pick(
        "SELECT contact_id FROM rm_contacts
          WHERE tenant_id = $1 AND kind = 'CUSTOMER' AND bound AND can_create_sales_order
          ORDER BY contact_id LIMIT 1",
    )
    .await?;
    Ok(Some(DemoActors {
        tenant: TenantId::from_uuid(Uuid::parse_str(&tenant)?),
        employee,
        contact,
    }))
}

async fn print_tokens(state: &ApiState, tokens: &Tokens, actors: &DemoActors) -> Result<(), Error> {
    let in_tenant = |id: Uuid, role: Role| Actor::in_tenant(id, role, actors.tenant);
    let mut lines = vec![(
        "admin",
        tokens.issue(&in_tenant(Uuid::now_v7(), Role::Admin), TOKEN_TTL)?,
    )];
    if let Some(employee) = actors.employee {
        let actor = in_tenant(employee, Role::Employee);
        lines.push(("employee", tokens.issue(&actor, TOKEN_TTL)?));
    }
    if let Some(contact) = actors.contact {
        // A contact's token names its current binding epoch, as signing in would.
        let epoch = Lookup::contact(state.commands.lookup(), ContactId::from_uuid(contact))
            .await?
            .binding_epoch();
        let actor = in_tenant(contact, Role::Contact);
        lines.push((
            "contact",
            tokens.issue_for_contact(&actor, epoch, TOKEN_TTL)?,
        ));
    }
    for (role, name) in [(Role::Auditor, "auditor"), (Role::Analyst, "analyst")] {
        lines.push((
            name,
            tokens.issue(&in_tenant(Uuid::now_v7(), role), TOKEN_TTL)?,
        ));
    }
    println!(
        "\nDemo tenant {}. Bearer tokens (valid 7 days), for the header\n  Authorization: Bearer <token>\n",
        actors.tenant
    );
    for (role, token) in lines {
        println!("{role:>9}: {token}");
    }
    println!();
    Ok(())
}
