//! Entry points of the catalog.

use dinghuo_domain::product::ProductCommand;
use dinghuo_domain::{
    Category, Currency, Money, Name, ProductId, Quantity, QuantityRules, Scoped, Sku, TenantId,
    Unit,
};

use super::{authorize, optional, own_tenant, Commands};
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

    pub(crate) fn parse(&self, field: &str) -> Result<Money, CommandError> {
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

#[derive(Debug, Clone, Default)]
pub struct CategorizeProductInput {
    pub product_id: String,
    /// Absent or blank takes the product out of its category.
    pub category: Option<String>,
}

/// Every rule optional; none lifts the rules.
#[derive(Debug, Clone, Default)]
pub struct SetQuantityRulesInput {
    pub product_id: String,
    pub min: Option<i64>,
    pub multiple: Option<i64>,
    pub max: Option<i64>,
}

/// A product named by id or, failing that, by SKU (unique per tenant).
pub(crate) fn product_ref(
    tenant: TenantId,
    product_id: Option<&str>,
    sku: Option<&str>,
    field: &str,
) -> Result<ProductId, CommandError> {
    match (product_id.map(str::trim), sku.map(str::trim)) {
        (Some(id), _) if !id.is_empty() => Ok(ProductId::parse(id, &format!("{field}.productId"))?),
        (_, Some(sku)) if !sku.is_empty() => {
            let sku = Sku::parse(sku).map_err(|e| e.at(format!("{field}.sku")))?;
            Ok(ProductId::for_sku(tenant, &sku))
        }
        _ => Err(dinghuo_domain::ValidationError::new(
            format!("{field}.productId"),
            "name the product by productId or sku",
        )
        .into()),
    }
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

    pub async fn categorize_product(
        &self,
        ctx: &RequestContext,
        input: CategorizeProductInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::CategorizeProduct)?;
        let tenant = own_tenant(ctx)?;
        let id = ProductId::parse(&input.product_id, "productId")?;
        let category = optional(input.category.as_deref(), Category::parse)?;
        let command = ProductCommand::CategorizeProduct { category };
        self.product_command(ctx, tenant, id, command).await
    }

    pub async fn set_quantity_rules(
        &self,
        ctx: &RequestContext,
        input: SetQuantityRulesInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SetQuantityRules)?;
        let tenant = own_tenant(ctx)?;
        let id = ProductId::parse(&input.product_id, "productId")?;
        let rule = |value: Option<i64>, field: &str| {
            value.map(|value| Quantity::parse(value, field)).transpose()
        };
        let rules = QuantityRules::new(
            rule(input.min, "min")?,
            rule(input.multiple, "multiple")?,
            rule(input.max, "max")?,
        )?;
        let command = ProductCommand::SetQuantityRules { rules };
        self.product_command(ctx, tenant, id, command).await
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
