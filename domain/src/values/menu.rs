//! The custom menu of a WeChat official account.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;
use crate::values::{App, Name};

/// The app id of a WeChat official account (`wx` followed by 16 hex digits).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct WechatAppId(String);

impl WechatAppId {
    pub fn parse(text: &str) -> Result<Self, ValidationError> {
        let id = text.trim();
        let valid = id.len() == 18
            && id.starts_with("wx")
            && id[2..].bytes().all(|b| b.is_ascii_hexdigit());
        if !valid {
            return Err(ValidationError::new(
                "appId",
                "must be a WeChat app id: wx followed by 16 hex digits",
            ));
        }
        Ok(Self(id.to_ascii_lowercase()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for WechatAppId {
    type Error = ValidationError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<WechatAppId> for String {
    fn from(value: WechatAppId) -> Self {
        value.0
    }
}

/// What a menu button does.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MenuAction {
    /// Opens an interconnect app: refused while that app is not enabled on the tenant.
    OpenApp { app: App },
    /// Opens a web page (https only).
    OpenUrl { url: String },
}

/// One button of the bottom menu. WeChat allows at most three.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MenuButton {
    pub name: Name,
    pub action: MenuAction,
}

impl MenuButton {
    pub const MAX_BUTTONS: usize = 3;

    pub fn open_url(name: Name, url: &str, field: &str) -> Result<Self, ValidationError> {
        let url = url.trim();
        Self::check_url(url, field)?;
        Ok(Self {
            name,
            action: MenuAction::OpenUrl {
                url: url.to_owned(),
            },
        })
    }

    /// Menu links must be https (WeChat refuses others), bounded, without spaces.
    pub fn check_url(url: &str, field: &str) -> Result<(), ValidationError> {
        if !url.starts_with("https://") || url.len() > 1000 || url.chars().any(char::is_whitespace)
        {
            return Err(ValidationError::new(field, "must be an https:// URL"));
        }
        Ok(())
    }
}
