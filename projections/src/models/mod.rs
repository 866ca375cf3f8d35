//! The read models, one file each. [`all`] lists every projection the service runs.

mod contacts;
pub(crate) mod event;
mod members;
mod onboarding;
mod orders;
mod partners;
mod price_lists;
mod products;
mod submissions;
mod tenants;

use std::sync::Arc;

pub use contacts::ContactsProjection;
pub use members::MembersProjection;
pub use onboarding::OnboardingProjection;
pub use orders::{sales_day, OrdersProjection};
pub use partners::PartnersProjection;
pub use price_lists::PriceListsProjection;
pub use products::ProductsProjection;
pub use tenants::TenantsProjection;

use crate::outbox::{NotificationsReactor, OutboxKey};
use crate::projection::Projection;

/// Every projection, in the order the CLI lists them: enough to name, list, report on and
/// rebuild them. The SMS reactor among them has no outbox key and fails on the first message
/// with a password; a process that runs it uses [`all_with_key`].
pub fn all() -> Vec<Arc<dyn Projection>> {
    with_reactor(NotificationsReactor::default())
}

/// Every projection, the SMS reactor sealing the passwords it queues with `key`.
pub fn all_with_key(key: OutboxKey) -> Vec<Arc<dyn Projection>> {
    with_reactor(NotificationsReactor::default().with_key(key))
}

fn with_reactor(reactor: NotificationsReactor) -> Vec<Arc<dyn Projection>> {
    vec![
        Arc::new(TenantsProjection),
        Arc::new(ProductsProjection),
        Arc::new(OrdersProjection),
        Arc::new(PartnersProjection),
        Arc::new(ContactsProjection),
        Arc::new(MembersProjection),
        Arc::new(PriceListsProjection),
        Arc::new(OnboardingProjection),
        // A reactor (never rebuilt): the SMS outbox.
        Arc::new(reactor),
    ]
}

/// Finds a projection by name.
pub fn by_name(name: &str) -> Option<Arc<dyn Projection>> {
    all()
        .into_iter()
        .find(|projection| projection.name() == name)
}
