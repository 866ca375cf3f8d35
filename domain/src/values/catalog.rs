//! What dealer pricing and the catalog's ordering rules are made of (DESIGN §4): a partner's
//! assortment, a product's quantity rules, a price list's priority and scope.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Category, Level, Quantity};
use crate::error::ValidationError;
use crate::ids::PartnerId;

/// The most categories one assortment names.
pub const MAX_ASSORTMENT: usize = 100;
/// The most partners a price list is scoped to; beyond that, give them a level.
pub const MAX_SCOPE_PARTNERS: usize = 500;
/// The most levels a price list is scoped to.
pub const MAX_SCOPE_LEVELS: usize = 50;

/// The product categories a partner may buy: at least one, at most [`MAX_ASSORTMENT`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BTreeSet<Category>", into = "BTreeSet<Category>")]
pub struct Assortment(BTreeSet<Category>);

impl Assortment {
    pub fn new(categories: BTreeSet<Category>) -> Result<Self, ValidationError> {
        if categories.is_empty() || categories.len() > MAX_ASSORTMENT {
            return Err(ValidationError::new(
                "categories",
                "an assortment names 1 to 100 categories",
            ));
        }
        Ok(Self(categories))
    }

    pub fn categories(&self) -> &BTreeSet<Category> {
        &self.0
    }

    /// Whether a product of `category` is inside: an uncategorised product is in no
    /// restricted assortment.
    pub fn admits(&self, category: Option<&Category>) -> bool {
        category.is_some_and(|category| self.0.contains(category))
    }
}

impl TryFrom<BTreeSet<Category>> for Assortment {
    type Error = ValidationError;
    fn try_from(value: BTreeSet<Category>) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<Assortment> for BTreeSet<Category> {
    fn from(value: Assortment) -> Self {
        value.0
    }
}

/// How much of a product one line may order: at least `min`, a whole number of `multiple`s
/// (a case size), at most `max`. Each is optional; none set means any positive quantity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuantityRules {
    pub min: Option<Quantity>,
    pub multiple: Option<Quantity>,
    pub max: Option<Quantity>,
}

/// A line's quantity broke its product's rules: the rules, to show the dealer what is allowed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantityProblem {
    pub rules: QuantityRules,
}

impl QuantityRules {
    /// Rules that can be met: `min ≤ max`, and some multiple of `multiple` lies in between.
    pub fn new(
        min: Option<Quantity>,
        multiple: Option<Quantity>,
        max: Option<Quantity>,
    ) -> Result<Self, ValidationError> {
        let rules = Self { min, multiple, max };
        let low = min.map_or(1, Quantity::get);
        let high = max.map_or(Quantity::MAX, Quantity::get);
        if low > high {
            return Err(ValidationError::new("max", "must be at least min"));
        }
        let step = multiple.map_or(1, Quantity::get);
        // The smallest multiple of `step` at or above `low`.
        let first = low.div_ceil(step).saturating_mul(step);
        if first > high {
            return Err(ValidationError::new(
                "multiple",
                "no multiple of it lies between min and max",
            ));
        }
        Ok(rules)
    }

    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// The rules in words, for a message: "at least 12, in multiples of 6, at most 120".
    pub fn describe(&self) -> String {
        let parts: Vec<String> = [
            self.min.map(|q| format!("at least {}", q.get())),
            self.multiple
                .map(|q| format!("in multiples of {}", q.get())),
            self.max.map(|q| format!("at most {}", q.get())),
        ]
        .into_iter()
        .flatten()
        .collect();
        if parts.is_empty() {
            "any positive quantity".to_owned()
        } else {
            parts.join(", ")
        }
    }

    /// Whether `quantity` is allowed; else the rules it broke.
    pub fn check(&self, quantity: Quantity) -> Result<(), QuantityProblem> {
        let q = quantity.get();
        let below = self.min.is_some_and(|min| q < min.get());
        let above = self.max.is_some_and(|max| q > max.get());
        let off_step = self
            .multiple
            .is_some_and(|step| !q.is_multiple_of(step.get()));
        if below || above || off_step {
            Err(QuantityProblem { rules: *self })
        } else {
            Ok(())
        }
    }
}

/// Which price list wins when several offer a price: the higher priority (ties: the newer list).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Priority(u32);

impl Priority {
    pub const MAX: u32 = 1_000;

    pub fn parse(value: i64, field: &str) -> Result<Self, ValidationError> {
        u32::try_from(value)
            .ok()
            .filter(|value| *value <= Self::MAX)
            .map(Self)
            .ok_or_else(|| ValidationError::new(field, "must be between 0 and 1000"))
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

impl TryFrom<u32> for Priority {
    type Error = ValidationError;
    fn try_from(value: u32) -> Result<Self, Self::Error> {
        Self::parse(i64::from(value), "priority")
    }
}

impl From<Priority> for u32 {
    fn from(value: Priority) -> Self {
        value.0
    }
}

/// Which partners a price list prices for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceListScope {
    /// Every partner of the tenant.
    All,
    /// Partners at one of these levels.
    Levels { levels: BTreeSet<Level> },
    /// These partners.
    Partners { partners: BTreeSet<PartnerId> },
}

impl PriceListScope {
    pub fn levels(levels: BTreeSet<Level>) -> Result<Self, ValidationError> {
        if levels.is_empty() || levels.len() > MAX_SCOPE_LEVELS {
            return Err(ValidationError::new("levels", "name 1 to 50 levels"));
        }
        Ok(Self::Levels { levels })
    }

    pub fn partners(partners: BTreeSet<PartnerId>) -> Result<Self, ValidationError> {
        if partners.is_empty() || partners.len() > MAX_SCOPE_PARTNERS {
            return Err(ValidationError::new(
                "partnerIds",
                "name 1 to 500 partners; beyond that, give them a level",
            ));
        }
        Ok(Self::Partners { partners })
    }

    /// Whether the list prices for `partner`, at `level`.
    pub fn covers(&self, partner: PartnerId, level: Option<&Level>) -> bool {
        match self {
            Self::All => true,
            Self::Levels { levels } => level.is_some_and(|level| levels.contains(level)),
            Self::Partners { partners } => partners.contains(&partner),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::parse(n, "q").unwrap()
    }

    #[test]
    fn rules_that_cannot_be_met_are_refused() {
        assert_eq!(
            QuantityRules::new(Some(q(10)), None, Some(q(5)))
                .unwrap_err()
                .field,
            "max"
        );
        assert_eq!(
            QuantityRules::new(Some(q(7)), Some(q(6)), Some(q(11)))
                .unwrap_err()
                .field,
            "multiple"
        );
        assert!(QuantityRules::new(Some(q(6)), Some(q(6)), Some(q(6))).is_ok());
    }

    #[test]
    fn a_quantity_is_checked_against_each_rule() {
        let rules = QuantityRules::new(Some(q(12)), Some(q(6)), Some(q(120))).unwrap();
        assert!(rules.check(q(12)).is_ok());
        assert!(rules.check(q(120)).is_ok());
        for bad in [6, 13, 126] {
            assert_eq!(rules.check(q(bad)), Err(QuantityProblem { rules }));
        }
        assert!(QuantityRules::default().check(q(7)).is_ok());
        assert_eq!(
            rules.describe(),
            "at least 12, in multiples of 6, at most 120"
        );
        assert_eq!(QuantityRules::default().describe(), "any positive quantity");
    }

    #[test]
    fn an_uncategorised_product_is_outside_a_restricted_assortment() {
        let drinks = Category::parse("drinks").unwrap();
        let assortment = Assortment::new([drinks.clone()].into()).unwrap();
        assert!(assortment.admits(Some(&drinks)));
        assert!(!assortment.admits(Some(&Category::parse("snacks").unwrap())));
        assert!(!assortment.admits(None));
        assert!(Assortment::new(BTreeSet::new()).is_err());
    }

    #[test]
    fn priorities_are_bounded() {
        assert!(Priority::parse(-1, "priority").is_err());
        assert!(Priority::parse(1_001, "priority").is_err());
        assert_eq!(Priority::parse(1_000, "priority").unwrap().get(), 1_000);
    }
}
