//! `Contact` (a person: a CRM contact of a customer, or an employee of the tenant) and its
//! partner links, mapped from the rows of `projections::read::contacts`, and the loaders that
//! resolve them for a whole page at once. A full phone number is never answered: the read model
//! keeps only the masked one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_projections::read::contacts::{self, ContactRow};
use dinghuo_projections::read::{Reach, Scope};
use dinghuo_store::Database;

use super::partner::{Partner, PartnersLoader};
use super::tenant::{permissions, time, Permission};
use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};

/// Which enterprise a partner contact works for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum Side {
    /// 我方对接人: an employee of the tenant.
    Ours,
    /// 对方对接人: a member of the partner enterprise's staff.
    Theirs,
}

impl Side {
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::Side::from(self).as_str()
    }

    fn parse(text: &str) -> Option<Self> {
        match dinghuo_domain::Side::parse(text).ok()? {
            dinghuo_domain::Side::Ours => Some(Self::Ours),
            dinghuo_domain::Side::Theirs => Some(Self::Theirs),
        }
    }
}

impl From<Side> for dinghuo_domain::Side {
    fn from(side: Side) -> Self {
        match side {
            Side::Ours => Self::Ours,
            Side::Theirs => Self::Theirs,
        }
    }
}

/// Where a contact verified its identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum Channel {
    MiniProgram,
    OfficialAccount,
    WebQr,
    App,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::Channel::from(self).as_str()
    }

    fn parse(text: &str) -> Option<Self> {
        dinghuo_domain::Channel::parse(text).ok().map(Self::from)
    }
}

impl From<Channel> for dinghuo_domain::Channel {
    fn from(channel: Channel) -> Self {
        match channel {
            Channel::MiniProgram => Self::MiniProgram,
            Channel::OfficialAccount => Self::OfficialAccount,
            Channel::WebQr => Self::WebQr,
            Channel::App => Self::App,
        }
    }
}

impl From<dinghuo_domain::Channel> for Channel {
    fn from(channel: dinghuo_domain::Channel) -> Self {
        match channel {
            dinghuo_domain::Channel::MiniProgram => Self::MiniProgram,
            dinghuo_domain::Channel::OfficialAccount => Self::OfficialAccount,
            dinghuo_domain::Channel::WebQr => Self::WebQr,
            dinghuo_domain::Channel::App => Self::App,
        }
    }
}

/// Who a contact is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum ContactKind {
    /// A CRM contact of a customer (a their-side contact once added).
    Customer,
    /// An employee of the tenant (an our-side contact once added).
    Employee,
}

/// A person as the read model shows it.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct Contact {
    pub id: ID,
    pub name: String,
    /// `138****8000`; the full number is never answered.
    pub phone_masked: Option<String>,
    pub kind: ContactKind,
    /// The customer (partner) a CRM contact belongs to; none for employees.
    pub customer_id: Option<ID>,
    pub recorded_at: DateTime<Utc>,
    /// Identity verified (and not cleared since by a phone change or the last link removed).
    pub bound: bool,
    /// The latest channel it verified through.
    pub bound_channel: Option<Channel>,
    /// The first binding.
    pub bound_at: Option<DateTime<Utc>>,
    /// Ordering-app permissions denied to this contact on top of the tenant's defaults.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::permissions(), child_complexity)"
    )]
    pub denied_permissions: Vec<Permission>,
    /// What it may do in the ordering app: the tenant's defaults, minus its denials.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::permissions(), child_complexity)"
    )]
    pub effective_permissions: Vec<Permission>,
    pub updated_at: DateTime<Utc>,
}

impl TryFrom<ContactRow> for Contact {
    type Error = ApiError;

    fn try_from(row: ContactRow) -> ApiResult<Self> {
        let kind = match row.kind.as_str() {
            "CUSTOMER" => ContactKind::Customer,
            "EMPLOYEE" => ContactKind::Employee,
            other => {
                return Err(ApiError::internal(format!(
                    "unknown contact kind {other:?}"
                )))
            }
        };
        Ok(Self {
            id: ID(row.contact_id),
            name: row.name,
            phone_masked: row.phone_masked,
            kind,
            customer_id: row.customer_id.map(ID),
            recorded_at: row.recorded_at.0,
            bound: row.bound,
            bound_channel: row.bound_channel.as_deref().and_then(Channel::parse),
            bound_at: time(row.bound_at),
            denied_permissions: permissions(
                row.denies_create_sales_order,
                row.denies_cancel_order,
                row.denies_view_orders,
            ),
            effective_permissions: permissions(
                row.can_create_sales_order,
                row.can_cancel_order,
                row.can_view_orders,
            ),
            updated_at: row.updated_at.0,
        })
    }
}

/// A contact's link to a partner enterprise.
#[derive(Debug, Clone, SimpleObject)]
#[graphql(complex)]
pub struct PartnerLink {
    pub partner_id: ID,
    pub side: Side,
    pub added_at: DateTime<Utc>,
}

#[ComplexObject]
impl PartnerLink {
    async fn partner(&self, ctx: &Context<'_>) -> ApiResult<Option<Partner>> {
        let loader = loader::<PartnersLoader>(ctx)?;
        loader
            .load_one(self.partner_id.to_string())
            .await
            .map_err(ApiError::from)
    }
}

#[ComplexObject]
impl Contact {
    /// The partners this contact is linked to, as far as the caller may see them: an employee
    /// serving several dealers shows a dealer's contact only the link to that dealer.
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::PARTNER_LINKS, child_complexity)"
    )]
    async fn partner_links(&self, ctx: &Context<'_>) -> ApiResult<Vec<PartnerLink>> {
        let (caller, _) = caller::of(ctx);
        let scope = caller.scope()?;
        let loader = loader::<LinksLoader>(ctx)?;
        Ok(loader
            .load_one(LinkKey {
                contact_id: self.id.to_string(),
                viewer: scope.reach().clone(),
            })
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default())
    }
}

/// One contact the caller may see, or `None`.
pub async fn find(db: &Database, scope: &Scope, contact_id: &str) -> ApiResult<Option<Contact>> {
    contacts::find(db, scope, contact_id)
        .await?
        .map(Contact::try_from)
        .transpose()
}

/// Loads many contacts by id in one query. Only fed ids the caller may already see (an
/// order's contact).
pub struct ContactsLoader {
    pub db: Database,
}

impl Loader<String> for ContactsLoader {
    type Value = Contact;
    type Error = Arc<sqlx::Error>;

    async fn load(&self, keys: &[String]) -> Result<HashMap<String, Contact>, Self::Error> {
        let rows = contacts::by_ids(&self.db, keys).await.map_err(Arc::new)?;
        let mut found = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = row.contact_id.clone();
            // An unknown kind is logged by `try_from`; the contact is then left out.
            if let Ok(contact) = Contact::try_from(row) {
                found.insert(id, contact);
            }
        }
        Ok(found)
    }
}

/// The links of one contact as seen by one viewer (how far its scope reaches).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkKey {
    pub contact_id: String,
    pub viewer: Reach,
}

/// Loads the links of many contacts: one query per viewer, and a request has one viewer.
pub struct LinksLoader {
    pub db: Database,
}

impl Loader<LinkKey> for LinksLoader {
    type Value = Vec<PartnerLink>;
    type Error = Arc<sqlx::Error>;

    async fn load(
        &self,
        keys: &[LinkKey],
    ) -> Result<HashMap<LinkKey, Vec<PartnerLink>>, Self::Error> {
        let mut by_viewer: HashMap<&Reach, Vec<String>> = HashMap::new();
        for key in keys {
            by_viewer
                .entry(&key.viewer)
                .or_default()
                .push(key.contact_id.clone());
        }
        let mut out: HashMap<LinkKey, Vec<PartnerLink>> = HashMap::new();
        for (viewer, contact_ids) in by_viewer {
            let rows = contacts::links(&self.db, viewer, &contact_ids)
                .await
                .map_err(Arc::new)?;
            for row in rows {
                let Some(side) = Side::parse(&row.side) else {
                    continue;
                };
                let key = LinkKey {
                    contact_id: row.contact_id,
                    viewer: viewer.clone(),
                };
                out.entry(key).or_default().push(PartnerLink {
                    partner_id: ID(row.partner_id),
                    side,
                    added_at: row.added_at.0,
                });
            }
        }
        Ok(out)
    }
}

/// A loader from the request's data. Missing only if a transport forgot [`DomainLoaders`]:
/// an internal error, not a panic.
pub(crate) fn loader<'a, T: Send + Sync + 'static>(
    ctx: &Context<'a>,
) -> ApiResult<&'a Arc<DataLoader<T>>> {
    ctx.data::<Arc<DataLoader<T>>>()
        .map_err(|_| ApiError::internal("a DataLoader is missing from the request data"))
}

/// The loaders of partners, contacts and links, put into each request's data. They batch the
/// lookups of one page into one query each and cache nothing.
pub struct DomainLoaders {
    partners: Arc<DataLoader<PartnersLoader>>,
    contacts: Arc<DataLoader<ContactsLoader>>,
    links: Arc<DataLoader<LinksLoader>>,
}

impl DomainLoaders {
    pub fn new(db: &Database) -> Self {
        Self {
            partners: Arc::new(DataLoader::new(
                PartnersLoader { db: db.clone() },
                tokio::spawn,
            )),
            contacts: Arc::new(DataLoader::new(
                ContactsLoader { db: db.clone() },
                tokio::spawn,
            )),
            links: Arc::new(DataLoader::new(
                LinksLoader { db: db.clone() },
                tokio::spawn,
            )),
        }
    }

    pub fn add_to_batch(self, batch: async_graphql::BatchRequest) -> async_graphql::BatchRequest {
        batch
            .data(self.partners)
            .data(self.contacts)
            .data(self.links)
    }

    /// For a WebSocket connection's data (subscriptions answer orders too). The loaders cache
    /// nothing, so one per connection never serves stale rows.
    pub fn insert_into(self, data: &mut async_graphql::Data) {
        data.insert(self.partners);
        data.insert(self.contacts);
        data.insert(self.links);
    }

    pub fn add_to(self, request: async_graphql::Request) -> async_graphql::Request {
        request
            .data(self.partners)
            .data(self.contacts)
            .data(self.links)
    }
}
