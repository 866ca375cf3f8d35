//! One-time binding codes (seed §2: "on first entry the contact must verify and bind their
//! identity"): a code ([`crate::codes`]) sent by SMS to the phone recorded for a their-side
//! contact, in the slot of the tenant and the phone.

use dinghuo_domain::{Phone, TenantId};
use dinghuo_projections::outbox::{OutboxKey, PASSWORD_PLACEHOLDER};
use dinghuo_store::sql;
use dinghuo_store::Database;
use uuid::Uuid;

use crate::codes::{self, Slot};
pub use crate::codes::{
    sweep_expired, BindingCode, CodeGenerator, CODE_DIGITS, CODE_TTL, MAX_TRIES,
};
use crate::error::IdentityResult;
use crate::limits::PhoneKey;
use crate::sms::{self, SecretSms};

/// `notification_outbox.template` of the SMS carrying a code.
pub const TEMPLATE: &str = "BINDING_CODE";

/// The their-side contact a phone belongs to, and its partner.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Recipient {
    pub contact_id: String,
    pub partner_id: String,
}

/// The their-side contact of `tenant` whose recorded phone is `phone`, if any.
///
/// Read from the notifications reactor's `outbox_contacts` (the full normalised number, indexed by
/// migration 0004) and the `contacts` read model's links: a lookup, not a rule — binding itself
/// checks the phone against the contact's committed events. When several contact records of the
/// tenant share the number, the one added most recently as partner contact is taken: the SMS the
/// person acted on is most likely the latest.
pub async fn recipient(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
) -> IdentityResult<Option<Recipient>> {
    let found: Vec<Recipient> = sql::fetch_all(
        db,
        "SELECT c.contact_id, l.partner_id
           FROM outbox_contacts c
           JOIN rm_partner_contacts l
             ON l.contact_id = c.contact_id AND l.tenant_id = c.tenant_id AND l.side = 'THEIRS'
          WHERE c.tenant_id = $1 AND c.phone = $2
          ORDER BY l.added_at DESC, c.contact_id
          LIMIT 1",
        &[tenant.to_string().into(), phone.as_str().into()],
    )
    .await?;
    Ok(found.into_iter().next())
}

/// The SMS text, with [`PASSWORD_PLACEHOLDER`] where the dispatcher puts the code.
pub fn text(tenant_name: Option<&str>) -> String {
    let minutes = CODE_TTL.as_secs() / 60;
    let whose = tenant_name
        .map(|name| format!("{}的", sms::plain(name)))
        .unwrap_or_default();
    format!(
        "您正在绑定{whose}订货通身份，验证码{PASSWORD_PLACEHOLDER}，{minutes}分钟内有效。\
         请勿将验证码告诉他人；如非本人操作，请忽略本短信。"
    )
}

/// Stores the hash of `code` for `recipient` and queues the SMS carrying it, the code sealed
/// with `key`, in one transaction that also sweeps expired codes. A previous code of the same
/// tenant and phone is replaced (and its SMS cancelled if unsent).
pub async fn issue(
    db: &Database,
    key: &OutboxKey,
    tenant: TenantId,
    phone: &Phone,
    recipient: &Recipient,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<()> {
    let tenant_name = sms::tenant_name(db, tenant).await?;
    let code_id = Uuid::now_v7().to_string();
    let message_id = format!("code:{code_id}");
    let scope = tenant.to_string();
    let phone_key = PhoneKey::in_tenant(tenant, phone);
    let message = SecretSms {
        message_id: &message_id,
        tenant,
        contact_id: &recipient.contact_id,
        partner_id: &recipient.partner_id,
        template: TEMPLATE,
        phone,
        body: text(tenant_name.as_deref()),
    };
    let slot = Slot {
        scope: &scope,
        phone: &phone_key,
    };
    codes::issue(db, key, slot, &code_id, message, code, now_ms).await
}

/// Spends `code` if it is the live binding code of `tenant` and `phone`: answers the contact it
/// binds (see [`codes::redeem`]).
pub async fn redeem(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
    code: &BindingCode,
    now_ms: i64,
) -> IdentityResult<Option<String>> {
    let scope = tenant.to_string();
    let phone_key = PhoneKey::in_tenant(tenant, phone);
    let slot = Slot {
        scope: &scope,
        phone: &phone_key,
    };
    codes::redeem(db, slot, code, now_ms).await
}
