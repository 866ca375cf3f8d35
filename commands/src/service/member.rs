//! Entry points of staff membership: the operator creates a tenant's admin, an admin invites an
//! employee, an admin (or the operator) revokes a member's access. Ending the member's sessions
//! on revocation is the identity layer's part (`dinghuo_identity::staff`).

use dinghuo_domain::member::MemberCommand;
use dinghuo_domain::{ContactId, DomainError, Lookup, MemberId, Name, Phone, Scoped, TenantId};

use super::{authorize, own_tenant, resolve_tenant, Commands};
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

/// A membership just written: its id and tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MemberRef {
    pub tenant: TenantId,
    pub id: MemberId,
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
        Ok(MemberRef { tenant, id })
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
        // The membership's id comes from the phone, so the phone is read first; the decision
        // checks it again on the contact's committed state.
        let contact = Lookup::contact(self.lookup(), contact_id).await?;
        if !contact.belongs_to(tenant) {
            return Err(DomainError::NotFound { what: "contact" }.into());
        }
        let Some(phone) = contact.phone().cloned() else {
            return Err(DomainError::ContactHasNoPhone.into());
        };
        let id = MemberId::for_phone(tenant, &phone);
        self.member_command(
            ctx,
            tenant,
            id,
            MemberCommand::InviteEmployee { contact_id, phone },
        )
        .await?;
        Ok(MemberRef { tenant, id })
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
        if self.acts_as_member(ctx, tenant, id).await? {
            return Err(DomainError::invalid_state("you cannot revoke your own access").into());
        }
        self.member_command(ctx, tenant, id, MemberCommand::RevokeStaffAccess)
            .await?;
        Ok(MemberRef { tenant, id })
    }

    /// Whether the caller is the member `id` of `tenant` (an admin acts as its membership, an
    /// employee as its contact).
    async fn acts_as_member(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: MemberId,
    ) -> Result<bool, CommandError> {
        if ctx.actor.tenant_id != Some(tenant) {
            return Ok(false);
        }
        if ctx.actor.id == id.as_uuid() {
            return Ok(true);
        }
        let member = self
            .members
            .loader()
            .load(&id.to_string())
            .await
            .map_err(CommandError::from)?
            .aggregate;
        Ok(member.contact_id().map(|c| c.as_uuid()) == Some(ctx.actor.id))
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
