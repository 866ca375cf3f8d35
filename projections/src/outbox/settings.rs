//! Configuration of SMS sending. The api crate fills it from flags and `DINGHUO_SMS_*`
//! variables; the defaults send nothing anywhere (the log provider).

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use super::providers::{HttpProvider, LogProvider, SmsProvider};
use super::secret::SecretString;

/// Which provider sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ProviderKind {
    /// Write messages to the log (phone masked, no password); nothing reaches a phone.
    #[default]
    Log,
    /// POST to an SMS gateway (`url`, `token`).
    Http,
}

impl FromStr for ProviderKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "log" => Ok(Self::Log),
            "http" => Ok(Self::Http),
            _ => Err(format!("expected log or http, got {s}")),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SmsSettings {
    pub provider: ProviderKind,
    /// The gateway's endpoint (http provider).
    pub url: Option<String>,
    /// Sent as `Authorization: Bearer <token>` (http provider).
    pub token: Option<SecretString>,
    /// Bound on one request to the provider.
    pub timeout: Duration,
    /// Attempts per message before it is marked FAILED (at least 1).
    pub max_attempts: u32,
    /// Delay before the first retry; it doubles with each further failure…
    pub retry_base: Duration,
    /// …up to this. Each delay is drawn between half of it and all of it (jitter), so that
    /// messages failed together do not all come back at the same instant.
    pub retry_cap: Duration,
    /// How long a claimed message (SENDING) belongs to its dispatcher. A dispatcher that crashed
    /// loses it after this and another takes it over. Must exceed `timeout`.
    pub lease: Duration,
    /// Messages claimed (and sent concurrently) at once.
    pub batch_size: u32,
    /// How often an idle dispatcher looks for due messages.
    pub poll_interval: Duration,
}

impl Default for SmsSettings {
    fn default() -> Self {
        Self {
            provider: ProviderKind::Log,
            url: None,
            token: None,
            timeout: Duration::from_secs(10),
            max_attempts: 8,
            retry_base: Duration::from_secs(5),
            retry_cap: Duration::from_secs(3600),
            lease: Duration::from_secs(120),
            batch_size: 20,
            poll_interval: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("the http SMS provider needs a URL (DINGHUO_SMS_URL)")]
    MissingUrl,
    #[error("the http SMS provider needs a token (DINGHUO_SMS_TOKEN)")]
    MissingToken,
    #[error("max_attempts must be at least 1")]
    NoAttempts,
    #[error("the lease ({lease:?}) must be longer than the send timeout ({timeout:?})")]
    LeaseTooShort { lease: Duration, timeout: Duration },
    #[error("cannot build the HTTP client: {0}")]
    Client(#[from] reqwest::Error),
}

impl SmsSettings {
    /// Checks the numbers that must fit together.
    pub fn validate(&self) -> Result<(), SettingsError> {
        if self.max_attempts == 0 {
            return Err(SettingsError::NoAttempts);
        }
        if self.lease <= self.timeout {
            return Err(SettingsError::LeaseTooShort {
                lease: self.lease,
                timeout: self.timeout,
            });
        }
        Ok(())
    }

    /// The configured provider.
    pub fn build_provider(&self) -> Result<Arc<dyn SmsProvider>, SettingsError> {
        Ok(match self.provider {
            ProviderKind::Log => Arc::new(LogProvider),
            ProviderKind::Http => {
                let url = self.url.clone().ok_or(SettingsError::MissingUrl)?;
                let token = self.token.clone().ok_or(SettingsError::MissingToken)?;
                Arc::new(HttpProvider::new(url, token, self.timeout)?)
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_never_print_the_token() {
        let settings = SmsSettings {
            provider: ProviderKind::Http,
            url: Some("https://sms.example.cn/send".into()),
            token: Some(SecretString::new("tok-very-secret")),
            ..SmsSettings::default()
        };
        let debug = format!("{settings:?}");
        assert!(!debug.contains("tok-very-secret"), "{debug}");
        assert!(debug.contains("[redacted]"), "{debug}");
    }

    #[test]
    fn the_http_provider_needs_url_and_token_and_the_lease_must_outlast_the_timeout() {
        let http = SmsSettings {
            provider: ProviderKind::Http,
            ..SmsSettings::default()
        };
        assert!(matches!(
            http.build_provider(),
            Err(SettingsError::MissingUrl)
        ));
        let no_token = SmsSettings {
            url: Some("http://127.0.0.1:1/".into()),
            ..http
        };
        assert!(matches!(
            no_token.build_provider(),
            Err(SettingsError::MissingToken)
        ));
        let short = SmsSettings {
            lease: Duration::from_secs(5),
            ..SmsSettings::default()
        };
        assert!(matches!(
            short.validate(),
            Err(SettingsError::LeaseTooShort { .. })
        ));
        assert!(SmsSettings::default().validate().is_ok());
        assert_eq!("HTTP".parse::<ProviderKind>(), Ok(ProviderKind::Http));
        assert!("smtp".parse::<ProviderKind>().is_err());
    }
}
