//! Typed identifiers. Each is a UUID in a newtype so that a partner id can never be passed where
//! an order id is expected. Parsing from client text yields `VALIDATION` with the field name.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::error::ValidationError;

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
            /// Parses client text; `field` names the input at fault when it is not a UUID.
            pub fn parse(text: &str, field: &str) -> Result<Self, ValidationError> {
                Uuid::parse_str(text.trim())
                    .map(Self)
                    .map_err(|_| ValidationError::new(field, "is not a valid id"))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

id_type!(
    /// The upstream enterprise that owns everything below it.
    TenantId
);
id_type!(
    /// A partner enterprise; equal to the id of the CRM customer it was made from.
    PartnerId
);
id_type!(
    /// A person: a CRM contact of a customer, or an employee of the tenant.
    ContactId
);
id_type!(
    /// A catalog product; derived from (tenant, SKU), see `ProductId::for_sku`.
    ProductId
);
id_type!(
    /// A sales order.
    OrderId
);
id_type!(
    /// A staff membership (a person in a tenant); derived from (tenant, phone), see
    /// `MemberId::for_phone`.
    MemberId
);

id_type!(
    /// A dealer price list (DESIGN §4). Made by the server as UUID v7, so that ids sort by
    /// creation: of two lists of equal priority the newer (greater id) wins.
    PriceListId
);

/// Namespace for ids derived from natural keys (UUID v5), so that the same key always names the
/// same aggregate and the event store's primary key settles races.
const DERIVED_ID_NAMESPACE: Uuid = Uuid::from_u128(0x6d1a_8f0e_5b8c_4f1e_9a57_2c1d_0b7e_d1e0);

impl ProductId {
    /// SKUs are unique per tenant: deriving the id from them makes a duplicate listing land on the
    /// existing aggregate (which refuses it with `DUPLICATE_SKU`), even when two listings race.
    pub fn for_sku(tenant: TenantId, sku: &crate::Sku) -> Self {
        let name = format!("product/{}/{}", tenant, sku.as_str());
        Self(Uuid::new_v5(&DERIVED_ID_NAMESPACE, name.as_bytes()))
    }
}

impl ProductId {
    /// The id of the stream of this product's prices in every price list
    /// (`price_list::ListPrices`): its own id, so that an audit of one aggregate id never
    /// mixes the product's stream with its prices'.
    pub fn list_prices_id(self) -> Uuid {
        let name = format!("list-prices/{}", self.0);
        Uuid::new_v5(&DERIVED_ID_NAMESPACE, name.as_bytes())
    }
}

impl OrderId {
    /// An order submitted with an idempotency key gets an id derived from (tenant, contact, key):
    /// a retry addresses the same aggregate, and two racing retries collide on its first event.
    pub fn for_idempotency_key(tenant: TenantId, contact: ContactId, key: &str) -> Self {
        let name = format!("order/{tenant}/{contact}/{key}");
        Self(Uuid::new_v5(&DERIVED_ID_NAMESPACE, name.as_bytes()))
    }
}

impl MemberId {
    /// A phone is at most one staff member per tenant: deriving the id from it makes a second
    /// creation land on the existing membership (refused with `ALREADY_A_MEMBER` while it is
    /// active), even when two race. Mobile numbers are few enough to be recovered from the id
    /// by trying them all; only callers who may read the membership's phone anyway see the id.
    pub fn for_phone(tenant: TenantId, phone: &crate::Phone) -> Self {
        let name = format!("member/{tenant}/{}", phone.as_str());
        Self(Uuid::new_v5(&DERIVED_ID_NAMESPACE, name.as_bytes()))
    }
}
