//! Entry points of staff membership: the operator creates a tenant's admin, an admin invites an
//! employee, an admin (or the operator) revokes a member's access. Ending the member's sessions
//! on revocation is the identity layer's part (`dinghuo_identity::staff`).

use cqrs_es::Aggregate;
use dinghuo_domain::member::{Member, MemberCommand};
use dinghuo_domain::{ContactId, DomainError, MemberId, Name, Phone, Scoped, TenantId, Wanted};
use uuid::Uuid;

use super::{authorize, log_refusal, own_tenant, resolve_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

#[derive(Debug, Clone, Default)]
pub struct CreateTenantAdminInput {
    pub tenant_id: String,
    pub name: String,
    pub phone: String,
}

#[derive(Debug, Clone, Default)]
pub struct InviteEmployeeInput {
    pub contact_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct RevokeStaffAccessInput {
    pub member_id: String,
    /// Only the operator names a tenant.
    pub tenant_id: Option<String>,
}

/// A membership just written: its id, its tenant, and who it acts as (its contact for an
/// employee, the membership itself for an admin), whose sessions a revocation ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRef {
    pub tenant: TenantId,
    pub id: MemberId,
    pub actor: Uuid,
}

impl Commands {
    /// The operator makes a person (a phone) an admin of a tenant; answers the membership.
    pub async fn create_tenant_admin(
        &self,
        ctx: &RequestContext,
        input: CreateTenantAdminInput,
    ) -> Result<MemberRef, CommandError> {
        authorize(ctx, CommandName::CreateTenantAdmin)?;
        let tenant = resolve_tenant(ctx, Some(&input.tenant_id))?;
        let name = Name::parse(&input.name)?;
        let phone = Phone::parse(&input.phone).map_err(|error| error.at("phone"))?;
        let id = MemberId::for_phone(tenant, &phone);
        self.member_command(
            ctx,
            tenant,
            id,
            MemberCommand::CreateTenantAdmin { name, phone },
        )
        .await?;
        Ok(MemberRef {
            tenant,
            id,
            actor: id.as_uuid(),
        })
    }

    /// An admin lets one of the tenant's employees sign in; answers the membership, whose id is
    /// derived from the employee's phone.
    pub async fn invite_employee(
        &self,
        ctx: &RequestContext,
        input: InviteEmployeeInput,
    ) -> Result<MemberRef, CommandError> {
        authorize(ctx, CommandName::InviteEmployee)?;
        let tenant = own_tenant(ctx)?;
        let contact_id = ContactId::parse(&input.contact_id, "contactId")?;
        // The membership's id comes from the phone, so the contact is read first; the decision
        // checks it again on that same read (its committed state), without reading it anew.
        let (found, read) = self
            .lookup()
            .load_keeping(&Wanted::new().contact(contact_id))
            .await?;
        let contact = found.contact(contact_id)?;
        if !contact.belongs_to(tenant) {
            return Err(DomainError::NotFound { what: "contact" }.into());
        }
        let Some(phone) = contact.phone().cloned() else {
            return Err(DomainError::ContactHasNoPhone.into());
        };
        let id = MemberId::for_phone(tenant, &phone);
        let command = Scoped::new(tenant, MemberCommand::InviteEmployee { contact_id, phone });
        let id_text = id.to_string();
        let result = self
            .execute(&self.members, ctx, tenant, &id_text, command, read)
            .await;
        if let Err(error) = &result {
            log_refusal(Member::TYPE, &id_text, error);
        }
        result?;
        Ok(MemberRef {
            tenant,
            id,
            actor: contact_id.as_uuid(),
        })
    }

    /// Revokes a member's access to its tenant. Nobody revokes its own: a tenant is not left
    /// without the admin who could undo it by accident.
    pub async fn revoke_staff_access(
        &self,
        ctx: &RequestContext,
        input: RevokeStaffAccessInput,
    ) -> Result<MemberRef, CommandError> {
        authorize(ctx, CommandName::RevokeStaffAccess)?;
        let tenant = resolve_tenant(ctx, input.tenant_id.as_deref())?;
        let id = MemberId::parse(&input.member_id, "memberId")?;
        let member = self
            .members
            .loader()
            .load(&id.to_string())
            .await
            .map_err(CommandError::from)?
            .aggregate;
        let actor = member
            .contact_id()
            .map_or(id.as_uuid(), |contact| contact.as_uuid());
        if ctx.actor.tenant_id == Some(tenant) && ctx.actor.id == actor {
            return Err(DomainError::invalid_state("you cannot revoke your own access").into());
        }
        self.member_command(ctx, tenant, id, MemberCommand::RevokeStaffAccess)
            .await?;
        Ok(MemberRef { tenant, id, actor })
    }

    async fn member_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: MemberId,
        command: MemberCommand,
    ) -> Result<(), CommandError> {
        let scoped = Scoped::new(tenant, command);
        self.run(&self.members, ctx, tenant, id.to_string(), scoped)
            .await
    }
}
