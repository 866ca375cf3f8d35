//! The read side's queries, beside the projections that write their tables: each module answers
//! typed rows of one read model, filtered by typed filters and paged by keyset, always within a
//! [`Scope`]. Nothing here knows GraphQL; the API maps these rows to its objects.
//!
//! Modules:
//! - [`scope`]: which rows a caller may read (tenant, linked partners), stated once;
//! - [`page`]: keyset pages (`first` bounded, `after` a row's key, never an offset);
//! - [`query`]: a statement with its arguments numbered as they are bound;
//! - [`orders`]: `rm_orders` and `rm_order_lines`;
//! - [`partners`]: `rm_partners`, customers and partner enterprises;
//! - [`contacts`]: `rm_contacts` and their links, `rm_partner_contacts`;
//! - [`members`]: `rm_members`, the tenants' staff who sign in as themselves;
//! - [`products`]: `rm_products`, the catalog;
//! - [`price_lists`]: `rm_price_lists` and `rm_price_list_entries`, dealer price lists;
//! - [`tenants`]: `rm_tenants` and their WeChat accounts and menus;
//! - [`analytics`]: `rm_sales_daily` and `rm_onboarding_partners`;
//! - [`notifications`]: the SMS outbox as `notification_messages` shows it.

pub mod analytics;
pub mod contacts;
pub mod members;
pub mod notifications;
pub mod orders;
pub mod page;
pub mod partners;
pub mod price_lists;
pub mod products;
pub mod query;
pub mod scope;
pub mod tenants;

pub use page::{Keyed, Page, PageRequest, MAX_PAGE};
pub use scope::{Reach, Scope};

/// The names of a JSON text array column (`rm_partners.assortment`, `rm_price_lists.scope_*`),
/// as the projections write them. Text that is not such an array reads as no names: the
/// projections never write it.
pub(crate) fn json_list(text: &str) -> Vec<String> {
    serde_json::from_str(text).unwrap_or_default()
}
