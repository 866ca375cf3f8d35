use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{ProductCommand, ProductEvent};
use crate::error::DomainError;
use crate::ids::TenantId;
use crate::lookup::{Scoped, Services};
use crate::values::{Category, Money, Name, QuantityRules, Sku, Unit};

/// What the catalog says about a product; `None` fields until it is first listed.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Product {
    tenant_id: Option<TenantId>,
    sku: Option<Sku>,
    name: Option<Name>,
    unit: Option<Unit>,
    price: Option<Money>,
    listed: bool,
    category: Option<Category>,
    rules: QuantityRules,
    version: u64,
}

/// A listed product as an order line sees it: everything needed to price and describe the line.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogEntry<'a> {
    pub sku: &'a Sku,
    pub name: &'a Name,
    pub unit: &'a Unit,
    pub price: Money,
    pub category: Option<&'a Category>,
    pub rules: QuantityRules,
}

impl Product {
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn is_listed(&self) -> bool {
        self.listed
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    pub fn price(&self) -> Option<Money> {
        self.price
    }
    pub fn sku(&self) -> Option<&Sku> {
        self.sku.as_ref()
    }
    pub fn category(&self) -> Option<&Category> {
        self.category.as_ref()
    }
    pub fn quantity_rules(&self) -> QuantityRules {
        self.rules
    }

    /// The catalog entry if the product is listed in `tenant`'s catalog.
    pub fn listed_in(&self, tenant: TenantId) -> Option<CatalogEntry<'_>> {
        if !self.listed || self.tenant_id != Some(tenant) {
            return None;
        }
        match (&self.sku, &self.name, &self.unit, self.price) {
            (Some(sku), Some(name), Some(unit), Some(price)) => Some(CatalogEntry {
                sku,
                name,
                unit,
                price,
                category: self.category.as_ref(),
                rules: self.rules,
            }),
            _ => None,
        }
    }

    fn require_known(&self, tenant: TenantId) -> Result<(), DomainError> {
        if self.tenant_id == Some(tenant) {
            Ok(())
        } else {
            Err(DomainError::NotFound { what: "product" })
        }
    }
}

impl Aggregate for Product {
    const TYPE: &'static str = "Product";
    type Command = Scoped<ProductCommand>;
    type Event = ProductEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use ProductCommand as C;
        use ProductEvent as E;
        let tenant = scoped.tenant_id;
        let event = match scoped.command {
            C::ListProduct {
                sku,
                name,
                unit,
                price,
            } => {
                if self.tenant_id.is_some() && self.tenant_id != Some(tenant) {
                    return Err(DomainError::NotFound { what: "product" });
                }
                if self.listed {
                    return Err(DomainError::DuplicateSku {
                        sku: sku.as_str().to_owned(),
                    });
                }
                if !services.tenant(tenant).await?.is_registered() {
                    return Err(DomainError::NotFound { what: "tenant" });
                }
                // A delisted product may be listed again under its SKU.
                E::ProductListed {
                    tenant_id: tenant,
                    sku,
                    name,
                    unit,
                    price,
                }
            }
            C::RepriceProduct { price } => {
                self.require_known(tenant)?;
                if !self.listed {
                    return Err(DomainError::invalid_state(
                        "a delisted product cannot be repriced",
                    ));
                }
                if self.price == Some(price) {
                    return Ok(());
                }
                E::ProductRepriced { price }
            }
            C::DelistProduct => {
                self.require_known(tenant)?;
                if !self.listed {
                    return Ok(());
                }
                E::ProductDelisted
            }
            // Both may be set on a delisted product, ready for when it is listed again.
            C::CategorizeProduct { category } => {
                self.require_known(tenant)?;
                if self.category == category {
                    return Ok(());
                }
                E::ProductCategorized { category }
            }
            C::SetQuantityRules { rules } => {
                self.require_known(tenant)?;
                if self.rules == rules {
                    return Ok(());
                }
                E::ProductQuantityRulesSet { rules }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use ProductEvent as E;
        self.version += 1;
        match event {
            E::ProductListed {
                tenant_id,
                sku,
                name,
                unit,
                price,
            } => {
                self.tenant_id = Some(tenant_id);
                self.sku = Some(sku);
                self.name = Some(name);
                self.unit = Some(unit);
                self.price = Some(price);
                self.listed = true;
            }
            E::ProductRepriced { price } => self.price = Some(price),
            E::ProductDelisted => self.listed = false,
            E::ProductCategorized { category } => self.category = category,
            E::ProductQuantityRulesSet { rules } => self.rules = rules,
        }
    }
}
