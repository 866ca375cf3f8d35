//! Sending what the reactor queued: claim due messages, send each through the [`SmsProvider`],
//! and record the outcome — SENT, a retry with exponential backoff, or FAILED with the reason.
//!
//! Several dispatchers (threads or processes) may run at once. A claim moves a message to
//! SENDING, counts an attempt and gives the claimer a lease (`next_attempt_at` = lease expiry);
//! Postgres claims with `FOR UPDATE SKIP LOCKED`, so dispatchers never wait on each other, and
//! SQLite's single writer makes its one-statement claim atomic. A dispatcher that dies mid-send
//! leaves the message SENDING; when the lease runs out another one takes it over. The attempt
//! count fences a dispatcher that comes back after losing its lease: its outcome no longer
//! matches the row, so it is dropped. The provider may then see a message twice, but always with
//! the same dedup key (the message id), so it can deliver it at most once.
//!
//! A message's secret is opened with the outbox key ([`super::seal`]) only for the attempt, in
//! memory. One that does not open fails its message at once: retrying cannot help.
//!
//! Time is a parameter ([`Dispatcher::dispatch_due`] takes `now`), so that tests step through
//! backoff without sleeping; [`Dispatcher::run`] passes the wall clock.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use dinghuo_store::sql::{self, Arg, Dialect};
use dinghuo_store::Database;
use rand::Rng;
use tokio::sync::watch;

use super::providers::{OutgoingSms, SendError, SmsProvider};
use super::seal::{OpenError, OutboxKey, Stored};
use super::settings::{SettingsError, SmsSettings};

/// What one round of [`Dispatcher::dispatch_due`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DispatchReport {
    /// Messages claimed this round.
    pub claimed: usize,
    pub sent: usize,
    /// Failed attempts that will be retried.
    pub retried: usize,
    /// Messages given up on (last attempt failed, refused for good, or lease expired on the
    /// last attempt).
    pub failed: usize,
    /// Outcomes dropped because another dispatcher had taken the message over meanwhile.
    pub lost: usize,
}

/// A message claimed for one attempt.
#[derive(sqlx::FromRow)]
struct Claimed {
    message_id: String,
    phone: String,
    body: String,
    secret: Option<String>,
    /// Attempts including this one; also the fencing token of this claim.
    attempts: i64,
}

enum Outcome {
    Sent,
    Retried,
    Failed,
    Lost,
}

/// Why a message whose secret does not open fails.
const UNOPENED: &str = "not sent: every node must hold the outbox key the secret was sealed \
                        with (DINGHUO_OUTBOX_KEY, or the data directory's outbox-key file)";

/// The most of an error kept in `last_error`.
const ERROR_CHARS: usize = 500;

const CLAIM: &str = "
UPDATE notification_outbox
   SET status = 'SENDING', attempts = attempts + 1, next_attempt_at = $2
 WHERE message_id IN (SELECT message_id FROM notification_outbox
                       WHERE status IN ('PENDING', 'SENDING') AND next_attempt_at <= $1
                         AND attempts < $4
                       ORDER BY next_attempt_at
                       LIMIT $3 {lock})
RETURNING message_id, phone, body, secret, CAST(attempts AS bigint) AS attempts";

pub struct Dispatcher {
    db: Database,
    provider: Arc<dyn SmsProvider>,
    settings: SmsSettings,
    /// Opens the sealed secrets; the key they were sealed with.
    key: OutboxKey,
}

impl Dispatcher {
    pub fn new(
        db: Database,
        provider: Arc<dyn SmsProvider>,
        settings: SmsSettings,
        key: OutboxKey,
    ) -> Result<Self, SettingsError> {
        settings.validate()?;
        Ok(Self {
            db,
            provider,
            settings,
            key,
        })
    }

    /// A dispatcher with the provider the settings name.
    pub fn from_settings(
        db: Database,
        settings: SmsSettings,
        key: OutboxKey,
    ) -> Result<Self, SettingsError> {
        let provider = settings.build_provider()?;
        Self::new(db, provider, settings, key)
    }

    /// One round at time `now`: gives up on messages whose attempts are exhausted, claims up to
    /// `batch_size` due messages (including ones whose lease expired), sends them concurrently
    /// and records each outcome.
    pub async fn dispatch_due(&self, now: DateTime<Utc>) -> Result<DispatchReport, sqlx::Error> {
        let mut report = DispatchReport {
            failed: self.give_up_exhausted(now).await? as usize,
            ..DispatchReport::default()
        };
        let claimed = self.claim(now).await?;
        report.claimed = claimed.len();
        let outcomes = futures::future::join_all(
            claimed
                .into_iter()
                .map(|message| self.attempt(message, now)),
        )
        .await;
        for outcome in outcomes {
            match outcome? {
                Outcome::Sent => report.sent += 1,
                Outcome::Retried => report.retried += 1,
                Outcome::Failed => report.failed += 1,
                Outcome::Lost => report.lost += 1,
            }
        }
        Ok(report)
    }

    /// Dispatches until `stop` turns true (finishing the round in progress). A transient
    /// database error (the database restarted, a connection was cut) restarts the dispatcher
    /// after a backoff (see [`crate::supervise`]); any other database error is logged and the
    /// next round tried after the poll interval: the outbox keeps every message.
    pub async fn run(self, stop: watch::Receiver<bool>) {
        tracing::info!(provider = self.provider.name(), "SMS dispatcher running");
        let supervised = crate::supervise::supervise(
            "sms_dispatcher",
            crate::supervise::Backoff::default(),
            stop.clone(),
            || self.rounds(stop.clone()),
        )
        .await;
        if let Err(error) = supervised {
            tracing::error!(%error, "SMS dispatcher stopped");
        }
    }

    /// Rounds until `stop` turns true or a transient database error.
    async fn rounds(&self, mut stop: watch::Receiver<bool>) -> Result<(), sqlx::Error> {
        loop {
            if *stop.borrow() {
                return Ok(());
            }
            let full_batch = match self.dispatch_due(Utc::now()).await {
                Ok(report) => report.claimed >= self.settings.batch_size as usize,
                Err(error) if crate::supervise::is_transient(&error) => return Err(error),
                Err(error) => {
                    tracing::error!(%error, "SMS dispatch round failed");
                    false
                }
            };
            if full_batch {
                // More may be due right now.
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.settings.poll_interval) => {}
                // A dropped stop sender means nobody can stop us any more: stop now.
                changed = stop.changed() => if changed.is_err() { return Ok(()) },
            }
        }
    }

    /// Marks FAILED what can no longer be attempted: a message whose last attempt's dispatcher
    /// died (lease expired), or one left PENDING with no attempts left (the limit was lowered).
    async fn give_up_exhausted(&self, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
        let failed = sql::execute(
            &self.db,
            "UPDATE notification_outbox
                SET last_error = CASE WHEN status = 'SENDING'
                                      THEN 'no outcome of the last attempt: its dispatcher stopped'
                                      ELSE last_error END,
                    status = 'FAILED', secret = NULL
              WHERE status IN ('PENDING', 'SENDING') AND next_attempt_at <= $1
                AND attempts >= $2",
            &[now.into(), i64::from(self.settings.max_attempts).into()],
        )
        .await?;
        if failed > 0 {
            tracing::error!(
                messages = failed,
                "SMS given up: no attempts left after a dispatcher stopped"
            );
        }
        Ok(failed)
    }

    async fn claim(&self, now: DateTime<Utc>) -> Result<Vec<Claimed>, sqlx::Error> {
        let lease_until = now + delta(self.settings.lease);
        let limit = i64::from(self.settings.batch_size.max(1));
        let max_attempts = i64::from(self.settings.max_attempts);
        // Postgres skips rows another dispatcher is claiming; SQLite has one writer anyway.
        let lock = Dialect::of(&self.db).skip_locked();
        sql::fetch_all(
            &self.db,
            &CLAIM.replace("{lock}", lock),
            &[
                now.into(),
                lease_until.into(),
                limit.into(),
                max_attempts.into(),
            ],
        )
        .await
    }

    async fn attempt(&self, message: Claimed, now: DateTime<Utc>) -> Result<Outcome, sqlx::Error> {
        let Claimed {
            message_id,
            phone,
            body,
            secret,
            attempts,
        } = message;
        let fence = |mut args: Vec<Arg>| {
            args.push(message_id.as_str().into());
            args.push(attempts.into());
            args
        };
        let secret = match secret
            .as_deref()
            .map(|stored| self.open(&message_id, stored))
        {
            None => None,
            Some(Ok(secret)) => Some(secret),
            Some(Err(error)) => {
                // Retrying cannot help: no key this node will ever hold opens it. Fail it for
                // good now (erasing what cannot be sent) instead of claiming it until the
                // attempts run out.
                let reason = format!("{error}; {UNOPENED}");
                if !self.fail_for_good(&message_id, attempts, &reason).await? {
                    return Ok(self.lost(&message_id));
                }
                tracing::error!(
                    message_id = %message_id,
                    attempt = attempts,
                    reason = %reason,
                    "SMS failed for good: its secret does not open with this node's outbox key"
                );
                return Ok(Outcome::Failed);
            }
        };
        let sms = OutgoingSms::new(message_id.clone(), phone, body, secret.as_deref());
        let result = self.provider.send(&sms).await;
        let phone = sms.masked_phone();
        // The text with the secret lives no longer than the attempt.
        drop(sms);
        match result {
            Ok(delivery) => {
                let changed = sql::execute(
                    &self.db,
                    "UPDATE notification_outbox
                        SET status = 'SENT', secret = NULL, sent_at = $1, last_error = NULL,
                            provider_message_id = $2
                      WHERE message_id = $3 AND status = 'SENDING' AND attempts = $4",
                    &fence(vec![now.into(), delivery.provider_message_id.into()]),
                )
                .await?;
                if changed == 0 {
                    return Ok(self.lost(&message_id));
                }
                tracing::info!(
                    message_id = %message_id,
                    phone = %phone,
                    attempt = attempts,
                    provider = self.provider.name(),
                    "SMS sent"
                );
                Ok(Outcome::Sent)
            }
            Err(error) => {
                let reason = scrub(&error, secret.as_deref());
                let last = attempts >= i64::from(self.settings.max_attempts);
                if last || error.is_permanent() {
                    if !self.fail_for_good(&message_id, attempts, &reason).await? {
                        return Ok(self.lost(&message_id));
                    }
                    tracing::error!(
                        message_id = %message_id,
                        attempt = attempts,
                        reason = %reason,
                        "SMS failed for good"
                    );
                    Ok(Outcome::Failed)
                } else {
                    let delay = backoff(&self.settings, attempts);
                    let changed = sql::execute(
                        &self.db,
                        "UPDATE notification_outbox
                            SET status = 'PENDING', next_attempt_at = $1, last_error = $2
                          WHERE message_id = $3 AND status = 'SENDING' AND attempts = $4",
                        &fence(vec![(now + delta(delay)).into(), reason.clone().into()]),
                    )
                    .await?;
                    if changed == 0 {
                        return Ok(self.lost(&message_id));
                    }
                    tracing::warn!(
                        message_id = %message_id,
                        attempt = attempts,
                        retry_in = ?delay,
                        reason = %reason,
                        "SMS attempt failed; will retry"
                    );
                    Ok(Outcome::Retried)
                }
            }
        }
    }

    /// The plaintext of a stored secret: sealed, or (written by a version before sealing, not
    /// yet sealed by [`seal_cleartext_secrets`](super::cleartext::seal_cleartext_secrets)) in the
    /// clear, which is sent as it is.
    fn open(&self, message_id: &str, stored: &str) -> Result<String, OpenError> {
        match Stored::of(stored) {
            Stored::Sealed(sealed) => self.key.open(message_id, sealed),
            Stored::Cleartext(secret) => {
                tracing::warn!(
                    message_id = %message_id,
                    "sending a secret an earlier version stored unsealed"
                );
                Ok(secret.to_owned())
            }
        }
    }

    /// Fails a message this node holds (at `attempts`) for good, erasing its secret; `false`
    /// when the claim was lost meanwhile (another node took the message over).
    async fn fail_for_good(
        &self,
        message_id: &str,
        attempts: i64,
        reason: &str,
    ) -> Result<bool, sqlx::Error> {
        let changed = sql::execute(
            &self.db,
            "UPDATE notification_outbox
                SET status = 'FAILED', secret = NULL, last_error = $1
              WHERE message_id = $2 AND status = 'SENDING' AND attempts = $3",
            &[reason.into(), message_id.into(), attempts.into()],
        )
        .await?;
        Ok(changed > 0)
    }

    fn lost(&self, message_id: &str) -> Outcome {
        tracing::warn!(
            message_id = %message_id,
            "SMS outcome dropped: another dispatcher took the message over after the lease expired"
        );
        Outcome::Lost
    }
}

fn delta(duration: Duration) -> TimeDelta {
    TimeDelta::from_std(duration).unwrap_or(TimeDelta::MAX)
}

/// The wait before the retry that follows failed attempt number `attempts` (1, 2, …):
/// `retry_base × 2^(attempts-1)`, capped at `retry_cap`, then a random point between half of
/// it and all of it.
pub fn backoff(settings: &SmsSettings, attempts: i64) -> Duration {
    let doublings = u32::try_from(attempts.saturating_sub(1).clamp(0, 31)).unwrap_or(31);
    let ceiling = settings
        .retry_base
        .saturating_mul(2u32.saturating_pow(doublings))
        .min(settings.retry_cap);
    let half = ceiling / 2;
    let jitter =
        rand::thread_rng().gen_range(0..=half.as_millis().min(u128::from(u64::MAX)) as u64);
    half + Duration::from_millis(jitter)
}

/// The error as stored and logged: the secret blanked out wherever a provider echoed it back,
/// and cut to a bounded length.
fn scrub(error: &SendError, secret: Option<&str>) -> String {
    let mut text = error.to_string();
    if let Some(secret) = secret.filter(|s| !s.is_empty()) {
        text = text.replace(secret, "******");
    }
    text.chars().take(ERROR_CHARS).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_from_the_base_up_to_the_cap_with_jitter_below_it() {
        let settings = SmsSettings {
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(60),
            ..SmsSettings::default()
        };
        for _ in 0..100 {
            let first = backoff(&settings, 1);
            assert!(first >= Duration::from_millis(2500) && first <= Duration::from_secs(5));
            let third = backoff(&settings, 3);
            assert!(third >= Duration::from_secs(10) && third <= Duration::from_secs(20));
            let late = backoff(&settings, 40);
            assert!(late >= Duration::from_secs(30) && late <= Duration::from_secs(60));
        }
    }

    #[test]
    fn a_stored_error_never_quotes_the_secret() {
        let error = SendError::Status {
            status: 500,
            body: "could not send 初始密码为Kx7pQ2mZ9aBc".into(),
        };
        let text = scrub(&error, Some("Kx7pQ2mZ9aBc"));
        assert!(!text.contains("Kx7pQ2mZ9aBc"), "{text}");
        assert!(text.contains("HTTP 500"), "{text}");
    }
}
