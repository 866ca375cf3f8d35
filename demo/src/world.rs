//! What the demo loaded, as it knows it: ids and names to drive orders and refusals with. The
//! report reads the event store back rather than trusting this bookkeeping.

use dinghuo_commands::{Actor, RequestContext, Role};
use dinghuo_domain::pricing::PriceReason;
use dinghuo_domain::{
    Channel, ContactId, Money, PartnerId, PartnerMode, PriceListId, ProductId, TenantId,
};

use super::catalog::{Rules, Scope};

pub struct ListedProduct {
    pub id: ProductId,
    pub sku: &'static str,
    pub name: &'static str,
    pub unit: &'static str,
    pub category: Option<&'static str>,
    /// What one line may order; the default when the product has no rules.
    pub rules: Rules,
}

pub struct Customer {
    pub id: PartnerId,
    pub name: &'static str,
}

pub struct Partner {
    /// Also the id of the CRM customer it was made from.
    pub id: PartnerId,
    pub name: &'static str,
    pub mode: PartnerMode,
    /// Whether the ordering app was assigned to it.
    pub ordering: bool,
    pub suspended: bool,
    /// Its dealer level, if it has one.
    pub level: Option<&'static str>,
    /// The categories it may buy; `None`: every product.
    pub assortment: Option<&'static [&'static str]>,
}

impl Partner {
    /// As the domain decides it: an uncategorised product is in no restricted assortment.
    pub fn may_buy(&self, product: &ListedProduct) -> bool {
        match self.assortment {
            None => true,
            Some(categories) => product
                .category
                .is_some_and(|category| categories.contains(&category)),
        }
    }
}

/// A price list as the demo set it up.
pub struct PriceList {
    pub id: PriceListId,
    pub name: &'static str,
    pub priority: u32,
    pub scope: Scope,
    pub archived: bool,
    pub prices: Vec<ListPrice>,
}

impl PriceList {
    /// Whether it prices for `partner` (index into `World::partners`).
    fn covers(&self, partners: &[Partner], partner: usize) -> bool {
        match self.scope {
            Scope::All => true,
            Scope::Level(level) => partners[partner].level == Some(level),
            Scope::Partner(only) => only == partner,
        }
    }
}

/// One price of a list: a product (index into `World::products`) from a break up.
pub struct ListPrice {
    pub product: usize,
    pub min_quantity: u32,
    pub unit_price: Money,
}

/// A their-side partner contact: a member of a dealer's staff.
pub struct TheirContact {
    pub id: ContactId,
    pub name: &'static str,
    /// The recorded mobile number, 11 digits.
    pub phone: String,
    /// Index into `World::partners`.
    pub partner: usize,
    /// Where it verified its identity; `None`: invited but not bound yet.
    pub channel: Option<Channel>,
    /// Denied `CREATE_SALES_ORDER` for the ordering app.
    pub restricted: bool,
}

/// An our-side partner contact: an employee of the tenant looking after some dealers.
pub struct Employee {
    pub id: ContactId,
    pub name: &'static str,
    /// Indices into `World::partners`.
    pub partners: Vec<usize>,
}

/// The loaded tenant, as the demo knows it (the report reads the event store back).
pub struct World {
    pub tenant: TenantId,
    pub operator: Actor,
    pub admin: Actor,
    pub wechat_app_id: String,
    pub products: Vec<ListedProduct>,
    pub customers: Vec<Customer>,
    pub partners: Vec<Partner>,
    pub contacts: Vec<TheirContact>,
    pub employees: Vec<Employee>,
    /// In the order they were created (the newer wins a tie of priority).
    pub price_lists: Vec<PriceList>,
}

impl World {
    /// A fresh request of the admin (each command is its own request, as from a real client).
    pub fn admin_ctx(&self) -> RequestContext {
        RequestContext::new(self.admin)
    }

    pub fn contact_ctx(&self, contact: &TheirContact) -> RequestContext {
        contact_ctx(contact.id, self.tenant)
    }

    pub fn employee_ctx(&self, employee: &Employee) -> RequestContext {
        RequestContext::new(Actor::in_tenant(
            employee.id.as_uuid(),
            Role::Employee,
            self.tenant,
        ))
    }

    /// Contacts that may order: bound, not restricted, of an active partner with ordering.
    pub fn orderers(&self) -> Vec<usize> {
        (0..self.contacts.len())
            .filter(|&i| {
                let contact = &self.contacts[i];
                let partner = &self.partners[contact.partner];
                contact.channel.is_some()
                    && !contact.restricted
                    && partner.ordering
                    && !partner.suspended
            })
            .collect()
    }

    /// The first bound contact of a partner.
    pub fn bound_contact_of(&self, partner: usize) -> Option<&TheirContact> {
        self.contacts
            .iter()
            .find(|c| c.partner == partner && c.channel.is_some())
    }

    pub fn unbound_contacts(&self) -> impl Iterator<Item = &TheirContact> {
        self.contacts.iter().filter(|c| c.channel.is_none())
    }

    pub fn restricted_contact(&self) -> Option<&TheirContact> {
        self.contacts.iter().find(|c| c.restricted)
    }

    /// The first contact of `partner` that may order, as an index into `contacts`.
    pub fn orderer_of(&self, partner: usize) -> Option<usize> {
        self.orderers()
            .into_iter()
            .find(|&i| self.contacts[i].partner == partner)
    }

    pub fn product_by_sku(&self, sku: &str) -> Option<usize> {
        self.products.iter().position(|p| p.sku == sku)
    }

    /// The price DESIGN §4's rule gives `quantity` units of `product` for `partner`, worked out
    /// from the demo's own bookkeeping rather than by the pricing function it checks: among the
    /// lists that apply (not archived, scoped to the partner; every list the demo keeps is valid
    /// while it runs) with a price at or below the quantity, the highest priority, ties to the
    /// newer list, and within it the largest break. `None`: the catalog price.
    pub fn expected_price(
        &self,
        partner: usize,
        product: usize,
        quantity: u32,
    ) -> Option<(&PriceList, &ListPrice)> {
        self.price_lists
            .iter()
            .enumerate()
            .filter(|(_, list)| !list.archived && list.covers(&self.partners, partner))
            .filter_map(|(created, list)| {
                list.prices
                    .iter()
                    .filter(|price| price.product == product && price.min_quantity <= quantity)
                    .max_by_key(|price| price.min_quantity)
                    .map(|price| (created, list, price))
            })
            .max_by_key(|(created, list, _)| (list.priority, *created))
            .map(|(_, list, price)| (list, price))
    }

    /// Whether `unit_price` and `reason`, as the pricing function gave them, are what
    /// [`Self::expected_price`] says; else what differs.
    pub fn check_price(
        &self,
        partner: usize,
        product_id: ProductId,
        quantity: u32,
        unit_price: Money,
        reason: &PriceReason,
    ) -> Result<(), String> {
        let product = self
            .products
            .iter()
            .position(|p| p.id == product_id)
            .ok_or_else(|| format!("product {product_id} is none the demo listed"))?;
        let expected = self.expected_price(partner, product, quantity);
        let as_expected = match (expected, reason) {
            (None, PriceReason::Catalog) => true,
            (
                Some((list, price)),
                PriceReason::PriceList {
                    price_list_id,
                    min_quantity,
                    ..
                },
            ) => {
                *price_list_id == list.id
                    && min_quantity.get() == price.min_quantity
                    && unit_price == price.unit_price
            }
            _ => false,
        };
        if as_expected {
            return Ok(());
        }
        let rule = match expected {
            None => "CATALOG".to_owned(),
            Some((list, price)) => format!(
                "{} from {} at {}",
                list.name,
                price.min_quantity,
                price.unit_price.to_decimal_string()
            ),
        };
        Err(format!(
            "{quantity} × {} for {} was priced {} by {}; the rule says {rule}",
            self.products[product].sku,
            self.partners[partner].name,
            unit_price.to_decimal_string(),
            reason_text(reason)
        ))
    }
}

/// "CATALOG", or "PRICE_LIST A级经销商价 from 50".
pub fn reason_text(reason: &PriceReason) -> String {
    match reason {
        PriceReason::Catalog => "CATALOG".into(),
        PriceReason::PriceList {
            name, min_quantity, ..
        } => format!("PRICE_LIST {} from {}", name.as_str(), min_quantity.get()),
    }
}

pub fn contact_ctx(id: ContactId, tenant: TenantId) -> RequestContext {
    RequestContext::new(Actor::in_tenant(id.as_uuid(), Role::Contact, tenant))
}
