//! Staff sign-in (DESIGN §4, Identity): a tenant's admins and invited employees sign in as
//! themselves with their phone and an SMS code, or a password they set. A person is one phone;
//! it may be staff of several tenants (one membership each, `dinghuo_domain::member`), and
//! picks one when it signs in.
//!
//! Which memberships a phone has is read from `rm_members` and each is confirmed on its
//! committed events before it counts, so a read model that lags never lets anyone in. Codes
//! live in the [`crate::codes`] slot of scope [`CODE_SCOPE`] and the phone's staff
//! fingerprint; the password, one per person, in `staff_credentials` (argon2id).

use std::time::Duration;

use dinghuo_commands::{Actor, Role};
use dinghuo_domain::member::{Member, StaffRole};
use dinghuo_domain::{MemberId, Phone, TenantId};
use dinghuo_projections::outbox::{OutboxKey, PASSWORD_PLACEHOLDER};
use dinghuo_projections::read::members::{self, MemberRow};
use dinghuo_store::event_store::EventLoader;
use dinghuo_store::sql;
use dinghuo_store::Database;
use uuid::Uuid;

use crate::codes::{self, BindingCode, Slot, CODE_TTL};
use crate::error::{IdentityError, IdentityResult};
use crate::limits::PhoneKey;
use crate::password::{hash_secret, verify_secret};
use crate::sms::{self, SecretSms};

/// `notification_outbox.template` of the SMS carrying a staff sign-in code.
pub const TEMPLATE: &str = "STAFF_SIGN_IN_CODE";
/// The [`Slot::scope`] of staff codes: one per person, whatever tenant it then picks.
pub const CODE_SCOPE: &str = "staff";
/// How long a staff token (and its session) is valid: a working day and then some.
pub const STAFF_TOKEN_TTL: Duration = Duration::from_secs(12 * 3600);
/// How recent a code sign-in must be for `setPassword` to need no current password (the
/// "forgot my password" path: the code proved the phone a moment ago).
pub const FRESH_CODE_SIGN_IN: Duration = Duration::from_secs(15 * 60);

/// One active membership of a person, confirmed on committed events.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    pub member_id: MemberId,
    pub tenant_id: TenantId,
    /// As `rm_tenants` shows it; `None` while it lags.
    pub tenant_name: Option<String>,
    pub role: StaffRole,
    /// Who the member acts as: its contact for an employee, its membership for an admin.
    pub actor_id: Uuid,
}

impl Membership {
    /// The actor a token of this membership names.
    pub fn actor(&self) -> Actor {
        let role = match self.role {
            StaffRole::Admin => Role::Admin,
            StaffRole::Employee => Role::Employee,
        };
        Actor::in_tenant(self.actor_id, role, self.tenant_id)
    }
}

/// The membership `row` names, if its committed events say it is active in its tenant with
/// `phone`.
async fn confirmed(
    loader: &EventLoader<Member>,
    row: MemberRow,
    phone: &Phone,
) -> IdentityResult<Option<Membership>> {
    let (Ok(tenant), Ok(member_id)) = (
        TenantId::parse(&row.tenant_id, "tenantId"),
        MemberId::parse(&row.member_id, "memberId"),
    ) else {
        return Err(IdentityError::internal(
            "a membership row with a malformed id",
        ));
    };
    let member = loader
        .load(&member_id.to_string())
        .await
        .map_err(IdentityError::internal)?
        .aggregate;
    let Some(role) = member.active_in(tenant) else {
        return Ok(None);
    };
    if member.phone() != Some(phone) {
        return Ok(None);
    }
    let actor_id = match member.contact_id() {
        Some(contact) => contact.as_uuid(),
        None => member_id.as_uuid(),
    };
    Ok(Some(Membership {
        member_id,
        tenant_id: tenant,
        tenant_name: row.tenant_name,
        role,
        actor_id,
    }))
}

/// Every active membership of `phone`, by tenant name.
pub async fn memberships(
    db: &Database,
    loader: &EventLoader<Member>,
    phone: &Phone,
) -> IdentityResult<Vec<Membership>> {
    let mut found = Vec::new();
    for row in members::active_of_phone(db, phone).await? {
        if let Some(membership) = confirmed(loader, row, phone).await? {
            found.push(membership);
        }
    }
    Ok(found)
}

/// The phone of membership `member`, if it is active: the person a staff token belongs to.
pub async fn phone_of(
    loader: &EventLoader<Member>,
    member: MemberId,
) -> IdentityResult<Option<Phone>> {
    let member = loader
        .load(&member.to_string())
        .await
        .map_err(IdentityError::internal)?
        .aggregate;
    Ok(member
        .is_active()
        .then(|| member.phone().cloned())
        .flatten())
}

/// Whether membership `member` is active in `tenant` as `role` now, from its committed events:
/// what every request of a staff token checks, so that a revocation whose ending of the sessions
/// did not happen (the process stopped in between) still shuts the member out.
pub async fn stands(
    loader: &EventLoader<Member>,
    member: MemberId,
    tenant: TenantId,
    role: Role,
) -> IdentityResult<bool> {
    let member = loader
        .load(&member.to_string())
        .await
        .map_err(IdentityError::internal)?
        .aggregate;
    let expected = match role {
        Role::Admin => StaffRole::Admin,
        Role::Employee => StaffRole::Employee,
        _ => return Ok(false),
    };
    Ok(member.active_in(tenant) == Some(expected))
}

fn slot(key: &PhoneKey) -> Slot<'_> {
    Slot {
        scope: CODE_SCOPE,
        phone: key,
    }
}

/// The SMS text, with [`PASSWORD_PLACEHOLDER`] where the dispatcher puts the code.
pub fn text(tenant_name: Option<&str>) -> String {
    let minutes = CODE_TTL.as_secs() / 60;
    let whose = tenant_name
        .map(|name| format!("【{}】", sms::plain(name)))
        .unwrap_or_default();
    format!(
        "{whose}订货通管理后台登录验证码{PASSWORD_PLACEHOLDER}，{minutes}分钟内有效。\
         请勿将验证码告诉他人；如非本人操作，请忽略本短信。"
    )
}

/// Stores the hash of `code` for `phone` and queues the SMS carrying it (see
/// [`codes::issue`]). The outbox row belongs to the first membership's tenant.
pub async fn issue_code(
    db: &Database,
    key: &OutboxKey,
    phone: &Phone,
    first: &Membership,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<()> {
    let code_id = Uuid::now_v7().to_string();
    let message_id = format!("staff-code:{code_id}");
    let member_id = first.member_id.to_string();
    let phone_key = PhoneKey::staff(phone);
    let message = SecretSms {
        message_id: &message_id,
        tenant: first.tenant_id,
        contact_id: &member_id,
        partner_id: "",
        template: TEMPLATE,
        phone,
        body: text(first.tenant_name.as_deref()),
    };
    codes::issue(db, key, slot(&phone_key), &code_id, message, code, now_ms).await
}

/// Whether `code` is the live staff code of `phone`; spent when `spend` (see
/// [`codes::redeem`] and [`codes::verify_unspent`]).
pub async fn check_code(
    db: &Database,
    phone: &Phone,
    code: &BindingCode,
    now_ms: i64,
    spend: bool,
) -> IdentityResult<bool> {
    let phone_key = PhoneKey::staff(phone);
    let found = if spend {
        codes::redeem(db, slot(&phone_key), code, now_ms).await?
    } else {
        codes::verify_unspent(db, slot(&phone_key), code, now_ms).await?
    };
    Ok(found.is_some())
}

/// The person's password hash, if it has set one.
async fn password_hash(db: &Database, phone: &Phone) -> IdentityResult<Option<String>> {
    Ok(sql::fetch_all::<(String,)>(
        db,
        "SELECT password_hash FROM staff_credentials WHERE phone = $1",
        &[phone.as_str().into()],
    )
    .await?
    .into_iter()
    .next()
    .map(|(hash,)| hash))
}

/// Whether the person has set a password.
pub async fn has_password(db: &Database, phone: &Phone) -> IdentityResult<bool> {
    Ok(password_hash(db, phone).await?.is_some())
}

/// Whether `password` is the person's. A phone without a password checks a decoy hash, so it
/// takes as long as a wrong password.
pub async fn check_password(db: &Database, phone: &Phone, password: &str) -> IdentityResult<bool> {
    let hash = password_hash(db, phone).await?;
    verify_secret(password.to_owned(), hash).await
}

/// Stores the hash of `new_password` as the person's password, replacing any.
pub async fn set_password(
    db: &Database,
    phone: &Phone,
    new_password: &str,
    now_ms: i64,
) -> IdentityResult<()> {
    let hash = hash_secret(new_password.to_owned()).await?;
    sql::execute(
        db,
        "INSERT INTO staff_credentials (phone, password_hash, updated_at_ms) VALUES ($1, $2, $3)
         ON CONFLICT (phone) DO UPDATE
            SET password_hash = excluded.password_hash, updated_at_ms = excluded.updated_at_ms",
        &[phone.as_str().into(), hash.into(), now_ms.into()],
    )
    .await?;
    Ok(())
}
