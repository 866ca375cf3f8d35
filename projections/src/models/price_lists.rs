//! `rm_price_lists` and `rm_price_list_entries`: each tenant's dealer price lists (name,
//! priority, validity, scope, archived) and every price in them, one row per (list, product,
//! break).
//!
//! The prices are written in the streams of the products they price (`ListPrices`), which name
//! the product by id only; an entry is shown and paged by SKU, so this projection also keeps
//! each product's SKU (`rm_price_list_skus`, fed by `ProductListed`, which always comes first:
//! a price is only set for a product the command side found listed). A SKU never changes: a
//! product's id is derived from it.

use async_trait::async_trait;
use dinghuo_domain::price_list::{ListPricesEvent, PriceListEvent};
use dinghuo_domain::product::ProductEvent;
use dinghuo_domain::PriceListScope;
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};

use super::event::{decode, json_list, quantity_value};
use crate::projection::{Projection, ProjectionError, TableNames};

pub struct PriceListsProjection;

#[async_trait]
impl Projection for PriceListsProjection {
    fn name(&self) -> &'static str {
        "price_lists"
    }

    fn schema_version(&self) -> i32 {
        1
    }

    fn tables(&self) -> &'static [&'static str] {
        &["price_lists", "price_list_entries", "price_list_skus"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean, key) = (
            dialect.time_type(),
            dialect.bool_type(),
            dialect.key_text_type(),
        );
        let lists = names.table("price_lists");
        let entries = names.table("price_list_entries");
        let skus = names.table("price_list_skus");
        vec![
            format!(
                "CREATE TABLE {lists} (
                    price_list_id  {key}     NOT NULL PRIMARY KEY,
                    tenant_id      {key}     NOT NULL,
                    name           text      NOT NULL,
                    priority       bigint    NOT NULL,
                    valid_from     {time},
                    valid_to       {time},
                    scope_kind     {key},
                    scope_levels   text,
                    scope_partners text,
                    archived       {boolean} NOT NULL,
                    archived_at    {time},
                    created_at     {time}    NOT NULL,
                    updated_at     {time}    NOT NULL
                )"
            ),
            format!(
                "CREATE TABLE {entries} (
                    price_list_id    {key}  NOT NULL,
                    tenant_id        {key}  NOT NULL,
                    product_id       {key}  NOT NULL,
                    sku              {key}  NOT NULL,
                    min_quantity     bigint NOT NULL,
                    unit_price_minor bigint NOT NULL,
                    currency         {key}  NOT NULL,
                    updated_at       {time} NOT NULL,
                    PRIMARY KEY (price_list_id, product_id, min_quantity)
                )"
            ),
            format!(
                "CREATE TABLE {skus} (
                    product_id {key} NOT NULL PRIMARY KEY,
                    sku        {key} NOT NULL
                )"
            ),
        ]
    }

    /// Each ends in the order of the list it serves (`read::price_lists`), so that a page is
    /// the next rows of one index range.
    fn indexes(&self, names: &TableNames) -> Vec<String> {
        let lists = names.table("price_lists");
        let entries = names.table("price_list_entries");
        vec![
            // A tenant's lists, by priority then id (read backwards for the newest first)...
            format!(
                "CREATE INDEX {} ON {lists} (tenant_id, priority, price_list_id)",
                names.index("price_lists", "tenant_priority")
            ),
            // ...and those not archived.
            format!(
                "CREATE INDEX {} ON {lists} (tenant_id, archived, priority, price_list_id)",
                names.index("price_lists", "tenant_archived_priority")
            ),
            // One list's entries, by SKU and break.
            format!(
                "CREATE INDEX {} ON {entries} (price_list_id, sku, min_quantity)",
                names.index("price_list_entries", "list_sku")
            ),
            // One product's entries across lists.
            format!(
                "CREATE INDEX {} ON {entries} (product_id, price_list_id, min_quantity)",
                names.index("price_list_entries", "product")
            ),
        ]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        if let Some(list) = decode::<PriceListEvent>(event, "PriceList")? {
            apply_list(tx, names, event, list).await
        } else if let Some(prices) = decode::<ListPricesEvent>(event, "ListPrices")? {
            apply_prices(tx, names, event, prices).await
        } else if event.event_type == "ProductListed" {
            if let Some(ProductEvent::ProductListed { sku, .. }) =
                decode::<ProductEvent>(event, "Product")?
            {
                tx.execute(
                    &format!(
                        "INSERT INTO {} (product_id, sku) VALUES ($1, $2)
                         ON CONFLICT (product_id) DO NOTHING",
                        names.table("price_list_skus")
                    ),
                    &[event.aggregate_id.as_str().into(), sku.as_str().into()],
                )
                .await?;
            }
            Ok(())
        } else {
            Ok(())
        }
    }
}

async fn apply_list(
    tx: &mut Tx,
    names: &TableNames,
    event: &FeedEvent,
    list: PriceListEvent,
) -> Result<(), ProjectionError> {
    let lists = names.table("price_lists");
    let id = Arg::from(event.aggregate_id.as_str());
    let at = Arg::from(event.recorded_at);
    let (sql, args) = match list {
        PriceListEvent::PriceListCreated {
            tenant_id,
            name,
            priority,
        } => (
            format!(
                "INSERT INTO {lists} (price_list_id, tenant_id, name, priority, archived,
                                      created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $6)"
            ),
            vec![
                id,
                tenant_id.to_string().into(),
                name.as_str().into(),
                i64::from(priority.get()).into(),
                false.into(),
                at,
            ],
        ),
        PriceListEvent::PriceListValiditySet { from, to } => (
            format!(
                "UPDATE {lists} SET valid_from = $2, valid_to = $3, updated_at = $4
                  WHERE price_list_id = $1"
            ),
            vec![id, from.into(), to.into(), at],
        ),
        PriceListEvent::PriceListScopeSet { scope } => {
            let (kind, levels, partners) = match scope {
                PriceListScope::All => ("ALL", None, None),
                PriceListScope::Levels { levels } => ("LEVELS", Some(json_list(levels)), None),
                PriceListScope::Partners { partners } => (
                    "PARTNERS",
                    None,
                    Some(json_list(partners.iter().map(ToString::to_string))),
                ),
            };
            (
                format!(
                    "UPDATE {lists} SET scope_kind = $2, scope_levels = $3, scope_partners = $4,
                        updated_at = $5
                      WHERE price_list_id = $1"
                ),
                vec![id, kind.into(), levels.into(), partners.into(), at],
            )
        }
        PriceListEvent::PriceListArchived => (
            format!(
                "UPDATE {lists} SET archived = $2, archived_at = $3, updated_at = $3
                  WHERE price_list_id = $1"
            ),
            vec![id, true.into(), at],
        ),
    };
    tx.execute(&sql, &args).await?;
    Ok(())
}

async fn apply_prices(
    tx: &mut Tx,
    names: &TableNames,
    event: &FeedEvent,
    prices: ListPricesEvent,
) -> Result<(), ProjectionError> {
    let entries = names.table("price_list_entries");
    match prices {
        ListPricesEvent::PriceSet {
            tenant_id,
            price_list_id,
            product_id,
            min_quantity,
            unit_price,
        } => {
            let product = product_id.to_string();
            let sku: Option<(String,)> = tx
                .fetch_all(
                    &format!(
                        "SELECT sku FROM {} WHERE product_id = $1",
                        names.table("price_list_skus")
                    ),
                    &[product.as_str().into()],
                )
                .await?
                .into_iter()
                .next();
            let Some((sku,)) = sku else {
                return Err(ProjectionError::unappliable(
                    event,
                    format!("a price for product {product}, which was never listed"),
                ));
            };
            tx.execute(
                &format!(
                    "INSERT INTO {entries} (price_list_id, tenant_id, product_id, sku, min_quantity,
                                            unit_price_minor, currency, updated_at)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (price_list_id, product_id, min_quantity) DO UPDATE
                        SET unit_price_minor = excluded.unit_price_minor,
                            currency = excluded.currency, updated_at = excluded.updated_at"
                ),
                &[
                    price_list_id.to_string().into(),
                    tenant_id.to_string().into(),
                    product.into(),
                    sku.into(),
                    quantity_value(min_quantity).into(),
                    unit_price.amount_minor.into(),
                    unit_price.currency.code().into(),
                    event.recorded_at.into(),
                ],
            )
            .await?;
        }
        ListPricesEvent::PriceRemoved {
            price_list_id,
            product_id,
            min_quantity,
        } => {
            tx.execute(
                &format!(
                    "DELETE FROM {entries}
                      WHERE price_list_id = $1 AND product_id = $2 AND min_quantity = $3"
                ),
                &[
                    price_list_id.to_string().into(),
                    product_id.to_string().into(),
                    quantity_value(min_quantity).into(),
                ],
            )
            .await?;
        }
    }
    Ok(())
}
