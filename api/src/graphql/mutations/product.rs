//! `listProduct`, `repriceProduct`, `delistProduct`: an admin's, on its own tenant's catalog.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{
    DelistProductInput as DelistCommand, ListProductInput as ListCommand,
    MoneyInput as MoneyCommand, RepriceProductInput as RepriceCommand,
};

use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::rw;
use crate::graphql::types::{product, Product};

#[derive(Default)]
pub struct ProductMutations;

/// Money as a decimal string, never a float: `{amount: "12.50", currency: "CNY"}`.
#[derive(Debug, InputObject)]
pub struct MoneyInput {
    pub amount: String,
    /// ISO 4217; `CNY` unless given.
    pub currency: Option<String>,
}

impl From<MoneyInput> for MoneyCommand {
    fn from(money: MoneyInput) -> Self {
        Self {
            amount: money.amount,
            currency: money.currency.unwrap_or_default(),
        }
    }
}

/// Lists a product; listing an SKU again (after delisting) lists the same product.
#[derive(Debug, InputObject)]
pub struct ListProductInput {
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub price: MoneyInput,
}

#[derive(Debug, InputObject)]
pub struct RepriceProductInput {
    pub product_id: ID,
    pub price: MoneyInput,
}

#[derive(Debug, InputObject)]
pub struct ProductIdInput {
    pub product_id: ID,
}

/// What a product mutation changed.
#[derive(Debug, SimpleObject)]
pub struct ProductPayload {
    pub product_id: ID,
    /// The product as the read model shows it after the change.
    pub product: Option<Product>,
}

/// The payload of `product_id` once the products read model shows the change.
pub(super) async fn payload(ctx: &Context<'_>, product_id: String) -> ApiResult<ProductPayload> {
    let (caller, state) = caller::of(ctx);
    rw::wait(ctx, "Product", &product_id, &["products"]).await;
    let scope = caller.scope()?;
    let product = product::find(state.db(), &scope, &product_id).await?;
    Ok(ProductPayload {
        product_id: ID(product_id),
        product,
    })
}

#[Object]
impl ProductMutations {
    /// Lists a product in the catalog; SKUs are unique per tenant.
    async fn list_product(
        &self,
        ctx: &Context<'_>,
        input: ListProductInput,
    ) -> ApiResult<ProductPayload> {
        let (caller, state) = caller::of(ctx);
        let command = ListCommand {
            sku: input.sku,
            name: input.name,
            unit: input.unit,
            price: input.price.into(),
        };
        let id = state
            .commands
            .list_product(&caller.command_context()?, command)
            .await?;
        payload(ctx, id.to_string()).await
    }

    /// Changes the catalog price; submitted orders keep theirs.
    async fn reprice_product(
        &self,
        ctx: &Context<'_>,
        input: RepriceProductInput,
    ) -> ApiResult<ProductPayload> {
        let (caller, state) = caller::of(ctx);
        let product_id = input.product_id.0;
        let command = RepriceCommand {
            product_id: product_id.clone(),
            price: input.price.into(),
        };
        state
            .commands
            .reprice_product(&caller.command_context()?, command)
            .await?;
        payload(ctx, product_id).await
    }

    /// Takes a product out of the catalog: it can no longer be ordered.
    async fn delist_product(
        &self,
        ctx: &Context<'_>,
        input: ProductIdInput,
    ) -> ApiResult<ProductPayload> {
        let (caller, state) = caller::of(ctx);
        let product_id = input.product_id.0;
        let command = DelistCommand {
            product_id: product_id.clone(),
        };
        state
            .commands
            .delist_product(&caller.command_context()?, command)
            .await?;
        payload(ctx, product_id).await
    }
}
