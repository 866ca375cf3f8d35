//! Rate limits of contact sign-in (`requestBindingCode`, `bindContact`, `login`,
//! `changePassword`): at most [`MAX_FAILURES`] attempts within [`WINDOW`] per subject — a phone of a
//! tenant, a client address, a contact. Beyond that the caller is answered `RATE_LIMITED` before
//! any secret is looked at, so guessing costs the attacker the window, not us a hash.
//!
//! An attempt is reserved before the secret is checked and given back afterwards unless it
//! failed (as `dinghuo_commands::throttle` does for phone guesses), so parallel guesses cannot all
//! pass a check that counts only finished failures. Attempts live in `auth_attempts`, in the
//! database, so that every API node counts the same ones; a refusal appends nothing to the log.

use std::net::IpAddr;
use std::time::Duration;

use dinghuo_domain::{Phone, TenantId};
use dinghuo_store::sql::{self, Arg};
use dinghuo_store::Database;
use uuid::Uuid;

use crate::graphql::error::ApiError;

/// Attempts a subject may spend within [`WINDOW`]; the next one is refused.
pub const MAX_FAILURES: i64 = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

/// Namespace of the phone fingerprints in `auth_attempts` and `binding_codes`.
const PHONE_NAMESPACE: Uuid = Uuid::from_u128(0x6a0d_41c7_2f5e_4b19_8c3a_d27e_91f0_5b64);

/// A stable fingerprint of `phone` within `tenant` (UUID v5). Keeps the numbers people typed out
/// of sight in our tables; mobile numbers are few enough to be guessed from it, so it is not a
/// secret and never used as one.
pub fn phone_key(tenant: TenantId, phone: &Phone) -> String {
    Uuid::new_v5(
        &PHONE_NAMESPACE,
        format!("{tenant}:{}", phone.as_str()).as_bytes(),
    )
    .to_string()
}

/// What attempts are counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Subject(String);

impl Subject {
    /// A phone of a tenant: the person guessed at, whatever address the guesses come from.
    pub fn phone(tenant: TenantId, phone: &Phone) -> Self {
        Self(format!("phone:{}", phone_key(tenant, phone)))
    }

    /// A client address: the guesser, whatever phones it tries. An IPv6 client is counted by its
    /// /64, since one host usually holds a whole /64.
    pub fn address(address: IpAddr) -> Self {
        let address = match address {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => v4.to_string(),
                None => {
                    let s = v6.segments();
                    format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
                }
            },
            IpAddr::V4(v4) => v4.to_string(),
        };
        Self(format!("addr:{address}"))
    }

    /// A signed-in contact (`changePassword`): a stolen token must not buy unlimited guesses of
    /// the current password.
    pub fn contact(contact_id: Uuid) -> Self {
        Self(format!("contact:{contact_id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The subjects of an anonymous sign-in attempt: the phone, and the client address when known.
pub fn subjects(tenant: TenantId, phone: &Phone, client: Option<IpAddr>) -> Vec<Subject> {
    let mut subjects = vec![Subject::phone(tenant, phone)];
    subjects.extend(client.map(Subject::address));
    subjects
}

fn window_ms() -> i64 {
    i64::try_from(WINDOW.as_millis()).unwrap_or(i64::MAX)
}

/// Milliseconds since the Unix epoch, the unit of `auth_attempts` and `binding_codes`.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Attempts reserved for one request: keep them with [`Reservation::failed`] or give them back
/// with [`Reservation::release`]. Dropped unused (an error on the way), they count as failed:
/// under doubt the limit errs on the side of refusing.
#[must_use]
#[derive(Debug)]
pub struct Reservation {
    attempt_ids: Vec<String>,
}

/// Reserves one attempt per subject at `now_ms`, or refuses with `RATE_LIMITED` when any subject
/// already spent [`MAX_FAILURES`] within the window (a refused attempt does not count).
pub async fn reserve(
    db: &Database,
    subjects: &[Subject],
    now_ms: i64,
) -> Result<Reservation, ApiError> {
    let since = now_ms.saturating_sub(window_ms());
    // Attempts that left the window count for nothing: forget them, for every subject.
    sql::execute(
        db,
        "DELETE FROM auth_attempts WHERE attempted_at_ms <= $1",
        &[since.into()],
    )
    .await?;
    let mut reservation = Reservation {
        attempt_ids: Vec::with_capacity(subjects.len()),
    };
    for subject in subjects {
        let id = Uuid::now_v7().to_string();
        sql::execute(
            db,
            "INSERT INTO auth_attempts (attempt_id, subject, attempted_at_ms) VALUES ($1, $2, $3)",
            &[id.as_str().into(), subject.as_str().into(), now_ms.into()],
        )
        .await?;
        reservation.attempt_ids.push(id);
    }
    // Counted after inserting: of two racing attempts, the later count sees both.
    let mut free_at: Option<i64> = None;
    for subject in subjects {
        let (attempts, oldest) = count(db, subject, since).await?;
        if attempts > MAX_FAILURES {
            let at = oldest.unwrap_or(now_ms).saturating_add(window_ms());
            free_at = Some(free_at.map_or(at, |other| other.max(at)));
        }
    }
    if let Some(free_at) = free_at {
        reservation.release(db).await?;
        let retry_after_secs = u64::try_from((free_at - now_ms).max(0) / 1000 + 1).unwrap_or(1);
        return Err(ApiError::rate_limited(Duration::from_secs(
            retry_after_secs,
        )));
    }
    Ok(reservation)
}

/// The attempts of `subject` after `since`, and the time of the oldest.
async fn count(
    db: &Database,
    subject: &Subject,
    since: i64,
) -> Result<(i64, Option<i64>), sqlx::Error> {
    let query = "SELECT COUNT(*), MIN(attempted_at_ms) FROM auth_attempts
                  WHERE subject = $1 AND attempted_at_ms > $2";
    match db {
        Database::Postgres(pool) => {
            sqlx::query_as(query)
                .bind(subject.as_str())
                .bind(since)
                .fetch_one(pool)
                .await
        }
        Database::Sqlite(pool) => {
            sqlx::query_as(query)
                .bind(subject.as_str())
                .bind(since)
                .fetch_one(pool)
                .await
        }
    }
}

impl Reservation {
    /// The attempt failed (a wrong secret, or a code request): it counts until it leaves the
    /// window.
    pub fn failed(self) {}

    /// The attempt succeeded, or was refused for a reason that is not a guess.
    pub async fn release(self, db: &Database) -> Result<(), ApiError> {
        for id in &self.attempt_ids {
            sql::execute(
                db,
                "DELETE FROM auth_attempts WHERE attempt_id = $1",
                &[Arg::from(id.as_str())],
            )
            .await?;
        }
        Ok(())
    }
}
