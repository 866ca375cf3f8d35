//! The mutation root: one object per aggregate, merged. Every mutation takes one `input` and
//! returns a payload holding what it changed, read from the read model after read-your-writes.

mod auth;
mod contact;
mod order;
mod partner;
mod pricing;
mod product;
mod staff;
mod tenant;

use async_graphql::MergedObject;

#[derive(Default, MergedObject)]
pub struct MutationRoot(
    order::OrderMutations,
    auth::AuthMutations,
    tenant::TenantMutations,
    partner::PartnerMutations,
    contact::ContactMutations,
    product::ProductMutations,
    pricing::PricingMutations,
    staff::StaffMutations,
);
