//! Command metrics: every root field of a mutation is one command, so its latency and outcome
//! (`OK`, or the error's `extensions.code`) are recorded under the mutation's name
//! (`dinghuo_commands_total`, `dinghuo_command_duration_seconds`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextResolve, ResolveInfo,
};
use async_graphql::{ServerResult, Value};

/// Registered on the schema; `mutation_type` is the name of the mutation root type.
pub struct CommandMetrics {
    mutation_type: Arc<str>,
}

impl CommandMetrics {
    pub fn new(mutation_type: &str) -> Self {
        Self {
            mutation_type: mutation_type.into(),
        }
    }
}

impl ExtensionFactory for CommandMetrics {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(CommandMetricsExtension {
            mutation_type: self.mutation_type.clone(),
        })
    }
}

struct CommandMetricsExtension {
    mutation_type: Arc<str>,
}

/// The outcome label of a resolved field: `OK` or the error's code (`INTERNAL` when an error
/// carries none, which only a bug produces).
fn outcome(result: &ServerResult<Option<Value>>) -> String {
    match result {
        Ok(_) => "OK".to_owned(),
        Err(error) => match error.extensions.as_ref().and_then(|e| e.get("code")) {
            Some(Value::String(code)) => code.clone(),
            _ => "INTERNAL".to_owned(),
        },
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for CommandMetricsExtension {
    async fn resolve(
        &self,
        ctx: &ExtensionContext<'_>,
        info: ResolveInfo<'_>,
        next: NextResolve<'_>,
    ) -> ServerResult<Option<Value>> {
        // Only the mutation's own root fields are commands, not the fields of their payloads.
        let is_command =
            info.parent_type == &*self.mutation_type && info.path_node.parent.is_none();
        if !is_command {
            return next.run(ctx, info).await;
        }
        let name = info.name.to_owned();
        let started = Instant::now();
        let result = next.run(ctx, info).await;
        record_command(&name, &outcome(&result), started.elapsed());
        result
    }
}

pub fn record_command(name: &str, outcome: &str, took: Duration) {
    metrics::counter!(
        "dinghuo_commands_total",
        "command" => name.to_owned(),
        "outcome" => outcome.to_owned()
    )
    .increment(1);
    metrics::histogram!(
        "dinghuo_command_duration_seconds",
        "command" => name.to_owned(),
        "outcome" => outcome.to_owned()
    )
    .record(took.as_secs_f64());
}
