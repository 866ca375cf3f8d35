//! `contacts`: people of the tenant (CRM contacts and employees), by name.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use dinghuo_store::sql::{fetch_all, Arg};

use crate::graphql::caller;
use crate::graphql::error::ApiError;
use crate::graphql::types::contact::{self, ContactRow, Side, CONTACT_COLUMNS};
use crate::graphql::types::{Contact, Scope};

#[derive(Default)]
pub struct ContactQueries;

/// Which contacts to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct ContactFilter {
    /// Contacts linked to this partner (on `side`, when given).
    pub partner_id: Option<ID>,
    /// Contacts linked to some partner on this side.
    pub side: Option<Side>,
    /// Identity verified (`true`) or not yet (`false`).
    pub bound: Option<bool>,
}

/// By name: the position of a contact in that order.
type ContactCursor = OpaqueCursor<(String, String)>;

#[Object]
impl ContactQueries {
    /// The people the caller may see, by name: an admin, auditor or analyst sees the tenant's,
    /// an employee the contacts of the partners it is linked to, a contact those of its own
    /// partner (both sides).
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        filter: Option<ContactFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<ContactCursor, Contact, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = Scope::of(&caller.actor()?)?;
        let page = super::paging::Page::<ContactCursor>::new(first, after)?;
        let filter = filter.unwrap_or_default();

        let mut sql = format!("SELECT {CONTACT_COLUMNS} FROM rm_contacts c WHERE c.tenant_id = $1");
        let mut args = vec![Arg::from(scope.tenant_id.as_str())];
        let (condition, extra) = contact::visible_condition(state.db(), &scope, args.len() + 1);
        sql.push_str(&condition);
        args.extend(extra);
        if filter.partner_id.is_some() || filter.side.is_some() {
            // A link matching both conditions, not one link per condition, and one the caller
            // may see: filtering on a partner out of scope must not reveal a link to it.
            let mut link = String::from(
                " AND EXISTS (SELECT 1 FROM rm_partner_contacts f WHERE f.contact_id = c.contact_id",
            );
            let (in_scope, extra) =
                scope.partner_condition(state.db(), "f.partner_id", args.len() + 1);
            link.push_str(&in_scope);
            args.extend(extra);
            if let Some(partner) = &filter.partner_id {
                args.push(partner.as_str().into());
                link.push_str(&format!(" AND f.partner_id = ${}", args.len()));
            }
            if let Some(side) = filter.side {
                args.push(side.as_str().into());
                link.push_str(&format!(" AND f.side = ${}", args.len()));
            }
            link.push(')');
            sql.push_str(&link);
        }
        if let Some(bound) = filter.bound {
            args.push(bound.into());
            sql.push_str(&format!(" AND c.bound = ${}", args.len()));
        }
        if let Some(cursor) = &page.after {
            let (name, id) = &cursor.0;
            args.push(name.as_str().into());
            args.push(id.as_str().into());
            sql.push_str(&format!(
                " AND (c.name, c.contact_id) > (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        }
        // One more than asked, to know whether there is a next page.
        sql.push_str(&format!(
            " ORDER BY c.name, c.contact_id LIMIT {}",
            page.limit()
        ));
        let rows: Vec<ContactRow> = fetch_all(state.db(), &sql, &args)
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection(
            rows,
            |row| OpaqueCursor((row.name.clone(), row.contact_id.clone())),
            Contact::try_from,
        )?)
    }
}
