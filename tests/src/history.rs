//! A realistic, seeded-random history written through the command layer: two onboarded tenants
//! whose admins, staff and dealer contacts run a few hundred commands, valid and invalid alike
//! (orders through every state, reprices, delists, suspensions, restrictions, bindings with the
//! wrong phone, staff made, invited and revoked, dealer levels, assortments, quantity rules,
//! price lists and their prices, orders placed on behalf…). Invalid commands are simply refused
//! by the domain; the point is a log with every kind of event in an order no one planned, for
//! tests that replay it.

use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    BindWechatAccountInput, CancelOrderInput, CategorizeProductInput, CommandError, Commands,
    ConfirmOrderInput, CreatePriceListInput, CreateTenantAdminInput, DelistProductInput,
    InviteEmployeeInput, ListProductInput, MenuButtonInput, MoneyInput, OrderLineInput,
    PartnerRefInput, PriceListRefInput, PriceListScopeInput, PublishWechatMenuInput,
    ReceiveOrderInput, RecordContactInput, RecordCustomerInput, RejectOrderInput,
    RemovePartnerContactInput, RemovePriceInput, RepriceProductInput, RequestContext,
    RestrictContactPermissionsInput, RestrictPartnerAssortmentInput, RevokeStaffAccessInput, Role,
    SetFunctionPermissionsInput, SetPartnerLevelInput, SetPriceInput, SetQuantityRulesInput,
    ShipOrderInput, SubmitOptions, SubmitOrderInput, UpdateCustomerInput,
};
use std::collections::{BTreeMap, HashSet};

use dinghuo_domain::{
    ContactId, ErrorCode, MemberId, OrderId, PartnerId, PriceListId, ProductId, TenantId,
};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

use crate::World;

/// A their-side contact the history knows about.
struct Person {
    id: ContactId,
    partner: PartnerId,
}

/// One tenant's share of the history.
struct Shop {
    world: World,
    partners: Vec<PartnerId>,
    people: Vec<Person>,
    products: Vec<ProductId>,
    /// Orders, the contact who submitted each, and how far each has come.
    orders: Vec<(OrderId, ContactId, Stage)>,
    next_sku: usize,
    wechat_app_id: String,
    /// Whether the admin switched the ordering app off and has not switched it on again.
    ordering_disabled: bool,
    delisted: HashSet<ProductId>,
    /// Partners that cannot order now: suspended, or without the ordering app.
    suspended: HashSet<PartnerId>,
    unassigned: HashSet<PartnerId>,
    /// Staff memberships made so far (revoked ones included).
    members: Vec<MemberId>,
    /// Price lists made so far (archived ones included).
    price_lists: Vec<PriceListId>,
    /// Products a tenant-wide list has a price for.
    list_priced: Vec<ProductId>,
}

/// How the commands of a history were answered.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Outcomes {
    pub accepted: usize,
    pub refused: usize,
    /// Refusals by error code (`PHONE_MISMATCH`, `INVALID_STATE`, …).
    pub refusals: BTreeMap<&'static str, usize>,
}

/// Where an order stands, as far as the history knows (it learns from accepted commands).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Submitted,
    Confirmed,
    Shipped,
    /// Received, rejected or cancelled: every further move is refused.
    Closed,
}

/// A running history: call [`History::run`] as often as wanted, each call continues the story.
pub struct History {
    rng: StdRng,
    shops: Vec<Shop>,
    next_phone: u32,
    pub outcomes: Outcomes,
}

impl History {
    /// Onboards two tenants with [`World::build`] (3 products each, a bound dealer contact).
    pub async fn start(commands: &Commands, seed: u64) -> Self {
        let mut shops = Vec::new();
        for shop in 0..2 {
            let world = World::build(commands, 3).await;
            let products = world.products.clone();
            let people = vec![Person {
                id: world.contact,
                partner: world.partner,
            }];
            shops.push(Shop {
                partners: vec![world.partner],
                people,
                products,
                orders: Vec::new(),
                next_sku: 100,
                wechat_app_id: format!("wx{:016x}", 0xd1_0000 + shop),
                ordering_disabled: false,
                delisted: HashSet::new(),
                suspended: HashSet::new(),
                unassigned: HashSet::new(),
                members: Vec::new(),
                price_lists: Vec::new(),
                list_priced: Vec::new(),
                world,
            });
        }
        let mut history = Self {
            rng: StdRng::seed_from_u64(seed),
            shops,
            next_phone: 0,
            outcomes: Outcomes::default(),
        };
        // Each tenant's admin is a person from the start (a staff membership in the log).
        for shop in 0..history.shops.len() {
            let made = history.staff(commands, shop, 0).await;
            history.count(made);
        }
        history
    }

    /// Runs `steps` random commands. Refusals are expected and counted; a failure that is not
    /// a refusal (the database, a conflict in this single-writer story) fails the test.
    pub async fn run(&mut self, commands: &Commands, steps: usize) {
        for _ in 0..steps {
            let shop = self.rng.gen_range(0..self.shops.len());
            // A switched-off app refuses every order of the tenant; admins notice soon.
            let result = if self.shops[shop].ordering_disabled && self.rng.gen_bool(0.3) {
                self.switch_ordering(commands, shop, true).await
            } else {
                self.step(commands, shop).await
            };
            self.count(result);
        }
    }

    fn count(&mut self, result: Result<(), CommandError>) {
        match result {
            Ok(()) => self.outcomes.accepted += 1,
            Err(error) if matches!(error.code(), ErrorCode::Internal | ErrorCode::Conflict) => {
                panic!("a command failed instead of being decided: {error:?}")
            }
            Err(error) => {
                self.outcomes.refused += 1;
                *self
                    .outcomes
                    .refusals
                    .entry(error.code().as_str())
                    .or_default() += 1;
            }
        }
    }

    fn new_phone(&mut self) -> String {
        self.next_phone += 1;
        Self::phone(self.next_phone)
    }

    /// The `n`th phone the history made.
    fn phone(n: u32) -> String {
        format!("139{n:08}")
    }

    /// Runs every kind of step (every variant of tenant configuration and partner rework
    /// included) once in each tenant, so that what follows has touched every read model.
    pub async fn run_every_kind(&mut self, commands: &Commands) {
        for shop in 0..self.shops.len() {
            for kind in 0..Self::KINDS {
                let variants = match kind {
                    9 => 5,
                    10 => 4,
                    11 => 4,
                    12 => Self::PRICING_VARIANTS,
                    _ => 1,
                };
                for variant in 0..variants {
                    let result = self.step_kind(commands, shop, kind, Some(variant)).await;
                    self.count(result);
                }
            }
        }
    }

    /// Kinds of step, each with its share of the random steps, in percent.
    const SHARES: [u32; 11] = [28, 27, 7, 3, 4, 4, 5, 8, 4, 5, 5];
    /// Kinds of step: those drawn at random, then staff membership (kind 11) and dealer
    /// pricing (kind 12), which run in [`Self::run_every_kind`] only, so that the random
    /// stories of existing seeds stay as they were.
    const KINDS: usize = Self::SHARES.len() + 2;
    const PRICING_VARIANTS: usize = 12;

    async fn step(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let mut roll = self.rng.gen_range(0..Self::SHARES.iter().sum::<u32>());
        let mut kind = 0;
        while roll >= Self::SHARES[kind] {
            roll -= Self::SHARES[kind];
            kind += 1;
        }
        self.step_kind(commands, shop, kind, None).await
    }

    /// One step of `kind`; `variant` forces the variant of kinds that have several.
    async fn step_kind(
        &mut self,
        commands: &Commands,
        shop: usize,
        kind: usize,
        variant: Option<usize>,
    ) -> Result<(), CommandError> {
        match kind {
            0 => self.submit_order(commands, shop).await,
            1 => self.move_order(commands, shop).await,
            2 => self.reprice(commands, shop).await,
            3 => self.delist(commands, shop).await,
            4 => self.list(commands, shop).await,
            5 => self.suspend_or_reinstate(commands, shop).await,
            6 => self.new_partner(commands, shop).await,
            7 => self.new_contact(commands, shop).await,
            8 => self.restrict(commands, shop).await,
            9 => {
                let variant = variant.unwrap_or_else(|| self.rng.gen_range(0..5));
                self.configure_tenant(commands, shop, variant % 5).await
            }
            10 => {
                let variant = variant.unwrap_or_else(|| self.rng.gen_range(0..4));
                self.rework_partner(commands, shop, variant % 4).await
            }
            11 => {
                let variant = variant.unwrap_or_else(|| self.rng.gen_range(0..4));
                self.staff(commands, shop, variant % 4).await
            }
            _ => {
                let variants = Self::PRICING_VARIANTS;
                let variant = variant.unwrap_or_else(|| self.rng.gen_range(0..variants));
                self.pricing(commands, shop, variant % variants).await
            }
        }
    }

    /// Dealer pricing: a partner's level (0), a product's category and quantity rules (1), a
    /// tenant-wide list with a base price and a break (2), a level list (3), an assortment
    /// restricted and cleared again (4), an order on a partner's behalf (5), a price removed
    /// and a list archived (6), a stale expected total (7: `PRICE_CHANGED`), a partner's list
    /// with validity dates whose price is set twice (8), an assortment left restricted on a
    /// partner other than the world's (9), a category and rules lifted (10), a contact's order
    /// priced by a list (11).
    async fn pricing(
        &mut self,
        commands: &Commands,
        shop: usize,
        variant: usize,
    ) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let s = &self.shops[shop];
        // Fixed choices, drawing nothing from the story's random numbers: the random stories
        // of existing seeds stay as they were.
        let partner = s.world.partner;
        let Some(product) = s.products.first().copied() else {
            return Ok(());
        };
        match variant {
            0 => {
                let level = SetPartnerLevelInput {
                    partner_id: partner.to_string(),
                    level: Some("A".into()),
                };
                commands.set_partner_level(&admin, level).await
            }
            1 => {
                let category = CategorizeProductInput {
                    product_id: product.to_string(),
                    category: Some("粮油".into()),
                };
                commands.categorize_product(&admin, category).await?;
                let rules = SetQuantityRulesInput {
                    product_id: product.to_string(),
                    min: Some(1),
                    multiple: None,
                    max: Some(10_000),
                };
                commands.set_quantity_rules(&admin, rules).await
            }
            2 | 3 => {
                let scope = if variant == 2 {
                    PriceListScopeInput {
                        kind: "ALL".into(),
                        ..Default::default()
                    }
                } else {
                    PriceListScopeInput {
                        kind: "LEVELS".into(),
                        levels: vec!["A".into()],
                        ..Default::default()
                    }
                };
                let list = commands
                    .create_price_list(
                        &admin,
                        CreatePriceListInput {
                            name: format!("价目表 {}", s.price_lists.len() + 1),
                            priority: 10 * variant as i64,
                            scope: Some(scope),
                            valid_from: None,
                            valid_to: None,
                        },
                    )
                    .await?;
                self.shops[shop].price_lists.push(list);
                if variant == 2 {
                    self.shops[shop].list_priced.push(product);
                }
                for (min_quantity, amount) in [(1, "4.50"), (10, "3.90")] {
                    let price = SetPriceInput {
                        price_list_id: list.to_string(),
                        product_id: Some(product.to_string()),
                        min_quantity: Some(min_quantity),
                        unit_price: MoneyInput::cny(amount),
                        ..Default::default()
                    };
                    commands.set_price(&admin, price).await?;
                }
                Ok(())
            }
            4 => {
                let restrict = RestrictPartnerAssortmentInput {
                    partner_id: partner.to_string(),
                    categories: vec!["粮油".into()],
                };
                commands
                    .restrict_partner_assortment(&admin, restrict)
                    .await?;
                let clear = PartnerRefInput {
                    partner_id: partner.to_string(),
                };
                commands.clear_partner_assortment(&admin, clear).await
            }
            5 | 7 => {
                let lines = vec![OrderLineInput {
                    product_id: product.to_string(),
                    quantity: 12,
                    sku: None,
                }];
                let options = SubmitOptions {
                    partner_id: Some(partner.to_string()),
                    expected_total: (variant == 7).then(|| MoneyInput::cny("0.01")),
                };
                commands
                    .submit_order_with(&admin, SubmitOrderInput { lines, note: None }, options)
                    .await
                    .map(|_| ())
            }
            8 => {
                let now = chrono::Utc::now();
                let list = commands
                    .create_price_list(
                        &admin,
                        CreatePriceListInput {
                            name: "合同价".into(),
                            priority: 90,
                            scope: Some(PriceListScopeInput {
                                kind: "PARTNERS".into(),
                                partner_ids: vec![partner.to_string()],
                                ..Default::default()
                            }),
                            valid_from: Some(now - chrono::Duration::days(1)),
                            valid_to: Some(now + chrono::Duration::days(30)),
                        },
                    )
                    .await?;
                self.shops[shop].price_lists.push(list);
                for amount in ["6.00", "5.80"] {
                    let price = SetPriceInput {
                        price_list_id: list.to_string(),
                        product_id: Some(product.to_string()),
                        unit_price: MoneyInput::cny(amount),
                        ..Default::default()
                    };
                    commands.set_price(&admin, price).await?;
                }
                Ok(())
            }
            9 => {
                let Some(other) = s.partners.iter().copied().find(|p| *p != s.world.partner) else {
                    return Ok(());
                };
                let restrict = RestrictPartnerAssortmentInput {
                    partner_id: other.to_string(),
                    categories: vec!["粮油".into(), "饮料".into()],
                };
                commands.restrict_partner_assortment(&admin, restrict).await
            }
            10 => {
                let category = CategorizeProductInput {
                    product_id: product.to_string(),
                    category: None,
                };
                commands.categorize_product(&admin, category).await?;
                let rules = SetQuantityRulesInput {
                    product_id: product.to_string(),
                    ..Default::default()
                };
                commands.set_quantity_rules(&admin, rules).await
            }
            11 => {
                let Some(priced) = s.list_priced.first().copied() else {
                    return Ok(());
                };
                let lines = vec![OrderLineInput {
                    product_id: priced.to_string(),
                    quantity: 12,
                    sku: None,
                }];
                let contact = Self::contact_ctx(s.world.tenant, s.world.contact);
                let id = commands
                    .submit_order(&contact, SubmitOrderInput { lines, note: None })
                    .await?;
                let contact_id = s.world.contact;
                self.shops[shop]
                    .orders
                    .push((id, contact_id, Stage::Submitted));
                Ok(())
            }
            _ => {
                // The newest list: the tenant-wide one keeps pricing (variant 11).
                let Some(list) = s.price_lists.last().copied() else {
                    return Ok(());
                };
                let remove = RemovePriceInput {
                    price_list_id: list.to_string(),
                    product_id: Some(product.to_string()),
                    min_quantity: Some(10),
                    ..Default::default()
                };
                commands.remove_price(&admin, remove).await?;
                let archive = PriceListRefInput {
                    price_list_id: list.to_string(),
                };
                commands.archive_price_list(&admin, archive).await
            }
        }
    }

    /// Staff membership: the operator makes an admin (0), the admin invites a new employee (1),
    /// revokes a member (2), or creates again one that may be revoked or still active (3: then
    /// `ALREADY_A_MEMBER`).
    async fn staff(
        &mut self,
        commands: &Commands,
        shop: usize,
        variant: usize,
    ) -> Result<(), CommandError> {
        let tenant = self.shops[shop].world.tenant;
        let operator = RequestContext::new(self.shops[shop].world.operator);
        let admin = self.admin(shop);
        match variant {
            0 => {
                let phone = self.new_phone();
                let member = commands
                    .create_tenant_admin(
                        &operator,
                        CreateTenantAdminInput {
                            tenant_id: tenant.to_string(),
                            name: format!("管理员 {}", self.next_phone),
                            phone,
                        },
                    )
                    .await?;
                self.shops[shop].members.push(member.id);
                Ok(())
            }
            1 => {
                let phone = self.new_phone();
                let contact = commands
                    .record_contact(
                        &admin,
                        RecordContactInput {
                            name: format!("员工 {}", self.next_phone),
                            phone: Some(phone),
                            customer_id: None,
                            employee: true,
                        },
                    )
                    .await?;
                self.count(Ok(()));
                let member = commands
                    .invite_employee(
                        &admin,
                        InviteEmployeeInput {
                            contact_id: contact.to_string(),
                        },
                    )
                    .await?;
                self.shops[shop].members.push(member.id);
                Ok(())
            }
            2 => {
                let Some(member) = self.shops[shop].members.choose(&mut self.rng).copied() else {
                    return Ok(());
                };
                commands
                    .revoke_staff_access(
                        &admin,
                        RevokeStaffAccessInput {
                            member_id: member.to_string(),
                            tenant_id: None,
                        },
                    )
                    .await
                    .map(|_| ())
            }
            _ => {
                // The latest admin made again, by the phone it was made with.
                let phone = Self::phone(self.next_phone);
                commands
                    .create_tenant_admin(
                        &operator,
                        CreateTenantAdminInput {
                            tenant_id: tenant.to_string(),
                            name: "管理员 再次".into(),
                            phone,
                        },
                    )
                    .await
                    .map(|_| ())
            }
        }
    }

    fn admin(&self, shop: usize) -> RequestContext {
        self.shops[shop].world.admin_ctx()
    }

    fn contact_ctx(tenant: TenantId, contact: ContactId) -> RequestContext {
        RequestContext::new(Actor::in_tenant(contact.as_uuid(), Role::Contact, tenant))
    }

    async fn submit_order(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let s = &self.shops[shop];
        // Mostly dealers that may order, from the listed catalog; sometimes anyone, anything.
        let careful = self.rng.gen_bool(0.85);
        let people: Vec<ContactId> = s
            .people
            .iter()
            .filter(|p| {
                !careful || !(s.suspended.contains(&p.partner) || s.unassigned.contains(&p.partner))
            })
            .map(|p| p.id)
            .collect();
        let Some(&contact) = people.choose(&mut self.rng) else {
            return Ok(());
        };
        let catalog: Vec<ProductId> = s
            .products
            .iter()
            .filter(|p| !careful || !s.delisted.contains(p))
            .copied()
            .collect();
        if catalog.is_empty() {
            return Ok(());
        }
        let count = self.rng.gen_range(1..=3.min(catalog.len()));
        let products: Vec<ProductId> = catalog
            .choose_multiple(&mut self.rng, count)
            .copied()
            .collect();
        let mut lines: Vec<OrderLineInput> = products
            .into_iter()
            .map(|product| OrderLineInput {
                product_id: product.to_string(),
                quantity: self.rng.gen_range(1..=24),
                sku: None,
            })
            .collect();
        if self.rng.gen_bool(0.08) {
            lines[0].quantity = 0; // refused: VALIDATION
        }
        let note = self.rng.gen_bool(0.3).then(|| "请尽快发货".to_owned());
        let ctx = Self::contact_ctx(s.world.tenant, contact);
        let id = commands
            .submit_order(&ctx, SubmitOrderInput { lines, note })
            .await?;
        self.shops[shop]
            .orders
            .push((id, contact, Stage::Submitted));
        Ok(())
    }

    /// Mostly the next step of an open order (as staff and dealers do), sometimes any step on
    /// any order (refused when the order's state does not allow it).
    async fn move_order(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let s = &self.shops[shop];
        let open: Vec<usize> = (0..s.orders.len())
            .filter(|&i| s.orders[i].2 != Stage::Closed)
            .collect();
        let wild = open.is_empty() || self.rng.gen_bool(0.15);
        let index = if wild {
            let Some(index) = (0..s.orders.len())
                .collect::<Vec<_>>()
                .choose(&mut self.rng)
                .copied()
            else {
                return Ok(());
            };
            index
        } else {
            open[self.rng.gen_range(0..open.len())]
        };
        let (order, by, stage) = s.orders[index];
        let order_id = order.to_string();
        let admin = self.admin(shop);
        let contact = Self::contact_ctx(s.world.tenant, by);
        let roll = self.rng.gen_range(0..100);
        let action = match (wild, stage) {
            (true, _) => self.rng.gen_range(0..5),
            (false, Stage::Submitted) if roll < 70 => 0,
            (false, Stage::Submitted) if roll < 85 => 1,
            (false, Stage::Submitted) => 4,
            (false, Stage::Confirmed) if roll < 85 => 2,
            (false, Stage::Confirmed) => 4,
            (false, _) => 3,
        };
        let (result, next) = match action {
            0 => (
                commands
                    .confirm_order(&admin, ConfirmOrderInput { order_id })
                    .await,
                Stage::Confirmed,
            ),
            1 => (
                commands
                    .reject_order(
                        &admin,
                        RejectOrderInput {
                            order_id,
                            reason: "库存不足".into(),
                        },
                    )
                    .await,
                Stage::Closed,
            ),
            2 => (
                commands
                    .ship_order(
                        &admin,
                        ShipOrderInput {
                            order_id,
                            carrier: Some("顺丰速运".into()),
                            tracking: self.rng.gen_bool(0.5).then(|| "SF1234567890".into()),
                        },
                    )
                    .await,
                Stage::Shipped,
            ),
            3 => (
                commands
                    .receive_order(&contact, ReceiveOrderInput { order_id })
                    .await,
                Stage::Closed,
            ),
            _ => {
                let ctx = if self.rng.gen_bool(0.5) {
                    contact
                } else {
                    admin
                };
                let cancelled = commands
                    .cancel_order(
                        &ctx,
                        CancelOrderInput {
                            order_id,
                            reason: "不需要了".into(),
                        },
                    )
                    .await;
                (cancelled, Stage::Closed)
            }
        };
        if result.is_ok() {
            self.shops[shop].orders[index].2 = next;
        }
        result
    }

    async fn reprice(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let Some(product) = self.shops[shop].products.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        let amount = if self.rng.gen_bool(0.1) {
            "-3.00".to_owned() // refused: VALIDATION
        } else {
            format!(
                "{}.{:02}",
                self.rng.gen_range(5..200),
                self.rng.gen_range(0..100)
            )
        };
        commands
            .reprice_product(
                &self.admin(shop),
                RepriceProductInput {
                    product_id: product.to_string(),
                    price: MoneyInput::cny(amount),
                },
            )
            .await
    }

    async fn delist(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let Some(product) = self.shops[shop].products.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        commands
            .delist_product(
                &self.admin(shop),
                DelistProductInput {
                    product_id: product.to_string(),
                },
            )
            .await?;
        self.shops[shop].delisted.insert(product);
        Ok(())
    }

    async fn list(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let s = &mut self.shops[shop];
        // Now and then a SKU that exists already: refused as DUPLICATE_SKU.
        let number = if self.rng.gen_bool(0.15) {
            0
        } else {
            s.next_sku += 1;
            s.next_sku
        };
        let id = commands
            .list_product(
                &s.world.admin_ctx(),
                ListProductInput {
                    sku: format!("SKU-{number:04}"),
                    name: format!("新品 {number}"),
                    unit: "箱".into(),
                    price: MoneyInput::cny(format!("{}.50", 8 + number % 50)),
                },
            )
            .await?;
        s.products.push(id);
        Ok(())
    }

    async fn suspend_or_reinstate(
        &mut self,
        commands: &Commands,
        shop: usize,
    ) -> Result<(), CommandError> {
        let Some(partner) = self.shops[shop].partners.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        let input = PartnerRefInput {
            partner_id: partner.to_string(),
        };
        let admin = self.admin(shop);
        // Suspended partners are refused orders; reinstating more often keeps orders flowing.
        if self.rng.gen_bool(0.4) {
            commands.suspend_partner(&admin, input).await?;
            self.shops[shop].suspended.insert(partner);
        } else {
            commands.reinstate_partner(&admin, input).await?;
            self.shops[shop].suspended.remove(&partner);
        }
        Ok(())
    }

    async fn new_partner(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let number = self.shops[shop].partners.len();
        let phone = self.rng.gen_bool(0.5).then(|| self.new_phone());
        let customer = commands
            .record_customer(
                &admin,
                RecordCustomerInput {
                    name: format!("经销商 {number}"),
                    phone,
                    address: Some(format!("{number} 号 长江路")),
                },
            )
            .await?;
        self.count(Ok(()));
        let mode = ["TENANTLESS", "TENANT", "SOMETIMES"].choose(&mut self.rng);
        let added = commands
            .add_partner(
                &admin,
                AddPartnerInput {
                    customer_id: customer.to_string(),
                    mode: mode.map(|m| (*m).to_owned()),
                },
            )
            .await;
        if added.is_ok() {
            self.shops[shop].partners.push(customer);
            self.shops[shop].unassigned.insert(customer);
        }
        self.count(added);
        if self.rng.gen_bool(0.8) {
            return self.assign(commands, shop, customer, true).await;
        }
        Ok(())
    }

    /// Assigns (or unassigns) the ordering app to `partner`.
    async fn assign(
        &mut self,
        commands: &Commands,
        shop: usize,
        partner: PartnerId,
        on: bool,
    ) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let input = AppAssignmentInput {
            partner_id: partner.to_string(),
            app: "ORDERING".into(),
        };
        if on {
            commands.assign_app(&admin, input).await?;
            self.shops[shop].unassigned.remove(&partner);
        } else {
            commands.unassign_app(&admin, input).await?;
            self.shops[shop].unassigned.insert(partner);
        }
        Ok(())
    }

    async fn new_contact(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let Some(partner) = self.shops[shop].partners.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        let phone = self.new_phone();
        let contact = commands
            .record_contact(
                &admin,
                RecordContactInput {
                    name: format!("联系人 {}", self.next_phone),
                    phone: Some(phone.clone()),
                    customer_id: Some(partner.to_string()),
                    employee: false,
                },
            )
            .await?;
        self.count(Ok(()));
        let added = commands
            .add_partner_contact(
                &admin,
                AddPartnerContactInput {
                    contact_id: contact.to_string(),
                    partner_id: partner.to_string(),
                    side: "THEIRS".into(),
                },
            )
            .await;
        self.count(added);
        let tenant = self.shops[shop].world.tenant;
        let me = Self::contact_ctx(tenant, contact);
        // A third of the bindings are tried with a wrong phone first: PHONE_MISMATCH.
        if self.rng.gen_bool(0.33) {
            let wrong = commands
                .bind_contact(
                    &me,
                    BindContactInput {
                        contact_id: contact.to_string(),
                        phone: "13700000000".into(),
                        channel: "MINI_PROGRAM".into(),
                        wechat_open_id: None,
                    },
                )
                .await;
            self.count(wrong);
        }
        let channel = ["MINI_PROGRAM", "OFFICIAL_ACCOUNT", "WEB_QR", "APP"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("APP");
        let bound = commands
            .bind_contact(
                &me,
                BindContactInput {
                    contact_id: contact.to_string(),
                    phone,
                    channel: channel.into(),
                    wechat_open_id: Some(format!("open-{}", contact.as_uuid().simple())),
                },
            )
            .await;
        // Unbound contacts stay in the story too: their orders are refused.
        self.shops[shop].people.push(Person {
            id: contact,
            partner,
        });
        bound
    }

    async fn restrict(&mut self, commands: &Commands, shop: usize) -> Result<(), CommandError> {
        let Some(person) = self.shops[shop].people.choose(&mut self.rng) else {
            return Ok(());
        };
        let contact_id = person.id.to_string();
        let how_many = self.rng.gen_range(0..=2);
        let mut denied: Vec<String> = ["CREATE_SALES_ORDER", "CANCEL_ORDER", "VIEW_ORDERS"]
            .choose_multiple(&mut self.rng, how_many)
            .map(|p| (*p).to_owned())
            .collect();
        if self.rng.gen_bool(0.1) {
            denied.push("FLY_TO_THE_MOON".into()); // refused: VALIDATION
        }
        commands
            .restrict_contact_permissions(
                &self.admin(shop),
                RestrictContactPermissionsInput {
                    contact_id,
                    app: "ORDERING".into(),
                    denied,
                },
            )
            .await
    }

    async fn configure_tenant(
        &mut self,
        commands: &Commands,
        shop: usize,
        variant: usize,
    ) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let app_id = self.shops[shop].wechat_app_id.clone();
        match variant {
            0 => {
                let how_many = self.rng.gen_range(1..=3);
                let permissions = ["CREATE_SALES_ORDER", "CANCEL_ORDER", "VIEW_ORDERS"]
                    .choose_multiple(&mut self.rng, how_many)
                    .map(|p| (*p).to_owned())
                    .collect();
                commands
                    .set_function_permissions(
                        &admin,
                        SetFunctionPermissionsInput {
                            app: "ORDERING".into(),
                            permissions,
                        },
                    )
                    .await
            }
            1 => {
                commands
                    .bind_wechat_account(
                        &admin,
                        BindWechatAccountInput {
                            app_id,
                            name: "味道食品服务号".into(),
                        },
                    )
                    .await
            }
            2 => {
                let url = if self.rng.gen_bool(0.2) {
                    "http://insecure.example.com" // refused: VALIDATION
                } else {
                    "https://shop.example.com/new"
                };
                commands
                    .publish_wechat_menu(
                        &admin,
                        PublishWechatMenuInput {
                            app_id,
                            buttons: vec![
                                MenuButtonInput {
                                    name: "在线订货".into(),
                                    app: Some("ORDERING".into()),
                                    url: None,
                                },
                                MenuButtonInput {
                                    name: "新品推荐".into(),
                                    app: None,
                                    url: Some(url.into()),
                                },
                            ],
                        },
                    )
                    .await
            }
            3 => self.switch_ordering(commands, shop, false).await,
            _ => self.switch_ordering(commands, shop, true).await,
        }
    }

    async fn switch_ordering(
        &mut self,
        commands: &Commands,
        shop: usize,
        on: bool,
    ) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let app = AppInput {
            app: "ORDERING".into(),
        };
        let result = if on {
            commands.enable_app(&admin, app).await
        } else {
            commands.disable_app(&admin, app).await
        };
        if result.is_ok() {
            self.shops[shop].ordering_disabled = !on;
        }
        result
    }

    async fn rework_partner(
        &mut self,
        commands: &Commands,
        shop: usize,
        variant: usize,
    ) -> Result<(), CommandError> {
        let admin = self.admin(shop);
        let s = &self.shops[shop];
        let Some(partner) = s.partners.choose(&mut self.rng).copied() else {
            return Ok(());
        };
        match variant {
            0 => {
                commands
                    .update_customer(
                        &admin,
                        UpdateCustomerInput {
                            customer_id: partner.to_string(),
                            name: format!("经销商 {}", self.rng.gen_range(0..1000)),
                            phone: None,
                            address: Some("88 号 黄河路".into()),
                        },
                    )
                    .await
            }
            1 => self.assign(commands, shop, partner, false).await,
            2 => self.assign(commands, shop, partner, true).await,
            _ => {
                // Removing a contact from a partner it may not belong to: sometimes refused.
                let Some(person) = s.people.choose(&mut self.rng) else {
                    return Ok(());
                };
                let removed_from = if self.rng.gen_bool(0.7) {
                    person.partner
                } else {
                    partner
                };
                commands
                    .remove_partner_contact(
                        &admin,
                        RemovePartnerContactInput {
                            contact_id: person.id.to_string(),
                            partner_id: removed_from.to_string(),
                        },
                    )
                    .await
            }
        }
    }
}

impl History {
    /// The first tenant's world (its admin, its first products).
    pub fn world(&self) -> &World {
        &self.shops[0].world
    }
}
