//! The domain's `Lookup`, answered from the event store: the named aggregates are loaded from
//! their committed events, all those of one [`Lookup::load`] in one statement
//! ([`dinghuo_store::streams`]). Never from read models, which may lag behind the log.
//!
//! A command's lookup starts with the streams read before it ran (its own and those it
//! [`Needs`](dinghuo_domain::Needs)), answers from them without a round trip, and reads what
//! else the decision asks for.
//!
//! The race that remains: between the lookup and the commit of the command that relied on it,
//! another command may change the looked-up aggregate (a partner suspended while an order is
//! being submitted). The order then commits against state that was true a moment earlier, the
//! same guarantee a human clerk gives; the log shows both events in commit order.

use std::sync::Arc;

use async_trait::async_trait;
use cqrs_es::{Aggregate, AggregateError};
use dinghuo_domain::contact::Contact;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::price_list::{ListPrices, PriceList};
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::{
    ContactId, DomainError, Found, Lookup, PartnerId, PriceListId, ProductId, TenantId, Wanted,
};
use dinghuo_store::streams::{LoadError, StreamId, Streams};
use dinghuo_store::Database;

use crate::error::CommandError;

pub struct EventStoreLookup {
    db: Database,
    /// Streams read before the decision asked (empty for a lookup outside a command).
    read: Arc<Streams>,
}

impl EventStoreLookup {
    pub fn new(db: &Database) -> Self {
        Self::with_read(db, Arc::new(Streams::default()))
    }

    /// A lookup that answers from `read` whatever it holds.
    pub fn with_read(db: &Database, read: Arc<Streams>) -> Self {
        Self {
            db: db.clone(),
            read,
        }
    }

    /// [`Lookup::load`], handing back what was read with what was found, so that a command
    /// deciding next on these aggregates reads none of them again.
    pub async fn load_keeping(&self, wanted: &Wanted) -> Result<(Found, Streams), DomainError> {
        let mut streams = Streams::default();
        streams
            .load(&self.db, stream_ids(wanted).filter(|s| !self.read.holds(s)))
            .await
            .map_err(load_failed)?;
        let found = found(wanted, &[&self.read, &streams]).await?;
        Ok((found, streams))
    }
}

/// The streams of every aggregate `wanted` names.
pub(crate) fn stream_ids(wanted: &Wanted) -> impl Iterator<Item = StreamId> + '_ {
    let tenants = wanted.tenants.iter().map(StreamId::of::<Tenant>);
    let partners = wanted.partners.iter().map(StreamId::of::<Partner>);
    let contacts = wanted.contacts.iter().map(StreamId::of::<Contact>);
    let products = wanted.products.iter().map(StreamId::of::<Product>);
    let lists = wanted.price_lists.iter().map(StreamId::of::<PriceList>);
    let prices = wanted
        .list_prices
        .iter()
        .map(|product| StreamId::of::<ListPrices>(product.list_prices_id()));
    tenants
        .chain(partners)
        .chain(contacts)
        .chain(products)
        .chain(lists)
        .chain(prices)
}

/// A read that failed: the store could not be reached (worth a retry), or failed otherwise.
fn load_failed(error: LoadError) -> DomainError {
    let detail = error.to_string();
    match error {
        LoadError::Database(error) => match CommandError::from(error) {
            CommandError::Unavailable(_) => DomainError::Unavailable(detail),
            _ => DomainError::Lookup(detail),
        },
        LoadError::TooMany { .. } => DomainError::Lookup(detail),
    }
}

/// Aggregate `id` from the first of `sources` that holds its stream.
async fn aggregate<A>(sources: &[&Streams], id: String) -> Result<A, DomainError>
where
    A: Aggregate<Error = DomainError>,
{
    for source in sources {
        let Some(loaded) = source.aggregate::<A>(&id).await else {
            continue;
        };
        return match loaded {
            Ok(context) => Ok(context.aggregate),
            Err(AggregateError::UserError(error)) => Err(error),
            Err(other) => {
                let detail = format!("{} {id}: {other}", A::TYPE);
                // The store could not be reached: worth a retry, unlike an unreadable event.
                Err(match CommandError::from(other) {
                    CommandError::Unavailable(_) => DomainError::Unavailable(detail),
                    _ => DomainError::Lookup(detail),
                })
            }
        };
    }
    Err(DomainError::Lookup(format!(
        "{} {id} was not read",
        A::TYPE
    )))
}

/// Every aggregate `wanted` names, from `sources`, which hold all their streams.
async fn found(wanted: &Wanted, sources: &[&Streams]) -> Result<Found, DomainError> {
    let mut found = Found::default();
    for &id in &wanted.tenants {
        found
            .tenants
            .insert(id, aggregate(sources, id.to_string()).await?);
    }
    for &id in &wanted.partners {
        found
            .partners
            .insert(id, aggregate(sources, id.to_string()).await?);
    }
    for &id in &wanted.contacts {
        found
            .contacts
            .insert(id, aggregate(sources, id.to_string()).await?);
    }
    for &id in &wanted.products {
        found
            .products
            .insert(id, aggregate(sources, id.to_string()).await?);
    }
    for &id in &wanted.price_lists {
        found
            .price_lists
            .insert(id, aggregate(sources, id.to_string()).await?);
    }
    for &id in &wanted.list_prices {
        let stream = id.list_prices_id().to_string();
        found
            .list_prices
            .insert(id, aggregate(sources, stream).await?);
    }
    Ok(found)
}

#[async_trait]
impl Lookup for EventStoreLookup {
    async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError> {
        let mut found = self.load(&Wanted::new().tenant(id)).await?;
        found.tenants.remove(&id).ok_or_else(|| not_found_back(id))
    }
    async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError> {
        let mut found = self.load(&Wanted::new().partner(id)).await?;
        found.partners.remove(&id).ok_or_else(|| not_found_back(id))
    }
    async fn contact(&self, id: ContactId) -> Result<Contact, DomainError> {
        let mut found = self.load(&Wanted::new().contact(id)).await?;
        found.contacts.remove(&id).ok_or_else(|| not_found_back(id))
    }
    async fn product(&self, id: ProductId) -> Result<Product, DomainError> {
        let mut found = self.load(&Wanted::new().products([id])).await?;
        found.products.remove(&id).ok_or_else(|| not_found_back(id))
    }
    async fn price_list(&self, id: PriceListId) -> Result<PriceList, DomainError> {
        let mut found = self.load(&Wanted::new().price_list(id)).await?;
        found
            .price_lists
            .remove(&id)
            .ok_or_else(|| not_found_back(id))
    }
    async fn list_prices(&self, id: ProductId) -> Result<ListPrices, DomainError> {
        let mut found = self.load(&Wanted::new().list_prices([id])).await?;
        found
            .list_prices
            .remove(&id)
            .ok_or_else(|| not_found_back(id))
    }

    async fn load(&self, wanted: &Wanted) -> Result<Found, DomainError> {
        self.load_keeping(wanted).await.map(|(found, _)| found)
    }
}

/// `found` answers every aggregate asked for; one missing is a bug of ours.
fn not_found_back(id: impl std::fmt::Display) -> DomainError {
    DomainError::Lookup(format!("{id} was asked for and not answered"))
}
