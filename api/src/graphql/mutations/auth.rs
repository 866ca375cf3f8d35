//! Contact sign-in: `requestBindingCode`, `bindContact`, `login`, `changePassword`, `signOut`.
//!
//! The first three are anonymous (a contact has no token yet); the tenant comes from the WeChat
//! account or app the contact opened, so it is an input. None of their answers tells whether a
//! phone belongs to anyone: an unknown phone gets the same payload or the same refusal, after the
//! same rate limit and the same argon2 work. Secrets (codes, passwords) are never logged: the
//! resolvers are instrumented with `skip_all`.

use std::time::Duration;

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::{Actor, BindContactInput as BindCommand, RequestContext, Role};
use dinghuo_domain::{
    Channel, ContactId, ErrorCode, Lookup, OpenId, Phone, TenantId, ValidationError,
};
use tracing::instrument;

use dinghuo_identity::binding::{self, BindingCode, CodeGenerator};
use dinghuo_identity::limits::{self, Attempt, PhoneKey};
use dinghuo_identity::sessions::EndReason;
use dinghuo_identity::{accounts, codes, password};

use crate::graphql::caller::{self, Caller};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::rw;
use crate::graphql::state::ApiState;

/// How long a contact's token (and its session) is valid; a contact signs in again (code or
/// password) after a week. Signing out or changing the password ends it sooner.
pub const CONTACT_TOKEN_TTL: Duration = Duration::from_secs(7 * 24 * 3600);

/// The channel a password sign-in binds on: the platform's app and login page (seed: tenant-mode
/// contacts "order through the platform's mobile app").
const PASSWORD_CHANNEL: &str = "APP";

#[derive(Default)]
pub struct AuthMutations;

// The inputs do not derive `Debug`: they carry codes and passwords, which must not reach a log.

#[derive(InputObject)]
pub struct RequestBindingCodeInput {
    /// The tenant whose WeChat account or app the contact opened.
    pub tenant_id: ID,
    pub phone: String,
}

#[derive(InputObject)]
pub struct BindContactInput {
    pub tenant_id: ID,
    /// The phone the code was sent to; must be the phone recorded for the contact.
    pub phone: String,
    /// The 6-digit code from the SMS.
    pub code: String,
    /// Where the contact binds: `MINI_PROGRAM`, `OFFICIAL_ACCOUNT`, `WEB_QR` or `APP`.
    pub channel: String,
    pub wechat_open_id: Option<String>,
}

#[derive(InputObject)]
pub struct LoginInput {
    pub tenant_id: ID,
    /// The login: the contact's mobile number.
    pub phone: String,
    pub password: String,
}

#[derive(InputObject)]
pub struct ChangePasswordInput {
    pub current_password: String,
    /// At least 10 characters, at most 128; not the phone number, not a common password.
    pub new_password: String,
}

/// The same whether or not the phone belongs to a contact of the tenant.
#[derive(Debug, SimpleObject)]
pub struct RequestBindingCodePayload {
    /// Always true: if the phone is a partner contact's, a code is on its way by SMS.
    pub accepted: bool,
    /// How long a code stays valid.
    pub expires_in_seconds: i32,
}

/// The signed-in contact, as much as a frontend needs to greet it.
#[derive(Debug, SimpleObject)]
pub struct SignedInContact {
    pub id: ID,
    pub tenant_id: ID,
    /// The partner it orders for, as the read model shows it.
    pub partner_id: Option<ID>,
    pub name: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct BindContactPayload {
    pub contact: SignedInContact,
    /// A bearer token for the contact (`Authorization: Bearer <token>`).
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

#[derive(Debug, SimpleObject)]
pub struct LoginPayload {
    pub contact: SignedInContact,
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
    /// The password is the initial one from the SMS: the frontend should ask for a new one.
    pub must_change_password: bool,
}

#[derive(Debug, SimpleObject)]
pub struct ChangePasswordPayload {
    pub contact: SignedInContact,
    pub must_change_password: bool,
    /// A token of a new session: changing the password ended every session of the contact,
    /// the one that changed it included.
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

#[derive(Debug, SimpleObject)]
pub struct SignOutPayload {
    /// Whether the session was live until now (false: it had already ended).
    pub signed_out: bool,
}

pub(super) fn parse_tenant(id: &ID) -> ApiResult<TenantId> {
    TenantId::parse(&id.0, "tenantId").map_err(validation)
}

pub(super) fn parse_phone(text: &str) -> ApiResult<Phone> {
    Phone::parse(text).map_err(|error| validation(error.at("phone")))
}

fn validation(error: ValidationError) -> ApiError {
    ApiError::validation(&error.field, error.message)
}

/// A new code, from the generator a test put in the request's data, else the OS CSPRNG.
pub(super) fn drawn_code(ctx: &Context<'_>) -> BindingCode {
    ctx.data_opt::<CodeGenerator>()
        .cloned()
        .unwrap_or_default()
        .generate()
}

fn wrong_code() -> ApiError {
    // One answer for an unknown phone, no code, a wrong, spent or expired code.
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the phone or code is not valid, or the code has expired; request a new code",
    )
}

fn wrong_password() -> ApiError {
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the phone or password is not valid",
    )
}

/// The command context of `contact` acting in this request: the events it appends name it and
/// the request.
fn as_contact(caller: &Caller, tenant: TenantId, contact: ContactId) -> RequestContext {
    caller.context_for(Actor::in_tenant(contact.as_uuid(), Role::Contact, tenant))
}

/// The contact's binding epoch, read before it binds. The token issued after binding names
/// it, so a clearing of the bindings at any moment after this read voids the token: one after
/// the binding ends the epoch, one before it makes the binding happen in a later epoch than
/// the token names (the contact then signs in again).
async fn binding_epoch(state: &ApiState, contact: ContactId) -> ApiResult<u64> {
    let contact = Lookup::contact(state.commands.lookup(), contact).await?;
    Ok(contact.binding_epoch())
}

/// A token for `contact`, bound in `binding_epoch`, in a session opened for it, and when it
/// expires. `password_change_only`: the session may only change its password.
async fn token_for(
    state: &ApiState,
    tenant: TenantId,
    contact: ContactId,
    binding_epoch: u64,
    password_change_only: bool,
) -> ApiResult<(String, DateTime<Utc>)> {
    let actor = Actor::in_tenant(contact.as_uuid(), Role::Contact, tenant);
    let session = state
        .sessions
        .open(
            state.db(),
            &actor,
            password_change_only,
            CONTACT_TOKEN_TTL,
            limits::now_ms(),
        )
        .await?;
    let token = state
        .tokens
        .issue_for_session(
            &actor,
            session.id,
            Some(binding_epoch),
            password_change_only,
            CONTACT_TOKEN_TTL,
        )
        .map_err(ApiError::internal)?;
    let ttl = chrono::Duration::from_std(CONTACT_TOKEN_TTL).map_err(ApiError::internal)?;
    Ok((token, Utc::now() + ttl))
}

/// The contact as the `contacts` read model shows it.
async fn signed_in(
    state: &ApiState,
    tenant: TenantId,
    contact: ContactId,
) -> ApiResult<SignedInContact> {
    let shown = accounts::as_shown(state.db(), tenant, contact).await?;
    Ok(SignedInContact {
        id: ID(contact.to_string()),
        tenant_id: ID(tenant.to_string()),
        partner_id: shown.partner_id.map(ID),
        name: shown.name,
    })
}

/// Binds `contact` on `channel` through the command layer, which checks the phone against the
/// contact's committed events (`PHONE_MISMATCH`, nothing bound), then waits until the `contacts`
/// read model shows it.
async fn bind(
    ctx: &Context<'_>,
    tenant: TenantId,
    contact: ContactId,
    command: BindCommand,
) -> ApiResult<()> {
    let (caller, state) = caller::of(ctx);
    state
        .commands
        .bind_contact(&as_contact(caller, tenant, contact), command)
        .await?;
    rw::wait(ctx, "Contact", &contact.to_string(), &["contacts"]).await;
    Ok(())
}

#[Object]
impl AuthMutations {
    /// Sends a 6-digit binding code by SMS to `phone` if it is the recorded phone of a
    /// their-side partner contact of the tenant. The answer is the same either way.
    #[instrument(skip_all)]
    async fn request_binding_code(
        &self,
        ctx: &Context<'_>,
        input: RequestBindingCodeInput,
    ) -> ApiResult<RequestBindingCodePayload> {
        let (caller, state) = caller::of(ctx);
        let tenant = parse_tenant(&input.tenant_id)?;
        let phone = parse_phone(&input.phone)?;
        let now = limits::now_ms();
        // A request counts as an attempt: it bounds the SMS one can make us send to a phone.
        let attempt = limits::reserve(
            state.db(),
            &limits::subjects(
                Attempt::CodeRequest,
                &PhoneKey::in_tenant(tenant, &phone),
                caller.client_addr,
            ),
            now,
        )
        .await?;
        attempt.failed();
        let code = drawn_code(ctx);
        match binding::recipient(state.db(), tenant, &phone).await? {
            Some(recipient) => {
                binding::issue(
                    state.db(),
                    &state.outbox_key,
                    tenant,
                    &phone,
                    &recipient,
                    &code,
                    now,
                )
                .await?
            }
            None => codes::as_if_issued(state.db(), &code, now).await?,
        }
        Ok(RequestBindingCodePayload {
            accepted: true,
            expires_in_seconds: codes::ttl_seconds(),
        })
    }

    /// Binds a their-side contact with the code it received, and signs it in: answers a contact
    /// token. A wrong code counts a try; the code is dead after 5 tries or 10 minutes.
    #[instrument(skip_all)]
    async fn bind_contact(
        &self,
        ctx: &Context<'_>,
        input: BindContactInput,
    ) -> ApiResult<BindContactPayload> {
        let (caller, state) = caller::of(ctx);
        let tenant = parse_tenant(&input.tenant_id)?;
        let phone = parse_phone(&input.phone)?;
        let code = BindingCode::parse(&input.code)
            .ok_or_else(|| ApiError::validation("code", "a code is 6 digits"))?;
        // Checked before the code is spent, so a typo here does not cost the code.
        Channel::parse(&input.channel).map_err(|error| validation(error.at("channel")))?;
        if let Some(open_id) = input.wechat_open_id.as_deref() {
            OpenId::parse(open_id).map_err(|error| validation(error.at("wechatOpenId")))?;
        }
        let now = limits::now_ms();
        let attempt = limits::reserve(
            state.db(),
            &limits::subjects(
                Attempt::Guess,
                &PhoneKey::in_tenant(tenant, &phone),
                caller.client_addr,
            ),
            now,
        )
        .await?;
        let Some(contact_id) = binding::redeem(state.db(), tenant, &phone, &code, now).await?
        else {
            attempt.failed();
            return Err(wrong_code());
        };
        // The code proved the phone: what follows is not a guess, whatever its outcome.
        attempt.release(state.db()).await?;
        let contact = ContactId::parse(&contact_id, "contactId").map_err(ApiError::internal)?;
        let command = BindCommand {
            contact_id: contact_id.clone(),
            phone: phone.as_str().to_owned(),
            channel: input.channel,
            wechat_open_id: input.wechat_open_id,
        };
        let epoch = binding_epoch(state, contact).await?;
        bind(ctx, tenant, contact, command).await?;
        let (token, token_expires_at) = token_for(state, tenant, contact, epoch, false).await?;
        tracing::info!(contact_id = %contact, "contact bound and signed in");
        Ok(BindContactPayload {
            contact: signed_in(state, tenant, contact).await?,
            token,
            token_expires_at,
        })
    }

    /// Signs a tenant-mode partner's contact in with its mobile number and password. The first
    /// sign-in binds the contact on the `APP` channel (seed: "having logged in or bound, the
    /// contact can order").
    #[instrument(skip_all)]
    async fn login(&self, ctx: &Context<'_>, input: LoginInput) -> ApiResult<LoginPayload> {
        let (caller, state) = caller::of(ctx);
        let tenant = parse_tenant(&input.tenant_id)?;
        let phone = parse_phone(&input.phone)?;
        password::check_given_password(&input.password, "password")?;
        let attempt = limits::reserve(
            state.db(),
            &limits::subjects(
                Attempt::Guess,
                &PhoneKey::in_tenant(tenant, &phone),
                caller.client_addr,
            ),
            limits::now_ms(),
        )
        .await?;
        let Some(account) =
            accounts::check_password(state.db(), tenant, &phone, &input.password).await?
        else {
            attempt.failed();
            return Err(wrong_password());
        };
        attempt.release(state.db()).await?;
        let contact =
            ContactId::parse(&account.contact_id, "contactId").map_err(ApiError::internal)?;
        let command = BindCommand {
            contact_id: account.contact_id.clone(),
            phone: phone.as_str().to_owned(),
            channel: PASSWORD_CHANNEL.to_owned(),
            wechat_open_id: None,
        };
        let epoch = binding_epoch(state, contact).await?;
        // A password of a contact no longer linked, or of a number since changed, opens nothing:
        // the same answer as a wrong password.
        if let Err(error) = bind(ctx, tenant, contact, command).await {
            return Err(match error.code {
                ErrorCode::PhoneMismatch | ErrorCode::NotAPartner | ErrorCode::NotFound => {
                    wrong_password()
                }
                _ => error,
            });
        }
        let (token, token_expires_at) =
            token_for(state, tenant, contact, epoch, account.must_change_password).await?;
        tracing::info!(contact_id = %contact, "contact signed in with a password");
        Ok(LoginPayload {
            contact: signed_in(state, tenant, contact).await?,
            token,
            token_expires_at,
            must_change_password: account.must_change_password,
        })
    }

    /// A signed-in contact with a platform account replaces its password.
    #[instrument(skip_all)]
    async fn change_password(
        &self,
        ctx: &Context<'_>,
        input: ChangePasswordInput,
    ) -> ApiResult<ChangePasswordPayload> {
        let (caller, state) = caller::of(ctx);
        // The one operation a session that must change its password may run.
        let actor = caller.signed_in()?;
        if actor.role != Role::Contact {
            return Err(ApiError::forbidden());
        }
        let tenant = actor.tenant_id.ok_or_else(ApiError::forbidden)?;
        password::check_given_password(&input.current_password, "currentPassword")?;
        let subjects = limits::contact_subjects(actor.id, caller.client_addr);
        let attempt = limits::reserve(state.db(), &subjects, limits::now_ms()).await?;
        let Some(account) = accounts::account_of(state.db(), tenant, actor.id).await? else {
            attempt.release(state.db()).await?;
            return Err(ApiError::not_found("platform account"));
        };
        let login = Phone::parse(&account.login).map_err(ApiError::internal)?;
        if let Err(refused) =
            password::check_new_password(&input.new_password, &input.current_password, &login)
        {
            attempt.release(state.db()).await?;
            return Err(refused.into());
        }
        if !account.verifies(&input.current_password).await? {
            attempt.failed();
            return Err(ApiError::new(
                ErrorCode::Unauthenticated,
                "the current password is not valid",
            ));
        }
        attempt.release(state.db()).await?;
        if !account
            .set_password(state.db(), &input.new_password)
            .await?
        {
            return Err(ApiError::new(
                ErrorCode::Conflict,
                "the password was changed meanwhile",
            ));
        }
        let contact = ContactId::from_uuid(actor.id);
        // Whoever knew the old password is signed out everywhere, this token included; the
        // answer carries a token of a new session.
        state
            .sessions
            .end_all_of(
                state.db(),
                actor.id,
                EndReason::PasswordChanged,
                limits::now_ms(),
            )
            .await?;
        let epoch = binding_epoch(state, contact).await?;
        let (token, token_expires_at) = token_for(state, tenant, contact, epoch, false).await?;
        tracing::info!(contact_id = %contact, "contact changed its password");
        Ok(ChangePasswordPayload {
            contact: signed_in(state, tenant, contact).await?,
            must_change_password: false,
            token,
            token_expires_at,
        })
    }

    /// Ends the session of the caller's token: it, and every token of the session, is refused
    /// from the next request on (on every server within a few seconds). A token minted by
    /// `dinghuo token` has no session to end: `FORBIDDEN`.
    #[instrument(skip_all)]
    async fn sign_out(&self, ctx: &Context<'_>) -> ApiResult<SignOutPayload> {
        let (caller, state) = caller::of(ctx);
        caller.signed_in()?;
        let session = caller.session.ok_or_else(|| {
            ApiError::new(
                ErrorCode::Forbidden,
                "this token belongs to no session (it was minted, not signed in)",
            )
        })?;
        let signed_out = state
            .sessions
            .end(state.db(), session, EndReason::SignedOut, limits::now_ms())
            .await?;
        Ok(SignOutPayload { signed_out })
    }
}
