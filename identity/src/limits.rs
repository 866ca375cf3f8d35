//! The rate limits of every sign-in path, on the platform's one limiter
//! ([`dinghuo_commands::limiter`]). Beyond a limit the caller is answered `RATE_LIMITED` before
//! any secret is looked at, so guessing costs the attacker the window, not us a hash.
//!
//! Two kinds of attempt are counted, each per phone and per client address:
//! - a **guess** (a code or a password typed): [`MAX_FAILURES`] per phone (or per signed-in
//!   contact proving its password) within [`WINDOW`]; a right guess is given back;
//! - a **code request** (an SMS we send): [`CODES_PER_PHONE`] per phone per hour.
//!
//! Per client address the limits are sized for an office behind one NAT, whose staff all arrive
//! from the same address: [`ADDRESS_CODES_PER_HOUR`] code requests and
//! [`ADDRESS_GUESSES_PER_WINDOW`] wrong guesses let 50 people each ask for a code three times and
//! mistype twice within the hour, while a guesser from one address still tries at most that many
//! phones, each of them still bounded by its own limits (and each code dies after 5 tries).

use std::net::IpAddr;
use std::time::Duration;

use dinghuo_commands::limiter::{self, Limit, Reservation, Subject};
use dinghuo_domain::{Phone, TenantId};
use dinghuo_store::Database;
use uuid::Uuid;

use crate::error::IdentityResult;

pub use dinghuo_commands::limiter::{MAX_FAILURES, WINDOW};

/// Codes one phone may be sent within an hour.
pub const CODES_PER_PHONE: i64 = 5;
/// Code requests one client address may make within an hour (50 staff, three each).
pub const ADDRESS_CODES_PER_HOUR: i64 = 150;
/// Wrong guesses one client address may make within [`WINDOW`] (50 staff, two each).
pub const ADDRESS_GUESSES_PER_WINDOW: i64 = 100;

const HOUR: Duration = Duration::from_secs(60 * 60);

/// Namespace of the phone fingerprints in `auth_attempts` and `binding_codes`.
const PHONE_NAMESPACE: Uuid = Uuid::from_u128(0x6a0d_41c7_2f5e_4b19_8c3a_d27e_91f0_5b64);

/// A stable fingerprint of a phone (UUID v5) within a tenant. Keeps the numbers people typed out of sight in our tables; mobile numbers are few
/// enough to be guessed from it, so it is not a secret and never used as one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PhoneKey(String);

impl PhoneKey {
    /// `phone` as a contact of `tenant` types it to bind or log in.
    pub fn in_tenant(tenant: TenantId, phone: &Phone) -> Self {
        Self::of(&format!("{tenant}:{}", phone.as_str()))
    }

    /// `phone` as a tenant's staff member types it to sign in (one person across tenants).
    pub fn staff(phone: &Phone) -> Self {
        Self::of(&format!("staff:{}", phone.as_str()))
    }

    fn of(name: &str) -> Self {
        Self(Uuid::new_v5(&PHONE_NAMESPACE, name.as_bytes()).to_string())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The limiter's subject of guesses at this phone.
    pub fn subject(&self) -> Subject {
        Subject::new("phone", &self.0)
    }
}

/// The fingerprint of `phone` within `tenant` ([`PhoneKey::in_tenant`]).
pub fn phone_key(tenant: TenantId, phone: &Phone) -> String {
    PhoneKey::in_tenant(tenant, phone).0
}

/// What an attempt is: a secret typed, or an SMS asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    Guess,
    CodeRequest,
}

/// The subjects of an anonymous sign-in attempt of `kind` at the phone `key`, from `client`
/// when its address is known, each under its limit.
pub fn subjects(kind: Attempt, key: &PhoneKey, client: Option<IpAddr>) -> Vec<(Subject, Limit)> {
    let mut subjects = match kind {
        Attempt::Guess => vec![(key.subject(), Limit::GUESSES)],
        // A code request is also a guess at the phone: the old rule (five attempts in fifteen
        // minutes, requests and wrong codes together) still holds, and at most five codes an hour.
        Attempt::CodeRequest => vec![
            (key.subject(), Limit::GUESSES),
            (
                Subject::new("codes", key.as_str()),
                Limit::new(CODES_PER_PHONE, HOUR),
            ),
        ],
    };
    subjects.extend(client.map(|client| address(kind, client)));
    subjects
}

/// The subjects of a staff member's code request (`requestSignInCode`) from `client`: five
/// codes per phone an hour, and the client address's budget of requests. Unlike a contact's
/// request, it is not also a guess at the phone: a request is no failure, and each code still
/// dies after its own five wrong tries, so a person who asked for a code may still mistype it
/// five times.
pub fn staff_code_request_subjects(
    key: &PhoneKey,
    client: Option<IpAddr>,
) -> Vec<(Subject, Limit)> {
    let mut subjects = vec![(
        Subject::new("codes", key.as_str()),
        Limit::new(CODES_PER_PHONE, HOUR),
    )];
    subjects.extend(client.map(|client| address(Attempt::CodeRequest, client)));
    subjects
}

/// The subjects of a signed-in contact proving its current password (`changePassword`): a
/// stolen token must not buy unlimited guesses of it.
pub fn contact_subjects(contact: Uuid, client: Option<IpAddr>) -> Vec<(Subject, Limit)> {
    let mut subjects = vec![(Subject::new("contact", contact), Limit::GUESSES)];
    subjects.extend(client.map(|client| address(Attempt::Guess, client)));
    subjects
}

/// A client address: the guesser, whatever phones it tries. An IPv6 client is counted by its
/// /64, since one host usually holds a whole /64.
pub fn address(kind: Attempt, address: IpAddr) -> (Subject, Limit) {
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
    match kind {
        Attempt::Guess => (
            Subject::new("addr", address),
            Limit::new(ADDRESS_GUESSES_PER_WINDOW, WINDOW),
        ),
        Attempt::CodeRequest => (
            Subject::new("addr-codes", address),
            Limit::new(ADDRESS_CODES_PER_HOUR, HOUR),
        ),
    }
}

/// Milliseconds since the Unix epoch, the unit of `auth_attempts` and `binding_codes`.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Reserves one attempt per subject at `now_ms`, or refuses with `RATE_LIMITED`.
pub async fn reserve(
    db: &Database,
    subjects: &[(Subject, Limit)],
    now_ms: i64,
) -> IdentityResult<Reservation> {
    Ok(limiter::reserve(db, subjects, now_ms).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_office_behind_one_address_can_onboard_fifty_people_in_an_hour() {
        let staff = 50;
        assert!(ADDRESS_CODES_PER_HOUR >= staff * 2);
        // Two mistyped codes each within every window of the hour.
        assert!(ADDRESS_GUESSES_PER_WINDOW >= staff * 2);
        let (_, codes) = address(Attempt::CodeRequest, "10.0.0.1".parse().expect("ip"));
        assert_eq!(codes.window(), HOUR);
    }

    #[test]
    fn a_code_request_and_a_guess_count_apart_per_address_but_together_per_phone() {
        let phone = Phone::parse("13800138000").expect("a phone");
        let tenant = TenantId::from_uuid(Uuid::now_v7());
        let client = Some("10.0.0.1".parse().expect("ip"));
        let key = PhoneKey::in_tenant(tenant, &phone);
        let guess = subjects(Attempt::Guess, &key, client);
        let request = subjects(Attempt::CodeRequest, &key, client);
        assert_eq!(
            guess[0], request[0],
            "one phone budget for requests and guesses"
        );
        assert_ne!(guess.last(), request.last(), "per address, apart");
        assert_eq!(request.len(), 3);
    }
}
