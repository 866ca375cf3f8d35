use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// How many units of a product a line orders: positive and bounded, so that quantity × price can
/// never overflow and a typo of six extra zeros is caught.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Quantity(u32);

impl Quantity {
    pub const MAX: u32 = 1_000_000;

    pub fn parse(value: i64, field: &str) -> Result<Self, ValidationError> {
        if value <= 0 {
            return Err(ValidationError::new(field, "must be positive"));
        }
        if value > i64::from(Self::MAX) {
            return Err(ValidationError::new(field, "must be at most 1,000,000"));
        }
        // In range 1..=MAX, so the cast is lossless.
        Ok(Self(value as u32))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Quantity {
    type Error = ValidationError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::parse(i64::from(value), "quantity")
    }
}

impl From<Quantity> for u32 {
    fn from(value: Quantity) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_negative_and_enormous_quantities_are_refused() {
        for bad in [0, -1, i64::MIN, i64::from(Quantity::MAX) + 1, i64::MAX] {
            assert_eq!(
                Quantity::parse(bad, "quantity").unwrap_err().field,
                "quantity"
            );
        }
        assert_eq!(Quantity::parse(1, "q").unwrap().get(), 1);
        assert_eq!(Quantity::parse(1_000_000, "q").unwrap().get(), 1_000_000);
    }
}
