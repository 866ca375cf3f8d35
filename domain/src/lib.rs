//! Dinghuo's domain: the five aggregates of DESIGN §2, and from §4 the staff membership and the
//! price lists with the one pricing function; their commands, events and rules, the value
//! objects they are made of, and the error codes they refuse with.
//!
//! Pure by design: this crate depends on no database, web framework or clock. Ids are made by
//! the caller; rules that span aggregates ask the [`Lookup`] service.
//!
//! Modules: [`tenant`], [`partner`], [`contact`], [`product`], [`order`], [`member`],
//! [`price_list`] (one folder per aggregate), [`pricing`] (the one pricing function), [`values`] (value objects), [`ids`], [`error`], [`lookup`], [`testing`] (an
//! in-memory lookup for tests). Test-only: `fixtures` (ids and event histories shared by the
//! aggregates' given/when/then tests) and `event_json` (the pinned JSON of every event).

pub mod contact;
pub mod error;
#[cfg(test)]
mod event_json;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod ids;
pub mod lookup;
pub mod member;
pub mod order;
pub mod partner;
pub mod price_list;
pub mod pricing;
pub mod product;
pub mod tenant;
pub mod testing;
pub mod values;

pub use error::{DomainError, ErrorCode, ValidationError};
pub use ids::{ContactId, MemberId, OrderId, PartnerId, PriceListId, ProductId, TenantId};
pub use lookup::{Found, Lookup, Needs, Scoped, Services, Wanted};
pub use values::*;

/// The schema version written with every event. Bump it (and add an upcaster) when an event's
/// shape changes; never change what an existing version means.
pub const EVENT_VERSION: &str = "1.0";
