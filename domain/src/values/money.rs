use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// ISO 4217 currency. Only CNY is traded today; the enum leaves room for more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Currency {
    #[default]
    CNY,
}

impl Currency {
    pub fn parse(text: &str, field: &str) -> Result<Self, ValidationError> {
        match text.trim() {
            "CNY" => Ok(Self::CNY),
            _ => Err(ValidationError::new(
                field,
                "unsupported currency (only CNY)",
            )),
        }
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::CNY => "CNY",
        }
    }
}

/// An amount of money as an integer count of minor units (fen) with its currency. Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: 1 yuan = 100 fen.
    pub amount_minor: i64,
    pub currency: Currency,
}

/// Prices above this (100 million yuan) are surely typos; also keeps line totals far from overflow.
const MAX_PRICE_MINOR: i64 = 10_000_000_000;

impl Money {
    pub const fn zero(currency: Currency) -> Self {
        Self {
            amount_minor: 0,
            currency,
        }
    }

    /// A catalog price: zero or more (a free sample is allowed), at most 100 million yuan.
    pub fn price(
        amount_minor: i64,
        currency: Currency,
        field: &str,
    ) -> Result<Self, ValidationError> {
        if !(0..=MAX_PRICE_MINOR).contains(&amount_minor) {
            return Err(ValidationError::new(
                field,
                "price must be between 0 and 100,000,000.00",
            ));
        }
        Ok(Self {
            amount_minor,
            currency,
        })
    }

    /// Parses a decimal string such as "1234.50" (at most two decimals) into fen.
    pub fn parse_decimal(
        text: &str,
        currency: Currency,
        field: &str,
    ) -> Result<Self, ValidationError> {
        let invalid = || ValidationError::new(field, "must be a decimal amount like 1234.50");
        let text = text.trim();
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        if whole.is_empty() || whole.len() > 12 || frac.len() > 2 {
            return Err(invalid());
        }
        if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let whole: i64 = whole.parse().map_err(|_| invalid())?;
        let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| invalid())?;
        let minor = whole
            .checked_mul(100)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(invalid)?;
        Self::price(minor, currency, field)
    }

    /// `amount × quantity`, or `None` on overflow.
    pub fn times(self, quantity: u32) -> Option<Self> {
        self.amount_minor
            .checked_mul(i64::from(quantity))
            .map(|amount_minor| Self {
                amount_minor,
                currency: self.currency,
            })
    }

    /// The sum of two amounts of one currency, or `None` on overflow or mixed currencies.
    pub fn checked_add(self, other: Self) -> Option<Self> {
        if self.currency != other.currency {
            return None;
        }
        self.amount_minor
            .checked_add(other.amount_minor)
            .map(|amount_minor| Self {
                amount_minor,
                currency: self.currency,
            })
    }

    /// "1234.50": the form the API shows.
    pub fn to_decimal_string(self) -> String {
        Self::decimal_string(self.amount_minor)
    }

    /// An amount in minor units as the API shows it ("1234.50"), for amounts read back from
    /// a read model as a bare number.
    pub fn decimal_string(amount_minor: i64) -> String {
        let sign = if amount_minor < 0 { "-" } else { "" };
        let abs = amount_minor.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn decimal_strings_become_fen() {
        let m = Money::parse_decimal("1234.5", Currency::CNY, "price").unwrap();
        assert_eq!(m.amount_minor, 123_450);
        assert_eq!(m.to_decimal_string(), "1234.50");
        assert_eq!(
            Money::parse_decimal("7", Currency::CNY, "p")
                .unwrap()
                .amount_minor,
            700
        );
    }

    #[test]
    fn malformed_or_negative_amounts_are_refused() {
        for bad in ["-1", "1.234", "abc", "", ".5", "1e3", "999999999999999"] {
            assert!(
                Money::parse_decimal(bad, Currency::CNY, "price").is_err(),
                "{bad}"
            );
        }
        assert!(Money::price(-1, Currency::CNY, "price").is_err());
    }

    proptest! {
        #[test]
        fn decimal_round_trip(minor in 0i64..=MAX_PRICE_MINOR) {
            let m = Money::price(minor, Currency::CNY, "p").unwrap();
            let back = Money::parse_decimal(&m.to_decimal_string(), Currency::CNY, "p").unwrap();
            prop_assert_eq!(m, back);
        }
    }
}
