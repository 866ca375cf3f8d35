//! Who is asking: the actor proven by the bearer token (none for anonymous calls such as
//! `bindContact`), the request id, and the client address (for rate limits).

use std::net::IpAddr;

use async_graphql::Context;
use chrono::{DateTime, Utc};
use dinghuo_commands::{Actor, RequestContext, Role, Written};
use dinghuo_domain::TenantId;
use uuid::Uuid;

use crate::auth::Verified;

use super::error::ApiError;
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
    /// What this caller's commands appended, for reading the writes back without a query.
    pub written: Written,
}

impl Caller {
    /// The caller a request (or a WebSocket connection) proves with `verified`, if anything.
    pub fn new(verified: Option<Verified>, request_id: Uuid, client_addr: Option<IpAddr>) -> Self {
        Self {
            actor: verified.map(|verified| verified.actor),
            valid_until: verified.map(|verified| verified.valid_until),
            request_id,
            client_addr,
            written: Written::default(),
        }
    }

    /// The authenticated actor, or `UNAUTHENTICATED` (also once the token has expired).
    pub fn actor(&self) -> Result<Actor, ApiError> {
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

    /// The command layer's context for this request: the actor and the request id, so that
    /// the events it appends name this request.
    pub fn command_context(&self) -> Result<RequestContext, ApiError> {
        Ok(self.context_for(self.actor()?))
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

/// The caller and the shared state of a resolver's request.
pub fn of<'a>(ctx: &Context<'a>) -> (&'a Caller, &'a ApiState) {
    // Both are put into every request by the server; a schema executed without them is a bug
    // in the server, not bad input.
    (
        ctx.data_unchecked::<Caller>(),
        ctx.data_unchecked::<ApiState>(),
    )
}
