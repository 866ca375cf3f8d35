//! Which partners' data a caller may see (DESIGN §1): an admin, auditor or analyst sees the
//! whole tenant, an employee the partners it is linked to, a contact its own partner only. The
//! operator belongs to no tenant and sees no tenant data.

use dinghuo_commands::{Actor, Database, Role};
use dinghuo_projections::sql::Arg;
use dinghuo_projections::Dialect;

use crate::graphql::error::ApiError;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    pub tenant_id: String,
    /// `None`: every partner of the tenant. `Some((contact, side))`: only partners this contact
    /// is linked to (on `side`, when given).
    pub linked: Option<(String, Option<&'static str>)>,
}

impl Scope {
    pub fn of(actor: &Actor) -> Result<Self, ApiError> {
        let tenant_id = actor.tenant_id.ok_or_else(ApiError::forbidden)?.to_string();
        let linked = match actor.role {
            Role::Admin | Role::Auditor | Role::Analyst => None,
            Role::Employee => Some((actor.id.to_string(), Some("OURS"))),
            Role::Contact => Some((actor.id.to_string(), Some("THEIRS"))),
            Role::Operator => return Err(ApiError::forbidden()),
        };
        Ok(Self { tenant_id, linked })
    }

    /// A condition on `column` (a partner id), with its arguments numbered from `$next`.
    /// Answers the SQL (starting with ` AND `, or empty) and the arguments to append.
    pub fn partner_condition(
        &self,
        db: &Database,
        column: &str,
        next: usize,
    ) -> (String, Vec<Arg>) {
        match &self.linked {
            None => (String::new(), Vec::new()),
            Some((contact, side)) => {
                let side_condition = side
                    .map(|side| format!(" AND side = '{side}'"))
                    .unwrap_or_default();
                let partners = format!(
                    "SELECT partner_id FROM rm_partner_contacts
                      WHERE contact_id = ${next}{side_condition}"
                );
                let condition = Dialect::of(db).in_subquery(column, &partners);
                (
                    format!(" AND {condition}"),
                    vec![Arg::from(contact.as_str())],
                )
            }
        }
    }
}
