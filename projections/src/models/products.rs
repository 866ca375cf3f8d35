//! `rm_products`: the catalog as it stands, one row per product ever listed, with its category
//! and quantity rules.

use async_trait::async_trait;
use dinghuo_domain::product::ProductEvent;
use dinghuo_domain::Quantity;
use dinghuo_store::feed::FeedEvent;
use dinghuo_store::sql::Dialect;
use dinghuo_store::sql::{Arg, Tx};

use super::event::{decode, quantity_value};
use crate::projection::{Projection, ProjectionError, TableNames};

pub struct ProductsProjection;

#[async_trait]
impl Projection for ProductsProjection {
    fn name(&self) -> &'static str {
        "products"
    }

    /// 2: `category` and the quantity rules (`min_quantity`, `multiple`, `max_quantity`).
    fn schema_version(&self) -> i32 {
        2
    }

    fn tables(&self) -> &'static [&'static str] {
        &["products"]
    }

    fn schema(&self, dialect: Dialect, names: &TableNames) -> Vec<String> {
        let (time, boolean) = (dialect.time_type(), dialect.bool_type());
        let table = names.table("products");
        vec![
            format!(
                "CREATE TABLE {table} (
                    product_id   text    NOT NULL PRIMARY KEY,
                    tenant_id    text    NOT NULL,
                    sku          text    NOT NULL,
                    name         text    NOT NULL,
                    unit         text    NOT NULL,
                    price_minor  bigint  NOT NULL,
                    currency     text    NOT NULL,
                    listed       {boolean} NOT NULL,
                    listed_at    {time}  NOT NULL,
                    delisted_at  {time},
                    category     text,
                    min_quantity bigint,
                    multiple     bigint,
                    max_quantity bigint,
                    updated_at   {time}  NOT NULL
                )"
            ),
            format!(
                "CREATE UNIQUE INDEX {} ON {table} (tenant_id, sku)",
                names.index("products", "tenant_sku")
            ),
        ]
    }

    /// For `read::products::list` filtered by category (in SKU order), and for the assortment
    /// a partner's contact is shown.
    fn indexes(&self, names: &TableNames) -> Vec<String> {
        vec![format!(
            "CREATE INDEX {} ON {} (tenant_id, category, sku)",
            names.index("products", "tenant_category"),
            names.table("products")
        )]
    }

    async fn apply(
        &self,
        tx: &mut Tx,
        names: &TableNames,
        event: &FeedEvent,
    ) -> Result<(), ProjectionError> {
        let Some(product) = decode::<ProductEvent>(event, "Product")? else {
            return Ok(());
        };
        let table = names.table("products");
        let id = Arg::from(event.aggregate_id.as_str());
        let at = Arg::from(event.recorded_at);
        match product {
            ProductEvent::ProductListed {
                tenant_id,
                sku,
                name,
                unit,
                price,
            } => {
                tx.execute(
                    &format!(
                        "INSERT INTO {table} (product_id, tenant_id, sku, name, unit, price_minor,
                                              currency, listed, listed_at, delisted_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL, $9)
                         ON CONFLICT (product_id) DO UPDATE
                            SET name = excluded.name, unit = excluded.unit,
                                price_minor = excluded.price_minor, currency = excluded.currency,
                                listed = excluded.listed, listed_at = excluded.listed_at,
                                delisted_at = NULL, updated_at = excluded.updated_at"
                    ),
                    &[
                        id,
                        tenant_id.to_string().into(),
                        sku.as_str().into(),
                        name.as_str().into(),
                        unit.as_str().into(),
                        price.amount_minor.into(),
                        price.currency.code().into(),
                        true.into(),
                        at,
                    ],
                )
                .await?;
            }
            ProductEvent::ProductRepriced { price } => {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET price_minor = $2, currency = $3, updated_at = $4
                          WHERE product_id = $1"
                    ),
                    &[
                        id,
                        price.amount_minor.into(),
                        price.currency.code().into(),
                        at,
                    ],
                )
                .await?;
            }
            ProductEvent::ProductCategorized { category } => {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET category = $2, updated_at = $3 WHERE product_id = $1"
                    ),
                    &[id, category.map(String::from).into(), at],
                )
                .await?;
            }
            ProductEvent::ProductQuantityRulesSet { rules } => {
                let rule = |quantity: Option<Quantity>| Arg::from(quantity.map(quantity_value));
                tx.execute(
                    &format!(
                        "UPDATE {table} SET min_quantity = $2, multiple = $3, max_quantity = $4,
                            updated_at = $5
                          WHERE product_id = $1"
                    ),
                    &[
                        id,
                        rule(rules.min),
                        rule(rules.multiple),
                        rule(rules.max),
                        at,
                    ],
                )
                .await?;
            }
            ProductEvent::ProductDelisted => {
                tx.execute(
                    &format!(
                        "UPDATE {table} SET listed = $2, delisted_at = $3, updated_at = $3
                          WHERE product_id = $1"
                    ),
                    &[id, false.into(), at],
                )
                .await?;
            }
        }
        Ok(())
    }
}
