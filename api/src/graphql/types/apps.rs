//! The vocabularies of apps and function permissions, mirrored for GraphQL from the domain's.

use async_graphql::Enum;

/// An interconnect app a tenant can license (DESIGN §2). Only the ordering app exists today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum App {
    /// 订货通, the ordering app.
    Ordering,
}

impl App {
    /// The command layer's spelling.
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::App::from(self).as_str()
    }

    pub fn parse(text: &str) -> Option<Self> {
        dinghuo_domain::App::parse(text).ok().map(Self::from)
    }
}

// Both directions are exhaustive matches, so a new domain app fails to compile here until the
// API names it too.
impl From<App> for dinghuo_domain::App {
    fn from(app: App) -> Self {
        match app {
            App::Ordering => Self::Ordering,
        }
    }
}

impl From<dinghuo_domain::App> for App {
    fn from(app: dinghuo_domain::App) -> Self {
        match app {
            dinghuo_domain::App::Ordering => Self::Ordering,
        }
    }
}

/// A function permission of an app, granted to their-side contacts by the tenant's defaults and
/// restricted per contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Enum)]
pub enum Permission {
    CreateSalesOrder,
    CancelOrder,
    ViewOrders,
}

impl Permission {
    pub fn as_str(self) -> &'static str {
        dinghuo_domain::Permission::from(self).as_str()
    }
}

impl From<Permission> for dinghuo_domain::Permission {
    fn from(permission: Permission) -> Self {
        match permission {
            Permission::CreateSalesOrder => Self::CreateSalesOrder,
            Permission::CancelOrder => Self::CancelOrder,
            Permission::ViewOrders => Self::ViewOrders,
        }
    }
}

/// The permissions whose flag is set, in a stable order (the read models keep one boolean
/// column per permission).
pub fn permissions(
    create_sales_order: bool,
    cancel_order: bool,
    view_orders: bool,
) -> Vec<Permission> {
    [
        (create_sales_order, Permission::CreateSalesOrder),
        (cancel_order, Permission::CancelOrder),
        (view_orders, Permission::ViewOrders),
    ]
    .into_iter()
    .filter_map(|(set, permission)| set.then_some(permission))
    .collect()
}
