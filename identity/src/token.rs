//! Issuing and verifying tokens: HS256 JWTs signed with the [`JwtSecret`].
//!
//! Verification refuses, each with its own [`TokenError`] variant: a token that does not parse
//! (or is longer than [`MAX_TOKEN_BYTES`]), a header naming critical extensions (`crit`), a bad
//! signature, another algorithm than HS256, an expired token, one not valid yet (`nbf`) or
//! issued in the future (`iat`) beyond the clock skew, another issuer, an unknown role, a
//! non-operator without a tenant and an operator with one. All of them answer the client
//! `UNAUTHENTICATED`; the variant is for logs and tests.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{DateTime, Utc};
use dinghuo_commands::Actor;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use uuid::Uuid;

use crate::claims::{Claims, ISSUER, SIGNED_IN_BY_CODE, SIGNED_IN_BY_PASSWORD};
use crate::secret::JwtSecret;
pub use crate::token_error::TokenError;

/// How far the clocks of the issuing and the verifying machine may disagree: a token is still
/// accepted this long after its `exp`, and this long before its `nbf` or `iat`.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// The longest token accepted, in bytes; a longer one is malformed before anything of it is
/// decoded. Dinghuo's own are about 300.
pub const MAX_TOKEN_BYTES: usize = 4096;

/// The longest header segment read (base64url text). Dinghuo's header,
/// `{"typ":"JWT","alg":"HS256"}`, is 36 characters.
const MAX_HEADER_BYTES: usize = 512;

/// The keys and validation rules, built once from the secret.
#[derive(Clone)]
pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl std::fmt::Debug for Tokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The keys are the secret: never print them.
        f.debug_struct("Tokens").finish_non_exhaustive()
    }
}

impl Tokens {
    pub fn new(secret: &JwtSecret) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = CLOCK_SKEW_SECS;
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()),
            decoding: DecodingKey::from_secret(secret.as_bytes()),
            validation,
        }
    }

    /// A token for `actor`, valid from now for `ttl`.
    pub fn issue(&self, actor: &Actor, ttl: Duration) -> Result<String, TokenError> {
        self.issue_at(actor, Utc::now(), ttl)
    }

    /// A contact's token, valid from now for `ttl`, naming the binding epoch the contact was
    /// in when it proved its identity: it stops standing once that epoch is over.
    pub fn issue_for_contact(
        &self,
        actor: &Actor,
        binding_epoch: u64,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let issued_at =
            u64::try_from(Utc::now().timestamp()).map_err(|_| TokenError::TimeOutOfRange)?;
        let claims = Claims {
            binding_epoch: Some(binding_epoch),
            ..Claims::for_actor(actor, issued_at, ttl.as_secs())?
        };
        self.sign(&claims)
    }

    /// A signed-in person's token, valid from now for `ttl`, naming its `session` (and for a
    /// contact the binding epoch it proved its identity in); `password_change_only` when the
    /// session may only change its password.
    pub fn issue_for_session(
        &self,
        actor: &Actor,
        session: Uuid,
        binding_epoch: Option<u64>,
        password_change_only: bool,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let issued_at =
            u64::try_from(Utc::now().timestamp()).map_err(|_| TokenError::TimeOutOfRange)?;
        let claims = Claims {
            binding_epoch,
            sid: Some(session),
            pwd_change: password_change_only,
            ..Claims::for_actor(actor, issued_at, ttl.as_secs())?
        };
        self.sign(&claims)
    }

    /// A signed-in staff member's token, valid from now for `ttl`, naming its `session`, its
    /// membership `member`, and whether it signed in with an SMS code (else a password).
    pub fn issue_for_staff(
        &self,
        actor: &Actor,
        session: Uuid,
        member: Uuid,
        by_code: bool,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        let issued_at =
            u64::try_from(Utc::now().timestamp()).map_err(|_| TokenError::TimeOutOfRange)?;
        let method = if by_code {
            SIGNED_IN_BY_CODE
        } else {
            SIGNED_IN_BY_PASSWORD
        };
        let claims = Claims {
            sid: Some(session),
            mid: Some(member),
            amr: Some(method.to_owned()),
            ..Claims::for_actor(actor, issued_at, ttl.as_secs())?
        };
        self.sign(&claims)
    }

    /// A token for `actor` as if issued at `issued_at` (tests, and tokens minted for later).
    pub fn issue_at(
        &self,
        actor: &Actor,
        issued_at: DateTime<Utc>,
        ttl: Duration,
    ) -> Result<String, TokenError> {
        // Times before 1970 cannot be expressed in the claims.
        let issued_at =
            u64::try_from(issued_at.timestamp()).map_err(|_| TokenError::TimeOutOfRange)?;
        let claims = Claims::for_actor(actor, issued_at, ttl.as_secs())?;
        self.sign(&claims)
    }

    /// Signs arbitrary claims. Public so that tests can forge tokens the issuer never makes.
    pub fn sign(&self, claims: &Claims) -> Result<String, TokenError> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
            .map_err(|error| TokenError::Signing(error.to_string()))
    }

    /// The actor a token proves, or why it proves nothing.
    pub fn verify(&self, token: &str) -> Result<Actor, TokenError> {
        self.verify_until(token).map(|verified| verified.actor)
    }

    /// Like [`verify`](Self::verify), with the moment the token stops being accepted.
    pub fn verify_until(&self, token: &str) -> Result<Verified, TokenError> {
        let token = token.trim();
        if token.len() > MAX_TOKEN_BYTES {
            return Err(TokenError::Malformed);
        }
        refuse_critical_header(token)?;
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map_err(|error| refusal(error.kind()))?
            .claims;
        // Signed with our secret, so only a skewed clock or a careless issuer explains these;
        // either way the token is not one to trust yet.
        let latest = Utc::now()
            .timestamp()
            .saturating_add(CLOCK_SKEW_SECS as i64);
        let after_latest = |secs: u64| i64::try_from(secs).ok().is_none_or(|secs| secs > latest);
        if claims.nbf.is_some_and(after_latest) {
            return Err(TokenError::NotYetValid);
        }
        if after_latest(claims.iat) {
            return Err(TokenError::IssuedInFuture);
        }
        let valid_until = claims
            .exp
            .checked_add(CLOCK_SKEW_SECS)
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or(TokenError::Malformed)?;
        let binding_epoch = claims.binding_epoch;
        let session = claims.sid;
        let password_change_only = claims.pwd_change;
        let member = claims.mid;
        let signed_in_by_code = claims.amr.as_deref() == Some(SIGNED_IN_BY_CODE);
        let issued_at = claims.iat;
        Ok(Verified {
            actor: claims.into_actor()?,
            valid_until,
            binding_epoch,
            session,
            password_change_only,
            member,
            signed_in_by_code,
            issued_at,
        })
    }

    /// Like [`verify`](Self::verify), from an `Authorization` header value (`Bearer <token>`;
    /// the scheme is case-insensitive, RFC 7235).
    pub fn verify_bearer(&self, authorization: &str) -> Result<Actor, TokenError> {
        self.verify_bearer_until(authorization)
            .map(|verified| verified.actor)
    }

    /// Like [`verify_bearer`](Self::verify_bearer), with the moment the token stops being
    /// accepted.
    pub fn verify_bearer_until(&self, authorization: &str) -> Result<Verified, TokenError> {
        let (scheme, token) = authorization
            .trim()
            .split_once(' ')
            .ok_or(TokenError::Malformed)?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return Err(TokenError::Malformed);
        }
        self.verify_until(token)
    }
}

/// What a valid token proves, and until when.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub actor: Actor,
    /// Its expiry plus the clock skew allowed: from then on the token is refused, and what it
    /// opened (a subscription) ends.
    pub valid_until: DateTime<Utc>,
    /// The contact's binding epoch the token was issued in (see [`Claims::binding_epoch`]).
    pub binding_epoch: Option<u64>,
    /// The session the token belongs to (see [`Claims::sid`]).
    pub session: Option<Uuid>,
    /// The session may only change its password (see [`Claims::pwd_change`]).
    pub password_change_only: bool,
    /// A staff member's membership (see [`Claims::mid`]).
    pub member: Option<Uuid>,
    /// The session was signed in with an SMS code (see [`Claims::amr`]).
    pub signed_in_by_code: bool,
    /// When the token was issued, seconds since the Unix epoch.
    pub issued_at: u64,
}

/// Refuses a token whose header has a `crit` member, whatever its value: it names extensions
/// the verifier must understand, and Dinghuo understands none. jsonwebtoken's `Header` ignores
/// the member, so the header segment is read here, after a bound on its length.
fn refuse_critical_header(token: &str) -> Result<(), TokenError> {
    let segment = token.split('.').next().unwrap_or_default();
    if segment.len() > MAX_HEADER_BYTES {
        return Err(TokenError::Malformed);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(segment)
        .map_err(|_| TokenError::Malformed)?;
    let header: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)?;
    if header.contains_key("crit") {
        return Err(TokenError::CriticalHeader);
    }
    Ok(())
}

fn refusal(kind: &ErrorKind) -> TokenError {
    match kind {
        ErrorKind::InvalidSignature => TokenError::BadSignature,
        ErrorKind::InvalidAlgorithm => TokenError::WrongAlgorithm,
        ErrorKind::ExpiredSignature => TokenError::Expired,
        ErrorKind::InvalidIssuer => TokenError::WrongIssuer,
        // Bad shape, base64, JSON or UTF-8, a missing claim, an audience we never set.
        _ => TokenError::Malformed,
    }
}

#[cfg(test)]
mod tests {
    use dinghuo_commands::Role;
    use dinghuo_domain::TenantId;
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use dinghuo_domain::ErrorCode;

    const HOUR: Duration = Duration::from_secs(3600);

    fn tokens() -> Tokens {
        Tokens::new(&JwtSecret::from_bytes(vec![7; 32]).expect("a 32-byte secret"))
    }

    fn tenant() -> TenantId {
        TenantId::from_uuid(Uuid::now_v7())
    }

    /// Claims that pass every check, to be spoiled one field at a time.
    fn valid_claims() -> Claims {
        let now = u64::try_from(Utc::now().timestamp()).expect("after 1970");
        Claims {
            sub: Uuid::now_v7(),
            tenant: Some(Uuid::now_v7()),
            role: "admin".to_owned(),
            iat: now,
            exp: now + 3600,
            iss: ISSUER.to_owned(),
            nbf: None,
            binding_epoch: None,
            sid: None,
            pwd_change: false,
            mid: None,
            amr: None,
        }
    }

    #[test]
    fn a_token_of_every_role_verifies_to_the_actor_it_was_issued_for() {
        let tokens = tokens();
        let mut actors = vec![Actor::operator(Uuid::now_v7())];
        for role in [
            Role::Admin,
            Role::Employee,
            Role::Contact,
            Role::Auditor,
            Role::Analyst,
        ] {
            actors.push(Actor::in_tenant(Uuid::now_v7(), role, tenant()));
        }
        for actor in actors {
            let token = tokens.issue(&actor, HOUR).expect("issue");
            assert_eq!(tokens.verify(&token), Ok(actor));
            assert_eq!(tokens.verify_bearer(&format!("Bearer {token}")), Ok(actor));
            assert_eq!(tokens.verify_bearer(&format!("bearer {token}")), Ok(actor));
        }
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let other = Tokens::new(&JwtSecret::from_bytes(vec![8; 32]).expect("a 32-byte secret"));
        let actor = Actor::in_tenant(Uuid::now_v7(), Role::Admin, tenant());
        let token = other.issue(&actor, HOUR).expect("issue");
        assert_eq!(tokens().verify(&token), Err(TokenError::BadSignature));
    }

    #[test]
    fn a_token_whose_payload_was_edited_is_refused() {
        let tokens = tokens();
        let token = tokens.sign(&valid_claims()).expect("sign");
        let mut parts: Vec<&str> = token.split('.').collect();
        let forged_claims = Claims {
            role: "operator".to_owned(),
            tenant: None,
            ..valid_claims()
        };
        let forged = tokens.sign(&forged_claims).expect("sign");
        // The forged payload with the original signature.
        parts[1] = forged.split('.').nth(1).expect("a payload part");
        assert_eq!(
            tokens.verify(&parts.join(".")),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn an_expired_token_is_refused() {
        let tokens = tokens();
        let actor = Actor::in_tenant(Uuid::now_v7(), Role::Auditor, tenant());
        let two_hours_ago = Utc::now() - chrono::Duration::hours(2);
        let token = tokens.issue_at(&actor, two_hours_ago, HOUR).expect("issue");
        assert_eq!(tokens.verify(&token), Err(TokenError::Expired));
    }

    #[test]
    fn a_token_expired_within_the_clock_skew_is_still_accepted() {
        let tokens = tokens();
        let actor = Actor::in_tenant(Uuid::now_v7(), Role::Auditor, tenant());
        let a_while_ago = Utc::now() - chrono::Duration::seconds(3600 + 10);
        let token = tokens.issue_at(&actor, a_while_ago, HOUR).expect("issue");
        assert_eq!(tokens.verify(&token), Ok(actor));
        let verified = tokens.verify_until(&token).expect("accepted");
        let expected = a_while_ago.timestamp() + 3600 + CLOCK_SKEW_SECS as i64;
        assert_eq!(verified.valid_until.timestamp(), expected);
        assert!(
            verified.valid_until > Utc::now(),
            "accepted, so not yet past"
        );
    }

    #[test]
    fn a_token_of_another_issuer_is_refused() {
        let tokens = tokens();
        let claims = Claims {
            iss: "someone-else".to_owned(),
            ..valid_claims()
        };
        let token = tokens.sign(&claims).expect("sign");
        assert_eq!(tokens.verify(&token), Err(TokenError::WrongIssuer));
    }

    #[test]
    fn a_token_with_an_unknown_role_is_refused() {
        let tokens = tokens();
        let claims = Claims {
            role: "superuser".to_owned(),
            ..valid_claims()
        };
        let token = tokens.sign(&claims).expect("sign");
        assert_eq!(
            tokens.verify(&token),
            Err(TokenError::UnknownRole("superuser".to_owned()))
        );
    }

    #[test]
    fn a_non_operator_token_without_a_tenant_is_refused() {
        let tokens = tokens();
        for role in ["admin", "employee", "contact", "auditor", "analyst"] {
            let claims = Claims {
                role: role.to_owned(),
                tenant: None,
                ..valid_claims()
            };
            let token = tokens.sign(&claims).expect("sign");
            let refused = tokens.verify(&token);
            assert!(
                matches!(refused, Err(TokenError::MissingTenant { role: r }) if r == role),
                "{role}: {refused:?}"
            );
        }
    }

    #[test]
    fn an_operator_token_with_a_tenant_is_refused() {
        let tokens = tokens();
        let claims = Claims {
            role: "operator".to_owned(),
            ..valid_claims()
        };
        let token = tokens.sign(&claims).expect("sign");
        assert_eq!(tokens.verify(&token), Err(TokenError::OperatorWithTenant));
    }

    #[test]
    fn no_token_is_issued_for_an_actor_that_breaks_the_tenant_rule() {
        let tokens = tokens();
        let operator_in_a_tenant = Actor {
            tenant_id: Some(tenant()),
            ..Actor::operator(Uuid::now_v7())
        };
        assert_eq!(
            tokens.issue(&operator_in_a_tenant, HOUR),
            Err(TokenError::OperatorWithTenant)
        );
        let admin_of_nothing = Actor {
            id: Uuid::now_v7(),
            role: Role::Admin,
            tenant_id: None,
        };
        assert_eq!(
            tokens.issue(&admin_of_nothing, HOUR),
            Err(TokenError::MissingTenant { role: "admin" })
        );
    }

    #[test]
    fn a_token_signed_with_another_algorithm_is_refused() {
        let secret = [7; 32];
        let token = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &valid_claims(),
            &EncodingKey::from_secret(&secret),
        )
        .expect("sign");
        assert_eq!(tokens().verify(&token), Err(TokenError::WrongAlgorithm));
    }

    #[test]
    fn garbage_and_a_missing_scheme_are_malformed() {
        let tokens = tokens();
        assert_eq!(tokens.verify("not a token"), Err(TokenError::Malformed));
        assert_eq!(tokens.verify(""), Err(TokenError::Malformed));
        let token = tokens.sign(&valid_claims()).expect("sign");
        assert_eq!(tokens.verify_bearer(&token), Err(TokenError::Malformed));
        assert_eq!(
            tokens.verify_bearer(&format!("Basic {token}")),
            Err(TokenError::Malformed)
        );
    }

    /// A token with exactly this header and payload JSON, signed with the right secret.
    fn hand_crafted(header: &str, payload: &str) -> String {
        let message = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = jsonwebtoken::crypto::sign(
            message.as_bytes(),
            &EncodingKey::from_secret(&[7; 32]),
            Algorithm::HS256,
        )
        .expect("sign");
        format!("{message}.{signature}")
    }

    const HEADER: &str = r#"{"typ":"JWT","alg":"HS256"}"#;

    fn payload(claims: &Claims) -> String {
        serde_json::to_string(claims).expect("claims are JSON")
    }

    fn now() -> u64 {
        u64::try_from(Utc::now().timestamp()).expect("after 1970")
    }

    #[test]
    fn a_hand_crafted_token_of_the_right_shape_is_accepted() {
        // The control for the refusals below: the crafting itself is sound.
        let token = hand_crafted(HEADER, &payload(&valid_claims()));
        assert!(tokens().verify(&token).is_ok());
    }

    #[test]
    fn a_token_not_valid_before_a_future_time_is_refused() {
        let tokens = tokens();
        for later in [
            CLOCK_SKEW_SECS + 5,
            3600,
            10 * 365 * 24 * 3600,
            u64::MAX - now(),
        ] {
            let claims = Claims {
                nbf: Some(now() + later),
                ..valid_claims()
            };
            let token = hand_crafted(HEADER, &payload(&claims));
            assert_eq!(
                tokens.verify(&token),
                Err(TokenError::NotYetValid),
                "{later}"
            );
        }
        // Within the clock skew, or in the past, `nbf` is met.
        for nbf in [now() + CLOCK_SKEW_SECS / 2, now(), now() - 3600] {
            let claims = Claims {
                nbf: Some(nbf),
                ..valid_claims()
            };
            assert!(tokens
                .verify(&hand_crafted(HEADER, &payload(&claims)))
                .is_ok());
        }
    }

    #[test]
    fn an_nbf_that_is_not_a_whole_number_of_seconds_is_malformed() {
        let tokens = tokens();
        let claims = serde_json::to_value(valid_claims()).expect("JSON");
        for nbf in [
            json!("2099-01-01"),
            json!(-1),
            json!(1.5e12),
            json!(null),
            json!([1]),
        ] {
            let mut claims = claims.clone();
            claims["nbf"] = nbf.clone();
            let token = hand_crafted(HEADER, &claims.to_string());
            let refused = tokens.verify(&token);
            // `null` reads as no `nbf` at all.
            if nbf.is_null() {
                assert!(refused.is_ok(), "{nbf}: {refused:?}");
            } else {
                assert_eq!(refused, Err(TokenError::Malformed), "{nbf}");
            }
        }
    }

    #[test]
    fn a_token_issued_further_in_the_future_than_the_clock_skew_is_refused() {
        let tokens = tokens();
        for later in [CLOCK_SKEW_SECS + 5, 3600, 1 << 40] {
            let iat = now() + later;
            let claims = Claims {
                iat,
                exp: iat + 3600,
                ..valid_claims()
            };
            let token = hand_crafted(HEADER, &payload(&claims));
            assert_eq!(
                tokens.verify(&token),
                Err(TokenError::IssuedInFuture),
                "{later}"
            );
        }
        // A clock a little ahead is tolerated, as for `exp`.
        let iat = now() + CLOCK_SKEW_SECS / 2;
        let claims = Claims {
            iat,
            exp: iat + 3600,
            ..valid_claims()
        };
        assert!(tokens
            .verify(&hand_crafted(HEADER, &payload(&claims)))
            .is_ok());
    }

    #[test]
    fn a_token_whose_header_names_critical_extensions_is_refused() {
        let tokens = tokens();
        let payload = payload(&valid_claims());
        for header in [
            r#"{"typ":"JWT","alg":"HS256","crit":["exp"]}"#,
            r#"{"alg":"HS256","crit":["b64"],"b64":false}"#,
            r#"{"alg":"HS256","crit":[]}"#,
            r#"{"alg":"HS256","crit":null}"#,
            r#"{"alg":"HS256","crit":"x"}"#,
        ] {
            let token = hand_crafted(header, &payload);
            assert_eq!(
                tokens.verify(&token),
                Err(TokenError::CriticalHeader),
                "{header}"
            );
        }
    }

    #[test]
    fn an_oversized_token_or_header_is_malformed_before_it_is_decoded() {
        let tokens = tokens();
        let padding = "x".repeat(MAX_HEADER_BYTES);
        let header = format!(r#"{{"typ":"JWT","alg":"HS256","kid":"{padding}"}}"#);
        let token = hand_crafted(&header, &payload(&valid_claims()));
        assert!(token.len() <= MAX_TOKEN_BYTES);
        assert_eq!(tokens.verify(&token), Err(TokenError::Malformed));
        let claims = Claims {
            iss: format!("{ISSUER}{}", "x".repeat(MAX_TOKEN_BYTES)),
            ..valid_claims()
        };
        let token = hand_crafted(HEADER, &payload(&claims));
        assert_eq!(tokens.verify(&token), Err(TokenError::Malformed));
        // A header that is not base64url JSON.
        let token = hand_crafted(HEADER, &payload(&valid_claims()));
        let broken = format!("%%%{}", &token[3..]);
        assert_eq!(tokens.verify(&broken), Err(TokenError::Malformed));
    }

    #[test]
    fn a_contact_token_names_its_binding_epoch_and_other_tokens_none() {
        let tokens = tokens();
        let contact = Actor::in_tenant(Uuid::now_v7(), Role::Contact, tenant());
        let token = tokens.issue_for_contact(&contact, 3, HOUR).expect("issue");
        let verified = tokens.verify_until(&token).expect("accepted");
        assert_eq!(verified.actor, contact);
        assert_eq!(verified.binding_epoch, Some(3));
        let token = tokens.issue(&contact, HOUR).expect("issue");
        assert_eq!(
            tokens.verify_until(&token).expect("accepted").binding_epoch,
            None
        );
    }

    #[test]
    fn every_refusal_answers_unauthenticated() {
        for error in [
            TokenError::Malformed,
            TokenError::BadSignature,
            TokenError::WrongAlgorithm,
            TokenError::Expired,
            TokenError::NotYetValid,
            TokenError::IssuedInFuture,
            TokenError::CriticalHeader,
            TokenError::WrongIssuer,
            TokenError::UnknownRole("x".to_owned()),
            TokenError::MissingTenant { role: "admin" },
            TokenError::OperatorWithTenant,
        ] {
            assert_eq!(error.code(), ErrorCode::Unauthenticated, "{error}");
        }
    }
}
