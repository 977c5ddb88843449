//! Names progenitor 0.15 (builder interface) and typify give to generated items, and the
//! semver rule for the crate.

use heck::{ToSnakeCase, ToUpperCamelCase};

use super::model::{Bump, RustEffect};

/// The client method generated for an operation: its operationId in `snake_case`.
pub fn method_name(operation_id: Option<&str>) -> String {
    match operation_id {
        Some(id) => id.to_snake_case(),
        None => "<no operationId: progenitor refuses the operation>".into(),
    }
}

/// The builder setter generated for a parameter.
pub fn setter_name(parameter: &str) -> String {
    parameter.to_snake_case()
}

/// The type generated for a component schema.
pub fn type_name(component: &str) -> String {
    component.to_upper_camel_case()
}

/// The type generated for an operation's inline response body.
pub fn response_type(operation_id: Option<&str>) -> String {
    format!(
        "{}Response",
        operation_id.unwrap_or("").to_upper_camel_case()
    )
}

/// The type generated for an operation's inline request body.
pub fn body_type(operation_id: Option<&str>) -> String {
    format!("{}Body", operation_id.unwrap_or("").to_upper_camel_case())
}

/// The bump the crate needs for the strongest effect seen.
pub fn bump(strongest: RustEffect) -> Bump {
    match strongest {
        RustEffect::Breaking => Bump::Minor,
        RustEffect::Additive | RustEffect::Docs => Bump::Patch,
        RustEffect::None => Bump::None,
    }
}

/// `current` bumped by `bump` (`0.1.3` + minor = `0.2.0`), when `current` is `x.y.z`.
pub fn next_version(current: &str, bump: Bump) -> Option<String> {
    let mut parts = current.split('.').map(|p| p.parse::<u64>().ok());
    let (major, minor, patch) = (parts.next()??, parts.next()??, parts.next()??);
    Some(match (major, bump) {
        (_, Bump::None) => current.to_string(),
        // Before 1.0, cargo treats the minor number as the breaking one.
        (0, Bump::Minor) => format!("0.{}.0", minor + 1),
        (0, Bump::Patch) => format!("0.{minor}.{}", patch + 1),
        (m, Bump::Minor) => format!("{}.0.0", m + 1),
        (m, Bump::Patch) => format!("{m}.{}.0", minor + 1),
    })
}
