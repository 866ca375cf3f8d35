//! `Partner` (a CRM customer and, once added, a partner enterprise), mapped from the rows of
//! `projections::read::partners`, and the `PartnersLoader` that resolves `Order.partner` for a
//! whole page at once.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::Loader;
use async_graphql::{Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::outbox::providers::mask_phone;
use dinghuo_projections::read::partners::{self, PartnerRow};
use dinghuo_projections::read::Scope;
use dinghuo_store::Database;

use super::tenant::{time, App};
use crate::graphql::error::ApiResult;

/// How a partner's contacts reach the platform.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PartnerMode {
    /// Light mode: WeChat only, no platform account (the default).
    Tenantless,
    /// A platform account is provisioned for each their-side contact.
    Tenant,
}

impl PartnerMode {
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::PartnerMode::from(self).as_str()
    }

    fn parse(text: &str) -> Option<Self> {
        match dinghuo_domain::PartnerMode::parse(text).ok()? {
            dinghuo_domain::PartnerMode::Tenantless => Some(Self::Tenantless),
            dinghuo_domain::PartnerMode::Tenant => Some(Self::Tenant),
        }
    }
}

impl From<PartnerMode> for dinghuo_domain::PartnerMode {
    fn from(mode: PartnerMode) -> Self {
        match mode {
            PartnerMode::Tenantless => Self::Tenantless,
            PartnerMode::Tenant => Self::Tenant,
        }
    }
}

/// A CRM customer of the tenant; once added, a partner enterprise (its id stays the same).
#[derive(Debug, Clone, SimpleObject)]
pub struct Partner {
    pub id: ID,
    pub name: String,
    /// The company's number, masked (`138****8000`): lists are shown to many people.
    pub phone_masked: Option<String>,
    pub address: Option<String>,
    pub customer_recorded_at: DateTime<Utc>,
    /// Added as a partner enterprise (only then can it order).
    pub is_partner: bool,
    /// Set once it is a partner.
    pub mode: Option<PartnerMode>,
    pub partner_added_at: Option<DateTime<Utc>>,
    /// The apps assigned to it.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::apps(), child_complexity)"
    )]
    pub assigned_apps: Vec<App>,
    /// Since when the ordering app is assigned; none while it is not.
    pub ordering_assigned_at: Option<DateTime<Utc>>,
    /// A suspended partner cannot order.
    pub suspended: bool,
    pub suspended_at: Option<DateTime<Utc>>,
    /// Its dealer tier, which price lists can be scoped to; `null`: none.
    pub level: Option<String>,
    /// The product categories it may buy; `null`: every listed product.
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::MAX_ASSORTMENT, child_complexity)"
    )]
    pub assortment: Option<Vec<String>>,
    /// Current partner contacts on the partner's side.
    pub their_side_contacts: i64,
    /// Current partner contacts on the tenant's side (employees).
    pub our_side_contacts: i64,
    /// Orders it submitted, whatever became of them.
    pub orders_count: i64,
    pub first_order_at: Option<DateTime<Utc>>,
    pub last_order_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

impl From<PartnerRow> for Partner {
    fn from(row: PartnerRow) -> Self {
        let assortment = row.assortment_categories();
        Self {
            id: ID(row.partner_id),
            name: row.name,
            phone_masked: row.phone.as_deref().map(mask_phone),
            address: row.address,
            customer_recorded_at: row.customer_recorded_at.0,
            is_partner: row.is_partner,
            mode: row.mode.as_deref().and_then(PartnerMode::parse),
            partner_added_at: time(row.partner_added_at),
            assigned_apps: if row.ordering_assigned {
                vec![App::Ordering]
            } else {
                Vec::new()
            },
            ordering_assigned_at: time(row.ordering_assigned_at),
            suspended: row.suspended,
            suspended_at: time(row.suspended_at),
            assortment,
            level: row.level,
            their_side_contacts: row.their_side_contacts,
            our_side_contacts: row.our_side_contacts,
            orders_count: row.orders_count,
            first_order_at: time(row.first_order_at),
            last_order_at: time(row.last_order_at),
            updated_at: row.updated_at.0,
        }
    }
}

/// One partner (or customer) the caller may see, or `None`.
pub async fn find(db: &Database, scope: &Scope, partner_id: &str) -> ApiResult<Option<Partner>> {
    Ok(partners::find(db, scope, partner_id)
        .await?
        .map(Partner::from))
}

/// Loads many partners by id in one query. Only fed ids the caller may already see (an order's
/// partner), so it applies no scope of its own.
pub struct PartnersLoader {
    pub db: Database,
}

impl Loader<String> for PartnersLoader {
    type Value = Partner;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Partner>, Self::Error> {
        let rows = partners::by_ids(&self.db, keys).await.map_err(Arc::new)?;
        Ok(rows
            .into_iter()
            .map(|row| (row.partner_id.clone(), Partner::from(row)))
            .collect())
    }
}
