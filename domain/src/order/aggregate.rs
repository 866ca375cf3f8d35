use cqrs_es::event_sink::EventSink;
use cqrs_es::Aggregate;
use serde::{Deserialize, Serialize};

use super::{OrderActor, OrderCommand, OrderEvent, OrderLine, PlacedBy, RequestedLine, Submitter};
use crate::error::DomainError;
use crate::ids::{ContactId, PartnerId, TenantId};
use crate::lookup::{Lookup, Scoped, Services};
use crate::pricing;
use crate::values::{App, Money, Note, Permission, Side};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum OrderStatus {
    Submitted,
    Confirmed,
    Rejected,
    Shipped,
    Received,
    Cancelled,
}

impl OrderStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Submitted => "SUBMITTED",
            Self::Confirmed => "CONFIRMED",
            Self::Rejected => "REJECTED",
            Self::Shipped => "SHIPPED",
            Self::Received => "RECEIVED",
            Self::Cancelled => "CANCELLED",
        }
    }

    /// The status [`as_str`](Self::as_str) names, as stored in read models.
    pub fn parse(text: &str) -> Option<Self> {
        [
            Self::Submitted,
            Self::Confirmed,
            Self::Rejected,
            Self::Shipped,
            Self::Received,
            Self::Cancelled,
        ]
        .into_iter()
        .find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Order {
    tenant_id: Option<TenantId>,
    partner_id: Option<PartnerId>,
    contact_id: Option<ContactId>,
    status: Option<OrderStatus>,
    total: Option<Money>,
    version: u64,
}

impl Order {
    pub fn status(&self) -> Option<OrderStatus> {
        self.status
    }
    pub fn tenant_id(&self) -> Option<TenantId> {
        self.tenant_id
    }
    pub fn partner_id(&self) -> Option<PartnerId> {
        self.partner_id
    }
    pub fn contact_id(&self) -> Option<ContactId> {
        self.contact_id
    }
    pub fn total(&self) -> Option<Money> {
        self.total
    }
    pub fn version(&self) -> u64 {
        self.version
    }

    fn require_status(&self, allowed: &[OrderStatus], action: &str) -> Result<(), DomainError> {
        match self.status {
            Some(status) if allowed.contains(&status) => Ok(()),
            Some(status) => Err(DomainError::invalid_state(format!(
                "cannot {action} an order that is {}",
                status.as_str()
            ))),
            None => Err(DomainError::NotFound { what: "order" }),
        }
    }

    /// The data scope of staff: an admin sees every order of its tenant, an employee only those
    /// of partners it is an our-side contact of. Out of scope looks like "no such order".
    async fn require_staff(&self, by: OrderActor, lookup: &dyn Lookup) -> Result<(), DomainError> {
        match by {
            OrderActor::Admin => Ok(()),
            OrderActor::Employee(employee) => {
                let partner = self
                    .partner_id
                    .ok_or(DomainError::NotFound { what: "order" })?;
                if lookup
                    .contact(employee)
                    .await?
                    .is_linked(partner, Side::Ours)
                {
                    Ok(())
                } else {
                    Err(DomainError::NotFound { what: "order" })
                }
            }
            OrderActor::Contact(_) => Err(DomainError::Forbidden),
        }
    }

    /// A contact acts only on orders of its own partner, and only once it verified its identity.
    async fn require_partner_contact(
        &self,
        contact: ContactId,
        lookup: &dyn Lookup,
    ) -> Result<crate::contact::Contact, DomainError> {
        let partner = self
            .partner_id
            .ok_or(DomainError::NotFound { what: "order" })?;
        let contact = lookup.contact(contact).await?;
        if !contact.is_linked(partner, Side::Theirs) {
            return Err(DomainError::NotFound { what: "order" });
        }
        if !contact.is_bound() {
            return Err(DomainError::ContactNotBound);
        }
        Ok(contact)
    }

    /// Checks who may order for the partner, prices the lines through the one pricing function
    /// and refuses the first line with a problem, or a quote the buyer did not expect.
    #[allow(clippy::too_many_arguments)]
    async fn submit(
        tenant: TenantId,
        partner_id: PartnerId,
        by: Submitter,
        requested: Vec<RequestedLine>,
        note: Note,
        expected_total: Option<Money>,
        at: chrono::DateTime<chrono::Utc>,
        lookup: &dyn Lookup,
    ) -> Result<OrderEvent, DomainError> {
        super::check_lines(&requested)?;

        // Everything the rules below read, asked for at once (then the tenant's price lists).
        let products = requested.iter().map(|line| line.product_id);
        let mut wanted = pricing::wanted(tenant, partner_id, products);
        let (contact_id, placed_by) = match by {
            Submitter::Contact(id) => {
                wanted = wanted.contact(id);
                (Some(id), None)
            }
            Submitter::OnBehalf(placed_by) => {
                if let PlacedBy::Employee { contact_id } = placed_by {
                    wanted = wanted.contact(contact_id);
                }
                (None, Some(placed_by))
            }
        };
        let found = pricing::load(lookup, tenant, &wanted).await?;
        let upstream = found.tenant(tenant)?;
        if !upstream.is_registered() {
            return Err(DomainError::NotFound { what: "tenant" });
        }
        let partner = found.partner(partner_id)?;
        match by {
            Submitter::Contact(id) => {
                if !upstream.has_enabled(App::Ordering) {
                    return Err(DomainError::AppNotEnabled { app: App::Ordering });
                }
                partner.check_may_order(tenant, App::Ordering)?;
                let contact = found.contact(id)?;
                if !contact.belongs_to(tenant) || !contact.is_linked(partner_id, Side::Theirs) {
                    return Err(DomainError::Forbidden);
                }
                if !contact.is_bound() {
                    return Err(DomainError::ContactNotBound);
                }
                contact.check_permission(upstream, App::Ordering, Permission::CreateSalesOrder)?;
            }
            Submitter::OnBehalf(placed_by) => {
                // An employee reaches only the partners it is linked to; another looks absent.
                if let PlacedBy::Employee { contact_id } = placed_by {
                    let employee = found.contact(contact_id)?;
                    if !employee.belongs_to(tenant) || !employee.is_linked(partner_id, Side::Ours) {
                        return Err(DomainError::NotFound { what: "partner" });
                    }
                }
                if !partner.is_customer_of(tenant) {
                    return Err(DomainError::NotFound { what: "partner" });
                }
                if !upstream.has_enabled(App::Ordering) {
                    return Err(DomainError::AppNotEnabled { app: App::Ordering });
                }
                partner.check_may_order(tenant, App::Ordering)?;
            }
        }

        let buyer = pricing::Buyer {
            tenant,
            partner_id,
            partner,
            at,
        };
        let quote = pricing::quote(buyer, &requested, &found)?;
        if let Some(refusal) = quote.first_problem() {
            return Err(refusal);
        }
        if expected_total.is_some_and(|expected| expected != quote.total) {
            return Err(DomainError::PriceChanged {
                quote: Box::new(quote),
            });
        }
        let mut lines = Vec::with_capacity(quote.lines.len());
        for quoted in quote.lines {
            let (Some(sku), Some(name), Some(unit), Some(price), Some(line_total)) = (
                quoted.sku,
                quoted.name,
                quoted.unit,
                quoted.price,
                quoted.line_total,
            ) else {
                return Err(DomainError::Lookup(format!(
                    "line of product {} was not priced",
                    quoted.product_id
                )));
            };
            lines.push(OrderLine {
                product_id: quoted.product_id,
                sku,
                name,
                unit,
                quantity: quoted.quantity,
                unit_price: price.unit_price,
                line_total,
                price_reason: price.reason,
            });
        }
        Ok(OrderEvent::OrderSubmitted {
            tenant_id: tenant,
            partner_id,
            contact_id,
            placed_by,
            lines,
            total: quote.total,
            note,
        })
    }
}

impl Aggregate for Order {
    const TYPE: &'static str = "Order";
    type Command = Scoped<OrderCommand>;
    type Event = OrderEvent;
    type Error = DomainError;
    type Services = Services;

    async fn handle(
        &mut self,
        scoped: Self::Command,
        services: &Self::Services,
        sink: &EventSink<Self>,
    ) -> Result<(), Self::Error> {
        use OrderCommand as C;
        use OrderEvent as E;
        use OrderStatus as S;
        let tenant = scoped.tenant_id;
        let lookup = services.as_ref();
        if self.tenant_id.is_some() && self.tenant_id != Some(tenant) {
            return Err(DomainError::NotFound { what: "order" });
        }
        let event = match scoped.command {
            C::SubmitOrder {
                partner_id,
                by,
                lines,
                note,
                expected_total,
                at,
            } => {
                if self.status.is_some() {
                    return Err(DomainError::invalid_state(
                        "the order was already submitted",
                    ));
                }
                Self::submit(
                    tenant,
                    partner_id,
                    by,
                    lines,
                    note,
                    expected_total,
                    at,
                    lookup,
                )
                .await?
            }
            C::ConfirmOrder { by } => {
                self.require_status(&[S::Submitted], "confirm")?;
                self.require_staff(by, lookup).await?;
                E::OrderConfirmed
            }
            C::RejectOrder { by, reason } => {
                self.require_status(&[S::Submitted], "reject")?;
                self.require_staff(by, lookup).await?;
                E::OrderRejected { reason }
            }
            C::ShipOrder {
                by,
                carrier,
                tracking,
            } => {
                self.require_status(&[S::Confirmed], "ship")?;
                self.require_staff(by, lookup).await?;
                E::OrderShipped { carrier, tracking }
            }
            C::ReceiveOrder { by } => {
                self.require_status(&[S::Shipped], "receive")?;
                match by {
                    OrderActor::Contact(contact) => {
                        self.require_partner_contact(contact, lookup).await?;
                    }
                    OrderActor::Admin | OrderActor::Employee(_) => {
                        return Err(DomainError::Forbidden)
                    }
                }
                E::OrderReceived
            }
            C::CancelOrder { by, reason } => {
                match by {
                    // The dealer may withdraw its order until the tenant confirmed it.
                    OrderActor::Contact(contact_id) => {
                        self.require_status(&[S::Submitted], "cancel")?;
                        let contact = self.require_partner_contact(contact_id, lookup).await?;
                        let upstream = lookup.tenant(tenant).await?;
                        contact.check_permission(
                            &upstream,
                            App::Ordering,
                            Permission::CancelOrder,
                        )?;
                    }
                    // The tenant's admin may cancel until the goods left.
                    OrderActor::Admin => {
                        self.require_status(&[S::Submitted, S::Confirmed], "cancel")?;
                    }
                    OrderActor::Employee(_) => return Err(DomainError::Forbidden),
                }
                E::OrderCancelled { reason }
            }
        };
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: Self::Event) {
        use OrderEvent as E;
        self.version += 1;
        self.status = Some(match event {
            E::OrderSubmitted {
                tenant_id,
                partner_id,
                contact_id,
                total,
                ..
            } => {
                self.tenant_id = Some(tenant_id);
                self.partner_id = Some(partner_id);
                self.contact_id = contact_id;
                self.total = Some(total);
                OrderStatus::Submitted
            }
            E::OrderConfirmed => OrderStatus::Confirmed,
            E::OrderRejected { .. } => OrderStatus::Rejected,
            E::OrderShipped { .. } => OrderStatus::Shipped,
            E::OrderReceived => OrderStatus::Received,
            E::OrderCancelled { .. } => OrderStatus::Cancelled,
        });
    }
}
