//! Dealer pricing and terms (issue 18), an admin's: partner levels and assortments, product
//! categories and quantity rules, price lists and their prices.

use async_graphql::{Context, Enum, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::{
    CategorizeProductInput as CategorizeCommand, CreatePriceListInput as CreateListCommand,
    PartnerRefInput, PriceListRefInput, PriceListScopeInput as ScopeCommand,
    RemovePriceInput as RemovePriceCommand,
    RestrictPartnerAssortmentInput as RestrictAssortmentCommand,
    SetPartnerLevelInput as SetLevelCommand, SetPriceInput as SetPriceCommand,
    SetPriceListScopeInput as SetScopeCommand, SetPriceListValidityInput as SetValidityCommand,
    SetQuantityRulesInput as SetRulesCommand,
};
use dinghuo_domain::ProductId;

use super::partner::{payload as partner_payload, PartnerIdInput, PartnerPayload};
use super::product::{payload as product_payload, MoneyInput, ProductPayload};
use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::rw;
use crate::graphql::types::price_list::PriceList;

#[derive(Default)]
pub struct PricingMutations;

#[derive(Debug, InputObject)]
pub struct SetPartnerLevelInput {
    pub partner_id: ID,
    /// A tenant-defined tier ("A", "省级代理"); `null` or blank takes the partner off every tier.
    pub level: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct RestrictPartnerAssortmentInput {
    pub partner_id: ID,
    /// The product categories the partner may buy: 1 to 100.
    pub categories: Vec<String>,
}

#[derive(Debug, InputObject)]
pub struct CategorizeProductInput {
    pub product_id: ID,
    /// `null` or blank takes the product out of its category.
    pub category: Option<String>,
}

/// Every rule optional; none lifts them. `multiple` is a case size: lines order whole
/// multiples of it.
#[derive(Debug, InputObject)]
pub struct SetQuantityRulesInput {
    pub product_id: ID,
    pub min: Option<i64>,
    pub multiple: Option<i64>,
    pub max: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum PriceListScopeKindInput {
    All,
    Levels,
    Partners,
}

/// Which partners a list prices for: `ALL`, `LEVELS` (with `levels`, 1 to 50) or `PARTNERS`
/// (with `partnerIds`, 1 to 500; beyond that, give them a level).
#[derive(Debug, InputObject)]
pub struct PriceListScopeInput {
    pub kind: PriceListScopeKindInput,
    pub levels: Option<Vec<String>>,
    pub partner_ids: Option<Vec<ID>>,
}

impl From<PriceListScopeInput> for ScopeCommand {
    fn from(scope: PriceListScopeInput) -> Self {
        Self {
            kind: match scope.kind {
                PriceListScopeKindInput::All => "ALL",
                PriceListScopeKindInput::Levels => "LEVELS",
                PriceListScopeKindInput::Partners => "PARTNERS",
            }
            .to_owned(),
            levels: scope.levels.unwrap_or_default(),
            partner_ids: scope
                .partner_ids
                .unwrap_or_default()
                .into_iter()
                .map(|id| id.0)
                .collect(),
        }
    }
}

#[derive(Debug, InputObject)]
pub struct CreatePriceListInput {
    pub name: String,
    /// 0 to 1000; the higher wins when several lists price a product.
    pub priority: i64,
    /// Absent: the list prices for nobody until `setPriceListScope`.
    pub scope: Option<PriceListScopeInput>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, InputObject)]
pub struct SetPriceListValidityInput {
    pub price_list_id: ID,
    /// From then on (inclusive); `null`: from the start.
    pub valid_from: Option<DateTime<Utc>>,
    /// Until then (exclusive); `null`: open-ended.
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, InputObject)]
pub struct SetPriceListScopeInput {
    pub price_list_id: ID,
    pub scope: PriceListScopeInput,
}

#[derive(Debug, InputObject)]
pub struct PriceListIdInput {
    pub price_list_id: ID,
}

/// A list's unit price for a product (by `productId` or `sku`) from `minQuantity` units up:
/// 1 (the default) is the list's base price, higher ones are volume breaks.
#[derive(Debug, InputObject)]
pub struct SetPriceInput {
    pub price_list_id: ID,
    pub product_id: Option<ID>,
    pub sku: Option<String>,
    pub min_quantity: Option<i64>,
    pub unit_price: MoneyInput,
}

#[derive(Debug, InputObject)]
pub struct RemovePriceInput {
    pub price_list_id: ID,
    pub product_id: Option<ID>,
    pub sku: Option<String>,
    pub min_quantity: Option<i64>,
}

/// What a price list mutation changed.
#[derive(Debug, SimpleObject)]
pub struct PriceListPayload {
    pub price_list_id: ID,
    /// The list as the read model shows it after the change.
    pub price_list: Option<PriceList>,
}

/// The payload of `price_list_id` once the price lists read model shows the change written to
/// `stream` (the list's own, or a product's prices).
async fn list_payload(
    ctx: &Context<'_>,
    price_list_id: String,
    aggregate_type: &str,
    stream: &str,
) -> ApiResult<PriceListPayload> {
    let (caller, state) = caller::of(ctx);
    rw::wait(ctx, aggregate_type, stream, &["price_lists"]).await;
    let scope = caller.scope()?;
    let price_list =
        dinghuo_projections::read::price_lists::find(state.db(), &scope, &price_list_id)
            .await?
            .map(PriceList::from);
    Ok(PriceListPayload {
        price_list_id: ID(price_list_id),
        price_list,
    })
}

fn prices_stream(product: ProductId) -> String {
    product.list_prices_id().to_string()
}

#[Object]
impl PricingMutations {
    /// Sets a partner's dealer tier, which price lists can be scoped to.
    async fn set_partner_level(
        &self,
        ctx: &Context<'_>,
        input: SetPartnerLevelInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = SetLevelCommand {
            partner_id: partner_id.clone(),
            level: input.level,
        };
        state
            .commands
            .set_partner_level(&caller.command_context()?, command)
            .await?;
        partner_payload(ctx, partner_id).await
    }

    /// Limits what a partner may buy to products of these categories; its contacts see and
    /// order nothing else (`PRODUCT_NOT_AVAILABLE`).
    async fn restrict_partner_assortment(
        &self,
        ctx: &Context<'_>,
        input: RestrictPartnerAssortmentInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = RestrictAssortmentCommand {
            partner_id: partner_id.clone(),
            categories: input.categories,
        };
        state
            .commands
            .restrict_partner_assortment(&caller.command_context()?, command)
            .await?;
        partner_payload(ctx, partner_id).await
    }

    /// Lets a partner buy every listed product again.
    async fn clear_partner_assortment(
        &self,
        ctx: &Context<'_>,
        input: PartnerIdInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = PartnerRefInput {
            partner_id: partner_id.clone(),
        };
        state
            .commands
            .clear_partner_assortment(&caller.command_context()?, command)
            .await?;
        partner_payload(ctx, partner_id).await
    }

    /// Puts a product in a category (what assortments are made of).
    async fn categorize_product(
        &self,
        ctx: &Context<'_>,
        input: CategorizeProductInput,
    ) -> ApiResult<ProductPayload> {
        let (caller, state) = caller::of(ctx);
        let product_id = input.product_id.0;
        let command = CategorizeCommand {
            product_id: product_id.clone(),
            category: input.category,
        };
        state
            .commands
            .categorize_product(&caller.command_context()?, command)
            .await?;
        product_payload(ctx, product_id).await
    }

    /// Sets the quantities one order line may order: at least `min`, whole multiples of
    /// `multiple`, at most `max` (`QUANTITY_NOT_ALLOWED` otherwise).
    async fn set_quantity_rules(
        &self,
        ctx: &Context<'_>,
        input: SetQuantityRulesInput,
    ) -> ApiResult<ProductPayload> {
        let (caller, state) = caller::of(ctx);
        let product_id = input.product_id.0;
        let command = SetRulesCommand {
            product_id: product_id.clone(),
            min: input.min,
            multiple: input.multiple,
            max: input.max,
        };
        state
            .commands
            .set_quantity_rules(&caller.command_context()?, command)
            .await?;
        product_payload(ctx, product_id).await
    }

    /// Creates a price list (at most 100 unarchived per tenant).
    async fn create_price_list(
        &self,
        ctx: &Context<'_>,
        input: CreatePriceListInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let command = CreateListCommand {
            name: input.name,
            priority: input.priority,
            scope: input.scope.map(Into::into),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        };
        let id = state
            .commands
            .create_price_list(&caller.command_context()?, command)
            .await?
            .to_string();
        list_payload(ctx, id.clone(), "PriceList", &id).await
    }

    async fn set_price_list_validity(
        &self,
        ctx: &Context<'_>,
        input: SetPriceListValidityInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let id = input.price_list_id.0;
        let command = SetValidityCommand {
            price_list_id: id.clone(),
            valid_from: input.valid_from,
            valid_to: input.valid_to,
        };
        state
            .commands
            .set_price_list_validity(&caller.command_context()?, command)
            .await?;
        list_payload(ctx, id.clone(), "PriceList", &id).await
    }

    async fn set_price_list_scope(
        &self,
        ctx: &Context<'_>,
        input: SetPriceListScopeInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let id = input.price_list_id.0;
        let command = SetScopeCommand {
            price_list_id: id.clone(),
            scope: input.scope.into(),
        };
        state
            .commands
            .set_price_list_scope(&caller.command_context()?, command)
            .await?;
        list_payload(ctx, id.clone(), "PriceList", &id).await
    }

    /// Sets a list's price for a product from a quantity up.
    async fn set_price(
        &self,
        ctx: &Context<'_>,
        input: SetPriceInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let id = input.price_list_id.0;
        let command = SetPriceCommand {
            price_list_id: id.clone(),
            product_id: input.product_id.map(|id| id.0),
            sku: input.sku,
            min_quantity: input.min_quantity,
            unit_price: input.unit_price.into(),
        };
        let product = state
            .commands
            .set_price(&caller.command_context()?, command)
            .await?;
        list_payload(ctx, id, "ListPrices", &prices_stream(product)).await
    }

    /// Removes a list's price for a product at one break (none there: nothing to do).
    async fn remove_price(
        &self,
        ctx: &Context<'_>,
        input: RemovePriceInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let id = input.price_list_id.0;
        let command = RemovePriceCommand {
            price_list_id: id.clone(),
            product_id: input.product_id.map(|id| id.0),
            sku: input.sku,
            min_quantity: input.min_quantity,
        };
        let product = state
            .commands
            .remove_price(&caller.command_context()?, command)
            .await?;
        list_payload(ctx, id, "ListPrices", &prices_stream(product)).await
    }

    /// Archives a list: it never prices again (orders keep the prices it gave them).
    async fn archive_price_list(
        &self,
        ctx: &Context<'_>,
        input: PriceListIdInput,
    ) -> ApiResult<PriceListPayload> {
        let (caller, state) = caller::of(ctx);
        let id = input.price_list_id.0;
        let command = PriceListRefInput {
            price_list_id: id.clone(),
        };
        state
            .commands
            .archive_price_list(&caller.command_context()?, command)
            .await?;
        list_payload(ctx, id.clone(), "PriceList", &id).await
    }
}
