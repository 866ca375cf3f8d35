//! How a price is explained (issue 18): `Quote`, its lines with their `PriceReason`, a line's
//! problems and a product's `QuantityRules`, mapped from the one pricing function's answer
//! (`dinghuo_domain::pricing`). The same shapes travel in `extensions.quote` of `PRICE_CHANGED`.

use async_graphql::{Enum, SimpleObject, ID};
use dinghuo_domain::pricing::{self, LineProblem as DomainProblem};
use dinghuo_domain::{DomainError, ErrorCode, QuantityRules as DomainRules};
use serde::Serialize;

use super::money::Money;
use crate::graphql::error::ApiError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PriceReasonKind {
    /// The product's catalog price: no price list applied.
    Catalog,
    /// A price list's price.
    PriceList,
}

/// Why a price is what it is. For `PRICE_LIST`: which list, its priority, the volume break
/// (the least quantity the price applies from; 1 is the list's base price) and the catalog
/// price it replaced.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PriceReason {
    pub kind: PriceReasonKind,
    pub price_list_id: Option<ID>,
    pub price_list_name: Option<String>,
    pub priority: Option<i32>,
    pub min_quantity: Option<i64>,
    pub catalog_price: Option<Money>,
    /// The reason in one English sentence, e.g. `Price list "A dealers" (priority 10), from
    /// 12 units; catalog 12.50`.
    pub explanation: String,
}

impl PriceReason {
    pub fn from_domain(reason: &pricing::PriceReason) -> Self {
        match reason {
            pricing::PriceReason::Catalog => Self::catalog(),
            pricing::PriceReason::PriceList {
                price_list_id,
                name,
                priority,
                min_quantity,
                catalog_price,
            } => Self::price_list(
                price_list_id.to_string(),
                name.as_str().to_owned(),
                i64::from(priority.get()),
                i64::from(min_quantity.get()),
                Money::from_minor(catalog_price.amount_minor, catalog_price.currency.code()),
            ),
        }
    }

    pub fn catalog() -> Self {
        Self {
            kind: PriceReasonKind::Catalog,
            price_list_id: None,
            price_list_name: None,
            priority: None,
            min_quantity: None,
            catalog_price: None,
            explanation: "Catalog price".to_owned(),
        }
    }

    /// A price list's reason, as stored with an order line or answered by a quote.
    pub fn price_list(
        id: String,
        name: String,
        priority: i64,
        min_quantity: i64,
        catalog_price: Money,
    ) -> Self {
        let from = if min_quantity > 1 {
            format!(", from {min_quantity} units")
        } else {
            String::new()
        };
        let explanation = format!(
            "Price list \"{name}\" (priority {priority}){from}; catalog {}",
            catalog_price.amount
        );
        Self {
            kind: PriceReasonKind::PriceList,
            price_list_id: Some(ID(id)),
            price_list_name: Some(name),
            priority: i32::try_from(priority).ok(),
            min_quantity: Some(min_quantity),
            catalog_price: Some(catalog_price),
            explanation,
        }
    }
}

/// How much of a product one line may order; `null` rules do not apply.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuantityRules {
    pub min: Option<i64>,
    /// Lines order whole multiples of it (a case size).
    pub multiple: Option<i64>,
    pub max: Option<i64>,
}

impl From<DomainRules> for QuantityRules {
    fn from(rules: DomainRules) -> Self {
        let get = |q: Option<dinghuo_domain::Quantity>| q.map(|q| i64::from(q.get()));
        Self {
            min: get(rules.min),
            multiple: get(rules.multiple),
            max: get(rules.max),
        }
    }
}

/// What is wrong with a line: `PRODUCT_NOT_LISTED`, `PRODUCT_NOT_AVAILABLE` or
/// `QUANTITY_NOT_ALLOWED` (the line's `quantityRules` say what is allowed).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LineProblem {
    pub code: String,
    pub message: String,
}

impl From<DomainProblem> for LineProblem {
    fn from(problem: DomainProblem) -> Self {
        let (code, message) = match problem {
            DomainProblem::NotListed => (ErrorCode::ProductNotListed, "not a listed product"),
            DomainProblem::NotAvailable => (
                ErrorCode::ProductNotAvailable,
                "not in the partner's assortment",
            ),
            DomainProblem::QuantityNotAllowed(rules) => {
                let message = format!("order it {}", rules.describe());
                return Self {
                    code: ErrorCode::QuantityNotAllowed.as_str().to_owned(),
                    message,
                };
            }
        };
        Self {
            code: code.as_str().to_owned(),
            message: message.to_owned(),
        }
    }
}

/// A line priced for the buyer. A product that is not listed, or outside the partner's
/// assortment, has no name, price or total (only its problem).
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct QuoteLine {
    pub product_id: ID,
    pub sku: Option<String>,
    pub name: Option<String>,
    pub unit: Option<String>,
    pub quantity: i64,
    pub unit_price: Option<Money>,
    pub line_total: Option<Money>,
    pub reason: Option<PriceReason>,
    pub quantity_rules: QuantityRules,
    /// Empty when the line can be ordered as it is.
    #[graphql(complexity = "crate::graphql::complexity::list(3, child_complexity)")]
    pub problems: Vec<LineProblem>,
}

/// Lines priced without ordering: submit them with `expectedTotal: total` to be told
/// (`PRICE_CHANGED`) rather than charged if a price moves in between.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Quote {
    /// The partner the lines are priced for.
    pub partner_id: Option<ID>,
    #[graphql(
        complexity = "crate::graphql::complexity::list(dinghuo_domain::order::OrderCommand::MAX_LINES, child_complexity)"
    )]
    pub lines: Vec<QuoteLine>,
    /// The sum of the priced lines.
    pub total: Money,
    /// Whether every line can be ordered as it is (no line has a problem).
    pub orderable: bool,
}

fn money(value: dinghuo_domain::Money) -> Money {
    Money::from_minor(value.amount_minor, value.currency.code())
}

impl Quote {
    pub fn from_domain(quote: &pricing::Quote, partner_id: Option<String>) -> Self {
        let lines: Vec<QuoteLine> = quote
            .lines
            .iter()
            .map(|line| QuoteLine {
                product_id: ID(line.product_id.to_string()),
                sku: line.sku.as_ref().map(|sku| sku.as_str().to_owned()),
                name: line.name.as_ref().map(|name| name.as_str().to_owned()),
                unit: line.unit.as_ref().map(|unit| unit.as_str().to_owned()),
                quantity: i64::from(line.quantity.get()),
                unit_price: line.price.as_ref().map(|price| money(price.unit_price)),
                line_total: line.line_total.map(money),
                reason: line
                    .price
                    .as_ref()
                    .map(|price| PriceReason::from_domain(&price.reason)),
                quantity_rules: line.rules.into(),
                problems: line.problems.iter().copied().map(Into::into).collect(),
            })
            .collect();
        Self {
            partner_id: partner_id.map(ID),
            orderable: lines.iter().all(|line| line.problems.is_empty()),
            lines,
            total: money(quote.total),
        }
    }
}

/// What one unit of a product costs the calling contact's partner, and why.
#[derive(Debug, Clone, PartialEq, Eq, SimpleObject)]
pub struct MyPrice {
    pub amount: Money,
    pub reason: PriceReason,
}

/// The extensions a pricing refusal carries, so that a client can act on it: the line and
/// rules of `QUANTITY_NOT_ALLOWED`, the product of `PRODUCT_NOT_AVAILABLE` /
/// `PRODUCT_NOT_LISTED`, today's `quote` of `PRICE_CHANGED`.
pub fn refusal_details(api: ApiError, refusal: &DomainError) -> ApiError {
    use async_graphql::Value;
    match refusal {
        DomainError::QuantityNotAllowed {
            line,
            product_id,
            rules,
        } => {
            let rules = QuantityRules::from(*rules);
            let number = |value: Option<i64>| value.map_or(Value::Null, Value::from);
            api.with_detail("line", Value::from(*line as u64))
                .with_detail("productId", Value::from(product_id.to_string()))
                .with_detail("min", number(rules.min))
                .with_detail("multiple", number(rules.multiple))
                .with_detail("max", number(rules.max))
        }
        DomainError::ProductNotAvailable { product_id }
        | DomainError::ProductNotListed { product_id } => {
            api.with_detail("productId", Value::from(product_id.to_string()))
        }
        DomainError::PriceChanged { quote } => {
            let quote = Quote::from_domain(quote, None);
            match serde_json::to_value(&quote).map(Value::from_json) {
                Ok(Ok(value)) => api.with_detail("quote", value),
                _ => api,
            }
        }
        _ => api,
    }
}
