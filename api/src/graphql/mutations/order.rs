//! `submitOrder`, `confirmOrder`, `rejectOrder`, `shipOrder`, `receiveOrder`, `cancelOrder`.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{
    CancelOrderInput as CancelCommand, ConfirmOrderInput as ConfirmCommand, OrderLineInput,
    ReceiveOrderInput as ReceiveCommand, RejectOrderInput as RejectCommand,
    ShipOrderInput as ShipCommand, SubmitOptions, SubmitOrderInput as SubmitCommand,
};

use super::product::MoneyInput;

use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::rw;
use crate::graphql::types::{order, Order};

#[derive(Default)]
pub struct OrderMutations;

/// A line: the product by `productId` or by `sku`, and how many.
#[derive(Debug, InputObject)]
pub struct SubmitOrderLineInput {
    pub product_id: Option<ID>,
    pub sku: Option<String>,
    pub quantity: i64,
}

#[derive(Debug, InputObject)]
pub struct SubmitOrderInput {
    pub lines: Vec<SubmitOrderLineInput>,
    pub note: Option<String>,
    /// Makes a retried submission answer the first order instead of ordering twice.
    pub idempotency_key: Option<String>,
    /// The total a `quote` answered: if prices moved since, the submission is refused with
    /// `PRICE_CHANGED` (and the new quote in `extensions.quote`) instead of charging them.
    pub expected_total: Option<MoneyInput>,
    /// Staff (an admin, or an employee linked to the partner) order on behalf of this partner;
    /// a contact orders for its own and may leave it out.
    pub partner_id: Option<ID>,
}

#[derive(Debug, InputObject)]
pub struct OrderIdInput {
    pub order_id: ID,
    /// Makes a retry of this change (after a lost answer, `UNAVAILABLE` or a dropped
    /// connection) answer done instead of failing as already done; unique per change.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ReasonedOrderInput {
    pub order_id: ID,
    pub reason: String,
    /// Makes a retry of this change (after a lost answer, `UNAVAILABLE` or a dropped
    /// connection) answer done instead of failing as already done; unique per change.
    pub idempotency_key: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct ShipOrderInput {
    pub order_id: ID,
    pub carrier: Option<String>,
    pub tracking_number: Option<String>,
    /// Makes a retry of this change (after a lost answer, `UNAVAILABLE` or a dropped
    /// connection) answer done instead of failing as already done; unique per change.
    pub idempotency_key: Option<String>,
}

/// What an order mutation changed.
#[derive(Debug, SimpleObject)]
pub struct OrderPayload {
    pub order_id: ID,
    /// The order as the read model shows it after the change; `null` when the caller may not
    /// read it (a contact without `VIEW_ORDERS`, except for the order it has just submitted).
    pub order: Option<Order>,
}

/// The payload of `order_id` once the orders read model shows the change, with the order as
/// far as the caller may read it ([`Caller::order_scope`]). A contact without `VIEW_ORDERS`
/// reads no order, with one exception: the order its own submission has just created
/// (`created`), answered once as the receipt of what it ordered. Its other order mutations,
/// and a keyed resubmission that created nothing, answer the id alone (`order` is `null`), so
/// that nothing tells it how an order went on.
async fn payload(ctx: &Context<'_>, order_id: String, created: bool) -> ApiResult<OrderPayload> {
    let (caller, state) = caller::of(ctx);
    rw::wait(ctx, "Order", &order_id, &["orders"]).await;
    let scope = match caller.order_scope(state).await? {
        Some(scope) => scope,
        None if created => caller.scope()?,
        None => {
            return Ok(OrderPayload {
                order_id: ID(order_id),
                order: None,
            })
        }
    };
    let order = order::find_coalesced(&state.order_reader, &scope, &order_id).await?;
    Ok(OrderPayload {
        order_id: ID(order_id),
        order,
    })
}

#[Object]
impl OrderMutations {
    /// A their-side contact orders for its own partner, or staff on a partner's behalf; every
    /// line is priced by the one pricing function (price lists, else the catalog). A contact
    /// without `VIEW_ORDERS` still gets the order it has just created in the payload, and only
    /// the id on a keyed resubmission.
    async fn submit_order(
        &self,
        ctx: &Context<'_>,
        input: SubmitOrderInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let request = caller.keyed_command_context(input.idempotency_key)?;
        let command = SubmitCommand {
            lines: input
                .lines
                .into_iter()
                .map(|line| OrderLineInput {
                    product_id: line.product_id.map(|id| id.0).unwrap_or_default(),
                    quantity: line.quantity,
                    sku: line.sku,
                })
                .collect(),
            note: input.note,
        };
        let options = SubmitOptions {
            partner_id: input.partner_id.map(|id| id.0),
            expected_total: input.expected_total.map(Into::into),
        };
        let before = caller.written.heads();
        let order_id = state
            .commands
            .submit_order_with(&request, command, options)
            .await?
            .to_string();
        // A keyed resubmission appends nothing: it created no order.
        let created = caller
            .written
            .head("Order", &order_id)
            .is_some_and(|head| !before.contains(&head));
        payload(ctx, order_id, created).await
    }

    async fn confirm_order(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let order_id = input.order_id.0;
        let request = caller.keyed_command_context(input.idempotency_key)?;
        state
            .commands
            .confirm_order(
                &request,
                ConfirmCommand {
                    order_id: order_id.clone(),
                },
            )
            .await?;
        payload(ctx, order_id, false).await
    }

    async fn reject_order(
        &self,
        ctx: &Context<'_>,
        input: ReasonedOrderInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let order_id = input.order_id.0;
        let request = caller.keyed_command_context(input.idempotency_key)?;
        state
            .commands
            .reject_order(
                &request,
                RejectCommand {
                    order_id: order_id.clone(),
                    reason: input.reason,
                },
            )
            .await?;
        payload(ctx, order_id, false).await
    }

    async fn ship_order(
        &self,
        ctx: &Context<'_>,
        input: ShipOrderInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let order_id = input.order_id.0;
        let request = caller.keyed_command_context(input.idempotency_key)?;
        state
            .commands
            .ship_order(
                &request,
                ShipCommand {
                    order_id: order_id.clone(),
                    carrier: input.carrier,
                    tracking: input.tracking_number,
                },
            )
            .await?;
        payload(ctx, order_id, false).await
    }

    async fn receive_order(
        &self,
        ctx: &Context<'_>,
        input: OrderIdInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let order_id = input.order_id.0;
        let request = caller.keyed_command_context(input.idempotency_key)?;
        state
            .commands
            .receive_order(
                &request,
                ReceiveCommand {
                    order_id: order_id.clone(),
                },
            )
            .await?;
        payload(ctx, order_id, false).await
    }

    async fn cancel_order(
        &self,
        ctx: &Context<'_>,
        input: ReasonedOrderInput,
    ) -> ApiResult<OrderPayload> {
        let (caller, state) = caller::of(ctx);
        let order_id = input.order_id.0;
        let request = caller.keyed_command_context(input.idempotency_key)?;
        state
            .commands
            .cancel_order(
                &request,
                CancelCommand {
                    order_id: order_id.clone(),
                    reason: input.reason,
                },
            )
            .await?;
        payload(ctx, order_id, false).await
    }
}
