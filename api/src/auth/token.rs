//! Issuing and verifying tokens: HS256 JWTs signed with the [`JwtSecret`].
//!
//! Verification refuses, each with its own [`TokenError`] variant: a token that does not parse,
//! a bad signature, another algorithm than HS256, an expired token, another issuer, an unknown
//! role, a non-operator without a tenant and an operator with one. All of them answer the
//! client `UNAUTHENTICATED`; the variant is for logs and tests.

use std::time::Duration;

use chrono::{DateTime, Utc};
use dinghuo_commands::Actor;
use dinghuo_domain::ErrorCode;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};

use super::claims::{Claims, ISSUER};
use super::secret::JwtSecret;

/// How far the clocks of the issuing and the verifying machine may disagree: a token is still
/// accepted this long after its `exp`.
pub const CLOCK_SKEW_SECS: u64 = 60;

/// Why a token was refused (or, for the last two variants, could not be issued).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the token is not a well-formed Dinghuo token")]
    Malformed,
    #[error("the token's signature is not valid")]
    BadSignature,
    #[error("the token is not signed with HS256")]
    WrongAlgorithm,
    #[error("the token has expired")]
    Expired,
    #[error("the token was not issued by {ISSUER}")]
    WrongIssuer,
    #[error("the token names an unknown role {0:?}")]
    UnknownRole(String),
    #[error("a token with role {role} must name a tenant")]
    MissingTenant { role: &'static str },
    #[error("an operator token must not name a tenant")]
    OperatorWithTenant,
    /// Issuing only: the issue time is before 1970 or the expiry does not fit in a timestamp.
    #[error("the token's issue or expiry time is out of range")]
    TimeOutOfRange,
    /// Issuing only: signing failed (not expected with an HMAC key).
    #[error("cannot sign the token: {0}")]
    Signing(String),
}

impl TokenError {
    /// The client-visible code (DESIGN §2). Every refusal is `UNAUTHENTICATED`: a client can do
    /// the same thing about each (get a new token), and finer codes would help an attacker probe.
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::TimeOutOfRange | Self::Signing(_) => ErrorCode::Internal,
            _ => ErrorCode::Unauthenticated,
        }
    }
}

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
        let data = jsonwebtoken::decode::<Claims>(token.trim(), &self.decoding, &self.validation)
            .map_err(|error| refusal(error.kind()))?;
        let valid_until = data
            .claims
            .exp
            .checked_add(CLOCK_SKEW_SECS)
            .and_then(|secs| i64::try_from(secs).ok())
            .and_then(|secs| DateTime::from_timestamp(secs, 0))
            .ok_or(TokenError::Malformed)?;
        Ok(Verified {
            actor: data.claims.into_actor()?,
            valid_until,
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
    use uuid::Uuid;

    use super::*;

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

    #[test]
    fn every_refusal_answers_unauthenticated() {
        for error in [
            TokenError::Malformed,
            TokenError::BadSignature,
            TokenError::WrongAlgorithm,
            TokenError::Expired,
            TokenError::WrongIssuer,
            TokenError::UnknownRole("x".to_owned()),
            TokenError::MissingTenant { role: "admin" },
            TokenError::OperatorWithTenant,
        ] {
            assert_eq!(error.code(), ErrorCode::Unauthenticated, "{error}");
        }
    }
}
