//! `rm_partners`: every CRM customer of a tenant and, once added, its life as a partner
//! enterprise: mode, ordering assigned, suspended, how many contacts on each side, how many
//! orders and when the first and the last were placed; its dealer level and the categories
//! it may buy (`rm_partner_categories`, one row per category of a restricted assortment).

use async_trait::async_trait;
use dinghuo_domain::contact::ContactEvent;
use dinghuo_domain::partner::PartnerEvent;
use dinghuo_domain::{App, Side};
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Rows, Tx};

use super::event::{decode, json_list};
use super::submissions::{self, CountsSubmissions};
use crate::projection::{Projection, ProjectionError, RebuildFold, TableNames};

#[derive(Debug, Clone, Copy)]
pub struct PartnersProjection;

#[async_trait]
impl Projection for PartnersProjection {
    fn name(&self) -> &'static str {
        "partners"
    }

    /// 2: `level` and `assortment`, and `partner_categories`.
    fn schema_version(&self) -> i32 {
        2
    }

    fn tables(&self) -> &'static [&'static str] {
        &["partners", "partner_links", "partner_categories"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean) = (dialect.time_type(), dialect.bool_type());
        let partners = names.table("partners");
        let links = names.table("partner_links");
        let categories = names.table("partner_categories");
        vec![
            format!(
                "CREATE TABLE {partners} (
                    partner_id           text      NOT NULL PRIMARY KEY,
                    tenant_id            text      NOT NULL,
                    name                 text      NOT NULL,
                    phone                text,
                    address              text,
                    customer_recorded_at {time}    NOT NULL,
                    is_partner           {boolean} NOT NULL,
                    mode                 text,
                    partner_added_at     {time},
                    ordering_assigned    {boolean} NOT NULL,
                    ordering_assigned_at {time},
                    suspended            {boolean} NOT NULL,
                    suspended_at         {time},
                    their_side_contacts  bigint    NOT NULL,
                    our_side_contacts    bigint    NOT NULL,
                    orders_count         bigint    NOT NULL,
                    first_order_at       {time},
                    last_order_at        {time},
                    level                text,
                    -- NULL: every listed product; else a JSON array of the categories it may buy.
                    assortment           text,
                    updated_at           {time}    NOT NULL
                )"
            ),
            // Which side each current link is on, to count a removal on the right side.
            format!(
                "CREATE TABLE {links} (
                    contact_id text NOT NULL,
                    partner_id text NOT NULL,
                    side       text NOT NULL,
                    PRIMARY KEY (contact_id, partner_id)
                )"
            ),
            // The assortment again, a row per category, for reads that filter products by it
            // with the same SQL on both backends.
            format!(
                "CREATE TABLE {categories} (
                    partner_id text NOT NULL,
                    category   text NOT NULL,
                    PRIMARY KEY (partner_id, category)
                )"
            ),
        ]
    }

    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![format!(
            "CREATE INDEX {} ON {} (tenant_id, name)",
            names.index("partners", "tenant_name"),
            names.table("partners")
        )]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        self.apply_batch(tx, names, std::slice::from_ref(event))
            .await
    }

    async fn apply_batch(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        events: &[FeedEvent],
    ) -> Result<(), ProjectionError> {
        submissions::apply_batch(*self, tx, names, events).await
    }

    /// Submission runs span pages (see [`submissions::SubmissionsFold`]).
    fn rebuild_fold(&self) -> Option<Box<dyn RebuildFold>> {
        Some(Box::new(submissions::SubmissionsFold::new(*self)))
    }
}

#[async_trait]
impl CountsSubmissions for PartnersProjection {
    const OTHER_AGGREGATES: &'static [&'static str] = &["Partner", "Contact"];

    async fn write_submissions(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        rows: Rows,
    ) -> Result<(), ProjectionError> {
        let table = names.table("partners");
        tx.defer_rows(
            &table,
            rows,
            &format!(
                "UPDATE {table} SET orders_count = {table}.orders_count + v.orders,
                    first_order_at = COALESCE({table}.first_order_at, v.first_at),
                    last_order_at = v.last_at, updated_at = v.last_at
                   FROM v WHERE {table}.partner_id = v.partner_id"
            ),
        )
        .await?;
        Ok(())
    }

    async fn apply_other(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let partners = names.table("partners");
        let at = Arg::from(event.recorded_at);
        if let Some(partner) = decode::<PartnerEvent>(event, "Partner")? {
            let id = Arg::from(event.aggregate_id.as_str());
            let (sql, args): (String, Vec<Arg>) = match partner {
                PartnerEvent::CustomerRecorded {
                    tenant_id,
                    name,
                    phone,
                    address,
                } => (
                    format!(
                        "INSERT INTO {partners} (partner_id, tenant_id, name, phone, address,
                            customer_recorded_at, is_partner, ordering_assigned, suspended,
                            their_side_contacts, our_side_contacts, orders_count, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $7, 0, 0, 0, $6)"
                    ),
                    vec![
                        id,
                        tenant_id.to_string().into(),
                        name.as_str().into(),
                        phone.map(String::from).into(),
                        address.map(String::from).into(),
                        at,
                        false.into(),
                    ],
                ),
                PartnerEvent::CustomerUpdated {
                    name,
                    phone,
                    address,
                } => (
                    format!(
                        "UPDATE {partners} SET name = $2, phone = $3, address = $4, updated_at = $5
                          WHERE partner_id = $1"
                    ),
                    vec![
                        id,
                        name.as_str().into(),
                        phone.map(String::from).into(),
                        address.map(String::from).into(),
                        at,
                    ],
                ),
                PartnerEvent::PartnerAdded { mode } => (
                    format!(
                        "UPDATE {partners} SET is_partner = $2, mode = $3, partner_added_at = $4,
                            updated_at = $4 WHERE partner_id = $1"
                    ),
                    vec![id, true.into(), mode.as_str().into(), at],
                ),
                PartnerEvent::AppAssigned { app: App::Ordering } => (
                    format!(
                        "UPDATE {partners} SET ordering_assigned = $2, ordering_assigned_at = $3,
                            updated_at = $3 WHERE partner_id = $1"
                    ),
                    vec![id, true.into(), at],
                ),
                PartnerEvent::AppUnassigned { app: App::Ordering } => (
                    format!(
                        "UPDATE {partners} SET ordering_assigned = $2, ordering_assigned_at = NULL,
                            updated_at = $3 WHERE partner_id = $1"
                    ),
                    vec![id, false.into(), at],
                ),
                PartnerEvent::PartnerSuspended => (
                    format!(
                        "UPDATE {partners} SET suspended = $2, suspended_at = $3, updated_at = $3
                          WHERE partner_id = $1"
                    ),
                    vec![id, true.into(), at],
                ),
                PartnerEvent::PartnerReinstated => (
                    format!(
                        "UPDATE {partners} SET suspended = $2, suspended_at = NULL, updated_at = $3
                          WHERE partner_id = $1"
                    ),
                    vec![id, false.into(), at],
                ),
                PartnerEvent::PartnerLevelSet { level } => (
                    format!(
                        "UPDATE {partners} SET level = $2, updated_at = $3 WHERE partner_id = $1"
                    ),
                    vec![id, level.map(String::from).into(), at],
                ),
                PartnerEvent::PartnerAssortmentRestricted { categories } => {
                    let categories: Vec<String> = categories
                        .categories()
                        .iter()
                        .map(|category| category.as_str().to_owned())
                        .collect();
                    set_categories(tx, names, &event.aggregate_id, &categories).await?;
                    (
                        format!(
                            "UPDATE {partners} SET assortment = $2, updated_at = $3
                              WHERE partner_id = $1"
                        ),
                        vec![id, json_list(categories).into(), at],
                    )
                }
                PartnerEvent::PartnerAssortmentCleared => {
                    set_categories(tx, names, &event.aggregate_id, &[]).await?;
                    (
                        format!(
                            "UPDATE {partners} SET assortment = NULL, updated_at = $2
                              WHERE partner_id = $1"
                        ),
                        vec![id, at],
                    )
                }
            };
            tx.execute(&sql, &args).await?;
        } else if let Some(contact) = decode::<ContactEvent>(event, "Contact")? {
            let links = names.table("partner_links");
            let contact_id = Arg::from(event.aggregate_id.as_str());
            match contact {
                ContactEvent::PartnerContactAdded {
                    partner_id, side, ..
                } => {
                    tx.execute(
                        &format!(
                            "INSERT INTO {links} (contact_id, partner_id, side) VALUES ($1, $2, $3)"
                        ),
                        &[
                            contact_id,
                            partner_id.to_string().into(),
                            side.as_str().into(),
                        ],
                    )
                    .await?;
                    count_contact(tx, &partners, partner_id.to_string(), side, 1, at).await?;
                }
                ContactEvent::PartnerContactRemoved { partner_id } => {
                    let link = [contact_id, partner_id.to_string().into()];
                    let theirs = tx
                        .fetch_int(
                            &format!(
                                "SELECT COUNT(*) FROM {links}
                                  WHERE contact_id = $1 AND partner_id = $2 AND side = 'THEIRS'"
                            ),
                            &link,
                        )
                        .await?
                        .unwrap_or(0);
                    tx.execute(
                        &format!("DELETE FROM {links} WHERE contact_id = $1 AND partner_id = $2"),
                        &link,
                    )
                    .await?;
                    let side = if theirs > 0 { Side::Theirs } else { Side::Ours };
                    count_contact(tx, &partners, partner_id.to_string(), side, -1, at).await?;
                }
                _ => {}
            }
        }
        Ok(())
    }
}

async fn count_contact(
    tx: &mut Tx,
    partners: &str,
    partner: String,
    side: Side,
    delta: i64,
    at: Arg,
) -> Result<(), ProjectionError> {
    let column = match side {
        Side::Theirs => "their_side_contacts",
        Side::Ours => "our_side_contacts",
    };
    tx.execute(
        &format!(
            "UPDATE {partners} SET {column} = {column} + $2, updated_at = $3 WHERE partner_id = $1"
        ),
        &[partner.into(), delta.into(), at],
    )
    .await?;
    Ok(())
}

/// Replaces the rows of `partner`'s assortment in `partner_categories` with `categories`
/// (none: every listed product).
async fn set_categories(
    tx: &mut Tx,
    names: &TableNames,
    partner: &str,
    categories: &[String],
) -> Result<(), ProjectionError> {
    let table = names.table("partner_categories");
    tx.execute(
        &format!("DELETE FROM {table} WHERE partner_id = $1"),
        &[partner.into()],
    )
    .await?;
    let mut rows = Rows::new(&["partner_id", "category"]);
    for category in categories {
        rows.push(vec![partner.into(), category.as_str().into()]);
    }
    tx.insert_rows(rows, &table).await?;
    Ok(())
}
