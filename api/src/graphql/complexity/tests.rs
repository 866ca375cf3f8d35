//! The schema's list fields all count what they can return, and the counts are the ones
//! documented in [`super`].

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{OutputType, Schema, ServerError, SubscriptionType, ValidationResult};

use crate::graphql::mutations::MutationRoot;
use crate::graphql::queries::QueryRoot;
use crate::graphql::subscriptions::SubscriptionRoot;

/// Every object type of the schema, as async-graphql registers it.
fn registry() -> Registry {
    let mut registry = Registry::default();
    <QueryRoot as OutputType>::create_type_info(&mut registry);
    <MutationRoot as OutputType>::create_type_info(&mut registry);
    <SubscriptionRoot as SubscriptionType>::create_type_info(&mut registry);
    registry
}

fn is_connection(registry: &Registry, type_name: &str) -> bool {
    matches!(
        registry.types.get(type_name),
        Some(MetaType::Object { fields, .. })
            if fields.contains_key("pageInfo") && fields.contains_key("edges")
    )
}

#[test]
fn every_list_field_has_a_complexity_of_its_own() {
    let registry = registry();
    let mut lists = 0;
    let mut missing = Vec::new();
    for (type_name, meta) in &registry.types {
        let MetaType::Object { fields, .. } = meta else {
            continue;
        };
        for (field_name, field) in fields {
            let named = field.ty.trim_matches(|c| matches!(c, '[' | ']' | '!'));
            let is_list = field.ty.contains('[');
            if !is_list && !is_connection(&registry, named) {
                continue;
            }
            // A connection's edges and nodes are counted by the field that returns it.
            if is_connection(&registry, type_name)
                && matches!(field_name.as_str(), "edges" | "nodes")
            {
                continue;
            }
            lists += 1;
            if field.compute_complexity.is_none() {
                missing.push(format!("{type_name}.{field_name}: {}", field.ty));
            }
        }
    }
    assert!(lists >= 20, "the walk found only {lists} list fields");
    assert!(
        missing.is_empty(),
        "these fields return many items but count as one (give them a complexity, see \
         graphql/complexity.rs):\n{}",
        missing.join("\n")
    );
}

/// Records the complexity async-graphql computed, then stops the request before anything runs.
#[derive(Clone, Default)]
struct Probe(Arc<Mutex<Option<usize>>>);

impl ExtensionFactory for Probe {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

#[async_graphql::async_trait::async_trait]
impl Extension for Probe {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if let Ok(mut seen) = self.0.lock() {
            *seen = Some(result.complexity);
        }
        Err(vec![ServerError::new("measured", None)])
    }
}

/// The complexity of `query`, as the limit sees it.
async fn complexity(query: &str) -> usize {
    let probe = Probe::default();
    let schema = Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .extension(probe.clone())
    .finish();
    let response = schema.execute(query).await;
    let measured = *probe.0.lock().expect("the probe's lock");
    measured.unwrap_or_else(|| panic!("{query} did not validate: {:?}", response.errors))
}

#[tokio::test]
async fn a_list_counts_its_selection_once_per_item_it_can_return() {
    // An order's lines: at most 200.
    assert_eq!(
        complexity(r#"{ order(id: "o") { lines { sku } } }"#).await,
        1 + 200
    );
    assert_eq!(
        complexity(r#"{ order(id: "o") { lines { sku lineTotal { amount } } } }"#).await,
        1 + 200 * 3
    );
    // A connection: `first`, or 20.
    let history = |first: &str| {
        format!(r#"{{ aggregateHistory(id: "a"{first}) {{ edges {{ node {{ sequence }} }} }} }}"#)
    };
    assert_eq!(complexity(&history(", first: 100")).await, 100 * 3);
    assert_eq!(complexity(&history("")).await, 20 * 3);
    assert_eq!(
        complexity(r#"query($n: Int) { events(first: $n) { nodes { position } } }"#).await,
        20 * 2
    );
    // Lists of a closed vocabulary: one per value it has.
    assert_eq!(
        complexity("{ contacts(first: 1) { nodes { effectivePermissions deniedPermissions } } }")
            .await,
        1 + 3 + 3
    );
    assert_eq!(
        complexity(
            "{ tenant { apps { app defaultPermissions } wechatAccounts { menu { name } } } }"
        )
        .await,
        // One app (its name and 3 permissions), 10 accounts of a 3-button menu.
        1 + (1 + 3) + 10 * 3
    );
    assert_eq!(
        complexity("{ onboardingFunnel { steps { step reached } } }").await,
        1 + 6 * 2
    );
}

#[tokio::test]
async fn the_issues_alias_attack_costs_far_more_than_the_limit() {
    let aliases: String = (0..1_600)
        .map(|i| {
            format!(r#" h{i}: aggregateHistory(id: "a", first: 100) {{ nodes {{ payload }} }}"#)
        })
        .collect();
    let cost = complexity(&format!("{{{aliases} }}")).await;
    // Each alias: 100 nodes of one field. Counted as one field each, the 1,600 would cost 4,800.
    assert_eq!(cost, 1_600 * 100 * 2);
    assert!(cost > 50 * crate::graphql::Limits::default().max_complexity);
}
