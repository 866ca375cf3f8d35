//! What every handler of the router shares: the GraphQL state and schema, the metrics, and
//! the limits `serve` was started with.

use metrics_exporter_prometheus::PrometheusHandle;

use crate::graphql::documents::DocumentCache;
use crate::graphql::{ApiState, DinghuoSchema};

#[derive(Clone)]
pub struct AppState {
    pub api: ApiState,
    pub schema: DinghuoSchema,
    pub metrics: PrometheusHandle,
    pub max_batch: usize,
    pub max_response_bytes: usize,
    pub ready_max_lag_secs: f64,
    pub ready_max_lag_events: i64,
    pub documents: DocumentCache,
    /// `--trusted-proxy-hops`: how far to trust `X-Forwarded-For` (0: not at all).
    pub trusted_proxy_hops: usize,
}
