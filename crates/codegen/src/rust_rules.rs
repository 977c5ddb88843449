//! Rules that act on the generated Rust, where the document cannot say what we need.

use syn::visit_mut::VisitMut;
use syn::{parse_quote, Attribute, Expr, Fields, File, Item, Pat};

use crate::report::Report;

/// Name of the variant that keeps unlisted values; the next when an enum lists that name.
const FALLBACK_VARIANTS: [&str; 2] = ["Other", "Unlisted"];

/// Every typify string enum (unit variants, serde-derived) becomes open: an
/// `Other(String)` variant, tried last by serde, keeps values the document does not list;
/// `Display` writes it back and `FromStr` no longer fails.
pub fn open_string_enums(file: &mut File, report: &mut Report) {
    let mut names = Vec::new();
    visit_items(&mut file.items, &mut |item| {
        if let Item::Enum(e) = item {
            let derives_serde = e.attrs.iter().any(|a| attr_text(a).contains("Deserialize"));
            let tagged = e.attrs.iter().any(|a| a.path().is_ident("serde"));
            let unit = !e.variants.is_empty()
                && e.variants.iter().all(|v| matches!(v.fields, Fields::Unit));
            if derives_serde && !tagged && unit {
                for attr in e.attrs.iter_mut().filter(|a| a.path().is_ident("derive")) {
                    let text = attr_text(attr);
                    if text.contains("Copy") {
                        let kept: Vec<syn::Path> = attr
                            .parse_args_with(syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated)
                            .map(|p| p.into_iter().filter(|p| !p.is_ident("Copy")).collect())
                            .unwrap_or_default();
                        *attr = parse_quote!(#[derive(#(#kept),*)]);
                    }
                }
                let taken: Vec<String> = e.variants.iter().map(|v| v.ident.to_string()).collect();
                let fallback = FALLBACK_VARIANTS
                    .iter()
                    .find(|n| !taken.iter().any(|t| t == *n))
                    .map(|n| syn::Ident::new(n, proc_macro2::Span::call_site()))
                    .unwrap_or_else(|| {
                        syn::Ident::new("UnlistedValue", proc_macro2::Span::call_site())
                    });
                e.variants.push(parse_quote! {
                    /// A value this version of the API description does not list, kept as sent.
                    #[serde(untagged)]
                    #fallback(::std::string::String)
                });
                names.push((e.ident.to_string(), fallback));
            }
        }
    });
    let mut fixer = OpenEnumImpls { names: &names };
    fixer.visit_file_mut(file);
    for (name, fallback) in &names {
        report.push(
            "open-string-enums",
            name.as_str(),
            format!("`{fallback}(String)` variant added"),
        );
    }
}

struct OpenEnumImpls<'a> {
    names: &'a [(String, syn::Ident)],
}

impl VisitMut for OpenEnumImpls<'_> {
    fn visit_item_impl_mut(&mut self, imp: &mut syn::ItemImpl) {
        let self_ty = match &*imp.self_ty {
            syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
            _ => None,
        };
        let Some(fallback) = self_ty
            .and_then(|t| self.names.iter().find(|(n, _)| *n == t))
            .map(|(_, f)| f.clone())
        else {
            return;
        };
        let trait_name = imp
            .trait_
            .as_ref()
            .and_then(|(p, _)| p.segments.last())
            .map(|s| s.ident.to_string());
        let mut fix = MatchFix {
            trait_name: trait_name.unwrap_or_default(),
            fallback,
        };
        fix.visit_item_impl_mut(imp);
    }
}

struct MatchFix {
    trait_name: String,
    fallback: syn::Ident,
}

impl VisitMut for MatchFix {
    fn visit_expr_match_mut(&mut self, m: &mut syn::ExprMatch) {
        let fallback = &self.fallback;
        match self.trait_name.as_str() {
            "Display" => m
                .arms
                .push(parse_quote!(Self::#fallback(ref value) => f.write_str(value),)),
            "FromStr" => {
                for arm in &mut m.arms {
                    if matches!(arm.pat, Pat::Wild(_)) {
                        let body: Expr = parse_quote!(Ok(Self::#fallback(value.to_string())));
                        *arm.body = body;
                    }
                }
            }
            _ => {}
        }
    }
}

/// typify's builders demand a value for the flattened `extra` map of unknown fields; an empty
/// map is the right start.
pub fn unknown_fields_default_empty(file: &mut File, report: &mut Report) {
    struct Fix {
        fixed: Vec<String>,
        current: Option<String>,
    }
    impl VisitMut for Fix {
        fn visit_item_impl_mut(&mut self, imp: &mut syn::ItemImpl) {
            let is_default = imp
                .trait_
                .as_ref()
                .and_then(|(p, _)| p.segments.last())
                .is_some_and(|s| s.ident == "Default");
            if !is_default {
                return;
            }
            self.current = match &*imp.self_ty {
                syn::Type::Path(p) => p.path.segments.last().map(|s| s.ident.to_string()),
                _ => None,
            };
            syn::visit_mut::visit_item_impl_mut(self, imp);
            self.current = None;
        }
        fn visit_field_value_mut(&mut self, fv: &mut syn::FieldValue) {
            let is_extra = matches!(&fv.member, syn::Member::Named(i) if i == "extra");
            if is_extra && quote::quote!(#fv).to_string().contains("Err") {
                fv.expr = parse_quote!(Ok(Default::default()));
                if let Some(ty) = &self.current {
                    self.fixed.push(ty.clone());
                }
            }
        }
    }
    let mut fix = Fix {
        fixed: Vec::new(),
        current: None,
    };
    fix.visit_file_mut(file);
    if !fix.fixed.is_empty() {
        report.push(
            "unknown-fields-default-empty",
            "types::builder",
            format!(
                "{} builders start with an empty `extra` map",
                fix.fixed.len()
            ),
        );
    }
}

/// Removes every doc attribute: the review snapshot shows the API without upstream prose.
pub fn strip_docs(file: &mut File) {
    struct Strip;
    impl VisitMut for Strip {
        fn visit_attributes_mut(&mut self, attrs: &mut Vec<Attribute>) {
            attrs.retain(|a| !a.path().is_ident("doc"));
        }
    }
    Strip.visit_file_mut(file);
}

/// Removes the JSON-schema dumps typify appends to each type's docs: they repeat the document
/// and triple the size of the generated file.
pub fn strip_schema_dumps(file: &mut File) {
    struct Strip;
    impl VisitMut for Strip {
        fn visit_attributes_mut(&mut self, attrs: &mut Vec<Attribute>) {
            let mut inside = false;
            attrs.retain(|a| {
                if !a.path().is_ident("doc") {
                    return true;
                }
                let text = attr_text(a);
                if text.contains("<details><summary>JSON schema</summary>") {
                    inside = true;
                }
                let keep = !inside;
                if inside && text.contains("</details>") {
                    inside = false;
                }
                keep
            });
        }
    }
    Strip.visit_file_mut(file);
}

/// Keeps upstream prose from being compiled as doctests. rustdoc tests every fenced block
/// without a language and every block indented by four spaces; the 5.6.1 descriptions hold
/// nested markdown lists and notes indented that way, which rustdoc took for Rust code. Fences
/// without a language become `text`; outside fences, indentation is capped at three spaces,
/// which markdown never reads as code (nested lists render flatter, nothing is lost).
pub fn docs_without_doctests(file: &mut File) {
    struct Fix;
    impl VisitMut for Fix {
        fn visit_attributes_mut(&mut self, attrs: &mut Vec<Attribute>) {
            let mut in_fence = false;
            for attr in attrs.iter_mut().filter(|a| a.path().is_ident("doc")) {
                let syn::Meta::NameValue(nv) = &attr.meta else {
                    continue;
                };
                let Expr::Lit(syn::ExprLit {
                    lit: syn::Lit::Str(text),
                    ..
                }) = &nv.value
                else {
                    continue;
                };
                let fixed = prose_without_code(&text.value(), &mut in_fence);
                *attr = parse_quote!(#[doc = #fixed]);
            }
        }
    }
    // The visitor reaches the file's own attributes too.
    Fix.visit_file_mut(file);
}

/// One doc string made safe for rustdoc; `in_fence` carries an open fence to the next string.
/// Fence lines are capped too: a fence indented by four columns would itself be code.
fn prose_without_code(text: &str, in_fence: &mut bool) -> String {
    let lines: Vec<String> = text
        .split('\n')
        .map(|line| {
            let trimmed = line.trim_start();
            let indent = cap_indent(&line[..line.len() - trimmed.len()]);
            match trimmed.strip_prefix("```") {
                Some(info) => {
                    let opens = !*in_fence;
                    *in_fence = opens;
                    if opens && info.trim().is_empty() {
                        format!("{indent}```text")
                    } else {
                        format!("{indent}{trimmed}")
                    }
                }
                None if *in_fence => line.to_string(),
                None => format!("{indent}{trimmed}"),
            }
        })
        .collect();
    lines.join("\n")
}

/// At most three columns of indentation (a tab counts as four).
fn cap_indent(indent: &str) -> &'static str {
    let width: usize = indent.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum();
    ["", " ", "  ", "   "][width.min(3)]
}

fn attr_text(attr: &Attribute) -> String {
    quote::quote!(#attr).to_string()
}

fn visit_items(items: &mut [Item], f: &mut dyn FnMut(&mut Item)) {
    for item in items {
        if let Item::Mod(m) = item {
            if let Some((_, inner)) = &mut m.content {
                visit_items(inner, f);
            }
        }
        f(item);
    }
}

#[cfg(test)]
mod tests {
    use super::prose_without_code;

    #[test]
    fn indented_lines_never_reach_four_columns() {
        let mut fence = false;
        let text = "Steps:\n\n  1. Upload\n\n    > - nodes' hardware\n\tfn main() {}";
        let out = prose_without_code(text, &mut fence);
        assert_eq!(
            out,
            "Steps:\n\n  1. Upload\n\n   > - nodes' hardware\n   fn main() {}"
        );
        assert!(!fence);
    }

    #[test]
    fn bare_fences_become_text_and_their_content_is_kept() {
        let mut fence = false;
        let out = prose_without_code("```\n    {\"a\": 1}\n```\n```json\n{}\n```", &mut fence);
        assert_eq!(out, "```text\n    {\"a\": 1}\n```\n```json\n{}\n```");
        assert!(!fence);
    }

    #[test]
    fn an_open_fence_carries_over_to_the_next_doc_string() {
        let mut fence = false;
        assert_eq!(prose_without_code("```", &mut fence), "```text");
        assert!(fence);
        assert_eq!(prose_without_code("      x", &mut fence), "      x");
        assert_eq!(prose_without_code("```", &mut fence), "```");
        assert!(!fence);
    }
}
