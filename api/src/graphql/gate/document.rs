//! Checks on a parsed document, before async-graphql validates or runs it:
//!
//! - **Its size once fragments are spread.** A fragment that spreads the next one twice, 24
//!   levels deep, is a 1 KB text that async-graphql expands into 2^24 selections, in its
//!   recursion check, its validation and its execution alike: 50 seconds of one core for one
//!   anonymous request. [`measure`] counts the selections every operation of the document
//!   expands to (each spread counts its fragment's selections again), and the gate refuses past
//!   [`MAX_SELECTIONS`](super::MAX_SELECTIONS).
//! - **Its sign-in fields** ([`SIGN_IN_FIELDS`]): the root fields of the mutation that runs,
//!   under any alias, directly or through inline fragments and fragment spreads (each spread
//!   counted every time it is spread).
//!
//! Runs before validation, so the document may be invalid: a cycle of fragments, or an unknown
//! one, counts as nothing (validation refuses the document). The walk neither recurses nor
//! expands a fragment twice (each fragment's totals are worked out once, depth-first with an
//! explicit stack), so no shape of fragments costs more than one pass over the document.

use std::collections::HashMap;

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, OperationType, Selection,
    SelectionSet,
};
use async_graphql::Name;

use super::SIGN_IN_FIELDS;

/// What a document would cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Measure {
    /// The selections (fields, fragment spreads, inline fragments) of all its operations once
    /// every fragment is spread, saturating at `usize::MAX`.
    pub selections: usize,
    /// The sign-in fields of the operation that runs (`operation_name`, as async-graphql picks
    /// it; an operation it would not pick runs nothing and counts 0).
    pub sign_ins: usize,
}

/// Measures `document`, to be run as `operation_name`.
pub fn measure(document: &ExecutableDocument, operation_name: Option<&str>) -> Measure {
    let mut totals = Totals::new(document);
    let selections = document
        .operations
        .iter()
        .map(|(_, operation)| totals.of_set(&operation.node.selection_set.node).selections)
        .fold(0, usize::saturating_add);
    let sign_ins = match operation(document, operation_name) {
        Some(operation) if operation.ty == OperationType::Mutation => {
            totals.of_set(&operation.selection_set.node).sign_ins
        }
        _ => 0,
    };
    Measure {
        selections,
        sign_ins,
    }
}

/// The operation async-graphql runs for `operation_name`.
fn operation<'a>(
    document: &'a ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'a OperationDefinition> {
    match (&document.operations, operation_name) {
        // async-graphql refuses a name given for a single anonymous operation; counting it
        // anyway errs on the safe side.
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

/// A selection set on its own, fragments not spread: its selections at every level, the
/// sign-in fields at its own level (inline fragments included), and the fragments it spreads,
/// once per spread, anywhere and at its own level.
struct Summary {
    selections: usize,
    sign_ins: usize,
    spreads: Vec<Name>,
    root_spreads: Vec<Name>,
}

fn summary(set: &SelectionSet) -> Summary {
    let mut summary = Summary {
        selections: 0,
        sign_ins: 0,
        spreads: Vec::new(),
        root_spreads: Vec::new(),
    };
    // Selection sets nest: a stack instead of recursion. `true`: at the set's own level.
    let mut pending = vec![(set, true)];
    while let Some((set, root)) = pending.pop() {
        summary.selections = summary.selections.saturating_add(set.items.len());
        for selection in &set.items {
            match &selection.node {
                Selection::Field(field) => {
                    if root && SIGN_IN_FIELDS.contains(&field.node.name.node.as_str()) {
                        summary.sign_ins += 1;
                    }
                    pending.push((&field.node.selection_set.node, false));
                }
                Selection::InlineFragment(inline) => {
                    pending.push((&inline.node.selection_set.node, root))
                }
                Selection::FragmentSpread(spread) => {
                    let name = &spread.node.fragment_name.node;
                    summary.spreads.push(name.clone());
                    if root {
                        summary.root_spreads.push(name.clone());
                    }
                }
            }
        }
    }
    summary
}

/// A selection set's totals, every fragment spread.
#[derive(Debug, Clone, Copy, Default)]
struct Total {
    selections: usize,
    sign_ins: usize,
}

/// Each fragment's total once known; `None` while it is being worked out, so that meeting it
/// again is a cycle.
struct Totals<'a> {
    document: &'a ExecutableDocument,
    fragments: HashMap<Name, Option<Total>>,
}

impl<'a> Totals<'a> {
    fn new(document: &'a ExecutableDocument) -> Self {
        Self {
            document,
            fragments: HashMap::new(),
        }
    }

    /// `set`'s summary plus, for every spread, its fragment's total.
    fn of_set(&mut self, set: &SelectionSet) -> Total {
        /// A summary being totalled: its spreads are worked out, in order, from `next` on.
        struct Frame {
            fragment: Option<Name>,
            summary: Summary,
            next: usize,
        }
        let mut stack = vec![Frame {
            fragment: None,
            summary: summary(set),
            next: 0,
        }];
        while let Some(frame) = stack.last_mut() {
            if let Some(name) = frame.summary.spreads.get(frame.next).cloned() {
                frame.next += 1;
                if self.fragments.contains_key(&name) {
                    continue;
                }
                // An unknown fragment: validation refuses the document.
                if let Some(fragment) = self.document.fragments.get(&name) {
                    self.fragments.insert(name.clone(), None);
                    stack.push(Frame {
                        fragment: Some(name),
                        summary: summary(&fragment.node.selection_set.node),
                        next: 0,
                    });
                }
                continue;
            }
            // Every spread of this summary is worked out (or part of a cycle).
            let Some(done) = stack.pop() else { break };
            let total = self.total(&done.summary);
            match done.fragment {
                Some(name) => {
                    self.fragments.insert(name, Some(total));
                }
                None => return total,
            }
        }
        Total::default()
    }

    /// `summary` plus its spreads' totals, all known (a fragment still being worked out, in a
    /// cycle, or unknown adds nothing).
    fn total(&self, summary: &Summary) -> Total {
        let known = |name: &Name| self.fragments.get(name).copied().flatten();
        let selections = summary
            .spreads
            .iter()
            .filter_map(known)
            .map(|total| total.selections)
            .fold(summary.selections, usize::saturating_add);
        let sign_ins = summary
            .root_spreads
            .iter()
            .filter_map(known)
            .map(|total| total.sign_ins)
            .fold(summary.sign_ins, usize::saturating_add);
        Total {
            selections,
            sign_ins,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(query: &str, operation: Option<&str>) -> Measure {
        let document = async_graphql::parser::parse_query(query).expect("a document");
        measure(&document, operation)
    }

    fn sign_ins(query: &str, operation: Option<&str>) -> usize {
        measured(query, operation).sign_ins
    }

    #[test]
    fn counts_root_sign_in_fields_under_aliases_and_fragments() {
        assert_eq!(sign_ins("mutation { login(input: {}) { token } }", None), 1);
        assert_eq!(
            sign_ins("mutation { a: login { token } b: login { token } }", None),
            2
        );
        assert_eq!(
            sign_ins(
                "mutation { ... on MutationRoot { bindContact { token } } ...F ...F }
                 fragment F on MutationRoot { requestBindingCode { accepted } }",
                None
            ),
            3
        );
        // Other mutations, and fields of a payload that happen to share a name (directly or
        // through a fragment), do not count.
        assert_eq!(
            sign_ins(
                "mutation { submitOrder { order { login ...F } } } fragment F on Order { login }",
                None
            ),
            0
        );
        // A query runs no mutation.
        assert_eq!(sign_ins("{ login }", None), 0);
    }

    #[test]
    fn counts_only_the_operation_that_runs() {
        let document = "mutation A { login { token } } mutation B { bindContact { token } changePassword { x } }";
        assert_eq!(sign_ins(document, Some("A")), 1);
        assert_eq!(sign_ins(document, Some("B")), 2);
        assert_eq!(sign_ins(document, Some("C")), 0);
        assert_eq!(sign_ins(document, None), 0);
    }

    #[test]
    fn counts_the_selections_of_every_operation_with_fragments_spread() {
        // A: a, b, c and the spread, plus F's d and e; B: the spread, the inline fragment and
        // f, plus F's again.
        let query = "query A { a { b c } ...F } query B { ...F ... on Query { f } }
                     fragment F on Query { d { e } }";
        assert_eq!(measured(query, Some("A")).selections, 4 + 2 + 1 + 2 + 2);
    }

    #[test]
    fn doubling_chains_and_cycles_of_fragments_cost_one_pass() {
        // 60 levels, each spreading the next twice: 2^60 logins if expanded.
        let mut query = String::from("mutation { ...F0 }\n");
        for level in 0..60 {
            let next = level + 1;
            query.push_str(&format!(
                "fragment F{level} on MutationRoot {{ ...F{next} ...F{next} }}\n"
            ));
        }
        query.push_str("fragment F60 on MutationRoot { login { token } }\n");
        let measure = measured(&query, None);
        assert_eq!(measure.sign_ins, 1 << 60);
        // 2 + 4 + … + 2^60 spreads, and 2^60 × 2 selections in the last fragment.
        assert_eq!(measure.selections, 1 + ((1usize << 61) - 2) + (1 << 61));
        let with_cycle = query.replace(
            "F60 on MutationRoot { login",
            "F60 on MutationRoot { ...F0 login",
        );
        assert_eq!(
            measured(&with_cycle, None).sign_ins,
            1 << 60,
            "the cycle adds nothing"
        );

        let cycle = "mutation { login { token } ...A }
                     fragment A on MutationRoot { ...B }
                     fragment B on MutationRoot { ...A bindContact { token } }";
        assert_eq!(sign_ins(cycle, None), 2);

        let chain: String = (0..10_000)
            .map(|n| format!("fragment F{n} on MutationRoot {{ ...F{} }}\n", n + 1))
            .collect();
        let chain = format!(
            "mutation {{ ...F0 }}\n{chain}fragment F10000 on MutationRoot {{ login {{ token }} }}"
        );
        assert_eq!(sign_ins(&chain, None), 1);
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let mut query = String::from("{ ...F0 }\n");
        for level in 0..70 {
            let next = level + 1;
            query.push_str(&format!(
                "fragment F{level} on Query {{ ...F{next} ...F{next} }}\n"
            ));
        }
        query.push_str("fragment F70 on Query { a }\n");
        assert_eq!(measured(&query, None).selections, usize::MAX);
    }
}
