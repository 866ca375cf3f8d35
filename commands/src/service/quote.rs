//! Pricing without ordering (DESIGN §4): `quote` prices lines for a partner, `reorder` quotes a
//! past order's lines at today's prices and rules, and `parse_order_lines` turns pasted text
//! into lines. Every price comes from the one pricing function, on committed state.

use std::collections::HashMap;

use dinghuo_domain::order::{OrderEvent, PlacedBy, RequestedLine, Submitter};
use dinghuo_domain::pricing::{self, Buyer, Quote};
use dinghuo_domain::{
    DomainError, ErrorCode, Lookup, OrderId, PartnerId, ProductId, Side, Sku, TenantId,
    ValidationError, Wanted,
};

use super::order::{parse_lines, submitter, OrderLineInput};
use super::{authorize, own_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

/// Lines to price for a partner: staff name it, a contact's is its own.
#[derive(Debug, Clone, Default)]
pub struct QuoteInput {
    pub partner_id: Option<String>,
    pub lines: Vec<OrderLineInput>,
}

/// The most lines one pasted text may hold.
pub const MAX_PASTED_LINES: usize = 500;
/// The most bytes one pasted text may hold (500 long lines).
const MAX_PASTED_BYTES: usize = 64 * 1024;

/// One line of pasted text: what it says, and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedLine {
    /// The line's number in the text, from 1.
    pub line: usize,
    pub sku: String,
    pub quantity: Option<i64>,
    /// The product the SKU names, when the line has no error.
    pub product_id: Option<ProductId>,
    pub error: Option<LineError>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub code: ErrorCode,
    pub message: String,
}

impl LineError {
    fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }
}

impl Commands {
    /// What `input`'s lines cost the partner now, each with the reason for its price and its
    /// problems (outside the assortment, against the quantity rules), refusing none; answers
    /// the partner too.
    pub async fn quote(
        &self,
        ctx: &RequestContext,
        input: QuoteInput,
    ) -> Result<(PartnerId, Quote), CommandError> {
        authorize(ctx, CommandName::Quote)?;
        let tenant = own_tenant(ctx)?;
        let (by, named) = submitter(ctx, input.partner_id.as_deref())?;
        let lines = parse_lines(tenant, &input.lines)?;
        dinghuo_domain::order::check_lines(&lines)?;
        self.quote_lines(tenant, by, named, &lines).await
    }

    /// What one unit of each of `products` costs the calling contact's partner, and why: the
    /// catalog's "my price". Staff, who buy for no partner of their own, get none; a product
    /// the contact may not buy has none.
    pub async fn my_prices(
        &self,
        ctx: &RequestContext,
        products: &[ProductId],
    ) -> Result<HashMap<ProductId, pricing::LinePrice>, CommandError> {
        let tenant = own_tenant(ctx)?;
        let Ok((by @ Submitter::Contact(_), _)) = submitter(ctx, None) else {
            return Ok(HashMap::new());
        };
        let mut unique: Vec<ProductId> = products.to_vec();
        unique.sort();
        unique.dedup();
        if unique.is_empty() || unique.len() > dinghuo_domain::order::OrderCommand::MAX_LINES {
            return Ok(HashMap::new());
        }
        let one = dinghuo_domain::Quantity::parse(1, "quantity")?;
        let lines: Vec<RequestedLine> = unique
            .into_iter()
            .map(|product_id| RequestedLine {
                product_id,
                quantity: one,
            })
            .collect();
        let (_, quote) = self.quote_lines(tenant, by, None, &lines).await?;
        Ok(quote
            .lines
            .into_iter()
            .filter_map(|line| Some((line.product_id, line.price?)))
            .collect())
    }

    /// A past order's lines quoted at today's prices and rules, for the partner it was placed
    /// for; answers that partner too. Out of the caller's reach it is `NOT_FOUND`, as an order
    /// that does not exist.
    pub async fn reorder(
        &self,
        ctx: &RequestContext,
        order_id: &str,
    ) -> Result<(PartnerId, Quote), CommandError> {
        authorize(ctx, CommandName::Quote)?;
        let tenant = own_tenant(ctx)?;
        let id = OrderId::parse(order_id, "orderId")?;
        let not_found = || CommandError::Refused(DomainError::NotFound { what: "order" });
        let events = self.orders.loader().events(&id.to_string()).await?;
        let Some(OrderEvent::OrderSubmitted {
            tenant_id,
            partner_id,
            lines,
            ..
        }) = events.into_iter().next().map(|envelope| envelope.payload)
        else {
            return Err(not_found());
        };
        if tenant_id != tenant {
            return Err(not_found());
        }
        let (by, _) = submitter(ctx, Some(&partner_id.to_string()))?;
        let requested: Vec<RequestedLine> = lines
            .iter()
            .map(|line| RequestedLine {
                product_id: line.product_id,
                quantity: line.quantity,
            })
            .collect();
        match self
            .quote_lines(tenant, by, Some(partner_id), &requested)
            .await
        {
            Ok(quoted) => Ok(quoted),
            Err(CommandError::Refused(DomainError::NotFound { .. } | DomainError::Forbidden)) => {
                Err(not_found())
            }
            Err(other) => Err(other),
        }
    }

    /// Prices `lines` for the partner `by` orders for (`named`, or a contact's own).
    async fn quote_lines(
        &self,
        tenant: TenantId,
        by: Submitter,
        named: Option<PartnerId>,
        lines: &[RequestedLine],
    ) -> Result<(PartnerId, Quote), CommandError> {
        let partner_absent = || CommandError::Refused(DomainError::NotFound { what: "partner" });
        let partner_id = match (by, named) {
            (Submitter::Contact(contact), named) => {
                let own = self
                    .lookup
                    .load(&Wanted::new().contact(contact))
                    .await?
                    .contact(contact)?
                    .their_side_partner()
                    .ok_or_else(CommandError::forbidden)?;
                if named.is_some_and(|named| named != own) {
                    return Err(partner_absent());
                }
                own
            }
            (Submitter::OnBehalf(_), Some(partner)) => partner,
            (Submitter::OnBehalf(_), None) => return Err(partner_absent()),
        };
        let products = lines.iter().map(|line| line.product_id);
        let mut wanted = pricing::wanted(tenant, partner_id, products);
        if let Submitter::OnBehalf(PlacedBy::Employee { contact_id }) = by {
            wanted = wanted.contact(contact_id);
        }
        let found = pricing::load(self.lookup.as_ref(), tenant, &wanted).await?;
        let partner = found.partner(partner_id)?;
        if !partner.is_partner_of(tenant) {
            return Err(partner_absent());
        }
        if let Submitter::OnBehalf(PlacedBy::Employee { contact_id }) = by {
            let employee = found.contact(contact_id)?;
            if !employee.belongs_to(tenant) || !employee.is_linked(partner_id, Side::Ours) {
                return Err(partner_absent());
            }
        }
        let buyer = Buyer {
            tenant,
            partner_id,
            partner,
            at: self.now(),
        };
        Ok((partner_id, pricing::quote(buyer, lines, &found)?))
    }

    /// Pasted "SKU quantity" lines (spaces, tabs or commas between), or CSV whose header names
    /// a `sku` and a `quantity` (or `qty`, `数量`) column: each line with its product, or what
    /// is wrong with it. A contact's lines outside its partner's assortment are marked too.
    pub async fn parse_order_lines(
        &self,
        ctx: &RequestContext,
        text: &str,
    ) -> Result<Vec<ParsedLine>, CommandError> {
        authorize(ctx, CommandName::Quote)?;
        let tenant = own_tenant(ctx)?;
        if text.len() > MAX_PASTED_BYTES {
            return Err(ValidationError::new("text", "paste at most 64 KB").into());
        }
        let mut parsed = parse_text(text)?;
        let mut first_line: HashMap<String, usize> = HashMap::new();
        for line in parsed.iter_mut().filter(|line| line.error.is_none()) {
            match Sku::parse(&line.sku) {
                Err(error) => {
                    line.error = Some(LineError::new(ErrorCode::Validation, error.message));
                }
                Ok(sku) => {
                    if let Some(first) = first_line.get(sku.as_str()) {
                        line.error = Some(LineError::new(
                            ErrorCode::Validation,
                            format!("the same SKU is on line {first}"),
                        ));
                    } else {
                        first_line.insert(sku.as_str().to_owned(), line.line);
                        line.product_id = Some(ProductId::for_sku(tenant, &sku));
                    }
                }
            }
        }
        self.mark_unavailable(ctx, tenant, &mut parsed).await?;
        Ok(parsed)
    }

    /// Marks lines whose SKU names no listed product, and, for a contact, products outside its
    /// partner's assortment.
    async fn mark_unavailable(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        parsed: &mut [ParsedLine],
    ) -> Result<(), CommandError> {
        let products: Vec<ProductId> = parsed.iter().filter_map(|line| line.product_id).collect();
        if products.is_empty() {
            return Ok(());
        }
        // Staff name no partner here: their lines are checked against the catalog alone.
        let by = submitter(ctx, None).map(|(by, _)| by).ok();
        let mut wanted = Wanted::new().products(products);
        let contact = match by {
            Some(Submitter::Contact(contact)) => {
                wanted = wanted.contact(contact);
                Some(contact)
            }
            _ => None,
        };
        let mut found = self.lookup.load(&wanted).await?;
        let partner = match contact {
            Some(contact) => match found.contact(contact)?.their_side_partner() {
                Some(partner) => {
                    let more = self.lookup.load(&Wanted::new().partner(partner)).await?;
                    found.extend(more);
                    Some(partner)
                }
                None => None,
            },
            None => None,
        };
        for line in parsed.iter_mut() {
            let Some(product_id) = line.product_id else {
                continue;
            };
            let product = found.product(product_id)?;
            let problem = match product.listed_in(tenant) {
                None => Some(LineError::new(
                    ErrorCode::ProductNotListed,
                    "no listed product has this SKU",
                )),
                Some(entry) => match partner {
                    Some(partner) if !found.partner(partner)?.may_buy(entry.category) => Some(
                        LineError::new(ErrorCode::ProductNotAvailable, "not in your assortment"),
                    ),
                    _ => None,
                },
            };
            if problem.is_some() {
                line.product_id = None;
                line.error = problem;
            }
        }
        Ok(())
    }
}

/// How one line of pasted text is cut into cells.
type Splitter = dyn Fn(&str) -> Vec<String>;

/// Splits pasted text into lines of SKU and quantity (see [`Commands::parse_order_lines`]).
fn parse_text(text: &str) -> Result<Vec<ParsedLine>, CommandError> {
    // Pasted lines: cells apart by spaces, tabs or commas. CSV: by its header's delimiter
    // alone, so that a cell may hold spaces ("Soy sauce 500ml").
    let loose = |line: &str| -> Vec<String> {
        line.split(|c: char| c == ',' || c == '\t' || c == ';' || c.is_whitespace())
            .map(|cell| cell.trim().trim_matches('"').to_owned())
            .filter(|cell| !cell.is_empty())
            .collect()
    };
    let csv = |delimiter: char| {
        move |line: &str| -> Vec<String> {
            line.split(delimiter)
                .map(|cell| cell.trim().trim_matches('"').trim().to_owned())
                .collect()
        }
    };
    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .filter(|(_, line)| !line.is_empty())
        .peekable();
    // A header names the columns; without one, SKU then quantity.
    let mut split: Box<Splitter> = Box::new(loose);
    let (mut sku_at, mut quantity_at) = (0, 1);
    if let Some((_, first)) = rows.peek() {
        let delimiter = [',', '\t', ';']
            .into_iter()
            .find(|delimiter| first.contains(*delimiter));
        let cells: Vec<String> = match delimiter {
            Some(delimiter) => csv(delimiter)(first),
            None => loose(first),
        }
        .into_iter()
        .map(|cell| cell.to_lowercase())
        .collect();
        if let Some(sku) = cells.iter().position(|cell| cell == "sku") {
            let quantity = cells
                .iter()
                .position(|cell| matches!(cell.as_str(), "quantity" | "qty" | "数量"))
                .ok_or_else(|| {
                    ValidationError::new("text", "the header names no quantity column")
                })?;
            (sku_at, quantity_at) = (sku, quantity);
            if let Some(delimiter) = delimiter {
                split = Box::new(csv(delimiter));
            }
            rows.next();
        }
    }
    let rows: Vec<(usize, &str)> = rows.collect();
    if rows.is_empty() {
        return Err(ValidationError::new("text", "paste at least one line").into());
    }
    if rows.len() > MAX_PASTED_LINES {
        return Err(ValidationError::new("text", "paste at most 500 lines").into());
    }
    let headed = (sku_at, quantity_at) != (0, 1);
    Ok(rows
        .into_iter()
        .map(|(number, row)| {
            let cells = split(row);
            let sku = cells.get(sku_at).cloned().unwrap_or_default();
            let quantity_text = cells.get(quantity_at).filter(|text| !text.is_empty());
            let (quantity, error) = match quantity_text.map(|text| text.parse::<i64>()) {
                None => (None, Some("no quantity")),
                Some(Err(_)) => (None, Some("the quantity is not a whole number")),
                Some(Ok(q)) if !(1..=i64::from(dinghuo_domain::Quantity::MAX)).contains(&q) => {
                    (Some(q), Some("the quantity must be 1 to 1,000,000"))
                }
                Some(Ok(q)) => (Some(q), None),
            };
            let extra = !headed && cells.len() > 2;
            let error = error
                .or(extra.then_some("one SKU and one quantity per line"))
                .map(|message| LineError::new(ErrorCode::Validation, message));
            ParsedLine {
                line: number,
                sku,
                quantity,
                product_id: None,
                error,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errors(lines: &[ParsedLine]) -> Vec<(usize, Option<&str>)> {
        lines
            .iter()
            .map(|line| (line.line, line.error.as_ref().map(|e| e.message.as_str())))
            .collect()
    }

    #[test]
    fn sku_and_quantity_lines_parse_with_their_line_numbers() {
        let lines = parse_text("AB-1 3\n\nCD-2,\t12\nEF-3 x\nGH-4\nIJ-5 2 7\nKL-6 0").unwrap();
        assert_eq!(lines[0].sku, "AB-1");
        assert_eq!(lines[0].quantity, Some(3));
        assert_eq!(lines[1].sku, "CD-2");
        assert_eq!(lines[1].quantity, Some(12));
        assert_eq!(
            errors(&lines),
            vec![
                (1, None),
                (3, None),
                (4, Some("the quantity is not a whole number")),
                (5, Some("no quantity")),
                (6, Some("one SKU and one quantity per line")),
                (7, Some("the quantity must be 1 to 1,000,000")),
            ]
        );
    }

    #[test]
    fn csv_with_a_header_reads_its_columns() {
        let lines = parse_text("name,Qty,SKU\nSoy sauce,4,AB-1\n").unwrap();
        assert_eq!(lines.len(), 1);
        assert_eq!(
            (lines[0].sku.as_str(), lines[0].quantity),
            ("AB-1", Some(4))
        );
        assert_eq!(lines[0].line, 2);
        assert!(parse_text("sku,name\nAB-1,x").is_err());
    }

    #[test]
    fn empty_and_oversized_pastes_are_refused() {
        assert!(parse_text(" \n \n").is_err());
        let many = "AB-1 1\n".repeat(MAX_PASTED_LINES + 1);
        assert!(parse_text(&many).is_err());
        assert_eq!(
            parse_text(&"AB-1 1\n".repeat(MAX_PASTED_LINES))
                .unwrap()
                .len(),
            500
        );
    }
}
