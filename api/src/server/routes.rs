//! The router: `POST /graphql` (JSON bodies only), `GET /graphql` (GraphiQL, never an
//! operation), `/graphql/ws` (subscriptions over WebSocket, not from pages of other sites),
//! `/healthz`, `/readyz`, `/metrics` and GraphiQL's assets, all with the security headers;
//! a request id per request (the client's `x-request-id`, or a fresh one), answered in the
//! `x-request-id` header, in every GraphQL error and in the logs.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use async_graphql::dataloader::DataLoader;
use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::{BatchRequest, BatchResponse, Data, Executor, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLWebSocket};
use axum::extract::ws::{Message, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::handler::Handler;
use axum::http::HeaderMap;
use axum::middleware;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use dinghuo_domain::ErrorCode;
use futures::future;
use futures::stream::BoxStream;
use futures::{SinkExt, StreamExt};
use metrics_exporter_prometheus::PrometheusHandle;
use uuid::Uuid;

use super::app_state::AppState;
use super::body_deadline::{read_body_in_time, BodyLimits};
use super::client_addr::client_address;
use super::content_type::json_only;
use super::graphql_body::GraphqlBody;
use super::origin::same_site_only;
use super::request_id::{request_id, RequestId};
use super::{graphiql, headers, health, ServeArgs};
use crate::graphql::documents::DocumentCache;
use crate::graphql::gate;
use crate::graphql::types::contact::DomainLoaders;
use crate::graphql::types::order::LinesLoader;
use crate::graphql::{ApiState, Caller, DinghuoSchema};

pub fn router(
    api: ApiState,
    schema: DinghuoSchema,
    metrics: PrometheusHandle,
    args: &ServeArgs,
) -> Router {
    let state = AppState {
        api,
        schema,
        metrics,
        max_batch: args.max_batch,
        max_response_bytes: args.max_response_bytes,
        ready_max_lag_secs: args.ready_max_lag_secs,
        ready_max_lag_events: args.ready_max_lag_events,
        documents: DocumentCache::default(),
        trusted_proxy_hops: usize::from(args.trusted_proxy_hops),
    };
    let router = Router::new()
        .route(
            "/graphql",
            get(graphiql::page).post(graphql.layer(middleware::from_fn(json_only))),
        )
        .route(
            "/graphql/ws",
            get(graphql_ws.layer(middleware::from_fn(same_site_only))),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(super::metrics::render))
        .merge(graphiql::assets())
        .layer(middleware::from_fn_with_state(
            BodyLimits {
                deadline: args.body_timeout,
                max_bytes: args.max_body_bytes,
            },
            read_body_in_time,
        ))
        .layer(middleware::from_fn(request_id))
        .with_state(state);
    headers::secure(router)
}

/// The bearer token's actor, if the request carries a valid one. A request with an invalid
/// token is refused outright (`UNAUTHENTICATED`), never served as anonymous.
fn caller(
    state: &AppState,
    headers: &HeaderMap,
    request_id: Uuid,
    client: Option<SocketAddr>,
) -> Result<Caller, ServerError> {
    let verified = match headers.get(axum::http::header::AUTHORIZATION) {
        None => None,
        Some(value) => {
            let text = value.to_str().unwrap_or_default();
            match state.api.tokens.verify_bearer_until(text) {
                Ok(verified) => Some(verified),
                Err(error) => {
                    tracing::info!(%error, "refused a bearer token");
                    let mut refused = ServerError::new("a valid bearer token is required", None);
                    let mut extensions = async_graphql::ErrorExtensionValues::default();
                    extensions.set("code", ErrorCode::Unauthenticated.as_str());
                    refused.extensions = Some(extensions);
                    return Err(refused);
                }
            }
        }
    };
    let client = client.map(|peer| client_address(peer.ip(), headers, state.trusted_proxy_hops));
    Ok(Caller::new(verified, request_id, client))
}

async fn graphql(
    State(state): State<AppState>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Extension(RequestId(request_id)): axum::Extension<RequestId>,
    GraphqlBody(batch): GraphqlBody,
) -> Response {
    let response = match caller(&state, &headers, request_id, Some(client)) {
        Err(refused) => BatchResponse::Single(async_graphql::Response::from_errors(vec![refused])),
        Ok(caller) => execute(&state, caller, batch).await,
    };
    super::respond::graphql(
        with_request_id(response, request_id),
        state.max_response_bytes,
        request_id,
    )
}

async fn execute(state: &AppState, caller: Caller, batch: BatchRequest) -> BatchResponse {
    let (batch, parsed) = match gate::admit(batch, state.max_batch, &state.documents) {
        Ok(admitted) => admitted,
        Err(refused) => {
            return BatchResponse::Single(async_graphql::Response::from_errors(
                vec![refused.into()],
            ))
        }
    };
    // Per request, so that a DataLoader's cache never serves one caller another's rows.
    let batch = batch.data(caller).data(lines_loader(&state.api));
    let batch = DomainLoaders::new(state.api.db()).add_to_batch(batch);
    let response = state.schema.execute_batch(batch).await;
    state.documents.keep_validated(parsed, &response);
    response
}

/// The loader of order lines that `Order.lines` needs in every request's (and every WebSocket
/// connection's) data.
pub fn lines_loader(api: &ApiState) -> Arc<DataLoader<LinesLoader>> {
    Arc::new(DataLoader::new(
        LinesLoader {
            db: api.db().clone(),
        },
        tokio::spawn,
    ))
}

/// Subscriptions over WebSocket (graphql-transport-ws, and the older graphql-ws). The client
/// authenticates in `connection_init` with `{"Authorization": "Bearer …"}`; a connection without
/// one is anonymous, one with an invalid token is refused.
async fn graphql_ws(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Extension(RequestId(request_id)): axum::Extension<RequestId>,
    protocol: GraphQLProtocol,
    upgrade: WebSocketUpgrade,
) -> Response {
    let client = client_address(peer.ip(), &headers, state.trusted_proxy_hops);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = Tagged {
                inner: gate::Gated::new(state.schema.clone(), request_id),
                request_id,
            };
            let (sink, stream) = socket.split();
            let sink =
                sink.with(|message| future::ready(Ok::<_, axum::Error>(bounded_close(message))));
            GraphQLWebSocket::new_with_pair(sink, stream, schema, protocol)
                .on_connection_init(move |payload| async move {
                    let caller = ws_caller(&state, &payload, request_id, client)?;
                    let mut data = Data::default();
                    data.insert(caller);
                    data.insert(lines_loader(&state.api));
                    DomainLoaders::new(state.api.db()).insert_into(&mut data);
                    Ok(data)
                })
                .serve()
        })
}

/// The longest reason a close frame may carry: a control frame holds 125 bytes, 2 of them the
/// code (RFC 6455 §5.5).
const MAX_CLOSE_REASON: usize = 123;

/// Cuts a close frame's reason to [`MAX_CLOSE_REASON`] bytes (at a character boundary).
/// async-graphql closes a connection that breaks the protocol with the whole parse error as the
/// reason, which quotes the client's message: sent as is, the frame is invalid and the client
/// fails the connection without reading why.
fn bounded_close(message: Message) -> Message {
    match message {
        Message::Close(Some(mut frame)) if frame.reason.len() > MAX_CLOSE_REASON => {
            let reason = frame.reason.as_str();
            let mut end = MAX_CLOSE_REASON;
            while !reason.is_char_boundary(end) {
                end -= 1;
            }
            frame.reason = reason[..end].to_owned().into();
            Message::Close(Some(frame))
        }
        other => other,
    }
}

/// The caller of a WebSocket connection, from its `connection_init` payload.
fn ws_caller(
    state: &AppState,
    payload: &serde_json::Value,
    request_id: Uuid,
    client: IpAddr,
) -> async_graphql::Result<Caller> {
    let token = ["Authorization", "authorization"]
        .iter()
        .find_map(|key| payload.get(*key))
        .map(|value| value.as_str().unwrap_or_default());
    let verified = match token {
        None => None,
        Some(text) => match state.api.tokens.verify_bearer_until(text) {
            Ok(verified) => Some(verified),
            Err(error) => {
                tracing::info!(%error, "refused a bearer token on a WebSocket");
                return Err(crate::graphql::error::ApiError::unauthenticated().into());
            }
        },
    };
    Ok(Caller::new(verified, request_id, Some(client)))
}

/// The gated schema as a WebSocket connection runs it: each answer's errors tagged as an HTTP
/// response's are (a code, the request id of the upgrade), which async-graphql's own parse and
/// validation errors would otherwise leave without.
#[derive(Clone)]
struct Tagged<E> {
    inner: E,
    request_id: Uuid,
}

impl<E: Executor> Executor for Tagged<E> {
    async fn execute(&self, request: async_graphql::Request) -> async_graphql::Response {
        tag(self.inner.execute(request).await, self.request_id)
    }

    fn execute_stream(
        &self,
        request: async_graphql::Request,
        session_data: Option<Arc<Data>>,
    ) -> BoxStream<'static, async_graphql::Response> {
        let request_id = self.request_id;
        self.inner
            .execute_stream(request, session_data)
            .map(move |response| tag(response, request_id))
            .boxed()
    }
}

/// Every error names the request, and has a code (GraphQL's own parse and validation errors
/// are the client's: `VALIDATION`).
fn tag(mut response: async_graphql::Response, request_id: Uuid) -> async_graphql::Response {
    for error in &mut response.errors {
        let extensions = error.extensions.get_or_insert_with(Default::default);
        if extensions.get("code").is_none() {
            extensions.set("code", ErrorCode::Validation.as_str());
        }
        extensions.set("requestId", request_id.to_string());
    }
    response
}

/// [`tag`]s each response of an HTTP request.
fn with_request_id(response: BatchResponse, request_id: Uuid) -> BatchResponse {
    match response {
        BatchResponse::Single(response) => BatchResponse::Single(tag(response, request_id)),
        BatchResponse::Batch(responses) => BatchResponse::Batch(
            responses
                .into_iter()
                .map(|response| tag(response, request_id))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use axum::extract::ws::CloseFrame;

    use super::*;

    fn close(reason: &str) -> Message {
        Message::Close(Some(CloseFrame {
            code: 1002,
            reason: reason.to_owned().into(),
        }))
    }

    fn reason(message: &Message) -> String {
        match message {
            Message::Close(Some(frame)) => frame.reason.as_str().to_owned(),
            other => panic!("not a close frame: {other:?}"),
        }
    }

    #[test]
    fn a_close_reason_is_cut_to_what_a_control_frame_holds_at_a_character_boundary() {
        assert_eq!(reason(&bounded_close(close("short"))), "short");
        let long = "订".repeat(100);
        let cut = reason(&bounded_close(close(&long)));
        assert_eq!(
            cut,
            "订".repeat(41),
            "123 bytes hold 41 three-byte characters"
        );
        let text = Message::Text("x".repeat(500).into());
        assert_eq!(bounded_close(text.clone()), text);
    }
}
