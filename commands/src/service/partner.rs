//! Entry points of the partner enterprise: the CRM customer and its partnership.

use dinghuo_domain::partner::PartnerCommand;
use std::collections::BTreeSet;

use dinghuo_domain::{
    Address, App, Assortment, Category, Level, Name, PartnerId, PartnerMode, Phone, Scoped,
    TenantId, ValidationError, MAX_ASSORTMENT,
};
use uuid::Uuid;

use super::{authorize, optional, own_tenant, Commands};
use crate::context::RequestContext;
use crate::error::CommandError;
use crate::policy::CommandName;

#[derive(Debug, Clone, Default)]
pub struct RecordCustomerInput {
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct UpdateCustomerInput {
    pub customer_id: String,
    pub name: String,
    pub phone: Option<String>,
    pub address: Option<String>,
}

/// `mode` defaults to `TENANTLESS`, the seed's recommendation.
#[derive(Debug, Clone, Default)]
pub struct AddPartnerInput {
    pub customer_id: String,
    pub mode: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AppAssignmentInput {
    pub partner_id: String,
    pub app: String,
}

/// Names one partner (suspend, reinstate).
#[derive(Debug, Clone, Default)]
pub struct PartnerRefInput {
    pub partner_id: String,
}

#[derive(Debug, Clone, Default)]
pub struct SetPartnerLevelInput {
    pub partner_id: String,
    /// Absent or blank takes the partner off every level.
    pub level: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RestrictPartnerAssortmentInput {
    pub partner_id: String,
    pub categories: Vec<String>,
}

/// Parses a list of categories, each bounded, the list too.
pub(super) fn parse_categories(
    texts: &[String],
    field: &str,
) -> Result<BTreeSet<Category>, ValidationError> {
    if texts.len() > MAX_ASSORTMENT {
        return Err(ValidationError::new(field, "name at most 100 categories"));
    }
    texts
        .iter()
        .enumerate()
        .map(|(i, text)| Category::parse(text).map_err(|e| e.at(format!("{field}[{i}]"))))
        .collect()
}

impl Commands {
    /// Records a CRM customer; answers its id, which is also its id as a partner.
    pub async fn record_customer(
        &self,
        ctx: &RequestContext,
        input: RecordCustomerInput,
    ) -> Result<PartnerId, CommandError> {
        authorize(ctx, CommandName::RecordCustomer)?;
        let tenant = own_tenant(ctx)?;
        let command = PartnerCommand::RecordCustomer {
            name: Name::parse(&input.name)?,
            phone: optional(input.phone.as_deref(), Phone::parse)?,
            address: optional(input.address.as_deref(), Address::parse)?,
        };
        let id = PartnerId::from_uuid(Uuid::now_v7());
        self.partner_command(ctx, tenant, id, command).await?;
        Ok(id)
    }

    pub async fn update_customer(
        &self,
        ctx: &RequestContext,
        input: UpdateCustomerInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::UpdateCustomer)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.customer_id, "customerId")?;
        let command = PartnerCommand::UpdateCustomer {
            name: Name::parse(&input.name)?,
            phone: optional(input.phone.as_deref(), Phone::parse)?,
            address: optional(input.address.as_deref(), Address::parse)?,
        };
        self.partner_command(ctx, tenant, id, command).await
    }

    pub async fn add_partner(
        &self,
        ctx: &RequestContext,
        input: AddPartnerInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::AddPartner)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.customer_id, "customerId")?;
        let mode = optional(input.mode.as_deref(), PartnerMode::parse)?.unwrap_or_default();
        self.partner_command(ctx, tenant, id, PartnerCommand::AddPartner { mode })
            .await
    }

    pub async fn assign_app(
        &self,
        ctx: &RequestContext,
        input: AppAssignmentInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::AssignApp)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        let app = App::parse(&input.app)?;
        self.partner_command(ctx, tenant, id, PartnerCommand::AssignApp { app })
            .await
    }

    pub async fn unassign_app(
        &self,
        ctx: &RequestContext,
        input: AppAssignmentInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::UnassignApp)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        let app = App::parse(&input.app)?;
        self.partner_command(ctx, tenant, id, PartnerCommand::UnassignApp { app })
            .await
    }

    pub async fn suspend_partner(
        &self,
        ctx: &RequestContext,
        input: PartnerRefInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SuspendPartner)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        self.partner_command(ctx, tenant, id, PartnerCommand::SuspendPartner)
            .await
    }

    pub async fn reinstate_partner(
        &self,
        ctx: &RequestContext,
        input: PartnerRefInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ReinstatePartner)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        self.partner_command(ctx, tenant, id, PartnerCommand::ReinstatePartner)
            .await
    }

    pub async fn set_partner_level(
        &self,
        ctx: &RequestContext,
        input: SetPartnerLevelInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::SetPartnerLevel)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        let level = optional(input.level.as_deref(), Level::parse)?;
        self.partner_command(ctx, tenant, id, PartnerCommand::SetPartnerLevel { level })
            .await
    }

    pub async fn restrict_partner_assortment(
        &self,
        ctx: &RequestContext,
        input: RestrictPartnerAssortmentInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::RestrictPartnerAssortment)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        let categories = Assortment::new(parse_categories(&input.categories, "categories")?)?;
        let command = PartnerCommand::RestrictPartnerAssortment { categories };
        self.partner_command(ctx, tenant, id, command).await
    }

    pub async fn clear_partner_assortment(
        &self,
        ctx: &RequestContext,
        input: PartnerRefInput,
    ) -> Result<(), CommandError> {
        authorize(ctx, CommandName::ClearPartnerAssortment)?;
        let tenant = own_tenant(ctx)?;
        let id = PartnerId::parse(&input.partner_id, "partnerId")?;
        self.partner_command(ctx, tenant, id, PartnerCommand::ClearPartnerAssortment)
            .await
    }

    async fn partner_command(
        &self,
        ctx: &RequestContext,
        tenant: TenantId,
        id: PartnerId,
        command: PartnerCommand,
    ) -> Result<(), CommandError> {
        let scoped = Scoped::new(tenant, command);
        self.run(&self.partners, ctx, tenant, id.to_string(), scoped)
            .await
    }
}
