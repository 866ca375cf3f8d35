//! Which rows a caller may read (DESIGN §1), stated once for every read of this module: always
//! one tenant; within it, every partner, or only the partners one contact is linked to on one
//! side (an employee on ours, a partner's contact on theirs). The API decides a caller's scope
//! from its token; every query here applies it through these conditions.

use dinghuo_domain::Side;
use dinghuo_store::sql::Arg;

use super::query::Query;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    tenant_id: String,
    reach: Reach,
}

/// How far into the tenant a scope reaches.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Reach {
    /// Every partner of the tenant: its admins, auditors and analysts.
    Tenant,
    /// Only the partners `contact_id` is linked to on `side`.
    Linked { contact_id: String, side: Side },
}

impl Scope {
    /// The whole tenant.
    pub fn tenant(tenant_id: impl Into<String>) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            reach: Reach::Tenant,
        }
    }

    /// The partners `contact_id` is linked to on `side`, in its tenant.
    pub fn linked(tenant_id: impl Into<String>, contact_id: impl Into<String>, side: Side) -> Self {
        Self {
            tenant_id: tenant_id.into(),
            reach: Reach::Linked {
                contact_id: contact_id.into(),
                side,
            },
        }
    }

    pub fn tenant_id(&self) -> &str {
        &self.tenant_id
    }

    pub fn reach(&self) -> &Reach {
        &self.reach
    }

    /// Whether delisted products show: the tenant's staff see every product ever listed, a
    /// partner's contact only what it can order.
    pub fn sees_delisted_products(&self) -> bool {
        !matches!(
            self.reach,
            Reach::Linked {
                side: Side::Theirs,
                ..
            }
        )
    }

    /// Whether price lists show: they are the tenant's staff's (its admins and our-side
    /// employees); a partner's contact sees its own prices only through the pricing function,
    /// never a list.
    pub fn sees_price_lists(&self) -> bool {
        self.their_side_contact().is_none()
    }

    /// The contact of a partner's contact's scope (linked on their side), else `None`.
    pub(crate) fn their_side_contact(&self) -> Option<&str> {
        match &self.reach {
            Reach::Linked {
                contact_id,
                side: Side::Theirs,
            } => Some(contact_id),
            _ => None,
        }
    }

    /// Appends ` AND <tenant_column> = <tenant>` and [`Scope::partner_condition`].
    pub(crate) fn condition(&self, query: &mut Query, tenant_column: &str, partner_column: &str) {
        query.and(&format!("{tenant_column} ="), self.tenant_id.as_str());
        self.partner_condition(query, partner_column);
    }

    /// Appends the condition that `column` (a partner id) is one this scope reaches: nothing for
    /// the whole tenant.
    pub(crate) fn partner_condition(&self, query: &mut Query, column: &str) {
        reach_condition(&self.reach, query, column);
    }

    /// Appends the condition that contact `contact_column` is one this scope sees: the whole
    /// tenant's, or those linked (on any side) to a partner the scope reaches.
    pub(crate) fn contact_condition(&self, query: &mut Query, contact_column: &str) {
        if self.reach == Reach::Tenant {
            return;
        }
        query.push(&format!(
            " AND EXISTS (SELECT 1 FROM rm_partner_contacts v
                           WHERE v.contact_id = {contact_column}"
        ));
        self.partner_condition(query, "v.partner_id");
        query.push(")");
    }

    /// The columns of a batch of lookups in which each row carries its own caller's scope, as
    /// [`Scope::batch_values`] gives it and [`Scope::batch_condition`] reads.
    pub(crate) const BATCH_COLUMNS: [&'static str; 3] =
        ["scope_tenant", "scope_contact", "scope_side"];

    /// This scope as the values of [`Scope::BATCH_COLUMNS`]: the tenant, then the linked
    /// contact and side (null: every partner of the tenant).
    pub(crate) fn batch_values(&self) -> [Arg; 3] {
        let (contact, side) = match &self.reach {
            Reach::Linked { contact_id, side } => {
                (Some(contact_id.clone()), Some(side.as_str().to_owned()))
            }
            Reach::Tenant => (None, None),
        };
        [
            Arg::from(self.tenant_id.as_str()),
            Arg::Text(contact),
            Arg::Text(side),
        ]
    }

    /// What [`Scope::condition`] states, for a row of a batch whose own scope is in
    /// [`Scope::BATCH_COLUMNS`].
    pub(crate) fn batch_condition(tenant_column: &str, partner_column: &str) -> String {
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
}

/// The condition that `column` (a partner id) is one `reach` reaches.
pub(crate) fn reach_condition(reach: &Reach, query: &mut Query, column: &str) {
    let Reach::Linked { contact_id, side } = reach else {
        return;
    };
    let contact = query.bind(contact_id.as_str());
    // The side is a closed vocabulary: written into the statement, as before, so that the
    // planner sees it.
    let partners = format!(
        "SELECT partner_id FROM rm_partner_contacts
          WHERE contact_id = {contact} AND side = '{}'",
        side.as_str()
    );
    let condition = query.dialect().in_subquery(column, &partners);
    query.push(&format!(" AND {condition}"));
}
