//! The schema extension that keeps tokens honest: before each operation (HTTP, or a query or
//! mutation over WebSocket) and throughout each subscription, the session a token names must be
//! live and a contact's token must still stand ([`Caller::standing`]: bound, linked, bound in
//! the epoch the token names), or the
//! operation is refused with `UNAUTHENTICATED` and a subscription ends with it. After an
//! operation, the contacts and tenants its commands wrote are forgotten by the standings' cache,
//! so that a change made through this server counts from the next request on.

use std::sync::Arc;
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextSubscribe,
};
use async_graphql::{Response, ServerError};
use dinghuo_commands::Role;
use futures::stream::{self, BoxStream, StreamExt};

use super::caller::Caller;
use super::error::ApiError;
use super::state::ApiState;

/// How often a contact's subscription checks that its token still stands. With the standings'
/// TTL, a subscription outlives the standing of its token by at most this plus the TTL.
pub const RECHECK: Duration = Duration::from_secs(1);

/// Registered on the schema.
pub struct ContactStanding;

impl ExtensionFactory for ContactStanding {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(ContactStandingExtension)
    }
}

struct ContactStandingExtension;

/// A response holding only `error` (the server adds the request id).
fn refused(error: ApiError) -> Response {
    let error = async_graphql::Error::from(error);
    let mut refused = ServerError::new(error.message, None);
    refused.extensions = error.extensions;
    Response::from_errors(vec![refused])
}

/// The caller and the state of an operation, when both are there (they always are in the
/// server; a schema executed without them has no contact to check).
fn caller_and_state(ctx: &ExtensionContext<'_>) -> Option<(Caller, ApiState)> {
    let caller = ctx.data_opt::<Caller>()?;
    let state = ctx.data_opt::<ApiState>()?;
    Some((caller.clone(), state.clone()))
}

#[async_graphql::async_trait::async_trait]
impl Extension for ContactStandingExtension {
    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let Some((caller, state)) = caller_and_state(ctx) else {
            return next.run(ctx, operation_name).await;
        };
        if let Err(error) = caller.standing(&state).await {
            return refused(error);
        }
        let response = next.run(ctx, operation_name).await;
        state.standings.forget_written(&caller.written);
        response
    }

    fn subscribe<'s>(
        &self,
        ctx: &ExtensionContext<'_>,
        stream: BoxStream<'s, Response>,
        next: NextSubscribe<'_>,
    ) -> BoxStream<'s, Response> {
        let stream = next.run(ctx, stream);
        match caller_and_state(ctx) {
            // Only a contact's token, or one a session backs, can stop standing before it
            // expires.
            Some((caller, state))
                if caller.session.is_some()
                    || caller.actor.is_some_and(|a| a.role == Role::Contact) =>
            {
                while_standing(stream, caller, state).boxed()
            }
            _ => stream,
        }
    }
}

/// `items` while the caller's token stands: checked before the first item is asked for, then
/// every [`RECHECK`]; once it no longer stands, one `UNAUTHENTICATED` error, and the end.
fn while_standing<'s>(
    items: BoxStream<'s, Response>,
    caller: Caller,
    state: ApiState,
) -> impl futures::Stream<Item = Response> + Send + 's {
    struct Watch<'s> {
        items: BoxStream<'s, Response>,
        caller: Caller,
        state: ApiState,
        checked: bool,
        /// When the next check is due, however often items come.
        next_check: tokio::time::Instant,
        done: bool,
    }
    let watch = Watch {
        items,
        caller,
        state,
        checked: false,
        next_check: tokio::time::Instant::now() + RECHECK,
        done: false,
    };
    stream::unfold(watch, |mut watch| async move {
        if watch.done {
            return None;
        }
        if !watch.checked {
            watch.checked = true;
            if let Err(error) = watch.caller.standing(&watch.state).await {
                watch.done = true;
                return Some((refused(error), watch));
            }
        }
        loop {
            tokio::select! {
                item = watch.items.next() => return item.map(|item| (item, watch)),
                () = tokio::time::sleep_until(watch.next_check) => {
                    watch.next_check = tokio::time::Instant::now() + RECHECK;
                    if let Err(error) = watch.caller.standing(&watch.state).await {
                        watch.done = true;
                        return Some((refused(error), watch));
                    }
                }
            }
        }
    })
}
