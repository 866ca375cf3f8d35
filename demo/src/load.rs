//! Onboarding, in the order the product document tells it: the operator registers the tenant and
//! sells it interconnect and the ordering app; the admin enables the app, connects the WeChat
//! official account and its menu, lists the catalog, maintains CRM customers and contacts, turns
//! customers into partner enterprises and people into partner contacts; contacts bind.

use std::collections::HashSet;

use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    BindWechatAccountInput, Commands, CreateTenantAdminInput, EnableInterconnectInput,
    InviteEmployeeInput, ListProductInput, MenuButtonInput, MoneyInput, PartnerRefInput,
    PublishWechatMenuInput, PurchaseAppInput, RecordContactInput, RecordCustomerInput,
    RegisterTenantInput, RequestContext, RestrictContactPermissionsInput, Role,
    SetFunctionPermissionsInput,
};
use dinghuo_domain::{Channel, ContactId, PartnerId, PartnerMode, Side, TenantId};
use indicatif::ProgressBar;
use rand::distributions::Alphanumeric;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use uuid::Uuid;

use super::catalog::{self, DEALERS, PEOPLE, PRODUCTS};
use super::world::{contact_ctx, Customer, Employee, ListedProduct, Partner, TheirContact, World};
use super::{DemoError, Step};

const ORDERING: &str = "ORDERING";
/// Dealer staff invited as their-side contacts: three at the two biggest dealers, two elsewhere.
const fn staff_of(partner: usize) -> usize {
    if partner < 2 {
        3
    } else {
        2
    }
}
const THEIR_SIDE_CONTACTS: usize = {
    let mut total = 0;
    let mut partner = 0;
    while partner < catalog::PARTNERS {
        total += staff_of(partner);
        partner += 1;
    }
    total
};
// Every invited person has a sample name.
const _: () = assert!(PEOPLE.len() == THEIR_SIDE_CONTACTS + catalog::EMPLOYEES);
/// Progress-bar steps of the loading (orders come on top).
pub const STEPS: u64 = (8
    + PRODUCTS.len()
    + DEALERS.len()
    + catalog::PARTNERS
    + THEIR_SIDE_CONTACTS
    + catalog::EMPLOYEES
    + 1) as u64;

/// Loads the whole tenant; one progress step per record.
pub async fn tenant(
    commands: &Commands,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<World, DemoError> {
    progress.set_message("registering the tenant");
    let operator = Actor::operator(Uuid::now_v7());
    let tenant = register_tenant(commands, operator, catalog::TENANT_NAME, true).await?;
    progress.inc(3);

    progress.set_message("creating the admin");
    let admin = create_admin(commands, operator, tenant).await?;
    progress.inc(1);

    progress.set_message("configuring ordering");
    let mut world = World {
        tenant,
        operator,
        admin,
        wechat_app_id: wechat_app_id(rng),
        products: Vec::new(),
        customers: Vec::new(),
        partners: Vec::new(),
        contacts: Vec::new(),
        employees: Vec::new(),
        price_lists: Vec::new(),
    };
    configure_ordering(commands, &world).await?;
    progress.inc(4);

    progress.set_message("listing products");
    list_products(commands, &mut world, progress).await?;
    progress.set_message("recording customers");
    record_customers(commands, &mut world, progress).await?;
    progress.set_message("adding partners");
    add_partners(commands, &mut world, progress).await?;

    let mut phones = Phones::default();
    progress.set_message("adding dealer contacts");
    add_their_side_contacts(commands, &mut world, &mut phones, rng, progress).await?;
    progress.set_message("adding employees");
    add_employees(commands, &mut world, &mut phones, rng, progress).await?;
    progress.set_message("restricting a contact");
    restrict_one_contact(commands, &mut world).await?;
    progress.inc(1);
    Ok(world)
}

/// The operator makes the tenant's admin a person who signs in with its phone; the admin acts
/// as its membership.
async fn create_admin(
    commands: &Commands,
    operator: Actor,
    tenant: TenantId,
) -> Result<Actor, DemoError> {
    let admin = commands
        .create_tenant_admin(
            &RequestContext::new(operator),
            CreateTenantAdminInput {
                tenant_id: tenant.to_string(),
                name: catalog::ADMIN_NAME.to_owned(),
                phone: catalog::ADMIN_PHONE.to_owned(),
            },
        )
        .await
        .step(|| "creating the tenant's admin".to_owned())?;
    Ok(Actor::in_tenant(admin.id.as_uuid(), Role::Admin, tenant))
}

/// The operator registers a tenant and sells it the ordering app; `interconnect` also switches
/// on basic interconnect (making it an upstream).
pub async fn register_tenant(
    commands: &Commands,
    operator: Actor,
    name: &str,
    interconnect: bool,
) -> Result<TenantId, DemoError> {
    let op = || RequestContext::new(operator);
    let tenant = commands
        .register_tenant(
            &op(),
            RegisterTenantInput {
                name: name.to_owned(),
            },
        )
        .await
        .step(|| format!("registering tenant {name}"))?;
    if interconnect {
        commands
            .enable_interconnect(
                &op(),
                EnableInterconnectInput {
                    tenant_id: Some(tenant.to_string()),
                },
            )
            .await
            .step(|| format!("enabling interconnect for {name}"))?;
    }
    commands
        .purchase_app(
            &op(),
            PurchaseAppInput {
                tenant_id: tenant.to_string(),
                app: ORDERING.into(),
            },
        )
        .await
        .step(|| format!("selling the ordering app to {name}"))?;
    Ok(tenant)
}

/// A WeChat app id: `wx` and 16 hex digits.
pub fn wechat_app_id(rng: &mut StdRng) -> String {
    format!("wx{:016x}", rng.gen::<u64>())
}

/// The admin enables ordering, connects the official account, puts ordering in its menu and sets
/// the default function permissions of dealer contacts.
async fn configure_ordering(commands: &Commands, world: &World) -> Result<(), DemoError> {
    commands
        .enable_app(
            &world.admin_ctx(),
            AppInput {
                app: ORDERING.into(),
            },
        )
        .await
        .step(|| "enabling the ordering app".into())?;
    commands
        .bind_wechat_account(
            &world.admin_ctx(),
            BindWechatAccountInput {
                app_id: world.wechat_app_id.clone(),
                name: catalog::WECHAT_ACCOUNT_NAME.into(),
            },
        )
        .await
        .step(|| "binding the WeChat official account".into())?;
    let (url_name, url) = catalog::WECHAT_URL_BUTTON;
    commands
        .publish_wechat_menu(
            &world.admin_ctx(),
            PublishWechatMenuInput {
                app_id: world.wechat_app_id.clone(),
                buttons: vec![
                    MenuButtonInput {
                        name: "在线订货".into(),
                        app: Some(ORDERING.into()),
                        url: None,
                    },
                    MenuButtonInput {
                        name: url_name.into(),
                        app: None,
                        url: Some(url.into()),
                    },
                ],
            },
        )
        .await
        .step(|| "publishing the WeChat menu".into())?;
    commands
        .set_function_permissions(
            &world.admin_ctx(),
            SetFunctionPermissionsInput {
                app: ORDERING.into(),
                permissions: vec![
                    "CREATE_SALES_ORDER".into(),
                    "CANCEL_ORDER".into(),
                    "VIEW_ORDERS".into(),
                ],
            },
        )
        .await
        .step(|| "setting the ordering app's function permissions".into())
}

async fn list_products(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for product in &PRODUCTS {
        let id = commands
            .list_product(
                &world.admin_ctx(),
                ListProductInput {
                    sku: product.sku.into(),
                    name: product.name.into(),
                    unit: product.unit.into(),
                    price: MoneyInput::cny(product.price),
                },
            )
            .await
            .step(|| format!("listing {} {}", product.sku, product.name))?;
        world.products.push(ListedProduct {
            id,
            sku: product.sku,
            name: product.name,
            unit: product.unit,
            category: None,
            rules: catalog::Rules::default(),
        });
        progress.inc(1);
    }
    Ok(())
}

async fn record_customers(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for dealer in &DEALERS {
        let id = commands
            .record_customer(
                &world.admin_ctx(),
                RecordCustomerInput {
                    name: dealer.name.into(),
                    phone: Some(dealer.phone.into()),
                    address: Some(dealer.address.into()),
                },
            )
            .await
            .step(|| format!("recording customer {}", dealer.name))?;
        world.customers.push(Customer {
            id,
            name: dealer.name,
        });
        progress.inc(1);
    }
    Ok(())
}

/// The first customers become partners: tenantless unless listed in `TENANT_MODE`, with the
/// ordering app assigned unless listed in `WITHOUT_ORDERING`.
async fn add_partners(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for index in 0..catalog::PARTNERS {
        let customer = &world.customers[index];
        let mode = if catalog::TENANT_MODE.contains(&index) {
            PartnerMode::Tenant
        } else {
            PartnerMode::Tenantless
        };
        commands
            .add_partner(
                &world.admin_ctx(),
                AddPartnerInput {
                    customer_id: customer.id.to_string(),
                    mode: Some(mode.as_str().into()),
                },
            )
            .await
            .step(|| format!("adding {} as a {mode} partner", customer.name))?;
        let ordering = !catalog::WITHOUT_ORDERING.contains(&index);
        if ordering {
            commands
                .assign_app(
                    &world.admin_ctx(),
                    AppAssignmentInput {
                        partner_id: customer.id.to_string(),
                        app: ORDERING.into(),
                    },
                )
                .await
                .step(|| format!("assigning ordering to {}", customer.name))?;
        }
        world.partners.push(Partner {
            id: customer.id,
            name: customer.name,
            mode,
            ordering,
            suspended: false,
            level: None,
            assortment: None,
        });
        progress.inc(1);
    }
    Ok(())
}

/// Every dealer's staff is invited; most bind at once (the SMS worked), the second contact of
/// every fourth dealer has not yet.
fn binds_at_once(partner: usize, nth: usize) -> bool {
    nth == 0 || partner % 4 != 3
}

async fn add_their_side_contacts(
    commands: &Commands,
    world: &mut World,
    phones: &mut Phones,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    let mut names = PEOPLE.iter();
    for partner in 0..world.partners.len() {
        for nth in 0..staff_of(partner) {
            let name = *names
                .next()
                .ok_or_else(|| DemoError::Inconsistent("not enough sample names".into()))?;
            let phone = phones.fresh(rng);
            let p = &world.partners[partner];
            let id = record_person(commands, world, name, Some(&phone), Some(p.id)).await?;
            commands
                .add_partner_contact(
                    &world.admin_ctx(),
                    AddPartnerContactInput {
                        contact_id: id.to_string(),
                        partner_id: p.id.to_string(),
                        side: Side::Theirs.as_str().into(),
                    },
                )
                .await
                .step(|| format!("adding {name} as their-side contact of {}", p.name))?;
            let channel = if binds_at_once(partner, nth) {
                let channel = pick_channel(p.mode, rng);
                bind(commands, world.tenant, id, &phone, channel, rng)
                    .await
                    .step(|| format!("{name} binding through {channel}"))?;
                Some(channel)
            } else {
                None
            };
            world.contacts.push(TheirContact {
                id,
                name,
                phone,
                partner,
                channel,
                restricted: false,
            });
            progress.inc(1);
        }
    }
    Ok(())
}

/// Tenantless dealers come through WeChat only; tenant-mode dealers mostly use the platform app.
fn pick_channel(mode: PartnerMode, rng: &mut StdRng) -> Channel {
    let choices: &[Channel] = match mode {
        PartnerMode::Tenantless => &[
            Channel::MiniProgram,
            Channel::MiniProgram,
            Channel::OfficialAccount,
            Channel::WebQr,
        ],
        PartnerMode::Tenant => &[Channel::App, Channel::App, Channel::MiniProgram],
    };
    choices.choose(rng).copied().unwrap_or(Channel::MiniProgram)
}

/// The contact verifies its identity, typing its number the way people do.
pub async fn bind(
    commands: &Commands,
    tenant: TenantId,
    contact: ContactId,
    phone: &str,
    channel: Channel,
    rng: &mut StdRng,
) -> Result<(), dinghuo_commands::CommandError> {
    let typed = match rng.gen_range(0..3) {
        0 => phone.to_owned(),
        1 => format!("+86 {phone}"),
        _ => format!("{} {} {}", &phone[..3], &phone[3..7], &phone[7..]),
    };
    let wechat_open_id = match channel {
        Channel::App => None,
        _ => Some(open_id(rng)),
    };
    commands
        .bind_contact(
            &contact_ctx(contact, tenant),
            BindContactInput {
                contact_id: contact.to_string(),
                phone: typed,
                channel: channel.as_str().into(),
                wechat_open_id,
            },
        )
        .await
}

/// A WeChat open id: `o` and 27 more characters.
fn open_id(rng: &mut StdRng) -> String {
    let tail: String = (0..27)
        .map(|_| char::from(rng.sample(Alphanumeric)))
        .collect();
    format!("o{tail}")
}

/// Records a CRM contact of `customer`, or an employee when `customer` is `None`.
pub async fn record_person(
    commands: &Commands,
    world: &World,
    name: &str,
    phone: Option<&str>,
    customer: Option<PartnerId>,
) -> Result<ContactId, DemoError> {
    commands
        .record_contact(
            &world.admin_ctx(),
            RecordContactInput {
                name: name.to_owned(),
                phone: phone.map(str::to_owned),
                customer_id: customer.map(|id| id.to_string()),
                employee: customer.is_none(),
            },
        )
        .await
        .step(|| format!("recording contact {name}"))
}

/// Each employee looks after two dealers (round robin), as an our-side partner contact.
async fn add_employees(
    commands: &Commands,
    world: &mut World,
    phones: &mut Phones,
    rng: &mut StdRng,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    let names = &PEOPLE[THEIR_SIDE_CONTACTS..THEIR_SIDE_CONTACTS + catalog::EMPLOYEES];
    let partners = world.partners.len();
    for (e, &name) in names.iter().enumerate() {
        let phone = phones.fresh(rng);
        let id = record_person(commands, world, name, Some(&phone), None).await?;
        let looked_after = vec![(2 * e) % partners, (2 * e + 1) % partners];
        for &partner in &looked_after {
            let p = &world.partners[partner];
            commands
                .add_partner_contact(
                    &world.admin_ctx(),
                    AddPartnerContactInput {
                        contact_id: id.to_string(),
                        partner_id: p.id.to_string(),
                        side: Side::Ours.as_str().into(),
                    },
                )
                .await
                .step(|| format!("linking employee {name} to {}", p.name))?;
        }
        // Every employee but the last may sign in as itself (the last is recorded only).
        if e + 1 < names.len() {
            commands
                .invite_employee(
                    &world.admin_ctx(),
                    InviteEmployeeInput {
                        contact_id: id.to_string(),
                    },
                )
                .await
                .step(|| format!("inviting employee {name} to sign in"))?;
        }
        world.employees.push(Employee {
            id,
            name,
            partners: looked_after,
        });
        progress.inc(1);
    }
    Ok(())
}

/// Seed note 2: the last contact of the first dealer (an intern) may look but not order.
async fn restrict_one_contact(commands: &Commands, world: &mut World) -> Result<(), DemoError> {
    let index = world
        .contacts
        .iter()
        .rposition(|c| c.partner == 0 && c.channel.is_some())
        .ok_or_else(|| DemoError::Inconsistent("the first dealer has no bound contact".into()))?;
    let contact = &world.contacts[index];
    commands
        .restrict_contact_permissions(
            &world.admin_ctx(),
            RestrictContactPermissionsInput {
                contact_id: contact.id.to_string(),
                app: ORDERING.into(),
                denied: vec!["CREATE_SALES_ORDER".into()],
            },
        )
        .await
        .step(|| format!("denying {} CREATE_SALES_ORDER", contact.name))?;
    world.contacts[index].restricted = true;
    Ok(())
}

/// The admin suspends one dealer that has been ordering.
pub async fn suspend_partner(commands: &Commands, world: &mut World) -> Result<(), DemoError> {
    let partner = &world.partners[catalog::SUSPENDED];
    commands
        .suspend_partner(
            &world.admin_ctx(),
            PartnerRefInput {
                partner_id: partner.id.to_string(),
            },
        )
        .await
        .step(|| format!("suspending {}", partner.name))?;
    world.partners[catalog::SUSPENDED].suspended = true;
    Ok(())
}

/// Mobile numbers, unique within the demo.
#[derive(Default)]
struct Phones(HashSet<String>);

impl Phones {
    fn fresh(&mut self, rng: &mut StdRng) -> String {
        loop {
            let prefix = catalog::MOBILE_PREFIXES
                .choose(rng)
                .copied()
                .unwrap_or("138");
            let phone = format!("{prefix}{:08}", rng.gen_range(0..100_000_000u32));
            let taken = DEALERS.iter().any(|d| d.phone == phone) || phone == catalog::ADMIN_PHONE;
            if !taken && self.0.insert(phone.clone()) {
                return phone;
            }
        }
    }
}
