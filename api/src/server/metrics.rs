//! Prometheus metrics: HTTP latencies (commands by name and outcome are recorded by
//! `graphql::metrics`), projection lag and failure (read when scraped), and restarts of the processors
//! (`dinghuo_processor_restarts_total`, counted by `dinghuo_projections::supervise`).

use std::time::Duration;

use axum::extract::State;
use dinghuo_projections::models;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

use super::app_state::AppState;
use super::Error;

/// Installs the process-wide recorder once; later calls (tests starting several servers in one
/// process) share it.
pub fn install() -> Result<PrometheusHandle, Error> {
    static HANDLE: std::sync::OnceLock<PrometheusHandle> = std::sync::OnceLock::new();
    if let Some(handle) = HANDLE.get() {
        return Ok(handle.clone());
    }
    let handle = PrometheusBuilder::new().install_recorder()?;
    Ok(HANDLE.get_or_init(|| handle).clone())
}

pub fn record_http(method: &str, path: &str, status: u16, took: Duration) {
    metrics::histogram!(
        "dinghuo_http_request_duration_seconds",
        "method" => method.to_owned(),
        "path" => path.to_owned(),
        "status" => status.to_string()
    )
    .record(took.as_secs_f64());
}

pub async fn render(State(state): State<AppState>) -> String {
    for projection in models::all() {
        if let Ok(status) = dinghuo_projections::status(state.api.db(), projection.as_ref()).await {
            metrics::gauge!("dinghuo_projection_lag_events", "projection" => status.name.clone())
                .set(status.lag_events as f64);
            let failed = matches!(status.state, dinghuo_projections::State::Failed(_));
            metrics::gauge!("dinghuo_projection_failed", "projection" => status.name.clone())
                .set(if failed { 1.0 } else { 0.0 });
            metrics::gauge!("dinghuo_projection_lag_seconds", "projection" => status.name)
                .set(status.lag_seconds);
        }
    }
    state.metrics.render()
}
