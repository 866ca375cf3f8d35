//! The domain's `Lookup`, answered from the event store: each call loads the named aggregate from
//! its committed events. Never from read models, which may lag behind the log.
//!
//! The race that remains: between the lookup and the commit of the command that relied on it,
//! another command may change the looked-up aggregate (a partner suspended while an order is
//! being submitted). The order then commits against state that was true a moment earlier, the
//! same guarantee a human clerk gives; the log shows both events in commit order.

use async_trait::async_trait;
use cqrs_es::{Aggregate, AggregateError};
use dinghuo_domain::contact::Contact;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::{ContactId, DomainError, Lookup, PartnerId, ProductId, TenantId};
use dinghuo_store::Database;

use crate::error::CommandError;
use crate::store::EventLoader;

pub struct EventStoreLookup {
    tenants: EventLoader<Tenant>,
    partners: EventLoader<Partner>,
    contacts: EventLoader<Contact>,
    products: EventLoader<Product>,
}

impl EventStoreLookup {
    pub fn new(db: &Database) -> Self {
        Self {
            tenants: EventLoader::new(db),
            partners: EventLoader::new(db),
            contacts: EventLoader::new(db),
            products: EventLoader::new(db),
        }
    }
}

async fn load<A>(store: &EventLoader<A>, id: String) -> Result<A, DomainError>
where
    A: Aggregate<Error = DomainError>,
{
    match store.load(&id).await {
        Ok(loaded) => Ok(loaded.aggregate),
        Err(AggregateError::UserError(error)) => Err(error),
        Err(other) => {
            let detail = format!("{} {id}: {other}", A::TYPE);
            // The store could not be reached: worth a retry, unlike an unreadable event.
            Err(match CommandError::from(other) {
                CommandError::Unavailable(_) => DomainError::Unavailable(detail),
                _ => DomainError::Lookup(detail),
            })
        }
    }
}

#[async_trait]
impl Lookup for EventStoreLookup {
    async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError> {
        load(&self.tenants, id.to_string()).await
    }
    async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError> {
        load(&self.partners, id.to_string()).await
    }
    async fn contact(&self, id: ContactId) -> Result<Contact, DomainError> {
        load(&self.contacts, id.to_string()).await
    }
    async fn product(&self, id: ProductId) -> Result<Product, DomainError> {
        load(&self.products, id.to_string()).await
    }
}
