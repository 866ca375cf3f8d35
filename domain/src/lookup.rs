//! The narrow service through which an aggregate checks rules that span aggregates (DESIGN §2):
//! "is the ordering app enabled on this tenant?", "is this product listed?".
//!
//! The command layer implements it by loading the other aggregates from the event store, so
//! rules are checked against committed state, never against eventually-consistent read models.

use std::sync::Arc;

use async_trait::async_trait;

use crate::contact::Contact;
use crate::error::DomainError;
use crate::ids::{ContactId, PartnerId, ProductId, TenantId};
use crate::partner::Partner;
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
}

/// What every aggregate receives as `Aggregate::Services`.
pub type Services = Arc<dyn Lookup>;

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
