//! Staff: who is on a tenant's staff (`createTenantAdmin`, `inviteEmployee`,
//! `revokeStaffAccess`) and how staff sign in as themselves (`requestSignInCode`, `signIn`,
//! `switchTenant`, `setPassword`). DESIGN §4, Identity.
//!
//! The sign-in mutations are anonymous (or, for the last two, a staff session's). Like the
//! contacts' (`auth.rs`), none of their answers tells whether a phone belongs to anyone before
//! its code or password is proven: an unknown phone gets the same payload or the same refusal,
//! after the same rate limit and the same argon2 work. Secrets are never logged: the resolvers
//! are instrumented with `skip_all`, and the inputs carrying secrets do not derive `Debug`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::{
    Actor, CreateTenantAdminInput as CreateAdminCommand, InviteEmployeeInput as InviteCommand,
    MemberRef, RevokeStaffAccessInput as RevokeCommand,
};
use dinghuo_domain::{ErrorCode, MemberId, Phone, TenantId};
use dinghuo_identity::binding::BindingCode;
use dinghuo_identity::limits::{self, Attempt, PhoneKey};
use dinghuo_identity::sessions::EndReason;
use dinghuo_identity::staff::{self, Membership as Member, FRESH_CODE_SIGN_IN, STAFF_TOKEN_TTL};
use dinghuo_identity::{codes, password};
use tracing::instrument;

use super::auth::{drawn_code, parse_phone, parse_tenant};
use crate::graphql::caller::{self, Caller};
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::rw;
use crate::graphql::state::ApiState;
use crate::graphql::types::member;
use crate::graphql::types::{Membership, StaffMember};

#[derive(Default)]
pub struct StaffMutations;

/// The operator makes a person a tenant's admin; it then signs in with its phone.
#[derive(Debug, InputObject)]
pub struct CreateTenantAdminInput {
    pub tenant_id: ID,
    pub name: String,
    /// The phone the admin signs in with.
    pub phone: String,
}

/// An admin lets one of the tenant's employees (an our-side contact with a phone) sign in.
#[derive(Debug, InputObject)]
pub struct InviteEmployeeInput {
    pub contact_id: ID,
}

#[derive(Debug, InputObject)]
pub struct RevokeStaffAccessInput {
    pub member_id: ID,
    /// Only the operator names a tenant.
    pub tenant_id: Option<ID>,
}

#[derive(Debug, SimpleObject)]
pub struct StaffMemberPayload {
    /// The member as the read model shows it after the change.
    pub member: Option<StaffMember>,
}

#[derive(Debug, InputObject)]
pub struct RequestSignInCodeInput {
    pub phone: String,
}

#[derive(Debug, SimpleObject)]
pub struct RequestSignInCodePayload {
    /// Always true: if the phone is a staff member's, a code is on its way by SMS.
    pub accepted: bool,
    /// How long a code stays valid.
    pub expires_in_seconds: i32,
}

/// Exactly one of `code` and `password`.
#[derive(InputObject)]
pub struct SignInInput {
    pub phone: String,
    /// The 6-digit code from the SMS (`requestSignInCode`).
    pub code: Option<String>,
    /// The password the person set (`setPassword`).
    pub password: Option<String>,
    /// The tenant to act in; needed when the phone is staff of several
    /// (`TENANT_CHOICE_REQUIRED` lists them).
    pub tenant_id: Option<ID>,
}

#[derive(InputObject)]
pub struct SwitchTenantInput {
    pub tenant_id: ID,
}

#[derive(InputObject)]
pub struct SetPasswordInput {
    /// At least 10 characters, at most 128; not the phone number, not a common password.
    pub new_password: String,
    /// Needed when a password is set already, unless the session signed in with an SMS code
    /// in the last 15 minutes; ignored when none is set.
    pub current_password: Option<String>,
}

#[derive(Debug, SimpleObject)]
pub struct SignInPayload {
    /// A bearer token of a new session (`Authorization: Bearer <token>`), valid 12 hours.
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
    /// The membership signed in to.
    pub member: StaffMember,
    /// Every tenant the person may act in (`switchTenant`).
    #[graphql(
        complexity = "crate::graphql::complexity::list(crate::graphql::complexity::MEMBERSHIPS, child_complexity)"
    )]
    pub memberships: Vec<Membership>,
    /// Whether the person has set a password (else it signs in with codes only).
    pub has_password: bool,
}

#[derive(Debug, SimpleObject)]
pub struct SetPasswordPayload {
    /// A token of a new session: setting the password ended every session of the person, the
    /// one that set it included.
    pub token: String,
    pub token_expires_at: DateTime<Utc>,
}

fn wrong_sign_in() -> ApiError {
    // One answer for an unknown phone, a wrong or spent code, a wrong password, a revoked
    // membership and a tenant the phone is not staff of.
    ApiError::new(
        ErrorCode::Unauthenticated,
        "the phone, code or password is not valid (a code expires after 10 minutes)",
    )
}

fn no_staff_session() -> ApiError {
    ApiError::new(
        ErrorCode::Forbidden,
        "only a signed-in staff member's session may do this (see signIn)",
    )
}

/// The payload of a membership once the members read model shows the change.
async fn payload(ctx: &Context<'_>, written: MemberRef) -> ApiResult<StaffMemberPayload> {
    let (_, state) = caller::of(ctx);
    let id = written.id.to_string();
    rw::wait(ctx, "Member", &id, &["members"]).await;
    Ok(StaffMemberPayload {
        member: member::find(state.db(), &written.tenant.to_string(), &id).await?,
    })
}

/// The memberships of a phone as a sign-in answers them.
fn shown(memberships: &[Member]) -> Vec<Membership> {
    memberships.iter().map(Membership::from).collect()
}

/// Opens a session of `membership` and answers its token and expiry. The membership is checked
/// again once the session exists: a revocation that committed meanwhile either sees the
/// session (and ends it) or is seen here.
async fn sign_in_to(
    state: &ApiState,
    membership: &Member,
    by_code: bool,
) -> ApiResult<(String, DateTime<Utc>)> {
    let actor: Actor = membership.actor();
    let session = state
        .sessions
        .open(state.db(), &actor, false, STAFF_TOKEN_TTL, limits::now_ms())
        .await?;
    let loader = state.commands.members().loader();
    if staff::phone_of(loader, membership.member_id)
        .await?
        .is_none()
    {
        state
            .sessions
            .end(
                state.db(),
                session.id,
                EndReason::AccessRevoked,
                limits::now_ms(),
            )
            .await?;
        return Err(wrong_sign_in());
    }
    let token = state
        .tokens
        .issue_for_staff(
            &actor,
            session.id,
            membership.member_id.as_uuid(),
            by_code,
            STAFF_TOKEN_TTL,
        )
        .map_err(ApiError::internal)?;
    let ttl = chrono::Duration::from_std(STAFF_TOKEN_TTL).map_err(ApiError::internal)?;
    Ok((token, Utc::now() + ttl))
}

/// The answer of a sign-in to `membership`, among all of the person's `memberships`.
async fn signed_in(
    state: &ApiState,
    phone: &Phone,
    membership: &Member,
    memberships: &[Member],
    by_code: bool,
) -> ApiResult<SignInPayload> {
    let (token, token_expires_at) = sign_in_to(state, membership, by_code).await?;
    let tenant = membership.tenant_id.to_string();
    let member = member::find(state.db(), &tenant, &membership.member_id.to_string())
        .await?
        .ok_or_else(|| ApiError::internal("a confirmed membership the read model lacks"))?;
    tracing::info!(member_id = %membership.member_id, tenant_id = %tenant, "staff member signed in");
    Ok(SignInPayload {
        token,
        token_expires_at,
        member,
        memberships: shown(memberships),
        has_password: staff::has_password(state.db(), phone).await?,
    })
}

/// A signed-in staff session's membership id and the person's phone; `FORBIDDEN` for any
/// other caller, `UNAUTHENTICATED` once the membership is revoked.
async fn staff_session(caller: &Caller, state: &ApiState) -> ApiResult<(Actor, MemberId, Phone)> {
    let actor = caller.signed_in()?;
    let member = caller
        .member
        .map(MemberId::from_uuid)
        .ok_or_else(no_staff_session)?;
    let phone = staff::phone_of(state.commands.members().loader(), member)
        .await?
        .ok_or_else(ApiError::unauthenticated)?;
    Ok((actor, member, phone))
}

/// What a sign-in proves the caller knows.
enum Secret {
    Code(BindingCode),
    Password(String),
}

impl Secret {
    fn of(input: &SignInInput) -> ApiResult<Self> {
        match (input.code.as_deref(), input.password.as_deref()) {
            (Some(code), None) => BindingCode::parse(code)
                .map(Self::Code)
                .ok_or_else(|| ApiError::validation("code", "a code is 6 digits")),
            (None, Some(password)) => {
                password::check_given_password(password, "password")?;
                Ok(Self::Password(password.to_owned()))
            }
            _ => Err(ApiError::validation(
                "code",
                "give either the code from the SMS or the password",
            )),
        }
    }
}

/// Which of a phone's memberships a sign-in asks for.
enum Choice<'a> {
    One(&'a Member),
    /// Several, and the sign-in named none.
    Ask,
    /// None (no membership at all, or none in the tenant named).
    Nothing,
}

fn choose(memberships: &[Member], tenant: Option<TenantId>) -> Choice<'_> {
    match (tenant, memberships) {
        (Some(tenant), _) => memberships
            .iter()
            .find(|m| m.tenant_id == tenant)
            .map_or(Choice::Nothing, Choice::One),
        (None, [only]) => Choice::One(only),
        (None, []) => Choice::Nothing,
        (None, _) => Choice::Ask,
    }
}

fn tenant_choice_required(memberships: &[Member]) -> ApiError {
    let listed: Vec<serde_json::Value> = memberships
        .iter()
        .map(|m| {
            serde_json::json!({
                "memberId": m.member_id.to_string(),
                "tenantId": m.tenant_id.to_string(),
                "tenantName": m.tenant_name,
                "role": m.role.as_str(),
            })
        })
        .collect();
    ApiError::new(
        ErrorCode::TenantChoiceRequired,
        "this phone is staff of several tenants: sign in again naming one (tenantId); the code \
         stays valid",
    )
    .with_detail(
        "memberships",
        async_graphql::Value::from_json(serde_json::Value::Array(listed)).unwrap_or_default(),
    )
}

#[Object]
impl StaffMutations {
    /// The operator makes a person (a phone) an admin of a tenant. It signs in with that
    /// phone (`requestSignInCode`, `signIn`); a phone is one member per tenant.
    async fn create_tenant_admin(
        &self,
        ctx: &Context<'_>,
        input: CreateTenantAdminInput,
    ) -> ApiResult<StaffMemberPayload> {
        let (caller, state) = caller::of(ctx);
        let command = CreateAdminCommand {
            tenant_id: input.tenant_id.0,
            name: input.name,
            phone: input.phone,
        };
        let written = state
            .commands
            .create_tenant_admin(&caller.command_context()?, command)
            .await?;
        payload(ctx, written).await
    }

    /// An admin lets an employee of its tenant (an our-side contact with a phone) sign in as
    /// itself; it acts as that contact, for the partners it is linked to.
    async fn invite_employee(
        &self,
        ctx: &Context<'_>,
        input: InviteEmployeeInput,
    ) -> ApiResult<StaffMemberPayload> {
        let (caller, state) = caller::of(ctx);
        let command = InviteCommand {
            contact_id: input.contact_id.0,
        };
        let written = state
            .commands
            .invite_employee(&caller.command_context()?, command)
            .await?;
        payload(ctx, written).await
    }

    /// Revokes a member's access: its sessions end at once (on every server within a few
    /// seconds) and it can no longer sign in to the tenant. Not one's own.
    async fn revoke_staff_access(
        &self,
        ctx: &Context<'_>,
        input: RevokeStaffAccessInput,
    ) -> ApiResult<StaffMemberPayload> {
        let (caller, state) = caller::of(ctx);
        let command = RevokeCommand {
            member_id: input.member_id.0,
            tenant_id: input.tenant_id.map(|id| id.0),
        };
        let written = state
            .commands
            .revoke_staff_access(&caller.command_context()?, command)
            .await?;
        state
            .sessions
            .end_all_of(
                state.db(),
                written.actor,
                EndReason::AccessRevoked,
                limits::now_ms(),
            )
            .await?;
        payload(ctx, written).await
    }

    /// Sends a 6-digit sign-in code by SMS to `phone` if it is a staff member's (of any
    /// tenant). The answer is the same either way.
    #[instrument(skip_all)]
    async fn request_sign_in_code(
        &self,
        ctx: &Context<'_>,
        input: RequestSignInCodeInput,
    ) -> ApiResult<RequestSignInCodePayload> {
        let (caller, state) = caller::of(ctx);
        let phone = parse_phone(&input.phone)?;
        let now = limits::now_ms();
        let attempt = limits::reserve(
            state.db(),
            &limits::staff_code_request_subjects(&PhoneKey::staff(&phone), caller.client_addr),
            now,
        )
        .await?;
        attempt.failed();
        let code = drawn_code(ctx);
        let memberships =
            staff::memberships(state.db(), state.commands.members().loader(), &phone).await?;
        match memberships.first() {
            Some(first) => {
                staff::issue_code(state.db(), &state.outbox_key, &phone, first, &code, now).await?
            }
            None => codes::as_if_issued(state.db(), &code, now).await?,
        }
        Ok(RequestSignInCodePayload {
            accepted: true,
            expires_in_seconds: codes::ttl_seconds(),
        })
    }

    /// Signs a staff member in with its phone and an SMS code or its password, and answers a
    /// token of a new session. A phone that is staff of several tenants names one
    /// (`tenantId`); without it the answer is `TENANT_CHOICE_REQUIRED` listing them, and the
    /// code is not spent. A wrong code or password counts against the phone and the client
    /// address.
    #[instrument(skip_all)]
    async fn sign_in(&self, ctx: &Context<'_>, input: SignInInput) -> ApiResult<SignInPayload> {
        let (caller, state) = caller::of(ctx);
        let phone = parse_phone(&input.phone)?;
        let secret = Secret::of(&input)?;
        let tenant = input.tenant_id.as_ref().map(parse_tenant).transpose()?;
        let now = limits::now_ms();
        let attempt = limits::reserve(
            state.db(),
            &limits::subjects(Attempt::Guess, &PhoneKey::staff(&phone), caller.client_addr),
            now,
        )
        .await?;
        let memberships =
            staff::memberships(state.db(), state.commands.members().loader(), &phone).await?;
        let choice = choose(&memberships, tenant);
        // A code is spent only by the sign-in it opens.
        let spend = matches!(choice, Choice::One(_));
        let proven = match &secret {
            Secret::Code(code) => staff::check_code(state.db(), &phone, code, now, spend).await?,
            Secret::Password(password) => {
                staff::check_password(state.db(), &phone, password).await?
            }
        };
        if !proven {
            attempt.failed();
            return Err(wrong_sign_in());
        }
        attempt.release(state.db()).await?;
        let by_code = matches!(secret, Secret::Code(_));
        match choice {
            Choice::One(membership) => {
                signed_in(state, &phone, membership, &memberships, by_code).await
            }
            Choice::Ask => Err(tenant_choice_required(&memberships)),
            Choice::Nothing => Err(wrong_sign_in()),
        }
    }

    /// A signed-in staff member acts in another tenant it is staff of: answers a token of a
    /// new session there (the current one stays). `NOT_FOUND` for a tenant it is not staff of.
    #[instrument(skip_all)]
    async fn switch_tenant(
        &self,
        ctx: &Context<'_>,
        input: SwitchTenantInput,
    ) -> ApiResult<SignInPayload> {
        let (caller, state) = caller::of(ctx);
        caller.actor()?;
        let (_, _, phone) = staff_session(caller, state).await?;
        let tenant = parse_tenant(&input.tenant_id)?;
        let memberships =
            staff::memberships(state.db(), state.commands.members().loader(), &phone).await?;
        let Choice::One(membership) = choose(&memberships, Some(tenant)) else {
            return Err(ApiError::not_found("membership"));
        };
        // A switched session counts as a password sign-in: it is no fresh proof of the phone.
        signed_in(state, &phone, membership, &memberships, false).await
    }

    /// A signed-in staff member sets its password (one per person, whatever tenant). The
    /// current password is needed when one is set, unless this session signed in with an SMS
    /// code in the last 15 minutes (the "forgot my password" path). Every session of the
    /// person ends, this one included; the answer carries a token of a new session.
    #[instrument(skip_all)]
    async fn set_password(
        &self,
        ctx: &Context<'_>,
        input: SetPasswordInput,
    ) -> ApiResult<SetPasswordPayload> {
        let (caller, state) = caller::of(ctx);
        let (actor, member, phone) = staff_session(caller, state).await?;
        let current = input.current_password.as_deref().unwrap_or_default();
        password::check_new_password(&input.new_password, current, &phone)?;
        let db = state.db();
        let has_password = staff::has_password(db, &phone).await?;
        match input.current_password.as_deref().filter(|_| has_password) {
            Some(current) => {
                password::check_given_password(current, "currentPassword")?;
                let attempt = limits::reserve(
                    db,
                    &limits::subjects(Attempt::Guess, &PhoneKey::staff(&phone), caller.client_addr),
                    limits::now_ms(),
                )
                .await?;
                if !staff::check_password(db, &phone, current).await? {
                    attempt.failed();
                    return Err(ApiError::new(
                        ErrorCode::Unauthenticated,
                        "the current password is not valid",
                    ));
                }
                attempt.release(db).await?;
            }
            None if has_password && !fresh_code_sign_in(caller) => {
                return Err(ApiError::validation(
                    "currentPassword",
                    "the current password is needed (or sign in with an SMS code first)",
                ));
            }
            None => {}
        }
        staff::set_password(db, &phone, &input.new_password, limits::now_ms()).await?;
        // Whoever knew the old password, or holds a session of the person, is signed out.
        let memberships = staff::memberships(db, state.commands.members().loader(), &phone).await?;
        let mut actors: Vec<_> = memberships.iter().map(|m| m.actor_id).collect();
        actors.push(actor.id);
        actors.sort();
        actors.dedup();
        for subject in actors {
            state
                .sessions
                .end_all_of(db, subject, EndReason::PasswordChanged, limits::now_ms())
                .await?;
        }
        let membership = memberships
            .iter()
            .find(|m| m.member_id == member)
            .ok_or_else(ApiError::unauthenticated)?;
        let (token, token_expires_at) = sign_in_to(state, membership, false).await?;
        tracing::info!(member_id = %member, "staff member set its password");
        Ok(SetPasswordPayload {
            token,
            token_expires_at,
        })
    }
}

/// Whether the caller's session signed in with an SMS code within [`FRESH_CODE_SIGN_IN`].
fn fresh_code_sign_in(caller: &Caller) -> bool {
    let now = u64::try_from(Utc::now().timestamp()).unwrap_or(0);
    caller.signed_in_by_code
        && caller
            .issued_at
            .is_some_and(|at| now.saturating_sub(at) < FRESH_CODE_SIGN_IN.as_secs())
}
