//! Passwords: the rules a chosen password must pass, and argon2id hashing and verifying of
//! every secret of sign-in (passwords, one-time codes).
//!
//! Passwords and hashes are only ever moved between the request, argon2 and the tables that keep
//! hashes: never logged, never in an event or a read model. Argon2 is deliberately slow, so it
//! runs on the blocking pool, never on the async workers.

use std::sync::OnceLock;

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use argon2::Argon2;
use dinghuo_domain::Phone;
use dinghuo_projections::outbox::reactor::{generate_password, hash_password};

use crate::error::{IdentityError, IdentityResult};

/// The shortest password anyone may choose.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// The longest password accepted anywhere: argon2 reads all of it, so unbounded input would be
/// unbounded work.
pub const MAX_PASSWORD_CHARS: usize = 128;

/// Passwords people choose most often, of at least [`MIN_PASSWORD_CHARS`] (the only ones the
/// length rule lets through), one a line, lower case, compared without regard to case: common
/// words and names (English and pinyin) with the digits people append, digit runs and repeats,
/// keyboard walks. Generated from those patterns for this project, not copied from a leak list.
const COMMON_PASSWORDS: &str = include_str!("common_passwords.txt");

/// The argon2id hash (PHC string) of `secret`, with the parameters the reactor provisions with.
pub async fn hash_secret(secret: String) -> IdentityResult<String> {
    tokio::task::spawn_blocking(move || hash_password(&secret))
        .await
        .map_err(IdentityError::internal)?
        .map_err(IdentityError::internal)
}

/// Whether `secret` matches `hash`. Without a hash (no such account, no live code) a fixed hash
/// of a random secret is checked instead, so that the answer takes as long either way and does
/// not tell whether the phone exists.
pub async fn verify_secret(secret: String, hash: Option<String>) -> IdentityResult<bool> {
    let real = hash.is_some();
    let hash = match hash {
        Some(hash) => hash,
        None => decoy_hash().await?,
    };
    let matched = tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(secret.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    })
    .await
    .map_err(IdentityError::internal)?;
    Ok(real && matched)
}

/// A hash nobody knows the secret of, made once per process.
async fn decoy_hash() -> IdentityResult<String> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(hash) = DECOY.get() {
        return Ok(hash.clone());
    }
    let hash = hash_secret(generate_password()).await?;
    Ok(DECOY.get_or_init(|| hash).clone())
}

/// The rules of a password someone chooses (input field `newPassword`): [`MIN_PASSWORD_CHARS`]
/// to [`MAX_PASSWORD_CHARS`] characters, more than white space, not the current one, not the
/// person's phone number, not a commonly chosen password.
pub fn check_new_password(new_password: &str, current: &str, phone: &Phone) -> IdentityResult<()> {
    let refuse = |message: &str| Err(IdentityError::validation("newPassword", message));
    let chars = new_password.chars().count();
    if chars < MIN_PASSWORD_CHARS {
        return refuse(&format!(
            "a password has at least {MIN_PASSWORD_CHARS} characters"
        ));
    }
    if chars > MAX_PASSWORD_CHARS {
        return refuse(&format!(
            "a password has at most {MAX_PASSWORD_CHARS} characters"
        ));
    }
    if new_password.trim().is_empty() {
        return refuse("a password is more than white space");
    }
    if new_password == current {
        return refuse("the new password must differ from the current one");
    }
    // The number is the login and known to many: a password holding it guards nothing.
    let digits: String = new_password.chars().filter(char::is_ascii_digit).collect();
    if digits.contains(phone.as_str()) {
        return refuse("a password must not contain the phone number");
    }
    if is_common(new_password) {
        return refuse("this password is among the most commonly chosen; pick another");
    }
    Ok(())
}

/// Whether `password` is in the list of common passwords, ignoring case and surrounding space.
pub fn is_common(password: &str) -> bool {
    let password = password.trim().to_lowercase();
    COMMON_PASSWORDS
        .lines()
        .map(str::trim)
        .any(|common| common == password)
}

/// A password given to sign in or to prove the current one: bounded before any hashing.
pub fn check_given_password(password: &str, field: &str) -> IdentityResult<()> {
    if password.is_empty() {
        return Err(IdentityError::validation(field, "the password is empty"));
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(IdentityError::validation(
            field,
            format!("a password has at most {MAX_PASSWORD_CHARS} characters"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn phone() -> Phone {
        Phone::parse("13800138000").expect("a phone")
    }

    #[test]
    fn a_common_password_is_refused_whatever_its_case() {
        for common in [
            "password123",
            "QwertyUiop",
            "1234567890",
            "Woaini1314",
            " iloveyou12 ",
        ] {
            assert!(is_common(common), "{common}");
            assert!(
                check_new_password(common, "whatever1", &phone()).is_err(),
                "{common}"
            );
        }
        assert!(!is_common("a fine password"));
    }

    #[test]
    fn a_password_holding_the_phone_number_is_refused() {
        let refused = check_new_password("my-13800138000-pw", "whatever1", &phone());
        assert!(
            matches!(&refused, Err(IdentityError::Validation { field, .. }) if field == "newPassword"),
            "{refused:?}"
        );
        assert!(check_new_password("138-0013-8000 ok", "whatever1", &phone()).is_err());
        assert!(check_new_password("13800138001 ok", "whatever1", &phone()).is_ok());
    }

    #[test]
    fn every_listed_password_could_pass_the_length_rule_and_the_list_is_thousands_long() {
        let listed: Vec<&str> = COMMON_PASSWORDS.lines().collect();
        assert!(listed.len() >= 3_000, "{}", listed.len());
        for common in listed {
            let chars = common.chars().count();
            assert!(
                (MIN_PASSWORD_CHARS..=MAX_PASSWORD_CHARS).contains(&chars),
                "{common}"
            );
            assert_eq!(common, common.to_lowercase(), "compared in lower case");
        }
    }
}
