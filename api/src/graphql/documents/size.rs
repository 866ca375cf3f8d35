//! How many bytes a parsed document holds: every node's own size plus what it allocates (vectors
//! by capacity, names, strings, maps), so that the cache can be bounded by memory rather than by
//! a count of documents whose size varies a thousandfold. A parsed document is far larger than its
//! text (every name, value and selection a node of its own): a text of short fields takes about
//! 30 times its length.
//!
//! An estimate, not an allocator's count: the allocator rounds each block up a little, and hash
//! maps are counted at one control byte per slot. The walk recurses along the document, whose
//! nesting the gate has bounded before it was parsed.

use std::mem::size_of;

use async_graphql::parser::types::{
    BaseType, Directive, DocumentOperations, ExecutableDocument, Field, FragmentDefinition,
    OperationDefinition, Selection, SelectionSet, Type, VariableDefinition,
};
use async_graphql::parser::Positioned;
use async_graphql::Name;
use async_graphql_value::{ConstValue, Value};

/// The estimated bytes of `document`, kept behind an `Arc`.
pub fn of(document: &ExecutableDocument) -> usize {
    // The `Arc`'s two counters.
    let mut bytes = 2 * size_of::<usize>() + size_of::<ExecutableDocument>();
    bytes += match &document.operations {
        DocumentOperations::Single(operation) => operation_heap(&operation.node),
        DocumentOperations::Multiple(operations) => {
            map_slots::<Name, Positioned<OperationDefinition>>(operations.capacity())
                + operations
                    .iter()
                    .map(|(name, operation)| name_heap(name) + operation_heap(&operation.node))
                    .sum::<usize>()
        }
    };
    bytes += map_slots::<Name, Positioned<FragmentDefinition>>(document.fragments.capacity());
    bytes += document
        .fragments
        .iter()
        .map(|(name, fragment)| name_heap(name) + fragment_heap(&fragment.node))
        .sum::<usize>();
    bytes
}

/// A hash map's table: each slot holds a key and a value, plus one control byte.
fn map_slots<K, V>(capacity: usize) -> usize {
    capacity * (size_of::<(K, V)>() + 1)
}

/// A vector's buffer (by capacity) plus what each element holds.
fn vec_heap<T>(items: &[T], capacity: usize, heap: impl Fn(&T) -> usize) -> usize {
    capacity * size_of::<T>() + items.iter().map(heap).sum::<usize>()
}

/// A name is an `Arc<str>`: two counters and the text.
fn name_heap(name: &Name) -> usize {
    2 * size_of::<usize>() + name.len()
}

fn operation_heap(operation: &OperationDefinition) -> usize {
    vec_heap(
        &operation.variable_definitions,
        operation.variable_definitions.capacity(),
        |definition| variable_heap(&definition.node),
    ) + directives_heap(&operation.directives)
        + selection_set_heap(&operation.selection_set.node)
}

fn variable_heap(definition: &VariableDefinition) -> usize {
    name_heap(&definition.name.node)
        + type_heap(&definition.var_type.node)
        + directives_heap(&definition.directives)
        + definition
            .default_value
            .as_ref()
            .map_or(0, |value| const_value_heap(&value.node))
}

fn type_heap(ty: &Type) -> usize {
    match &ty.base {
        BaseType::Named(name) => name_heap(name),
        BaseType::List(inner) => size_of::<Type>() + type_heap(inner),
    }
}

fn fragment_heap(fragment: &FragmentDefinition) -> usize {
    name_heap(&fragment.type_condition.node.on.node)
        + directives_heap(&fragment.directives)
        + selection_set_heap(&fragment.selection_set.node)
}

fn selection_set_heap(set: &SelectionSet) -> usize {
    vec_heap(
        &set.items,
        set.items.capacity(),
        |selection| match &selection.node {
            Selection::Field(field) => field_heap(&field.node),
            Selection::FragmentSpread(spread) => {
                name_heap(&spread.node.fragment_name.node)
                    + directives_heap(&spread.node.directives)
            }
            Selection::InlineFragment(inline) => {
                inline
                    .node
                    .type_condition
                    .as_ref()
                    .map_or(0, |condition| name_heap(&condition.node.on.node))
                    + directives_heap(&inline.node.directives)
                    + selection_set_heap(&inline.node.selection_set.node)
            }
        },
    )
}

fn field_heap(field: &Field) -> usize {
    field
        .alias
        .as_ref()
        .map_or(0, |alias| name_heap(&alias.node))
        + name_heap(&field.name.node)
        + arguments_heap(&field.arguments)
        + directives_heap(&field.directives)
        + selection_set_heap(&field.selection_set.node)
}

fn arguments_heap(arguments: &Vec<(Positioned<Name>, Positioned<Value>)>) -> usize {
    vec_heap(arguments, arguments.capacity(), |(name, value)| {
        name_heap(&name.node) + value_heap(&value.node)
    })
}

fn directives_heap(directives: &Vec<Positioned<Directive>>) -> usize {
    vec_heap(directives, directives.capacity(), |directive| {
        name_heap(&directive.node.name.node) + arguments_heap(&directive.node.arguments)
    })
}

/// An index map's entries (key, value and hash) and its index table (one index and one control
/// byte per slot).
fn index_map_slots<K, V>(capacity: usize) -> usize {
    capacity * (size_of::<(K, V)>() + 2 * size_of::<usize>() + 1)
}

fn value_heap(value: &Value) -> usize {
    match value {
        Value::Variable(name) | Value::Enum(name) => name_heap(name),
        Value::String(text) => text.capacity(),
        Value::Binary(bytes) => bytes.len(),
        Value::List(items) => vec_heap(items, items.capacity(), value_heap),
        Value::Object(fields) => {
            index_map_slots::<Name, Value>(fields.capacity())
                + fields
                    .iter()
                    .map(|(key, item)| name_heap(key) + value_heap(item))
                    .sum::<usize>()
        }
        Value::Null | Value::Number(_) | Value::Boolean(_) => 0,
    }
}

fn const_value_heap(value: &ConstValue) -> usize {
    match value {
        ConstValue::Enum(name) => name_heap(name),
        ConstValue::String(text) => text.capacity(),
        ConstValue::Binary(bytes) => bytes.len(),
        ConstValue::List(items) => vec_heap(items, items.capacity(), const_value_heap),
        ConstValue::Object(fields) => {
            index_map_slots::<Name, ConstValue>(fields.capacity())
                + fields
                    .iter()
                    .map(|(key, item)| name_heap(key) + const_value_heap(item))
                    .sum::<usize>()
        }
        ConstValue::Null | ConstValue::Number(_) | ConstValue::Boolean(_) => 0,
    }
}
