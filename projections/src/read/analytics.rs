//! Analytics read models (written by `models::orders` and `models::onboarding`): sales per day,
//! partner and product from `rm_sales_daily`, a page at a time, and the onboarding moments of a
//! tenant's customers from `rm_onboarding_partners`.

use chrono::NaiveDate;
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// The form of a day in `rm_sales_daily`: text order is date order.
const DAY: &str = "%Y-%m-%d";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SalesRow {
    /// `YYYY-MM-DD`, China Standard Time.
    pub day: String,
    pub partner_id: String,
    pub product_id: String,
    pub orders: i64,
    pub quantity: i64,
    pub amount_minor: i64,
    pub currency: String,
}

/// Where a row stands in the report: day, then partner, then product (each as stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesAt(pub String, pub String, pub String);

impl Keyed for SalesRow {
    type Key = SalesAt;
    fn key(&self) -> SalesAt {
        SalesAt(
            self.day.clone(),
            self.partner_id.clone(),
            self.product_id.clone(),
        )
    }
}

/// Which sales to report: the days `from` to `to`, both included, optionally of one partner or
/// one product. The caller bounds the range.
#[derive(Debug, Clone)]
pub struct SalesFilter {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub partner_id: Option<String>,
    pub product_id: Option<String>,
}

/// A page of the sales `scope` reaches, by day, partner and product.
pub async fn sales_daily(
    db: &Database,
    scope: &Scope,
    filter: &SalesFilter,
    page: &PageRequest<SalesAt>,
) -> Result<Page<SalesRow>, sqlx::Error> {
    let mut query = Query::new(
        db,
        "SELECT day, partner_id, product_id, orders, quantity, amount_minor, currency
           FROM rm_sales_daily WHERE true",
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    query.and("day >=", filter.from.format(DAY).to_string());
    query.and("day <=", filter.to.format(DAY).to_string());
    if let Some(partner) = &filter.partner_id {
        query.and("partner_id =", partner.as_str());
    }
    if let Some(product) = &filter.product_id {
        query.and("product_id =", product.as_str());
    }
    if let Some(SalesAt(day, partner, product)) = &page.after {
        query.and_after(
            "day, partner_id, product_id",
            false,
            vec![
                day.as_str().into(),
                partner.as_str().into(),
                product.as_str().into(),
            ],
        );
    }
    fetch_page(db, query, page, "day, partner_id, product_id").await
}

/// The day of a [`SalesRow`], or `None` if the stored text is not a date.
pub fn parse_day(day: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(day, DAY).ok()
}

/// A customer's onboarding moments, in milliseconds since the epoch.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FunnelRow {
    pub customer_recorded_ms: i64,
    pub partner_added_ms: Option<i64>,
    pub ordering_assigned_ms: Option<i64>,
    pub first_contact_added_ms: Option<i64>,
    pub first_contact_bound_ms: Option<i64>,
    pub first_order_ms: Option<i64>,
}

/// The onboarding moments of every customer `scope` reaches, optionally only those recorded
/// in `[recorded_from_ms, recorded_to_ms)`. One row per customer of the tenant: the funnel is
/// computed over all of them.
pub async fn funnel(
    db: &Database,
    scope: &Scope,
    recorded_from_ms: Option<i64>,
    recorded_to_ms: Option<i64>,
) -> Result<Vec<FunnelRow>, sqlx::Error> {
    // The `_ms` columns keep the filter and the durations plain integer arithmetic on both
    // backends.
    let mut query = Query::new(
        db,
        "SELECT customer_recorded_ms, partner_added_ms, ordering_assigned_ms,
                first_contact_added_ms, first_contact_bound_ms, first_order_ms
           FROM rm_onboarding_partners WHERE true",
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    if let Some(from) = recorded_from_ms {
        query.and("customer_recorded_ms >=", from);
    }
    if let Some(to) = recorded_to_ms {
        query.and("customer_recorded_ms <", to);
    }
    query.fetch(db).await
}
