//! The request's variables: nested at most [`MAX_NESTING`] deep, and no NUL in any string or
//! key, wherever it sits.
//!
//! The JSON decoder already stops at 128 levels (serde_json's limit, on HTTP and WebSocket
//! alike), so the variables cannot overflow a stack; the bound here keeps them under the same
//! limit as the query's text. The walk stops at the first level past the bound, so its own
//! recursion is bounded whatever it is given.

use async_graphql::{Name, Value, Variables};

use super::{Place, Refusal, MAX_NESTING};

/// Checks every variable of the request; a refusal names the path of the value at fault
/// (`input.lines[2].note`).
pub fn check(variables: &Variables) -> Result<(), Refusal> {
    for (name, value) in variables.iter() {
        let outcome = if has_nul(name) {
            Err(Fault::nul())
        } else {
            walk(value, 0)
        };
        if let Err(fault) = outcome {
            return Err(fault.at(name));
        }
    }
    Ok(())
}

/// What the walk found, and the path to it from the variable, innermost segment first.
struct Fault {
    too_deep: bool,
    path: Vec<Segment>,
}

enum Segment {
    Key(Name),
    Index(usize),
}

impl Fault {
    fn nul() -> Self {
        Self {
            too_deep: false,
            path: Vec::new(),
        }
    }

    fn within(mut self, segment: Segment) -> Self {
        self.path.push(segment);
        self
    }

    fn at(self, variable: &Name) -> Refusal {
        let mut field = variable.to_string();
        for segment in self.path.iter().rev() {
            match segment {
                Segment::Key(key) => {
                    field.push('.');
                    field.push_str(key);
                }
                Segment::Index(index) => field.push_str(&format!("[{index}]")),
            }
        }
        let place = Place::Variable(field);
        if self.too_deep {
            Refusal::TooDeep(place)
        } else {
            Refusal::Nul(place)
        }
    }
}

/// `value`, found `depth` lists or objects deep.
fn walk(value: &Value, depth: usize) -> Result<(), Fault> {
    match value {
        Value::String(text) if has_nul(text) => Err(Fault::nul()),
        Value::Enum(name) if has_nul(name) => Err(Fault::nul()),
        Value::List(_) | Value::Object(_) if depth >= MAX_NESTING => Err(Fault {
            too_deep: true,
            path: Vec::new(),
        }),
        Value::List(items) => items.iter().enumerate().try_for_each(|(index, item)| {
            walk(item, depth + 1).map_err(|fault| fault.within(Segment::Index(index)))
        }),
        Value::Object(fields) => fields.iter().try_for_each(|(key, item)| {
            let outcome = if has_nul(key) {
                Err(Fault::nul())
            } else {
                walk(item, depth + 1)
            };
            outcome.map_err(|fault| fault.within(Segment::Key(key.clone())))
        }),
        _ => Ok(()),
    }
}

fn has_nul(text: &str) -> bool {
    text.as_bytes().contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables(json: serde_json::Value) -> Variables {
        Variables::from_json(json)
    }

    fn refusal(json: serde_json::Value) -> Option<(bool, String)> {
        match check(&variables(json)) {
            Ok(()) => None,
            Err(Refusal::TooDeep(Place::Variable(field))) => Some((true, field)),
            Err(Refusal::Nul(Place::Variable(field))) => Some((false, field)),
            Err(other) => panic!("unexpected {other:?}"),
        }
    }

    fn nested(levels: usize) -> serde_json::Value {
        (0..levels).fold(serde_json::json!(1), |inner, _| serde_json::json!([inner]))
    }

    #[test]
    fn refuses_a_nul_anywhere_and_names_its_path() {
        let clean = serde_json::json!({"input": {"lines": [{"note": "fine", "qty": 2}]}});
        assert_eq!(refusal(clean), None);
        let found = refusal(serde_json::json!({"id": "a\u{0}b"}));
        assert_eq!(found, Some((false, "id".to_owned())));
        let found =
            refusal(serde_json::json!({"input": {"lines": [{"note": "ok"}, {"note": "\u{0}"}]}}));
        assert_eq!(found, Some((false, "input.lines[1].note".to_owned())));
        let found = refusal(serde_json::json!({"filter": {"eventTypes": ["A", "B\u{0}"]}}));
        assert_eq!(found, Some((false, "filter.eventTypes[1]".to_owned())));
        let found = refusal(serde_json::json!({"input": {"bad\u{0}key": 1}}));
        assert_eq!(found, Some((false, "input.bad\u{0}key".to_owned())));
    }

    #[test]
    fn refuses_values_nested_past_the_bound() {
        assert_eq!(refusal(serde_json::json!({"v": nested(MAX_NESTING)})), None);
        let found = refusal(serde_json::json!({"v": nested(MAX_NESTING + 1)}));
        let path = format!("v{}", "[0]".repeat(MAX_NESTING));
        assert_eq!(found, Some((true, path)));
    }
}
