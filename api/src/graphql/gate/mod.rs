//! The request gate: what a GraphQL request must satisfy before any of it is parsed by
//! async-graphql or executed, on HTTP and WebSocket alike. A refusal is `VALIDATION` with a
//! message saying which bound (and `locations` or `extensions.field` saying where); nothing
//! has been read, written or verified by then.
//!
//! - [`text`]: the query's text nests brackets at most [`MAX_NESTING`] deep (the parser's
//!   recursion on values is unbounded and overflows the stack), and holds no NUL;
//! - [`variables`]: the same two rules for the variables;
//! - [`document`], on the parsed document: at most [`MAX_SELECTIONS`] selections once its
//!   fragments are spread (fragments that spread each other twice over expand exponentially,
//!   and async-graphql expands them), and at most [`MAX_SIGN_INS`] sign-in field
//!   ([`SIGN_IN_FIELDS`]) per request, counted across an HTTP batch, through aliases and
//!   fragments, so that one request cannot make the server verify hundreds of passwords or
//!   codes.
//!
//! HTTP requests pass [`admit`] (which also takes each request's parsed document from the
//! [`DocumentCache`]); WebSocket operations run on [`Gated`], the schema behind the same checks.

pub mod document;
pub mod text;
pub mod variables;

use std::sync::Arc;

use async_graphql::futures_util::stream::{self, BoxStream, StreamExt};
use async_graphql::{BatchRequest, Data, Executor, Pos, Request, Response, ServerError};
use dinghuo_domain::ErrorCode;
use uuid::Uuid;

use crate::graphql::documents::{DocumentCache, Parsed};
use crate::graphql::DinghuoSchema;

/// How deeply lists, input objects, argument lists and selection sets may nest, together, in a
/// request's text (and lists and objects in its variables). Selections are at most 15 deep
/// (`--max-depth`) and inputs 3, so this is generous; the parser overflows a 2 MiB stack
/// somewhere past a thousand levels.
pub const MAX_NESTING: usize = 64;

/// How many selections (fields, fragment spreads, inline fragments) a document may expand to
/// once every fragment is spread, over all its operations. A field costs at least 1 of the
/// complexity limit (5,000 by default), so a document the schema would run is far below this.
/// Fragments spreading the next one twice, 16 levels deep (2^17 selections), took async-graphql
/// 50 ms of a debug build; 24 levels, 50 s.
pub const MAX_SELECTIONS: usize = 20_000;

/// The mutations that verify a secret (a password, a binding code) or send an SMS, each costing
/// an argon2 hash or a message. A mutation of that kind added later belongs here.
pub const SIGN_IN_FIELDS: &[&str] = &[
    "requestBindingCode",
    "bindContact",
    "login",
    "changePassword",
];

/// Sign-in fields accepted in one request (a whole HTTP batch, or one WebSocket operation).
pub const MAX_SIGN_INS: usize = 1;

/// Why the gate refused a request. Each is answered as `VALIDATION`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error(
        "the request nests lists, objects, arguments or selections more than {MAX_NESTING} levels deep"
    )]
    TooDeep(Place),
    #[error("a string may not hold the NUL character (\\u0000)")]
    Nul(Place),
    #[error(
        "a request may hold at most {MAX_SIGN_INS} sign-in field ({}), across its batch; this one holds {found}",
        SIGN_IN_FIELDS.join(", ")
    )]
    TooManySignIns { found: usize },
    #[error(
        "the document expands to {selections} selections once its fragments are spread; at most {MAX_SELECTIONS} are accepted"
    )]
    TooLarge { selections: usize },
    #[error("a batch holds at most {limit} operations")]
    TooLargeBatch { limit: usize },
}

/// Where a refused value is: a position in the query's text, or a variable's path
/// (`input.lines[2].note`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Query(Pos),
    Variable(String),
}

impl From<Refusal> for ServerError {
    fn from(refusal: Refusal) -> Self {
        let place = match &refusal {
            Refusal::TooDeep(place) | Refusal::Nul(place) => Some(place.clone()),
            Refusal::TooLarge { .. }
            | Refusal::TooManySignIns { .. }
            | Refusal::TooLargeBatch { .. } => None,
        };
        let position = match &place {
            Some(Place::Query(pos)) => Some(*pos),
            _ => None,
        };
        let mut error = ServerError::new(refusal.to_string(), position);
        let mut extensions = async_graphql::ErrorExtensionValues::default();
        extensions.set("code", ErrorCode::Validation.as_str());
        if let Some(Place::Variable(field)) = place {
            extensions.set("field", field);
        }
        error.extensions = Some(extensions);
        error
    }
}

/// The checks on one request that need no parsing: its text and its variables.
fn check_unparsed(request: &Request) -> Result<(), Refusal> {
    text::check(&request.query)?;
    variables::check(&request.variables)
}

/// Parses `request` if it is not yet, and measures its document; a text that does not parse
/// runs nothing and measures nothing (the schema reports the error).
fn measure(request: &mut Request) -> document::Measure {
    let operation = request.operation_name.clone();
    match request.parsed_query() {
        Ok(parsed) => document::measure(parsed, operation.as_deref()),
        Err(_) => document::Measure {
            selections: 0,
            sign_ins: 0,
        },
    }
}

/// A parsed request's size once its fragments are spread.
fn check_size(measure: document::Measure) -> Result<(), Refusal> {
    if measure.selections > MAX_SELECTIONS {
        return Err(Refusal::TooLarge {
            selections: measure.selections,
        });
    }
    Ok(())
}

/// The sign-in fields of a whole request (one operation, or a batch).
fn check_sign_ins(found: usize) -> Result<(), Refusal> {
    if found > MAX_SIGN_INS {
        return Err(Refusal::TooManySignIns { found });
    }
    Ok(())
}

/// Admits an HTTP request (a single operation or a batch of at most `max_batch`): checks every
/// operation's text and variables, gives each its parsed document from `documents` (answering
/// the ones parsed now, for [`DocumentCache::keep_validated`] once they ran), measures each
/// document, and counts the sign-in fields of the whole batch. All or nothing: one refused
/// operation refuses the batch.
pub fn admit(
    batch: BatchRequest,
    max_batch: usize,
    documents: &DocumentCache,
) -> Result<(BatchRequest, Parsed), Refusal> {
    if let BatchRequest::Batch(requests) = &batch {
        if requests.len() > max_batch {
            return Err(Refusal::TooLargeBatch { limit: max_batch });
        }
    }
    batch.iter().try_for_each(check_unparsed)?;
    let (mut batch, parsed) = documents.parse(batch);
    let mut sign_ins = 0usize;
    for request in batch.iter_mut() {
        let measure = measure(request);
        check_size(measure)?;
        sign_ins = sign_ins.saturating_add(measure.sign_ins);
    }
    check_sign_ins(sign_ins)?;
    Ok((batch, parsed))
}

/// The schema as the WebSocket transport runs it: every operation a client starts on a
/// connection passes the gate first, and a refusal is that operation's only answer (with the
/// connection's request id); the connection stays open.
#[derive(Clone)]
pub struct Gated {
    schema: DinghuoSchema,
    request_id: Uuid,
}

impl Gated {
    pub fn new(schema: DinghuoSchema, request_id: Uuid) -> Self {
        Self { schema, request_id }
    }

    /// The answer refusing `request`, if the gate refuses it.
    fn refusal(&self, request: &mut Request) -> Option<Response> {
        let checked = check_unparsed(request).and_then(|()| {
            let measure = measure(request);
            check_size(measure)?;
            check_sign_ins(measure.sign_ins)
        });
        let refusal = checked.err()?;
        let mut error = ServerError::from(refusal);
        error
            .extensions
            .get_or_insert_with(Default::default)
            .set("requestId", self.request_id.to_string());
        Some(Response::from_errors(vec![error]))
    }
}

impl Executor for Gated {
    async fn execute(&self, mut request: Request) -> Response {
        match self.refusal(&mut request) {
            None => self.schema.execute(request).await,
            Some(refused) => refused,
        }
    }

    fn execute_stream(
        &self,
        mut request: Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, Response> {
        match self.refusal(&mut request) {
            None => self
                .schema
                .execute_stream_with_session_data(request, session_data.unwrap_or_default()),
            Some(refused) => stream::once(async move { refused }).boxed(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_sign_in_field_is_a_mutation_of_the_schema() {
        // A renamed mutation would otherwise slip past the count unnoticed.
        let sdl = crate::graphql::sdl();
        let mutations = sdl
            .split("type MutationRoot {")
            .nth(1)
            .and_then(|rest| rest.split("\n}").next())
            .unwrap_or_else(|| panic!("no MutationRoot in the schema"));
        for field in SIGN_IN_FIELDS {
            assert!(
                mutations.contains(&format!("\t{field}(")),
                "{field} is not a mutation"
            );
        }
    }
}
