//! `notifications`: the tenant's SMS outbox (admins only), newest first. Read from the
//! `notification_messages` view, which has no `secret` and masks the phone; the body is not
//! served at all, so that nothing a message carries to its recipient leaks through the API.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::Role;
use dinghuo_projections::read::notifications::{self as read, NotificationAt, NotificationRow};

use crate::graphql::caller;
use crate::graphql::error::ApiError;

#[derive(Default)]
pub struct NotificationQueries;

// The outbox's status, mirrored for GraphQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
#[graphql(remote = "dinghuo_projections::read::notifications::NotificationStatus")]
pub enum NotificationStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a dispatcher, being sent.
    Sending,
    Sent,
    /// Given up on: attempts exhausted, refused by the provider, or cancelled.
    Failed,
}

/// One message of the outbox, without its text.
#[derive(Debug, Clone, SimpleObject)]
pub struct Notification {
    /// Stable per message; also the provider's deduplication key.
    pub id: ID,
    pub contact_id: ID,
    pub partner_id: ID,
    /// `SMS`.
    pub channel: String,
    /// Which text: `PARTNER_CONTACT_TENANTLESS`, `PARTNER_CONTACT_TENANT`, …
    pub template: String,
    /// The recipient, masked (`138****8000`).
    pub phone_masked: String,
    pub status: NotificationStatus,
    /// Attempts started so far.
    pub attempts: i64,
    /// Pending: when the next attempt is due; sending: when the claim expires.
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, or why the message was cancelled.
    pub failure_reason: Option<String>,
    pub queued_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = ApiError;

    fn try_from(row: NotificationRow) -> Result<Self, ApiError> {
        let status = read::NotificationStatus::parse(&row.status).ok_or_else(|| {
            ApiError::internal(format!("unknown notification status {:?}", row.status))
        })?;
        Ok(Self {
            id: ID(row.message_id),
            contact_id: ID(row.contact_id),
            partner_id: ID(row.partner_id),
            channel: row.channel,
            template: row.template,
            phone_masked: row.phone_masked,
            status: status.into(),
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.0,
            failure_reason: row.last_error,
            queued_at: row.queued_at.0,
            sent_at: row.sent_at.map(|t| t.0),
        })
    }
}

/// Newest first: the position of a message in that order.
type NotificationCursor = OpaqueCursor<NotificationAt>;

#[Object]
impl NotificationQueries {
    /// The tenant's outgoing messages, newest first, optionally of one status (admins only).
    #[graphql(complexity = "crate::graphql::complexity::page(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        status: Option<NotificationStatus>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<NotificationCursor, Notification, EmptyFields, EmptyFields>>
    {
        let (caller, state) = caller::of(ctx);
        let scope = caller::scope_of(&caller.require(&[Role::Admin])?)?;
        let page = super::paging::Page::<NotificationCursor>::new(first, after)?;
        let rows = read::list(state.db(), &scope, status.map(Into::into), &page.request())
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection_of(rows, Notification::try_from)?)
    }
}
