//! Operations: documents written from the schema, and the requests (cases) that carry them.
//!
//! A [`Case`] is one request: a query, a mutation, a subscription (over WebSocket, now and then
//! over HTTP, where it has no place), a batch, a document of several operations, an
//! introspection query, or a raw body (JSON the server's extractor must refuse, or not JSON at
//! all), as one role of the [`Cast`]. Its document selects random fields of the root's type and,
//! level after level, of their types, with aliases, `__typename`, inline and named fragments,
//! `@include`/`@skip`, arguments written as literals or passed as variables (with defaults), and
//! now and then something invalid: an unknown field or argument, a selection on a scalar, a
//! fragment on the wrong type or spreading itself, a selection deeper than the server allows, a
//! conflicting alias, one root field under hundreds of aliases, or text cut and spliced until it
//! no longer parses. Over HTTP the body is now and then declared as something other than JSON;
//! over WebSocket the client now and then breaks the protocol.
//!
//! Case `index` of seed `seed` is the same on every run: its random source is seeded from both
//! (the ids and tokens it names are the run's fixture's; [`Cast::offline`] draws alike, to
//! replay a case without a server).

use std::collections::{BTreeSet, HashSet};
use std::ops::RangeInclusive;

use async_graphql::parser::types::Type;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Map};

use super::cast::{Cast, Who};
use super::schema::{named, Field, Kind as TypeKind, SchemaModel};
use super::values::ValueGen;
use super::{Settings, Tag};

/// What a case sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    Query,
    Mutation,
    Subscription,
    Batch,
    /// One document with several operations, picked by `operationName` (or not).
    MultiOperation,
    Introspection,
    /// A body GraphQL never sees: not JSON, or JSON of the wrong shape.
    RawBody,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Query => "query",
            Kind::Mutation => "mutation",
            Kind::Subscription => "subscription",
            Kind::Batch => "batch",
            Kind::MultiOperation => "multi-operation",
            Kind::Introspection => "introspection",
            Kind::RawBody => "raw body",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /graphql`.
    Http,
    /// `/graphql/ws` (graphql-transport-ws): `connection_init` with the token, then `subscribe`.
    WebSocket,
}

#[derive(Debug, Clone)]
pub enum Body {
    /// A GraphQL request, or a batch of them (over WebSocket: the `subscribe` payload).
    Json(serde_json::Value),
    /// Bytes sent as they are, as `application/json`.
    Raw(Vec<u8>),
}

/// A message a WebSocket client sends.
#[derive(Debug, Clone, PartialEq)]
pub enum WsStep {
    /// `connection_init` with the case's authorization.
    Init,
    /// `subscribe` with id `1` and the case's body.
    Subscribe,
    /// Text sent as it is.
    Raw(String),
}

/// One request of the run.
#[derive(Debug, Clone)]
pub struct Case {
    pub index: usize,
    pub kind: Kind,
    pub who: Who,
    /// The `Authorization` header (over WebSocket, `connection_init`'s payload).
    pub authorization: Option<String>,
    pub transport: Transport,
    pub body: Body,
    pub tags: BTreeSet<Tag>,
    /// GraphQL operations in the request (a batch holds several).
    pub operations: usize,
    /// Over HTTP, the `Content-Type` header: `application/json` unless given (`""`: none).
    pub content_type: Option<&'static str>,
    /// Over WebSocket: messages to send instead of the usual `connection_init`, wait for the
    /// ack, `subscribe` (a client breaking the protocol).
    pub ws_script: Option<Vec<WsStep>>,
    /// Written to be refused: broken values, or an invalid document. A clean case is a valid
    /// request (which the server may still refuse for the caller's role or the data's state).
    pub broken: bool,
}

impl Case {
    /// The request, for a failure message (long strings cut).
    pub fn describe(&self) -> String {
        let body = match &self.body {
            Body::Json(value) => value.to_string(),
            Body::Raw(bytes) => format!("raw: {}", String::from_utf8_lossy(bytes)),
        };
        let body = if body.len() > 4_000 {
            let mut end = 4_000;
            while !body.is_char_boundary(end) {
                end -= 1;
            }
            format!("{}… ({} bytes)", &body[..end], body.len())
        } else {
            body
        };
        let script = match (&self.ws_script, self.content_type) {
            (Some(steps), _) => format!(", WebSocket messages {steps:?}"),
            (None, Some(content_type)) => format!(", Content-Type {content_type:?}"),
            (None, None) => String::new(),
        };
        format!(
            "case {} ({}, as {:?} over {:?}{script}, authorization {:?}, tags {:?}):\n{body}",
            self.index,
            self.kind.as_str(),
            self.who,
            self.transport,
            self.authorization,
            self.tags
        )
    }
}

/// The most an alias flood writes, in bytes: about twice the default body limit.
const FLOOD_BYTES: usize = 2 << 20;

/// Writes the cases of a run.
pub struct Generator<'a> {
    pub schema: &'a SchemaModel,
    pub cast: &'a Cast,
    pub settings: &'a Settings,
}

impl<'a> Generator<'a> {
    /// Case `index` of the run (the same for the same seed, whatever else ran).
    pub fn case(&self, index: usize) -> Case {
        let mixed = self.settings.seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        let mut rng = StdRng::seed_from_u64(mixed);
        let who = *[
            Who::Anonymous,
            Who::Operator,
            Who::Admin,
            Who::Admin,
            Who::Admin,
            Who::Employee,
            Who::Contact,
            Who::Contact,
            Who::Contact,
            Who::Auditor,
            Who::Analyst,
            Who::BadToken,
        ]
        .choose(&mut rng)
        .unwrap_or(&Who::Admin);
        let authorization = self.cast.authorization(who, &mut rng);
        // Half the cases are clean (they reach the resolvers); the others break values at
        // some rate.
        let flaw_rate = if rng.gen_bool(0.5) {
            0.0
        } else {
            rng.gen_range(0.05..0.4)
        };
        let writer = Writer {
            v: ValueGen {
                schema: self.schema,
                ids: &self.cast.ids,
                rng,
                tags: BTreeSet::new(),
                flaw_rate,
                var_rate: 0.25,
                max_nesting: self.settings.max_nesting,
                vars: Vec::new(),
                next_var: 0,
            },
            fragments: Vec::new(),
            fields_left: 80,
            max_depth: self.settings.server_max_depth,
            broken: flaw_rate > 0.0,
            aliases: 0,
            with_arguments: HashSet::new(),
        };
        let mut case = writer.case(index);
        case.who = who;
        case.authorization = authorization;
        case
    }
}

/// Writes one case's document(s).
struct Writer<'a> {
    v: ValueGen<'a>,
    /// Fragment definitions of the document being written.
    fragments: Vec<String>,
    /// Fields still allowed in this document (keeps documents below a few KB).
    fields_left: usize,
    /// The server's `--max-depth`: a selection past it is tagged.
    max_depth: usize,
    /// A broken case: besides its values, its document may be invalid (unknown fields,
    /// wrong fragments, conflicts, too deep, mangled text). A clean case's document is valid.
    broken: bool,
    /// Aliases written so far (each alias is unique).
    aliases: usize,
    /// Fields with arguments already selected in the document being written.
    with_arguments: HashSet<String>,
}

/// One written operation: its document and variables.
struct Written {
    document: String,
    variables: Map<String, serde_json::Value>,
}

impl Written {
    fn request(self, operation_name: Option<&str>) -> serde_json::Value {
        let mut request = json!({ "query": self.document, "variables": self.variables });
        if let Some(name) = operation_name {
            request["operationName"] = json!(name);
        }
        request
    }
}

/// A GraphQL operation type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Query,
    Mutation,
    Subscription,
}

impl<'a> Writer<'a> {
    fn rng(&mut self) -> &mut StdRng {
        &mut self.v.rng
    }

    fn case(mut self, index: usize) -> Case {
        let roll = self.rng().gen_range(0..100);
        let mut ws_script = None;
        let (kind, transport, body, operations) = match roll {
            0..=41 => {
                let transport = self.transport(0.03);
                let written = self.document(&[(Op::Query, None)]);
                (Kind::Query, transport, Body::Json(written.request(None)), 1)
            }
            42..=77 => {
                let transport = self.transport(0.02);
                let written = self.document(&[(Op::Mutation, None)]);
                (
                    Kind::Mutation,
                    transport,
                    Body::Json(written.request(None)),
                    1,
                )
            }
            78..=83 => {
                let transport = self.transport(0.8);
                if transport == Transport::Http {
                    self.v.tags.insert(Tag::SubscriptionOverHttp);
                } else if self.broken && self.rng().gen_bool(0.3) {
                    ws_script = Some(self.ws_script());
                }
                let written = self.document(&[(Op::Subscription, None)]);
                (
                    Kind::Subscription,
                    transport,
                    Body::Json(written.request(None)),
                    1,
                )
            }
            84..=91 => {
                let (body, operations) = self.batch();
                (Kind::Batch, Transport::Http, Body::Json(body), operations)
            }
            92..=94 => {
                let body = self.multi_operation();
                (Kind::MultiOperation, Transport::Http, Body::Json(body), 1)
            }
            95..=97 => {
                let body = self.introspection();
                (Kind::Introspection, Transport::Http, Body::Json(body), 1)
            }
            _ => {
                self.v.tags.insert(Tag::RawBody);
                (
                    Kind::RawBody,
                    Transport::Http,
                    Body::Raw(self.raw_body()),
                    1,
                )
            }
        };
        let content_type = match transport {
            Transport::Http => self.content_type(),
            Transport::WebSocket => None,
        };
        Case {
            index,
            kind,
            who: Who::Anonymous,
            authorization: None,
            transport,
            body,
            tags: self.v.tags,
            operations,
            broken: self.broken || kind == Kind::RawBody,
            ws_script,
            content_type,
        }
    }

    /// Now and then a body that is not declared JSON: a form or plain text (what a
    /// cross-site page can send without a preflight), multipart, or no type at all.
    fn content_type(&mut self) -> Option<&'static str> {
        if !self.rng().gen_bool(0.05) {
            return None;
        }
        self.v.tags.insert(Tag::ContentType);
        [
            "text/plain",
            "text/plain;charset=UTF-8",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=fuzz",
            "application/graphql-response+json",
            "application/json; charset=utf-8",
            "application/graphql",
            "",
        ]
        .choose(self.rng())
        .copied()
    }

    fn transport(&mut self, websocket: f64) -> Transport {
        if self.rng().gen_bool(websocket) {
            Transport::WebSocket
        } else {
            Transport::Http
        }
    }

    /// A document of the given operations (named when a name is given), fragments after them;
    /// now and then mangled until it no longer parses.
    fn document(&mut self, operations: &[(Op, Option<String>)]) -> Written {
        let mut text = String::new();
        let mut variables = Map::new();
        self.with_arguments.clear();
        for (op, name) in operations {
            text.push_str(&self.operation(*op, name.as_deref(), &mut variables));
            text.push('\n');
        }
        if self.broken && self.rng().gen_bool(0.03) {
            // A fragment no operation uses.
            self.v.tags.insert(Tag::UnusedFragment);
            self.fragments
                .push("fragment Unused on __Type { name }".to_owned());
        }
        for fragment in std::mem::take(&mut self.fragments) {
            text.push_str(&fragment);
            text.push('\n');
        }
        if self.broken && self.rng().gen_bool(0.06) {
            self.v.tags.insert(Tag::Mangled);
            text = self.mangle(&text);
        }
        Written {
            document: text,
            variables,
        }
    }

    fn operation(
        &mut self,
        op: Op,
        name: Option<&str>,
        variables: &mut Map<String, serde_json::Value>,
    ) -> String {
        let schema = self.v.schema;
        let root = match op {
            Op::Query => Some(schema.query.clone()),
            Op::Mutation => schema.mutation.clone(),
            Op::Subscription => schema.subscription.clone(),
        }
        .unwrap_or_else(|| schema.query.clone());
        // A clean case stays within the server's depth; a broken one may go past it.
        let depth = if self.broken {
            let deepest = self.max_depth + 2;
            self.rng().gen_range(1..=deepest)
        } else {
            let deepest = self.max_depth;
            self.rng().gen_range(2..=deepest)
        };
        if depth > self.max_depth {
            self.v.tags.insert(Tag::DeepSelection);
        }
        let roots = match op {
            Op::Query => 1..=3,
            Op::Mutation => 1..=2,
            // More than one root field is a validation error for a subscription.
            Op::Subscription if self.broken && self.rng().gen_bool(0.05) => 2..=2,
            Op::Subscription => 1..=1,
        };
        let selection = if op != Op::Subscription && self.broken && self.rng().gen_bool(0.03) {
            self.alias_flood(&root)
        } else {
            self.selection_set(&root, depth, roots)
        };
        let keyword = match op {
            Op::Query => "query",
            Op::Mutation => "mutation",
            Op::Subscription => "subscription",
        };
        let mut declarations = Vec::new();
        for variable in std::mem::take(&mut self.v.vars) {
            let mut declaration = format!("${}: {}", variable.name, variable.declared);
            if let Some(default) = &variable.default {
                declaration.push_str(" = ");
                declaration.push_str(default);
            }
            declarations.push(declaration);
            if let Some(value) = variable.value {
                variables.insert(variable.name, value);
            }
        }
        if self.broken && self.rng().gen_bool(0.02) {
            // A variable declared and never used.
            declarations.push("$unused: Int".to_owned());
            self.v.tags.insert(Tag::UnusedVariable);
        }
        let declarations = if declarations.is_empty() {
            String::new()
        } else {
            format!("({})", declarations.join(", "))
        };
        let name = name.unwrap_or_default();
        // `{ … }` alone is a query; written that way now and then.
        if op == Op::Query && name.is_empty() && declarations.is_empty() && self.rng().gen_bool(0.5)
        {
            return selection;
        }
        format!("{keyword} {name}{declarations} {selection}")
    }

    /// `{ … }` on `type_name`: `count` items (fields, `__typename`, fragments), each field's
    /// own selection `depth - 1` deep.
    fn selection_set(
        &mut self,
        type_name: &str,
        depth: usize,
        count: RangeInclusive<usize>,
    ) -> String {
        let schema = self.v.schema;
        let count = self.rng().gen_range(count);
        let mut items = Vec::new();
        if schema.kind(type_name) == Some(TypeKind::Union) {
            items.push("__typename".to_owned());
            let members = schema.unions.get(type_name).cloned().unwrap_or_default();
            for member in members {
                if depth > 1 && self.rng().gen_bool(0.5) {
                    let inner = self.selection_set(&member, depth - 1, 1..=3);
                    items.push(format!("... on {member} {inner}"));
                }
            }
            return format!("{{ {} }}", items.join(" "));
        }
        let fields = schema.objects.get(type_name).cloned().unwrap_or_default();
        // `__typename` is no field of a subscription root.
        let at_subscription_root = schema.subscription.as_deref() == Some(type_name);
        for _ in 0..count {
            if self.fields_left == 0 {
                break;
            }
            self.fields_left -= 1;
            let roll = self.rng().gen_range(0..100);
            let item = match roll {
                78..=83 if !at_subscription_root => "__typename".to_owned(),
                84..=89 if depth > 1 => {
                    self.v.tags.insert(Tag::InlineFragment);
                    let on = self.fragment_type(type_name);
                    let inner = self.selection_set(&on, depth, 1..=3);
                    if self.rng().gen_bool(0.2) {
                        format!("... {}{inner}", self.directives())
                    } else {
                        format!("... on {on} {inner}")
                    }
                }
                90..=95 if depth > 1 => {
                    self.v.tags.insert(Tag::NamedFragment);
                    let on = self.fragment_type(type_name);
                    let name = format!("F{}", self.fragments.len() + 1);
                    // Reserve the name before writing the body, which may add fragments.
                    let at = self.fragments.len();
                    self.fragments.push(String::new());
                    let mut inner = self.selection_set(&on, depth, 1..=3);
                    if self.broken && self.rng().gen_bool(0.05) {
                        // A fragment that spreads itself: must be refused, not followed.
                        self.v.tags.insert(Tag::FragmentCycle);
                        inner = format!("{{ ...{name} {} }}", &inner[1..inner.len() - 1]);
                    }
                    self.fragments[at] = format!("fragment {name} on {on} {inner}");
                    format!("...{name}{}", self.directives())
                }
                96.. if self.broken => self.invalid_selection(&fields),
                _ => {
                    let usable: Vec<&Field> = fields
                        .iter()
                        .filter(|field| depth > 1 || is_leaf(schema, &field.ty))
                        .collect();
                    match usable.choose(&mut self.v.rng) {
                        Some(field) => {
                            let field = (*field).clone();
                            self.field(&field, depth)
                        }
                        None => "__typename".to_owned(),
                    }
                }
            };
            items.push(item);
        }
        if items.is_empty() {
            items.push("__typename".to_owned());
        }
        format!("{{ {} }}", items.join(" "))
    }

    /// One root field asked for again and again under aliases: what a client does to multiply
    /// the cost of one request (a few hundred sign-ins, a few hundred histories).
    fn alias_flood(&mut self, root: &str) -> String {
        self.v.tags.insert(Tag::AliasFlood);
        let fields = self.v.schema.root_fields(root).to_vec();
        let Some(field) = fields.choose(&mut self.v.rng).cloned() else {
            return "{ __typename }".to_owned();
        };
        let arguments = self.arguments(&field);
        let selection = if is_leaf(self.v.schema, &field.ty) {
            String::new()
        } else {
            let inner = named(&field.ty).to_owned();
            self.fields_left = 6;
            format!(" {}", self.selection_set(&inner, 3, 1..=3))
        };
        let count = self.rng().gen_range(20..=300);
        // A flood multiplies fields, not bytes: a field with a huge argument is copied only as
        // often as fits in about twice the body limit (240 copies of a 1.1 MB string were 263 MB
        // of one test's memory).
        let one = field.name.len() + arguments.len() + selection.len() + 12;
        let count = count.min(FLOOD_BYTES / one).max(2);
        let copies: Vec<String> = (0..count)
            .map(|i| format!("flood{i}: {}{arguments}{selection}", field.name))
            .collect();
        format!("{{ {} }}", copies.join(" "))
    }

    /// The type a fragment is on: usually `here`, now and then another (a validation error).
    fn fragment_type(&mut self, here: &str) -> String {
        if self.broken && self.rng().gen_bool(0.1) {
            self.v.tags.insert(Tag::WrongFragmentType);
            let names = self.v.schema.object_names();
            names
                .choose(&mut self.v.rng)
                .map(|name| (*name).to_owned())
                .unwrap_or_else(|| here.to_owned())
        } else {
            here.to_owned()
        }
    }

    /// A field with (maybe) an alias, its arguments, directives, and its own selection.
    fn field(&mut self, field: &Field, depth: usize) -> String {
        let mut text = String::new();
        // The same field with other arguments under the same response key is a conflict
        // (fragments merge into their parent's set): every occurrence after the first gets a
        // key of its own.
        let needs_alias =
            !field.arguments.is_empty() && !self.with_arguments.insert(field.name.clone());
        if needs_alias || self.rng().gen_bool(0.2) {
            self.v.tags.insert(Tag::Alias);
            let alias = if self.broken && self.rng().gen_bool(0.1) {
                // The same response key for different fields or arguments: a conflict.
                self.v.tags.insert(Tag::DuplicateAlias);
                "same".to_owned()
            } else {
                self.aliases += 1;
                format!("a{}", self.aliases)
            };
            text.push_str(&alias);
            text.push_str(": ");
        }
        text.push_str(&field.name);
        text.push_str(&self.arguments(field));
        text.push_str(&self.directives());
        if !is_leaf(self.v.schema, &field.ty) {
            let inner = named(&field.ty).to_owned();
            text.push(' ');
            text.push_str(&self.selection_set(&inner, depth - 1, 1..=4));
        }
        text
    }

    fn arguments(&mut self, field: &Field) -> String {
        let mut arguments = Vec::new();
        let flawed = self.broken;
        for argument in &field.arguments {
            let give = if argument.required() {
                !(flawed && self.rng().gen_bool(0.05))
            } else {
                self.rng().gen_bool(0.6)
            };
            if !give {
                if argument.required() {
                    self.v.tags.insert(Tag::MissingRequired);
                }
                continue;
            }
            // A bare `id` is an id of what the field names (`order(id:)`).
            let hint = if argument.name == "id" {
                field.name.as_str()
            } else {
                argument.name.as_str()
            };
            let value = self.v.value(&argument.ty, hint, true);
            arguments.push(format!("{}: {}", argument.name, value.literal()));
        }
        if flawed && self.rng().gen_bool(0.05) {
            self.v.tags.insert(Tag::UnknownArgument);
            arguments.push("noSuchArgument: 1".to_owned());
        }
        if flawed && !arguments.is_empty() && self.rng().gen_bool(0.03) {
            self.v.tags.insert(Tag::DuplicateArgument);
            arguments.push(arguments[0].clone());
        }
        if arguments.is_empty() {
            String::new()
        } else {
            format!("({})", arguments.join(", "))
        }
    }

    /// Usually none; now and then `@include`/`@skip` with a literal or a variable, an unknown
    /// directive, or one where it does not belong.
    fn directives(&mut self) -> String {
        if !self.rng().gen_bool(0.06) {
            return String::new();
        }
        self.v.tags.insert(Tag::Directive);
        let boolean = Type::new("Boolean!").expect("a type");
        let condition = self.v.value(&boolean, "if", true);
        match self.rng().gen_range(0..10) {
            0 if self.broken => {
                self.v.tags.insert(Tag::UnknownDirective);
                " @noSuchDirective".to_owned()
            }
            1 if self.broken => {
                self.v.tags.insert(Tag::UnknownDirective);
                " @oneOf".to_owned()
            }
            2 => format!(
                " @include(if: {}) @skip(if: {})",
                condition.literal(),
                condition.literal()
            ),
            3..=6 => format!(" @include(if: {})", condition.literal()),
            _ => format!(" @skip(if: {})", condition.literal()),
        }
    }

    fn invalid_selection(&mut self, fields: &[Field]) -> String {
        self.v.tags.insert(Tag::InvalidSelection);
        let schema = self.v.schema;
        let leaf = fields
            .iter()
            .find(|field| is_leaf(schema, &field.ty) && field.arguments.is_empty());
        let object = fields
            .iter()
            .find(|field| !is_leaf(schema, &field.ty) && field.arguments.is_empty());
        match self.rng().gen_range(0..4) {
            0 => "noSuchField".to_owned(),
            1 => leaf.map_or_else(
                || "__typename { x }".to_owned(),
                |field| format!("{} {{ id }}", field.name),
            ),
            2 => object.map_or_else(|| "__typename".to_owned(), |field| field.name.clone()),
            _ => "__schema".to_owned(),
        }
    }

    /// 2–4 operations, or more than the server's `--max-batch`.
    fn batch(&mut self) -> (serde_json::Value, usize) {
        self.v.tags.insert(Tag::Batch);
        let count = if self.broken && self.rng().gen_bool(0.1) {
            self.v.tags.insert(Tag::OversizedBatch);
            self.rng().gen_range(11..=13)
        } else {
            self.rng().gen_range(2..=4)
        };
        let mut requests = Vec::new();
        for _ in 0..count {
            self.fields_left = 24;
            let op = if self.rng().gen_bool(0.6) {
                Op::Query
            } else {
                Op::Mutation
            };
            requests.push(self.document(&[(op, None)]).request(None));
        }
        if self.broken && self.rng().gen_bool(0.05) {
            // One element that is no request.
            requests.push(json!({"variables": {}}));
        }
        (serde_json::Value::Array(requests), count)
    }

    /// Two or three named operations; `operationName` picks one, or none, or one not there.
    fn multi_operation(&mut self) -> serde_json::Value {
        self.v.tags.insert(Tag::MultipleOperations);
        let count = self.rng().gen_range(2..=3);
        let duplicate = self.broken && self.rng().gen_bool(0.1);
        let mut operations = Vec::new();
        for i in 0..count {
            let op = *[Op::Query, Op::Mutation, Op::Query]
                .choose(self.rng())
                .unwrap_or(&Op::Query);
            let name = if duplicate {
                "Op".to_owned()
            } else {
                format!("Op{i}")
            };
            operations.push((op, Some(name)));
        }
        self.fields_left = 40;
        let chosen = match self.rng().gen_range(0..6) {
            0 if self.broken => None,
            1 if self.broken => Some("NoSuchOperation".to_owned()),
            _ => operations
                .choose(self.rng())
                .and_then(|(_, name)| name.clone()),
        };
        self.document(&operations).request(chosen.as_deref())
    }

    fn introspection(&mut self) -> serde_json::Value {
        self.v.tags.insert(Tag::Introspection);
        let names = self.v.schema.object_names();
        let name = names
            .choose(&mut self.v.rng)
            .map(|name| (*name).to_owned())
            .unwrap_or_default();
        let string = Type::new("String!").expect("a type");
        let any_name = self.v.value(&string, "name", false).literal();
        let documents = [
            "{ __schema { queryType { name } types { name kind fields { name args { name type { name kind ofType { name kind ofType { name } } } } } } } }".to_owned(),
            format!("{{ __type(name: \"{name}\") {{ name kind fields {{ name type {{ name ofType {{ name }} }} }} }} }}"),
            format!("{{ __type(name: {any_name}) {{ name }} }}"),
            "{ __schema { directives { name locations args { name } } } }".to_owned(),
            "{ __typename a: __typename __schema { subscriptionType { fields { name } } } }".to_owned(),
        ];
        let document = documents.choose(self.rng()).cloned().unwrap_or_default();
        json!({ "query": document })
    }

    /// Bodies the JSON extractor must refuse (with a 4xx), or requests of the wrong shape.
    fn raw_body(&mut self) -> Vec<u8> {
        let depth = self.v.max_nesting;
        let nested = format!(
            r#"{{"query":"query($x: JSON) {{ __typename }}","variables":{{"x":{}1{}}}}}"#,
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let bodies: Vec<Vec<u8>> = vec![
            b"".to_vec(),
            b"not json".to_vec(),
            b"{".to_vec(),
            br#"{"query": 123}"#.to_vec(),
            br#"{"query": null}"#.to_vec(),
            b"{}".to_vec(),
            b"[]".to_vec(),
            br#"{"query":"{ viewer { id } }","variables":[1,2]}"#.to_vec(),
            br#"{"query":"{ viewer { id } }","variables":"x"}"#.to_vec(),
            br#"{"query":"{ viewer { id } }","operationName":5}"#.to_vec(),
            br#"{"query":"{ viewer { id } }","extensions":{"persistedQuery":{"version":1,"sha256Hash":"00"}}}"#.to_vec(),
            br#"{"query":"{ viewer { id } }" , "query": "{ __typename }"}"#.to_vec(),
            b"\xef\xbb\xbf{\"query\":\"{ __typename }\"}".to_vec(),
            b"{\"query\":\"{ __typename \xff\xfe }\"}".to_vec(),
            br#"{"query":"\ud800"}"#.to_vec(),
            br#"{"query":"{ viewer { id } }"}trailing"#.to_vec(),
            nested.into_bytes(),
        ];
        bodies.choose(self.rng()).cloned().unwrap_or_default()
    }

    /// A WebSocket client breaking graphql-transport-ws: subscribing before `connection_init`,
    /// initialising twice, reusing an id, sending what is not JSON or not a message.
    fn ws_script(&mut self) -> Vec<WsStep> {
        use WsStep::{Init, Raw, Subscribe};
        self.v.tags.insert(Tag::ProtocolAbuse);
        let raw = |text: &str| Raw(text.to_owned());
        let scripts = [
            vec![Subscribe],
            vec![Init, Init, Subscribe],
            vec![Init, Subscribe, Subscribe],
            vec![Init, raw("not json")],
            vec![Init, raw(r#"{"type":"nope"}"#)],
            vec![Init, raw(r#"{"id":"1","type":"subscribe"}"#)],
            vec![
                Init,
                raw(r#"{"id":"1","type":"subscribe","payload":{"query":5}}"#),
            ],
            vec![
                raw(r#"{"type":"connection_init","payload":"x"}"#),
                Subscribe,
            ],
            vec![
                raw(r#"{"type":"connection_init","payload":{"Authorization":5}}"#),
                Subscribe,
            ],
            vec![Init, raw(r#"{"id":"9","type":"complete"}"#), Subscribe],
            vec![Init, raw(r#"{"type":"ping"}"#), Subscribe],
            vec![Init, raw(r#"{"type":"connection_terminate"}"#), Subscribe],
        ];
        scripts.choose(self.rng()).cloned().unwrap_or_default()
    }

    /// Cuts, splices or truncates `text` (on character boundaries).
    fn mangle(&mut self, text: &str) -> String {
        let mut chars: Vec<char> = text.chars().collect();
        if chars.is_empty() {
            return String::new();
        }
        for _ in 0..self.rng().gen_range(1..=3) {
            let at = self.rng().gen_range(0..chars.len().max(1));
            match self.rng().gen_range(0..4) {
                0 => {
                    let end = (at + self.rng().gen_range(1..10)).min(chars.len());
                    chars.drain(at..end);
                }
                1 => {
                    let junk = *[
                        '{', '}', '(', ')', '[', ']', ':', '$', '@', '!', '"', '.', '#', '\\',
                        '\u{0}',
                    ]
                    .choose(self.rng())
                    .unwrap_or(&'{');
                    if junk == '\u{0}' {
                        self.v.tags.insert(Tag::Nul);
                    }
                    chars.insert(at.min(chars.len()), junk);
                }
                2 => chars.truncate(at),
                _ => {
                    let end = (at + self.rng().gen_range(1..30)).min(chars.len());
                    let slice: Vec<char> = chars[at..end].to_vec();
                    let to = self.rng().gen_range(0..=chars.len());
                    chars.splice(to..to, slice);
                }
            }
            if chars.is_empty() {
                break;
            }
        }
        chars.into_iter().collect()
    }
}

/// A field whose type needs no selection (a scalar or an enum).
fn is_leaf(schema: &SchemaModel, ty: &Type) -> bool {
    matches!(
        schema.kind(named(ty)),
        Some(TypeKind::Scalar) | Some(TypeKind::Enum) | None
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generator_run(seed: u64, cases: usize) -> Vec<Case> {
        let schema = SchemaModel::served();
        let cast = Cast::offline();
        let settings = Settings {
            seed,
            ..Settings::default()
        };
        let generator = Generator {
            schema: &schema,
            cast: &cast,
            settings: &settings,
        };
        (0..cases).map(|index| generator.case(index)).collect()
    }

    fn documents(case: &Case) -> Vec<String> {
        let Body::Json(body) = &case.body else {
            return Vec::new();
        };
        let requests = match body.as_array() {
            Some(batch) => batch.clone(),
            None => vec![body.clone()],
        };
        requests
            .iter()
            .filter_map(|request| request["query"].as_str().map(str::to_owned))
            .collect()
    }

    #[test]
    fn a_seed_writes_the_same_cases_every_time() {
        let first = generator_run(7, 200);
        let again = generator_run(7, 200);
        for (a, b) in first.iter().zip(&again) {
            assert_eq!(a.describe(), b.describe());
        }
        let other = generator_run(8, 200);
        assert!(first
            .iter()
            .zip(&other)
            .any(|(a, b)| a.describe() != b.describe()));
    }

    #[test]
    fn clean_cases_parse_and_broken_ones_cover_every_kind_of_flaw() {
        let cases = generator_run(11, 3_000);
        let mut tags = BTreeSet::new();
        let mut kinds = BTreeSet::new();
        for case in &cases {
            tags.extend(case.tags.iter().copied());
            kinds.insert(case.kind);
            let size = match &case.body {
                Body::Json(value) => value.to_string().len(),
                Body::Raw(bytes) => bytes.len(),
            };
            // Past the server's body limit now and then, never by much.
            assert!(size < 4 << 20, "case {} is {size} bytes", case.index);
            if case.broken {
                continue;
            }
            for document in documents(case) {
                if let Err(error) = async_graphql::parser::parse_query(&document) {
                    panic!("{}\ndoes not parse: {error}", case.describe());
                }
            }
        }
        assert_eq!(kinds.len(), 7, "{kinds:?}");
        for tag in [
            Tag::WrongType,
            Tag::NullForNonNull,
            Tag::MissingRequired,
            Tag::OutOfRange,
            Tag::HugeString,
            Tag::EmptyString,
            Tag::Unicode,
            Tag::ControlChars,
            Tag::Nul,
            Tag::MalformedScalar,
            Tag::DeepNesting,
            Tag::UnknownEnum,
            Tag::Alias,
            Tag::InlineFragment,
            Tag::NamedFragment,
            Tag::Variables,
            Tag::Batch,
            Tag::Mangled,
        ] {
            assert!(tags.contains(&tag), "no case with {tag:?}");
        }
        let clean = cases.iter().filter(|case| !case.broken).count();
        assert!(
            clean * 3 > cases.len(),
            "a third or more are clean: {clean}"
        );
    }
}
