//! Sealing the outbox's pending secrets (initial passwords, binding codes) so that the database
//! never holds one in the clear: XChaCha20-Poly1305 under a key kept outside the database
//! ([`OutboxKey`]), a fresh random nonce per secret, and the outbox row's `message_id` as
//! associated data, so that a sealed secret copied into another row does not open there.
//!
//! A sealed secret is stored as text: `v1:` followed by the hex of the 24-byte nonce and the
//! ciphertext with its 16-byte tag. Plaintext secrets never contain `:` (passwords are letters
//! and digits, codes digits), so a stored value without the prefix is one written in the clear
//! by a version before sealing ([`Stored::Cleartext`]).

use std::fmt;
use std::sync::Arc;

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use rand::rngs::OsRng;
use rand::RngCore;

/// The prefix of a sealed secret; the version names the cipher and the layout.
pub const SEALED_PREFIX: &str = "v1:";
/// Bytes of a key.
pub const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// The key that seals the outbox's secrets. Every process that writes a secret (an API node
/// issuing a binding code, the process running the notifications reactor) or sends one (a
/// dispatcher) must hold the same key. Cheap to clone; `Debug` never shows it, and the cipher
/// wipes its copy of the key when the last clone is dropped.
#[derive(Clone)]
pub struct OutboxKey(Arc<XChaCha20Poly1305>);

impl fmt::Debug for OutboxKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("OutboxKey(redacted)")
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the outbox key must be {} hex characters ({KEY_BYTES} bytes; generate one with `openssl rand -hex 32`), got {len} characters", 2 * KEY_BYTES)]
    Malformed { len: usize },
}

/// The cipher refused to seal (only a secret beyond its length limit can cause this).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the secret cannot be sealed")]
pub struct SealError;

/// Why a stored secret does not open.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpenError {
    #[error("the sealed secret is malformed")]
    Malformed,
    /// Sealed under another key (the outbox key was replaced, or nodes hold different keys), for
    /// another row, or altered.
    #[error("the sealed secret does not open with this outbox key (sealed under another key, for another message, or altered)")]
    WrongKey,
}

/// A stored `secret` as read back.
#[derive(Debug, PartialEq, Eq)]
pub enum Stored<'a> {
    Sealed(&'a str),
    /// Written in the clear by a version before sealing.
    Cleartext(&'a str),
}

impl<'a> Stored<'a> {
    pub fn of(value: &'a str) -> Self {
        match value.strip_prefix(SEALED_PREFIX) {
            Some(sealed) => Self::Sealed(sealed),
            None => Self::Cleartext(value),
        }
    }
}

impl OutboxKey {
    pub fn from_bytes(bytes: &[u8; KEY_BYTES]) -> Self {
        Self(Arc::new(XChaCha20Poly1305::new(bytes.into())))
    }

    /// A key from its 64 hex characters (surrounding white space ignored).
    pub fn from_hex(text: &[u8]) -> Result<Self, KeyError> {
        let text = text.trim_ascii();
        let mut bytes = [0u8; KEY_BYTES];
        hex::decode_to_slice(text, &mut bytes)
            .map_err(|_| KeyError::Malformed { len: text.len() })?;
        Ok(Self::from_bytes(&bytes))
    }

    /// A new random key, for tests and tools; a deployment generates its key once and keeps it
    /// (see `dinghuo_api::auth::secret`).
    pub fn generate() -> Self {
        let mut bytes = [0u8; KEY_BYTES];
        OsRng.fill_bytes(&mut bytes);
        Self::from_bytes(&bytes)
    }

    /// `secret` sealed for the outbox row `message_id`, as stored.
    pub fn seal(&self, message_id: &str, secret: &str) -> Result<String, SealError> {
        let mut nonce = [0u8; NONCE_BYTES];
        OsRng.fill_bytes(&mut nonce);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: message_id.as_bytes(),
        };
        // Fails only past the cipher's length limit (256 GiB per message).
        let ciphertext = self
            .0
            .encrypt(XNonce::from_slice(&nonce), payload)
            .map_err(|_| SealError)?;
        let mut sealed = Vec::with_capacity(NONCE_BYTES + ciphertext.len());
        sealed.extend_from_slice(&nonce);
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", hex::encode(sealed)))
    }

    /// The secret in `sealed` (a stored value without its [`SEALED_PREFIX`]), if it was sealed
    /// under this key for `message_id`.
    pub fn open(&self, message_id: &str, sealed: &str) -> Result<String, OpenError> {
        let bytes = hex::decode(sealed).map_err(|_| OpenError::Malformed)?;
        if bytes.len() < NONCE_BYTES {
            return Err(OpenError::Malformed);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let payload = Payload {
            msg: ciphertext,
            aad: message_id.as_bytes(),
        };
        let plain = self
            .0
            .decrypt(XNonce::from_slice(nonce), payload)
            .map_err(|_| OpenError::WrongKey)?;
        String::from_utf8(plain).map_err(|_| OpenError::Malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_for_its_row_only_and_never_shows_the_plaintext() {
        let key = OutboxKey::generate();
        let sealed = key.seal("sms:c-1:3", "Kx7pQ2mZ9aBc").expect("sealed");
        assert!(!sealed.contains("Kx7pQ2mZ9aBc"));
        let Stored::Sealed(body) = Stored::of(&sealed) else {
            panic!("sealed: {sealed}");
        };
        assert_eq!(key.open("sms:c-1:3", body).as_deref(), Ok("Kx7pQ2mZ9aBc"));
        assert_eq!(key.open("sms:c-2:3", body), Err(OpenError::WrongKey));
        assert_eq!(
            OutboxKey::generate().open("sms:c-1:3", body),
            Err(OpenError::WrongKey)
        );
    }

    #[test]
    fn each_seal_draws_a_new_nonce() {
        let key = OutboxKey::generate();
        assert_ne!(
            key.seal("code:1", "123456").expect("sealed"),
            key.seal("code:1", "123456").expect("sealed")
        );
    }

    #[test]
    fn an_altered_or_truncated_seal_does_not_open() {
        let key = OutboxKey::generate();
        let sealed = key.seal("code:1", "123456").expect("sealed");
        let Stored::Sealed(body) = Stored::of(&sealed) else {
            panic!("sealed");
        };
        let mut altered = body.to_owned().into_bytes();
        let last = altered.len() - 1;
        altered[last] = if altered[last] == b'0' { b'1' } else { b'0' };
        let altered = String::from_utf8(altered).expect("hex");
        assert_eq!(key.open("code:1", &altered), Err(OpenError::WrongKey));
        let truncated = &body[..body.len() - 2];
        assert_eq!(key.open("code:1", truncated), Err(OpenError::WrongKey));
        assert_eq!(
            key.open("code:1", &body[..40]),
            Err(OpenError::Malformed),
            "no whole nonce"
        );
        assert_eq!(key.open("code:1", "abc"), Err(OpenError::Malformed));
        assert_eq!(key.open("code:1", "zz"), Err(OpenError::Malformed));
    }

    #[test]
    fn a_stored_value_without_the_prefix_is_a_cleartext_secret_of_an_older_version() {
        assert_eq!(
            Stored::of("Kx7pQ2mZ9aBc"),
            Stored::Cleartext("Kx7pQ2mZ9aBc")
        );
        assert_eq!(Stored::of("v1:00ff"), Stored::Sealed("00ff"));
    }

    #[test]
    fn a_key_is_64_hex_characters_and_never_prints() {
        let text = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
        let key = OutboxKey::from_hex(format!("{text}\n").as_bytes()).expect("a key");
        assert_eq!(format!("{key:?}"), "OutboxKey(redacted)");
        let same = OutboxKey::from_hex(text.as_bytes()).expect("a key");
        let sealed = key.seal("m", "s").expect("sealed");
        assert_eq!(
            same.open("m", sealed.trim_start_matches(SEALED_PREFIX))
                .as_deref(),
            Ok("s")
        );
        for bad in [
            "",
            "00",
            &text[..63],
            &format!("{text}00"),
            &text.replace('a', "g"),
        ] {
            assert!(
                matches!(
                    OutboxKey::from_hex(bad.as_bytes()),
                    Err(KeyError::Malformed { .. })
                ),
                "{bad:?}"
            );
        }
    }
}
