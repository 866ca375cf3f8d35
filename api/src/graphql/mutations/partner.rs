//! `recordCustomer`, `addPartner`, `assignApp`, `unassignApp`, `suspendPartner`,
//! `reinstatePartner`: an admin's, on its own tenant.

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{
    AddPartnerInput as AddPartnerCommand, AppAssignmentInput as AppAssignmentCommand,
    PartnerRefInput as PartnerRefCommand, RecordCustomerInput as RecordCustomerCommand,
    UpdateCustomerInput as UpdateCustomerCommand,
};

use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::rw;
use crate::graphql::types::partner::{self, PartnerMode};
use crate::graphql::types::tenant::App;
use crate::graphql::types::Partner;

#[derive(Default)]
pub struct PartnerMutations;

/// A CRM customer; only a recorded customer can become a partner.
#[derive(Debug, InputObject)]
pub struct RecordCustomerInput {
    pub name: String,
    /// The company's mobile number.
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// A recorded customer's details, as the CRM has them now.
#[derive(Debug, InputObject)]
pub struct UpdateCustomerInput {
    pub customer_id: ID,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, InputObject)]
pub struct AddPartnerInput {
    /// The recorded customer; its id becomes the partner's id.
    pub customer_id: ID,
    /// `TENANTLESS` unless given.
    pub mode: Option<PartnerMode>,
}

#[derive(Debug, InputObject)]
pub struct AppAssignmentInput {
    pub partner_id: ID,
    pub app: App,
}

#[derive(Debug, InputObject)]
pub struct PartnerIdInput {
    pub partner_id: ID,
}

/// What a partner mutation changed.
#[derive(Debug, SimpleObject)]
pub struct PartnerPayload {
    pub partner_id: ID,
    /// The customer or partner as the read model shows it after the change.
    pub partner: Option<Partner>,
}

/// The payload of `partner_id` once the partners read model shows the change.
pub(super) async fn payload(ctx: &Context<'_>, partner_id: String) -> ApiResult<PartnerPayload> {
    let (caller, state) = caller::of(ctx);
    rw::wait(ctx, "Partner", &partner_id, &["partners"]).await;
    let scope = caller.scope()?;
    let partner = partner::find(state.db(), &scope, &partner_id).await?;
    Ok(PartnerPayload {
        partner_id: ID(partner_id),
        partner,
    })
}

#[Object]
impl PartnerMutations {
    /// Updates a recorded customer's name, phone and address.
    async fn update_customer(
        &self,
        ctx: &Context<'_>,
        input: UpdateCustomerInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let customer_id = input.customer_id.0;
        let command = UpdateCustomerCommand {
            customer_id: customer_id.clone(),
            name: input.name,
            phone: input.phone,
            address: input.address,
        };
        state
            .commands
            .update_customer(&caller.command_context()?, command)
            .await?;
        payload(ctx, customer_id).await
    }

    /// Records a CRM customer; its id is also its id as a partner.
    async fn record_customer(
        &self,
        ctx: &Context<'_>,
        input: RecordCustomerInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let command = RecordCustomerCommand {
            name: input.name,
            phone: input.phone,
            address: input.address,
        };
        let id = state
            .commands
            .record_customer(&caller.command_context()?, command)
            .await?;
        payload(ctx, id.to_string()).await
    }

    /// Makes a recorded customer a partner enterprise (needs interconnect).
    async fn add_partner(
        &self,
        ctx: &Context<'_>,
        input: AddPartnerInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.customer_id.0;
        let command = AddPartnerCommand {
            customer_id: partner_id.clone(),
            mode: input.mode.map(|mode| mode.as_str().to_owned()),
        };
        state
            .commands
            .add_partner(&caller.command_context()?, command)
            .await?;
        payload(ctx, partner_id).await
    }

    /// Assigns an app enabled on the tenant to a partner.
    async fn assign_app(
        &self,
        ctx: &Context<'_>,
        input: AppAssignmentInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = AppAssignmentCommand {
            partner_id: partner_id.clone(),
            app: input.app.as_str().to_owned(),
        };
        state
            .commands
            .assign_app(&caller.command_context()?, command)
            .await?;
        payload(ctx, partner_id).await
    }

    async fn unassign_app(
        &self,
        ctx: &Context<'_>,
        input: AppAssignmentInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = AppAssignmentCommand {
            partner_id: partner_id.clone(),
            app: input.app.as_str().to_owned(),
        };
        state
            .commands
            .unassign_app(&caller.command_context()?, command)
            .await?;
        payload(ctx, partner_id).await
    }

    /// A suspended partner cannot order until reinstated.
    async fn suspend_partner(
        &self,
        ctx: &Context<'_>,
        input: PartnerIdInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = PartnerRefCommand {
            partner_id: partner_id.clone(),
        };
        state
            .commands
            .suspend_partner(&caller.command_context()?, command)
            .await?;
        payload(ctx, partner_id).await
    }

    async fn reinstate_partner(
        &self,
        ctx: &Context<'_>,
        input: PartnerIdInput,
    ) -> ApiResult<PartnerPayload> {
        let (caller, state) = caller::of(ctx);
        let partner_id = input.partner_id.0;
        let command = PartnerRefCommand {
            partner_id: partner_id.clone(),
        };
        state
            .commands
            .reinstate_partner(&caller.command_context()?, command)
            .await?;
        payload(ctx, partner_id).await
    }
}
