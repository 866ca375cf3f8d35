//! The three roots as the schema serves them, each wrapped in [`Costed`]: every root field costs
//! the base of its kind ([`complexity::READ`], [`complexity::COMMAND`],
//! [`complexity::SUBSCRIPTION`]) on top of what it counts itself (its selection, or a
//! connection's page). Applied here, to the registered root types, rather than on each field's
//! attribute, so that a new root field gets its base without anyone having to remember it; only
//! the fields named in [`Root::FREE`] are left at async-graphql's count.

use std::borrow::Cow;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::OnceLock;

use async_graphql::futures_util::Stream;
use async_graphql::parser::types::{Field, VariableDefinition};
use async_graphql::registry::{MetaType, Registry};
use async_graphql::{
    ContainerType, Context, ContextSelectionSet, ObjectType, OutputType, Positioned, Response,
    Schema, SchemaBuilder, ServerResult, SubscriptionType, Value, VisitorContext,
};

use crate::graphql::complexity;
use crate::graphql::mutations::MutationRoot;
use crate::graphql::queries::QueryRoot;
use crate::graphql::subscriptions::SubscriptionRoot;

/// How async-graphql computes a field's complexity (its registry holds plain `fn`s).
type ComplexityFn = fn(
    &VisitorContext<'_>,
    &[Positioned<VariableDefinition>],
    &Field,
    usize,
) -> ServerResult<usize>;

/// Root fields' own complexity functions (a connection's page), by field name, as their derive
/// macros registered them, before [`Costed`] put its own in their place. A plain `fn` cannot
/// carry the function it wraps, so the wrapper finds it here.
type Own = HashMap<String, ComplexityFn>;

/// A root type and what each of its fields costs.
pub trait Root: Send + Sync + 'static {
    /// Added to each field's own count.
    const BASE: usize;
    /// Fields that read no database: they keep async-graphql's count (1 plus their selection).
    const FREE: &'static [&'static str] = &[];
    /// Where [`Costed`] keeps this root's [`Own`] functions.
    fn own() -> &'static OnceLock<Own>;
}

impl Root for QueryRoot {
    const BASE: usize = complexity::READ;
    const FREE: &'static [&'static str] = complexity::FREE_READS;
    fn own() -> &'static OnceLock<Own> {
        static OWN: OnceLock<Own> = OnceLock::new();
        &OWN
    }
}

impl Root for MutationRoot {
    const BASE: usize = complexity::COMMAND;
    fn own() -> &'static OnceLock<Own> {
        static OWN: OnceLock<Own> = OnceLock::new();
        &OWN
    }
}

impl Root for SubscriptionRoot {
    const BASE: usize = complexity::SUBSCRIPTION;
    fn own() -> &'static OnceLock<Own> {
        static OWN: OnceLock<Own> = OnceLock::new();
        &OWN
    }
}

/// A root type whose fields cost [`Root::BASE`] more. It resolves exactly as the type it wraps,
/// under the same name.
#[derive(Default)]
pub struct Costed<T>(T);

/// The schema builder over the three costed roots: what `dinghuo serve` and the SDL export use.
pub fn schema_builder(
) -> SchemaBuilder<Costed<QueryRoot>, Costed<MutationRoot>, Costed<SubscriptionRoot>> {
    Schema::build(Costed::default(), Costed::default(), Costed::default())
}

/// The complexity of a field of root `T`: its base plus its own count, where a field without a
/// function of its own counts its selection (the base takes the place of async-graphql's 1).
fn cost<T: Root>(
    ctx: &VisitorContext<'_>,
    variables: &[Positioned<VariableDefinition>],
    field: &Field,
    child_complexity: usize,
) -> ServerResult<usize> {
    let own = T::own()
        .get()
        .and_then(|own| own.get(field.name.node.as_str()));
    let own = match own {
        Some(own) => own(ctx, variables, field, child_complexity)?,
        None => child_complexity,
    };
    Ok(T::BASE.saturating_add(own))
}

/// Registers the type `register` creates under `type_name`, then gives its fields their base.
fn register_costed<T: Root>(
    registry: &mut Registry,
    type_name: &str,
    register: impl FnOnce(&mut Registry) -> String,
) -> String {
    // Only a first registration holds the derive macros' own functions; a later one finds the
    // type already costed and leaves it as it is.
    let first = !registry.types.contains_key(type_name);
    let registered = register(registry);
    if !first {
        return registered;
    }
    let Some(MetaType::Object { fields, .. }) = registry.types.get_mut(type_name) else {
        return registered;
    };
    let own: Own = fields
        .iter()
        .filter_map(|(name, field)| Some((name.clone(), field.compute_complexity?)))
        .collect();
    // The same type always registers the same functions: the first schema built keeps them.
    T::own().get_or_init(|| own);
    for (name, field) in fields.iter_mut() {
        if !T::FREE.contains(&name.as_str()) {
            field.compute_complexity = Some(cost::<T> as ComplexityFn);
        }
    }
    registered
}

impl<T: Root + OutputType> OutputType for Costed<T> {
    fn type_name() -> Cow<'static, str> {
        T::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        register_costed::<T>(registry, &T::type_name(), T::create_type_info)
    }

    fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> impl Future<Output = ServerResult<Value>> + Send {
        self.0.resolve(ctx, field)
    }
}

impl<T: Root + ContainerType> ContainerType for Costed<T> {
    fn resolve_field(
        &self,
        ctx: &Context<'_>,
    ) -> impl Future<Output = ServerResult<Option<Value>>> + Send {
        self.0.resolve_field(ctx)
    }

    fn find_entity(
        &self,
        ctx: &Context<'_>,
        params: &Value,
    ) -> impl Future<Output = ServerResult<Option<Value>>> + Send {
        self.0.find_entity(ctx, params)
    }
}

impl<T: Root + ObjectType> ObjectType for Costed<T> {}

impl<T: Root + SubscriptionType> SubscriptionType for Costed<T> {
    fn type_name() -> Cow<'static, str> {
        <T as SubscriptionType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        register_costed::<T>(
            registry,
            &<T as SubscriptionType>::type_name(),
            <T as SubscriptionType>::create_type_info,
        )
    }

    fn create_field_stream<'a>(
        &'a self,
        ctx: &'a Context<'_>,
    ) -> Option<Pin<Box<dyn Stream<Item = Response> + Send + 'a>>> {
        self.0.create_field_stream(ctx)
    }
}
