//! Closed vocabularies. Serialised in SCREAMING_SNAKE_CASE, the form the API and the event log use.

use serde::{Deserialize, Serialize};

use crate::error::ValidationError;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, field = $field:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(Self::$variant => $text),+ }
            }

            /// Parses the API spelling; unknown values are a `VALIDATION` error on `field`.
            pub fn parse(text: &str) -> Result<Self, ValidationError> {
                match text.trim() {
                    $($text => Ok(Self::$variant),)+
                    _ => Err(ValidationError::new($field, format!(
                        "unknown value; expected one of {}",
                        [$($text),+].join(", ")
                    ))),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

vocabulary!(
    /// An interconnect app a tenant can license. Only the ordering app exists today.
    App, field = "app" {
        /// 订货通, the ordering app.
        Ordering = "ORDERING",
    }
);

vocabulary!(
    /// A function permission of an app, granted to their-side contacts by the tenant's defaults
    /// and restricted per contact.
    Permission, field = "permission" {
        CreateSalesOrder = "CREATE_SALES_ORDER",
        CancelOrder = "CANCEL_ORDER",
        ViewOrders = "VIEW_ORDERS",
    }
);

vocabulary!(
    /// How a partner's contacts reach the platform.
    #[derive(Default)]
    PartnerMode, field = "mode" {
        /// Light mode: WeChat only, no platform account (the recommended default).
        #[default]
        Tenantless = "TENANTLESS",
        /// A platform account is created for each their-side contact.
        Tenant = "TENANT",
    }
);

vocabulary!(
    /// Which enterprise a partner contact works for.
    Side, field = "side" {
        /// 我方对接人: an employee of the tenant.
        Ours = "OURS",
        /// 对方对接人: a member of the partner enterprise's staff.
        Theirs = "THEIRS",
    }
);

vocabulary!(
    /// Where a contact verified its identity.
    Channel, field = "channel" {
        MiniProgram = "MINI_PROGRAM",
        OfficialAccount = "OFFICIAL_ACCOUNT",
        WebQr = "WEB_QR",
        App = "APP",
    }
);
