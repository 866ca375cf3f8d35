//! Dealer pricing reads: `priceLists` and `priceList` (the tenant's staff), `quote`,
//! `parseOrderLines` and `reorder` (whoever may order: a contact for its partner, staff for a
//! partner they reach). Every price comes from the one pricing function on committed state.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, InputObject, Object, SimpleObject, ID};
use dinghuo_commands::{OrderLineInput, ParsedLine, QuoteInput as QuoteCommand, Role};
use dinghuo_projections::read::price_lists::{self as read, PriceListAt};

use crate::graphql::caller;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::types::price_list::PriceList;
use crate::graphql::types::pricing::{LineProblem, Quote};

#[derive(Default)]
pub struct PricingQueries;

/// By priority (highest first), then newest.
type PriceListCursor = OpaqueCursor<PriceListAt>;

/// A line to price or order: the product by `productId` or by `sku`, and how many.
#[derive(Debug, InputObject)]
pub struct LineInput {
    pub product_id: Option<ID>,
    pub sku: Option<String>,
    pub quantity: i64,
}

impl From<LineInput> for OrderLineInput {
    fn from(line: LineInput) -> Self {
        Self {
            product_id: line.product_id.map(|id| id.0).unwrap_or_default(),
            quantity: line.quantity,
            sku: line.sku,
        }
    }
}

#[derive(Debug, InputObject)]
pub struct QuoteInput {
    /// The partner to price for: staff name it; a contact's is its own.
    pub partner_id: Option<ID>,
    pub lines: Vec<LineInput>,
}

/// One pasted line: what it says, and what is wrong with it.
#[derive(Debug, SimpleObject)]
pub struct ParsedOrderLine {
    /// Its number in the pasted text, from 1.
    pub line: i32,
    pub sku: String,
    pub quantity: Option<i64>,
    /// The product the SKU names, when the line has no error.
    pub product_id: Option<ID>,
    pub error: Option<LineProblem>,
}

impl From<ParsedLine> for ParsedOrderLine {
    fn from(line: ParsedLine) -> Self {
        Self {
            line: i32::try_from(line.line).unwrap_or(i32::MAX),
            sku: line.sku,
            quantity: line.quantity,
            product_id: line.product_id.map(|id| ID(id.to_string())),
            error: line.error.map(|error| LineProblem {
                code: error.code.as_str().to_owned(),
                message: error.message,
            }),
        }
    }
}

/// The tenant's staff read price lists; a partner's contact never does (it sees its own
/// prices on `products { myPrice }` and in quotes).
const STAFF: &[Role] = &[Role::Admin, Role::Employee, Role::Auditor, Role::Analyst];

#[Object]
impl PricingQueries {
    /// The tenant's price lists, highest priority first; archived ones only when asked.
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn price_lists(
        &self,
        ctx: &Context<'_>,
        include_archived: Option<bool>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<PriceListCursor, PriceList, EmptyFields, EmptyFields>>
    {
        let (caller, state) = caller::of(ctx);
        caller.require(STAFF)?;
        let scope = caller.scope()?;
        let page = super::paging::Page::<PriceListCursor>::new(first, after)?;
        let filter = read::PriceListFilter {
            include_archived: include_archived.unwrap_or(false),
        };
        let rows = read::list(state.db(), &scope, &filter, &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, |row| Ok(PriceList::from(row)))?)
    }

    /// One price list of the tenant, or `null`.
    async fn price_list(&self, ctx: &Context<'_>, id: ID) -> ApiResult<Option<PriceList>> {
        let (caller, state) = caller::of(ctx);
        caller.require(STAFF)?;
        let scope = caller.scope()?;
        Ok(read::find(state.db(), &scope, &id)
            .await?
            .map(PriceList::from))
    }

    /// What `lines` cost the partner now, each price with its reason and each line with its
    /// problems (outside the assortment, against the quantity rules), refusing none. At most
    /// 200 lines.
    #[graphql(complexity = "5 * child_complexity")]
    async fn quote(&self, ctx: &Context<'_>, input: QuoteInput) -> ApiResult<Quote> {
        let (caller, state) = caller::of(ctx);
        let command = QuoteCommand {
            partner_id: input.partner_id.map(|id| id.0),
            lines: input.lines.into_iter().map(Into::into).collect(),
        };
        let (partner, quote) = state
            .commands
            .quote(&caller.command_context()?, command)
            .await?;
        Ok(Quote::from_domain(&quote, Some(partner.to_string())))
    }

    /// Pasted "SKU quantity" lines (spaces, tabs or commas between), or CSV with a header
    /// naming `sku` and `quantity` columns: at most 500 lines, each with its product or what
    /// is wrong with it (by line number).
    #[graphql(complexity = "5 * child_complexity")]
    async fn parse_order_lines(
        &self,
        ctx: &Context<'_>,
        text: String,
    ) -> ApiResult<Vec<ParsedOrderLine>> {
        let (caller, state) = caller::of(ctx);
        let lines = state
            .commands
            .parse_order_lines(&caller.command_context()?, &text)
            .await?;
        Ok(lines.into_iter().map(Into::into).collect())
    }

    /// A past order's lines quoted at today's prices and rules, for the partner it was placed
    /// for. An order out of the caller's reach — or, for a contact without `VIEW_ORDERS`, any
    /// order — is `NOT_FOUND`, as one that does not exist.
    #[graphql(complexity = "5 * child_complexity")]
    async fn reorder(&self, ctx: &Context<'_>, order_id: ID) -> ApiResult<Quote> {
        let (caller, state) = caller::of(ctx);
        // Reordering reads the order's lines: the same gate as every other order read.
        if caller.order_scope(state).await?.is_none() {
            return Err(ApiError::not_found("order"));
        }
        let (partner, quote) = state
            .commands
            .reorder(&caller.command_context()?, &order_id)
            .await?;
        Ok(Quote::from_domain(&quote, Some(partner.to_string())))
    }
}
