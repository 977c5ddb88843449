//! Comparing two bundled documents: which operations were added, removed or moved, what
//! changed in each (parameters, bodies, responses, security, callbacks), how much each change
//! can break a client, and what it does to the generated Rust API.

pub mod model;
mod ops;
pub mod rust;
mod schema;

use std::collections::{BTreeMap, BTreeSet, HashSet};

use serde_json::Value;

pub use model::*;
use schema::SchemaCtx;

/// Which part of the documents to compare.
#[derive(Debug, Clone, Default)]
pub struct DiffOptions {
    /// Keep operations whose path (old or new) starts with one of these; `*` matches any
    /// run of characters.
    pub paths: Vec<String>,
    /// Keep operations with one of these operationIds (or generated method names).
    pub operations: Vec<String>,
}

impl DiffOptions {
    fn keeps(&self, op: &OpRef) -> bool {
        let path_ok = self.paths.is_empty() || self.paths.iter().any(|p| glob_prefix(p, &op.path));
        let op_ok = self.operations.is_empty()
            || op.operation_id.as_deref().is_some_and(|id| {
                self.operations
                    .iter()
                    .any(|want| want == id || *want == rust::method_name(Some(id)))
            });
        path_ok && op_ok
    }

    fn filtering(&self) -> bool {
        !self.paths.is_empty() || !self.operations.is_empty()
    }
}

/// Compares `old` with `new` (both bundled: every `$ref` internal).
pub fn diff(old: &Value, new: &Value, options: &DiffOptions) -> Report {
    let mut differ = Differ {
        old,
        new,
        raw: Vec::new(),
        seen: HashSet::new(),
    };
    let old_ops = ops::collect(old);
    let new_ops = ops::collect(new);
    let pairing = ops::pair(&old_ops, &new_ops);
    let mut operations = Vec::new();
    let keep = |a: Option<&OpRef>, b: Option<&OpRef>| {
        a.is_some_and(|o| options.keeps(o)) || b.is_some_and(|o| options.keeps(o))
    };
    for &(i, j, moved) in &pairing.matched {
        let (o, n) = (&old_ops[i], &new_ops[j]);
        if !keep(Some(&o.op), Some(&n.op)) {
            continue;
        }
        if moved {
            operations.push(OperationChange {
                kind: OperationChangeKind::Moved,
                old: Some(o.op.clone()),
                new: Some(n.op.clone()),
                rust_method: rust::method_name(n.op.operation_id.as_deref()),
            });
        }
        differ.operation(o, n);
    }
    for &i in &pairing.removed {
        let o = &old_ops[i];
        if keep(Some(&o.op), None) {
            operations.push(OperationChange {
                kind: OperationChangeKind::Removed,
                old: Some(o.op.clone()),
                new: None,
                rust_method: rust::method_name(o.op.operation_id.as_deref()),
            });
        }
    }
    for &j in &pairing.added {
        let n = &new_ops[j];
        if keep(None, Some(&n.op)) {
            operations.push(OperationChange {
                kind: OperationChangeKind::Added,
                old: None,
                new: Some(n.op.clone()),
                rust_method: rust::method_name(n.op.operation_id.as_deref()),
            });
        }
    }
    if !options.filtering() {
        differ.component_schemas();
    }
    let changes = merge(differ.raw);
    let rust = summarize(&operations, &changes);
    Report {
        old_version: version_of(old),
        new_version: version_of(new),
        operations,
        changes,
        rust,
    }
}

fn version_of(doc: &Value) -> String {
    doc.pointer("/info/version")
        .and_then(Value::as_str)
        .unwrap_or("?")
        .to_string()
}

/// Prefix match where `*` stands for any run of characters.
fn glob_prefix(pattern: &str, path: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = path.strip_prefix(first) else {
        return false;
    };
    for part in parts {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    true
}

/// Follows `$ref`s inside `doc`; returns the last reference followed and the content.
pub(crate) fn resolve<'v>(doc: &'v Value, mut value: &'v Value) -> (Option<String>, &'v Value) {
    let mut name = None;
    for _ in 0..32 {
        let Some(r) = value.get("$ref").and_then(Value::as_str) else {
            break;
        };
        let Some(target) = r.strip_prefix('#').and_then(|p| doc.pointer(p)) else {
            break;
        };
        name = Some(r.to_string());
        value = target;
    }
    (name, value)
}

/// A place inside an operation.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    op: OpRef,
    kind: PlaceKind,
}

#[derive(Debug, Clone)]
enum PlaceKind {
    Operation,
    Parameter {
        location: String,
        name: String,
    },
    RequestBody {
        media: String,
    },
    Response {
        status: String,
        media: String,
    },
    ResponseHeader {
        status: String,
        name: String,
    },
    Callback {
        name: String,
    },
    /// Outside any operation (components on their own).
    Components,
}

impl Place {
    fn op_key(&self) -> OpRef {
        self.op.clone()
    }

    fn method(&self) -> String {
        rust::method_name(self.op.operation_id.as_deref())
    }

    fn describe(&self) -> String {
        match &self.kind {
            PlaceKind::Operation => "operation".into(),
            PlaceKind::Parameter { location, name } => format!("{location} parameter `{name}`"),
            PlaceKind::RequestBody { media } => {
                format!("request body {media}").trim_end().to_string()
            }
            PlaceKind::Response { status, media } => {
                format!("response {status} {media}").trim_end().to_string()
            }
            PlaceKind::ResponseHeader { status, name } => {
                format!("response {status} header `{name}`")
            }
            PlaceKind::Callback { name } => format!("callback `{name}`"),
            PlaceKind::Components => "components".into(),
        }
    }

    fn rust_item(&self) -> String {
        let m = self.method();
        match &self.kind {
            PlaceKind::Parameter { name, .. } => {
                format!("method {m} (setter .{}())", rust::setter_name(name))
            }
            PlaceKind::RequestBody { .. } => format!(
                "method {m} (body, inline type {})",
                rust::body_type(self.op.operation_id.as_deref())
            ),
            PlaceKind::Response { status, .. } if status.starts_with('2') => format!(
                "method {m} (return type, inline type {})",
                rust::response_type(self.op.operation_id.as_deref())
            ),
            PlaceKind::Response { .. } => format!("method {m} (error type)"),
            PlaceKind::Components => "types".into(),
            _ => format!("method {m}"),
        }
    }
}

pub(crate) struct Differ<'a> {
    old: &'a Value,
    new: &'a Value,
    raw: Vec<Change>,
    /// (operation, component, direction) already walked, against cycles and repeats.
    seen: HashSet<(OpRef, String, Direction)>,
}

impl Differ<'_> {
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        id: &'static str,
        level: Level,
        docs: bool,
        place: &Place,
        component: Option<String>,
        location: String,
        message: String,
        rust: RustImpact,
    ) {
        let operations = match place.kind {
            PlaceKind::Components => Vec::new(),
            _ => vec![place.op.clone()],
        };
        self.raw.push(Change {
            id,
            level,
            docs,
            operations,
            component,
            location,
            message,
            rust,
        });
    }

    fn op_change(
        &mut self,
        place: &Place,
        id: &'static str,
        level: Level,
        message: String,
        rust: RustImpact,
    ) {
        let location = place.describe();
        self.push(id, level, false, place, None, location, message, rust);
    }

    fn op_docs(&mut self, place: &Place, what: &str) {
        let location = place.describe();
        let rust = RustImpact::new(RustEffect::Docs, [place.rust_item()]);
        self.push(
            "documentation-changed",
            Level::Info,
            true,
            place,
            None,
            location,
            format!("`{what}` changed"),
            rust,
        );
    }

    /// A new request input (parameter or body); `ids` are for an optional and a required one.
    fn input_added(&mut self, place: &Place, required: bool, ids: [&'static str; 2], item: String) {
        // A required input breaks every existing call; an optional one only adds a setter.
        let (id, level, effect, which) = if required {
            (ids[1], Level::Err, RustEffect::Breaking, "required")
        } else {
            (ids[0], Level::Info, RustEffect::Additive, "optional")
        };
        let rust = RustImpact::new(effect, [item]);
        self.op_change(place, id, level, format!("added ({which})"), rust);
    }

    fn operation(&mut self, o: &ops::Op<'_>, n: &ops::Op<'_>) {
        let at = |kind| Place {
            op: n.op.clone(),
            kind,
        };
        let here = at(PlaceKind::Operation);
        let method = here.method();
        if o.op.operation_id != n.op.operation_id {
            let old_method = rust::method_name(o.op.operation_id.as_deref());
            self.op_change(
                &here,
                "operation-id-changed",
                Level::Info,
                format!(
                    "operationId changed from `{}` to `{}`",
                    o.op.operation_id.as_deref().unwrap_or("none"),
                    n.op.operation_id.as_deref().unwrap_or("none")
                ),
                RustImpact::new(
                    RustEffect::Breaking,
                    [format!("method {old_method} renamed to {method}")],
                ),
            );
        }
        for key in ["summary", "description", "tags", "externalDocs"] {
            if o.value.get(key) != n.value.get(key) {
                self.op_docs(&here, key);
            }
        }
        let deprecated = |v: &Value| {
            v.get("deprecated")
                .and_then(Value::as_bool)
                .unwrap_or(false)
        };
        if deprecated(o.value) != deprecated(n.value) {
            let now = deprecated(n.value);
            self.op_change(
                &here,
                if now {
                    "operation-deprecated"
                } else {
                    "operation-undeprecated"
                },
                if now { Level::Warn } else { Level::Info },
                format!("{} deprecated", if now { "became" } else { "no longer" }),
                RustImpact::new(RustEffect::Docs, [format!("method {method}")]),
            );
        }
        self.parameters(o, n, &at);
        self.request_body(o.value.get("requestBody"), n.value.get("requestBody"), &at);
        self.responses(o.value, n.value, &at);
        self.security(o.value, n.value, &here);
        self.callbacks(o.value, n.value, &at);
    }

    fn parameters(&mut self, o: &ops::Op<'_>, n: &ops::Op<'_>, at: &dyn Fn(PlaceKind) -> Place) {
        let olds = effective_parameters(self.old, o);
        let news = effective_parameters(self.new, n);
        let (old_path, new_path) = (ops::path_params(&o.op.path), ops::path_params(&n.op.path));
        // Path parameters pair by position: their names are not part of the endpoint.
        let key_of = |names: &[String], (loc, name): &(String, String)| -> (String, String) {
            match names.iter().position(|p| p == name) {
                Some(i) if loc == "path" => (loc.clone(), format!("#{i}")),
                _ => (loc.clone(), name.clone()),
            }
        };
        let old_keyed: BTreeMap<_, _> = olds
            .iter()
            .map(|(k, v)| (key_of(&old_path, k), (k, *v)))
            .collect();
        let new_keyed: BTreeMap<_, _> = news
            .iter()
            .map(|(k, v)| (key_of(&new_path, k), (k, *v)))
            .collect();
        let method = rust::method_name(n.op.operation_id.as_deref());
        let required = |v: &Value| v.get("required").and_then(Value::as_bool).unwrap_or(false);
        for (key, ((loc, name), ov)) in &old_keyed {
            let place = at(PlaceKind::Parameter {
                location: loc.clone(),
                name: name.clone(),
            });
            let Some(((_, new_name), nv)) = new_keyed.get(key) else {
                self.op_change(
                    &place,
                    "request-parameter-removed",
                    Level::Warn,
                    "removed".into(),
                    RustImpact::new(
                        RustEffect::Breaking,
                        [format!(
                            "method {method} (setter .{}() removed)",
                            rust::setter_name(name)
                        )],
                    ),
                );
                continue;
            };
            if name != new_name {
                self.op_change(
                    &place,
                    "path-parameter-renamed",
                    Level::Info,
                    format!("renamed to `{new_name}` (same position in the path)"),
                    RustImpact::new(
                        RustEffect::Breaking,
                        [format!(
                            "method {method} (setter .{}() renamed to .{}())",
                            rust::setter_name(name),
                            rust::setter_name(new_name)
                        )],
                    ),
                );
            }
            let place = at(PlaceKind::Parameter {
                location: loc.clone(),
                name: new_name.clone(),
            });
            let (was, is) = (required(ov), required(nv));
            if was != is {
                self.op_change(
                    &place,
                    if is {
                        "request-parameter-became-required"
                    } else {
                        "request-parameter-became-optional"
                    },
                    if is { Level::Err } else { Level::Info },
                    format!("became {}", if is { "required" } else { "optional" }),
                    if is {
                        // The builder's send() now fails unless the setter was called.
                        RustImpact::new(
                            RustEffect::Breaking,
                            [format!(
                                "method {method} (.{}() now mandatory before send())",
                                rust::setter_name(new_name)
                            )],
                        )
                    } else {
                        RustImpact::new(RustEffect::Additive, [place.rust_item()])
                    },
                );
            }
            if ov.get("description") != nv.get("description") {
                self.op_docs(&place, "description");
            }
            if let (Some(a), Some(b)) = (ov.get("schema"), nv.get("schema")) {
                let ctx = SchemaCtx::at(place.clone(), Direction::Request);
                self.schema(a, b, &ctx);
            }
        }
        for (key, ((loc, name), nv)) in &new_keyed {
            if old_keyed.contains_key(key) {
                continue;
            }
            let place = at(PlaceKind::Parameter {
                location: loc.clone(),
                name: name.clone(),
            });
            self.input_added(
                &place,
                required(nv),
                [
                    "request-parameter-added",
                    "request-parameter-added-required",
                ],
                format!("method {method} (setter .{}())", rust::setter_name(name)),
            );
        }
    }

    fn request_body(
        &mut self,
        old: Option<&Value>,
        new: Option<&Value>,
        at: &dyn Fn(PlaceKind) -> Place,
    ) {
        let required = |v: &Value| v.get("required").and_then(Value::as_bool).unwrap_or(false);
        let place = at(PlaceKind::RequestBody {
            media: String::new(),
        });
        let method = place.method();
        match (
            old.map(|v| resolve(self.old, v).1),
            new.map(|v| resolve(self.new, v).1),
        ) {
            (None, None) => {}
            (Some(_), None) => self.op_change(
                &place,
                "request-body-removed",
                Level::Warn,
                "removed".into(),
                RustImpact::new(
                    RustEffect::Breaking,
                    [format!("method {method} (setter .body() removed)")],
                ),
            ),
            (None, Some(b)) => self.input_added(
                &place,
                required(b),
                ["request-body-added", "request-body-added-required"],
                format!("method {method} (setter .body())"),
            ),
            (Some(a), Some(b)) => {
                if !required(a) && required(b) {
                    self.op_change(
                        &place,
                        "request-body-became-required",
                        Level::Err,
                        "became required".into(),
                        RustImpact::new(
                            RustEffect::Breaking,
                            [format!("method {method} (.body() now mandatory)")],
                        ),
                    );
                }
                if a.get("description") != b.get("description") {
                    self.op_docs(&place, "description");
                }
                self.content(a, b, Direction::Request, &|media| {
                    at(PlaceKind::RequestBody {
                        media: media.to_string(),
                    })
                });
            }
        }
    }

    /// Compares the `content` maps of two bodies.
    fn content(&mut self, a: &Value, b: &Value, dir: Direction, at: &dyn Fn(&str) -> Place) {
        for (media, side) in members(a, b, "content") {
            let place = at(media);
            let (id, level, verb) = match side {
                Side::Removed => ("media-type-removed", Level::Err, "removed"),
                Side::Added => ("media-type-added", Level::Info, "added"),
                Side::Both(am, bm) => {
                    match (am.get("schema"), bm.get("schema")) {
                        (Some(x), Some(y)) => self.schema(x, y, &SchemaCtx::at(place, dir)),
                        (None, None) => {}
                        _ => self.op_change(
                            &place,
                            "media-type-schema-changed",
                            dir.level(true).max(Level::Warn),
                            "schema added or removed".into(),
                            RustImpact::new(RustEffect::Breaking, [place.rust_item()]),
                        ),
                    }
                    continue;
                }
            };
            self.op_change(
                &place,
                id,
                level,
                format!("media type `{media}` {verb}"),
                RustImpact::new(RustEffect::Breaking, [place.rust_item()]),
            );
        }
    }

    fn responses(&mut self, o: &Value, n: &Value, at: &dyn Fn(PlaceKind) -> Place) {
        for (status, side) in members(o, n, "responses") {
            let place = at(PlaceKind::Response {
                status: status.to_string(),
                media: String::new(),
            });
            let (id, level, verb) = match (side, status.starts_with('2')) {
                (Side::Removed, true) => ("response-success-status-removed", Level::Err, "removed"),
                (Side::Removed, false) => (
                    "response-non-success-status-removed",
                    Level::Info,
                    "removed",
                ),
                (Side::Added, true) => ("response-success-status-added", Level::Warn, "added"),
                (Side::Added, false) => ("response-non-success-status-added", Level::Info, "added"),
                (Side::Both(ov, nv), _) => {
                    let (a, b) = (resolve(self.old, ov).1, resolve(self.new, nv).1);
                    if a.get("description") != b.get("description") {
                        self.op_docs(&place, "description");
                    }
                    self.content(a, b, Direction::Response, &|media| {
                        at(PlaceKind::Response {
                            status: status.to_string(),
                            media: media.to_string(),
                        })
                    });
                    self.headers(a, b, status, at);
                    continue;
                }
            };
            self.op_change(
                &place,
                id,
                level,
                format!("status {status} {verb}"),
                RustImpact::new(RustEffect::Breaking, [place.rust_item()]),
            );
        }
    }

    fn headers(&mut self, a: &Value, b: &Value, status: &str, at: &dyn Fn(PlaceKind) -> Place) {
        for (name, side) in members(a, b, "headers") {
            let place = at(PlaceKind::ResponseHeader {
                status: status.to_string(),
                name: name.to_string(),
            });
            let (id, level, verb) = match side {
                Side::Removed => ("response-header-removed", Level::Warn, "removed"),
                Side::Added => ("response-header-added", Level::Info, "added"),
                Side::Both(av, bv) => {
                    let (x, y) = (resolve(self.old, av).1, resolve(self.new, bv).1);
                    if let (Some(xs), Some(ys)) = (x.get("schema"), y.get("schema")) {
                        self.schema(xs, ys, &SchemaCtx::at(place, Direction::Response));
                    }
                    continue;
                }
            };
            self.op_change(&place, id, level, verb.into(), RustImpact::none());
        }
    }

    fn security(&mut self, o: &Value, n: &Value, place: &Place) {
        let effective = |doc: &Value, op: &Value| -> BTreeSet<Vec<String>> {
            let reqs = op.get("security").or_else(|| doc.get("security"));
            reqs.and_then(Value::as_array)
                .map(|alts| {
                    alts.iter()
                        .filter_map(Value::as_object)
                        .map(|alt| {
                            let mut names: Vec<String> = alt.keys().cloned().collect();
                            names.sort();
                            names
                        })
                        .collect()
                })
                .unwrap_or_default()
        };
        let (a, b) = (effective(self.old, o), effective(self.new, n));
        if a == b {
            return;
        }
        let open = |s: &BTreeSet<Vec<String>>| s.is_empty() || s.contains(&Vec::new());
        let show = |s: &BTreeSet<Vec<String>>| {
            if s.is_empty() {
                "none".to_string()
            } else {
                s.iter()
                    .map(|alt| {
                        if alt.is_empty() {
                            "anonymous".into()
                        } else {
                            alt.join("+")
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(" | ")
            }
        };
        let (id, level) = match (open(&a), open(&b)) {
            (true, false) => ("security-added", Level::Err),
            (false, true) => ("security-removed", Level::Info),
            _ => ("security-changed", Level::Warn),
        };
        self.op_change(
            place,
            id,
            level,
            format!("security changed from {} to {}", show(&a), show(&b)),
            // progenitor leaves authentication to the caller's reqwest client.
            RustImpact::none(),
        );
    }

    fn callbacks(&mut self, o: &Value, n: &Value, at: &dyn Fn(PlaceKind) -> Place) {
        for (name, side) in members(o, n, "callbacks") {
            let place = at(PlaceKind::Callback {
                name: name.to_string(),
            });
            let (ov, nv) = match side {
                Side::Both(ov, nv) => (ov, nv),
                Side::Removed => {
                    self.callback_change(&place, false, "");
                    continue;
                }
                Side::Added => {
                    self.callback_change(&place, true, "");
                    continue;
                }
            };
            let (a, b) = (resolve(self.old, ov).1, resolve(self.new, nv).1);
            let (Some(a), Some(b)) = (a.as_object(), b.as_object()) else {
                continue;
            };
            for (expr, side) in pair_objects(Some(a), Some(b)) {
                let (a_item, b_item) = match side {
                    Side::Both(a_item, b_item) => (a_item, b_item),
                    Side::Removed => {
                        self.callback_change(&place, false, &format!("expression `{expr}`"));
                        continue;
                    }
                    Side::Added => {
                        self.callback_change(&place, true, &format!("expression `{expr}`"));
                        continue;
                    }
                };
                for method in ops::METHODS {
                    let what = || format!("`{expr}` {}", method.to_uppercase());
                    match (a_item.get(method), b_item.get(method)) {
                        (Some(x), Some(y)) => {
                            // The server sends callback requests: the client is the receiver.
                            let (x, y) = (resolve(self.old, x).1, resolve(self.new, y).1);
                            if let (Some(xb), Some(yb)) =
                                (x.get("requestBody"), y.get("requestBody"))
                            {
                                let (xb, yb) = (resolve(self.old, xb).1, resolve(self.new, yb).1);
                                self.content(xb, yb, Direction::Response, &|_| place.clone());
                            }
                        }
                        (Some(_), None) => self.callback_change(&place, false, &what()),
                        (None, Some(_)) => self.callback_change(&place, true, &what()),
                        (None, None) => {}
                    }
                }
            }
        }
    }

    /// A callback, one of its expressions (`what`) or one of their methods came or went.
    fn callback_change(&mut self, place: &Place, added: bool, what: &str) {
        let (id, level, verb) = if added {
            ("callback-added", Level::Info, "added")
        } else {
            ("callback-removed", Level::Warn, "removed")
        };
        let message = if what.is_empty() {
            verb.to_string()
        } else {
            format!("{what} {verb}")
        };
        self.op_change(place, id, level, message, RustImpact::none());
    }

    /// Component schemas that appear or disappear: each is a generated type.
    fn component_schemas(&mut self) {
        fn schemas(doc: &Value) -> Option<&serde_json::Map<String, Value>> {
            doc.pointer("/components/schemas")
                .and_then(Value::as_object)
        }
        let place = Place {
            op: OpRef {
                method: String::new(),
                path: String::new(),
                operation_id: None,
            },
            kind: PlaceKind::Components,
        };
        for (name, side) in pair_objects(schemas(self.old), schemas(self.new)) {
            let (id, effect, verb) = match side {
                Side::Removed => ("component-schema-removed", RustEffect::Breaking, "removed"),
                Side::Added => ("component-schema-added", RustEffect::Additive, "added"),
                Side::Both(..) => continue,
            };
            self.push(
                id,
                Level::Info,
                false,
                &place,
                Some(name.to_string()),
                "(schema root)".into(),
                format!("schema {verb}"),
                RustImpact::new(effect, [format!("type {} {verb}", rust::type_name(name))]),
            );
        }
    }
}

/// How a member name stands in an old and a new JSON object.
pub(crate) enum Side<'v> {
    /// Only in the old object.
    Removed,
    /// In both: the old and the new member.
    Both(&'v Value, &'v Value),
    /// Only in the new object.
    Added,
}

/// The members of the objects under `key` in `old` and `new` (absent: no members).
pub(crate) fn members<'v>(old: &'v Value, new: &'v Value, key: &str) -> Vec<(&'v str, Side<'v>)> {
    let object = |v: &'v Value| v.get(key).and_then(Value::as_object);
    pair_objects(object(old), object(new))
}

/// Pairs members by name: `old`'s order first, then the names only `new` has, in its order,
/// so that reports come out in document order.
fn pair_objects<'v>(
    old: Option<&'v serde_json::Map<String, Value>>,
    new: Option<&'v serde_json::Map<String, Value>>,
) -> Vec<(&'v str, Side<'v>)> {
    let mut out = Vec::new();
    for (name, a) in old.into_iter().flatten() {
        let side = match new.and_then(|b| b.get(name)) {
            Some(b) => Side::Both(a, b),
            None => Side::Removed,
        };
        out.push((name.as_str(), side));
    }
    for name in new.into_iter().flat_map(|b| b.keys()) {
        if !old.is_some_and(|a| a.contains_key(name)) {
            out.push((name.as_str(), Side::Added));
        }
    }
    out
}

/// Path-level parameters overridden by operation-level ones, keyed by (in, name).
fn effective_parameters<'v>(
    doc: &'v Value,
    op: &ops::Op<'v>,
) -> BTreeMap<(String, String), &'v Value> {
    let mut out = BTreeMap::new();
    for list in [op.item.get("parameters"), op.value.get("parameters")] {
        for p in list.and_then(Value::as_array).into_iter().flatten() {
            let p = resolve(doc, p).1;
            let (Some(loc), Some(name)) = (
                p.get("in").and_then(Value::as_str),
                p.get("name").and_then(Value::as_str),
            ) else {
                continue;
            };
            out.insert((loc.to_string(), name.to_string()), p);
        }
    }
    out
}

/// Folds changes identical but for the operation into one entry listing the operations.
fn merge(raw: Vec<Change>) -> Vec<Change> {
    let mut order: Vec<(String, &'static str, String, String)> = Vec::new();
    let mut merged: BTreeMap<(String, &'static str, String, String), Change> = BTreeMap::new();
    for c in raw {
        let key = (
            c.component.clone().unwrap_or_default(),
            c.id,
            c.location.clone(),
            c.message.clone(),
        );
        match merged.get_mut(&key) {
            Some(existing) => {
                for op in c.operations {
                    if !existing.operations.contains(&op) {
                        existing.operations.push(op);
                    }
                }
                for item in c.rust.items {
                    if !existing.rust.items.contains(&item) {
                        existing.rust.items.push(item);
                    }
                }
                existing.rust.effect = existing.rust.effect.max(c.rust.effect);
                existing.level = existing.level.max(c.level);
            }
            None => {
                order.push(key.clone());
                merged.insert(key, c);
            }
        }
    }
    let mut out: Vec<Change> = order
        .into_iter()
        .filter_map(|k| merged.remove(&k))
        .collect();
    for c in &mut out {
        c.operations.sort();
    }
    // Most severe first, documentation last; otherwise in the order found.
    out.sort_by_key(|c| (c.docs, std::cmp::Reverse(c.level)));
    out
}

fn summarize(operations: &[OperationChange], changes: &[Change]) -> RustSummary {
    let mut s = RustSummary {
        methods_added: Vec::new(),
        methods_removed: Vec::new(),
        methods_changed: Vec::new(),
        types_added: Vec::new(),
        types_removed: Vec::new(),
        types_changed: Vec::new(),
        bump: Bump::None,
        rule: SEMVER_RULE,
    };
    let mut strongest = RustEffect::None;
    for o in operations {
        match o.kind {
            OperationChangeKind::Added => {
                s.methods_added.push(o.rust_method.clone());
                strongest = strongest.max(RustEffect::Additive);
            }
            OperationChangeKind::Removed => {
                s.methods_removed.push(o.rust_method.clone());
                strongest = RustEffect::Breaking;
            }
            OperationChangeKind::Moved => {
                s.methods_changed.push(o.rust_method.clone());
                strongest = RustEffect::Breaking;
            }
        }
    }
    for c in changes {
        strongest = strongest.max(c.rust.effect);
        if c.rust.effect < RustEffect::Additive {
            continue;
        }
        match (c.id, &c.component) {
            ("component-schema-added", Some(n)) => s.types_added.push(rust::type_name(n)),
            ("component-schema-removed", Some(n)) => s.types_removed.push(rust::type_name(n)),
            (_, Some(n)) if c.rust.effect == RustEffect::Breaking => {
                s.types_changed.push(rust::type_name(n))
            }
            (_, None) if c.rust.effect == RustEffect::Breaking => {
                for op in &c.operations {
                    s.methods_changed
                        .push(rust::method_name(op.operation_id.as_deref()));
                }
            }
            _ => {}
        }
    }
    for list in [
        &mut s.methods_added,
        &mut s.methods_removed,
        &mut s.methods_changed,
        &mut s.types_added,
        &mut s.types_removed,
        &mut s.types_changed,
    ] {
        list.sort();
        list.dedup();
    }
    let removed: BTreeSet<String> = s.methods_removed.iter().cloned().collect();
    s.methods_changed.retain(|m| !removed.contains(m));
    let removed: BTreeSet<String> = s.types_removed.iter().cloned().collect();
    s.types_changed.retain(|t| !removed.contains(t));
    s.bump = rust::bump(strongest);
    s
}
