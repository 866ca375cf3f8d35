//! The claims of a Dinghuo token and how they map to an [`Actor`].
//!
//! A token carries the actor's id (`sub`), its tenant (`tenant`, absent for the operator), its
//! role by name, when it was issued and when it expires (seconds since the epoch), `iss`
//! = `"dinghuo"`, and for a contact the binding epoch it was issued in (`binding_epoch`, see
//! [`crate::standing`]), and for a signed-in person its session (`sid`, and `pwd_change`
//! when that session may only change its password). Dinghuo never issues `nbf`; one that a token carries is checked. The tenant rule of DESIGN §1 is checked both when issuing and when verifying:
//! the operator belongs to no tenant, every other role to exactly one.

use dinghuo_commands::{Actor, Role};
use dinghuo_domain::TenantId;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::token_error::TokenError;

/// The `iss` of every token Dinghuo issues, and the only one it accepts.
pub const ISSUER: &str = "dinghuo";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The actor's id: a user id, or for `employee` and `contact` the contact id.
    pub sub: Uuid,
    /// The tenant the actor acts in; absent for the operator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tenant: Option<Uuid>,
    /// One of [`Role::as_str`]. Kept as text so that an unknown role is refused by name.
    pub role: String,
    /// Issued at, seconds since the Unix epoch.
    pub iat: u64,
    /// Expires at, seconds since the Unix epoch.
    pub exp: u64,
    pub iss: String,
    /// Not before, seconds since the Unix epoch. Never issued; typed so that a token carrying
    /// one that is not a whole number of seconds is malformed rather than unchecked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<u64>,
    /// A contact's binding epoch when the token was issued (how many times its bindings had
    /// been cleared): a token of an earlier epoch no longer stands. Absent in other roles'
    /// tokens, and in contact tokens issued before epochs were recorded, which count as epoch 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_epoch: Option<u64>,
    /// The sign-in session the token belongs to (`dinghuo_identity::sessions`): refused once it
    /// ends. Absent in tokens minted by `dinghuo token`, which no session backs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<Uuid>,
    /// Set when the session may only change its password (`mustChangePassword`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pwd_change: bool,
    /// A signed-in staff member's membership (`dinghuo_identity::staff`): the person (phone)
    /// behind the actor, whose other tenants `switchTenant` may move to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mid: Option<Uuid>,
    /// How the session was signed in (RFC 8176): `"sms"` for an SMS code, `"pwd"` for a
    /// password. A fresh `"sms"` session may set a password without the current one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amr: Option<String>,
}

/// [`Claims::amr`] of a session signed in with an SMS code.
pub const SIGNED_IN_BY_CODE: &str = "sms";
/// [`Claims::amr`] of a session signed in with a password.
pub const SIGNED_IN_BY_PASSWORD: &str = "pwd";

impl Claims {
    /// The claims of a token for `actor`, issued at `issued_at` (Unix seconds), valid `ttl_secs`.
    pub fn for_actor(actor: &Actor, issued_at: u64, ttl_secs: u64) -> Result<Self, TokenError> {
        check_tenant(actor.role, actor.tenant_id.is_some())?;
        Ok(Self {
            sub: actor.id,
            tenant: actor.tenant_id.map(|tenant| tenant.as_uuid()),
            role: actor.role.as_str().to_owned(),
            iat: issued_at,
            exp: issued_at
                .checked_add(ttl_secs)
                .ok_or(TokenError::TimeOutOfRange)?,
            iss: ISSUER.to_owned(),
            nbf: None,
            binding_epoch: None,
            sid: None,
            pwd_change: false,
            mid: None,
            amr: None,
        })
    }

    /// The actor these claims describe. Signature, expiry and issuer are checked before this.
    pub fn into_actor(self) -> Result<Actor, TokenError> {
        let role = Role::parse(&self.role).ok_or(TokenError::UnknownRole(self.role))?;
        check_tenant(role, self.tenant.is_some())?;
        Ok(Actor {
            id: self.sub,
            role,
            tenant_id: self.tenant.map(TenantId::from_uuid),
        })
    }
}

/// The operator belongs to no tenant; every other role belongs to exactly one.
fn check_tenant(role: Role, has_tenant: bool) -> Result<(), TokenError> {
    match (role, has_tenant) {
        (Role::Operator, true) => Err(TokenError::OperatorWithTenant),
        (Role::Operator, false) | (_, true) => Ok(()),
        (role, false) => Err(TokenError::MissingTenant {
            role: role.as_str(),
        }),
    }
}
