//! Dealer pricing as the admin sets it up (DESIGN §4), before any dealer orders: every product
//! in its category, quantity rules on a few, dealer levels, restricted assortments, and the price
//! lists of `catalog::PRICE_LISTS` (a promotion for everyone, valid for a few weeks; a level list
//! with volume breaks; one dealer's contract prices, scoped once its prices are in; and a list
//! archived at once, which never prices).

use chrono::{DateTime, Days, NaiveDate, NaiveTime, Utc};
use dinghuo_commands::{
    CategorizeProductInput, Commands, CreatePriceListInput, MoneyInput, PriceListRefInput,
    PriceListScopeInput, RequestContext, RestrictPartnerAssortmentInput, SetPartnerLevelInput,
    SetPriceInput, SetPriceListScopeInput, SetQuantityRulesInput,
};
use dinghuo_domain::{Currency, Money};
use indicatif::ProgressBar;

use super::catalog::{
    self, PriceListPlan, Scope, ASSORTMENTS, LEVELS, PRICE_LISTS, QUANTITY_RULES,
};
use super::world::{ListPrice, PriceList, World};
use super::{DemoError, Step};

/// Progress-bar steps of the set-up: one per product, rule, level, assortment and list.
pub const STEPS: u64 = (catalog::PRODUCTS.len()
    + QUANTITY_RULES.len()
    + LEVELS.len()
    + ASSORTMENTS.len()
    + PRICE_LISTS.len()) as u64;

fn missing(what: String) -> DemoError {
    DemoError::Inconsistent(format!("the sample data has no {what}"))
}

pub async fn set_up(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    progress.set_message("categorizing products");
    categorize(commands, world, progress).await?;
    progress.set_message("setting quantity rules");
    quantity_rules(commands, world, progress).await?;
    progress.set_message("setting dealer levels");
    levels(commands, world, progress).await?;
    progress.set_message("restricting assortments");
    assortments(commands, world, progress).await?;
    progress.set_message("creating price lists");
    // The promotion runs from a week ago for three more weeks, in whole days.
    let today = Utc::now().date_naive();
    let midnight = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let promotion = (
        midnight(today - Days::new(7)),
        midnight(today + Days::new(21)),
    );
    for plan in &PRICE_LISTS {
        let list = price_list(commands, world, plan, promotion).await?;
        world.price_lists.push(list);
        progress.inc(1);
    }
    Ok(())
}

async fn categorize(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    let admin = world.admin;
    for product in &mut world.products {
        let category = catalog::category_of(product.sku)
            .ok_or_else(|| missing(format!("category for {}", product.sku)))?;
        commands
            .categorize_product(
                &RequestContext::new(admin),
                CategorizeProductInput {
                    product_id: product.id.to_string(),
                    category: Some(category.into()),
                },
            )
            .await
            .step(|| format!("putting {} in {category}", product.sku))?;
        product.category = Some(category);
        progress.inc(1);
    }
    Ok(())
}

async fn quantity_rules(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for (sku, rules) in QUANTITY_RULES {
        let index = world
            .product_by_sku(sku)
            .ok_or_else(|| missing(format!("product {sku}")))?;
        commands
            .set_quantity_rules(
                &world.admin_ctx(),
                SetQuantityRulesInput {
                    product_id: world.products[index].id.to_string(),
                    min: rules.min.map(i64::from),
                    multiple: rules.multiple.map(i64::from),
                    max: rules.max.map(i64::from),
                },
            )
            .await
            .step(|| {
                format!(
                    "setting the quantity rules of {sku} to {}",
                    rules.describe()
                )
            })?;
        world.products[index].rules = rules;
        progress.inc(1);
    }
    Ok(())
}

async fn levels(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for (index, level) in LEVELS {
        let partner = world
            .partners
            .get(index)
            .ok_or_else(|| missing(format!("partner {index}")))?;
        commands
            .set_partner_level(
                &world.admin_ctx(),
                SetPartnerLevelInput {
                    partner_id: partner.id.to_string(),
                    level: Some(level.into()),
                },
            )
            .await
            .step(|| format!("making {} a {level} dealer", partner.name))?;
        world.partners[index].level = Some(level);
        progress.inc(1);
    }
    Ok(())
}

async fn assortments(
    commands: &Commands,
    world: &mut World,
    progress: &ProgressBar,
) -> Result<(), DemoError> {
    for (index, categories) in ASSORTMENTS {
        let partner = world
            .partners
            .get(index)
            .ok_or_else(|| missing(format!("partner {index}")))?;
        commands
            .restrict_partner_assortment(
                &world.admin_ctx(),
                RestrictPartnerAssortmentInput {
                    partner_id: partner.id.to_string(),
                    categories: categories.iter().map(|&c| c.to_owned()).collect(),
                },
            )
            .await
            .step(|| format!("restricting {} to {}", partner.name, categories.join(", ")))?;
        world.partners[index].assortment = Some(categories);
        progress.inc(1);
    }
    Ok(())
}

fn scope_input(world: &World, scope: Scope) -> Result<PriceListScopeInput, DemoError> {
    Ok(match scope {
        Scope::All => PriceListScopeInput {
            kind: "ALL".into(),
            ..PriceListScopeInput::default()
        },
        Scope::Level(level) => PriceListScopeInput {
            kind: "LEVELS".into(),
            levels: vec![level.into()],
            ..PriceListScopeInput::default()
        },
        Scope::Partner(index) => {
            let partner = world
                .partners
                .get(index)
                .ok_or_else(|| missing(format!("partner {index}")))?;
            PriceListScopeInput {
                kind: "PARTNERS".into(),
                partner_ids: vec![partner.id.to_string()],
                ..PriceListScopeInput::default()
            }
        }
    })
}

/// `percent` of the catalog price of `sku`, to the nearest fen.
fn share_of_catalog(sku: &str, percent: i64) -> Result<Money, DemoError> {
    let product = catalog::PRODUCTS
        .iter()
        .find(|p| p.sku == sku)
        .ok_or_else(|| missing(format!("product {sku}")))?;
    let catalog = Money::parse_decimal(product.price, Currency::CNY, "price")
        .map_err(|e| DemoError::Inconsistent(format!("the price of {sku}: {e}")))?;
    Ok(Money {
        amount_minor: (catalog.amount_minor * percent + 50) / 100,
        currency: catalog.currency,
    })
}

/// Creates one list, sets its prices (by SKU, as an admin types them), then scopes or archives
/// it as `plan` says.
async fn price_list(
    commands: &Commands,
    world: &World,
    plan: &PriceListPlan,
    (from, to): (DateTime<Utc>, DateTime<Utc>),
) -> Result<PriceList, DemoError> {
    let name = plan.name;
    let scope = scope_input(world, plan.scope)?;
    let id = commands
        .create_price_list(
            &world.admin_ctx(),
            CreatePriceListInput {
                name: name.into(),
                priority: plan.priority,
                scope: plan.scoped_at_creation.then(|| scope.clone()),
                valid_from: plan.limited.then_some(from),
                valid_to: plan.limited.then_some(to),
            },
        )
        .await
        .step(|| format!("creating price list {name}"))?;
    let mut prices = Vec::with_capacity(plan.prices.len());
    for &(sku, min_quantity, percent) in plan.prices {
        let product = world
            .product_by_sku(sku)
            .ok_or_else(|| missing(format!("product {sku}")))?;
        let unit_price = share_of_catalog(sku, percent)?;
        commands
            .set_price(
                &world.admin_ctx(),
                SetPriceInput {
                    price_list_id: id.to_string(),
                    product_id: None,
                    sku: Some(sku.into()),
                    min_quantity: Some(min_quantity.into()),
                    unit_price: MoneyInput::cny(unit_price.to_decimal_string()),
                },
            )
            .await
            .step(|| format!("pricing {sku} from {min_quantity} in {name}"))?;
        prices.push(ListPrice {
            product,
            min_quantity,
            unit_price,
        });
    }
    if !plan.scoped_at_creation {
        commands
            .set_price_list_scope(
                &world.admin_ctx(),
                SetPriceListScopeInput {
                    price_list_id: id.to_string(),
                    scope,
                },
            )
            .await
            .step(|| format!("scoping price list {name}"))?;
    }
    if plan.archived {
        commands
            .archive_price_list(
                &world.admin_ctx(),
                PriceListRefInput {
                    price_list_id: id.to_string(),
                },
            )
            .await
            .step(|| format!("archiving price list {name}"))?;
    }
    let priority = u32::try_from(plan.priority)
        .map_err(|_| DemoError::Inconsistent(format!("the priority of {name}")))?;
    Ok(PriceList {
        id,
        name,
        priority,
        scope: plan.scope,
        archived: plan.archived,
        prices,
    })
}
