use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

/// A mainland-China mobile number, normalised to its 11 national digits.
///
/// "138 0013 8000", "+86 13800138000", "0086-138-0013-8000" and "13800138000" are one number.
/// Separators (spaces, dashes, dots, parentheses) are dropped; anything else (letters, `*`) is
/// refused rather than silently removed, so a typo never becomes a different valid number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let invalid = |message: &str| ValidationError::new("phone", message);
        let trimmed = text.trim();
        let (has_plus, rest) = match trimmed.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, trimmed),
        };
        let mut digits = String::with_capacity(16);
        for ch in rest.chars() {
            match ch {
                '0'..='9' => digits.push(ch),
                ' ' | '-' | '.' | '(' | ')' | '\u{3000}' => {}
                _ => return Err(invalid("may contain only digits, spaces and dashes")),
            }
        }
        let national = if has_plus {
            digits
                .strip_prefix("86")
                .ok_or_else(|| invalid("only +86 (mainland China) numbers are supported"))?
        } else if let Some(rest) = digits.strip_prefix("0086") {
            rest
        } else if digits.len() == 13 {
            digits
                .strip_prefix("86")
                .ok_or_else(|| invalid("must be an 11-digit mobile number"))?
        } else {
            &digits
        };
        if national.len() != 11 || !national.starts_with('1') {
            return Err(invalid("must be an 11-digit mobile number starting with 1"));
        }
        Ok(Self(national.to_owned()))
    }

    /// The 11 national digits, e.g. `13800138000`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// For display to people who may not see the whole number: `138****8000`.
    pub fn masked(&self) -> String {
        format!("{}****{}", &self.0[..3], &self.0[7..])
    }
}

impl TryFrom<String> for Phone {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Phone> for String {
    fn from(value: Phone) -> Self {
        value.0
    }
}

impl std::fmt::Display for Phone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn the_three_spellings_of_one_number_are_equal() {
        let a = Phone::parse("138 0013 8000").unwrap();
        let b = Phone::parse("+86 13800138000").unwrap();
        let c = Phone::parse("13800138000").unwrap();
        let d = Phone::parse("0086-138-0013-8000").unwrap();
        assert_eq!(a, b);
        assert_eq!(b, c);
        assert_eq!(c, d);
        assert_eq!(a.as_str(), "13800138000");
        assert_eq!(a.masked(), "138****8000");
    }

    #[test]
    fn letters_and_wrong_lengths_are_refused() {
        for bad in [
            "1380013800a",
            "138OO138000",
            "",
            "12345",
            "+1 2025550123",
            "23800138000",
            "138001380000",
        ] {
            let err = Phone::parse(bad).unwrap_err();
            assert_eq!(err.field, "phone", "{bad}");
        }
    }

    proptest! {
        #[test]
        fn any_valid_number_survives_formatting(n in 0u64..10_000_000_000) {
            let national = format!("1{n:010}");
            let spaced = format!("+86 {} {} {}", &national[..3], &national[3..7], &national[7..]);
            let parsed = Phone::parse(&spaced).unwrap();
            prop_assert_eq!(parsed.as_str(), national.as_str());
        }

        #[test]
        fn parsing_never_panics(s in "\\PC*") {
            let _ = Phone::parse(&s);
        }
    }
}
