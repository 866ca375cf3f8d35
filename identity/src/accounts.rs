//! Platform accounts of tenant-mode partners' contacts (seed: "the SMS gives the login account —
//! the contact's mobile number — and a password"): checking a password against the argon2id hash
//! the notifications reactor stored in `credentials`, and changing it; and how the read models
//! show a signed-in contact.

use dinghuo_domain::{ContactId, Phone, TenantId};
use dinghuo_store::sql;
use dinghuo_store::Database;
use uuid::Uuid;

use crate::error::IdentityResult;
use crate::password::{hash_secret, verify_secret};

/// One platform account, as `credentials` holds it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Account {
    pub contact_id: String,
    /// The phone the account signs in with (normalised).
    pub login: String,
    password_hash: String,
    pub must_change_password: bool,
}

/// The accounts whose login is `phone` in `tenant` (a login is unique only within a tenant, and
/// not even there when two contact records share a number). Whether the contact may still sign in
/// is for the command layer to say (see `login` in `graphql/mutations/auth.rs`).
async fn accounts(db: &Database, tenant: TenantId, phone: &Phone) -> IdentityResult<Vec<Account>> {
    Ok(sql::fetch_all(
        db,
        "SELECT contact_id, login, password_hash, must_change_password
           FROM credentials
          WHERE tenant_id = $1 AND login = $2
          ORDER BY created_at, contact_id",
        &[tenant.to_string().into(), phone.as_str().into()],
    )
    .await?)
}

/// The account of `tenant` whose login is `phone` and whose password is `password`, if any. Every
/// path checks at least one hash, so an unknown phone takes as long as a wrong password.
pub async fn check_password(
    db: &Database,
    tenant: TenantId,
    phone: &Phone,
    password: &str,
) -> IdentityResult<Option<Account>> {
    let candidates = accounts(db, tenant, phone).await?;
    if candidates.is_empty() {
        verify_secret(password.to_owned(), None).await?;
        return Ok(None);
    }
    for account in candidates {
        if verify_secret(password.to_owned(), Some(account.password_hash.clone())).await? {
            return Ok(Some(account));
        }
    }
    Ok(None)
}

/// The platform account of a signed-in contact, if it has one (tenantless contacts have none).
pub async fn account_of(
    db: &Database,
    tenant: TenantId,
    contact: Uuid,
) -> IdentityResult<Option<Account>> {
    Ok(sql::fetch_all(
        db,
        "SELECT contact_id, login, password_hash, must_change_password
           FROM credentials WHERE contact_id = $1 AND tenant_id = $2",
        &[contact.to_string().into(), tenant.to_string().into()],
    )
    .await?
    .into_iter()
    .next())
}

impl Account {
    /// Whether `password` is this account's.
    pub async fn verifies(&self, password: &str) -> IdentityResult<bool> {
        verify_secret(password.to_owned(), Some(self.password_hash.clone())).await
    }

    /// Stores the hash of `new_password` as the contact's own choice. Answers `false` when the
    /// password changed meanwhile (another change won the race), leaving that one in place.
    pub async fn set_password(&self, db: &Database, new_password: &str) -> IdentityResult<bool> {
        let hash = hash_secret(new_password.to_owned()).await?;
        let changed = sql::execute(
            db,
            "UPDATE credentials SET password_hash = $1, must_change_password = $2
              WHERE contact_id = $3 AND password_hash = $4",
            &[
                hash.into(),
                false.into(),
                self.contact_id.as_str().into(),
                self.password_hash.as_str().into(),
            ],
        )
        .await?;
        Ok(changed == 1)
    }
}

/// A signed-in contact as the `contacts` read model shows it, to greet it in a sign-in's answer.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct Shown {
    pub name: Option<String>,
    /// The partner it orders for.
    pub partner_id: Option<String>,
}

/// How the read models show `contact` of `tenant` (nothing yet, when they lag behind).
pub async fn as_shown(
    db: &Database,
    tenant: TenantId,
    contact: ContactId,
) -> IdentityResult<Shown> {
    Ok(sql::fetch_all(
        db,
        "SELECT c.name, l.partner_id
           FROM rm_contacts c
           LEFT JOIN rm_partner_contacts l ON l.contact_id = c.contact_id AND l.side = 'THEIRS'
          WHERE c.contact_id = $1 AND c.tenant_id = $2
          LIMIT 1",
        &[contact.to_string().into(), tenant.to_string().into()],
    )
    .await?
    .into_iter()
    .next()
    .unwrap_or_default())
}
