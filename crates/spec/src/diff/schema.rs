//! Comparing two schemas deeply, through `$ref`s.

use serde_json::Value;

use super::model::{Direction, Level, RustEffect, RustImpact};
use super::rust::type_name;
use super::{members, resolve, Differ, Place, Side};

/// Where in a schema the comparison is, and whom a change there belongs to.
#[derive(Clone)]
pub(super) struct SchemaCtx {
    pub place: Place,
    pub dir: Direction,
    /// The component schema being walked (new name), if any.
    pub component: Option<String>,
    /// The property path within the component, or within the inline body.
    pub path: String,
}

impl SchemaCtx {
    /// The top of a schema found at `place` (not inside a component).
    pub fn at(place: Place, dir: Direction) -> SchemaCtx {
        SchemaCtx {
            place,
            dir,
            component: None,
            path: String::new(),
        }
    }

    fn child(&self, segment: &str) -> SchemaCtx {
        let path = if self.path.is_empty() || segment.starts_with('[') {
            format!("{}{segment}", self.path)
        } else {
            format!("{}.{segment}", self.path)
        };
        SchemaCtx {
            path,
            ..self.clone()
        }
    }

    /// The Rust items a structural change here touches.
    fn rust(&self, effect: RustEffect) -> RustImpact {
        let field = if self.path.is_empty() {
            String::new()
        } else {
            format!(" (at {})", self.path)
        };
        let item = match &self.component {
            Some(c) => format!("type {}{field}", type_name(c)),
            None => format!("{}{field}", self.place.rust_item()),
        };
        RustImpact::new(effect, [item])
    }

    fn location(&self) -> String {
        match (&self.component, self.path.is_empty()) {
            (Some(_), true) => "(schema root)".into(),
            (Some(_), false) => self.path.clone(),
            (None, true) => self.place.describe(),
            (None, false) => format!("{}: {}", self.place.describe(), self.path),
        }
    }
}

const DOC_KEYS: [&str; 4] = ["description", "title", "example", "externalDocs"];

impl Differ<'_> {
    pub(super) fn schema(&mut self, old: &Value, new: &Value, ctx: &SchemaCtx) {
        let (old_name, o) = resolve(self.old, old);
        let (new_name, n) = resolve(self.new, new);
        let mut ctx = ctx.clone();
        match (&old_name, &new_name) {
            (Some(a), Some(b)) if component_of(a) != component_of(b) => {
                let (a, b) = (component_of(a), component_of(b));
                self.emit_schema(
                    &ctx,
                    "schema-type-replaced",
                    Level::Err,
                    format!("now refers to `{b}` instead of `{a}`"),
                    RustEffect::Breaking,
                );
                return;
            }
            (_, Some(b)) | (Some(b), None) => {
                let name = component_of(b).to_string();
                let key = (ctx.place.op_key(), name.clone(), ctx.dir);
                if !self.seen.insert(key) {
                    return;
                }
                ctx = SchemaCtx {
                    component: Some(name),
                    path: String::new(),
                    ..ctx
                };
            }
            (None, None) => {}
        }
        self.schema_node(o, n, &ctx);
    }

    fn schema_node(&mut self, o: &Value, n: &Value, ctx: &SchemaCtx) {
        for key in DOC_KEYS {
            if o.get(key) != n.get(key) {
                self.emit_docs(ctx, key);
            }
        }
        let (ot, nt) = (type_of(o), type_of(n));
        if let (Some(a), Some(b)) = (&ot, &nt) {
            if a != b {
                self.emit_schema(
                    ctx,
                    "schema-type-changed",
                    Level::Err,
                    format!("type changed from `{a}` to `{b}`"),
                    RustEffect::Breaking,
                );
                return;
            }
        }
        if o.get("format") != n.get("format") {
            let show = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or("none").to_string();
            self.emit_schema(
                ctx,
                "schema-format-changed",
                Level::Warn,
                format!(
                    "format changed from `{}` to `{}`",
                    show(o.get("format")),
                    show(n.get("format"))
                ),
                RustEffect::Breaking,
            );
        }
        self.enums(o, n, ctx);
        let nullable = |v: &Value| v.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        if nullable(o) != nullable(n) {
            let widening = nullable(n);
            self.emit_schema(
                ctx,
                if widening {
                    "schema-became-nullable"
                } else {
                    "schema-became-not-nullable"
                },
                ctx.dir.level(!widening),
                format!(
                    "became {}",
                    if widening { "nullable" } else { "not nullable" }
                ),
                RustEffect::Breaking,
            );
        }
        self.properties(o, n, ctx);
        if let (Some(a), Some(b)) = (o.get("items"), n.get("items")) {
            self.schema(a, b, &ctx.child("[]"));
        }
        if let (Some(a @ Value::Object(_)), Some(b @ Value::Object(_))) =
            (o.get("additionalProperties"), n.get("additionalProperties"))
        {
            self.schema(a, b, &ctx.child("{*}"));
        }
        for key in ["allOf", "oneOf", "anyOf"] {
            self.composition(key, o, n, ctx);
        }
    }

    fn enums(&mut self, o: &Value, n: &Value, ctx: &SchemaCtx) {
        let empty = Vec::new();
        let oe = o.get("enum").and_then(Value::as_array);
        let ne = n.get("enum").and_then(Value::as_array);
        if oe.is_none() && ne.is_none() {
            return;
        }
        let (oe, ne) = (oe.unwrap_or(&empty), ne.unwrap_or(&empty));
        if oe.is_empty() || ne.is_empty() {
            let added = oe.is_empty();
            self.emit_schema(
                ctx,
                if added { "enum-added" } else { "enum-removed" },
                ctx.dir.level(added),
                format!(
                    "{} an enumeration",
                    if added {
                        "restricted to"
                    } else {
                        "no longer restricted to"
                    }
                ),
                RustEffect::Breaking,
            );
            return;
        }
        let removed: Vec<&Value> = oe.iter().filter(|v| !ne.contains(v)).collect();
        let added: Vec<&Value> = ne.iter().filter(|v| !oe.contains(v)).collect();
        let (renames, removed, added) = pair_renames(removed, added);
        for (a, b) in renames {
            self.emit_schema(
                ctx,
                "enum-value-renamed",
                ctx.dir.level(true).max(ctx.dir.level(false)),
                format!("enum value {} renamed to {}", show(a), show(b)),
                RustEffect::Breaking,
            );
        }
        for v in removed {
            self.emit_schema(
                ctx,
                "enum-value-removed",
                ctx.dir.level(true),
                format!("enum value {} removed", show(v)),
                RustEffect::Breaking,
            );
        }
        for v in added {
            self.emit_schema(
                ctx,
                "enum-value-added",
                ctx.dir.level(false),
                format!("enum value {} added", show(v)),
                // typify's enums are exhaustive: a new variant breaks exhaustive matches.
                RustEffect::Breaking,
            );
        }
    }

    fn properties(&mut self, o: &Value, n: &Value, ctx: &SchemaCtx) {
        let required = |v: &Value, name: &str| {
            v.get("required")
                .and_then(Value::as_array)
                .is_some_and(|r| r.iter().any(|x| x == name))
        };
        for (name, side) in members(o, n, "properties") {
            let at = ctx.child(name);
            match side {
                Side::Removed => {
                    let was_required = required(o, name);
                    let level = match ctx.dir {
                        Direction::Request => Level::Warn,
                        Direction::Response if was_required => Level::Err,
                        Direction::Response => Level::Warn,
                    };
                    self.emit_schema(
                        &at,
                        "property-removed",
                        level,
                        format!(
                            "{} property `{name}` removed",
                            if was_required { "required" } else { "optional" }
                        ),
                        RustEffect::Breaking,
                    );
                }
                Side::Both(old_prop, new_prop) => {
                    let (was, is) = (required(o, name), required(n, name));
                    if was != is {
                        self.emit_schema(
                            &at,
                            if is {
                                "property-became-required"
                            } else {
                                "property-became-optional"
                            },
                            // Required narrows what a request may omit; optional lets a
                            // response omit what clients read: both break them.
                            if (ctx.dir == Direction::Request) == is {
                                Level::Err
                            } else {
                                Level::Info
                            },
                            format!(
                                "property `{name}` became {}",
                                if is { "required" } else { "optional" }
                            ),
                            RustEffect::Breaking,
                        );
                    }
                    self.schema(old_prop, new_prop, &at);
                }
                Side::Added => {
                    let is_required = required(n, name);
                    let level = match ctx.dir {
                        Direction::Request if is_required => Level::Err,
                        _ => Level::Info,
                    };
                    self.emit_schema(
                        &at,
                        "property-added",
                        level,
                        format!(
                            "{} property `{name}` added",
                            if is_required { "required" } else { "optional" }
                        ),
                        // typify's structs have public fields and no #[non_exhaustive]:
                        // struct literals stop compiling.
                        RustEffect::Breaking,
                    );
                }
            }
        }
    }

    fn composition(&mut self, key: &str, o: &Value, n: &Value, ctx: &SchemaCtx) {
        let empty = Vec::new();
        let oa = o.get(key).and_then(Value::as_array).unwrap_or(&empty);
        let na = n.get(key).and_then(Value::as_array).unwrap_or(&empty);
        if oa.is_empty() && na.is_empty() {
            return;
        }
        for i in 0..oa.len().min(na.len()) {
            // allOf merges into one object, so its members share the path.
            let sub = if key == "allOf" {
                ctx.clone()
            } else {
                ctx.child(&format!("[{key} {i}]"))
            };
            self.schema(&oa[i], &na[i], &sub);
        }
        if oa.len() != na.len() {
            let widening = match key {
                "allOf" => na.len() < oa.len(),
                _ => na.len() > oa.len(),
            };
            self.emit_schema(
                ctx,
                "schema-composition-changed",
                ctx.dir.level(!widening),
                format!("`{key}` went from {} to {} members", oa.len(), na.len()),
                RustEffect::Breaking,
            );
        }
    }

    fn emit_schema(
        &mut self,
        ctx: &SchemaCtx,
        id: &'static str,
        level: Level,
        message: String,
        effect: RustEffect,
    ) {
        let rust = ctx.rust(effect);
        self.push(
            id,
            level,
            false,
            &ctx.place,
            ctx.component.clone(),
            ctx.location(),
            message,
            rust,
        );
    }

    fn emit_docs(&mut self, ctx: &SchemaCtx, key: &str) {
        let rust = if key == "example" {
            RustImpact::none()
        } else {
            ctx.rust(RustEffect::Docs)
        };
        self.push(
            "schema-documentation-changed",
            Level::Info,
            true,
            &ctx.place,
            ctx.component.clone(),
            ctx.location(),
            format!("`{key}` changed"),
            rust,
        );
    }
}

/// `#/components/schemas/Name` -> `Name`.
fn component_of(pointer: &str) -> &str {
    pointer.rsplit('/').next().unwrap_or(pointer)
}

/// The declared type, or the one implied by `properties`/`items`.
fn type_of(v: &Value) -> Option<String> {
    match v.get("type") {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Array(a)) => Some(
            a.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("|"),
        ),
        _ if v.get("properties").is_some() => Some("object".into()),
        _ if v.get("items").is_some() => Some("array".into()),
        _ => None,
    }
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

/// Pairs removed and added enum values that look like the same value respelled (case,
/// a prefix or suffix, a typo), best match first.
fn pair_renames<'v>(
    removed: Vec<&'v Value>,
    added: Vec<&'v Value>,
) -> (Vec<(&'v Value, &'v Value)>, Vec<&'v Value>, Vec<&'v Value>) {
    let mut candidates: Vec<(f64, usize, usize)> = Vec::new();
    for (i, a) in removed.iter().enumerate() {
        for (j, b) in added.iter().enumerate() {
            if let (Some(a), Some(b)) = (a.as_str(), b.as_str()) {
                let s = similarity(a, b);
                if s >= 0.5 {
                    candidates.push((s, i, j));
                }
            }
        }
    }
    candidates.sort_by(|x, y| y.0.total_cmp(&x.0).then((x.1, x.2).cmp(&(y.1, y.2))));
    let (mut used_r, mut used_a) = (vec![false; removed.len()], vec![false; added.len()]);
    let mut pairs = Vec::new();
    for (_, i, j) in candidates {
        if !used_r[i] && !used_a[j] {
            used_r[i] = true;
            used_a[j] = true;
            pairs.push((i, j));
        }
    }
    pairs.sort();
    let renames = pairs.iter().map(|&(i, j)| (removed[i], added[j])).collect();
    let rest_r = (0..removed.len())
        .filter(|i| !used_r[*i])
        .map(|i| removed[i])
        .collect();
    let rest_a = (0..added.len())
        .filter(|j| !used_a[*j])
        .map(|j| added[j])
        .collect();
    (renames, rest_r, rest_a)
}

/// 1.0 for equal up to case, high when one contains the other, else edit-distance based.
fn similarity(a: &str, b: &str) -> f64 {
    let (a, b) = (a.to_lowercase(), b.to_lowercase());
    if a == b {
        return 1.0;
    }
    let (short, long) = if a.len() <= b.len() {
        (&a, &b)
    } else {
        (&b, &a)
    };
    if short.len() >= 4 && long.contains(short.as_str()) {
        return 0.9;
    }
    let d = levenshtein(&a, &b) as f64;
    1.0 - d / a.chars().count().max(b.chars().count()) as f64
}

fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            cur[j + 1] = (prev[j] + usize::from(ca != *cb))
                .min(prev[j + 1] + 1)
                .min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}
