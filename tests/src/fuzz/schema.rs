//! The schema as the fuzzer sees it: every type of the SDL that `dinghuo serve` serves
//! ([`dinghuo_api::graphql::sdl`], the text `api/schema.graphql` is checked against), read with
//! async-graphql's own SDL parser. Nothing here names a field of ours: when the schema changes,
//! the operations change with it.

use std::collections::BTreeMap;

use async_graphql::parser::types::{BaseType, Type, TypeKind, TypeSystemDefinition};

/// A field of an object type (with its arguments), or of an input object.
#[derive(Debug, Clone)]
pub struct Field {
    pub name: String,
    /// The field's arguments; empty for input-object fields.
    pub arguments: Vec<InputValue>,
    pub ty: Type,
}

/// An argument, or a field of an input object.
#[derive(Debug, Clone)]
pub struct InputValue {
    pub name: String,
    pub ty: Type,
    /// Declared with a default: leaving it out is fine even when the type is non-null.
    pub has_default: bool,
}

impl InputValue {
    /// Must be given: non-null and without a default.
    pub fn required(&self) -> bool {
        !self.ty.nullable && !self.has_default
    }
}

/// An input object: its fields, and whether exactly one of them must be given (`@oneOf`).
#[derive(Debug, Clone)]
pub struct InputObject {
    pub fields: Vec<InputValue>,
    pub one_of: bool,
}

/// What a named type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Scalar,
    Enum,
    Input,
    /// An object or an interface: something with fields to select.
    Object,
    /// A union: only `__typename` and fragments on its members.
    Union,
}

/// The types of the schema, by name.
#[derive(Debug, Clone)]
pub struct SchemaModel {
    pub query: String,
    pub mutation: Option<String>,
    pub subscription: Option<String>,
    /// Object and interface types and their fields, in SDL order.
    pub objects: BTreeMap<String, Vec<Field>>,
    pub unions: BTreeMap<String, Vec<String>>,
    pub inputs: BTreeMap<String, InputObject>,
    pub enums: BTreeMap<String, Vec<String>>,
    /// Declared scalars plus GraphQL's built-in five.
    pub scalars: Vec<String>,
}

impl SchemaModel {
    /// The schema the server runs.
    pub fn served() -> Self {
        Self::parse(&dinghuo_api::graphql::sdl()).expect("the served SDL parses")
    }

    /// Reads an SDL document.
    pub fn parse(sdl: &str) -> Result<Self, String> {
        let document =
            async_graphql::parser::parse_schema(sdl).map_err(|error| error.to_string())?;
        let mut model = Self {
            query: "Query".to_owned(),
            mutation: None,
            subscription: None,
            objects: BTreeMap::new(),
            unions: BTreeMap::new(),
            inputs: BTreeMap::new(),
            enums: BTreeMap::new(),
            scalars: ["Int", "Float", "String", "Boolean", "ID"]
                .map(str::to_owned)
                .to_vec(),
        };
        let mut declared_roots = false;
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    declared_roots = true;
                    if let Some(query) = schema.query {
                        model.query = query.node.to_string();
                    }
                    model.mutation = schema.mutation.map(|name| name.node.to_string());
                    model.subscription = schema.subscription.map(|name| name.node.to_string());
                }
                TypeSystemDefinition::Type(definition) => {
                    let definition = definition.node;
                    let name = definition.name.node.to_string();
                    let one_of = definition
                        .directives
                        .iter()
                        .any(|directive| directive.node.name.node.as_str() == "oneOf");
                    match definition.kind {
                        TypeKind::Scalar => model.scalars.push(name),
                        TypeKind::Enum(kind) => {
                            let values = kind
                                .values
                                .into_iter()
                                .map(|value| value.node.value.node.to_string())
                                .collect();
                            model.enums.insert(name, values);
                        }
                        TypeKind::Union(kind) => {
                            let members = kind
                                .members
                                .into_iter()
                                .map(|member| member.node.to_string())
                                .collect();
                            model.unions.insert(name, members);
                        }
                        TypeKind::InputObject(kind) => {
                            let fields = kind
                                .fields
                                .into_iter()
                                .map(|field| input_value(field.node))
                                .collect();
                            model.inputs.insert(name, InputObject { fields, one_of });
                        }
                        TypeKind::Object(kind) => {
                            model.objects.insert(name, fields(kind.fields));
                        }
                        TypeKind::Interface(kind) => {
                            model.objects.insert(name, fields(kind.fields));
                        }
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        if !declared_roots {
            let present = |name: &str| model.objects.contains_key(name).then(|| name.to_owned());
            model.mutation = present("Mutation");
            model.subscription = present("Subscription");
        }
        Ok(model)
    }

    /// What `name` is; `None` for a name the schema does not have.
    pub fn kind(&self, name: &str) -> Option<Kind> {
        if self.scalars.iter().any(|scalar| scalar == name) {
            Some(Kind::Scalar)
        } else if self.enums.contains_key(name) {
            Some(Kind::Enum)
        } else if self.inputs.contains_key(name) {
            Some(Kind::Input)
        } else if self.objects.contains_key(name) {
            Some(Kind::Object)
        } else if self.unions.contains_key(name) {
            Some(Kind::Union)
        } else {
            None
        }
    }

    /// The fields of a root (`query`, `mutation`, `subscription`).
    pub fn root_fields(&self, root: &str) -> &[Field] {
        self.objects.get(root).map(Vec::as_slice).unwrap_or(&[])
    }

    /// Every object type that has at least one field (what a fragment can be on).
    pub fn object_names(&self) -> Vec<&str> {
        self.objects.keys().map(String::as_str).collect()
    }
}

/// The innermost named type of `ty` (`[Order!]!` → `Order`).
pub fn named(ty: &Type) -> &str {
    match &ty.base {
        BaseType::Named(name) => name.as_str(),
        BaseType::List(inner) => named(inner),
    }
}

fn input_value(value: async_graphql::parser::types::InputValueDefinition) -> InputValue {
    InputValue {
        name: value.name.node.to_string(),
        ty: value.ty.node,
        has_default: value.default_value.is_some(),
    }
}

fn fields(
    definitions: Vec<
        async_graphql::parser::Positioned<async_graphql::parser::types::FieldDefinition>,
    >,
) -> Vec<Field> {
    definitions
        .into_iter()
        .map(|field| {
            let field = field.node;
            Field {
                name: field.name.node.to_string(),
                arguments: field
                    .arguments
                    .into_iter()
                    .map(|argument| input_value(argument.node))
                    .collect(),
                ty: field.ty.node,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_served_schema_has_every_root_and_its_fields() {
        let model = SchemaModel::served();
        assert!(!model.root_fields(&model.query).is_empty());
        let mutation = model.mutation.as_deref().expect("a mutation root");
        assert!(model
            .root_fields(mutation)
            .iter()
            .any(|f| f.name == "submitOrder"));
        let subscription = model.subscription.as_deref().expect("a subscription root");
        assert!(!model.root_fields(subscription).is_empty());
        assert!(model.inputs.get("AsOf").is_some_and(|input| input.one_of));
        assert_eq!(model.kind("DateTime"), Some(Kind::Scalar));
        assert_eq!(model.kind("ID"), Some(Kind::Scalar));
    }
}
