//! What the rewrite rules changed, for the committed review report.

use std::fmt::Write as _;

/// One change made by one rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Name of the rule that made the change.
    pub rule: String,
    /// Where: an operation (`GET /file/{data_id}`), a schema, or a JSON pointer.
    pub location: String,
    /// What changed there.
    pub detail: String,
}

/// All changes of one run, in the order the rules made them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub changes: Vec<Change>,
}

impl Report {
    pub fn push(&mut self, rule: &str, location: impl Into<String>, detail: impl Into<String>) {
        self.changes.push(Change {
            rule: rule.to_string(),
            location: location.into(),
            detail: detail.into(),
        });
    }

    /// Number of changes a rule made.
    pub fn count(&self, rule: &str) -> usize {
        self.changes.iter().filter(|c| c.rule == rule).count()
    }

    /// The report as Markdown: a summary table, then every change grouped by rule.
    pub fn to_markdown(&self, rules: &[(String, String)]) -> String {
        let mut out = String::new();
        out.push_str("| rule | changes | why |\n|---|---|---|\n");
        for (name, why) in rules {
            let _ = writeln!(out, "| `{name}` | {} | {why} |", self.count(name));
        }
        for (name, _) in rules {
            let changes: Vec<_> = self.changes.iter().filter(|c| c.rule == *name).collect();
            if changes.is_empty() {
                continue;
            }
            let _ = writeln!(out, "\n## `{name}`\n");
            for c in changes {
                let _ = writeln!(out, "- `{}`: {}", c.location, c.detail);
            }
        }
        out
    }
}
