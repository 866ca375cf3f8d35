//! `rm_contacts` and `rm_partner_contacts`: people, their partner-contact links, whether and where
//! they bound their identity, and their effective ordering permissions (the tenant's defaults
//! minus the contact's own denials). Phones are shown masked (`138****8000`) only.

use async_trait::async_trait;
use dinghuo_domain::contact::{Affiliation, ContactEvent};
use dinghuo_domain::tenant::TenantEvent;
use dinghuo_domain::{App, Permission};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};

use super::event::decode;
use crate::fingerprint::phone_fingerprint;
use crate::projection::{Projection, ProjectionError, TableNames};

pub struct ContactsProjection;

/// The permission columns: (permission, effective column, denial column, tenant default column).
const PERMISSIONS: [(Permission, &str, &str, &str); 3] = [
    (
        Permission::CreateSalesOrder,
        "can_create_sales_order",
        "denies_create_sales_order",
        "grants_create_sales_order",
    ),
    (
        Permission::CancelOrder,
        "can_cancel_order",
        "denies_cancel_order",
        "grants_cancel_order",
    ),
    (
        Permission::ViewOrders,
        "can_view_orders",
        "denies_view_orders",
        "grants_view_orders",
    ),
];

#[async_trait]
impl Projection for ContactsProjection {
    fn name(&self) -> &'static str {
        "contacts"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &[
            "contacts",
            "partner_contacts",
            "contact_phones",
            "contact_tenant_defaults",
        ]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean) = (dialect.time_type(), dialect.bool_type());
        let contacts = names.table("contacts");
        let links = names.table("partner_contacts");
        let phones = names.table("contact_phones");
        let defaults = names.table("contact_tenant_defaults");
        vec![
            format!(
                "CREATE TABLE {contacts} (
                    contact_id                text      NOT NULL PRIMARY KEY,
                    tenant_id                 text      NOT NULL,
                    name                      text      NOT NULL,
                    phone_masked              text,
                    kind                      text      NOT NULL,
                    customer_id               text,
                    recorded_at               {time}    NOT NULL,
                    bound                     {boolean} NOT NULL,
                    bound_channel             text,
                    bound_at                  {time},
                    denies_create_sales_order {boolean} NOT NULL,
                    denies_cancel_order       {boolean} NOT NULL,
                    denies_view_orders        {boolean} NOT NULL,
                    can_create_sales_order    {boolean} NOT NULL,
                    can_cancel_order          {boolean} NOT NULL,
                    can_view_orders           {boolean} NOT NULL,
                    updated_at                {time}    NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE {links} (
                    contact_id text   NOT NULL,
                    partner_id text   NOT NULL,
                    tenant_id  text   NOT NULL,
                    side       text   NOT NULL,
                    added_at   {time} NOT NULL,
                    PRIMARY KEY (contact_id, partner_id)
                )"
            ),
            // A fingerprint of the number, only to tell whether an update changed it (which clears
            // bindings, exactly as the aggregate does). Not the number: analysts read these tables.
            format!(
                "CREATE TABLE {phones} (
                    contact_id        text NOT NULL PRIMARY KEY,
                    phone_fingerprint text
                )"
            ),
            format!(
                "CREATE TABLE {defaults} (
                    tenant_id                 text      NOT NULL PRIMARY KEY,
                    grants_create_sales_order {boolean} NOT NULL,
                    grants_cancel_order       {boolean} NOT NULL,
                    grants_view_orders        {boolean} NOT NULL
                )"
            ),
        ]
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![
            format!(
                "CREATE INDEX {} ON {} (tenant_id, name)",
                names.index("contacts", "tenant_name"),
                names.table("contacts")
            ),
            format!(
                "CREATE INDEX {} ON {} (partner_id)",
                names.index("partner_contacts", "partner"),
                names.table("partner_contacts")
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        if let Some(TenantEvent::FunctionPermissionsSet {
            app: App::Ordering,
            permissions,
        }) = decode::<TenantEvent>(event, "Tenant")?
        {
            let defaults = names.table("contact_tenant_defaults");
            let grants = |p: Permission| Arg::from(permissions.contains(&p));
            tx.execute(
                &format!(
                    "INSERT INTO {defaults} (tenant_id, grants_create_sales_order,
                        grants_cancel_order, grants_view_orders) VALUES ($1, $2, $3, $4)
                     ON CONFLICT (tenant_id) DO UPDATE SET
                        grants_create_sales_order = excluded.grants_create_sales_order,
                        grants_cancel_order = excluded.grants_cancel_order,
                        grants_view_orders = excluded.grants_view_orders"
                ),
                &[
                    event.aggregate_id.as_str().into(),
                    grants(Permission::CreateSalesOrder),
                    grants(Permission::CancelOrder),
                    grants(Permission::ViewOrders),
                ],
            )
            .await?;
            recompute_permissions(tx, names, "tenant_id", &event.aggregate_id).await?;
            return Ok(());
        }
        let Some(contact) = decode::<ContactEvent>(event, "Contact")? else {
            return Ok(());
        };
        let contacts = names.table("contacts");
        let phones = names.table("contact_phones");
        let links = names.table("partner_contacts");
        let id = Arg::from(event.aggregate_id.as_str());
        let at = Arg::from(event.recorded_at);
        match contact {
            ContactEvent::ContactRecorded {
                tenant_id,
                name,
                phone,
                affiliation,
            } => {
                let (kind, customer) = match affiliation {
                    Affiliation::Customer { customer_id } => {
                        ("CUSTOMER", Some(customer_id.to_string()))
                    }
                    Affiliation::Employee => ("EMPLOYEE", None),
                };
                tx.execute(
                    &format!(
                        "INSERT INTO {contacts} (contact_id, tenant_id, name, phone_masked, kind,
                            customer_id, recorded_at, bound, denies_create_sales_order,
                            denies_cancel_order, denies_view_orders, can_create_sales_order,
                            can_cancel_order, can_view_orders, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, $8, $8, $9, $9, $9, $7)"
                    ),
                    &[
                        id.clone(),
                        tenant_id.to_string().into(),
                        name.as_str().into(),
                        phone.as_ref().map(|p| p.masked()).into(),
                        kind.into(),
                        customer.into(),
                        at,
                        false.into(),
                        true.into(),
                    ],
                )
                .await?;
                tx.execute(
                    &format!(
                        "INSERT INTO {phones} (contact_id, phone_fingerprint) VALUES ($1, $2)"
                    ),
                    &[id, phone.as_ref().map(phone_fingerprint).into()],
                )
                .await?;
                recompute_permissions(tx, names, "contact_id", &event.aggregate_id).await?;
            }
            ContactEvent::ContactUpdated { name, phone } => {
                let phone_text: Option<String> = phone.as_ref().map(phone_fingerprint);
                // A new number must be verified again (see `Contact::apply`).
                tx.execute(
                    &format!(
                        "UPDATE {contacts} SET bound = $2, bound_channel = NULL, bound_at = NULL
                          WHERE contact_id = $1
                            AND NOT EXISTS (SELECT 1 FROM {phones} p WHERE p.contact_id = $1
                                AND p.phone_fingerprint IS NOT DISTINCT FROM $3)"
                    ),
                    &[id.clone(), false.into(), phone_text.clone().into()],
                )
                .await?;
                tx.execute(
                    &format!(
                        "UPDATE {contacts} SET name = $2, phone_masked = $3, updated_at = $4
                          WHERE contact_id = $1"
                    ),
                    &[
                        id.clone(),
                        name.as_str().into(),
                        phone.as_ref().map(|p| p.masked()).into(),
                        at,
                    ],
                )
                .await?;
                tx.execute(
                    &format!("UPDATE {phones} SET phone_fingerprint = $2 WHERE contact_id = $1"),
                    &[id, phone_text.into()],
                )
                .await?;
            }
            ContactEvent::PartnerContactAdded {
                partner_id, side, ..
            } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {links} (contact_id, partner_id, tenant_id, side, added_at)
                         SELECT $1, $2, tenant_id, $3, $4 FROM {contacts} WHERE contact_id = $1"
                    ),
                    &[id, partner_id.to_string().into(), side.as_str().into(), at],
                )
                .await?;
            }
            ContactEvent::PartnerContactRemoved { partner_id } => {
                tx.execute(
                    &format!("DELETE FROM {links} WHERE contact_id = $1 AND partner_id = $2"),
                    &[id.clone(), partner_id.to_string().into()],
                )
                .await?;
                // No their-side link left: the binding is cleared (see `Contact::apply`).
                tx.execute(
                    &format!(
                        "UPDATE {contacts} SET bound = $2, bound_channel = NULL, bound_at = NULL,
                            updated_at = $3
                          WHERE contact_id = $1
                            AND NOT EXISTS (SELECT 1 FROM {links} l
                                WHERE l.contact_id = $1 AND l.side = 'THEIRS')"
                    ),
                    &[id, false.into(), at],
                )
                .await?;
            }
            ContactEvent::ContactBound { channel, .. } => {
                tx.execute(
                    &format!(
                        "UPDATE {contacts} SET bound = $2, bound_channel = $3,
                            bound_at = COALESCE(bound_at, $4), updated_at = $4
                          WHERE contact_id = $1"
                    ),
                    &[id, true.into(), channel.as_str().into(), at],
                )
                .await?;
            }
            ContactEvent::ContactPermissionsRestricted {
                app: App::Ordering,
                denied,
            } => {
                let denies = |p: Permission| Arg::from(denied.contains(&p));
                tx.execute(
                    &format!(
                        "UPDATE {contacts} SET denies_create_sales_order = $2,
                            denies_cancel_order = $3, denies_view_orders = $4, updated_at = $5
                          WHERE contact_id = $1"
                    ),
                    &[
                        id,
                        denies(Permission::CreateSalesOrder),
                        denies(Permission::CancelOrder),
                        denies(Permission::ViewOrders),
                        at,
                    ],
                )
                .await?;
                recompute_permissions(tx, names, "contact_id", &event.aggregate_id).await?;
            }
        }
        Ok(())
    }
}

/// Effective permission = the tenant's default (all granted until it sets them) and not denied
/// to the contact, for the contacts whose `column` equals `value`.
async fn recompute_permissions(
    tx: &mut Tx,
    names: &TableNames,
    column: &str,
    value: &str,
) -> Result<(), ProjectionError> {
    let contacts = names.table("contacts");
    let defaults = names.table("contact_tenant_defaults");
    let assignments: Vec<String> = PERMISSIONS
        .iter()
        .map(|(_, can, denies, grants)| {
            format!(
                "{can} = (COALESCE((SELECT d.{grants} FROM {defaults} d
                                     WHERE d.tenant_id = {contacts}.tenant_id), $2)
                          AND NOT {denies})"
            )
        })
        .collect();
    tx.execute(
        &format!(
            "UPDATE {contacts} SET {} WHERE {column} = $1",
            assignments.join(", ")
        ),
        &[value.into(), true.into()],
    )
    .await?;
    Ok(())
}
