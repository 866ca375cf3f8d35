//! The README's GraphQL quick tour stays valid: every operation in its `graphql` blocks parses
//! and validates against the served schema (run anonymously, each may be refused while
//! resolving — that is the server answering it — but never rejected as a document).

use dinghuo_tests::server::TestServer;
use dinghuo_tests::{Backend, TestDb};
use serde_json::json;

fn tour_operations() -> Vec<String> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md"))
        .expect("read README.md");
    let mut operations = Vec::new();
    let mut in_block = false;
    for line in readme.lines() {
        match line.trim() {
            "```graphql" => in_block = true,
            "```" => in_block = false,
            operation if in_block && !operation.is_empty() => operations.push(operation.to_owned()),
            _ => {}
        }
    }
    operations
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_of_the_quick_tour_is_a_valid_document() {
    let operations = tour_operations();
    assert!(
        operations.len() >= 20,
        "the tour lost its operations: {operations:?}"
    );
    let Some(test) = TestDb::new(Backend::Sqlite).await else {
        return;
    };
    for projection in dinghuo_projections::models::all() {
        dinghuo_projections::prepare(&test.db, projection.as_ref())
            .await
            .expect("prepare the read models");
    }
    let server = TestServer::start(&test.db, &["--no-processors"]).await;
    for operation in operations
        .iter()
        .filter(|op| !op.starts_with("subscription"))
    {
        let response = server.graphql(None, operation, json!({})).await;
        let rejected: Vec<_> = response["errors"]
            .as_array()
            .into_iter()
            .flatten()
            // Errors of parsing and validation have no path; a resolver's refusal has one.
            .filter(|error| error.get("path").is_none())
            .collect();
        assert!(
            rejected.is_empty(),
            "{operation}\nis not a valid document: {response:#}"
        );
    }
    server.stop().await;
}
