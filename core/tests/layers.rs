//! The core's modules form layers, bottom up:
//!
//! ```text
//! base → field, json, http, code → jwe, sign, pin → error → message → api → request, response →
//! call → flow
//! ```
//!
//! A module may use modules of lower layers, and siblings of its own layer as long as that
//! makes no cycle. This test reads every file of `core/src`, collects the `crate::` paths its
//! code uses (comments and doc links are not imports), and fails on an import from a higher
//! layer, on an unknown top-level module, and on any cycle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code: a failed unwrap is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const LAYERS: &[&[&str]] = &[
    &["base"],
    &["field", "json", "http", "code"],
    &["jwe", "sign", "pin"],
    &["error"],
    &["message"],
    &["api"],
    &["request", "response"],
    &["call"],
    &["flow"],
];

fn rank(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The code of a Rust file without comments (line and block) and string literals, so that
/// doc links and messages are not mistaken for imports.
fn code_only(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < b.len() {
        match (b[i], b.get(i + 1).copied()) {
            (b'/', Some(b'/')) => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            (b'/', Some(b'*')) => {
                let mut depth = 0;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            (b'"', _) => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            // a byte or char literal: skip it so that b'"' does not open a string
            (b'\'', _)
                if b.get(i + 2) == Some(&b'\'')
                    || (b.get(i + 1) == Some(&b'\\') && b.get(i + 3) == Some(&b'\'')) =>
            {
                i += if b[i + 1] == b'\\' { 4 } else { 3 };
                out.push_str("' '");
            }
            (c, _) => {
                out.push(c as char);
                i += 1;
            }
        }
    }
    out
}

fn ident_at(s: &str) -> String {
    s.chars()
        .skip_while(|c| c.is_whitespace())
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect()
}

/// The top-level modules named by `crate::…` / `$crate::…` paths, including the groups of
/// `use crate::{a::X, b::{Y, Z}}`.
fn crate_imports(code: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut rest = code;
    while let Some(p) = rest.find("crate") {
        let before = rest[..p].chars().last();
        let after = &rest[p + "crate".len()..];
        rest = after;
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue; // e.g. `konaplate_crate`
        }
        let Some(path) = after.trim_start().strip_prefix("::") else {
            continue;
        };
        let path = path.trim_start();
        if let Some(group) = path.strip_prefix('{') {
            let mut depth = 1;
            let mut segment_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => {
                        depth -= 1;
                        if depth == 0 {
                            break;
                        }
                    }
                    ',' if depth == 1 => segment_start = true,
                    c if segment_start && depth == 1 && !c.is_whitespace() => {
                        segment_start = false;
                        found.insert(ident_at(&group[i..]));
                    }
                    _ => {}
                }
            }
        } else {
            found.insert(ident_at(path));
        }
    }
    found.retain(|m| !m.is_empty() && m != "self");
    found
}

/// The top-level module a file of `core/src` belongs to (`None` for `lib.rs`).
fn module_of(src: &Path, file: &Path) -> Option<String> {
    let rel = file.strip_prefix(src).unwrap();
    let first = rel.components().next()?.as_os_str().to_str()?.to_string();
    if first == "lib.rs" {
        return None;
    }
    Some(first.trim_end_matches(".rs").to_string())
}

fn graph() -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    // module -> used module -> files that use it
    let mut edges: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
    for file in files {
        let Some(module) = module_of(&src, &file) else {
            continue;
        };
        let code = code_only(&std::fs::read_to_string(&file).unwrap());
        let entry = edges.entry(module.clone()).or_default();
        for used in crate_imports(&code) {
            if used != module {
                let name = file.strip_prefix(&src).unwrap().display().to_string();
                entry.entry(used).or_default().push(name);
            }
        }
    }
    edges
}

#[test]
fn every_module_has_a_layer_and_imports_only_below_or_beside() {
    let edges = graph();
    assert!(
        edges.len() >= 13,
        "the walk found too few modules: {:?}",
        edges.keys()
    );
    let mut wrong = Vec::new();
    for (module, uses) in &edges {
        let Some(r) = rank(module) else {
            wrong.push(format!("`{module}` is in no layer: add it to LAYERS"));
            continue;
        };
        for (used, files) in uses {
            match rank(used) {
                None => wrong.push(format!(
                    "{files:?} use `crate::{used}`, which is in no layer"
                )),
                Some(u) if u > r => wrong.push(format!(
                    "{files:?} ({module}, layer {r}) use `crate::{used}` (layer {u})"
                )),
                Some(_) => {}
            }
        }
    }
    assert!(wrong.is_empty(), "layering broken:\n{}", wrong.join("\n"));
}

#[test]
fn the_module_graph_has_no_cycle() {
    let edges = graph();
    // depth-first search with colours; a grey node reached again closes a cycle
    fn visit<'a>(
        n: &'a str,
        edges: &'a BTreeMap<String, BTreeMap<String, Vec<String>>>,
        colour: &mut BTreeMap<&'a str, u8>,
        stack: &mut Vec<&'a str>,
    ) -> Option<Vec<String>> {
        match colour.get(n) {
            Some(1) => {
                let at = stack.iter().position(|m| *m == n).unwrap_or(0);
                let mut cycle: Vec<String> = stack[at..].iter().map(|s| s.to_string()).collect();
                cycle.push(n.to_string());
                return Some(cycle);
            }
            Some(2) => return None,
            _ => {}
        }
        colour.insert(n, 1);
        stack.push(n);
        if let Some(uses) = edges.get(n) {
            for used in uses.keys() {
                if let Some(c) = visit(used, edges, colour, stack) {
                    return Some(c);
                }
            }
        }
        stack.pop();
        colour.insert(n, 2);
        None
    }
    let mut colour = BTreeMap::new();
    for n in edges.keys() {
        let mut stack = Vec::new();
        if let Some(cycle) = visit(n, &edges, &mut colour, &mut stack) {
            panic!("import cycle: {}", cycle.join(" → "));
        }
    }
}

#[test]
fn the_import_scanner_sees_what_it_must() {
    let code = code_only(
        r#"
        use crate::{api::{Endpoint, ReplyOf}, error::DecodeError,
                    json::Writer};
        // use crate::flow::Nothing;
        /// [`crate::response::decode_response`]
        let s = "crate::request::x";
        let c = b'"';
        let v = $crate::field::FieldError::new();
        fn f() -> crate::http::HttpError { todo() }
        "#,
    );
    let found = crate_imports(&code);
    let want: BTreeSet<String> = ["api", "error", "json", "field", "http"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(found, want);
}
