//! The SMS outbox (DESIGN §2 Contact, seed "维护联系人对象，添加对接人"): adding a their-side
//! partner contact sends the product document's SMS, exactly once per addition, with the
//! tenant-mode initial password kept out of the event log, the read models and the logs, and
//! sealed while it waits in the outbox.
//!
//! - [`reactor`]: the `notifications` reactor: queues messages in `notification_outbox` and
//!   provisions platform accounts in `credentials` (argon2id hashes only);
//! - [`seal`]: [`OutboxKey`], which seals the secrets a message carries (initial passwords,
//!   binding codes) so that the database never holds one in the clear;
//! - [`cleartext`]: sealing, at start, secrets that earlier versions stored in the clear;
//! - [`texts`]: the messages' Chinese texts and the links they carry;
//! - [`dispatcher`]: claims due messages, sends them, retries with exponential backoff, marks
//!   them SENT or FAILED, and takes over messages of a dispatcher that died;
//! - [`providers`]: the [`SmsProvider`] trait, [`LogProvider`] (default) and [`HttpProvider`];
//! - [`settings`]: [`SmsSettings`], where and how messages are sent;
//! - [`secret`]: [`SecretString`], the gateway token wrapped so it never prints.
//!
//! Tables (migration `0003_notifications.sql`): `notification_outbox`, `credentials`, the view
//! `notification_messages` (the outbox without the secret, phone masked: what analysts and the
//! API read), and the reactor's lookups `outbox_contacts`, `outbox_tenants`,
//! `outbox_wechat_accounts`.

pub mod cleartext;
pub mod dispatcher;
pub mod providers;
pub mod reactor;
pub mod seal;
pub mod secret;
pub mod settings;
pub mod texts;

pub use cleartext::{seal_cleartext_secrets, CleartextError};
pub use dispatcher::{DispatchReport, Dispatcher};
pub use providers::{Delivery, HttpProvider, LogProvider, OutgoingSms, SendError, SmsProvider};
pub use reactor::NotificationsReactor;
pub use seal::{KeyError, OpenError, OutboxKey, SealError, Stored, KEY_BYTES, SEALED_PREFIX};
pub use secret::SecretString;
pub use settings::{ProviderKind, SettingsError, SmsSettings};
pub use texts::{MessageSettings, Template, PASSWORD_PLACEHOLDER};
