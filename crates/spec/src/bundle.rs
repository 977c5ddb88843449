//! Bundling: turning a tree of files joined by `$ref`s into one self-contained document.
//!
//! Every reference to another file (or to a JSON pointer inside one) is replaced: path items,
//! which OpenAPI 3.0 cannot keep under `components`, are inlined; everything else is hoisted
//! into `components/<section>/<name>`, named from the file (or the pointer's last segment) the
//! way Redocly does, then made unique and usable as a Rust identifier. A schema that refers to
//! itself through files is fine (it becomes a recursive component); a chain of references that
//! never reaches content, or a path item that includes itself, is an error.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;

use heck::ToUpperCamelCase;
use indexmap::IndexMap;
use serde_json::{Map, Value};

use crate::error::{Error, Result};
use crate::fetch::Limits;
use crate::source::{normalize_path, normalize_slash_path, Loader, Location};

/// What may be read while bundling.
#[derive(Debug, Clone, Default)]
pub struct BundleOptions {
    pub limits: Limits,
    /// Follow `$ref`s to other hosts (or, from a local tree, to any URL).
    pub allow_remote_refs: bool,
}

/// A bundled document and where it came from.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub document: Value,
    /// Every file or URL read, root first.
    pub sources: Vec<Location>,
    /// Components created from other files: `(section, name, origin)`.
    pub hoisted: Vec<(String, String, String)>,
}

/// Bundles the document at `root`.
pub fn bundle(root: &Location, options: &BundleOptions) -> Result<Bundle> {
    let root = match root {
        Location::File(p) => Location::File(p.canonicalize().map_err(|_| Error::MissingFile {
            location: p.display().to_string(),
            from: "the command line".into(),
        })?),
        other => other.clone(),
    };
    let mut bundler = Bundler {
        loader: Loader::new(options.limits.clone()),
        root_dir: RootDir::of(&root),
        root: root.clone(),
        allow_remote: options.allow_remote_refs,
        names: HashMap::new(),
        sections: IndexMap::new(),
        taken: HashMap::new(),
        origins: Vec::new(),
        inlining: Vec::new(),
        emitted: Vec::new(),
    };
    let doc = bundler.loader.load(&root, "the command line")?;
    bundler.reserve_root_components(&doc);
    let here = Here {
        loc: root.clone(),
        ptr: String::new(),
    };
    let mut document = bundler.walk(&doc, Kind::Document, &here)?;
    bundler.merge_components(&mut document);
    check_refs(&document, &bundler.emitted)?;
    Ok(Bundle {
        document,
        sources: bundler.loader.locations().to_vec(),
        hoisted: bundler.origins,
    })
}

/// The kind of OpenAPI object at a place in the tree; it decides how children are read and
/// which `components` section a referenced file lands in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Document,
    Paths,
    PathItem,
    Operation,
    Responses,
    Response,
    Parameter,
    Header,
    RequestBody,
    MediaType,
    Encoding,
    Callback,
    Link,
    Example,
    SecurityScheme,
    Schema,
    Components,
    /// Free-form data (examples, extensions, defaults): a `$ref` key there is just data.
    Literal,
}

/// How the value under a key is read.
enum Shape {
    One(Kind),
    Map(Kind),
    List(Kind),
}

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

fn shape(parent: Kind, key: &str) -> Shape {
    use Kind::*;
    use Shape::*;
    if key.starts_with("x-") {
        return One(Literal);
    }
    match (parent, key) {
        (Document, "paths") => One(Paths),
        (Document, "components") => One(Components),
        (Document, "webhooks") => Map(PathItem),
        (Paths, _) | (Callback, _) => One(PathItem),
        (PathItem, m) if METHODS.contains(&m) => One(Operation),
        (PathItem, "parameters") | (Operation, "parameters") => List(Parameter),
        (Operation, "requestBody") => One(RequestBody),
        (Operation, "responses") => One(Responses),
        (Operation, "callbacks") => Map(Callback),
        (Responses, _) => One(Response),
        (Response, "headers") | (Encoding, "headers") => Map(Header),
        (Response, "content")
        | (Parameter, "content")
        | (Header, "content")
        | (RequestBody, "content") => Map(MediaType),
        (Response, "links") => Map(Link),
        (Parameter, "schema") | (Header, "schema") | (MediaType, "schema") => One(Schema),
        (Parameter, "examples") | (Header, "examples") | (MediaType, "examples") => Map(Example),
        (MediaType, "encoding") => Map(Encoding),
        (Components, "schemas") => Map(Schema),
        (Components, "responses") => Map(Response),
        (Components, "parameters") => Map(Parameter),
        (Components, "examples") => Map(Example),
        (Components, "requestBodies") => Map(RequestBody),
        (Components, "headers") => Map(Header),
        (Components, "securitySchemes") => Map(SecurityScheme),
        (Components, "links") => Map(Link),
        (Components, "callbacks") => Map(Callback),
        (Components, "pathItems") => Map(PathItem),
        (
            Schema,
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas",
        ) => Map(Schema),
        (
            Schema,
            "items"
            | "not"
            | "additionalProperties"
            | "additionalItems"
            | "contains"
            | "propertyNames"
            | "if"
            | "then"
            | "else"
            | "unevaluatedItems"
            | "unevaluatedProperties",
        ) => One(Schema),
        (Schema, "allOf" | "oneOf" | "anyOf" | "prefixItems") => List(Schema),
        _ => One(Literal),
    }
}

/// The `components` section a referenced object of this kind is hoisted into; `None` means it
/// is inlined where it is referenced.
fn section(kind: Kind) -> Option<&'static str> {
    Some(match kind {
        Kind::Schema => "schemas",
        Kind::Response => "responses",
        Kind::Parameter => "parameters",
        Kind::Header => "headers",
        Kind::RequestBody => "requestBodies",
        Kind::Example => "examples",
        Kind::Link => "links",
        Kind::Callback => "callbacks",
        Kind::SecurityScheme => "securitySchemes",
        _ => return None,
    })
}

/// A referenced place: a document and a JSON pointer into it.
type Target = (Location, String);

/// Where the walk is, for resolving relative references and for messages.
#[derive(Clone)]
struct Here {
    loc: Location,
    ptr: String,
}

impl Here {
    fn child(&self, key: &str) -> Here {
        Here {
            loc: self.loc.clone(),
            ptr: format!("{}/{}", self.ptr, escape_pointer(key)),
        }
    }
    fn show(&self) -> String {
        format!("{}#{}", self.loc, self.ptr)
    }
}

/// The folder nothing may be read from outside of.
enum RootDir {
    File(PathBuf),
    Url(url::Url),
    Git(String),
}

impl RootDir {
    fn of(root: &Location) -> RootDir {
        match root {
            Location::File(p) => RootDir::File(p.parent().map(PathBuf::from).unwrap_or_default()),
            Location::Url(u) => RootDir::Url(u.join("./").unwrap_or_else(|_| u.clone())),
            Location::Git { path, .. } => {
                RootDir::Git(path.rsplit_once('/').map(|(d, _)| d).unwrap_or("").into())
            }
        }
    }
    fn show(&self) -> String {
        match self {
            RootDir::File(p) => p.display().to_string(),
            RootDir::Url(u) => crate::fetch::redact(u),
            RootDir::Git(p) => format!("{p}/"),
        }
    }
}

struct Bundler {
    loader: Loader,
    root: Location,
    root_dir: RootDir,
    allow_remote: bool,
    /// Component name given to each hoisted target, per section.
    names: HashMap<(&'static str, Target), String>,
    /// Hoisted components in the order they were first referenced.
    sections: IndexMap<&'static str, IndexMap<String, Value>>,
    /// Rust type names already used, per section, so no two components collide in Rust.
    taken: HashMap<&'static str, HashSet<String>>,
    origins: Vec<(String, String, String)>,
    /// Targets being inlined, outermost first (a repeat is a cycle).
    inlining: Vec<(Target, String)>,
    /// Every internal reference written, with where it was written, checked at the end.
    emitted: Vec<(String, String)>,
}

impl Bundler {
    fn reserve_root_components(&mut self, doc: &Value) {
        let Some(components) = doc.get("components").and_then(Value::as_object) else {
            return;
        };
        for (section_name, entries) in components {
            let Some(section) = SECTIONS.iter().find(|s| **s == section_name) else {
                continue;
            };
            if let Some(entries) = entries.as_object() {
                let taken = self.taken.entry(section).or_default();
                for name in entries.keys() {
                    taken.insert(name.to_upper_camel_case());
                }
            }
        }
    }

    fn walk(&mut self, value: &Value, kind: Kind, here: &Here) -> Result<Value> {
        if kind == Kind::Literal {
            return self.literal(value, here);
        }
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    return self.reference(r, map, kind, here);
                }
                let mut out = Map::with_capacity(map.len());
                for (key, child) in map {
                    let at = here.child(key);
                    let walked = match (kind, key.as_str()) {
                        (Kind::Schema, "discriminator") => self.discriminator(child, &at)?,
                        (Kind::Components, _) if !key.starts_with("x-") => {
                            self.component_section(key, child, &at)?
                        }
                        _ => self.walk_shape(shape(kind, key), child, &at)?,
                    };
                    out.insert(key.clone(), walked);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) if kind == Kind::Schema => {
                // Draft-4 style tuple `items`.
                self.walk_list(items, Kind::Schema, here)
            }
            other => Ok(other.clone()),
        }
    }

    /// Free-form data is copied, except that references to other files are replaced by their
    /// content (code samples in `x-code-samples` are the usual case): parsed for JSON and
    /// YAML, as text for anything else.
    fn literal(&mut self, value: &Value, here: &Here) -> Result<Value> {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    if !r.starts_with('#') {
                        let target = self.resolve(r, here)?;
                        if is_structured(&target.0) {
                            let siblings = map.iter().filter(|(k, _)| k.as_str() != "$ref");
                            return self.inline(r, target, Kind::Literal, siblings, here);
                        }
                        return self
                            .loader
                            .load_text(&target.0, &here.show())
                            .map(Value::String);
                    }
                }
                let mut out = Map::with_capacity(map.len());
                for (key, child) in map {
                    out.insert(key.clone(), self.literal(child, &here.child(key))?);
                }
                Ok(Value::Object(out))
            }
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.literal(item, &here.child(&i.to_string())))
                .collect::<Result<Vec<_>>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    fn walk_shape(&mut self, shape: Shape, value: &Value, here: &Here) -> Result<Value> {
        match (shape, value) {
            (Shape::One(kind), v) => self.walk(v, kind, here),
            (Shape::Map(kind), Value::Object(map)) => {
                let mut out = Map::with_capacity(map.len());
                for (key, child) in map {
                    let kind = if key.starts_with("x-") && kind != Kind::Schema {
                        Kind::Literal
                    } else {
                        kind
                    };
                    out.insert(key.clone(), self.walk(child, kind, &here.child(key))?);
                }
                Ok(Value::Object(out))
            }
            (Shape::List(kind), Value::Array(items)) => self.walk_list(items, kind, here),
            (_, other) => Ok(other.clone()),
        }
    }

    fn walk_list(&mut self, items: &[Value], kind: Kind, here: &Here) -> Result<Value> {
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.walk(item, kind, &here.child(&i.to_string())))
            .collect::<Result<Vec<_>>>()
            .map(Value::Array)
    }

    /// A section of the root's own `components`: an entry that is just a reference to another
    /// file takes that file's content under the entry's own name, as Redocly does.
    fn component_section(&mut self, key: &str, value: &Value, here: &Here) -> Result<Value> {
        let Shape::Map(kind) = shape(Kind::Components, key) else {
            return self.walk(value, Kind::Literal, here);
        };
        let (Some(section), Value::Object(entries)) = (section(kind), value) else {
            return self.walk_shape(Shape::Map(kind), value, here);
        };
        let mut out = Map::with_capacity(entries.len());
        for (name, entry) in entries {
            let at = here.child(name);
            let external = match entry.get("$ref") {
                Some(Value::String(r)) if here.loc == self.root => {
                    let target = self.resolve(r, &at)?;
                    (target.0 != self.root).then_some(target)
                }
                _ => None,
            };
            let walked = match external {
                Some(target) if !self.names.contains_key(&(section, target.clone())) => {
                    self.names.insert((section, target.clone()), name.clone());
                    let content = self.target_value(&target, &at)?;
                    self.walk(&content, kind, &target_here(&target))?
                }
                _ => self.walk(entry, kind, &at)?,
            };
            out.insert(name.clone(), walked);
        }
        Ok(Value::Object(out))
    }

    fn discriminator(&mut self, value: &Value, here: &Here) -> Result<Value> {
        let mut out = value.clone();
        let Some(mapping) = out.get_mut("mapping").and_then(Value::as_object_mut) else {
            return Ok(out);
        };
        for (key, target) in mapping.iter_mut() {
            let Some(r) = target.as_str() else { continue };
            // A bare name refers to a schema of the same document; only paths are references.
            if !(r.contains('/') || r.contains('#') || r.ends_with(".yaml") || r.ends_with(".json"))
            {
                continue;
            }
            let at = here.child("mapping").child(key);
            let mut fake = Map::new();
            fake.insert("$ref".into(), Value::String(r.to_string()));
            let rewritten = self.reference(r, &fake, Kind::Schema, &at)?;
            *target = rewritten["$ref"].clone();
        }
        Ok(out)
    }

    fn reference(
        &mut self,
        r: &str,
        map: &Map<String, Value>,
        kind: Kind,
        here: &Here,
    ) -> Result<Value> {
        let target = self.resolve(r, here)?;
        let siblings = map.iter().filter(|(k, _)| k.as_str() != "$ref");
        let Some(section) = section(kind) else {
            return self.inline(r, target, kind, siblings, here);
        };
        let pointer = if target.0 == self.root {
            target.1.clone()
        } else {
            let key = (section, target.clone());
            let name = match self.names.get(&key) {
                Some(name) => name.clone(),
                None => self.hoist(section, kind, target)?,
            };
            format!("/components/{section}/{}", escape_pointer(&name))
        };
        self.emitted.push((pointer.clone(), here.show()));
        let mut out = Map::new();
        out.insert("$ref".into(), Value::String(format!("#{pointer}")));
        for (k, v) in siblings {
            out.insert(k.clone(), v.clone());
        }
        Ok(Value::Object(out))
    }

    fn inline<'a>(
        &mut self,
        r: &str,
        target: Target,
        kind: Kind,
        siblings: impl Iterator<Item = (&'a String, &'a Value)>,
        here: &Here,
    ) -> Result<Value> {
        if let Some(start) = self.inlining.iter().position(|(t, _)| *t == target) {
            let mut chain: Vec<String> = self.inlining[start..]
                .iter()
                .map(|(_, shown)| shown.clone())
                .collect();
            chain.push(format!("{} (`{r}`)", here.show()));
            return Err(Error::Cycle { chain });
        }
        self.inlining
            .push((target.clone(), format!("{} (`{r}`)", here.show())));
        let content = self.target_value(&target, here);
        let walked = content.and_then(|c| self.walk(&c, kind, &target_here(&target)));
        self.inlining.pop();
        let mut walked = walked?;
        if let Value::Object(obj) = &mut walked {
            for (k, v) in siblings {
                obj.insert(k.clone(), v.clone());
            }
        }
        Ok(walked)
    }

    fn hoist(&mut self, section: &'static str, kind: Kind, target: Target) -> Result<String> {
        let name = self.allocate(section, &target);
        self.names.insert((section, target.clone()), name.clone());
        self.origins.push((
            section.to_string(),
            name.clone(),
            target_here(&target).show(),
        ));
        // The slot is taken before walking so references back to it end here.
        self.sections
            .entry(section)
            .or_default()
            .insert(name.clone(), Value::Null);
        let here = target_here(&target);
        let content = self.target_value(&target, &here)?;
        let walked = self.walk(&content, kind, &here)?;
        self.sections[section][&name] = walked;
        Ok(name)
    }

    /// A component name from the file name (or the pointer's last segment) that is a valid
    /// OpenAPI component key and whose Rust type name is not used yet in this section.
    fn allocate(&mut self, section: &'static str, target: &Target) -> String {
        let raw = match target.1.rsplit('/').next() {
            Some(last) if !target.1.is_empty() => unescape_pointer(last),
            _ => {
                let file = target.0.file_name();
                let stem = [".yaml", ".yml", ".json"]
                    .iter()
                    .find_map(|ext| file.strip_suffix(ext))
                    .unwrap_or(&file)
                    .to_string();
                stem
            }
        };
        let mut base: String = raw
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        base = base
            .trim_matches(|c| c == '_' || c == '.' || c == '-')
            .to_string();
        if !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            let singular = section.trim_end_matches('s');
            base = format!("{singular}_{base}")
                .trim_end_matches('_')
                .to_string();
        }
        let taken = self.taken.entry(section).or_default();
        let mut candidate = base.clone();
        let mut n = 2;
        while taken.contains(&candidate.to_upper_camel_case())
            || RESERVED.contains(&candidate.to_upper_camel_case().as_str())
        {
            candidate = format!("{base}-{n}");
            n += 1;
        }
        taken.insert(candidate.to_upper_camel_case());
        candidate
    }

    fn target_value(&mut self, target: &Target, here: &Here) -> Result<Value> {
        let doc = self.loader.load(&target.0, &here.show())?;
        if target.1.is_empty() {
            return Ok((*doc).clone());
        }
        doc.pointer(&target.1)
            .cloned()
            .ok_or_else(|| Error::PointerNotFound {
                reference: format!("{}#{}", target.0.file_name(), target.1),
                from: here.show(),
                location: target.0.to_string(),
                pointer: target.1.clone(),
            })
    }

    fn resolve(&self, r: &str, here: &Here) -> Result<Target> {
        let bad = |message: &str| Error::BadRef {
            reference: r.to_string(),
            from: here.show(),
            message: message.to_string(),
        };
        let (file, fragment) = r.split_once('#').unwrap_or((r, ""));
        let pointer = percent_encoding::percent_decode_str(fragment)
            .decode_utf8()
            .map_err(|_| bad("the fragment is not UTF-8"))?
            .into_owned();
        if !pointer.is_empty() && !pointer.starts_with('/') {
            return Err(bad("only JSON pointer fragments (`#/…`) are supported"));
        }
        if file.is_empty() {
            return Ok((here.loc.clone(), pointer));
        }
        let absolute = match url::Url::parse(file) {
            Ok(u) if u.scheme().len() > 1 => Some(u),
            _ => None,
        };
        if let Some(url) = absolute {
            if url.scheme() != "http" && url.scheme() != "https" {
                return Err(bad("only http(s) URLs and relative paths are supported"));
            }
            let inside = matches!(&self.root_dir, RootDir::Url(dir) if url.as_str().starts_with(dir.as_str()));
            if !inside && !self.allow_remote {
                return Err(Error::RemoteRefRefused {
                    reference: r.to_string(),
                    from: here.show(),
                });
            }
            return Ok((Location::Url(url), pointer));
        }
        let escapes = || Error::EscapesRoot {
            reference: r.to_string(),
            from: here.show(),
            root: self.root_dir.show(),
        };
        let loc = match &here.loc {
            Location::File(current) => {
                let dir = current.parent().map(PathBuf::from).unwrap_or_default();
                let mut candidate = normalize_path(&dir.join(file));
                if !candidate.exists() && file.contains('%') {
                    let decoded = percent_encoding::percent_decode_str(file).decode_utf8_lossy();
                    candidate = normalize_path(&dir.join(decoded.as_ref()));
                }
                let RootDir::File(root) = &self.root_dir else {
                    return Err(bad("a local file referenced from a remote document"));
                };
                if !candidate.starts_with(root) {
                    return Err(escapes());
                }
                let canonical = candidate.canonicalize().map_err(|_| Error::MissingFile {
                    location: candidate.display().to_string(),
                    from: here.show(),
                })?;
                // A symlink inside the tree may still lead out of it.
                if !canonical.starts_with(root) {
                    return Err(escapes());
                }
                Location::File(canonical)
            }
            Location::Url(current) => {
                let url = current.join(file).map_err(|e| bad(&e.to_string()))?;
                match &self.root_dir {
                    RootDir::Url(dir) if url.as_str().starts_with(dir.as_str()) => {}
                    RootDir::Url(dir) if url.origin() == dir.origin() => return Err(escapes()),
                    _ if self.allow_remote => {}
                    _ => {
                        return Err(Error::RemoteRefRefused {
                            reference: r.to_string(),
                            from: here.show(),
                        })
                    }
                }
                Location::Url(url)
            }
            Location::Git { repo, rev, path } => {
                let dir = path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
                let joined = normalize_slash_path(&format!("{dir}/{file}")).ok_or_else(escapes)?;
                let RootDir::Git(root) = &self.root_dir else {
                    return Err(bad("a git file referenced from elsewhere"));
                };
                if !(root.is_empty() || joined.starts_with(&format!("{root}/"))) {
                    return Err(escapes());
                }
                Location::Git {
                    repo: repo.clone(),
                    rev: rev.clone(),
                    path: joined,
                }
            }
        };
        Ok((loc, pointer))
    }

    fn merge_components(&mut self, document: &mut Value) {
        if self.sections.is_empty() {
            return;
        }
        let Some(doc) = document.as_object_mut() else {
            return;
        };
        let components = doc
            .entry("components")
            .or_insert_with(|| Value::Object(Map::new()));
        let Some(components) = components.as_object_mut() else {
            return;
        };
        for (section, entries) in std::mem::take(&mut self.sections) {
            let slot = components
                .entry(section)
                .or_insert_with(|| Value::Object(Map::new()));
            if let Some(slot) = slot.as_object_mut() {
                for (name, value) in entries {
                    slot.insert(name, value);
                }
            }
        }
    }
}

const SECTIONS: [&str; 9] = [
    "schemas",
    "responses",
    "parameters",
    "headers",
    "requestBodies",
    "examples",
    "links",
    "callbacks",
    "securitySchemes",
];

/// Names that cannot be Rust type names.
const RESERVED: [&str; 2] = ["Self", ""];

fn is_structured(loc: &Location) -> bool {
    let name = loc.file_name().to_ascii_lowercase();
    [".yaml", ".yml", ".json"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

fn target_here(target: &Target) -> Here {
    Here {
        loc: target.0.clone(),
        ptr: target.1.clone(),
    }
}

/// Every reference written must land somewhere, and a chain of references must end in
/// content rather than loop.
fn check_refs(document: &Value, emitted: &[(String, String)]) -> Result<()> {
    for (pointer, from) in emitted {
        let mut seen = vec![pointer.clone()];
        let mut current = pointer.clone();
        loop {
            let Some(target) = document.pointer(&current) else {
                return Err(Error::PointerNotFound {
                    reference: format!("#{current}"),
                    from: from.clone(),
                    location: "the bundled document".into(),
                    pointer: current,
                });
            };
            match target.get("$ref").and_then(Value::as_str) {
                Some(next) if next.starts_with("#/") => {
                    let next = next[1..].to_string();
                    if seen.contains(&next) {
                        seen.push(next);
                        return Err(Error::Cycle {
                            chain: seen.into_iter().map(|p| format!("#{p}")).collect(),
                        });
                    }
                    seen.push(next.clone());
                    current = next;
                }
                _ => break,
            }
        }
    }
    Ok(())
}

pub(crate) fn escape_pointer(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

pub(crate) fn unescape_pointer(seg: &str) -> String {
    seg.replace("~1", "/").replace("~0", "~")
}
