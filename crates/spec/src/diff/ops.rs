//! Pairing the operations of two versions.
//!
//! Operations are matched, in order of confidence: by method and exact path; by method and
//! path template with parameter names ignored (a renamed path parameter), but only where that
//! template names one operation on each side, falling back to the operationId among twins such
//! as `/file/{batchId}/cancel` and `/file/{data_id}/cancel`; and last by operationId alone,
//! which is a move to another path or method.

use std::collections::HashMap;

use serde_json::Value;

use super::model::OpRef;

/// HTTP methods in the order OpenAPI lists them.
pub const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// One operation of a document.
#[derive(Debug, Clone)]
pub struct Op<'a> {
    pub op: OpRef,
    /// The path with every `{name}` replaced by `{}`.
    pub template: String,
    pub item: &'a Value,
    pub value: &'a Value,
}

/// Every operation of `doc`, in document order.
pub fn collect(doc: &Value) -> Vec<Op<'_>> {
    let mut out = Vec::new();
    let Some(paths) = doc.get("paths").and_then(Value::as_object) else {
        return out;
    };
    for (path, item) in paths {
        if path.starts_with("x-") {
            continue;
        }
        for method in METHODS {
            if let Some(value) = item.get(method).filter(|v| v.is_object()) {
                out.push(Op {
                    op: OpRef {
                        method: method.to_string(),
                        path: path.clone(),
                        operation_id: value
                            .get("operationId")
                            .and_then(Value::as_str)
                            .map(str::to_string),
                    },
                    template: template(path),
                    item,
                    value,
                });
            }
        }
    }
    out
}

/// `/file/{data_id}/cancel` -> `/file/{}/cancel`.
pub fn template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => {
                in_param = true;
                out.push_str("{}");
            }
            '}' => in_param = false,
            c if !in_param => out.push(c),
            _ => {}
        }
    }
    out
}

/// The names of the path parameters in order of appearance.
pub fn path_params(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('{') {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        out.push(rest[start + 1..start + len].to_string());
        rest = &rest[start + len + 1..];
    }
    out
}

/// The result of pairing: indexes into the old and new operation lists.
#[derive(Debug, Default)]
pub struct Pairing {
    /// (old, new, moved)
    pub matched: Vec<(usize, usize, bool)>,
    pub removed: Vec<usize>,
    pub added: Vec<usize>,
}

/// Unmatched operations sharing a method and template: (old indexes, new indexes).
type Twins = (Vec<usize>, Vec<usize>);

pub fn pair(old: &[Op<'_>], new: &[Op<'_>]) -> Pairing {
    let mut old_used = vec![false; old.len()];
    let mut new_used = vec![false; new.len()];
    let mut matched = Vec::new();

    // 1. Same method, same path.
    let exact: HashMap<(&str, &str), usize> = new
        .iter()
        .enumerate()
        .map(|(i, o)| ((o.op.method.as_str(), o.op.path.as_str()), i))
        .collect();
    for (i, o) in old.iter().enumerate() {
        if let Some(&j) = exact.get(&(o.op.method.as_str(), o.op.path.as_str())) {
            old_used[i] = true;
            new_used[j] = true;
            matched.push((i, j, false));
        }
    }

    // 2. Same method and template: a path parameter was renamed.
    let mut groups: HashMap<(&str, &str), Twins> = HashMap::new();
    for (i, o) in old.iter().enumerate().filter(|(i, _)| !old_used[*i]) {
        groups
            .entry((o.op.method.as_str(), o.template.as_str()))
            .or_default()
            .0
            .push(i);
    }
    for (j, o) in new.iter().enumerate().filter(|(j, _)| !new_used[*j]) {
        if let Some(g) = groups.get_mut(&(o.op.method.as_str(), o.template.as_str())) {
            g.1.push(j);
        }
    }
    let mut keys: Vec<_> = groups.keys().copied().collect();
    keys.sort();
    for key in keys {
        let (olds, news) = &groups[&key];
        if olds.len() == 1 && news.len() == 1 {
            let (i, j) = (olds[0], news[0]);
            // Twins on one side with a shared id elsewhere are a move, not a rename.
            let id_elsewhere = old[i].op.operation_id.as_ref().is_some_and(|id| {
                Some(id) != new[j].op.operation_id.as_ref()
                    && new.iter().enumerate().any(|(k, n)| {
                        !new_used[k] && k != j && n.op.operation_id.as_ref() == Some(id)
                    })
            });
            if !id_elsewhere {
                old_used[i] = true;
                new_used[j] = true;
                matched.push((i, j, false));
            }
            continue;
        }
        for &i in olds {
            let Some(id) = &old[i].op.operation_id else {
                continue;
            };
            if let Some(&j) = news
                .iter()
                .find(|&&j| !new_used[j] && new[j].op.operation_id.as_ref() == Some(id))
            {
                old_used[i] = true;
                new_used[j] = true;
                matched.push((i, j, false));
            }
        }
    }

    // 3. Same operationId elsewhere: moved.
    let by_id: HashMap<&str, usize> = new
        .iter()
        .enumerate()
        .filter(|(j, _)| !new_used[*j])
        .filter_map(|(j, o)| o.op.operation_id.as_deref().map(|id| (id, j)))
        .collect();
    for (i, o) in old.iter().enumerate() {
        if old_used[i] {
            continue;
        }
        if let Some(&j) = o.op.operation_id.as_deref().and_then(|id| by_id.get(id)) {
            if !new_used[j] {
                old_used[i] = true;
                new_used[j] = true;
                matched.push((i, j, true));
            }
        }
    }

    matched.sort();
    Pairing {
        matched,
        removed: (0..old.len()).filter(|i| !old_used[*i]).collect(),
        added: (0..new.len()).filter(|j| !new_used[*j]).collect(),
    }
}
