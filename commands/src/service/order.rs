//! Entry points of the sales order.

use cqrs_es::{Aggregate, DomainEvent};
use dinghuo_domain::order::{
    Order, OrderActor, OrderCommand, OrderEvent, OrderLine, PlacedBy, RequestedLine, Submitter,
};
use dinghuo_domain::{
    Carrier, ContactId, DomainError, Note, OrderId, PartnerId, Quantity, Reason, Scoped, TenantId,
    TrackingNumber, ValidationError, Wanted,
};
use dinghuo_store::streams::Streams;
use uuid::Uuid;

use super::product::{product_ref, MoneyInput};
use super::{authorize, optional, own_tenant, Commands};
use crate::context::{RequestContext, Role};
use crate::error::CommandError;
use crate::policy::CommandName;

/// One requested line: a product (by id, or by SKU when the id is empty) and a quantity. Never
/// a price: prices come from the pricing function.
#[derive(Debug, Clone, Default)]
pub struct OrderLineInput {
    pub product_id: String,
    /// Wide on purpose, so that a negative or enormous number reaches validation intact.
    pub quantity: i64,
    pub sku: Option<String>,
}

/// What a submission may add to its lines (issue 18): the partner staff order for, and the
/// total the buyer was quoted.
#[derive(Debug, Clone, Default)]
pub struct SubmitOptions {
    /// Staff name the partner they order for; a contact may name its own or none.
    pub partner_id: Option<String>,
    /// The quoted total: other prices now are `PRICE_CHANGED`, with the new quote.
    pub expected_total: Option<MoneyInput>,
}

/// Submitted by a their-side contact for its own partner. The idempotency key travels in the
/// request context.
#[derive(Debug, Clone, Default)]
pub struct SubmitOrderInput {
    pub lines: Vec<OrderLineInput>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ConfirmOrderInput {
    pub order_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct RejectOrderInput {
    pub order_id: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default)]
pub struct ShipOrderInput {
    pub order_id: String,
    pub carrier: Option<String>,
    pub tracking: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ReceiveOrderInput {
    pub order_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct CancelOrderInput {
    pub order_id: String,
    pub reason: String,
}

/// Idempotency keys are opaque to us but bounded, like every input.
const MAX_IDEMPOTENCY_KEY_LEN: usize = 200;

/// The caller's idempotency key, if it sent one, checked against its bounds.
fn idempotency_key(ctx: &RequestContext) -> Result<Option<&str>, CommandError> {
    match ctx.idempotency_key.as_deref() {
        Some(key) if key.is_empty() || key.len() > MAX_IDEMPOTENCY_KEY_LEN => {
            Err(ValidationError::new("idempotencyKey", "must be 1 to 200 bytes").into())
        }
        key => Ok(key),
    }
}

fn key_used_for_another_request() -> CommandError {
    ValidationError::new(
        "idempotencyKey",
        "this key was already used for a different request",
    )
    .into()
}

/// The event a state change of an order appends when it succeeds: what a keyed retry of the
/// same change finds in the stream.
fn event_of(command: &OrderCommand) -> Option<OrderEvent> {
    match command {
        OrderCommand::SubmitOrder { .. } => None,
        OrderCommand::ConfirmOrder { .. } => Some(OrderEvent::OrderConfirmed),
        OrderCommand::RejectOrder { reason, .. } => Some(OrderEvent::OrderRejected {
            reason: reason.clone(),
        }),
        OrderCommand::ShipOrder {
            carrier, tracking, ..
        } => Some(OrderEvent::OrderShipped {
            carrier: carrier.clone(),
            tracking: tracking.clone(),
        }),
        OrderCommand::ReceiveOrder { .. } => Some(OrderEvent::OrderReceived),
        OrderCommand::CancelOrder { reason, .. } => Some(OrderEvent::OrderCancelled {
            reason: reason.clone(),
        }),
    }
}

/// What an order's stream says about a keyed state change.
enum KeyUse {
    /// No event of this caller carries the key: the change is new.
    Unused,
    /// The caller's change under this key is already in the stream: a retry, answered as done.
    Replayed,
    /// The caller used the key for something else.
    Other,
}

fn order_actor(ctx: &RequestContext) -> Result<OrderActor, CommandError> {
    let id = ContactId::from_uuid(ctx.actor.id);
    match ctx.actor.role {
        Role::Admin => Ok(OrderActor::Admin),
        Role::Employee => Ok(OrderActor::Employee(id)),
        Role::Contact => Ok(OrderActor::Contact(id)),
        Role::Operator | Role::Auditor | Role::Analyst => Err(CommandError::forbidden()),
    }
}

/// Whether a stored submission is the one now requested again (same products, quantities, note).
fn same_request(
    stored: &[OrderLine],
    stored_note: &Note,
    lines: &[RequestedLine],
    note: &Note,
) -> bool {
    stored_note == note
        && stored.len() == lines.len()
        && stored
            .iter()
            .zip(lines)
            .all(|(s, l)| s.product_id == l.product_id && s.quantity == l.quantity)
}

/// The requested lines, each product named by id or SKU; at most `OrderCommand::MAX_LINES`.
pub(super) fn parse_lines(
    tenant: TenantId,
    lines: &[OrderLineInput],
) -> Result<Vec<RequestedLine>, CommandError> {
    if lines.is_empty() || lines.len() > OrderCommand::MAX_LINES {
        return Err(ValidationError::new("lines", "an order has 1 to 200 lines").into());
    }
    lines
        .iter()
        .enumerate()
        .map(|(i, line)| {
            let field = format!("lines[{i}]");
            Ok(RequestedLine {
                product_id: product_ref(
                    tenant,
                    Some(&line.product_id),
                    line.sku.as_deref(),
                    &field,
                )?,
                quantity: Quantity::parse(line.quantity, &format!("{field}.quantity"))?,
            })
        })
        .collect()
}

/// Who submits, as the caller's role says, and the partner it orders for when that is given
/// (staff must name one; a contact's is its own and is read).
pub(super) fn submitter(
    ctx: &RequestContext,
    partner_id: Option<&str>,
) -> Result<(Submitter, Option<PartnerId>), CommandError> {
    let partner = optional(partner_id, |text| PartnerId::parse(text, "partnerId"))?;
    let id = ctx.actor.id;
    let by = match ctx.actor.role {
        Role::Contact => return Ok((Submitter::Contact(ContactId::from_uuid(id)), partner)),
        Role::Admin => Submitter::OnBehalf(PlacedBy::Admin { id }),
        Role::Employee => Submitter::OnBehalf(PlacedBy::Employee {
            contact_id: ContactId::from_uuid(id),
        }),
        Role::Operator | Role::Auditor | Role::Analyst => return Err(CommandError::forbidden()),
    };
    match partner {
        Some(partner) => Ok((by, Some(partner))),
        None => {
            Err(ValidationError::new("partnerId", "staff name the partner they order for").into())
        }
    }
}

/// The submitter a stored submission names.
fn stored_submitter(
    contact_id: Option<ContactId>,
    placed_by: Option<PlacedBy>,
) -> Option<Submitter> {
    match (contact_id, placed_by) {
        (_, Some(placed_by)) => Some(Submitter::OnBehalf(placed_by)),
        (Some(contact), None) => Some(Submitter::Contact(contact)),
        (None, None) => None,
    }
}

impl Commands {
    /// Submits an order for the calling contact's partner; answers the order id. With an
    /// idempotency key, a retry answers the first submission's id and appends nothing.
    pub async fn submit_order(
        &self,
        ctx: &RequestContext,
        input: SubmitOrderInput,
    ) -> Result<OrderId, CommandError> {
        self.submit_order_with(ctx, input, SubmitOptions::default())
            .await
    }

    /// [`Self::submit_order`] with the options of issue 18: staff ordering on behalf of a
    /// partner, and the total the buyer was quoted.
    pub async fn submit_order_with(
        &self,
        ctx: &RequestContext,
        input: SubmitOrderInput,
        options: SubmitOptions,
    ) -> Result<OrderId, CommandError> {
        authorize(ctx, CommandName::SubmitOrder)?;
        let tenant = own_tenant(ctx)?;
        let (by, named_partner) = submitter(ctx, options.partner_id.as_deref())?;
        let lines = parse_lines(tenant, &input.lines)?;
        let note = Note::parse(input.note.as_deref().unwrap_or(""))?;
        let expected_total = options
            .expected_total
            .as_ref()
            .map(|total| total.parse("expectedTotal"))
            .transpose()?;
        let key = idempotency_key(ctx)?;
        let caller = ContactId::from_uuid(ctx.actor.id);
        let order_id = match key {
            Some(key) => OrderId::for_idempotency_key(tenant, caller, key),
            None => OrderId::from_uuid(Uuid::now_v7()),
        };
        // Read first what names the rest: the contact's partner, and the tenant's price
        // lists. The order's decision reads both again: they are kept, not read twice.
        let first = match by {
            Submitter::Contact(contact) => Wanted::new().contact(contact).tenant(tenant),
            Submitter::OnBehalf(_) => Wanted::new().tenant(tenant),
        };
        let (found, read) = self.lookup.load_keeping(&first).await?;
        let partner_id = match (by, named_partner) {
            (Submitter::Contact(contact), named) => {
                let own = found
                    .contact(contact)?
                    .their_side_partner()
                    .ok_or_else(CommandError::forbidden)?;
                if named.is_some_and(|named| named != own) {
                    return Err(DomainError::NotFound { what: "partner" }.into());
                }
                own
            }
            (Submitter::OnBehalf(_), Some(partner)) => partner,
            (Submitter::OnBehalf(_), None) => {
                return Err(ValidationError::new("partnerId", "name the partner").into())
            }
        };
        let lists = dinghuo_domain::pricing::lists_wanted(&found, tenant)?;
        let command = OrderCommand::SubmitOrder {
            partner_id,
            by,
            lines: lines.clone(),
            note: note.clone(),
            expected_total,
            at: self.now(),
        };
        // Executed without logging a refusal: a keyed resubmission is refused by the aggregate
        // (the order exists) and is a replay, not a refusal, when it is the same request.
        let executed = self
            .execute_reading(
                &self.orders,
                ctx,
                tenant,
                &order_id.to_string(),
                Scoped::new(tenant, command),
                read,
                lists,
            )
            .await;
        let result = match executed {
            // A replay of a keyed submission lands on the order it created: answer that order,
            // provided it is the same request.
            Err(CommandError::Refused(DomainError::InvalidState(_))) if key.is_some() => {
                let events = self.orders.loader().events(&order_id.to_string()).await?;
                match events.first().map(|envelope| &envelope.payload) {
                    Some(OrderEvent::OrderSubmitted {
                        contact_id,
                        placed_by,
                        partner_id: stored_partner,
                        lines: stored,
                        note: stored_note,
                        ..
                    }) if stored_submitter(*contact_id, *placed_by) == Some(by) => {
                        if *stored_partner == partner_id
                            && same_request(stored, stored_note, &lines, &note)
                        {
                            tracing::info!(%order_id, "idempotent replay of submitOrder");
                            Ok(order_id)
                        } else {
                            Err(key_used_for_another_request())
                        }
                    }
                    _ => Err(CommandError::Internal(format!(
                        "order {order_id} derived from an idempotency key is not this caller's"
                    ))),
                }
            }
            Err(other) => Err(other),
            Ok(()) => Ok(order_id),
        };
        if let Err(error) = &result {
            super::log_refusal(Order::TYPE, &order_id.to_string(), error);
        }
        result
    }

    pub async fn confirm_order(
        &self,
        ctx: &RequestContext,
        input: ConfirmOrderInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ConfirmOrder)?;
        let command = OrderCommand::ConfirmOrder {
            by: order_actor(ctx)?,
        };
        self.existing_order_command(ctx, &input.order_id, command)
            .await
    }

    pub async fn reject_order(
        &self,
        ctx: &RequestContext,
        input: RejectOrderInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::RejectOrder)?;
        let command = OrderCommand::RejectOrder {
            by: order_actor(ctx)?,
            reason: Reason::parse(&input.reason)?,
        };
        self.existing_order_command(ctx, &input.order_id, command)
            .await
    }

    pub async fn ship_order(
        &self,
        ctx: &RequestContext,
        input: ShipOrderInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ShipOrder)?;
        let command = OrderCommand::ShipOrder {
            by: order_actor(ctx)?,
            carrier: optional(input.carrier.as_deref(), Carrier::parse)?,
            tracking: optional(input.tracking.as_deref(), TrackingNumber::parse)?,
        };
        self.existing_order_command(ctx, &input.order_id, command)
            .await
    }

    pub async fn receive_order(
        &self,
        ctx: &RequestContext,
        input: ReceiveOrderInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ReceiveOrder)?;
        let command = OrderCommand::ReceiveOrder {
            by: order_actor(ctx)?,
        };
        self.existing_order_command(ctx, &input.order_id, command)
            .await
    }

    pub async fn cancel_order(
        &self,
        ctx: &RequestContext,
        input: CancelOrderInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::CancelOrder)?;
        let command = OrderCommand::CancelOrder {
            by: order_actor(ctx)?,
            reason: Reason::parse(&input.reason)?,
        };
        self.existing_order_command(ctx, &input.order_id, command)
            .await
    }

    async fn existing_order_command(
        &self,
        ctx: &RequestContext,
        order_id: &str,
        command: OrderCommand,
    ) -> Result<(), CommandError> {
        let tenant = own_tenant(ctx)?;
        let id = OrderId::parse(order_id, "orderId")?;
        self.order_command(ctx, tenant, id, command).await
    }

    /// Runs a state change of an existing order. With an idempotency key, a retry of a change
    /// that is already in the stream (its answer was lost, or the connection dropped around
    /// its commit) answers done and appends nothing; the key used for another change by the
    /// same caller is refused.
    async fn order_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: OrderId,
        command: OrderCommand,
    ) -> Result<(), CommandError> {
        let (Some(key), Some(expected)) = (idempotency_key(ctx)?, event_of(&command)) else {
            let scoped = Scoped::new(tenant, command);
            return self
                .run(&self.orders, ctx, tenant, id.to_string(), scoped)
                .await;
        };
        let stream = id.to_string();
        // `Ok(true)`: appended now; `Ok(false)`: the change was already there.
        let result = match self.key_use(ctx, &stream, key, &expected).await? {
            KeyUse::Replayed => Ok(false),
            KeyUse::Other => Err(key_used_for_another_request()),
            KeyUse::Unused => {
                let scoped = Scoped::new(tenant, command);
                match self
                    .execute(
                        &self.orders,
                        ctx,
                        tenant,
                        &stream,
                        scoped,
                        Streams::default(),
                    )
                    .await
                {
                    Ok(()) => Ok(true),
                    // A retry racing its original: the original may have won meanwhile.
                    Err(CommandError::Refused(refusal)) => {
                        match self.key_use(ctx, &stream, key, &expected).await? {
                            KeyUse::Replayed => Ok(false),
                            KeyUse::Other => Err(key_used_for_another_request()),
                            KeyUse::Unused => Err(CommandError::Refused(refusal)),
                        }
                    }
                    Err(other) => Err(other),
                }
            }
        };
        match &result {
            Err(error) => super::log_refusal(Order::TYPE, &stream, error),
            Ok(false) => {
                let event = expected.event_type();
                tracing::info!(order_id = %stream, %event, "idempotent replay of an order change");
            }
            Ok(true) => {}
        }
        result.map(|_| ())
    }

    /// Whether the caller's key is already on an event of the order's stream, and for the
    /// same change.
    async fn key_use(
        &self,
        ctx: &RequestContext,
        stream: &str,
        key: &str,
        expected: &OrderEvent,
    ) -> Result<KeyUse, CommandError> {
        let events = self.orders.loader().events(stream).await?;
        let actor = ctx.actor.id.to_string();
        let keyed = events.iter().find(|envelope| {
            envelope.metadata.get("idempotency_key").map(String::as_str) == Some(key)
                && envelope.metadata.get("actor_id") == Some(&actor)
        });
        Ok(match keyed {
            None => KeyUse::Unused,
            Some(envelope) if envelope.payload == *expected => KeyUse::Replayed,
            Some(_) => KeyUse::Other,
        })
    }
}
