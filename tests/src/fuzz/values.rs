//! Argument values, valid and broken. A [`Value`] is written into the document as a literal or
//! sent as a variable (JSON); [`ValueGen`] makes one for any input type of the schema.
//!
//! A valid value is what a well-behaved client would send: a real id of the right kind (from
//! [`Ids`], chosen by the argument's name), a plausible phone, SKU, amount or date. With the
//! case's flaw rate, any value in the tree is broken instead: the wrong type, `null` where the
//! type is non-null, a required field left out, a number out of range, a huge, empty, unicode or
//! control-character string, a NUL byte, a malformed id, an unknown enum value or input field,
//! a long list, or a value nested [`ValueGen::max_nesting`] deep. Each flaw is recorded as a
//! [`Tag`] of the case, for the report.

use std::collections::BTreeSet;

use async_graphql::parser::types::{BaseType, Type};
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::json;

use super::cast::Ids;
use super::schema::{named, Kind, SchemaModel};
use super::Tag;

/// An input value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Int(i64),
    /// A number no integer type holds (`1e400`, 20 digits): written as is in a literal, sent as
    /// the nearest float (or a string, past `f64`) in JSON.
    Number(String),
    Float(f64),
    Str(String),
    Bool(bool),
    Enum(String),
    List(Vec<Value>),
    Object(Vec<(String, Value)>),
    /// `$name`, in a literal only.
    Var(String),
    /// `depth` lists (`[[…]]`), or objects (`{key: {key: …}}`) when `key` is given, around
    /// `leaf`. Written and sent without recursion, so that a value nested thousands of levels
    /// costs the fuzzer no stack.
    Nested {
        depth: usize,
        key: Option<String>,
        leaf: Box<Value>,
    },
    /// Text written into the document verbatim, such as a string with an escape JSON cannot
    /// carry (`"\uD800"`); sent as that text in JSON.
    Raw(String),
}

impl Value {
    /// The value as GraphQL literal text.
    pub fn literal(&self) -> String {
        let mut out = String::new();
        self.write_literal(&mut out);
        out
    }

    fn write_literal(&self, out: &mut String) {
        match self {
            Value::Null => out.push_str("null"),
            Value::Int(number) => out.push_str(&number.to_string()),
            Value::Number(text) | Value::Raw(text) => out.push_str(text),
            Value::Float(number) => out.push_str(&format!("{number:?}")),
            Value::Str(text) => write_string(text, out),
            Value::Bool(flag) => out.push_str(if *flag { "true" } else { "false" }),
            Value::Enum(name) => out.push_str(name),
            Value::List(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.write_literal(out);
                }
                out.push(']');
            }
            Value::Object(fields) => {
                out.push('{');
                for (i, (name, value)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(name);
                    out.push_str(": ");
                    value.write_literal(out);
                }
                out.push('}');
            }
            Value::Var(name) => {
                out.push('$');
                out.push_str(name);
            }
            Value::Nested { depth, key, leaf } => {
                match key {
                    Some(key) => {
                        for _ in 0..*depth {
                            out.push('{');
                            out.push_str(key);
                            out.push_str(": ");
                        }
                    }
                    None => out.push_str(&"[".repeat(*depth)),
                }
                leaf.write_literal(out);
                let close = if key.is_some() { "}" } else { "]" };
                out.push_str(&close.repeat(*depth));
            }
        }
    }

    /// How deep lists and objects nest in it (a scalar is 0).
    pub fn depth(&self) -> usize {
        match self {
            Value::List(items) => 1 + items.iter().map(Value::depth).max().unwrap_or(0),
            Value::Object(fields) => {
                1 + fields
                    .iter()
                    .map(|(_, value)| value.depth())
                    .max()
                    .unwrap_or(0)
            }
            Value::Nested { depth, leaf, .. } => depth + leaf.depth(),
            _ => 0,
        }
    }

    /// The value as a variable's JSON (an enum is its name as a string).
    pub fn json(&self) -> serde_json::Value {
        match self {
            Value::Null | Value::Var(_) => serde_json::Value::Null,
            Value::Int(number) => json!(number),
            Value::Number(text) => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(serde_json::Value::Number)
                .unwrap_or_else(|| json!(text)),
            Value::Float(number) => serde_json::Number::from_f64(*number)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            Value::Str(text) | Value::Enum(text) | Value::Raw(text) => json!(text),
            Value::Bool(flag) => json!(flag),
            Value::List(items) => items.iter().map(Value::json).collect(),
            Value::Object(fields) => fields
                .iter()
                .map(|(name, value)| (name.clone(), value.json()))
                .collect::<serde_json::Map<_, _>>()
                .into(),
            Value::Nested { depth, key, leaf } => {
                let mut value = leaf.json();
                for _ in 0..(*depth).min(JSON_NESTING) {
                    value = match key {
                        Some(key) => json!({ key: value }),
                        None => json!([value]),
                    };
                }
                value
            }
        }
    }
}

/// The deepest nesting sent in a variable's JSON. serde_json refuses more than 128 levels
/// before GraphQL sees them (the server answers 400), so deeper adds nothing there; and a JSON
/// tree is built, written and dropped recursively, on the fuzzer's own stack.
const JSON_NESTING: usize = 200;

/// A GraphQL string literal: quotes, backslashes and control characters escaped.
fn write_string(text: &str, out: &mut String) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A variable of the operation being written: its name, declared type, the JSON sent for it
/// (`None`: left out of `variables`), and its default in the declaration, if any.
#[derive(Debug, Clone)]
pub struct Variable {
    pub name: String,
    pub declared: String,
    pub value: Option<serde_json::Value>,
    pub default: Option<String>,
}

/// Makes values for one case. Holds the case's random source, its tags, and the variables
/// declared so far.
pub struct ValueGen<'a> {
    pub schema: &'a SchemaModel,
    pub ids: &'a Ids,
    pub rng: StdRng,
    pub tags: BTreeSet<Tag>,
    /// Chance that any one value of the case is broken.
    pub flaw_rate: f64,
    /// Chance that a value is passed as a variable rather than written in the document.
    pub var_rate: f64,
    /// The deepest nesting of list or object values generated (see `Settings::max_nesting`).
    pub max_nesting: usize,
    /// The variables of the operation being written.
    pub vars: Vec<Variable>,
    /// Variable names are unique across the request, so operations of one document never
    /// clash.
    pub next_var: usize,
}

impl<'a> ValueGen<'a> {
    /// A value for `ty`; `hint` is the argument's or input field's name (or, for a bare `id`
    /// argument, the field's), which tells what kind of id or text fits. `vars`: whether the
    /// value may become a variable (not inside a variable's own value or default).
    pub fn value(&mut self, ty: &Type, hint: &str, vars: bool) -> Value {
        if vars && self.rng.gen_bool(self.var_rate) {
            return self.variable(ty, hint);
        }
        if self.rng.gen_bool(self.flaw_rate) {
            return self.flawed(ty, hint);
        }
        if ty.nullable && self.rng.gen_bool(0.08) {
            return Value::Null;
        }
        match &ty.base {
            BaseType::List(inner) => {
                // GraphQL coerces a single value into a list of one.
                if self.rng.gen_bool(0.1) {
                    return self.value(inner, hint, vars);
                }
                let count = self.rng.gen_range(usize::from(!ty.nullable)..=3);
                Value::List((0..count).map(|_| self.value(inner, hint, vars)).collect())
            }
            BaseType::Named(name) => match self.schema.kind(name) {
                Some(Kind::Scalar) => self.scalar(name, hint),
                Some(Kind::Enum) => self.enum_value(name),
                Some(Kind::Input) => self.input_object(name, vars),
                _ => Value::Null,
            },
        }
    }

    /// A value without flaws (inside a flaw that repeats or wraps it, so that flaws never
    /// compound: a long list of huge strings would be gigabytes).
    fn sound(&mut self, ty: &Type, hint: &str) -> Value {
        let flaw_rate = std::mem::replace(&mut self.flaw_rate, 0.0);
        let value = self.value(ty, hint, false);
        self.flaw_rate = flaw_rate;
        value
    }

    /// Declares a variable of `ty` (now and then of a mismatched type, or left without a
    /// value, or with a default) and answers `$name`.
    fn variable(&mut self, ty: &Type, hint: &str) -> Value {
        let name = format!("v{}", self.next_var);
        self.next_var += 1;
        self.tags.insert(Tag::Variables);
        let value = self.value(ty, hint, false);
        let mut declared = ty.to_string();
        if self.rng.gen_bool(self.flaw_rate / 2.0) {
            self.tags.insert(Tag::VariableTypeMismatch);
            declared = ["String", "Int!", "[ID!]!", "Boolean", "NoSuchType", "ID"]
                .choose(&mut self.rng)
                .map(|text| (*text).to_owned())
                .unwrap_or(declared);
        }
        let mut variable = Variable {
            name: name.clone(),
            declared,
            value: Some(value.json()),
            default: None,
        };
        match self.rng.gen_range(0..20) {
            // Given by a default instead of by the request.
            0 | 1 => {
                variable.default = Some(value.literal());
                variable.value = None;
            }
            // Left out: an error when non-null, `null` otherwise.
            2 if self.flaw_rate > 0.0 || ty.nullable => {
                if !ty.nullable {
                    self.tags.insert(Tag::MissingRequired);
                }
                variable.value = None;
            }
            _ => {}
        }
        self.vars.push(variable);
        Value::Var(name)
    }

    fn scalar(&mut self, name: &str, hint: &str) -> Value {
        let hint = hint.to_ascii_lowercase();
        match name {
            "ID" => Value::Str(self.ids.pick(&hint, &mut self.rng)),
            "Int" => Value::Int(self.int(&hint)),
            "Float" => Value::Float(self.rng.gen_range(0.0..1000.0)),
            "Boolean" => Value::Bool(self.rng.gen()),
            "Date" => Value::Str(self.date()),
            "DateTime" => Value::Str(format!(
                "{}T{:02}:{:02}:00Z",
                self.date(),
                self.rng.gen_range(0..24),
                self.rng.gen_range(0..60)
            )),
            "JSON" => Value::Object(vec![("note".into(), Value::Str(self.words()))]),
            // `String`, and any scalar the schema adds later.
            _ => Value::Str(self.text(&hint)),
        }
    }

    fn int(&mut self, hint: &str) -> i64 {
        match hint {
            "first" => *[1, 2, 5, 10, 20, 50, 100]
                .choose(&mut self.rng)
                .unwrap_or(&10),
            "quantity" => self.rng.gen_range(1..=5),
            "version" => self.rng.gen_range(0..=6),
            _ => self.rng.gen_range(0..=10),
        }
    }

    fn date(&mut self) -> String {
        format!(
            "{}-{:02}-{:02}",
            self.rng.gen_range(2020..=2027),
            self.rng.gen_range(1..=12),
            self.rng.gen_range(1..=28)
        )
    }

    /// Text that fits a field of this name.
    fn text(&mut self, hint: &str) -> String {
        let rng = &mut self.rng;
        if hint.contains("phone") {
            if rng.gen_bool(0.8) {
                return self.ids.phones.choose(rng).cloned().unwrap_or_default();
            }
            return format!(
                "1{}{:09}",
                rng.gen_range(3..=9),
                rng.gen_range(0..1_000_000_000)
            );
        }
        if hint.contains("password") {
            return ["password-123", "wrong-password", "另一个密码abc", "short"]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default();
        }
        match hint {
            "code" => format!("{:06}", rng.gen_range(0..1_000_000)),
            "channel" => ["MINI_PROGRAM", "OFFICIAL_ACCOUNT", "WEB_QR", "APP"]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
            "sku" => format!("FZ-{:04}", rng.gen_range(0..10_000)),
            "amount" => format!("{}.{:02}", rng.gen_range(0..1000), rng.gen_range(0..100)),
            "currency" => ["CNY", "CNY", "USD", "cny"]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
            "appid" => format!("wx{:016x}", rng.gen::<u64>()),
            "url" => format!("https://example.com/page/{}", rng.gen_range(0..100)),
            "eventtypes" => self
                .ids
                .event_types
                .choose(rng)
                .cloned()
                .unwrap_or_default(),
            "after" => ["", "bm90IGEgY3Vyc29y", "0", "MTIz", "%%%"]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
            "idempotencykey" => format!("key-{}", rng.gen_range(0..50)),
            "wechatopenid" => format!("open-{}", rng.gen_range(0..1000)),
            "nameprefix" => ["Dealer", "D", "Dealer Two", "经销", ""]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
            "skuprefix" => ["SKU", "sku-0", "FZ", ""]
                .choose(rng)
                .map(|text| (*text).to_owned())
                .unwrap_or_default(),
            _ => self.words(),
        }
    }

    fn words(&mut self) -> String {
        const WORDS: [&str; 10] = [
            "Green tea",
            "box",
            "out of stock",
            "SF Express",
            "经销商",
            "订货",
            "Dealer Four",
            "note",
            "Zhao Liu",
            "北京市朝阳区",
        ];
        WORDS
            .choose(&mut self.rng)
            .map(|w| (*w).to_owned())
            .unwrap_or_default()
    }

    fn enum_value(&mut self, name: &str) -> Value {
        let values = self.schema.enums.get(name).cloned().unwrap_or_default();
        values
            .choose(&mut self.rng)
            .cloned()
            .map(Value::Enum)
            .unwrap_or(Value::Null)
    }

    fn input_object(&mut self, name: &str, vars: bool) -> Value {
        let Some(input) = self.schema.inputs.get(name).cloned() else {
            return Value::Null;
        };
        if input.one_of {
            // Exactly one field, never null.
            let Some(field) = input.fields.choose(&mut self.rng) else {
                return Value::Object(Vec::new());
            };
            let mut ty = field.ty.clone();
            ty.nullable = false;
            let value = self.value(&ty, &field.name, vars);
            return Value::Object(vec![(field.name.clone(), value)]);
        }
        let mut fields = Vec::new();
        for field in &input.fields {
            if field.required() || self.rng.gen_bool(0.5) {
                fields.push((field.name.clone(), self.value(&field.ty, &field.name, vars)));
            }
        }
        Value::Object(fields)
    }

    /// A broken value where `ty` is expected.
    fn flawed(&mut self, ty: &Type, hint: &str) -> Value {
        let name = named(ty).to_owned();
        let kind = self.schema.kind(&name);
        let is_list = matches!(ty.base, BaseType::List(_));
        loop {
            match self.rng.gen_range(0..14) {
                0 if !ty.nullable => {
                    self.tags.insert(Tag::NullForNonNull);
                    return Value::Null;
                }
                1 => {
                    self.tags.insert(Tag::WrongType);
                    return self.wrong_type(kind, is_list);
                }
                2 if name == "Int" || name == "Float" || hint.eq_ignore_ascii_case("amount") => {
                    self.tags.insert(Tag::OutOfRange);
                    return self.out_of_range(&name);
                }
                3 if is_string_like(&name) => {
                    self.tags.insert(Tag::HugeString);
                    return Value::Str(self.huge_string());
                }
                4 if is_string_like(&name) => {
                    self.tags.insert(Tag::EmptyString);
                    return Value::Str(String::new());
                }
                5 if is_string_like(&name) => {
                    self.tags.insert(Tag::Unicode);
                    return self.unicode();
                }
                6 if is_string_like(&name) => {
                    self.tags.insert(Tag::ControlChars);
                    let base = self.text(&hint.to_ascii_lowercase());
                    let junk = [
                        "\u{1}",
                        "\u{7}",
                        "\u{1b}[31m",
                        "\r\n",
                        "\t",
                        "\u{7f}",
                        "\u{8}",
                    ];
                    let junk = junk.choose(&mut self.rng).copied().unwrap_or("\u{1}");
                    return Value::Str(format!("{base}{junk}{base}"));
                }
                7 if is_string_like(&name) => {
                    self.tags.insert(Tag::Nul);
                    let base = match self.scalar(&name, hint) {
                        Value::Str(text) => text,
                        _ => String::new(),
                    };
                    let at = self.rng.gen_range(0..=base.chars().count());
                    let mut text: String = base.chars().take(at).collect();
                    text.push('\0');
                    text.extend(base.chars().skip(at));
                    return Value::Str(text);
                }
                8 if name == "ID" || name == "Date" || name == "DateTime" => {
                    self.tags.insert(Tag::MalformedScalar);
                    return self.malformed(&name);
                }
                9 => {
                    self.tags.insert(Tag::DeepNesting);
                    return self.nested(ty, hint);
                }
                10 if kind == Some(Kind::Enum) => {
                    self.tags.insert(Tag::UnknownEnum);
                    let known = self.enum_value(&name);
                    return match self.rng.gen_range(0..4) {
                        0 => Value::Enum("NOT_A_VALUE".into()),
                        1 => match known {
                            Value::Enum(value) => Value::Enum(value.to_ascii_lowercase()),
                            other => other,
                        },
                        2 => match known {
                            Value::Enum(value) => Value::Str(value),
                            other => other,
                        },
                        _ => Value::Enum("true".into()),
                    };
                }
                11 if kind == Some(Kind::Input) => {
                    return self.broken_object(&name);
                }
                12 if is_list => {
                    self.tags.insert(Tag::LongList);
                    let BaseType::List(inner) = &ty.base else {
                        continue;
                    };
                    let inner = (**inner).clone();
                    let leaf = self.sound(&inner, hint);
                    let count = self.rng.gen_range(100..=1_500);
                    return Value::List(vec![leaf; count]);
                }
                13 => {
                    self.tags.insert(Tag::RawLiteral);
                    return self.raw_literal();
                }
                _ => continue,
            }
        }
    }

    fn wrong_type(&mut self, kind: Option<Kind>, is_list: bool) -> Value {
        let choices = [
            Value::Int(42),
            Value::Float(3.5),
            Value::Str("42".into()),
            Value::Bool(true),
            Value::Enum("ORDERING".into()),
            Value::Object(vec![("id".into(), Value::Int(1))]),
            Value::List(vec![Value::Str("x".into()), Value::Int(1)]),
            Value::Object(Vec::new()),
            Value::List(Vec::new()),
        ];
        let pick = choices
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or(Value::Null);
        // An empty list for a list type is no flaw; an object for an input object may be.
        match (&pick, kind, is_list) {
            (Value::List(items), _, true) if items.is_empty() => Value::Int(7),
            _ => pick,
        }
    }

    fn out_of_range(&mut self, name: &str) -> Value {
        if name == "String" {
            let amounts = [
                "-1.00",
                "0.001",
                "1e9",
                "NaN",
                "99999999999999999999.99",
                "١٢.٥٠",
                "12,50",
                "+5",
                " 1.00",
                "0x10",
                "-0",
            ];
            return Value::Str(
                amounts
                    .choose(&mut self.rng)
                    .map(|a| (*a).to_owned())
                    .unwrap_or_default(),
            );
        }
        match self.rng.gen_range(0..9) {
            0 => Value::Int(i64::from(i32::MAX) + 1),
            1 => Value::Int(i64::from(i32::MIN) - 1),
            2 => Value::Int(i64::MAX),
            3 => Value::Int(-1),
            4 => Value::Int(0),
            5 => Value::Number("1e400".into()),
            6 => Value::Number("-99999999999999999999999".into()),
            7 => Value::Float(1.5),
            _ => Value::Int(i64::from(i32::MAX)),
        }
    }

    /// 1 KB to 200 KB, now and then past the body limit (1 MiB by default).
    fn huge_string(&mut self) -> String {
        let length = *[1_000usize, 10_000, 64_000, 200_000, 1_100_000]
            .choose(&mut self.rng)
            .unwrap_or(&1_000);
        if length > 1 << 20 {
            // Just past the limit: one byte each, however it is escaped.
            return "a".repeat(length);
        }
        let unit = ["a", "订", "😀", "%", "'", "\\"]
            .choose(&mut self.rng)
            .copied()
            .unwrap_or("a");
        unit.repeat(length / unit.len().max(1))
    }

    fn unicode(&mut self) -> Value {
        let texts = [
            "订货通 经销商",
            "😀👨‍👩‍👧‍👦🏳️‍🌈",
            "\u{202e}gnp.exe",
            "e\u{301}\u{301}\u{301}\u{301}",
            "\u{200b}\u{feff}\u{200d}",
            "ＳＫＵ－００１",
            "İıſK",
            "\u{fffd}\u{ffff}",
            "𝕯𝖎𝖓𝖌𝖍𝖚𝖔",
            "١٣٨٠٠١٣٨٠٠٠",
        ];
        Value::Str(
            texts
                .choose(&mut self.rng)
                .map(|t| (*t).to_owned())
                .unwrap_or_default(),
        )
    }

    fn malformed(&mut self, name: &str) -> Value {
        let uuid = self.ids.pick("", &mut self.rng);
        let choices: Vec<Value> = match name {
            "ID" => vec![
                Value::Str("not-a-uuid".into()),
                Value::Str("123".into()),
                Value::Int(12345),
                Value::Str(uuid.to_uppercase()),
                Value::Str(format!("{{{uuid}}}")),
                Value::Str(format!("{uuid} ")),
                Value::Str(uuid.replace('-', "")),
                Value::Str("00000000-0000-0000-0000-000000000000".into()),
                Value::Str("ffffffff-ffff-ffff-ffff-ffffffffffff".into()),
                Value::Str("00000000-0000-0000-0000-00000000000g".into()),
                Value::Str("' OR 1=1 --".into()),
                Value::Str("../../etc/passwd".into()),
                Value::Str("%".into()),
                Value::Str("x".repeat(5_000)),
            ],
            "Date" => vec![
                Value::Str("2024-13-45".into()),
                Value::Str("yesterday".into()),
                Value::Str("0000-00-00".into()),
                Value::Str("+275760-09-13".into()),
                Value::Str("2024-02-30".into()),
                Value::Int(20240101),
            ],
            _ => vec![
                Value::Str("2024-01-01".into()),
                Value::Str("2024-01-01T25:61:61Z".into()),
                Value::Str("+275760-09-13T00:00:00Z".into()),
                Value::Str("-000001-01-01T00:00:00Z".into()),
                Value::Str("9999-12-31T23:59:59.999999999+14:00".into()),
                Value::Str("1970-01-01T00:00:00".into()),
                Value::Int(1_700_000_000),
            ],
        };
        choices
            .choose(&mut self.rng)
            .cloned()
            .unwrap_or(Value::Null)
    }

    /// Lists within lists (or objects within objects) around a plausible value, up to
    /// [`max_nesting`](Self::max_nesting) levels.
    fn nested(&mut self, ty: &Type, hint: &str) -> Value {
        let depth = self.rng.gen_range(2..=self.max_nesting.max(2));
        let mut leaf_type = ty.clone();
        leaf_type.nullable = true;
        // The leaf is sound, so that nesting never compounds past the bound.
        let value = if self.rng.gen_bool(0.5) {
            self.sound(&leaf_type, hint)
        } else {
            Value::Int(1)
        };
        let key = self.rng.gen_bool(0.4).then(|| hint.to_owned());
        Value::Nested {
            depth,
            key,
            leaf: Box::new(value),
        }
    }

    /// An input object missing a required field, with an unknown one, or breaking `@oneOf`.
    fn broken_object(&mut self, name: &str) -> Value {
        let Some(input) = self.schema.inputs.get(name).cloned() else {
            return Value::Null;
        };
        let mut fields: Vec<(String, Value)> = input
            .fields
            .iter()
            .map(|field| {
                (
                    field.name.clone(),
                    self.value(&field.ty, &field.name, false),
                )
            })
            .collect();
        match self.rng.gen_range(0..3) {
            0 if input.one_of || fields.len() > 1 => {
                // `@oneOf` with all its fields, or an input without one of its fields.
                if input.one_of {
                    self.tags.insert(Tag::OneOfViolation);
                } else {
                    self.tags.insert(Tag::MissingRequired);
                    let at = self.rng.gen_range(0..fields.len());
                    fields.remove(at);
                }
            }
            1 => {
                self.tags.insert(Tag::UnknownField);
                fields.push(("noSuchField".into(), Value::Int(1)));
            }
            _ => {
                self.tags.insert(Tag::DuplicateField);
                if let Some(first) = fields.first().cloned() {
                    fields.push(first);
                }
            }
        }
        Value::Object(fields)
    }

    /// Literal text JSON cannot say or GraphQL does not allow: lone surrogates, bad escapes,
    /// unterminated strings, block strings.
    fn raw_literal(&mut self) -> Value {
        let texts = [
            r#""\uD800""#,
            r#""\uDC00\uD800""#,
            r#""\u{1F600}""#,
            r#""\q""#,
            r#""\u00""#,
            r#""unterminated"#,
            r#""""block
string with "quotes" and \n""""#,
            "\"line\nbreak\"",
            "$",
            "@",
            "0x1F",
            "1.",
            ".5",
            "-",
            "00",
        ];
        Value::Raw(
            texts
                .choose(&mut self.rng)
                .map(|t| (*t).to_owned())
                .unwrap_or_default(),
        )
    }
}

fn is_string_like(name: &str) -> bool {
    matches!(name, "String" | "ID" | "Date" | "DateTime")
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use rand::SeedableRng;

    use super::*;
    use crate::fuzz::cast::Cast;

    /// Every input type of the schema, and lists of them, as arguments take them.
    fn input_types(schema: &SchemaModel) -> Vec<Type> {
        let mut names: Vec<String> = schema.inputs.keys().cloned().collect();
        names.extend(schema.enums.keys().cloned());
        names.extend(schema.scalars.iter().cloned());
        names
            .iter()
            .flat_map(|name| [format!("{name}!"), format!("[{name}!]")])
            .filter_map(|text| Type::new(&text))
            .collect()
    }

    #[test]
    fn nested_values_are_written_without_recursion_at_any_depth() {
        let lists = Value::Nested {
            depth: 3,
            key: None,
            leaf: Box::new(Value::Int(1)),
        };
        assert_eq!(lists.literal(), "[[[1]]]");
        assert_eq!(lists.json(), json!([[[1]]]));
        let objects = Value::Nested {
            depth: 2,
            key: Some("phone".into()),
            leaf: Box::new(Value::Str("x".into())),
        };
        assert_eq!(objects.literal(), r#"{phone: {phone: "x"}}"#);
        // A hundred thousand levels: the literal is written in a loop; the JSON is capped.
        let deep = Value::Nested {
            depth: 100_000,
            key: None,
            leaf: Box::new(Value::Int(1)),
        };
        assert_eq!(deep.literal().len(), 200_001);
        assert_eq!(deep.depth(), 100_000);
        let mut json = deep.json();
        let mut levels = 0;
        while let Some(inner) = json.as_array_mut().and_then(|items| items.pop()) {
            json = inner;
            levels += 1;
        }
        assert_eq!(levels, JSON_NESTING);
    }

    #[test]
    fn values_never_nest_much_deeper_than_the_bound() {
        let schema = SchemaModel::served();
        let cast = Cast::offline();
        let max_nesting = 12;
        let mut deepest = 0;
        for seed in 0..100 {
            let mut values = ValueGen {
                schema: &schema,
                ids: &cast.ids,
                rng: StdRng::seed_from_u64(seed),
                tags: BTreeSet::new(),
                flaw_rate: 0.5,
                var_rate: 0.0,
                max_nesting,
                vars: Vec::new(),
                next_var: 0,
            };
            for ty in input_types(&schema) {
                let value = values.value(&ty, "name", false);
                deepest = deepest.max(value.depth());
            }
        }
        // The schema's own input types nest a few levels (a list of lines in an input); a
        // flaw adds at most `max_nesting` around a sound value.
        assert!(deepest >= max_nesting, "nesting was generated: {deepest}");
        assert!(
            deepest <= max_nesting + 6,
            "nesting stays bounded: {deepest}"
        );
    }

    #[test]
    fn literals_escape_what_graphql_strings_cannot_hold() {
        let value = Value::Object(vec![
            ("a".into(), Value::Str("q\"\\\n\0".into())),
            (
                "b".into(),
                Value::List(vec![
                    Value::Enum("ORDERING".into()),
                    Value::Var("v1".into()),
                ]),
            ),
        ]);
        assert_eq!(
            value.literal(),
            r#"{a: "q\"\\\n\u0000", b: [ORDERING, $v1]}"#
        );
        assert_eq!(value.json()["a"], "q\"\\\n\0");
        assert_eq!(value.json()["b"][0], "ORDERING");
    }
}
