//! An in-memory [`Lookup`] for tests: aggregates are built by folding the events a test gives,
//! exactly as the event store would.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use cqrs_es::Aggregate;

use crate::contact::{Contact, ContactEvent};
use crate::error::DomainError;
use crate::ids::{ContactId, PartnerId, PriceListId, ProductId, TenantId};
use crate::lookup::{Lookup, Services};
use crate::partner::{Partner, PartnerEvent};
use crate::price_list::{ListPrices, ListPricesEvent, PriceList, PriceListEvent};
use crate::product::{Product, ProductEvent};
use crate::tenant::{Tenant, TenantEvent};

#[derive(Default)]
struct State {
    tenants: HashMap<TenantId, Tenant>,
    partners: HashMap<PartnerId, Partner>,
    contacts: HashMap<ContactId, Contact>,
    products: HashMap<ProductId, Product>,
    price_lists: HashMap<PriceListId, PriceList>,
    list_prices: HashMap<ProductId, ListPrices>,
}

/// A lookup whose world is whatever the test put into it.
#[derive(Clone, Default)]
pub struct InMemoryLookup {
    state: Arc<Mutex<State>>,
}

fn fold<A: Aggregate>(aggregate: &mut A, events: impl IntoIterator<Item = A::Event>) {
    for event in events {
        aggregate.apply(event);
    }
}

impl InMemoryLookup {
    pub fn new() -> Self {
        Self::default()
    }

    /// This lookup as the `Services` an aggregate takes.
    pub fn services(&self) -> Services {
        Arc::new(self.clone())
    }

    fn with<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    pub fn tenant(self, id: TenantId, events: impl IntoIterator<Item = TenantEvent>) -> Self {
        self.with(|s| fold(s.tenants.entry(id).or_default(), events));
        self
    }
    pub fn partner(self, id: PartnerId, events: impl IntoIterator<Item = PartnerEvent>) -> Self {
        self.with(|s| fold(s.partners.entry(id).or_default(), events));
        self
    }
    pub fn contact(self, id: ContactId, events: impl IntoIterator<Item = ContactEvent>) -> Self {
        self.with(|s| fold(s.contacts.entry(id).or_default(), events));
        self
    }
    pub fn product(self, id: ProductId, events: impl IntoIterator<Item = ProductEvent>) -> Self {
        self.with(|s| fold(s.products.entry(id).or_default(), events));
        self
    }
    pub fn price_list(
        self,
        id: PriceListId,
        events: impl IntoIterator<Item = PriceListEvent>,
    ) -> Self {
        self.with(|s| fold(s.price_lists.entry(id).or_default(), events));
        self
    }
    /// Prices of product `id`.
    pub fn list_prices(
        self,
        id: ProductId,
        events: impl IntoIterator<Item = ListPricesEvent>,
    ) -> Self {
        self.with(|s| fold(s.list_prices.entry(id).or_default(), events));
        self
    }
}

#[async_trait]
impl Lookup for InMemoryLookup {
    async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError> {
        Ok(self.with(|s| s.tenants.get(&id).cloned().unwrap_or_default()))
    }
    async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError> {
        Ok(self.with(|s| s.partners.get(&id).cloned().unwrap_or_default()))
    }
    async fn contact(&self, id: ContactId) -> Result<Contact, DomainError> {
        Ok(self.with(|s| s.contacts.get(&id).cloned().unwrap_or_default()))
    }
    async fn product(&self, id: ProductId) -> Result<Product, DomainError> {
        Ok(self.with(|s| s.products.get(&id).cloned().unwrap_or_default()))
    }
    async fn price_list(&self, id: PriceListId) -> Result<PriceList, DomainError> {
        Ok(self.with(|s| s.price_lists.get(&id).cloned().unwrap_or_default()))
    }
    async fn list_prices(&self, id: ProductId) -> Result<ListPrices, DomainError> {
        Ok(self.with(|s| s.list_prices.get(&id).cloned().unwrap_or_default()))
    }
}
