//! Entry points of dealer price lists: a list's terms on its `PriceList`, its prices on the
//! `ListPrices` of each product, and the tenant's index of lists a submission reads.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use dinghuo_domain::price_list::{check_validity, ListPricesCommand, PriceListCommand};
use dinghuo_domain::tenant::TenantCommand;
use dinghuo_domain::{
    Level, Name, PartnerId, PriceListId, PriceListScope, Priority, ProductId, Quantity, Scoped,
    TenantId, ValidationError, MAX_SCOPE_LEVELS, MAX_SCOPE_PARTNERS,
};
use uuid::Uuid;

use super::product::{product_ref, MoneyInput};
use super::{authorize, own_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

/// Which partners a list prices for: `kind` is `ALL`, `LEVELS` (with `levels`) or `PARTNERS`
/// (with `partner_ids`).
#[derive(Debug, Clone, Default)]
pub struct PriceListScopeInput {
    pub kind: String,
    pub levels: Vec<String>,
    pub partner_ids: Vec<String>,
}

impl PriceListScopeInput {
    fn parse(&self, field: &str) -> Result<PriceListScope, CommandError> {
        match self.kind.trim() {
            "ALL" => Ok(PriceListScope::All),
            "LEVELS" => {
                if self.levels.len() > MAX_SCOPE_LEVELS {
                    return Err(ValidationError::new(
                        format!("{field}.levels"),
                        "name 1 to 50 levels",
                    )
                    .into());
                }
                let levels = self
                    .levels
                    .iter()
                    .enumerate()
                    .map(|(i, text)| {
                        Level::parse(text).map_err(|e| e.at(format!("{field}.levels[{i}]")))
                    })
                    .collect::<Result<BTreeSet<_>, _>>()?;
                Ok(PriceListScope::levels(levels).map_err(|e| e.at(format!("{field}.levels")))?)
            }
            "PARTNERS" => {
                if self.partner_ids.len() > MAX_SCOPE_PARTNERS {
                    return Err(ValidationError::new(
                        format!("{field}.partnerIds"),
                        "name 1 to 500 partners; beyond that, give them a level",
                    )
                    .into());
                }
                let partners = self
                    .partner_ids
                    .iter()
                    .enumerate()
                    .map(|(i, text)| PartnerId::parse(text, &format!("{field}.partnerIds[{i}]")))
                    .collect::<Result<BTreeSet<_>, _>>()?;
                Ok(PriceListScope::partners(partners)
                    .map_err(|e| e.at(format!("{field}.partnerIds")))?)
            }
            _ => Err(ValidationError::new(
                format!("{field}.kind"),
                "unknown value; expected one of ALL, LEVELS, PARTNERS",
            )
            .into()),
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct CreatePriceListInput {
    pub name: String,
    /// 0 to 1000; the higher wins.
    pub priority: i64,
    /// Absent: the list prices for nobody until its scope is set.
    pub scope: Option<PriceListScopeInput>,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct SetPriceListValidityInput {
    pub price_list_id: String,
    pub valid_from: Option<DateTime<Utc>>,
    pub valid_to: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Default)]
pub struct SetPriceListScopeInput {
    pub price_list_id: String,
    pub scope: PriceListScopeInput,
}

#[derive(Debug, Clone, Default)]
pub struct PriceListRefInput {
    pub price_list_id: String,
}

/// A price of one product (by id, or by SKU) in one list, from `min_quantity` (default 1, the
/// base price) up.
#[derive(Debug, Clone, Default)]
pub struct SetPriceInput {
    pub price_list_id: String,
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub min_quantity: Option<i64>,
    pub unit_price: MoneyInput,
}

#[derive(Debug, Clone, Default)]
pub struct RemovePriceInput {
    pub price_list_id: String,
    pub product_id: Option<String>,
    pub sku: Option<String>,
    pub min_quantity: Option<i64>,
}

/// Which list's price of which product (named by id, or by SKU) a price input means.
fn price_of(
    tenant: TenantId,
    price_list_id: &str,
    product_id: &Option<String>,
    sku: &Option<String>,
) -> Result<(PriceListId, ProductId), CommandError> {
    let list = PriceListId::parse(price_list_id, "priceListId")?;
    let product = product_ref(tenant, product_id.as_deref(), sku.as_deref(), "input")?;
    Ok((list, product))
}

fn min_quantity(value: Option<i64>) -> Result<Quantity, ValidationError> {
    Quantity::parse(value.unwrap_or(1), "minQuantity")
}

impl Commands {
    /// Creates a price list; answers its id. The tenant's index names the list first, so that
    /// a list is never created without every submission finding it.
    pub async fn create_price_list(
        &self,
        ctx: &RequestContext,
        input: CreatePriceListInput,
    ) -> Result<PriceListId, CommandError> {
        authorize(ctx, CommandName::CreatePriceList)?;
        let tenant = own_tenant(ctx)?;
        // Checked here too, before the index is touched: a refusal appends nothing.
        check_validity(input.valid_from, input.valid_to)?;
        let command = PriceListCommand::CreatePriceList {
            name: Name::parse(&input.name)?,
            priority: Priority::parse(input.priority, "priority")?,
            scope: input
                .scope
                .as_ref()
                .map(|scope| scope.parse("scope"))
                .transpose()?,
            from: input.valid_from,
            to: input.valid_to,
        };
        let id = PriceListId::from_uuid(Uuid::now_v7());
        let index = TenantCommand::IndexPriceList { price_list_id: id };
        self.run(&self.tenants, ctx, tenant, tenant.to_string(), index)
            .await?;
        let created = self.price_list_command(ctx, tenant, id, command).await;
        if created.is_err() {
            // Not created: take it out of the index again (were this to fail too, the list
            // would only take a place in the index: it prices nothing).
            let unindex = TenantCommand::UnindexPriceList { price_list_id: id };
            let _ = self
                .run(&self.tenants, ctx, tenant, tenant.to_string(), unindex)
                .await;
        }
        created.map(|()| id)
    }

    pub async fn set_price_list_validity(
        &self,
        ctx: &RequestContext,
        input: SetPriceListValidityInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SetPriceListValidity)?;
        let tenant = own_tenant(ctx)?;
        let id = PriceListId::parse(&input.price_list_id, "priceListId")?;
        let command = PriceListCommand::SetPriceListValidity {
            from: input.valid_from,
            to: input.valid_to,
        };
        self.price_list_command(ctx, tenant, id, command).await
    }

    pub async fn set_price_list_scope(
        &self,
        ctx: &RequestContext,
        input: SetPriceListScopeInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SetPriceListScope)?;
        let tenant = own_tenant(ctx)?;
        let id = PriceListId::parse(&input.price_list_id, "priceListId")?;
        let scope = input.scope.parse("scope")?;
        let command = PriceListCommand::SetPriceListScope { scope };
        self.price_list_command(ctx, tenant, id, command).await
    }

    /// Archives a list (it never prices again), then takes it out of the tenant's index.
    /// Archiving an archived list only finishes that second step.
    pub async fn archive_price_list(
        &self,
        ctx: &RequestContext,
        input: PriceListRefInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ArchivePriceList)?;
        let tenant = own_tenant(ctx)?;
        let id = PriceListId::parse(&input.price_list_id, "priceListId")?;
        self.price_list_command(ctx, tenant, id, PriceListCommand::ArchivePriceList)
            .await?;
        let unindex = TenantCommand::UnindexPriceList { price_list_id: id };
        self.run(&self.tenants, ctx, tenant, tenant.to_string(), unindex)
            .await
    }

    pub async fn set_price(
        &self,
        ctx: &RequestContext,
        input: SetPriceInput,
    ) -> Result<ProductId, CommandError> {
        authorize(ctx, CommandName::SetPrice)?;
        let tenant = own_tenant(ctx)?;
        let (price_list_id, product_id) =
            price_of(tenant, &input.price_list_id, &input.product_id, &input.sku)?;
        let command = ListPricesCommand::SetPrice {
            price_list_id,
            product_id,
            min_quantity: min_quantity(input.min_quantity)?,
            unit_price: input.unit_price.parse("unitPrice")?,
        };
        self.list_prices_command(ctx, tenant, command).await?;
        Ok(product_id)
    }

    pub async fn remove_price(
        &self,
        ctx: &RequestContext,
        input: RemovePriceInput,
    ) -> Result<ProductId, CommandError> {
        authorize(ctx, CommandName::RemovePrice)?;
        let tenant = own_tenant(ctx)?;
        let (price_list_id, product_id) =
            price_of(tenant, &input.price_list_id, &input.product_id, &input.sku)?;
        let command = ListPricesCommand::RemovePrice {
            price_list_id,
            product_id,
            min_quantity: min_quantity(input.min_quantity)?,
        };
        self.list_prices_command(ctx, tenant, command).await?;
        Ok(product_id)
    }

    async fn price_list_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: PriceListId,
        command: PriceListCommand,
    ) -> Result<(), CommandError> {
        let scoped = Scoped::new(tenant, command);
        self.run(&self.price_lists, ctx, tenant, id.to_string(), scoped)
            .await
    }

    async fn list_prices_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        command: ListPricesCommand,
    ) -> Result<(), CommandError> {
        let stream = command.product_id().list_prices_id().to_string();
        let scoped = Scoped::new(tenant, command);
        self.run(&self.list_prices, ctx, tenant, stream, scoped)
            .await
    }
}
