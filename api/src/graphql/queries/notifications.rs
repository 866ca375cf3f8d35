//! `notifications`: the tenant's SMS outbox (admins only), newest first. Read from the
//! `notification_messages` view, which has no `secret` and masks the phone; the body is not
//! served at all, so that nothing a message carries to its recipient leaks through the API.

use async_graphql::connection::{Connection, EmptyFields, OpaqueCursor};
use async_graphql::{Context, Enum, Object, SimpleObject, ID};
use chrono::{DateTime, Utc};
use dinghuo_commands::Role;
use dinghuo_store::sql::{fetch_all, Arg, StoredTime};

use crate::graphql::caller;
use crate::graphql::error::ApiError;

#[derive(Default)]
pub struct NotificationQueries;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Enum)]
pub enum NotificationStatus {
    /// Waiting for its (next) attempt.
    Pending,
    /// Claimed by a dispatcher, being sent.
    Sending,
    Sent,
    /// Given up on: attempts exhausted, refused by the provider, or cancelled.
    Failed,
}

impl NotificationStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Sending => "SENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Self::Pending, Self::Sending, Self::Sent, Self::Failed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
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

#[derive(Debug, sqlx::FromRow)]
struct NotificationRow {
    message_id: String,
    contact_id: String,
    partner_id: String,
    channel: String,
    template: String,
    phone_masked: String,
    status: String,
    attempts: i64,
    next_attempt_at: StoredTime,
    last_error: Option<String>,
    queued_at: StoredTime,
    sent_at: Option<StoredTime>,
}

impl TryFrom<NotificationRow> for Notification {
    type Error = ApiError;

    fn try_from(row: NotificationRow) -> Result<Self, ApiError> {
        let status = NotificationStatus::parse(&row.status).ok_or_else(|| {
            ApiError::internal(format!("unknown notification status {:?}", row.status))
        })?;
        Ok(Self {
            id: ID(row.message_id),
            contact_id: ID(row.contact_id),
            partner_id: ID(row.partner_id),
            channel: row.channel,
            template: row.template,
            phone_masked: row.phone_masked,
            status,
            attempts: row.attempts,
            next_attempt_at: row.next_attempt_at.0,
            failure_reason: row.last_error,
            queued_at: row.queued_at.0,
            sent_at: row.sent_at.map(|t| t.0),
        })
    }
}

/// Newest first: the position of a message in that order.
type NotificationCursor = OpaqueCursor<(DateTime<Utc>, String)>;

#[Object]
impl NotificationQueries {
    /// The tenant's outgoing messages, newest first, optionally of one status (admins only).
    #[graphql(complexity = "super::page_complexity(first, child_complexity)")]
    async fn notifications(
        &self,
        ctx: &Context<'_>,
        status: Option<NotificationStatus>,
        #[graphql(validator(minimum = 0, maximum = 100))] first: Option<i32>,
        after: Option<String>,
    ) -> async_graphql::Result<Connection<NotificationCursor, Notification, EmptyFields, EmptyFields>>
    {
        let (caller, state) = caller::of(ctx);
        let actor = caller.require(&[Role::Admin])?;
        let tenant = actor.tenant_id.ok_or_else(ApiError::forbidden)?;
        let page = super::paging::Page::<NotificationCursor>::new(first, after)?;

        // `attempts` is a 32-bit integer on Postgres: widened so one row type reads both.
        let mut sql = "SELECT message_id, contact_id, partner_id, channel, template, phone_masked,
                              status, CAST(attempts AS bigint) AS attempts, next_attempt_at,
                              last_error, queued_at, sent_at
                         FROM notification_messages
                        WHERE tenant_id = $1"
            .to_owned();
        let mut args = vec![Arg::from(tenant.to_string())];
        if let Some(status) = status {
            args.push(status.as_str().into());
            sql.push_str(&format!(" AND status = ${}", args.len()));
        }
        if let Some(cursor) = &page.after {
            let (at, id) = &cursor.0;
            args.push((*at).into());
            args.push(id.as_str().into());
            sql.push_str(&format!(
                " AND (queued_at, message_id) < (${}, ${})",
                args.len() - 1,
                args.len()
            ));
        }
        // One more than asked, to know whether there is a next page.
        sql.push_str(&format!(
            " ORDER BY queued_at DESC, message_id DESC LIMIT {}",
            page.limit()
        ));
        let rows: Vec<NotificationRow> = fetch_all(state.db(), &sql, &args)
            .await
            .map_err(ApiError::from)?;
        Ok(page.connection(
            rows,
            |row| OpaqueCursor((row.queued_at.0, row.message_id.clone())),
            Notification::try_from,
        )?)
    }
}
