//! Where SMS go: the [`SmsProvider`] trait and its two implementations, [`LogProvider`] (the
//! default: writes the message to the log instead of a phone) and [`HttpProvider`] (POSTs JSON to
//! an SMS gateway).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use serde::Deserialize;

use super::secret::SecretString;
use super::texts::PASSWORD_PLACEHOLDER;

/// One message as the provider receives it. Its full text may hold the initial password, so its
/// `Debug` shows the stored body (with the placeholder) and a masked phone instead.
#[derive(Clone)]
pub struct OutgoingSms {
    /// The outbox's message id. The same for every attempt at one message, so a provider (or
    /// gateway) that saw it before can drop the duplicate: at most one delivery per message.
    pub dedup_key: String,
    /// The recipient's normalised phone.
    pub phone: String,
    text: String,
    redacted: String,
}

impl OutgoingSms {
    /// The message of `body`, with `secret` (if any) in place of the password placeholder. The
    /// substituted text lives only in memory, for the length of one attempt.
    pub fn new(dedup_key: String, phone: String, body: String, secret: Option<&str>) -> Self {
        let text = match secret {
            Some(secret) => body.replace(PASSWORD_PLACEHOLDER, secret),
            None => body.clone(),
        };
        Self {
            dedup_key,
            phone,
            text,
            redacted: body,
        }
    }

    /// The text to deliver, secret included. Send it; never log or store it.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The text as stored: a secret appears as `{password}`. Safe to log.
    pub fn redacted_text(&self) -> &str {
        &self.redacted
    }

    /// `138****8000`: safe to log.
    pub fn masked_phone(&self) -> String {
        mask_phone(&self.phone)
    }
}

impl fmt::Debug for OutgoingSms {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OutgoingSms")
            .field("dedup_key", &self.dedup_key)
            .field("phone", &self.masked_phone())
            .field("text", &self.redacted)
            .finish()
    }
}

/// Keeps the first 3 and last 4 characters of a phone number.
pub fn mask_phone(phone: &str) -> String {
    let chars: Vec<char> = phone.chars().collect();
    if chars.len() < 8 {
        return "*".repeat(chars.len());
    }
    let head: String = chars[..3].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// A provider accepted the message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// The provider's id for the message, when it gives one.
    pub provider_message_id: Option<String>,
}

/// A provider did not accept the message. Texts may quote what the provider answered; the
/// dispatcher scrubs the secret from them before it stores or logs one.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// No answer in time. The provider may still have delivered it: the next attempt carries the
    /// same dedup key.
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// A temporary refusal (5xx, 429, 401, …): retried with backoff.
    #[error("provider answered HTTP {status}: {body}")]
    Status { status: u16, body: String },
    /// The provider refused this message for good (400, 422: e.g. an invalid number): retrying
    /// the same request cannot succeed, so the message fails at once.
    #[error("provider refused the message (HTTP {status}): {body}")]
    Rejected { status: u16, body: String },
    /// The request did not get through (connection refused, TLS, DNS…).
    #[error("cannot reach the provider: {0}")]
    Transport(String),
}

impl SendError {
    /// Whether retrying is pointless.
    pub fn is_permanent(&self) -> bool {
        matches!(self, Self::Rejected { .. })
    }
}

#[async_trait]
pub trait SmsProvider: Send + Sync {
    /// For logs: `log`, `http`, …
    fn name(&self) -> &'static str;

    /// Hands one message to the provider. Must give up within its own timeout.
    async fn send(&self, message: &OutgoingSms) -> Result<Delivery, SendError>;
}

/// The default provider: writes each message to the log (phone masked, also inside the text;
/// password not printed: the text shows `{password}`) and reports it sent. Nothing reaches a
/// phone.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogProvider;

#[async_trait]
impl SmsProvider for LogProvider {
    fn name(&self) -> &'static str {
        "log"
    }

    async fn send(&self, message: &OutgoingSms) -> Result<Delivery, SendError> {
        let masked = message.masked_phone();
        // A tenant-mode text names the phone (it is the login): mask it there too.
        let text = message.redacted_text().replace(&message.phone, &masked);
        tracing::info!(
            dedup_key = %message.dedup_key,
            phone = %masked,
            text = %text,
            "SMS (log provider: not sent to a phone)"
        );
        Ok(Delivery::default())
    }
}

/// POSTs `{"dedup_key", "phone", "text"}` as JSON to a gateway, with `Authorization: Bearer
/// <token>` and the dedup key also in an `Idempotency-Key` header. Any 2xx is a delivery (the id
/// is taken from the answer's `id` or `message_id`, when it is JSON that has one); 400 and 422
/// reject the message for good; any other status, a timeout or a transport error is retried.
pub struct HttpProvider {
    client: reqwest::Client,
    url: String,
    token: SecretString,
    timeout: Duration,
}

impl fmt::Debug for HttpProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpProvider")
            .field("url", &self.url)
            .field("token", &self.token)
            .field("timeout", &self.timeout)
            .finish()
    }
}

#[derive(Debug, serde::Serialize)]
struct Request<'a> {
    dedup_key: &'a str,
    phone: &'a str,
    text: &'a str,
}

#[derive(Debug, Default, Deserialize)]
struct Answer {
    id: Option<serde_json::Value>,
    message_id: Option<serde_json::Value>,
}

/// The most of an error answer kept in `last_error`.
const ERROR_BODY_CHARS: usize = 200;

impl HttpProvider {
    /// `timeout` bounds each request as a whole (connect, send, answer).
    pub fn new(
        url: impl Into<String>,
        token: SecretString,
        timeout: Duration,
    ) -> Result<Self, reqwest::Error> {
        let client = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .build()?;
        Ok(Self {
            client,
            url: url.into(),
            token,
            timeout,
        })
    }
}

#[async_trait]
impl SmsProvider for HttpProvider {
    fn name(&self) -> &'static str {
        "http"
    }

    async fn send(&self, message: &OutgoingSms) -> Result<Delivery, SendError> {
        let failed = |error: reqwest::Error| {
            if error.is_timeout() {
                SendError::Timeout(self.timeout)
            } else {
                // Without the URL: whatever is configured there stays out of stored errors.
                SendError::Transport(error.without_url().to_string())
            }
        };
        let response = self
            .client
            .post(&self.url)
            .bearer_auth(self.token.expose_secret())
            .header("Idempotency-Key", &message.dedup_key)
            .json(&Request {
                dedup_key: &message.dedup_key,
                phone: &message.phone,
                text: message.text(),
            })
            .send()
            .await
            .map_err(failed)?;
        let status = response.status();
        let body = response.text().await.map_err(failed)?;
        if status.is_success() {
            let answer: Answer = serde_json::from_str(&body).unwrap_or_default();
            let id = answer.id.or(answer.message_id).and_then(|id| match id {
                serde_json::Value::String(text) => Some(text),
                serde_json::Value::Number(number) => Some(number.to_string()),
                _ => None,
            });
            return Ok(Delivery {
                provider_message_id: id,
            });
        }
        let body: String = body.chars().take(ERROR_BODY_CHARS).collect();
        let status = status.as_u16();
        Err(match status {
            400 | 422 => SendError::Rejected { status, body },
            _ => SendError::Status { status, body },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_secret_is_in_the_text_sent_and_nowhere_in_what_may_be_printed() {
        let sms = OutgoingSms::new(
            "sms:c:1".into(),
            "13900139000".into(),
            "初始密码为{password}。".into(),
            Some("Kx7pQ2mZ9aBc"),
        );
        assert_eq!(sms.text(), "初始密码为Kx7pQ2mZ9aBc。");
        assert_eq!(sms.redacted_text(), "初始密码为{password}。");
        let debug = format!("{sms:?}");
        assert!(!debug.contains("Kx7pQ2mZ9aBc"), "{debug}");
        assert!(!debug.contains("13900139000"), "{debug}");
        assert!(debug.contains("139****9000"), "{debug}");
    }

    #[test]
    fn phones_are_masked_whatever_their_length() {
        assert_eq!(mask_phone("13800138000"), "138****8000");
        assert_eq!(mask_phone("123"), "***");
    }

    #[test]
    fn the_http_provider_never_prints_its_token() {
        let provider = HttpProvider::new(
            "http://127.0.0.1:9/sms",
            SecretString::new("tok-very-secret"),
            Duration::from_secs(1),
        )
        .expect("client");
        let debug = format!("{provider:?}");
        assert!(!debug.contains("tok-very-secret"), "{debug}");
    }
}
