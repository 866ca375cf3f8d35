//! The one error type of the domain: a refusal (a rule said no) per variant, plus two failure
//! variants for a lookup that could not be answered (the store unreachable, or anything else).
//! Each variant maps to a stable code.

use serde::{Deserialize, Serialize};

/// Stable, client-visible error codes (DESIGN §2). Never rename one: clients match on them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    Unauthenticated,
    Forbidden,
    Validation,
    NotFound,
    Conflict,
    InvalidState,
    InterconnectNotEnabled,
    AppNotPurchased,
    AppNotEnabled,
    AppNotAssigned,
    CustomerNotRecorded,
    NotAPartner,
    ContactHasNoPhone,
    PhoneMismatch,
    ContactNotBound,
    PermissionDenied,
    PartnerSuspended,
    ProductNotListed,
    DuplicateSku,
    RateLimited,
    /// A their-side link needs a CRM contact of that partner's customer; an our-side link needs
    /// an employee of the tenant.
    WrongSide,
    /// The answer would be larger than the server's response size cap (`--max-response-bytes`):
    /// it was not sent; ask for less (smaller pages, fewer fields or aliases).
    ResponseTooLarge,
    /// The request body is larger than the server takes (`--max-body-bytes`): it was not read
    /// to the end nor run; send less (fewer operations in a batch, smaller variables).
    PayloadTooLarge,
    /// The caller signed in with a password someone else chose (sent by SMS): until it changes
    /// it (`changePassword`), its session may only do that, sign out or read `viewer`.
    PasswordChangeRequired,
    /// The phone already belongs to an active staff member of the tenant (an admin or an
    /// invited employee): a person is one member per tenant.
    AlreadyAMember,
    /// The phone signed in belongs to staff of several tenants and the sign-in named none:
    /// `extensions.memberships` lists them; repeat the sign-in with one's `tenantId` (the code
    /// is not spent by this answer).
    TenantChoiceRequired,
    /// The product is outside the partner's assortment (the categories it may buy).
    ProductNotAvailable,
    /// A line's quantity breaks its product's rules: `extensions` has `line` (from 0),
    /// `productId`, and the rules `min`, `multiple`, `max`.
    QuantityNotAllowed,
    /// The submission's `expectedTotal` is not what the lines cost now: `extensions.quote`
    /// has today's prices; nothing was ordered.
    PriceChanged,
    /// The database is down or unreachable, or the connection was lost in the middle of the
    /// request: it may or may not have taken effect. Retry after the suggested delay; a command
    /// retried with the same idempotency key takes effect at most once.
    Unavailable,
    Internal,
}

impl ErrorCode {
    /// The code as clients see it, e.g. `PHONE_MISMATCH`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unauthenticated => "UNAUTHENTICATED",
            Self::Forbidden => "FORBIDDEN",
            Self::Validation => "VALIDATION",
            Self::NotFound => "NOT_FOUND",
            Self::Conflict => "CONFLICT",
            Self::InvalidState => "INVALID_STATE",
            Self::InterconnectNotEnabled => "INTERCONNECT_NOT_ENABLED",
            Self::AppNotPurchased => "APP_NOT_PURCHASED",
            Self::AppNotEnabled => "APP_NOT_ENABLED",
            Self::AppNotAssigned => "APP_NOT_ASSIGNED",
            Self::CustomerNotRecorded => "CUSTOMER_NOT_RECORDED",
            Self::NotAPartner => "NOT_A_PARTNER",
            Self::ContactHasNoPhone => "CONTACT_HAS_NO_PHONE",
            Self::PhoneMismatch => "PHONE_MISMATCH",
            Self::ContactNotBound => "CONTACT_NOT_BOUND",
            Self::PermissionDenied => "PERMISSION_DENIED",
            Self::PartnerSuspended => "PARTNER_SUSPENDED",
            Self::ProductNotListed => "PRODUCT_NOT_LISTED",
            Self::DuplicateSku => "DUPLICATE_SKU",
            Self::RateLimited => "RATE_LIMITED",
            Self::WrongSide => "WRONG_SIDE",
            Self::ResponseTooLarge => "RESPONSE_TOO_LARGE",
            Self::PayloadTooLarge => "PAYLOAD_TOO_LARGE",
            Self::PasswordChangeRequired => "PASSWORD_CHANGE_REQUIRED",
            Self::AlreadyAMember => "ALREADY_A_MEMBER",
            Self::TenantChoiceRequired => "TENANT_CHOICE_REQUIRED",
            Self::ProductNotAvailable => "PRODUCT_NOT_AVAILABLE",
            Self::QuantityNotAllowed => "QUANTITY_NOT_ALLOWED",
            Self::PriceChanged => "PRICE_CHANGED",
            Self::Unavailable => "UNAVAILABLE",
            Self::Internal => "INTERNAL",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An input that could not be parsed into a value object. `field` is the path of the input
/// field at fault (e.g. `lines[2].quantity`), so a form can mark it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct ValidationError {
    pub field: String,
    pub message: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The same error, reported on another field (the value object's default name is not always
    /// the input's: a customer's phone is `phone`, a binding's is `phone` too, a line's is not).
    pub fn at(self, field: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: self.message,
        }
    }

    /// The same error, nested under a parent field: `quantity` becomes `lines[2].quantity`.
    pub fn under(self, parent: &str) -> Self {
        Self {
            field: format!("{parent}.{}", self.field),
            message: self.message,
        }
    }
}

/// Why a command was refused (or, for `Lookup`, could not be decided).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("invalid input: {0}")]
    Validation(#[from] ValidationError),
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("{0}")]
    InvalidState(String),
    #[error("enterprise interconnect is not enabled for this tenant")]
    InterconnectNotEnabled,
    #[error("the app {app} has not been purchased")]
    AppNotPurchased { app: crate::App },
    #[error("the app {app} is not enabled")]
    AppNotEnabled { app: crate::App },
    #[error("the app {app} is not assigned to this partner")]
    AppNotAssigned { app: crate::App },
    #[error("the customer has not been recorded in the CRM")]
    CustomerNotRecorded,
    #[error("not a partner enterprise of this tenant")]
    NotAPartner,
    #[error("the contact has no mobile number")]
    ContactHasNoPhone,
    #[error("the phone number does not match the one recorded for this contact")]
    PhoneMismatch,
    #[error("the contact has not bound its identity yet")]
    ContactNotBound,
    #[error("the contact is denied {permission} for {app}")]
    PermissionDenied {
        app: crate::App,
        permission: crate::Permission,
    },
    #[error("the partner is suspended")]
    PartnerSuspended,
    #[error("product {product_id} is not listed")]
    ProductNotListed { product_id: crate::ProductId },
    #[error("SKU {sku} is already listed")]
    DuplicateSku { sku: String },
    #[error("{0}")]
    WrongSide(&'static str),
    #[error("the phone already belongs to an active staff member of this tenant")]
    AlreadyAMember,
    #[error("product {product_id} is not in the partner's assortment")]
    ProductNotAvailable { product_id: crate::ProductId },
    #[error("lines[{line}]: product {product_id} must be ordered {}", rules.describe())]
    QuantityNotAllowed {
        line: usize,
        product_id: crate::ProductId,
        rules: crate::QuantityRules,
    },
    #[error("the prices changed since the quote: the order now costs {}", quote.total.to_decimal_string())]
    PriceChanged { quote: Box<crate::pricing::Quote> },
    #[error("the caller may not do this")]
    Forbidden,
    /// Not a refusal: the lookup could not reach the store (the database is down, the
    /// connection was lost). Worth trying again.
    #[error("lookup unavailable: {0}")]
    Unavailable(String),
    /// Not a refusal: the lookup failed otherwise (a stored event cannot be read).
    #[error("lookup failed: {0}")]
    Lookup(String),
}

impl DomainError {
    pub fn code(&self) -> ErrorCode {
        match self {
            Self::Validation(_) => ErrorCode::Validation,
            Self::NotFound { .. } => ErrorCode::NotFound,
            Self::InvalidState(_) => ErrorCode::InvalidState,
            Self::InterconnectNotEnabled => ErrorCode::InterconnectNotEnabled,
            Self::AppNotPurchased { .. } => ErrorCode::AppNotPurchased,
            Self::AppNotEnabled { .. } => ErrorCode::AppNotEnabled,
            Self::AppNotAssigned { .. } => ErrorCode::AppNotAssigned,
            Self::CustomerNotRecorded => ErrorCode::CustomerNotRecorded,
            Self::NotAPartner => ErrorCode::NotAPartner,
            Self::ContactHasNoPhone => ErrorCode::ContactHasNoPhone,
            Self::PhoneMismatch => ErrorCode::PhoneMismatch,
            Self::ContactNotBound => ErrorCode::ContactNotBound,
            Self::PermissionDenied { .. } => ErrorCode::PermissionDenied,
            Self::PartnerSuspended => ErrorCode::PartnerSuspended,
            Self::ProductNotListed { .. } => ErrorCode::ProductNotListed,
            Self::DuplicateSku { .. } => ErrorCode::DuplicateSku,
            Self::WrongSide(_) => ErrorCode::WrongSide,
            Self::AlreadyAMember => ErrorCode::AlreadyAMember,
            Self::ProductNotAvailable { .. } => ErrorCode::ProductNotAvailable,
            Self::QuantityNotAllowed { .. } => ErrorCode::QuantityNotAllowed,
            Self::PriceChanged { .. } => ErrorCode::PriceChanged,
            Self::Forbidden => ErrorCode::Forbidden,
            Self::Unavailable(_) => ErrorCode::Unavailable,
            Self::Lookup(_) => ErrorCode::Internal,
        }
    }

    pub fn invalid_state(message: impl Into<String>) -> Self {
        Self::InvalidState(message.into())
    }
}
