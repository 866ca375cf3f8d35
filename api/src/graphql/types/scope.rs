//! Which partners' data a caller may see (DESIGN §1): an admin, auditor or analyst sees the
//! whole tenant, an employee the partners it is linked to, a contact its own partner only. The
//! operator belongs to no tenant and sees no tenant data.

use dinghuo_commands::{Actor, Role};
use dinghuo_store::sql::Arg;
use dinghuo_store::sql::Dialect;
use dinghuo_store::Database;

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

    /// The columns of a batch of lookups (`sql::Rows`) in which each row carries its own
    /// caller's scope, as [`Scope::batch_values`] gives it and [`Scope::batch_condition`] reads.
    pub const BATCH_COLUMNS: [&'static str; 3] = ["scope_tenant", "scope_contact", "scope_side"];

    /// This scope as the values of [`Scope::BATCH_COLUMNS`]: the tenant, then the linked
    /// contact and side (null: every partner of the tenant; any side).
    pub fn batch_values(&self) -> [Arg; 3] {
        let (contact, side) = match &self.linked {
            Some((contact, side)) => (Some(contact.clone()), side.map(str::to_owned)),
            None => (None, None),
        };
        [
            Arg::from(self.tenant_id.as_str()),
            Arg::Text(contact),
            Arg::Text(side),
        ]
    }

    /// What [`Scope::partner_condition`] states, for a row of a batch whose own scope is in
    /// [`Scope::BATCH_COLUMNS`]: `tenant_column` and `partner_column` are the row's tenant and
    /// partner.
    pub fn batch_condition(tenant_column: &str, partner_column: &str) -> String {
        let [tenant, contact, side] = Self::BATCH_COLUMNS;
        format!(
            "{tenant_column} = {tenant}
             AND ({contact} IS NULL
                  OR EXISTS (SELECT 1 FROM rm_partner_contacts l
                              WHERE l.contact_id = {contact}
                                AND l.partner_id = {partner_column}
                                AND ({side} IS NULL OR l.side = {side})))"
        )
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
