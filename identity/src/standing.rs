//! Whether a contact's token still stands, and whether the contact may read orders.
//!
//! A contact's token proves that the contact bound its identity, in the binding epoch the token
//! names ([`Claims::binding_epoch`](crate::claims::Claims::binding_epoch); a token without one counts as
//! epoch 0). Expiry aside, it stands while committed state says:
//! - the contact is recorded in the token's tenant;
//! - it is bound and linked to a partner on their side;
//! - its bindings were not cleared since the token was issued: the same binding epoch. A contact
//!   removed from its partner and added again, or whose phone changed, signs in again, even
//!   once bound again: the old token proved a binding that was undone.
//!
//! The same state answers whether the contact may read orders (`VIEW_ORDERS`): the tenant's
//! default permissions for the ordering app minus the contact's denials
//! (`Contact::check_permission`), the rule the `contacts` read model projects into
//! `effectivePermissions`.
//!
//! Committed state is the contact's and its tenant's events, loaded through the command layer's
//! [`Lookup`], never the read models, which lag behind the log. Each answer is kept for at most
//! [`STANDING_TTL`], for at most [`STANDING_ENTRIES`] contacts (the least recently used leave
//! first). A kept answer may admit a token, or refuse one of an epoch already over; any other
//! refusal is confirmed from committed state ([`Standings::admitting`]). The server forgets a contact's answer as soon as one of its own requests writes the
//! contact or its tenant ([`Standings::forget_written`]); a write made through another process
//! takes effect here within the TTL.

use std::num::NonZeroUsize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use dinghuo_commands::Written;
use dinghuo_domain::contact::Contact;
use dinghuo_domain::tenant::Tenant;
use dinghuo_domain::{App, ContactId, DomainError, Lookup, Permission, TenantId};
use dinghuo_store::StreamHead;
use lru::LruCache;
use uuid::Uuid;

/// The longest an answer is reused: how long a token may outlive its standing when the change
/// was written through another process.
pub const STANDING_TTL: Duration = Duration::from_secs(2);

/// The most contacts whose answers are kept at once.
pub const STANDING_ENTRIES: usize = 10_000;

/// What committed state says about a contact, as far as its token is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Standing {
    /// Its tenant; `None` when no such contact was ever recorded.
    tenant: Option<TenantId>,
    binding_epoch: u64,
    bound: bool,
    /// Linked to a partner on their side (the partner it orders for).
    linked: bool,
    may_view_orders: bool,
}

impl Standing {
    /// The standing of `contact`, whose tenant is `tenant` (`None` for an unrecorded contact).
    pub fn of(contact: &Contact, tenant: Option<&Tenant>) -> Self {
        Self {
            tenant: contact.tenant_id(),
            binding_epoch: contact.binding_epoch(),
            bound: contact.is_bound(),
            linked: contact.their_side_partner().is_some(),
            may_view_orders: tenant.is_some_and(|tenant| {
                contact
                    .check_permission(tenant, App::Ordering, Permission::ViewOrders)
                    .is_ok()
            }),
        }
    }

    /// Whether a token of `tenant`, issued in binding epoch `token_epoch`, still stands.
    pub fn admits(&self, tenant: TenantId, token_epoch: Option<u64>) -> bool {
        self.tenant == Some(tenant)
            && self.bound
            && self.linked
            && self.binding_epoch == token_epoch.unwrap_or(0)
    }

    /// Whether the contact may read orders (`VIEW_ORDERS`).
    pub fn may_view_orders(&self) -> bool {
        self.may_view_orders
    }
}

/// Contacts' standings, loaded from committed state and kept for a short while.
pub struct Standings {
    entries: Mutex<LruCache<Uuid, Entry>>,
    ttl: Duration,
    /// Counts the forgetting. A load that a forgetting overtook is answered but not kept: it
    /// may have read the state from before the write that caused the forgetting.
    forgotten: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    /// When the load that answered it began.
    loaded_at: Instant,
    standing: Standing,
}

impl Default for Standings {
    fn default() -> Self {
        Self::new(STANDING_TTL, STANDING_ENTRIES)
    }
}

impl std::fmt::Debug for Standings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Standings")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl Standings {
    /// Answers kept for `ttl` (zero: never kept), for at most `entries` contacts (at least 1).
    pub fn new(ttl: Duration, entries: usize) -> Self {
        Self {
            entries: Mutex::new(LruCache::new(
                NonZeroUsize::new(entries).unwrap_or(NonZeroUsize::MIN),
            )),
            ttl,
            forgotten: AtomicU64::new(0),
        }
    }

    /// The standing of `contact` from committed state, or as loaded less than the TTL ago.
    pub async fn of(
        &self,
        lookup: &dyn Lookup,
        contact: ContactId,
    ) -> Result<Standing, DomainError> {
        let started = Instant::now();
        if let Some(standing) = self.kept(contact.as_uuid(), started) {
            return Ok(standing);
        }
        self.load(lookup, contact, started).await
    }

    /// The standing of `contact` if a token of `tenant` issued in binding epoch `token_epoch`
    /// still stands; `None` if it does not. A kept answer may admit a token, and refuse one of
    /// an epoch already over (epochs only grow), but any other refusal is confirmed from
    /// committed state, so that a contact that has just signed in again (through another
    /// process, say) is not refused on an answer from before.
    pub async fn admitting(
        &self,
        lookup: &dyn Lookup,
        contact: ContactId,
        tenant: TenantId,
        token_epoch: Option<u64>,
    ) -> Result<Option<Standing>, DomainError> {
        let started = Instant::now();
        if let Some(kept) = self.kept(contact.as_uuid(), started) {
            if kept.admits(tenant, token_epoch) {
                return Ok(Some(kept));
            }
            // Epochs only grow: a token of an epoch already over never stands again.
            if kept.binding_epoch > token_epoch.unwrap_or(0) {
                return Ok(None);
            }
        }
        let standing = self.load(lookup, contact, started).await?;
        Ok(standing.admits(tenant, token_epoch).then_some(standing))
    }

    /// Loads the standing from committed state and keeps it (unless a forgetting overtook the
    /// load): `started` is when the caller began asking.
    async fn load(
        &self,
        lookup: &dyn Lookup,
        contact: ContactId,
        started: Instant,
    ) -> Result<Standing, DomainError> {
        let forgotten = self.forgotten.load(Ordering::Acquire);
        let loaded = lookup.contact(contact).await?;
        let tenant = match loaded.tenant_id() {
            Some(tenant) => Some(lookup.tenant(tenant).await?),
            None => None,
        };
        let standing = Standing::of(&loaded, tenant.as_ref());
        self.keep(contact.as_uuid(), standing, started, forgotten);
        Ok(standing)
    }

    /// Forgets what this server's requests wrote: the contacts whose streams `written` names,
    /// and every contact of a tenant it names (default permissions may have changed).
    pub fn forget_written(&self, written: &Written) {
        self.forget_streams(written.heads());
    }

    /// Forgets the contacts of these streams (a contact's, or a tenant's: all its contacts).
    pub fn forget_streams(&self, streams: impl IntoIterator<Item = StreamHead>) {
        for head in streams {
            let Ok(id) = Uuid::parse_str(&head.aggregate_id) else {
                continue;
            };
            match head.aggregate_type.as_str() {
                "Contact" => self.forget(|contact, _| contact == id),
                "Tenant" => {
                    let tenant = TenantId::from_uuid(id);
                    self.forget(|_, standing| standing.tenant == Some(tenant));
                }
                _ => {}
            }
        }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, LruCache<Uuid, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn kept(&self, contact: Uuid, now: Instant) -> Option<Standing> {
        let mut entries = self.entries();
        let entry = *entries.get(&contact)?;
        if now.saturating_duration_since(entry.loaded_at) < self.ttl {
            Some(entry.standing)
        } else {
            entries.pop(&contact);
            None
        }
    }

    fn keep(&self, contact: Uuid, standing: Standing, loaded_at: Instant, forgotten: u64) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries();
        // Checked under the lock that forgetting takes too: no forgetting slips in between.
        if self.forgotten.load(Ordering::Acquire) == forgotten {
            entries.put(
                contact,
                Entry {
                    loaded_at,
                    standing,
                },
            );
        }
    }

    fn forget(&self, matches: impl Fn(Uuid, &Standing) -> bool) {
        let mut entries = self.entries();
        self.forgotten.fetch_add(1, Ordering::AcqRel);
        let gone: Vec<Uuid> = entries
            .iter()
            .filter(|(contact, entry)| matches(**contact, &entry.standing))
            .map(|(contact, _)| *contact)
            .collect();
        for contact in gone {
            entries.pop(&contact);
        }
    }

    /// How many contacts' answers are kept now.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;
    use std::sync::atomic::AtomicUsize;

    use async_trait::async_trait;
    use dinghuo_domain::contact::{Affiliation, ContactEvent};
    use dinghuo_domain::partner::Partner;
    use dinghuo_domain::product::Product;
    use dinghuo_domain::tenant::TenantEvent;
    use dinghuo_domain::testing::InMemoryLookup;
    use dinghuo_domain::{Channel, Name, PartnerId, PartnerMode, Phone, ProductId, Side};

    use super::*;

    /// The in-memory world, counting the contacts loaded from it.
    struct Counting {
        world: InMemoryLookup,
        loads: AtomicUsize,
    }

    #[async_trait]
    impl Lookup for Counting {
        async fn tenant(&self, id: TenantId) -> Result<Tenant, DomainError> {
            Lookup::tenant(&self.world, id).await
        }
        async fn partner(&self, id: PartnerId) -> Result<Partner, DomainError> {
            Lookup::partner(&self.world, id).await
        }
        async fn contact(&self, id: ContactId) -> Result<Contact, DomainError> {
            self.loads.fetch_add(1, Ordering::SeqCst);
            Lookup::contact(&self.world, id).await
        }
        async fn product(&self, id: ProductId) -> Result<Product, DomainError> {
            Lookup::product(&self.world, id).await
        }
        async fn price_list(
            &self,
            id: dinghuo_domain::PriceListId,
        ) -> Result<dinghuo_domain::price_list::PriceList, DomainError> {
            Lookup::price_list(&self.world, id).await
        }
        async fn list_prices(
            &self,
            id: ProductId,
        ) -> Result<dinghuo_domain::price_list::ListPrices, DomainError> {
            Lookup::list_prices(&self.world, id).await
        }
    }

    fn name(text: &str) -> Name {
        Name::parse(text).expect("a name")
    }

    const PHONE: &str = "13800138000";

    /// A tenant with the given default ordering permissions (`None`: never set, so all).
    fn tenant_events(defaults: Option<&[Permission]>) -> Vec<TenantEvent> {
        let mut events = vec![TenantEvent::TenantRegistered { name: name("Acme") }];
        if let Some(defaults) = defaults {
            events.push(TenantEvent::FunctionPermissionsSet {
                app: App::Ordering,
                permissions: defaults.iter().copied().collect(),
            });
        }
        events
    }

    /// A their-side contact of `partner`, bound.
    fn bound(tenant: TenantId, partner: PartnerId) -> Vec<ContactEvent> {
        vec![
            ContactEvent::ContactRecorded {
                tenant_id: tenant,
                name: name("Li Lei"),
                phone: Some(Phone::parse(PHONE).expect("a phone")),
                affiliation: Affiliation::Customer {
                    customer_id: partner,
                },
            },
            ContactEvent::PartnerContactAdded {
                partner_id: partner,
                side: Side::Theirs,
                mode: PartnerMode::Tenantless,
            },
            ContactEvent::ContactBound {
                channel: Channel::MiniProgram,
                wechat_open_id: None,
            },
        ]
    }

    struct Case {
        tenant: TenantId,
        partner: PartnerId,
        contact: ContactId,
    }

    fn case() -> Case {
        Case {
            tenant: TenantId::from_uuid(Uuid::now_v7()),
            partner: PartnerId::from_uuid(Uuid::now_v7()),
            contact: ContactId::from_uuid(Uuid::now_v7()),
        }
    }

    fn counting(world: InMemoryLookup) -> Counting {
        Counting {
            world,
            loads: AtomicUsize::new(0),
        }
    }

    async fn standing_after(
        case: &Case,
        defaults: Option<&[Permission]>,
        events: Vec<ContactEvent>,
    ) -> Standing {
        let world = InMemoryLookup::new()
            .tenant(case.tenant, tenant_events(defaults))
            .contact(case.contact, events);
        Standings::default()
            .of(&counting(world), case.contact)
            .await
            .expect("a standing")
    }

    #[tokio::test]
    async fn a_bound_contact_stands_in_its_own_tenant_and_epoch_only() {
        let case = case();
        let standing = standing_after(&case, None, bound(case.tenant, case.partner)).await;
        assert!(standing.admits(case.tenant, None));
        assert!(standing.admits(case.tenant, Some(0)));
        assert!(!standing.admits(case.tenant, Some(1)));
        assert!(!standing.admits(TenantId::from_uuid(Uuid::now_v7()), None));
        assert!(standing.may_view_orders());
    }

    #[tokio::test]
    async fn a_contact_removed_and_added_again_stands_only_with_a_token_of_the_new_epoch() {
        let case = case();
        let mut events = bound(case.tenant, case.partner);
        events.push(ContactEvent::PartnerContactRemoved {
            partner_id: case.partner,
        });
        let removed = standing_after(&case, None, events.clone()).await;
        assert!(!removed.admits(case.tenant, None));
        assert!(
            !removed.admits(case.tenant, Some(1)),
            "unbound and unlinked"
        );
        events.extend(bound(case.tenant, case.partner).into_iter().skip(1));
        let rebound = standing_after(&case, None, events).await;
        assert!(!rebound.admits(case.tenant, None), "the old token");
        assert!(
            rebound.admits(case.tenant, Some(1)),
            "a token of the new binding"
        );
    }

    #[tokio::test]
    async fn a_contact_that_was_never_recorded_or_never_bound_does_not_stand() {
        let case = case();
        let never = standing_after(&case, None, Vec::new()).await;
        assert!(!never.admits(case.tenant, None));
        assert!(!never.may_view_orders());
        let mut unbound = bound(case.tenant, case.partner);
        unbound.pop();
        let unbound = standing_after(&case, None, unbound).await;
        assert!(!unbound.admits(case.tenant, None));
    }

    #[tokio::test]
    async fn view_orders_is_the_tenants_default_minus_the_contacts_denials() {
        let case = case();
        let events = bound(case.tenant, case.partner);
        let all = [Permission::CreateSalesOrder, Permission::ViewOrders];
        let without: &[Permission] = &[Permission::CreateSalesOrder];
        assert!(standing_after(&case, Some(&all), events.clone())
            .await
            .may_view_orders());
        assert!(!standing_after(&case, Some(without), events.clone())
            .await
            .may_view_orders());
        assert!(!standing_after(&case, Some(&[]), events.clone())
            .await
            .may_view_orders());
        let mut denied = events;
        denied.push(ContactEvent::ContactPermissionsRestricted {
            app: App::Ordering,
            denied: BTreeSet::from([Permission::ViewOrders]),
        });
        let standing = standing_after(&case, None, denied).await;
        assert!(!standing.may_view_orders());
        assert!(
            standing.admits(case.tenant, None),
            "denied reading, still signed in"
        );
    }

    #[tokio::test]
    async fn an_answer_is_kept_for_the_ttl_and_no_longer() {
        let case = case();
        let world = InMemoryLookup::new()
            .tenant(case.tenant, tenant_events(None))
            .contact(case.contact, bound(case.tenant, case.partner));
        let lookup = counting(world);
        let standings = Standings::new(Duration::from_millis(200), 10);
        for _ in 0..5 {
            standings
                .of(&lookup, case.contact)
                .await
                .expect("a standing");
        }
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(250)).await;
        standings
            .of(&lookup, case.contact)
            .await
            .expect("a standing");
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 2);
        // A zero TTL keeps nothing.
        let never = Standings::new(Duration::ZERO, 10);
        never.of(&lookup, case.contact).await.expect("a standing");
        never.of(&lookup, case.contact).await.expect("a standing");
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 4);
        assert!(never.is_empty());
    }

    #[tokio::test]
    async fn at_most_the_bound_of_contacts_is_kept_the_least_recently_used_leaving_first() {
        let standings = Standings::new(Duration::from_secs(60), 3);
        let lookup = counting(InMemoryLookup::new());
        let contacts: Vec<ContactId> = (0..10)
            .map(|_| ContactId::from_uuid(Uuid::now_v7()))
            .collect();
        for contact in &contacts {
            standings.of(&lookup, *contact).await.expect("a standing");
        }
        assert_eq!(standings.len(), 3);
        // The last three are kept: asking again loads nothing.
        for contact in &contacts[7..] {
            standings.of(&lookup, *contact).await.expect("a standing");
        }
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 10);
        standings
            .of(&lookup, contacts[0])
            .await
            .expect("a standing");
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 11);
    }

    #[tokio::test]
    async fn a_write_of_the_contact_or_its_tenant_forgets_its_answer() {
        let (case, other) = (case(), case());
        let world = InMemoryLookup::new()
            .tenant(case.tenant, tenant_events(None))
            .contact(case.contact, bound(case.tenant, case.partner))
            .tenant(other.tenant, tenant_events(None))
            .contact(other.contact, bound(other.tenant, other.partner));
        let lookup = counting(world.clone());
        let standings = Standings::default();
        standings
            .of(&lookup, case.contact)
            .await
            .expect("a standing");
        standings
            .of(&lookup, other.contact)
            .await
            .expect("a standing");
        assert_eq!(standings.len(), 2);

        // The contact is removed from its partner by a request of this server.
        let _ = world.clone().contact(
            case.contact,
            [ContactEvent::PartnerContactRemoved {
                partner_id: case.partner,
            }],
        );
        standings.forget_streams([written_to("Contact", case.contact.as_uuid())]);
        assert_eq!(standings.len(), 1, "only that contact is forgotten");
        let now = standings
            .of(&lookup, case.contact)
            .await
            .expect("a standing");
        assert!(!now.admits(case.tenant, None));

        // The other tenant's defaults change: its contacts are forgotten.
        standings.forget_streams([written_to("Tenant", other.tenant.as_uuid())]);
        assert_eq!(standings.len(), 1);
        standings
            .of(&lookup, other.contact)
            .await
            .expect("a standing");
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 4);
    }

    #[tokio::test]
    async fn a_kept_answer_admits_but_a_refusal_is_confirmed_from_committed_state() {
        let case = case();
        let world = InMemoryLookup::new()
            .tenant(case.tenant, tenant_events(None))
            .contact(case.contact, bound(case.tenant, case.partner));
        let lookup = counting(world.clone());
        let standings = Standings::new(Duration::from_secs(60), 10);
        for _ in 0..2 {
            let admitted = standings
                .admitting(&lookup, case.contact, case.tenant, None)
                .await
                .expect("a standing");
            assert!(admitted.is_some());
        }
        assert_eq!(
            lookup.loads.load(Ordering::SeqCst),
            1,
            "admitted from the kept answer"
        );

        // Removed, added again and bound again, written elsewhere: the kept answer (epoch 0)
        // does not admit a token of epoch 1, so the state is read again, and admits it.
        let _ = world.contact(
            case.contact,
            [
                ContactEvent::PartnerContactRemoved {
                    partner_id: case.partner,
                },
                ContactEvent::PartnerContactAdded {
                    partner_id: case.partner,
                    side: Side::Theirs,
                    mode: PartnerMode::Tenantless,
                },
                ContactEvent::ContactBound {
                    channel: Channel::WebQr,
                    wechat_open_id: None,
                },
            ],
        );
        let fresh = standings
            .admitting(&lookup, case.contact, case.tenant, Some(1))
            .await
            .expect("a standing");
        assert!(fresh.is_some(), "the token of the new binding");
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 2);
        // The old token's epoch is over: refused from the kept answer, without a load.
        for _ in 0..2 {
            let old = standings
                .admitting(&lookup, case.contact, case.tenant, None)
                .await
                .expect("a standing");
            assert!(old.is_none());
        }
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_kept_refusal_of_the_current_epoch_is_confirmed_before_it_refuses() {
        // Unbound in epoch 0 (recorded and added, never bound), then bound elsewhere: a token
        // of epoch 0 issued after that binding is admitted at once.
        let case = case();
        let mut events = bound(case.tenant, case.partner);
        let binding = events.pop().expect("the binding");
        let world = InMemoryLookup::new()
            .tenant(case.tenant, tenant_events(None))
            .contact(case.contact, events);
        let lookup = counting(world.clone());
        let standings = Standings::new(Duration::from_secs(60), 10);
        let refused = standings
            .admitting(&lookup, case.contact, case.tenant, Some(0))
            .await
            .expect("a standing");
        assert!(refused.is_none());
        let _ = world.contact(case.contact, [binding]);
        let admitted = standings
            .admitting(&lookup, case.contact, case.tenant, Some(0))
            .await
            .expect("a standing");
        assert!(admitted.is_some());
        assert_eq!(lookup.loads.load(Ordering::SeqCst), 2);
    }

    /// What a request that appended to `aggregate_type`/`id` leaves in its `Written`.
    fn written_to(aggregate_type: &str, id: Uuid) -> StreamHead {
        StreamHead {
            aggregate_type: aggregate_type.to_owned(),
            aggregate_id: id.to_string(),
            sequence: 1,
        }
    }
}
