//! The SMS outbox of a tenant as the `notification_messages` view shows it (no secret, the
//! phone masked; written by the `notifications` reactor), newest first, a page at a time.

use chrono::{DateTime, Utc};
use dinghuo_store::sql::StoredTime;
use dinghuo_store::Database;
use serde::{Deserialize, Serialize};

use super::page::{fetch_page, Keyed, Page, PageRequest};
use super::query::Query;
use super::scope::Scope;

/// Where a message is in its life, as the outbox stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    pub const ALL: [Self; 4] = [Self::Pending, Self::Sending, Self::Sent, Self::Failed];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Sending => "SENDING",
            Self::Sent => "SENT",
            Self::Failed => "FAILED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NotificationRow {
    pub message_id: String,
    pub contact_id: String,
    pub partner_id: String,
    pub channel: String,
    pub template: String,
    pub phone_masked: String,
    /// As stored: a name of [`NotificationStatus`].
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: StoredTime,
    pub last_error: Option<String>,
    pub queued_at: StoredTime,
    pub sent_at: Option<StoredTime>,
}

/// Where a message stands in the list: when it was queued, then its id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationAt(pub DateTime<Utc>, pub String);

impl Keyed for NotificationRow {
    type Key = NotificationAt;
    fn key(&self) -> NotificationAt {
        NotificationAt(self.queued_at.0, self.message_id.clone())
    }
}

/// A page of the messages of the tenant of `scope`, newest first, optionally of one status.
/// Only the tenant's admins read the outbox; the caller decides who may.
pub async fn list(
    db: &Database,
    scope: &Scope,
    status: Option<NotificationStatus>,
    page: &PageRequest<NotificationAt>,
) -> Result<Page<NotificationRow>, sqlx::Error> {
    // `attempts` is a 32-bit integer on Postgres: widened so one row type reads both.
    let mut query = Query::new(
        db,
        "SELECT message_id, contact_id, partner_id, channel, template, phone_masked,
                status, CAST(attempts AS bigint) AS attempts, next_attempt_at,
                last_error, queued_at, sent_at
           FROM notification_messages WHERE true",
    );
    scope.condition(&mut query, "tenant_id", "partner_id");
    if let Some(status) = status {
        query.and("status =", status.as_str());
    }
    if let Some(NotificationAt(at, id)) = &page.after {
        query.and_after(
            "queued_at, message_id",
            true,
            vec![(*at).into(), id.as_str().into()],
        );
    }
    fetch_page(db, query, page, "queued_at DESC, message_id DESC").await
}
