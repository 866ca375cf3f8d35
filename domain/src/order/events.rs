use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{ContactId, PartnerId, ProductId, TenantId};
use crate::pricing::PriceReason;
use crate::values::{Carrier, Money, Name, Note, Quantity, Reason, Sku, TrackingNumber, Unit};

/// The version of `OrderSubmitted` written today. 2.0 added each line's `price_reason` and the
/// order's `placed_by`, and made `contact_id` optional (an order placed on behalf of a partner
/// has no contact of it); a 1.0 event reads as 2.0 through the store's upcaster: every line
/// `CATALOG`, placed by its contact.
pub const ORDER_SUBMITTED_VERSION: &str = "2.0";

/// Who placed an order on behalf of its partner (DESIGN §4): an admin of the tenant, or an
/// employee linked to the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "role", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PlacedBy {
    /// `id`: the admin's id as its token names it (a staff membership, or a token's subject).
    Admin {
        id: uuid::Uuid,
    },
    Employee {
        contact_id: ContactId,
    },
}

/// A priced line, frozen at submission: later repricing or delisting does not change it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderLine {
    pub product_id: ProductId,
    pub sku: Sku,
    pub name: Name,
    pub unit: Unit,
    pub quantity: Quantity,
    pub unit_price: Money,
    pub line_total: Money,
    /// Why the line cost `unit_price`.
    pub price_reason: PriceReason,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderSubmitted {
        tenant_id: TenantId,
        partner_id: PartnerId,
        /// The partner's contact who ordered; `None` for an order placed on its behalf.
        contact_id: Option<ContactId>,
        /// Set when staff placed the order on the partner's behalf.
        placed_by: Option<PlacedBy>,
        lines: Vec<OrderLine>,
        total: Money,
        note: Note,
    },
    OrderConfirmed,
    OrderRejected {
        reason: Reason,
    },
    OrderShipped {
        carrier: Option<Carrier>,
        tracking: Option<TrackingNumber>,
    },
    OrderReceived,
    OrderCancelled {
        reason: Reason,
    },
}

impl DomainEvent for OrderEvent {
    fn event_type(&self) -> String {
        match self {
            Self::OrderSubmitted { .. } => "OrderSubmitted",
            Self::OrderConfirmed => "OrderConfirmed",
            Self::OrderRejected { .. } => "OrderRejected",
            Self::OrderShipped { .. } => "OrderShipped",
            Self::OrderReceived => "OrderReceived",
            Self::OrderCancelled { .. } => "OrderCancelled",
        }
        .to_owned()
    }

    fn event_version(&self) -> String {
        match self {
            Self::OrderSubmitted { .. } => ORDER_SUBMITTED_VERSION,
            _ => crate::EVENT_VERSION,
        }
        .to_owned()
    }
}
