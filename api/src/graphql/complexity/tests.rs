//! The schema's list fields all count what they can return, every root field costs the base of
//! its kind, and the counts are the ones documented in [`super`].

use std::sync::{Arc, Mutex};

use async_graphql::extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{OutputType, ServerError, SubscriptionType, ValidationResult};

use super::{COMMAND, FREE_READS, READ, SUBSCRIPTION};
use crate::graphql::mutations::MutationRoot;
use crate::graphql::queries::QueryRoot;
use crate::graphql::roots::{schema_builder, Costed};
use crate::graphql::subscriptions::SubscriptionRoot;
use crate::graphql::Limits;

/// Every object type of the schema, as the served schema registers it.
fn registry() -> Registry {
    let mut registry = Registry::default();
    <Costed<QueryRoot> as OutputType>::create_type_info(&mut registry);
    <Costed<MutationRoot> as OutputType>::create_type_info(&mut registry);
    <Costed<SubscriptionRoot> as SubscriptionType>::create_type_info(&mut registry);
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
    let schema = schema_builder().extension(probe.clone()).finish();
    let response = schema.execute(query).await;
    let measured = *probe.0.lock().expect("the probe's lock");
    measured.unwrap_or_else(|| panic!("{query} did not validate: {:?}", response.errors))
}

#[tokio::test]
async fn a_list_counts_its_selection_once_per_item_it_can_return() {
    // An order's lines: at most 200 (the order, a root read, costs its base).
    assert_eq!(
        complexity(r#"{ order(id: "o") { lines { sku } } }"#).await,
        READ + 200
    );
    assert_eq!(
        complexity(r#"{ order(id: "o") { lines { sku lineTotal { amount } } } }"#).await,
        READ + 200 * 3
    );
    // A connection: `first`, or 20.
    let history = |first: &str| {
        format!(r#"{{ aggregateHistory(id: "a"{first}) {{ edges {{ node {{ sequence }} }} }} }}"#)
    };
    assert_eq!(complexity(&history(", first: 100")).await, READ + 100 * 3);
    assert_eq!(complexity(&history("")).await, READ + 20 * 3);
    assert_eq!(
        complexity(r#"query($n: Int) { events(first: $n) { nodes { position } } }"#).await,
        READ + 20 * 2
    );
    // Lists of a closed vocabulary: one per value it has.
    assert_eq!(
        complexity("{ contacts(first: 1) { nodes { effectivePermissions deniedPermissions } } }")
            .await,
        READ + 1 + 3 + 3
    );
    assert_eq!(
        complexity(
            "{ tenant { apps { app defaultPermissions } wechatAccounts { menu { name } } } }"
        )
        .await,
        // One app (its name and 3 permissions), 10 accounts of a 3-button menu.
        READ + (1 + 3) + 10 * 3
    );
    assert_eq!(
        complexity("{ onboardingFunnel { steps { step reached } } }").await,
        READ + 6 * 2
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
    // Each alias: a read of 100 nodes of one field. Counted as one field each, the 1,600 would
    // cost 4,800.
    assert_eq!(cost, 1_600 * (READ + 100 * 2));
    assert!(cost > 5 * Limits::default().max_complexity);
}

/// A document selecting only root field `name` of `root`, its required arguments given as
/// variables of their declared types, `__typename` selected on an object.
fn only(registry: &Registry, root: &str, name: &str) -> String {
    let Some(MetaType::Object { fields, .. }) = registry.types.get(root) else {
        panic!("no root type {root}");
    };
    let field = &fields[name];
    let required: Vec<_> = field
        .args
        .values()
        .filter(|arg| arg.ty.ends_with('!') && arg.default_value.is_none())
        .collect();
    let definitions: Vec<_> = required
        .iter()
        .map(|arg| format!("${}: {}", arg.name, arg.ty))
        .collect();
    let arguments: Vec<_> = required
        .iter()
        .map(|arg| format!("{0}: ${0}", arg.name))
        .collect();
    let named = field.ty.trim_matches(|c| matches!(c, '[' | ']' | '!'));
    let selection = match registry.types.get(named) {
        Some(MetaType::Object { .. } | MetaType::Interface { .. } | MetaType::Union { .. }) => {
            "{ __typename }"
        }
        _ => "",
    };
    let operation = match root {
        "MutationRoot" => "mutation",
        "SubscriptionRoot" => "subscription",
        _ => "query",
    };
    let wrap = |items: &[String]| {
        if items.is_empty() {
            String::new()
        } else {
            format!("({})", items.join(", "))
        }
    };
    format!(
        "{operation}{} {{ {name}{} {selection} }}",
        wrap(&definitions),
        wrap(&arguments)
    )
}

#[tokio::test]
async fn every_root_field_costs_the_base_of_its_kind() {
    let registry = registry();
    let mut measured = 0;
    let mut missing = Vec::new();
    for (root, base) in [
        ("QueryRoot", READ),
        ("MutationRoot", COMMAND),
        ("SubscriptionRoot", SUBSCRIPTION),
    ] {
        let Some(MetaType::Object { fields, .. }) = registry.types.get(root) else {
            panic!("no root type {root}");
        };
        for name in fields.keys() {
            let document = only(&registry, root, name);
            let cost = complexity(&document).await;
            measured += 1;
            if FREE_READS.contains(&name.as_str()) && root == "QueryRoot" {
                assert!(cost < base, "{root}.{name} reads no database: {cost}");
            } else if cost < base {
                missing.push(format!("{root}.{name}: {cost} for {document}"));
            }
        }
    }
    // 14 queries, 31 mutations and 2 subscriptions when this was written.
    assert!(measured >= 40, "the walk found only {measured} root fields");
    assert!(
        missing.is_empty(),
        "these root fields cost less than the base of their kind (see graphql/roots.rs):\n{}",
        missing.join("\n")
    );
}

#[tokio::test]
async fn a_root_field_costs_its_base_plus_its_own_count() {
    // A plain read: the base instead of async-graphql's 1, plus its selection.
    assert_eq!(
        complexity(r#"{ partner(id: "p") { id name } }"#).await,
        READ + 2
    );
    // A connection: the base plus its page.
    assert_eq!(
        complexity("{ products(first: 50) { nodes { sku } } }").await,
        READ + 50 * 2
    );
    // `viewer` answers from the token.
    assert_eq!(complexity("{ viewer { id role } }").await, 1 + 2);
    // Introspection reads no database either.
    assert_eq!(
        complexity("{ __type(name: \"Order\") { name } }").await,
        1 + 1
    );
    assert_eq!(
        complexity(
            r#"mutation { cancelOrder(input: { orderId: "o", reason: "r" }) { order { id } } }"#
        )
        .await,
        COMMAND + 1 + 1
    );
    assert_eq!(
        complexity(r#"subscription { orderUpdated(orderId: "o") { id status } }"#).await,
        SUBSCRIPTION + 2
    );
}

/// `count` aliases of `field` in one operation of kind `operation`.
fn aliases(operation: &str, count: usize, field: &str) -> String {
    let aliases: String = (0..count).map(|i| format!(" a{i}: {field}")).collect();
    format!("{operation} {{{aliases} }}")
}

#[tokio::test]
async fn aliased_reads_and_commands_are_bounded_by_their_base_at_the_default_limit() {
    let limit = Limits::default().max_complexity;
    // Without the base, 3,000 reads of one field each would cost 6,000 and pass.
    let reads = complexity(&aliases("query", 3_000, r#"order(id: "o") { id }"#)).await;
    assert_eq!(reads, 3_000 * (READ + 1));
    assert!(reads > limit, "{reads}");
    // Without the base, 600 commands would cost 600 (`__typename` counts nothing) and all run.
    let commands = complexity(&aliases(
        "mutation",
        600,
        r#"recordCustomer(input: { name: "c" }) { __typename }"#,
    ))
    .await;
    assert_eq!(commands, 600 * COMMAND);
    assert!(commands > limit, "{commands}");
}

#[tokio::test]
async fn a_frontends_page_of_orders_with_their_lines_fits_the_default_limit() {
    let limit = Limits::default().max_complexity;
    let page = |first: usize, line: &str| {
        format!(
            "{{ orders(first: {first}) {{ edges {{ cursor node {{ id status total {{ amount }} \
             lines {{ {line} }} }} }} pageInfo {{ hasNextPage endCursor }} }} }}"
        )
    };
    // 20 orders of five line fields: each order 1 + 1 + 2 + 200 × 6, its edge and node 3 more,
    // and a connection counts its `pageInfo` (3) with each item.
    let twenty = complexity(&page(20, "lineNo sku name quantity unitPrice { amount }")).await;
    assert_eq!(
        twenty,
        READ + 20 * ((1 + 1 + 1 + (1 + 1 + 2 + 200 * 6)) + 3)
    );
    assert!(twenty <= limit, "{twenty}");
    // 100 orders of two line fields (the statement-count tests' page) fit too.
    let hundred = complexity(&page(100, "sku quantity")).await;
    assert!(hundred <= limit, "{hundred}");
}
