//! `partners` (a connection over the tenant's CRM customers and partner enterprises, by name)
//! and `partner`.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, ID};
use dinghuo_store::sql::{fetch_all, Arg};

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::partner::{self, PartnerMode, PartnerRow, PARTNER_COLUMNS};
use crate::graphql::types::{Partner, Scope};

#[derive(Default)]
pub struct PartnerQueries;

/// Which partners to list. Every condition is optional.
#[derive(Debug, Default, InputObject)]
pub struct PartnerFilter {
    /// `true`: partner enterprises only; `false`: customers not (yet) added as partners.
    pub is_partner: Option<bool>,
    pub suspended: Option<bool>,
    pub mode: Option<PartnerMode>,
    /// Names starting with this text (case-sensitive).
    pub name_prefix: Option<String>,
}

/// ` AND <column> starts with <prefix>`, case-sensitive on both backends (SQLite's `LIKE` is
/// not, and would need escaping of `%` and `_`).
pub(super) fn prefix_condition(column: &str, args: &mut Vec<Arg>, prefix: String) -> String {
    args.push(prefix.clone().into());
    args.push(prefix.into());
    format!(
        " AND substr({column}, 1, length(${})) = ${}",
        args.len() - 1,
        args.len()
    )
}

/// By name: the position of a partner in that order.
type PartnerCursor = OpaqueCursor<(String, String)>;

#[Object]
impl PartnerQueries {
    /// The tenant's customers and partners the caller may see, by name: an admin, auditor or
    /// analyst sees all, an employee the partners it is linked to, a contact its own partner.
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn partners(
        &self,
        ctx: &Context<'_>,
        filter: Option<PartnerFilter>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<PartnerCursor, Partner, EmptyFields, EmptyFields>> {
        let (caller, state) = caller::of(ctx);
        let scope = Scope::of(&caller.actor()?)?;
        let page = super::paging::Page::<PartnerCursor>::new(first, after)?;
        let filter = filter.unwrap_or_default();

        let mut sql = format!("SELECT {PARTNER_COLUMNS} FROM rm_partners WHERE tenant_id = $1");
        let mut args = vec![Arg::from(scope.tenant_id.as_str())];
        let (condition, extra) = scope.partner_condition(state.db(), "partner_id", args.len() + 1);
        sql.push_str(&condition);
        args.extend(extra);
        if let Some(is_partner) = filter.is_partner {
            args.push(is_partner.into());
            sql.push_str(&format!(" AND is_partner = ${}", args.len()));
        }
        if let Some(suspended) = filter.suspended {
            args.push(suspended.into());
            sql.push_str(&format!(" AND suspended = ${}", args.len()));
        }
        if let Some(mode) = filter.mode {
            args.push(mode.as_str().into());
            sql.push_str(&format!(" AND mode = ${}", args.len()));
        }
        if let Some(prefix) = filter.name_prefix.filter(|p| !p.is_empty()) {
            sql.push_str(&prefix_condition("name", &mut args, prefix));
        }
        if let Some(cursor) = &page.after {
            let (name, id) = &cursor.0;
            args.push(name.as_str().into());
            args.push(id.as_str().into());
            sql.push_str(&format!(
                " AND (name, partner_id) > (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        }
        // One more than asked, to know whether there is a next page.
        sql.push_str(&format!(
            " ORDER BY name, partner_id LIMIT {}",
            page.limit()
        ));
        let rows: Vec<PartnerRow> = fetch_all(state.db(), &sql, &args)
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection(
            rows,
            |row| OpaqueCursor((row.name.clone(), row.partner_id.clone())),
            |row| Ok(Partner::from(row)),
        )?)
    }

    /// One customer or partner, if the caller may see it (`null` otherwise: another tenant's or
    /// another partner's is indistinguishable from one that does not exist).
    async fn partner(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<Partner>> {
        let (caller, state) = caller::of(ctx);
        let scope = Scope::of(&caller.actor()?)?;
        partner::find(state.db(), &scope, &id).await
    }
}
