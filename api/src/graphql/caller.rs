//! Who is asking: the actor proven by the bearer token (none for anonymous calls such as
//! `bindContact`), the request id, and the client address (for rate limits); whether a
//! contact's token still stands, which partners' data it may read ([`scope_of`]), and the one
//! rule of which orders it may read ([`Caller::order_scope`]).

use std::net::IpAddr;

use async_graphql::Context;
use chrono::{DateTime, Utc};
use dinghuo_commands::{Actor, RequestContext, Role, Written};
use dinghuo_domain::{ContactId, ErrorCode, MemberId, Side, TenantId};
use dinghuo_projections::read::Scope;
use uuid::Uuid;

use dinghuo_identity::sessions::SessionState;
use dinghuo_identity::staff;

use crate::auth::{Standing, Verified};

use super::error::{ApiError, ApiResult};
use super::state::ApiState;

#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Option<Actor>,
    pub request_id: Uuid,
    pub client_addr: Option<IpAddr>,
    /// When the caller's token stops being accepted (`None`: no token). A subscription ends
    /// then, and a WebSocket connection (authenticated once, at its start) is anonymous from
    /// then on.
    pub valid_until: Option<DateTime<Utc>>,
    /// A contact's binding epoch its token was issued in (`None`: not a contact token, or one
    /// from before epochs were recorded, which counts as epoch 0); see `auth::standing`.
    pub binding_epoch: Option<u64>,
    /// The sign-in session the token names (`None`: a token of `dinghuo token`, or none).
    pub session: Option<Uuid>,
    /// The session may only change its password: every other operation is `FORBIDDEN`.
    pub password_change_only: bool,
    /// A signed-in staff member's membership (`None`: not a staff session).
    pub member: Option<Uuid>,
    /// The session was signed in with an SMS code at `issued_at` (seconds since the epoch).
    pub signed_in_by_code: bool,
    pub issued_at: Option<u64>,
    /// What this caller's commands appended, for reading the writes back without a query.
    pub written: Written,
}

impl Caller {
    /// The caller a request (or a WebSocket connection) proves with `verified`, if anything.
    pub fn new(verified: Option<Verified>, request_id: Uuid, client_addr: Option<IpAddr>) -> Self {
        Self {
            actor: verified.map(|verified| verified.actor),
            valid_until: verified.map(|verified| verified.valid_until),
            binding_epoch: verified.and_then(|verified| verified.binding_epoch),
            session: verified.and_then(|verified| verified.session),
            password_change_only: verified.is_some_and(|verified| verified.password_change_only),
            member: verified.and_then(|verified| verified.member),
            signed_in_by_code: verified.is_some_and(|verified| verified.signed_in_by_code),
            issued_at: verified.map(|verified| verified.issued_at),
            request_id,
            client_addr,
            written: Written::default(),
        }
    }

    /// The authenticated actor, or `UNAUTHENTICATED` (also once the token has expired);
    /// `PASSWORD_CHANGE_REQUIRED` while its session may only change its password.
    pub fn actor(&self) -> Result<Actor, ApiError> {
        let actor = self.signed_in()?;
        if self.password_change_only {
            return Err(ApiError::new(
                ErrorCode::PasswordChangeRequired,
                "the password must be changed first (changePassword)",
            ));
        }
        Ok(actor)
    }

    /// The authenticated actor even when its session may only change its password: for
    /// `changePassword`, `signOut` and `viewer`.
    pub fn signed_in(&self) -> Result<Actor, ApiError> {
        if self.valid_until.is_some_and(|until| until <= Utc::now()) {
            return Err(ApiError::unauthenticated());
        }
        self.actor.ok_or_else(ApiError::unauthenticated)
    }

    /// The actor's tenant: every role but the operator has exactly one.
    pub fn tenant(&self) -> Result<TenantId, ApiError> {
        self.actor()?.tenant_id.ok_or_else(ApiError::forbidden)
    }

    /// The actor, if its role is one of `roles`; `FORBIDDEN` otherwise.
    pub fn require(&self, roles: &[Role]) -> Result<Actor, ApiError> {
        let actor = self.actor()?;
        if roles.contains(&actor.role) {
            Ok(actor)
        } else {
            Err(ApiError::forbidden())
        }
    }

    /// That the token's session is live ([`Self::session_live`]) and a staff token's membership
    /// active ([`Self::staff_member_stands`]), then for a contact, its
    /// standing from committed state (kept a few seconds): `UNAUTHENTICATED`
    /// when its token no longer stands (unbound, unlinked, or bound again since the token was
    /// issued). `None` for every other caller: employees' reads and commands are scoped by their
    /// links as they are now, and the other roles' by their tenant.
    pub async fn standing(&self, state: &ApiState) -> ApiResult<Option<Standing>> {
        self.session_live(state).await?;
        self.staff_member_stands(state).await?;
        let Some(actor) = self.actor.filter(|actor| actor.role == Role::Contact) else {
            return Ok(None);
        };
        let tenant = actor.tenant_id.ok_or_else(ApiError::unauthenticated)?;
        let contact = ContactId::from_uuid(actor.id);
        let lookup = state.commands.lookup();
        match state
            .standings
            .admitting(lookup, contact, tenant, self.binding_epoch)
            .await
            .map_err(ApiError::from)?
        {
            Some(standing) => Ok(Some(standing)),
            None => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the token no longer stands (the contact's binding was cleared): sign in again",
            )),
        }
    }

    /// Which partners' data this caller may read ([`scope_of`] its actor).
    pub fn scope(&self) -> Result<Scope, ApiError> {
        scope_of(&self.actor()?)
    }

    /// `UNAUTHENTICATED` once a staff token's membership is no longer active in its tenant as
    /// its role (committed state, read on every operation: staff are few, and a revocation
    /// must hold even if ending its sessions did not happen); other tokens are not affected.
    async fn staff_member_stands(&self, state: &ApiState) -> ApiResult<()> {
        let (Some(member), Some(actor)) = (self.member, self.actor) else {
            return Ok(());
        };
        let tenant = actor.tenant_id.ok_or_else(ApiError::unauthenticated)?;
        let loader = state.commands.members().loader();
        if staff::stands(loader, MemberId::from_uuid(member), tenant, actor.role).await? {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the staff access was revoked: sign in again",
            ))
        }
    }

    /// `UNAUTHENTICATED` once the session the token names has ended (signed out, its password
    /// changed) or expired; a token without a session is not affected.
    pub async fn session_live(&self, state: &ApiState) -> ApiResult<()> {
        let Some(session) = self.session else {
            return Ok(());
        };
        let now_ms = Utc::now().timestamp_millis();
        match state.sessions.state(state.db(), session, now_ms).await? {
            SessionState::Live { .. } => Ok(()),
            SessionState::Ended => Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the session has ended (signed out, or the password changed): sign in again",
            )),
        }
    }

    /// Which orders this caller may read: its [`Scope`], or `None` for none at all, that is a
    /// contact not granted `VIEW_ORDERS` (the tenant's defaults minus its own denials, as
    /// `effectivePermissions` shows). Every read of orders — `orders`, `order`, `orderUpdated`,
    /// the order mutations' payloads — asks here. A denied read answers as if there were no
    /// such order: an empty list, `null`, `NOT_FOUND` for a subscription.
    pub async fn order_scope(&self, state: &ApiState) -> ApiResult<Option<Scope>> {
        let scope = self.scope()?;
        // Only a contact's permissions narrow it; every operation's standing (session, staff
        // membership) was checked once already, by `graphql/standing.rs`.
        if self.actor.is_none_or(|actor| actor.role != Role::Contact) {
            return Ok(Some(scope));
        }
        match self.standing(state).await? {
            Some(standing) if !standing.may_view_orders() => Ok(None),
            _ => Ok(Some(scope)),
        }
    }

    /// The command layer's context for this request: the actor and the request id, so that
    /// the events it appends name this request.
    pub fn command_context(&self) -> Result<RequestContext, ApiError> {
        Ok(self.context_for(self.actor()?))
    }

    /// [`Self::command_context`] carrying the client's idempotency key, which makes a retried
    /// command take effect at most once.
    pub fn keyed_command_context(&self, key: Option<String>) -> Result<RequestContext, ApiError> {
        let mut ctx = self.command_context()?;
        ctx.idempotency_key = key;
        Ok(ctx)
    }

    /// The command layer's context of `actor` acting in this request (a contact that is binding
    /// or logging in, say): the events it appends name the request, and its writes go on the
    /// request's receipt.
    pub fn context_for(&self, actor: Actor) -> RequestContext {
        let mut ctx = RequestContext::new(actor);
        ctx.request_id = self.request_id;
        ctx.correlation_id = self.request_id;
        ctx.causation_id = self.request_id;
        ctx.written = self.written.clone();
        ctx
    }
}

/// Which partners' data `actor` may read (DESIGN §1): an admin, auditor or analyst the whole
/// tenant, an employee the partners it is linked to on our side, a contact its own partner
/// (linked on theirs). The operator belongs to no tenant and reads no tenant data.
pub fn scope_of(actor: &Actor) -> Result<Scope, ApiError> {
    let tenant = actor.tenant_id.ok_or_else(ApiError::forbidden)?.to_string();
    let contact = actor.id.to_string();
    match actor.role {
        Role::Admin | Role::Auditor | Role::Analyst => Ok(Scope::tenant(tenant)),
        Role::Employee => Ok(Scope::linked(tenant, contact, Side::Ours)),
        Role::Contact => Ok(Scope::linked(tenant, contact, Side::Theirs)),
        Role::Operator => Err(ApiError::forbidden()),
    }
}

/// The caller and the shared state of a resolver's request.
pub fn of<'a>(ctx: &Context<'a>) -> (&'a Caller, &'a ApiState) {
    // Both are put into every request by the server; a schema executed without them is a bug
    // in the server, not bad input.
    (
        ctx.data_unchecked::<Caller>(),
        ctx.data_unchecked::<ApiState>(),
    )
}
