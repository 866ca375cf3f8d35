//! Entry points of the catalog.

use dinghuo_domain::product::ProductCommand;
use dinghuo_domain::{Currency, Money, Name, ProductId, Scoped, Sku, TenantId, Unit};

use super::{authorize, own_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

/// Money as the API carries it: a decimal string and an ISO currency.
#[derive(Debug, Clone, Default)]
pub struct MoneyInput {
    /// "1234.50": at most two decimals, never a float.
    pub amount: String,
    /// "CNY"; empty means CNY.
    pub currency: String,
}

impl MoneyInput {
    pub fn cny(amount: impl Into<String>) -> Self {
        Self {
            amount: amount.into(),
            currency: "CNY".into(),
        }
    }

    fn parse(&self, field: &str) -> Result<Money, CommandError> {
        let currency = match self.currency.trim() {
            "" => Currency::CNY,
            text => Currency::parse(text, &format!("{field}.currency"))?,
        };
        Ok(Money::parse_decimal(
            &self.amount,
            currency,
            &format!("{field}.amount"),
        )?)
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListProductInput {
    pub sku: String,
    pub name: String,
    pub unit: String,
    pub price: MoneyInput,
}

#[derive(Debug, Clone, Default)]
pub struct RepriceProductInput {
    pub product_id: String,
    pub price: MoneyInput,
}

#[derive(Debug, Clone, Default)]
pub struct DelistProductInput {
    pub product_id: String,
}

impl Commands {
    /// Lists a product; answers its id, which is derived from the tenant and the SKU.
    pub async fn list_product(
        &self,
        ctx: &RequestContext,
        input: ListProductInput,
    ) -> Result<ProductId, CommandError> {
        authorize(ctx, CommandName::ListProduct)?;
        let tenant = own_tenant(ctx)?;
        let sku = Sku::parse(&input.sku)?;
        let id = ProductId::for_sku(tenant, &sku);
        let command = ProductCommand::ListProduct {
            sku,
            name: Name::parse(&input.name)?,
            unit: Unit::parse(&input.unit)?,
            price: input.price.parse("price")?,
        };
        self.product_command(ctx, tenant, id, command).await?;
        Ok(id)
    }

    pub async fn reprice_product(
        &self,
        ctx: &RequestContext,
        input: RepriceProductInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::RepriceProduct)?;
        let tenant = own_tenant(ctx)?;
        let id = ProductId::parse(&input.product_id, "productId")?;
        let price = input.price.parse("price")?;
        self.product_command(ctx, tenant, id, ProductCommand::RepriceProduct { price })
            .await
    }

    pub async fn delist_product(
        &self,
        ctx: &RequestContext,
        input: DelistProductInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::DelistProduct)?;
        let tenant = own_tenant(ctx)?;
        let id = ProductId::parse(&input.product_id, "productId")?;
        self.product_command(ctx, tenant, id, ProductCommand::DelistProduct)
            .await
    }

    async fn product_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: ProductId,
        command: ProductCommand,
    ) -> Result<(), CommandError> {
        let scoped = Scoped::new(tenant, command);
        self.run(&self.products, ctx, tenant, id.to_string(), scoped)
            .await
    }
}
