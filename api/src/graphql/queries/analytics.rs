//! Analytics over the read models (DESIGN §1 `analyst`): sales by day, partner and product
//! (`salesDaily`, a connection, from `rm_sales_daily`) and the onboarding funnel (`onboardingFunnel`, from
//! `rm_onboarding_partners`). Analysts and admins only; auditors read the log, not the
//! projections (DESIGN §1), so they are `FORBIDDEN` here like every other role.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{
    Context, Enum, InputValueError, InputValueResult, Object, Scalar, ScalarType, SimpleObject,
    Value, ID,
};
use chrono::{DateTime, NaiveDate, Utc};
use dinghuo_commands::Role;
use dinghuo_projections::read::analytics::{self as read, FunnelRow, SalesAt};
use dinghuo_projections::read::Scope;

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::Money;

/// Who may read analytics (DESIGN §1).
pub const ANALYTICS_ROLES: &[Role] = &[Role::Analyst, Role::Admin];

/// The longest range of `salesDaily`, in days: a year and a day, so that a leap year fits.
const MAX_SALES_DAYS: i64 = 367;

/// Report order: day, then partner, then product (each as stored: text).
type SalesCursor = OpaqueCursor<SalesAt>;

/// A calendar date, `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Date(pub NaiveDate);

#[Scalar(name = "Date")]
impl ScalarType for Date {
    fn parse(value: Value) -> InputValueResult<Self> {
        match &value {
            Value::String(text) => NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .map(Date)
                .map_err(|_| InputValueError::custom("expected a date as YYYY-MM-DD")),
            _ => Err(InputValueError::expected_type(value)),
        }
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.format("%Y-%m-%d").to_string())
    }
}

#[derive(Default)]
pub struct AnalyticsQueries;

/// Sales of one product to one partner on one day (China Standard Time). Rejected and
/// cancelled orders are taken back out.
#[derive(Debug, Clone, SimpleObject)]
pub struct SalesDay {
    pub day: Date,
    pub partner_id: ID,
    pub product_id: ID,
    /// Orders with this product.
    pub orders: i64,
    pub quantity: i64,
    pub amount: Money,
}

/// A step of the onboarding funnel (DESIGN §3 "Projections").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum OnboardingStep {
    CustomerRecorded,
    PartnerAdded,
    OrderingAssigned,
    /// A first their-side contact added.
    ContactAdded,
    /// A first their-side contact bound its identity.
    ContactBound,
    FirstOrder,
}

/// How many customers reached one step, and how long they took from the step before.
#[derive(Debug, Clone, SimpleObject)]
pub struct FunnelStep {
    pub step: OnboardingStep,
    /// Customers that reached this step (whatever the order of the steps before).
    pub reached: i64,
    /// Median hours from the previous step to this one, among customers that reached both;
    /// none for the first step or when no customer did.
    pub median_hours_from_previous: Option<f64>,
}

/// The onboarding funnel of the caller's tenant.
#[derive(Debug, Clone, SimpleObject)]
pub struct OnboardingFunnel {
    /// The steps in funnel order: customer → partner → ordering assigned → contact added →
    /// bound → first order.
    #[graphql(complexity = "crate::graphql::complexity::list(STEPS.len(), child_complexity)")]
    pub steps: Vec<FunnelStep>,
    /// Median hours from being added as a partner to the first order.
    pub median_hours_to_first_order: Option<f64>,
}

/// The moment of each step of a customer, in [`STEPS`] order.
fn moments(row: &FunnelRow) -> [Option<i64>; 6] {
    [
        Some(row.customer_recorded_ms),
        row.partner_added_ms,
        row.ordering_assigned_ms,
        row.first_contact_added_ms,
        row.first_contact_bound_ms,
        row.first_order_ms,
    ]
}

const STEPS: [OnboardingStep; 6] = [
    OnboardingStep::CustomerRecorded,
    OnboardingStep::PartnerAdded,
    OnboardingStep::OrderingAssigned,
    OnboardingStep::ContactAdded,
    OnboardingStep::ContactBound,
    OnboardingStep::FirstOrder,
];

const MS_PER_HOUR: f64 = 3_600_000.0;

/// The median of `values` (the mean of the middle two for an even count), as the portable SQL
/// of `docs/read-models.md` computes it.
fn median(mut values: Vec<i64>) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let n = values.len();
    let middle = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    Some(middle / MS_PER_HOUR)
}

fn funnel(rows: &[FunnelRow]) -> OnboardingFunnel {
    let moments: Vec<[Option<i64>; 6]> = rows.iter().map(moments).collect();
    let steps = STEPS
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let reached = moments.iter().filter(|m| m[i].is_some()).count();
            let median_hours_from_previous = if i == 0 {
                None
            } else {
                median(
                    moments
                        .iter()
                        .filter_map(|m| Some(m[i]? - m[i - 1]?))
                        .collect(),
                )
            };
            FunnelStep {
                step: *step,
                reached: i64::try_from(reached).unwrap_or(i64::MAX),
                median_hours_from_previous,
            }
        })
        .collect();
    let median_hours_to_first_order = median(
        rows.iter()
            .filter_map(|row| Some(row.first_order_ms? - row.partner_added_ms?))
            .collect(),
    );
    OnboardingFunnel {
        steps,
        median_hours_to_first_order,
    }
}

/// The caller's scope, if the caller may read analytics (its whole tenant).
fn analytics_scope(ctx: &Context<'_>) -> ApiResult<Scope> {
    let (caller, _) = caller::of(ctx);
    caller::scope_of(&caller.require(ANALYTICS_ROLES)?)
}

#[Object]
impl AnalyticsQueries {
    /// Sales per day (China Standard Time), partner and product, `from` and `to` both included
    /// (at most a year), optionally of one partner or one product; by day, then partner, then
    /// product, a page at a time (`first` at most 100, 20 when absent): a year of a whole
    /// tenant holds a row per day, partner and product sold.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    #[allow(clippy::too_many_arguments)]
    async fn sales_daily(
        &self,
        ctx: &Context<'_>,
        from: Date,
        to: Date,
        partner_id: Option<ID>,
        product_id: Option<ID>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> ApiResult<Connection<SalesCursor, SalesDay, EmptyFields, EmptyFields>> {
        let scope = analytics_scope(ctx)?;
        let (_, state) = caller::of(ctx);
        let page = super::paging::Page::<SalesCursor>::new(first, after)?;
        if to < from {
            return Err(ApiError::validation("to", "to is before from"));
        }
        if (to.0 - from.0).num_days() >= MAX_SALES_DAYS {
            return Err(ApiError::validation(
                "to",
                format!("at most {MAX_SALES_DAYS} days at a time"),
            ));
        }
        let filter = read::SalesFilter {
            from: from.0,
            to: to.0,
            partner_id: partner_id.map(|id| id.0),
            product_id: product_id.map(|id| id.0),
        };
        let rows = read::sales_daily(state.db(), &scope, &filter, &page.request()).await?;
        page.connection_of(rows, |row| {
            let day = read::parse_day(&row.day).ok_or_else(|| {
                ApiError::internal(format!("rm_sales_daily has a malformed day {:?}", row.day))
            })?;
            Ok(SalesDay {
                day: Date(day),
                partner_id: ID(row.partner_id),
                product_id: ID(row.product_id),
                orders: row.orders,
                quantity: row.quantity,
                amount: Money::from_minor(row.amount_minor, &row.currency),
            })
        })
    }

    /// The caller's tenant's onboarding funnel: how many customers reached each step and the
    /// median time between steps; optionally only the customers recorded in `[recordedFrom,
    /// recordedTo)` (a cohort).
    async fn onboarding_funnel(
        &self,
        ctx: &Context<'_>,
        recorded_from: Option<DateTime<Utc>>,
        recorded_to: Option<DateTime<Utc>>,
    ) -> ApiResult<OnboardingFunnel> {
        let scope = analytics_scope(ctx)?;
        let (_, state) = caller::of(ctx);
        // Medians are computed here: portable SQL has no median.
        let rows = read::funnel(
            state.db(),
            &scope,
            recorded_from.map(|from| from.timestamp_millis()),
            recorded_to.map(|to| to.timestamp_millis()),
        )
        .await?;
        Ok(funnel(&rows))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_median_averages_the_middle_two_of_an_even_count() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3_600_000]), Some(1.0));
        assert_eq!(median(vec![7_200_000, 0, 3_600_000]), Some(1.0));
        assert_eq!(median(vec![0, 3_600_000, 7_200_000, 10_800_000]), Some(1.5));
    }

    #[test]
    fn a_step_counts_every_customer_that_reached_it() {
        let row = |partner: Option<i64>, order: Option<i64>| FunnelRow {
            customer_recorded_ms: 0,
            partner_added_ms: partner,
            ordering_assigned_ms: None,
            first_contact_added_ms: None,
            first_contact_bound_ms: None,
            first_order_ms: order,
        };
        let result = funnel(&[
            row(Some(3_600_000), Some(7_200_000)),
            row(Some(7_200_000), None),
            row(None, None),
        ]);
        assert_eq!(result.steps[0].reached, 3);
        assert_eq!(result.steps[1].reached, 2);
        assert_eq!(result.steps[1].median_hours_from_previous, Some(1.5));
        assert_eq!(result.steps[5].reached, 1);
        // The step before the first order was never reached, so no duration from it.
        assert_eq!(result.steps[5].median_hours_from_previous, None);
        assert_eq!(result.median_hours_to_first_order, Some(1.0));
    }
}
