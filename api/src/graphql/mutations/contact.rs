//! `recordContact`, `addPartnerContact`, `removePartnerContact`, `restrictContactPermissions`:
//! an admin's, on its own tenant. (Binding is the contact's own: see the binding module.)

use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{
    AddPartnerContactInput as AddPartnerContactCommand, RecordContactInput as RecordContactCommand,
    RemovePartnerContactInput as RemovePartnerContactCommand,
    RestrictContactPermissionsInput as RestrictCommand, UpdateContactInput as UpdateContactCommand,
};
use dinghuo_domain::ContactId;

use crate::graphql::caller;
use crate::graphql::error::ApiResult;
use crate::graphql::rw;
use crate::graphql::types::contact::{self, Side};
use crate::graphql::types::tenant::{App, Permission};
use crate::graphql::types::Contact;

#[derive(Default)]
pub struct ContactMutations;

/// A person: a CRM contact of a customer (`customerId`) or an employee (`employee: true`).
#[derive(Debug, InputObject)]
pub struct RecordContactInput {
    pub name: String,
    /// Needed before the contact can be added as a partner contact.
    pub phone: Option<String>,
    pub customer_id: Option<ID>,
    #[graphql(default)]
    pub employee: bool,
}

/// A contact's name and phone. A new phone must be verified again: the contact's binding is
/// cleared (its sessions stop standing) and it binds with the new number.
#[derive(Debug, InputObject)]
pub struct UpdateContactInput {
    pub contact_id: ID,
    pub name: String,
    /// Required while the contact is a partner contact.
    pub phone: Option<String>,
}

/// Links a contact to a partner: `THEIRS` for the partner's staff, `OURS` for an employee.
#[derive(Debug, InputObject)]
pub struct AddPartnerContactInput {
    pub contact_id: ID,
    pub partner_id: ID,
    pub side: Side,
}

#[derive(Debug, InputObject)]
pub struct RemovePartnerContactInput {
    pub contact_id: ID,
    pub partner_id: ID,
}

/// Replaces the contact's own denials for `app`, on top of the tenant's defaults.
#[derive(Debug, InputObject)]
pub struct RestrictContactPermissionsInput {
    pub contact_id: ID,
    pub app: App,
    pub denied: Vec<Permission>,
}

/// What a contact mutation changed.
#[derive(Debug, SimpleObject)]
pub struct ContactPayload {
    pub contact_id: ID,
    /// The contact as the read model shows it after the change.
    pub contact: Option<Contact>,
}

/// The payload of `contact_id` once the contacts read model shows the change.
async fn payload(ctx: &Context<'_>, contact_id: String) -> ApiResult<ContactPayload> {
    let (caller, state) = caller::of(ctx);
    rw::wait(ctx, "Contact", &contact_id, &["contacts"]).await;
    let scope = caller.scope()?;
    let contact = contact::find(state.db(), &scope, &contact_id).await?;
    Ok(ContactPayload {
        contact_id: ID(contact_id),
        contact,
    })
}

#[Object]
impl ContactMutations {
    async fn record_contact(
        &self,
        ctx: &Context<'_>,
        input: RecordContactInput,
    ) -> ApiResult<ContactPayload> {
        let (caller, state) = caller::of(ctx);
        let command = RecordContactCommand {
            name: input.name,
            phone: input.phone,
            customer_id: input.customer_id.map(|id| id.0),
            employee: input.employee,
        };
        let id = state
            .commands
            .record_contact(&caller.command_context()?, command)
            .await?;
        payload(ctx, id.to_string()).await
    }

    /// Changes a contact's name and phone; a changed phone clears its binding.
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        input: UpdateContactInput,
    ) -> ApiResult<ContactPayload> {
        let (caller, state) = caller::of(ctx);
        let contact_id = input.contact_id.0;
        let command = UpdateContactCommand {
            contact_id: contact_id.clone(),
            name: input.name,
            phone: input.phone,
        };
        state
            .commands
            .update_contact(&caller.command_context()?, command)
            .await?;
        payload(ctx, contact_id).await
    }

    /// Adding a their-side contact queues the invitation SMS of the partner's mode.
    async fn add_partner_contact(
        &self,
        ctx: &Context<'_>,
        input: AddPartnerContactInput,
    ) -> ApiResult<ContactPayload> {
        let (caller, state) = caller::of(ctx);
        let contact_id = input.contact_id.0;
        let command = AddPartnerContactCommand {
            contact_id: contact_id.clone(),
            partner_id: input.partner_id.0,
            side: input.side.as_str().to_owned(),
        };
        state
            .commands
            .add_partner_contact(&caller.command_context()?, command)
            .await?;
        payload(ctx, contact_id).await
    }

    async fn remove_partner_contact(
        &self,
        ctx: &Context<'_>,
        input: RemovePartnerContactInput,
    ) -> ApiResult<ContactPayload> {
        let (caller, state) = caller::of(ctx);
        let contact_id = input.contact_id.0;
        let command = RemovePartnerContactCommand {
            contact_id: contact_id.clone(),
            partner_id: input.partner_id.0,
        };
        state
            .commands
            .remove_partner_contact(&caller.command_context()?, command)
            .await?;
        // Removed from its partner, a their-side contact is no longer bound: its sessions end.
        if let Ok(contact) = ContactId::parse(&contact_id, "contactId") {
            state
                .sessions
                .end_if_unbound(
                    state.db(),
                    state.commands.lookup(),
                    contact,
                    chrono::Utc::now().timestamp_millis(),
                )
                .await?;
        }
        payload(ctx, contact_id).await
    }

    async fn restrict_contact_permissions(
        &self,
        ctx: &Context<'_>,
        input: RestrictContactPermissionsInput,
    ) -> ApiResult<ContactPayload> {
        let (caller, state) = caller::of(ctx);
        let contact_id = input.contact_id.0;
        let command = RestrictCommand {
            contact_id: contact_id.clone(),
            app: input.app.as_str().to_owned(),
            denied: input
                .denied
                .into_iter()
                .map(|permission| permission.as_str().to_owned())
                .collect(),
        };
        state
            .commands
            .restrict_contact_permissions(&caller.command_context()?, command)
            .await?;
        payload(ctx, contact_id).await
    }
}
