//! What protects the server from expensive or oversized requests (issue 4, item 6), and what
//! operators scrape: depth and complexity limits, the batch limit, the body limit, `/readyz`
//! and `/metrics`, over HTTP on both backends.

use dinghuo_tests::server::TestServer;
use dinghuo_tests::{on_both_backends, World};
use serde_json::json;

on_both_backends! {
    async fn oversized_requests_are_refused_and_operators_can_see_the_server(test) {
        let commands = test.commands();
        let world = World::build(&commands, 1).await;
        let server = TestServer::start(&test.db, &["--max-body-bytes", "4096", "--max-batch", "3"]).await;
        let admin = server.token(&world.admin);
        let http = reqwest::Client::new();

        // Deeper than the default 15 levels (GraphiQL's own schema query is 15 deep).
        let deep = "{ orders(first: 1) { edges { node { lines { sku } } } } a: viewer { id } }";
        server.ok(Some(&admin), deep, json!({})).await;
        let of_types = "ofType { ".repeat(12);
        let closing = "} ".repeat(12);
        let too_deep = format!("{{ __schema {{ types {{ fields {{ type {{ {of_types}name {closing}}} }} }} }} }}");
        let response = server.graphql(Some(&admin), &too_deep, json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("nested too deep"), "{response:#}");
        assert_eq!(response["errors"][0]["extensions"]["code"], "VALIDATION");

        // Too complex: 100 orders of 100 lines each, many times over.
        let complex = format!(
            "{{ {} }}",
            (0..20)
                .map(|i| format!("o{i}: orders(first: 100) {{ edges {{ node {{ id status lines {{ sku quantity }} }} }} }}"))
                .collect::<Vec<_>>()
                .join(" ")
        );
        let response = server.graphql(Some(&admin), &complex, json!({})).await;
        let message = response["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(message.contains("complex"), "{response:#}");

        // A batch over the limit.
        let batch: Vec<_> = (0..4).map(|_| json!({"query": "{ viewer { id } }"})).collect();
        let answer: serde_json::Value = http
            .post(server.url("/graphql"))
            .bearer_auth(&admin)
            .json(&batch)
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer["errors"][0]["extensions"]["code"], "VALIDATION", "{answer:#}");
        let small: Vec<_> = (0..3).map(|_| json!({"query": "{ viewer { id } }"})).collect();
        let answer: serde_json::Value = http
            .post(server.url("/graphql"))
            .bearer_auth(&admin)
            .json(&small)
            .send()
            .await
            .expect("an answer")
            .json()
            .await
            .expect("JSON");
        assert_eq!(answer.as_array().map(Vec::len), Some(3), "{answer:#}");

        // A body over the limit never reaches GraphQL.
        let huge = json!({"query": format!("{{ viewer {{ id }} }} #{}", "x".repeat(8192))});
        let status = http
            .post(server.url("/graphql"))
            .json(&huge)
            .send()
            .await
            .expect("an answer")
            .status();
        assert_eq!(status.as_u16(), 413);

        // Every answer names its request.
        let response = http
            .post(server.url("/graphql"))
            .header("x-request-id", "01a21500-0000-7000-8000-000000000001")
            .json(&json!({"query": "{ viewer { id } }"}))
            .send()
            .await
            .expect("an answer");
        assert_eq!(
            response.headers().get("x-request-id").and_then(|v| v.to_str().ok()),
            Some("01a21500-0000-7000-8000-000000000001")
        );

        // Operators: ready, and metrics with commands, HTTP latencies and projection lag.
        let ready = http.get(server.url("/readyz")).send().await.expect("readyz");
        assert!(ready.status().is_success());
        server
            .ok(Some(&admin), "mutation { enableApp(input: {app: ORDERING}) { tenantId } }", json!({}))
            .await;
        let metrics = http
            .get(server.url("/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        for name in [
            "dinghuo_commands_total",
            "dinghuo_command_duration_seconds",
            "dinghuo_http_request_duration_seconds",
            "dinghuo_projection_lag_events",
        ] {
            assert!(metrics.contains(name), "/metrics has no {name}:\n{metrics}");
        }
        server.stop().await;
    }
}
