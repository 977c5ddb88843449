//! What a diff reports.

use serde::Serialize;

/// How much a change can hurt an existing client, as oasdiff grades it: narrowing what a
/// request accepts and widening what a response may carry break clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Level {
    #[serde(rename = "INFO")]
    Info,
    #[serde(rename = "WARN")]
    Warn,
    #[serde(rename = "ERR")]
    Err,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "INFO",
            Level::Warn => "WARN",
            Level::Err => "ERR",
        }
    }

    /// Reads `ERR`, `WARN` or `INFO` (any case).
    pub fn parse(s: &str) -> Option<Level> {
        match s.to_ascii_uppercase().as_str() {
            "ERR" | "ERROR" => Some(Level::Err),
            "WARN" | "WARNING" => Some(Level::Warn),
            "INFO" => Some(Level::Info),
            _ => None,
        }
    }
}

/// Which way data flows through the changed place; it decides the level.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// The client sends it (parameters, request bodies).
    Request,
    /// The client receives it (responses, callback payloads).
    Response,
}

impl Direction {
    /// The level of a change that narrows (`narrowing == true`) or widens what is allowed.
    pub fn level(self, narrowing: bool) -> Level {
        match (self, narrowing) {
            (Direction::Request, true) => Level::Err,
            (Direction::Response, false) => Level::Warn,
            _ => Level::Info,
        }
    }
}

/// One operation, as it appears in one version.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OpRef {
    pub method: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation_id: Option<String>,
}

impl std::fmt::Display for OpRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.method.to_ascii_uppercase(), self.path)
    }
}

/// What a change does to the generated Rust API.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RustEffect {
    /// Nothing generated changes.
    None,
    /// Only doc comments change.
    Docs,
    /// New items only; existing code keeps compiling and behaving.
    Additive,
    /// Existing code may stop compiling or start failing at run time.
    Breaking,
}

/// The generated items a change touches.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RustImpact {
    pub effect: RustEffect,
    /// e.g. `method file_analysis_get`, `type AnalysisResult (field scan_results)`.
    pub items: Vec<String>,
}

impl RustImpact {
    pub fn none() -> Self {
        RustImpact {
            effect: RustEffect::None,
            items: Vec::new(),
        }
    }
    pub fn new(effect: RustEffect, items: impl IntoIterator<Item = String>) -> Self {
        RustImpact {
            effect,
            items: items.into_iter().collect(),
        }
    }
}

/// One reported change. Changes identical but for the operation are merged into one entry
/// listing every operation, so a shared schema's change is reported once.
#[derive(Debug, Clone, Serialize)]
pub struct Change {
    /// Stable identifier of the rule, e.g. `request-parameter-became-required`.
    pub id: &'static str,
    pub level: Level,
    /// Descriptions, summaries and examples only.
    pub docs: bool,
    /// The operations affected (new side; the old side for removals).
    pub operations: Vec<OpRef>,
    /// The component schema the change sits in, when it is in one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub component: Option<String>,
    /// Where, within the operation or component.
    pub location: String,
    pub message: String,
    pub rust: RustImpact,
}

/// A matched, added, removed or moved operation.
#[derive(Debug, Clone, Serialize)]
pub struct OperationChange {
    pub kind: OperationChangeKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub old: Option<OpRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub new: Option<OpRef>,
    /// The generated method (`snake_case` of the operationId).
    pub rust_method: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OperationChangeKind {
    Added,
    Removed,
    /// Same operationId, other method or path template.
    Moved,
}

/// The semver consequence for the generated crate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bump {
    None,
    Patch,
    Minor,
}

/// The whole diff.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub old_version: String,
    pub new_version: String,
    pub operations: Vec<OperationChange>,
    pub changes: Vec<Change>,
    pub rust: RustSummary,
}

/// Rust API impact, summed up.
#[derive(Debug, Clone, Serialize)]
pub struct RustSummary {
    pub methods_added: Vec<String>,
    pub methods_removed: Vec<String>,
    pub methods_changed: Vec<String>,
    pub types_added: Vec<String>,
    pub types_removed: Vec<String>,
    pub types_changed: Vec<String>,
    pub bump: Bump,
    /// The rule applied, spelled out.
    pub rule: &'static str,
}

/// The rule `RustSummary::bump` applies.
pub const SEMVER_RULE: &str = "0.x crate: a breaking change to the generated API needs a minor bump (0.x.y -> 0.(x+1).0); additions and documentation need a patch bump (0.x.y -> 0.x.(y+1))";

impl Report {
    /// True when nothing at all changed, documentation included.
    pub fn is_empty(&self) -> bool {
        self.operations.is_empty() && self.changes.is_empty()
    }

    /// The highest level among changes that are not documentation-only.
    pub fn max_level(&self) -> Option<Level> {
        let ops = self.operations.iter().map(|o| match o.kind {
            OperationChangeKind::Added => Level::Info,
            _ => Level::Err,
        });
        self.changes
            .iter()
            .filter(|c| !c.docs)
            .map(|c| c.level)
            .chain(ops)
            .max()
    }

    /// Counts of (ERR, WARN, INFO, documentation-only) changes.
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let mut counts = (0, 0, 0, 0);
        for c in &self.changes {
            match (c.docs, c.level) {
                (true, _) => counts.3 += 1,
                (_, Level::Err) => counts.0 += 1,
                (_, Level::Warn) => counts.1 += 1,
                (_, Level::Info) => counts.2 += 1,
            }
        }
        counts
    }
}
