use chrono::{DateTime, Utc};

use super::PlacedBy;
use crate::ids::{ContactId, PartnerId, ProductId};
use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Carrier, Money, Note, Quantity, Reason, TrackingNumber};

/// A line as the client asks for it: which product, how many. Never a price or a name: those
/// come from the catalog at submission.
#[derive(Debug, Clone, PartialEq)]
pub struct RequestedLine {
    pub product_id: ProductId,
    pub quantity: Quantity,
}

/// Who acts on an order after submission. The command layer has already checked the role; the
/// order checks the data scope (an employee linked to the partner, a contact of the partner).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderActor {
    Admin,
    Employee(ContactId),
    Contact(ContactId),
}

/// Who submits an order: a their-side contact of the partner, or staff on its behalf.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Submitter {
    Contact(ContactId),
    OnBehalf(PlacedBy),
}

#[derive(Debug, Clone, PartialEq)]
pub enum OrderCommand {
    SubmitOrder {
        partner_id: PartnerId,
        by: Submitter,
        lines: Vec<RequestedLine>,
        note: Note,
        /// The total the buyer was quoted: other prices now are `PRICE_CHANGED`.
        expected_total: Option<Money>,
        /// When the order is priced: the moment price lists' validity is judged at.
        at: DateTime<Utc>,
    },
    ConfirmOrder {
        by: OrderActor,
    },
    RejectOrder {
        by: OrderActor,
        reason: Reason,
    },
    ShipOrder {
        by: OrderActor,
        carrier: Option<Carrier>,
        tracking: Option<TrackingNumber>,
    },
    ReceiveOrder {
        by: OrderActor,
    },
    CancelOrder {
        by: OrderActor,
        reason: Reason,
    },
}

impl OrderCommand {
    /// The most lines one order may have.
    pub const MAX_LINES: usize = 200;
}

/// Lines an order (or a quote of one) may have: 1 to [`OrderCommand::MAX_LINES`], each product
/// once.
pub fn check_lines(lines: &[RequestedLine]) -> Result<(), crate::ValidationError> {
    if lines.is_empty() || lines.len() > OrderCommand::MAX_LINES {
        return Err(crate::ValidationError::new(
            "lines",
            "an order has 1 to 200 lines",
        ));
    }
    let mut seen = std::collections::HashSet::new();
    for (i, line) in lines.iter().enumerate() {
        if !seen.insert(line.product_id) {
            return Err(crate::ValidationError::new(
                format!("lines[{i}].productId"),
                "the same product appears on two lines",
            ));
        }
    }
    Ok(())
}

impl Needs for Scoped<OrderCommand> {
    /// A submission reads its tenant, partner, contact, every product and its prices at once
    /// (and then the tenant's price lists, which the command layer reads ahead); a later
    /// change reads the acting employee or contact (and, for a contact's cancellation, the
    /// tenant's default permissions).
    fn needs(&self) -> Wanted {
        use OrderActor as A;
        use OrderCommand as C;
        let wanted = Wanted::new();
        match &self.command {
            C::SubmitOrder {
                partner_id,
                by,
                lines,
                ..
            } => {
                let products = lines.iter().map(|line| line.product_id);
                let wanted = crate::pricing::wanted(self.tenant_id, *partner_id, products);
                match by {
                    Submitter::Contact(id)
                    | Submitter::OnBehalf(PlacedBy::Employee { contact_id: id }) => {
                        wanted.contact(*id)
                    }
                    Submitter::OnBehalf(PlacedBy::Admin { .. }) => wanted,
                }
            }
            C::ConfirmOrder {
                by: A::Employee(id),
            }
            | C::RejectOrder {
                by: A::Employee(id),
                ..
            }
            | C::ShipOrder {
                by: A::Employee(id),
                ..
            }
            | C::ReceiveOrder { by: A::Contact(id) } => wanted.contact(*id),
            C::CancelOrder {
                by: A::Contact(id), ..
            } => wanted.contact(*id).tenant(self.tenant_id),
            _ => wanted,
        }
    }
}
