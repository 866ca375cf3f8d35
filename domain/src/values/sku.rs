use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// A stock-keeping unit code, unique per tenant. Case-insensitive: stored upper-case, so that
/// "ab-1" and "AB-1" are the same SKU.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let sku = text.trim().to_uppercase();
        if sku.is_empty() || sku.len() > 64 {
            return Err(ValidationError::new("sku", "must be 1 to 64 characters"));
        }
        if !sku
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'/'))
        {
            return Err(ValidationError::new(
                "sku",
                "may contain only letters, digits and - _ . /",
            ));
        }
        Ok(Self(sku))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Sku {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Sku> for String {
    fn from(value: Sku) -> Self {
        value.0
    }
}

impl std::fmt::Display for Sku {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skus_are_case_insensitive_and_bounded() {
        assert_eq!(Sku::parse(" ab-1 ").unwrap(), Sku::parse("AB-1").unwrap());
        assert!(Sku::parse("").is_err());
        assert!(Sku::parse("has space").is_err());
        assert!(Sku::parse(&"X".repeat(65)).is_err());
    }
}
