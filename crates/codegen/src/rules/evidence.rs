//! The project's own rules, kept as data in `openapi/rules.toml`: each changes one place of the
//! document where real servers disagree with it, and names the server responses that show it.

use std::path::Path;

use serde::Deserialize;
use serde_json::{json, Value};

use super::Rule;
use crate::report::Report;
use crate::Error;

/// Path of the rules file relative to the workspace root.
pub const RULES_PATH: &str = "openapi/rules.toml";

/// All rules of `openapi/rules.toml`, applied in file order.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct EvidenceRules {
    #[serde(default, rename = "rule")]
    pub rules: Vec<EvidenceRule>,
}

/// One rule of `openapi/rules.toml`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceRule {
    /// Kebab-case name, reported as `evidence:<name>`.
    pub name: String,
    /// JSON pointer into the document as the rules before this one left it.
    pub at: String,
    /// What the servers do, with the payload files or documents that show it.
    pub evidence: Vec<String>,
    #[serde(flatten)]
    pub action: Action,
}

/// What a rule does at its pointer.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// The value may also have this other shape: `oneOf: [original, either]`.
    Either(toml::Value),
    /// The value may also have the shape found at this pointer of the original document.
    EitherLike(String),
    /// An object whose keys are names (engines, ...) and whose values all have the shape of the
    /// object the document lists under one fixed key: `additionalProperties: <that shape>`.
    MapOf(String),
    /// These listed `required` properties may be absent.
    Optional(Vec<String>),
    /// Sets the node (adding it when absent) to this value.
    Set(toml::Value),
}

impl EvidenceRules {
    /// Reads `openapi/rules.toml` below `root`.
    pub fn load(root: &Path) -> Result<Self, Error> {
        let path = root.join(RULES_PATH);
        let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
            path: path.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|message| Error::Lock { path, message })
    }

    /// Parses the text of a rules file.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rules: Self = toml::from_str(text).map_err(|e| e.to_string())?;
        for r in &rules.rules {
            if r.evidence.is_empty() {
                return Err(format!("rule `{}` names no evidence", r.name));
            }
        }
        Ok(rules)
    }
}

fn to_json(value: &toml::Value) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

impl Rule for EvidenceRules {
    fn name(&self) -> &'static str {
        "evidence"
    }
    fn why(&self) -> &'static str {
        "the project's own rules in openapi/rules.toml: places where real servers disagree with the document, each with its evidence"
    }
    fn apply(&self, doc: &mut Value, report: &mut Report) -> Result<(), Error> {
        let original = doc.clone();
        for rule in &self.rules {
            let fail = |message: String| Error::Rule {
                rule: "evidence",
                location: format!("{} ({})", rule.at, rule.name),
                message,
            };
            let (parent_ptr, key) = rule
                .at
                .rsplit_once('/')
                .ok_or_else(|| fail("`at` must be a JSON pointer".into()))?;
            let key = key.replace("~1", "/").replace("~0", "~");
            let current = doc.pointer(&rule.at).cloned();
            let new = match &rule.action {
                Action::Set(v) => to_json(v),
                Action::Either(alt) => {
                    let cur = current.ok_or_else(|| fail("nothing at this pointer".into()))?;
                    json!({ "oneOf": [cur, to_json(alt)] })
                }
                Action::EitherLike(from) => {
                    let cur = current.ok_or_else(|| fail("nothing at this pointer".into()))?;
                    let alt = original.pointer(from).cloned().ok_or_else(|| {
                        fail(format!("nothing at `{from}` to take the other shape from"))
                    })?;
                    json!({ "oneOf": [cur, alt] })
                }
                Action::MapOf(value_ref) => {
                    let cur = current.ok_or_else(|| fail("nothing at this pointer".into()))?;
                    if cur
                        .get("properties")
                        .and_then(Value::as_object)
                        .is_none_or(|p| p.is_empty())
                    {
                        return Err(fail(
                            "`map_of` needs an object with the fixed key(s) it replaces".into(),
                        ));
                    }
                    json!({ "type": "object", "additionalProperties": { "$ref": value_ref } })
                }
                Action::Optional(names) => {
                    let mut cur = current.ok_or_else(|| fail("nothing at this pointer".into()))?;
                    let required = cur
                        .get_mut("required")
                        .and_then(Value::as_array_mut)
                        .ok_or_else(|| fail("no `required` list here".into()))?;
                    for n in names {
                        let before = required.len();
                        required.retain(|r| r.as_str() != Some(n));
                        if required.len() == before {
                            return Err(fail(format!("`{n}` is not required here")));
                        }
                    }
                    if required.is_empty() {
                        cur.as_object_mut().map(|o| o.remove("required"));
                    }
                    cur
                }
            };
            let parent = doc
                .pointer_mut(parent_ptr)
                .and_then(Value::as_object_mut)
                .ok_or_else(|| {
                    fail("the parent of this pointer is not an object in the document".into())
                })?;
            let what = match &rule.action {
                Action::Set(_) if parent.contains_key(&key) => "replaced".to_string(),
                Action::Set(_) => "added".to_string(),
                Action::Either(_) | Action::EitherLike(_) => {
                    "may also take another shape".to_string()
                }
                Action::MapOf(r) => format!("map of {}", r.rsplit('/').next().unwrap_or(r)),
                Action::Optional(n) => format!("{} no longer required", n.join(", ")),
            };
            parent.insert(key, new);
            report.push(
                &format!("evidence:{}", rule.name),
                rule.at.clone(),
                format!("{what} (evidence: {})", rule.evidence.join("; ")),
            );
        }
        Ok(())
    }
}
