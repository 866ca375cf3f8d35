//! Money as clients see it: `{amount: "1234.50", currency: "CNY"}` — a decimal string, never a
//! float, in the currency's minor unit precision.

use async_graphql::SimpleObject;

#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, serde::Serialize)]
pub struct Money {
    /// The amount as a decimal string, e.g. `"1234.50"`.
    pub amount: String,
    /// ISO 4217 code, e.g. `"CNY"`.
    pub currency: String,
}

impl Money {
    /// From an amount in minor units (fen for CNY: two decimals).
    pub fn from_minor(amount_minor: i64, currency: &str) -> Self {
        Self {
            amount: dinghuo_domain::Money::decimal_string(amount_minor),
            currency: currency.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Money;

    #[test]
    fn minor_units_become_a_two_decimal_string() {
        assert_eq!(Money::from_minor(123_450, "CNY").amount, "1234.50");
        assert_eq!(Money::from_minor(5, "CNY").amount, "0.05");
        assert_eq!(Money::from_minor(0, "CNY").amount, "0.00");
        assert_eq!(Money::from_minor(-1_999, "CNY").amount, "-19.99");
    }
}
