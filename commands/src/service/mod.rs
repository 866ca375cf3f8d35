//! The entry points of the write side: one method per command of DESIGN §3's mutation list.
//!
//! Each entry point (a) authorises through the policy table, (b) resolves the caller's tenant and
//! parses the raw input into value objects (`VALIDATION` with the field at fault), then (c)
//! executes on the aggregate, which checks every rule, cross-aggregate ones through the lookup
//! against committed state. A command that loses the race for its stream is re-run on fresh state.

mod contact;
mod member;
mod order;
mod partner;
mod price_list;
mod product;
mod quote;
mod tenant;

use std::sync::Arc;

use cqrs_es::Aggregate;
use dinghuo_domain::contact::Contact;
use dinghuo_domain::member::Member;
use dinghuo_domain::order::Order;
use dinghuo_domain::partner::Partner;
use dinghuo_domain::price_list::{ListPrices, PriceList};
use dinghuo_domain::product::Product;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::{DomainError, Needs, Services, TenantId, ValidationError, Wanted};
use dinghuo_store::announce::CommitAnnouncer;
use dinghuo_store::event_store::AggregateStore;
use dinghuo_store::streams::{LoadError, StreamId, Streams};
use dinghuo_store::Database;

pub use self::contact::{
    AddPartnerContactInput, BindContactInput, RecordContactInput, RemovePartnerContactInput,
    RestrictContactPermissionsInput, UpdateContactInput,
};
pub use self::member::{
    CreateTenantAdminInput, InviteEmployeeInput, MemberRef, RevokeStaffAccessInput,
};
pub use self::order::{
    CancelOrderInput, ConfirmOrderInput, OrderLineInput, ReceiveOrderInput, RejectOrderInput,
    ShipOrderInput, SubmitOptions, SubmitOrderInput,
};
pub use self::partner::{
    AddPartnerInput, AppAssignmentInput, PartnerRefInput, RecordCustomerInput,
    RestrictPartnerAssortmentInput, SetPartnerLevelInput, UpdateCustomerInput,
};
pub use self::price_list::{
    CreatePriceListInput, PriceListRefInput, PriceListScopeInput, RemovePriceInput, SetPriceInput,
    SetPriceListScopeInput, SetPriceListValidityInput,
};
pub use self::product::{
    CategorizeProductInput, DelistProductInput, ListProductInput, MoneyInput, RepriceProductInput,
    SetQuantityRulesInput,
};
pub use self::quote::{ParsedLine, QuoteInput, MAX_PASTED_LINES};
pub use self::tenant::{
    AppInput, BindWechatAccountInput, EnableInterconnectInput, MenuButtonInput,
    PublishWechatMenuInput, PurchaseAppInput, RegisterTenantInput, SetFunctionPermissionsInput,
    UnbindWechatAccountInput,
};
use crate::context::{RequestContext, Role};
use crate::error::CommandError;
use crate::limiter::{Clock, SystemClock};
use crate::lookup::{stream_ids, EventStoreLookup};
use crate::policy::{self, CommandName};
use crate::retry::RetryPolicy;

/// The write side. Cheap to share behind an `Arc`; every method takes the caller's context.
pub struct Commands {
    db: Database,
    tenants: AggregateStore<Tenant>,
    partners: AggregateStore<Partner>,
    contacts: AggregateStore<Contact>,
    products: AggregateStore<Product>,
    orders: AggregateStore<Order>,
    members: AggregateStore<Member>,
    price_lists: AggregateStore<PriceList>,
    list_prices: AggregateStore<ListPrices>,
    lookup: Arc<EventStoreLookup>,
    retry: RetryPolicy,
    clock: Arc<dyn Clock>,
    /// Called after every successful command, to wake this process's projection runners.
    on_commit: Option<Arc<dyn Fn() + Send + Sync>>,
    /// Announces commits to other processes (Postgres only; `None` when turned off).
    announcer: Option<CommitAnnouncer>,
}

impl Commands {
    pub fn new(db: Database) -> Self {
        let lookup = Arc::new(EventStoreLookup::new(&db));
        let announcer = CommitAnnouncer::for_database(&db);
        Self {
            tenants: AggregateStore::new(&db),
            partners: AggregateStore::new(&db),
            contacts: AggregateStore::new(&db),
            products: AggregateStore::new(&db),
            orders: AggregateStore::new(&db),
            members: AggregateStore::new(&db),
            price_lists: AggregateStore::new(&db),
            list_prices: AggregateStore::new(&db),
            lookup,
            db,
            retry: RetryPolicy::default(),
            clock: Arc::new(SystemClock),
            on_commit: None,
            announcer,
        }
    }

    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    /// Calls `signal` after every successful command (in-process wake-up of projections).
    pub fn with_commit_signal(mut self, signal: Arc<dyn Fn() + Send + Sync>) -> Self {
        self.on_commit = Some(signal);
        self
    }

    /// Turns the Postgres `NOTIFY` after commits off (it is on by default).
    pub fn without_postgres_notify(mut self) -> Self {
        self.announcer = None;
        self
    }

    /// Tells projection runners, here and in other processes, that events were committed.
    fn announce_commit(&self) {
        if let Some(signal) = &self.on_commit {
            signal();
        }
        if let Some(announcer) = &self.announcer {
            announcer.announce();
        }
    }

    /// The moment a command decides at (by the clock it was given): a price list's validity
    /// is judged at it.
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::DateTime::from_timestamp_millis(self.clock.now_ms()).unwrap_or_default()
    }

    pub fn database(&self) -> &Database {
        &self.db
    }

    /// Committed state of any aggregate, for callers that must decide before commanding.
    pub fn lookup(&self) -> &EventStoreLookup {
        &self.lookup
    }

    pub fn orders(&self) -> &AggregateStore<Order> {
        &self.orders
    }
    pub fn products(&self) -> &AggregateStore<Product> {
        &self.products
    }
    pub fn contacts(&self) -> &AggregateStore<Contact> {
        &self.contacts
    }
    pub fn partners(&self) -> &AggregateStore<Partner> {
        &self.partners
    }
    pub fn tenants(&self) -> &AggregateStore<Tenant> {
        &self.tenants
    }
    pub fn members(&self) -> &AggregateStore<Member> {
        &self.members
    }
    pub fn price_lists(&self) -> &AggregateStore<PriceList> {
        &self.price_lists
    }

    /// Executes `command` on aggregate `id` of `store`, with retries on a lost race, and logs
    /// a refusal.
    async fn run<A>(
        &self,
        store: &AggregateStore<A>,
        ctx: &RequestContext,
        tenant: TenantId,
        id: String,
        command: A::Command,
    ) -> Result<(), CommandError>
    where
        A: Aggregate<Error = DomainError, Services = Services>,
        A::Command: Clone + Needs,
    {
        let result = self
            .execute(store, ctx, tenant, &id, command, Streams::default())
            .await;
        if let Err(error) = &result {
            log_refusal(A::TYPE, &id, error);
        }
        result
    }

    /// [`Self::run`] without logging a refusal, for a caller that may find the refusal is no
    /// refusal at all (an idempotent replay of `submitOrder`) and logs what it decides itself.
    /// `read`: streams the caller already read (the contact an order is submitted by), which
    /// the first attempt decides on instead of reading them again.
    async fn execute<A>(
        &self,
        store: &AggregateStore<A>,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        command: A::Command,
        read: Streams,
    ) -> Result<(), CommandError>
    where
        A: Aggregate<Error = DomainError, Services = Services>,
        A::Command: Clone + Needs,
    {
        self.execute_reading(store, ctx, tenant, id, command, read, Wanted::new())
            .await
    }

    /// [`Self::execute`], reading with the command's own streams also those `also` names,
    /// which the caller knows its decision will ask for (a submission's price lists, which
    /// only the tenant it read before names).
    #[allow(clippy::too_many_arguments)]
    async fn execute_reading<A>(
        &self,
        store: &AggregateStore<A>,
        ctx: &RequestContext,
        tenant: TenantId,
        id: &str,
        command: A::Command,
        read: Streams,
        also: Wanted,
    ) -> Result<(), CommandError>
    where
        A: Aggregate<Error = DomainError, Services = Services>,
        A::Command: Clone + Needs,
    {
        let metadata = ctx.metadata(tenant);
        let (command, metadata) = (&command, &metadata);
        // Every stream the decision reads, the command's own first, in one statement.
        let wanted = command.needs().and(also);
        let streams: Vec<StreamId> = std::iter::once(StreamId::of::<A>(id))
            .chain(stream_ids(&wanted))
            .collect();
        let mut first = Some(read);
        let result = self
            .retry
            .run(|| {
                // A retry decides on fresh state: only the first attempt reuses `read`.
                let mut read = first.take().unwrap_or_default();
                let streams = streams.iter().cloned();
                async move {
                    read.load(&self.db, streams)
                        .await
                        .map_err(|error| match error {
                            LoadError::Database(error) => CommandError::from(error),
                            too_many => CommandError::Internal(too_many.to_string()),
                        })?;
                    let read = Arc::new(read);
                    let services: Services =
                        Arc::new(EventStoreLookup::with_read(&self.db, read.clone()));
                    store
                        .execute(id, command.clone(), metadata.clone(), read, services)
                        .await
                        .map_err(CommandError::from)
                }
            })
            .await;
        match &result {
            Ok(sequence) => {
                tracing::debug!(aggregate = A::TYPE, %id, sequence, "command executed");
                // A command that appended nothing leaves no receipt: a reader waits for
                // the stream's head instead.
                if *sequence > 0 {
                    ctx.written.record(A::TYPE, id, *sequence);
                }
                self.announce_commit();
            }
            Err(CommandError::Internal(detail)) => {
                tracing::error!(aggregate = A::TYPE, %id, request_id = %ctx.request_id, %detail, "command failed")
            }
            // The command may or may not have been appended; the client retries.
            Err(CommandError::Unavailable(detail)) => {
                tracing::warn!(aggregate = A::TYPE, %id, request_id = %ctx.request_id, %detail, "command met an unavailable database")
            }
            // Logged by the caller (`run`, or one that knows better).
            Err(_) => {}
        }
        result.map(|_| ())
    }
}

/// Logs a refused command (a failure was logged where it happened, with its detail).
fn log_refusal(aggregate: &str, id: &str, error: &CommandError) {
    if !error.is_failure() {
        tracing::info!(aggregate, %id, code = %error.code(), "command refused");
    }
}

/// Refuses with `FORBIDDEN` unless the caller's role may run `command`.
fn authorize(ctx: &RequestContext, command: CommandName) -> Result<(), CommandError> {
    if policy::allows(ctx.actor.role, command) {
        Ok(())
    } else {
        Err(CommandError::forbidden())
    }
}

/// The tenant a command acts in. Everyone but the operator acts in its own tenant (a tenant
/// named in the input must then be its own); the operator must name one.
fn resolve_tenant(ctx: &RequestContext, named: Option<&str>) -> Result<TenantId, CommandError> {
    let named = named
        .map(|text| TenantId::parse(text, "tenantId"))
        .transpose()?;
    match (ctx.actor.role, ctx.actor.tenant_id, named) {
        (Role::Operator, _, Some(tenant)) => Ok(tenant),
        (Role::Operator, _, None) => {
            Err(ValidationError::new("tenantId", "the operator must name a tenant").into())
        }
        (_, Some(own), None) => Ok(own),
        (_, Some(own), Some(tenant)) if tenant == own => Ok(own),
        _ => Err(CommandError::forbidden()),
    }
}

/// The caller's own tenant.
fn own_tenant(ctx: &RequestContext) -> Result<TenantId, CommandError> {
    resolve_tenant(ctx, None)
}

/// Parses an optional text input: absent or blank is `None`.
fn optional<T>(
    text: Option<&str>,
    parse: impl FnOnce(&str) -> Result<T, ValidationError>,
) -> Result<Option<T>, ValidationError> {
    match text.map(str::trim) {
        None | Some("") => Ok(None),
        Some(text) => parse(text).map(Some),
    }
}
