//! `PriceList` and its `PriceEntry`s, mapped from the rows of `projections::read::price_lists`.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::read::price_lists::{self, PriceEntryAt, PriceEntryRow, PriceListRow};

use super::money::Money;
use super::tenant::time;
use crate::graphql::caller;
use crate::graphql::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PriceListScopeKind {
    /// Every partner of the tenant.
    All,
    /// Partners at one of `levels`.
    Levels,
    /// The partners `partnerIds` names.
    Partners,
}

/// Which partners a list prices for.
#[derive(Debug, Clone, SimpleObject)]
pub struct PriceListScope {
    pub kind: PriceListScopeKind,
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::MAX_SCOPE_LEVELS, child_complexity)"
    )]
    pub levels: Vec<String>,
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::MAX_SCOPE_PARTNERS, child_complexity)"
    )]
    pub partner_ids: Vec<ID>,
}

/// A dealer price list: among the lists that apply to a partner (valid now, not archived,
/// scoped to it) with a price for a product at or below the quantity, the highest priority
/// wins (ties: the newer list), and within it the largest volume break.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct PriceList {
    pub id: ID,
    pub name: String,
    /// 0 to 1000; the higher wins.
    pub priority: i32,
    /// Prices from then on (inclusive); none: from the start.
    pub valid_from: Option<DateTime<Utc>>,
    /// Prices until then (exclusive); none: open-ended.
    pub valid_to: Option<DateTime<Utc>>,
    /// None until set: a list without a scope prices for nobody.
    pub scope: Option<PriceListScope>,
    pub archived: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One price of a list: a product's unit price from `minQuantity` units up (1: the base
/// price; higher: a volume break).
#[derive(Debug, Clone, SimpleObject)]
pub struct PriceEntry {
    pub product_id: ID,
    pub sku: String,
    pub product_name: String,
    pub min_quantity: i64,
    pub unit_price: Money,
}

impl From<PriceEntryRow> for PriceEntry {
    fn from(row: PriceEntryRow) -> Self {
        Self {
            product_id: ID(row.product_id),
            sku: row.sku,
            product_name: row.product_name.unwrap_or_default(),
            min_quantity: row.min_quantity,
            unit_price: Money::from_minor(row.unit_price_minor, &row.currency),
        }
    }
}

/// By SKU, then break.
type EntryCursor = OpaqueCursor<PriceEntryAt>;

fn scope_of(row: &PriceListRow) -> Option<PriceListScope> {
    let texts = |json: &Option<String>| -> Vec<String> {
        json.as_deref()
            .and_then(|json| serde_json::from_str(json).ok())
            .unwrap_or_default()
    };
    let kind = match row.scope_kind.as_deref()? {
        "ALL" => PriceListScopeKind::All,
        "LEVELS" => PriceListScopeKind::Levels,
        "PARTNERS" => PriceListScopeKind::Partners,
        _ => return None,
    };
    Some(PriceListScope {
        kind,
        levels: texts(&row.scope_levels),
        partner_ids: texts(&row.scope_partners).into_iter().map(ID).collect(),
    })
}

impl From<PriceListRow> for PriceList {
    fn from(row: PriceListRow) -> Self {
        Self {
            scope: scope_of(&row),
            id: ID(row.price_list_id),
            name: row.name,
            priority: i32::try_from(row.priority).unwrap_or(i32::MAX),
            valid_from: time(row.valid_from),
            valid_to: time(row.valid_to),
            archived: row.archived,
            created_at: row.created_at.0,
            updated_at: row.updated_at.0,
        }
    }
}

#[ComplexObject]
impl PriceList {
    /// The list's prices, by SKU then break.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn entries(
        &self,
        ctx: &Context<'_>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<EntryCursor, PriceEntry, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = caller.scope()?;
        let page = crate::graphql::queries::paging::Page::<EntryCursor>::new(first, after)?;
        let rows = price_lists::entries(state.db(), &scope, &self.id, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, |row| Ok(PriceEntry::from(row)))?)
    }
}
