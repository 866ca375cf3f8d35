//! `Contact` (a person: a CRM contact of a customer, or an employee of the tenant), read from
//! `rm_contacts`, its partner links from `rm_partner_contacts`, and the loaders that resolve them
//! for a whole page at once. A full phone number is never answered: the read model keeps only
//! the masked one.

use std::collections::HashMap;
use std::sync::Arc;

use async_graphql::dataloader::{DataLoader, Loader};
use async_graphql::{ComplexObject, Context, Enum, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_store::sql::{fetch_all, placeholders, Arg, StoredTime};
use dinghuo_store::Database;

use super::partner::{Partner, PartnersLoader};
use super::scope::Scope;
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
        match self {
            Self::Ours => dinghuo_domain::Side::Ours.as_str(),
            Self::Theirs => dinghuo_domain::Side::Theirs.as_str(),
        }
    }

    fn parse(text: &str) -> Option<Self> {
        match dinghuo_domain::Side::parse(text).ok()? {
            dinghuo_domain::Side::Ours => Some(Self::Ours),
            dinghuo_domain::Side::Theirs => Some(Self::Theirs),
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

/// The columns of `rm_contacts` every contact query selects (as `c.`).
pub const CONTACT_COLUMNS: &str = "c.contact_id, c.name, c.phone_masked, c.kind, c.customer_id,
    c.recorded_at, c.bound, c.bound_channel, c.bound_at, c.denies_create_sales_order,
    c.denies_cancel_order, c.denies_view_orders, c.can_create_sales_order, c.can_cancel_order,
    c.can_view_orders, c.updated_at";

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ContactRow {
    pub contact_id: String,
    pub name: String,
    pub phone_masked: Option<String>,
    pub kind: String,
    pub customer_id: Option<String>,
    pub recorded_at: StoredTime,
    pub bound: bool,
    pub bound_channel: Option<String>,
    pub bound_at: Option<StoredTime>,
    pub denies_create_sales_order: bool,
    pub denies_cancel_order: bool,
    pub denies_view_orders: bool,
    pub can_create_sales_order: bool,
    pub can_cancel_order: bool,
    pub can_view_orders: bool,
    pub updated_at: StoredTime,
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
        let scope = Scope::of(&caller.actor()?)?;
        let loader = loader::<LinksLoader>(ctx)?;
        Ok(loader
            .load_one(LinkKey {
                contact_id: self.id.to_string(),
                viewer: scope.linked,
            })
            .await
            .map_err(ApiError::from)?
            .unwrap_or_default())
    }
}

/// One contact the caller may see, or `None` (see [`visible_condition`]).
pub async fn find(db: &Database, scope: &Scope, contact_id: &str) -> ApiResult<Option<Contact>> {
    let mut args = vec![Arg::from(scope.tenant_id.as_str()), Arg::from(contact_id)];
    let (condition, extra) = visible_condition(db, scope, args.len() + 1);
    args.extend(extra);
    let rows: Vec<ContactRow> = fetch_all(
        db,
        &format!(
            "SELECT {CONTACT_COLUMNS} FROM rm_contacts c
              WHERE c.tenant_id = $1 AND c.contact_id = $2{condition}"
        ),
        &args,
    )
    .await?;
    rows.into_iter().next().map(Contact::try_from).transpose()
}

/// Which contacts (`c`) a scope sees: the whole tenant, or those linked (on any side) to a
/// partner the caller is linked to.
pub fn visible_condition(db: &Database, scope: &Scope, next: usize) -> (String, Vec<Arg>) {
    if scope.linked.is_none() {
        return (String::new(), Vec::new());
    }
    let (partners, args) = scope.partner_condition(db, "v.partner_id", next);
    (
        format!(
            " AND EXISTS (SELECT 1 FROM rm_partner_contacts v
                           WHERE v.contact_id = c.contact_id{partners})"
        ),
        args,
    )
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
        let args: Vec<Arg> = keys.iter().map(|key| Arg::from(key.as_str())).collect();
        let rows: Vec<ContactRow> = fetch_all(
            &self.db,
            &format!(
                "SELECT {CONTACT_COLUMNS} FROM rm_contacts c WHERE c.contact_id IN ({})",
                placeholders(1, keys.len())
            ),
            &args,
        )
        .await
        .map_err(Arc::new)?;
        let mut contacts = HashMap::with_capacity(rows.len());
        for row in rows {
            let id = row.contact_id.clone();
            // An unknown kind is logged by `try_from`; the contact is then left out.
            if let Ok(contact) = Contact::try_from(row) {
                contacts.insert(id, contact);
            }
        }
        Ok(contacts)
    }
}

/// The links of one contact as seen by one viewer (`Scope::linked`: `None` sees every link).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LinkKey {
    pub contact_id: String,
    pub viewer: Option<(String, Option<&'static str>)>,
}

#[derive(Debug, sqlx::FromRow)]
struct LinkRow {
    contact_id: String,
    partner_id: String,
    side: String,
    added_at: StoredTime,
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
        let mut by_viewer: HashMap<&Option<(String, Option<&'static str>)>, Vec<&LinkKey>> =
            HashMap::new();
        for key in keys {
            by_viewer.entry(&key.viewer).or_default().push(key);
        }
        let mut out: HashMap<LinkKey, Vec<PartnerLink>> = HashMap::new();
        for (viewer, keys) in by_viewer {
            let mut args: Vec<Arg> = keys
                .iter()
                .map(|key| Arg::from(key.contact_id.as_str()))
                .collect();
            // Only `linked` shapes the condition; the tenant is implied by the contact ids.
            let scope = Scope {
                tenant_id: String::new(),
                linked: viewer.clone(),
            };
            let (condition, extra) =
                scope.partner_condition(&self.db, "l.partner_id", args.len() + 1);
            args.extend(extra);
            let rows: Vec<LinkRow> = fetch_all(
                &self.db,
                &format!(
                    "SELECT l.contact_id, l.partner_id, l.side, l.added_at
                       FROM rm_partner_contacts l
                      WHERE l.contact_id IN ({}){condition}
                      ORDER BY l.contact_id, l.added_at, l.partner_id",
                    placeholders(1, keys.len())
                ),
                &args,
            )
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
