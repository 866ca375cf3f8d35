//! The narrow service through which an aggregate checks rules that span aggregates (DESIGN §2):
//! "is the ordering app enabled on this tenant?", "is this product listed?".
//!
//! The command layer implements it by loading the other aggregates from the event store, so
//! rules are checked against committed state, never against eventually-consistent read models.
//! A decision that reads several aggregates names them all up front ([`Wanted`]) and gets them
//! in one [`Lookup::load`], which a store answers in one round trip; a command names what its
//! decision reads before it runs ([`Needs`]), so that the command layer can read those streams
//! together with the command's own.

use std::collections::{BTreeSet, HashMap};
use std::hash::Hash;
use std::sync::Arc;

use async_trait::async_trait;

use crate::contact::Contact;
use crate::error::DomainError;
use crate::ids::{ContactId, PartnerId, PriceListId, ProductId, TenantId};
use crate::partner::Partner;
use crate::price_list::{ListPrices, PriceList};
use crate::product::Product;
use crate::tenant::Tenant;

/// Each method returns the aggregate's current state; an aggregate with no events comes back as
/// its `Default` (not registered, not recorded, not listed). Only an infrastructure failure is an
/// error (`DomainError::Unavailable` when the store cannot be reached, else `DomainError::Lookup`).
#[async_trait]
pub trait Lookup: Send + Sync {
    async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError>;
    async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError>;
    async fn contact(&self, id: ContactId) -> Result<Contact, DomainError>;
    async fn product(&self, id: ProductId) -> Result<Product, DomainError>;
    async fn price_list(&self, id: PriceListId) -> Result<PriceList, DomainError>;
    /// The prices of product `id` in every list.
    async fn list_prices(&self, id: ProductId) -> Result<ListPrices, DomainError>;

    /// Every aggregate `wanted` names, each as the methods above would answer it. A store
    /// overrides this to read them all at once; by default they are asked one by one.
    async fn load(&self, wanted: &Wanted) -> Result<Found, DomainError> {
        let mut found = Found::default();
        for &id in &wanted.tenants {
            found.tenants.insert(id, self.tenant(id).await?);
        }
        for &id in &wanted.partners {
            found.partners.insert(id, self.partner(id).await?);
        }
        for &id in &wanted.contacts {
            found.contacts.insert(id, self.contact(id).await?);
        }
        for &id in &wanted.products {
            found.products.insert(id, self.product(id).await?);
        }
        for &id in &wanted.price_lists {
            found.price_lists.insert(id, self.price_list(id).await?);
        }
        for &id in &wanted.list_prices {
            found.list_prices.insert(id, self.list_prices(id).await?);
        }
        Ok(found)
    }
}

/// What every aggregate receives as `Aggregate::Services`.
pub type Services = Arc<dyn Lookup>;

/// The aggregates one decision reads, named before it reads any of them. Sets: asking twice
/// for the same aggregate reads it once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Wanted {
    pub tenants: BTreeSet<TenantId>,
    pub partners: BTreeSet<PartnerId>,
    pub contacts: BTreeSet<ContactId>,
    pub products: BTreeSet<ProductId>,
    pub price_lists: BTreeSet<PriceListId>,
    /// Products whose [`ListPrices`] are wanted.
    pub list_prices: BTreeSet<ProductId>,
}

impl Wanted {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn tenant(mut self, id: TenantId) -> Self {
        self.tenants.insert(id);
        self
    }
    pub fn partner(mut self, id: PartnerId) -> Self {
        self.partners.insert(id);
        self
    }
    pub fn contact(mut self, id: ContactId) -> Self {
        self.contacts.insert(id);
        self
    }
    pub fn products(mut self, ids: impl IntoIterator<Item = ProductId>) -> Self {
        self.products.extend(ids);
        self
    }
    pub fn price_list(mut self, id: PriceListId) -> Self {
        self.price_lists.insert(id);
        self
    }
    pub fn price_lists(mut self, ids: impl IntoIterator<Item = PriceListId>) -> Self {
        self.price_lists.extend(ids);
        self
    }
    pub fn list_prices(mut self, ids: impl IntoIterator<Item = ProductId>) -> Self {
        self.list_prices.extend(ids);
        self
    }
    /// Everything either names.
    pub fn and(mut self, other: Wanted) -> Self {
        self.tenants.extend(other.tenants);
        self.partners.extend(other.partners);
        self.contacts.extend(other.contacts);
        self.products.extend(other.products);
        self.price_lists.extend(other.price_lists);
        self.list_prices.extend(other.list_prices);
        self
    }
    /// How many aggregates are named.
    pub fn len(&self) -> usize {
        self.tenants.len()
            + self.partners.len()
            + self.contacts.len()
            + self.products.len()
            + self.price_lists.len()
            + self.list_prices.len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What a [`Lookup::load`] answered: every aggregate that was asked for.
#[derive(Debug, Clone, Default)]
pub struct Found {
    pub tenants: HashMap<TenantId, Tenant>,
    pub partners: HashMap<PartnerId, Partner>,
    pub contacts: HashMap<ContactId, Contact>,
    pub products: HashMap<ProductId, Product>,
    pub price_lists: HashMap<PriceListId, PriceList>,
    pub list_prices: HashMap<ProductId, ListPrices>,
}

/// Asking a [`Found`] for an aggregate that was not in the [`Wanted`] is a bug of ours, not a
/// refusal: it fails like a lookup that could not be answered.
fn asked<'a, K: Eq + Hash + std::fmt::Display, V>(
    map: &'a HashMap<K, V>,
    id: K,
    kind: &str,
) -> Result<&'a V, DomainError> {
    map.get(&id)
        .ok_or_else(|| DomainError::Lookup(format!("{kind} {id} was not asked for")))
}

impl Found {
    pub fn tenant(&self, id: TenantId) -> Result<&Tenant, DomainError> {
        asked(&self.tenants, id, "tenant")
    }
    pub fn partner(&self, id: PartnerId) -> Result<&Partner, DomainError> {
        asked(&self.partners, id, "partner")
    }
    pub fn contact(&self, id: ContactId) -> Result<&Contact, DomainError> {
        asked(&self.contacts, id, "contact")
    }
    pub fn product(&self, id: ProductId) -> Result<&Product, DomainError> {
        asked(&self.products, id, "product")
    }
    pub fn price_list(&self, id: PriceListId) -> Result<&PriceList, DomainError> {
        asked(&self.price_lists, id, "price list")
    }
    pub fn list_prices(&self, id: ProductId) -> Result<&ListPrices, DomainError> {
        asked(&self.list_prices, id, "prices of product")
    }
    /// Adds what `other` found.
    pub fn extend(&mut self, other: Found) {
        self.tenants.extend(other.tenants);
        self.partners.extend(other.partners);
        self.contacts.extend(other.contacts);
        self.products.extend(other.products);
        self.price_lists.extend(other.price_lists);
        self.list_prices.extend(other.list_prices);
    }
}

/// A command that names, before it runs, the other aggregates its decision may read. The
/// command layer reads them together with the command's own stream; anything the decision asks
/// for beyond them is still answered, one more round trip each.
pub trait Needs {
    fn needs(&self) -> Wanted;
}

/// A command addressed to an aggregate inside one tenant. The aggregate refuses it with
/// `NOT_FOUND` when it belongs to another tenant, so no caller can reach across tenants by id.
#[derive(Debug, Clone, PartialEq)]
pub struct Scoped<C> {
    pub tenant_id: TenantId,
    pub command: C,
}

impl<C> Scoped<C> {
    pub fn new(tenant_id: TenantId, command: C) -> Self {
        Self { tenant_id, command }
    }
}
