//! The query root: one object per area, merged.

pub mod analytics;
pub mod audit;
mod contacts;
pub mod notifications;
mod orders;
pub mod paging;
mod partners;
mod pricing;
mod products;
mod staff;
mod tenant;
mod viewer;

use async_graphql::MergedObject;

#[derive(Default, MergedObject)]
pub struct QueryRoot(
    viewer::ViewerQuery,
    orders::OrderQueries,
    audit::AuditQueries,
    analytics::AnalyticsQueries,
    notifications::NotificationQueries,
    tenant::TenantQuery,
    partners::PartnerQueries,
    contacts::ContactQueries,
    products::ProductQueries,
    pricing::PricingQueries,
    staff::StaffQueries,
);
