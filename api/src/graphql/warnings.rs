//! Warnings: what a client should know about an answer that is not an error. A mutation whose
//! write is committed but not yet shown by the read model it answers from (its read-your-writes
//! wait gave up) says so in `extensions.warnings`, instead of a silent `null` or stale fields:
//!
//! ```json
//! "extensions": { "warnings": [
//!   { "code": "READ_MODEL_BEHIND", "projection": "orders", "message": "…" } ] }
//! ```
//!
//! Each operation (each request of a batch, each WebSocket operation) collects its own.

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextExecute};
use async_graphql::{Context, Name, Request, Response, ServerResult, Value};

/// The code of a warning that a read model had not caught up with the write when the answer
/// was made: the write is committed, the fields read from that model may be stale or `null`.
pub const READ_MODEL_BEHIND: &str = "READ_MODEL_BEHIND";

#[derive(Debug, Clone, PartialEq)]
pub struct Warning {
    pub code: &'static str,
    pub message: String,
    /// The read model concerned, for `READ_MODEL_BEHIND`.
    pub projection: Option<String>,
}

/// The warnings of one operation, shared by its resolvers.
#[derive(Clone, Default)]
pub struct Warnings(Arc<Mutex<Vec<Warning>>>);

impl Warnings {
    /// Adds `warning` to the operation being resolved (outside the server, where no extension
    /// collects them, it is only logged by the caller).
    pub fn add(ctx: &Context<'_>, warning: Warning) {
        if let Some(warnings) = ctx.data_opt::<Warnings>() {
            if let Ok(mut list) = warnings.0.lock() {
                if !list.contains(&warning) {
                    list.push(warning);
                }
            }
        }
    }

    fn take(&self) -> Vec<Warning> {
        self.0
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default()
    }
}

fn to_value(warning: Warning) -> Value {
    let mut fields = async_graphql::indexmap::IndexMap::new();
    fields.insert(Name::new("code"), Value::from(warning.code));
    if let Some(projection) = warning.projection {
        fields.insert(Name::new("projection"), Value::from(projection));
    }
    fields.insert(Name::new("message"), Value::from(warning.message));
    Value::Object(fields)
}

/// Registered on the schema: gives every operation its [`Warnings`] and puts them in the
/// response's extensions.
pub struct CollectWarnings;

impl ExtensionFactory for CollectWarnings {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CollectWarningsExtension::default())
    }
}

#[derive(Default)]
struct CollectWarningsExtension {
    warnings: Warnings,
}

#[async_graphql::async_trait::async_trait]
impl Extension for CollectWarningsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        request: Request,
        next: async_graphql::extensions::NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        next.run(ctx, request.data(self.warnings.clone())).await
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let mut response = next.run(ctx, operation_name).await;
        let warnings = self.warnings.take();
        if !warnings.is_empty() {
            let list = warnings.into_iter().map(to_value).collect();
            response
                .extensions
                .insert("warnings".to_owned(), Value::List(list));
        }
        response
    }
}
