use crate::ids::ContactId;
use crate::lookup::{Needs, Scoped, Wanted};
use crate::values::{Name, Phone};

#[derive(Debug, Clone, PartialEq)]
pub enum MemberCommand {
    /// By the operator.
    CreateTenantAdmin { name: Name, phone: Phone },
    /// By an admin. `phone`: the contact's phone the membership's id was derived from; the
    /// decision refuses if the contact's committed phone is another one by then.
    InviteEmployee { contact_id: ContactId, phone: Phone },
    /// By an admin or the operator. Whether the caller revokes itself is checked by the entry
    /// point, which knows the caller.
    RevokeStaffAccess,
}

impl Needs for Scoped<MemberCommand> {
    fn needs(&self) -> Wanted {
        match &self.command {
            MemberCommand::CreateTenantAdmin { .. } => Wanted::new().tenant(self.tenant_id),
            MemberCommand::InviteEmployee { contact_id, .. } => Wanted::new().contact(*contact_id),
            MemberCommand::RevokeStaffAccess => Wanted::new(),
        }
    }
}
