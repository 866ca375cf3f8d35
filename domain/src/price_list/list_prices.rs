use std::collections::BTreeMap;

use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{ListPricesCommand, ListPricesEvent};
use crate::error::DomainError;
use crate::ids::{PriceListId, ProductId, TenantId};
use crate::lookup::{Scoped, Services, Wanted};
use crate::values::{Money, Quantity};

/// One list's prices of one product: unit price by the least quantity it applies from.
pub type Breaks = BTreeMap<Quantity, Money>;

/// One product's prices in every price list of its tenant. Its stream's id is
/// `ProductId::list_prices_id` of the product.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ListPrices {
    tenant_id: Option<TenantId>,
    product_id: Option<ProductId>,
    /// Lists without a price left are removed.
    lists: BTreeMap<PriceListId, Breaks>,
    version: u64,
}

impl ListPrices {
    /// The most prices (base and volume breaks) one list has for one product.
    pub const MAX_BREAKS: usize = 20;

    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn version(&self) -> u64 {
        self.version
    }
    /// The product's prices in `list`, if it has any.
    pub fn in_list(&self, list: PriceListId) -> Option<&Breaks> {
        self.lists.get(&list)
    }
    /// Every list that has a price for the product.
    pub fn lists(&self) -> impl Iterator<Item = (PriceListId, &Breaks)> {
        self.lists.iter().map(|(id, breaks)| (*id, breaks))
    }
}

impl Aggregate for ListPrices {
    const TYPE: &'static str = "ListPrices";
    type Command = Scoped<ListPricesCommand>;
    type Event = ListPricesEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use ListPricesCommand as C;
        use ListPricesEvent as E;
        let tenant = scoped.tenant_id;
        let list_id = scoped.command.price_list_id();
        let product_id = scoped.command.product_id();
        if self.tenant_id.is_some_and(|owner| owner != tenant)
            || self.product_id.is_some_and(|own| own != product_id)
        {
            return Err(DomainError::NotFound { what: "product" });
        }
        let found = services
            .load(&Wanted::new().price_list(list_id).products([product_id]))
            .await?;
        let list = found.price_list(list_id)?;
        if list.tenant_id() != Some(tenant) {
            return Err(DomainError::NotFound { what: "price list" });
        }
        if found.product(product_id)?.tenant_id() != Some(tenant) {
            return Err(DomainError::NotFound { what: "product" });
        }
        let breaks = self.lists.get(&list_id);
        let event = match scoped.command {
            C::SetPrice {
                min_quantity,
                unit_price,
                ..
            } => {
                if list.is_archived() {
                    return Err(DomainError::invalid_state("the price list is archived"));
                }
                let current = breaks.and_then(|breaks| breaks.get(&min_quantity));
                if current == Some(&unit_price) {
                    return Ok(());
                }
                let count = breaks.map_or(0, BTreeMap::len);
                if current.is_none() && count >= Self::MAX_BREAKS {
                    return Err(DomainError::invalid_state(
                        "a product has at most 20 prices in one list; remove one first",
                    ));
                }
                E::PriceSet {
                    tenant_id: tenant,
                    price_list_id: list_id,
                    product_id,
                    min_quantity,
                    unit_price,
                }
            }
            // Removing what is not there is done already; allowed on an archived list, whose
            // prices no longer apply anyway.
            C::RemovePrice { min_quantity, .. } => {
                if breaks.is_none_or(|breaks| !breaks.contains_key(&min_quantity)) {
                    return Ok(());
                }
                E::PriceRemoved {
                    price_list_id: list_id,
                    product_id,
                    min_quantity,
                }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use ListPricesEvent as E;
        self.version += 1;
        match event {
            E::PriceSet {
                tenant_id,
                price_list_id,
                product_id,
                min_quantity,
                unit_price,
            } => {
                self.tenant_id = Some(tenant_id);
                self.product_id = Some(product_id);
                self.lists
                    .entry(price_list_id)
                    .or_default()
                    .insert(min_quantity, unit_price);
            }
            E::PriceRemoved {
                price_list_id,
                min_quantity,
                ..
            } => {
                if let Some(breaks) = self.lists.get_mut(&price_list_id) {
                    breaks.remove(&min_quantity);
                    if breaks.is_empty() {
                        self.lists.remove(&price_list_id);
                    }
                }
            }
        }
    }
}
