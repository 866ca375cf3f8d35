//! Entry points of the contact: CRM record, partner-contact links, binding, restrictions.

use dinghuo_domain::contact::{Affiliation, ContactCommand};
use dinghuo_domain::{
    App, Channel, ContactId, DomainError, Name, OpenId, PartnerId, Phone, Scoped, Side, TenantId,
    ValidationError,
};
use uuid::Uuid;

use super::tenant::parse_permissions;
use super::{authorize, optional, own_tenant, Commands};
use crate::context::{RequestContext, Role};
use crate::error::CommandError;
use crate::limiter::{self, Limit, Subject};
use crate::policy::CommandName;

/// A person is either a CRM contact of a customer (`customer_id`) or an employee (`employee`).
#[derive(Debug, Clone, Default)]
pub struct RecordContactInput {
    pub name: String,
    pub phone: Option<String>,
    pub customer_id: Option<String>,
    pub employee: bool,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateContactInput {
    pub contact_id: String,
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AddPartnerContactInput {
    pub contact_id: String,
    pub partner_id: String,
    pub side: String,
}

#[derive(Debug, Clone, Default)]
pub struct RemovePartnerContactInput {
    pub contact_id: String,
    pub partner_id: String,
}

/// Identity verification on first entry: the phone the person typed, where it entered.
#[derive(Debug, Clone, Default)]
pub struct BindContactInput {
    pub contact_id: String,
    pub phone: String,
    pub channel: String,
    pub wechat_open_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RestrictContactPermissionsInput {
    pub contact_id: String,
    pub app: String,
    pub denied: Vec<String>,
}

impl Commands {
    /// Records a person; answers its id.
    pub async fn record_contact(
        &self,
        ctx: &RequestContext,
        input: RecordContactInput,
    ) -> Result<ContactId, CommandError> {
        authorize(ctx, CommandName::RecordContact)?;
        let tenant = own_tenant(ctx)?;
        let customer = optional(input.customer_id.as_deref(), |text| {
            PartnerId::parse(text, "customerId")
        })?;
        let affiliation = match (customer, input.employee) {
            (Some(customer_id), false) => Affiliation::Customer { customer_id },
            (None, true) => Affiliation::Employee,
            _ => {
                return Err(ValidationError::new(
                    "customerId",
                    "give either a customer id or employee: true",
                )
                .into())
            }
        };
        let command = ContactCommand::RecordContact {
            name: Name::parse(&input.name)?,
            phone: optional(input.phone.as_deref(), Phone::parse)?,
            affiliation,
        };
        let id = ContactId::from_uuid(Uuid::now_v7());
        self.contact_command(ctx, tenant, id, command).await?;
        Ok(id)
    }

    pub async fn update_contact(
        &self,
        ctx: &RequestContext,
        input: UpdateContactInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::UpdateContact)?;
        let tenant = own_tenant(ctx)?;
        let id = ContactId::parse(&input.contact_id, "contactId")?;
        let command = ContactCommand::UpdateContact {
            name: Name::parse(&input.name)?,
            phone: optional(input.phone.as_deref(), Phone::parse)?,
        };
        self.contact_command(ctx, tenant, id, command).await
    }

    pub async fn add_partner_contact(
        &self,
        ctx: &RequestContext,
        input: AddPartnerContactInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::AddPartnerContact)?;
        let tenant = own_tenant(ctx)?;
        let id = ContactId::parse(&input.contact_id, "contactId")?;
        let command = ContactCommand::AddPartnerContact {
            partner_id: PartnerId::parse(&input.partner_id, "partnerId")?,
            side: Side::parse(&input.side)?,
        };
        self.contact_command(ctx, tenant, id, command).await
    }

    pub async fn remove_partner_contact(
        &self,
        ctx: &RequestContext,
        input: RemovePartnerContactInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::RemovePartnerContact)?;
        let tenant = own_tenant(ctx)?;
        let id = ContactId::parse(&input.contact_id, "contactId")?;
        let command = ContactCommand::RemovePartnerContact {
            partner_id: PartnerId::parse(&input.partner_id, "partnerId")?,
        };
        self.contact_command(ctx, tenant, id, command).await
    }

    pub async fn restrict_contact_permissions(
        &self,
        ctx: &RequestContext,
        input: RestrictContactPermissionsInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::RestrictContactPermissions)?;
        let tenant = own_tenant(ctx)?;
        let id = ContactId::parse(&input.contact_id, "contactId")?;
        let command = ContactCommand::RestrictContactPermissions {
            app: App::parse(&input.app)?,
            denied: parse_permissions(&input.denied, "denied")?,
        };
        self.contact_command(ctx, tenant, id, command).await
    }

    /// Binds the calling contact after checking the phone it typed. Failed attempts are counted;
    /// after five within fifteen minutes the contact is refused with `RATE_LIMITED` for a while.
    pub async fn bind_contact(
        &self,
        ctx: &RequestContext,
        input: BindContactInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::BindContact)?;
        let tenant = own_tenant(ctx)?;
        let id = ContactId::parse(&input.contact_id, "contactId")?;
        if ctx.actor.role != Role::Contact || ctx.actor.id != id.as_uuid() {
            return Err(CommandError::forbidden());
        }
        let command = ContactCommand::BindContact {
            phone: Phone::parse(&input.phone)?,
            channel: Channel::parse(&input.channel)?,
            wechat_open_id: optional(input.wechat_open_id.as_deref(), OpenId::parse)?,
        };
        // Guesses at this contact's phone; `bind:` keeps them apart from its password guesses.
        let subject = [(Subject::new("bind", id), Limit::GUESSES)];
        let attempt = limiter::reserve(&self.db, &subject, self.clock.now_ms()).await?;
        let result = self.contact_command(ctx, tenant, id, command).await;
        match &result {
            Err(CommandError::Refused(DomainError::PhoneMismatch)) => attempt.failed(),
            _ => attempt.release(&self.db).await?,
        }
        result
    }

    async fn contact_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: ContactId,
        command: ContactCommand,
    ) -> Result<(), CommandError> {
        let scoped = Scoped::new(tenant, command);
        self.run(&self.contacts, ctx, tenant, id.to_string(), scoped)
            .await
    }
}
