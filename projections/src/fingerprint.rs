//! A stable fingerprint of a phone number (UUID v5), to find and compare numbers in read models
//! without storing them. Mobile numbers are few enough to be guessed from it by trying them all:
//! it keeps numbers out of sight, it is not a secret.

use dinghuo_domain::Phone;
use uuid::Uuid;

const NAMESPACE: Uuid = Uuid::from_u128(0x3f1c_52a9_8d0e_4b7a_9e21_6c4d_0a8b_f713);

/// The fingerprint of `phone` (normalised), the same in every read model.
pub fn phone_fingerprint(phone: &Phone) -> String {
    Uuid::new_v5(&NAMESPACE, phone.as_str().as_bytes()).to_string()
}
