use cqrs_es::DomainEvent;
use serde::{Deserialize, Serialize};

use crate::ids::{ContactId, PartnerId, ProductId, TenantId};
use crate::values::{Carrier, Money, Name, Note, Quantity, Reason, Sku, TrackingNumber, Unit};

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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OrderEvent {
    OrderSubmitted {
        tenant_id: TenantId,
        partner_id: PartnerId,
        contact_id: ContactId,
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
        crate::EVENT_VERSION.to_owned()
    }
}
