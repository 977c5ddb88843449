//! A diff report as text (terminal), markdown (a pull-request comment) or JSON (tools).

use std::fmt::Write;

use crate::diff::{Change, Level, OpRef, OperationChangeKind, Report, RustEffect};

/// Output form of `spec diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Json,
}

impl Format {
    pub fn parse(s: &str) -> Option<Format> {
        match s {
            "text" => Some(Format::Text),
            "markdown" | "md" => Some(Format::Markdown),
            "json" => Some(Format::Json),
            _ => None,
        }
    }
}

/// What to show.
#[derive(Debug, Clone, Copy)]
pub struct RenderOptions {
    /// Leave documentation-only changes out.
    pub hide_docs: bool,
}

/// Renders `report`; `crate_version` (the client's current version) lets the summary name
/// the next version.
pub fn render(
    report: &Report,
    format: Format,
    options: &RenderOptions,
    crate_version: Option<&str>,
) -> String {
    match format {
        Format::Json => {
            let mut value = serde_json::to_value(report).expect("a report serializes");
            if options.hide_docs {
                if let Some(changes) = value.get_mut("changes").and_then(|c| c.as_array_mut()) {
                    changes.retain(|c| c["docs"] != true);
                }
            }
            let mut s = serde_json::to_string_pretty(&value).expect("a report serializes");
            s.push('\n');
            s
        }
        Format::Markdown => markdown(report, options, crate_version),
        Format::Text => text(report, options, crate_version),
    }
}

fn ops_list(c: &Change, limit: usize) -> String {
    let mut shown: Vec<String> = c
        .operations
        .iter()
        .take(limit)
        .map(|o| format!("`{o}`"))
        .collect();
    if c.operations.len() > limit {
        shown.push(format!("and {} more", c.operations.len() - limit));
    }
    shown.join(", ")
}

fn show_op(op: &Option<OpRef>) -> String {
    op.as_ref().map(ToString::to_string).unwrap_or_default()
}

fn subject(c: &Change) -> String {
    match &c.component {
        Some(comp) if c.location == "(schema root)" => format!("schema `{comp}`"),
        Some(comp) => format!("schema `{comp}` at `{}`", c.location),
        None => c.location.clone(),
    }
}

fn bump_line(report: &Report, crate_version: Option<&str>) -> String {
    let r = &report.rust;
    let bump = match r.bump {
        crate::diff::Bump::None => "none",
        crate::diff::Bump::Patch => "patch",
        crate::diff::Bump::Minor => "minor",
    };
    let next = crate_version
        .and_then(|v| crate::diff::rust::next_version(v, r.bump).map(|n| format!(" ({v} -> {n})")))
        .unwrap_or_default();
    format!("{bump}{next}")
}

fn markdown(report: &Report, options: &RenderOptions, crate_version: Option<&str>) -> String {
    let mut out = String::new();
    let (err, warn, info, docs) = report.counts();
    let _ = writeln!(
        out,
        "## OpenAPI changes {} → {}\n",
        report.old_version, report.new_version
    );
    if report.is_empty() {
        out.push_str("No changes.\n");
        return out;
    }
    let count = |k| report.operations.iter().filter(|o| o.kind == k).count();
    let _ = writeln!(
        out,
        "**{} operations added, {} removed, {} moved; {err} ERR, {warn} WARN, {info} INFO; {docs} documentation-only.**\n",
        count(OperationChangeKind::Added),
        count(OperationChangeKind::Removed),
        count(OperationChangeKind::Moved),
    );
    let _ = writeln!(
        out,
        "**Rust API: {} bump.** {}\n",
        bump_line(report, crate_version),
        report.rust.rule
    );

    if !report.operations.is_empty() {
        out.push_str(
            "### Operations\n\n| change | operation | generated method |\n|---|---|---|\n",
        );
        for o in &report.operations {
            let what = match o.kind {
                OperationChangeKind::Added => format!("`{}`", show_op(&o.new)),
                OperationChangeKind::Removed => format!("`{}`", show_op(&o.old)),
                OperationChangeKind::Moved => {
                    format!("`{}` → `{}`", show_op(&o.old), show_op(&o.new))
                }
            };
            let kind = match o.kind {
                OperationChangeKind::Added => "added (INFO)",
                OperationChangeKind::Removed => "**removed (ERR)**",
                OperationChangeKind::Moved => "**moved (ERR)**",
            };
            let _ = writeln!(out, "| {kind} | {what} | `{}` |", o.rust_method);
        }
        out.push('\n');
    }

    for (level, title) in [
        (Level::Err, "Breaking (ERR)"),
        (Level::Warn, "Warnings (WARN)"),
        (Level::Info, "Compatible (INFO)"),
    ] {
        // New and removed schemas are listed once, under the Rust API impact.
        let items: Vec<&Change> = report
            .changes
            .iter()
            .filter(|c| !c.docs && c.level == level && !c.id.starts_with("component-schema-"))
            .collect();
        if items.is_empty() {
            continue;
        }
        let _ = writeln!(out, "### {title}\n");
        for c in items {
            let _ = write!(out, "- **{}**: {}", subject(c), c.message);
            if !c.operations.is_empty() {
                let _ = write!(out, " — {}", ops_list(c, 6));
            }
            if c.rust.effect >= RustEffect::Additive {
                let _ = write!(
                    out,
                    " — Rust: {} ({})",
                    rust_effect(c.rust.effect),
                    c.rust
                        .items
                        .iter()
                        .take(3)
                        .map(|i| format!("`{i}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            let _ = writeln!(out, " `{}`", c.id);
        }
        out.push('\n');
    }

    let r = &report.rust;
    out.push_str("### Rust API impact\n\n");
    for (label, list) in [
        ("Methods removed", &r.methods_removed),
        ("Methods changed", &r.methods_changed),
        ("Methods added", &r.methods_added),
        ("Types removed", &r.types_removed),
        ("Types changed", &r.types_changed),
        ("Types added", &r.types_added),
    ] {
        if !list.is_empty() {
            let _ = writeln!(
                out,
                "- {label} ({}): {}",
                list.len(),
                list.iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
    }
    out.push('\n');

    if !options.hide_docs && docs > 0 {
        let _ = writeln!(
            out,
            "<details><summary>Documentation-only changes ({docs})</summary>\n"
        );
        for c in report.changes.iter().filter(|c| c.docs) {
            let _ = write!(out, "- {}: {}", subject(c), c.message);
            if !c.operations.is_empty() {
                let _ = write!(out, " — {}", ops_list(c, 3));
            }
            out.push('\n');
        }
        out.push_str("\n</details>\n");
    }
    out
}

fn rust_effect(e: RustEffect) -> &'static str {
    match e {
        RustEffect::None => "no change",
        RustEffect::Docs => "docs",
        RustEffect::Additive => "additive",
        RustEffect::Breaking => "breaking",
    }
}

fn text(report: &Report, options: &RenderOptions, crate_version: Option<&str>) -> String {
    let mut out = String::new();
    let (err, warn, info, docs) = report.counts();
    let _ = writeln!(
        out,
        "OpenAPI changes {} -> {}",
        report.old_version, report.new_version
    );
    if report.is_empty() {
        out.push_str("no changes\n");
        return out;
    }
    let _ = writeln!(
        out,
        "{err} ERR, {warn} WARN, {info} INFO, {docs} documentation-only"
    );
    let _ = writeln!(
        out,
        "Rust API: {} bump ({})",
        bump_line(report, crate_version),
        report.rust.rule
    );
    for o in &report.operations {
        let line = match o.kind {
            OperationChangeKind::Added => {
                format!(
                    "INFO operation added: {} [{}]",
                    show_op(&o.new),
                    o.rust_method
                )
            }
            OperationChangeKind::Removed => format!(
                "ERR  operation removed: {} [{}]",
                show_op(&o.old),
                o.rust_method
            ),
            OperationChangeKind::Moved => format!(
                "ERR  operation moved: {} -> {} [{}]",
                show_op(&o.old),
                show_op(&o.new),
                o.rust_method
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    for c in report
        .changes
        .iter()
        .filter(|c| !(options.hide_docs && c.docs))
    {
        let level = if c.docs {
            "DOC "
        } else {
            match c.level {
                Level::Err => "ERR ",
                Level::Warn => "WARN",
                Level::Info => "INFO",
            }
        };
        let _ = write!(
            out,
            "{level} {}: {} [{}]",
            subject(c).replace('`', ""),
            c.message.replace('`', ""),
            c.id
        );
        if !c.operations.is_empty() {
            let _ = write!(out, " in {}", ops_list(c, 4).replace('`', ""));
        }
        if c.rust.effect >= RustEffect::Additive {
            let _ = write!(
                out,
                " | rust {}: {}",
                rust_effect(c.rust.effect),
                c.rust
                    .items
                    .iter()
                    .take(2)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            );
        }
        out.push('\n');
    }
    out
}
