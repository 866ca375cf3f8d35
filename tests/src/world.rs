use dinghuo_commands::{
    Actor, AddPartnerContactInput, AddPartnerInput, AppAssignmentInput, AppInput, BindContactInput,
    Commands, EnableInterconnectInput, ListProductInput, MoneyInput, PurchaseAppInput,
    RecordContactInput, RecordCustomerInput, RegisterTenantInput, RequestContext, Role,
};
use dinghuo_domain::{ContactId, PartnerId, ProductId, TenantId};
use uuid::Uuid;

/// An upstream tenant, onboarded through the command layer exactly as the product document
/// describes: interconnect on, ordering bought and enabled, products listed, one partner with the
/// ordering app assigned, and one their-side contact who bound its identity.
pub struct World {
    pub tenant: TenantId,
    pub operator: Actor,
    pub admin: Actor,
    pub partner: PartnerId,
    pub contact: ContactId,
    /// The contact's recorded phone.
    pub phone: String,
    pub products: Vec<ProductId>,
}

impl World {
    pub const PHONE: &'static str = "13800138000";

    /// Builds the world with `products` products priced 10.00, 11.00, 12.00, …
    pub async fn build(commands: &Commands, products: usize) -> Self {
        let operator = Actor::operator(Uuid::now_v7());
        let op = RequestContext::new(operator);
        let tenant = commands
            .register_tenant(
                &op,
                RegisterTenantInput {
                    name: "Acme Foods".into(),
                },
            )
            .await
            .expect("register tenant");
        commands
            .enable_interconnect(
                &op,
                EnableInterconnectInput {
                    tenant_id: Some(tenant.to_string()),
                },
            )
            .await
            .expect("enable interconnect");
        commands
            .purchase_app(
                &op,
                PurchaseAppInput {
                    tenant_id: tenant.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("purchase ordering");

        let admin = Actor::in_tenant(Uuid::now_v7(), Role::Admin, tenant);
        let ad = RequestContext::new(admin);
        commands
            .enable_app(
                &ad,
                AppInput {
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("enable ordering");

        let mut product_ids = Vec::with_capacity(products);
        for i in 0..products {
            let id = commands
                .list_product(
                    &ad,
                    ListProductInput {
                        sku: format!("SKU-{i:04}"),
                        name: format!("Product {i}"),
                        unit: "box".into(),
                        price: MoneyInput::cny(format!("{}.00", 10 + i)),
                    },
                )
                .await
                .expect("list product");
            product_ids.push(id);
        }

        let partner = commands
            .record_customer(
                &ad,
                RecordCustomerInput {
                    name: "Dealer One".into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");
        commands
            .add_partner(
                &ad,
                AddPartnerInput {
                    customer_id: partner.to_string(),
                    mode: None,
                },
            )
            .await
            .expect("add partner");
        commands
            .assign_app(
                &ad,
                AppAssignmentInput {
                    partner_id: partner.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("assign ordering");

        let contact = Self::add_bound_contact(commands, &ad, tenant, partner, Self::PHONE).await;
        Self {
            tenant,
            operator,
            admin,
            partner,
            contact,
            phone: Self::PHONE.to_owned(),
            products: product_ids,
        }
    }

    /// Another partner of this world's tenant, with the ordering app assigned.
    pub async fn add_partner(commands: &Commands, admin: &RequestContext, name: &str) -> PartnerId {
        let partner = commands
            .record_customer(
                admin,
                RecordCustomerInput {
                    name: name.into(),
                    ..Default::default()
                },
            )
            .await
            .expect("record customer");
        commands
            .add_partner(
                admin,
                AddPartnerInput {
                    customer_id: partner.to_string(),
                    mode: None,
                },
            )
            .await
            .expect("add partner");
        commands
            .assign_app(
                admin,
                AppAssignmentInput {
                    partner_id: partner.to_string(),
                    app: "ORDERING".into(),
                },
            )
            .await
            .expect("assign ordering");
        partner
    }

    /// An employee of the tenant linked (our side) to `partner`.
    pub async fn add_employee(
        commands: &Commands,
        admin: &RequestContext,
        partner: PartnerId,
        phone: &str,
    ) -> ContactId {
        let employee = commands
            .record_contact(
                admin,
                RecordContactInput {
                    name: "Han Meimei".into(),
                    phone: Some(phone.to_owned()),
                    customer_id: None,
                    employee: true,
                },
            )
            .await
            .expect("record employee");
        commands
            .add_partner_contact(
                admin,
                AddPartnerContactInput {
                    contact_id: employee.to_string(),
                    partner_id: partner.to_string(),
                    side: "OURS".into(),
                },
            )
            .await
            .expect("link the employee");
        employee
    }

    /// Records a their-side contact of `partner` with `phone` and adds it as partner contact,
    /// without binding it.
    pub async fn add_unbound_contact(
        commands: &Commands,
        admin: &RequestContext,
        partner: PartnerId,
        phone: &str,
    ) -> ContactId {
        let contact = commands
            .record_contact(
                admin,
                RecordContactInput {
                    name: "Li Lei".into(),
                    phone: Some(phone.to_owned()),
                    customer_id: Some(partner.to_string()),
                    employee: false,
                },
            )
            .await
            .expect("record contact");
        commands
            .add_partner_contact(
                admin,
                AddPartnerContactInput {
                    contact_id: contact.to_string(),
                    partner_id: partner.to_string(),
                    side: "THEIRS".into(),
                },
            )
            .await
            .expect("add partner contact");
        contact
    }

    /// Records a their-side contact of `partner` with `phone`, adds it and lets it bind.
    pub async fn add_bound_contact(
        commands: &Commands,
        admin: &RequestContext,
        tenant: TenantId,
        partner: PartnerId,
        phone: &str,
    ) -> ContactId {
        let contact = Self::add_unbound_contact(commands, admin, partner, phone).await;
        let me = RequestContext::new(Actor::in_tenant(contact.as_uuid(), Role::Contact, tenant));
        commands
            .bind_contact(
                &me,
                BindContactInput {
                    contact_id: contact.to_string(),
                    phone: phone.to_owned(),
                    channel: "MINI_PROGRAM".into(),
                    wechat_open_id: Some(format!("open-{}", contact.as_uuid().simple())),
                },
            )
            .await
            .expect("bind contact");
        contact
    }

    pub fn admin_ctx(&self) -> RequestContext {
        RequestContext::new(self.admin)
    }

    pub fn operator_ctx(&self) -> RequestContext {
        RequestContext::new(self.operator)
    }

    pub fn contact_actor(&self) -> Actor {
        Actor::in_tenant(self.contact.as_uuid(), Role::Contact, self.tenant)
    }

    pub fn contact_ctx(&self) -> RequestContext {
        RequestContext::new(self.contact_actor())
    }
}
