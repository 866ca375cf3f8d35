//! Bounded text: trimmed, length-limited in characters, free of control characters. A 10 MB note
//! is refused at the edge instead of travelling into the event log.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

fn parse_bounded(
    text: &str,
    field: &str,
    min: usize,
    max: usize,
    allow_newlines: bool,
) -> Result<String, ValidationError> {
    let trimmed = text.trim();
    // Count characters only up to the limit, so an enormous input costs no more than a long one.
    let count = trimmed.chars().take(max + 1).count();
    if count < min {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if count > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    let bad_control = |c: char| c.is_control() && !(allow_newlines && (c == '\n' || c == '\t'));
    if trimmed.chars().any(bad_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

macro_rules! bounded_text {
    ($(#[$doc:meta])* $name:ident, field = $field:literal, min = $min:literal, max = $max:literal, newlines = $nl:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            pub const MAX_CHARS: usize = $max;

            /// Parses client text; errors name the field `
            #[doc = $field]
            /// `.
            pub fn parse(text: &str) -> Result<Self, ValidationError> {
                parse_bounded(text, $field, $min, $max, $nl).map(Self)
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = ValidationError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

bounded_text!(
    /// A person's, enterprise's or product's name.
    Name, field = "name", min = 1, max = 200, newlines = false
);
bounded_text!(
    /// A free-form note on an order; may be empty.
    Note, field = "note", min = 0, max = 2000, newlines = true
);
bounded_text!(
    /// Why an order was rejected or cancelled.
    Reason, field = "reason", min = 1, max = 500, newlines = true
);
bounded_text!(
    /// The unit a product is sold in ("box", "箱").
    Unit, field = "unit", min = 1, max = 20, newlines = false
);
bounded_text!(
    /// A postal address of a customer; may be empty.
    Address, field = "address", min = 0, max = 500, newlines = false
);
bounded_text!(
    /// The carrier that ships an order.
    Carrier, field = "carrier", min = 1, max = 100, newlines = false
);
bounded_text!(
    /// A carrier's tracking number.
    TrackingNumber, field = "tracking", min = 1, max = 100, newlines = false
);
bounded_text!(
    /// A WeChat open id: the identity of a WeChat user towards one official account or mini program.
    OpenId, field = "wechatOpenId", min = 1, max = 128, newlines = false
);
bounded_text!(
    /// A tenant-defined dealer tier ("A", "省级代理") that price lists can be scoped to.
    Level, field = "level", min = 1, max = 50, newlines = false
);
bounded_text!(
    /// A product category; a partner's assortment is a set of them.
    Category, field = "category", min = 1, max = 50, newlines = false
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        assert_eq!(Name::parse("  Acme  ").unwrap().as_str(), "Acme");
        assert_eq!(Name::parse("   ").unwrap_err().field, "name");
        assert!(Name::parse(&"名".repeat(200)).is_ok());
        assert!(Name::parse(&"名".repeat(201)).is_err());
        assert!(Name::parse("a\u{0}b").is_err());
        assert!(Note::parse("").is_ok());
        assert!(Note::parse("line\nline").is_ok());
    }

    #[test]
    fn a_ten_megabyte_note_is_refused() {
        let huge = "x".repeat(10 * 1024 * 1024);
        assert_eq!(Note::parse(&huge).unwrap_err().field, "note");
    }
}
