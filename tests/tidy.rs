//! The house rules of `src/`, checked from the code itself (as
//! rust-analyzer's tidy tests do): which module may use which, no circles
//! between modules, and no source file over 700 lines. ARCHITECTURE.md says
//! why each rule is there.
//!
//! A module uses another when its code names a path into it: `crate::x::…`
//! (in `use` lines or in expressions, `use crate::{x, y::z}` groups
//! included) or `super::…`. Comments do not count, and neither does code
//! compiled only for tests (`tests.rs` files, `#[cfg(test)]` modules).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Top-level modules that must not use these others.
const FORBIDDEN: &[(&str, &[&str])] = &[
    // The model describes kernel state and nothing else.
    ("model", &["*"]),
    // Argument parsing knows neither the kernel nor how things are shown.
    (
        "cli",
        &["netlink", "output", "render", "watch", "dispatch", "app"],
    ),
    // Renderers take typed listings, never argv.
    ("output", &["cli", "dispatch", "app"]),
    ("render", &["cli", "dispatch", "app"]),
    ("watch", &["cli", "dispatch", "app"]),
    // The kernel backend knows nothing of what uses it.
    (
        "netlink",
        &[
            "output", "render", "restore", "watch", "cli", "dispatch", "app",
        ],
    ),
    // Dispatch is the top of the middle: only the program runs it.
    (
        "listing",
        &["dispatch", "app", "render", "watch", "restore"],
    ),
    ("restore", &["dispatch", "app"]),
    // `--check` reads the table and the host; it knows no argv.
    ("check", &["cli", "dispatch", "app"]),
    ("session", &["dispatch", "app"]),
];

/// The longest a non-test source file may be.
const MAX_LINES: usize = 700;

#[test]
fn module_boundaries_hold() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let files = read_tree(&src);
    let report = check(&files);
    assert!(
        report.is_empty(),
        "house rules broken:\n{}",
        report.join("\n")
    );
}

/// The checker finds what it is there to find: a forbidden use, a circle
/// between two top-level modules, a circle between two files of a folder,
/// an over-long file; and it lets a child use its parent, a test use
/// anything, and a comment name anything.
#[test]
fn the_checker_catches_each_kind_of_violation() {
    let tree = |files: &[(&str, &str)]| -> BTreeMap<PathBuf, String> {
        files
            .iter()
            .map(|(p, text)| (PathBuf::from(p), text.to_string()))
            .collect()
    };
    let clean = tree(&[
        ("lib.rs", "pub mod model;\npub mod cli;\npub mod render;\n"),
        (
            "model.rs",
            "// crate::cli is named in a comment only\npub struct S;\n",
        ),
        (
            "cli/mod.rs",
            "use crate::model::S;\nmod parse;\n#[cfg(test)]\nmod tests;\n",
        ),
        ("cli/parse.rs", "use super::S;\n"),
        ("cli/tests.rs", "use crate::render::x;\n"),
        ("render/mod.rs", "pub mod json;\nuse crate::model::S;\n"),
        (
            "render/json.rs",
            "use crate::model::S;\nfn f() {}\n#[cfg(test)]\nmod tests {\n    use crate::cli::x;\n}\n",
        ),
    ]);
    assert_eq!(check(&clean), Vec::<String>::new());

    let forbidden = tree(&[
        ("model.rs", "use crate::cli::Thing;\n"),
        ("cli/mod.rs", "pub struct Thing;\n"),
    ]);
    assert_eq!(
        check(&forbidden),
        ["model.rs: model must not use cli (crate::cli)"]
    );

    let grouped = tree(&[
        ("render/mod.rs", "use crate::{model::S, cli::Args};\n"),
        ("model.rs", ""),
        ("cli/mod.rs", ""),
    ]);
    assert_eq!(
        check(&grouped),
        ["render/mod.rs: render must not use cli (crate::cli)"]
    );

    let top_circle = tree(&[
        ("listing/mod.rs", "use crate::output::write;\n"),
        ("output/mod.rs", "pub mod text;\n"),
        ("output/text.rs", "fn f() { crate::listing::sort::go(); }\n"),
        ("listing/sort.rs", ""),
    ]);
    assert_eq!(check(&top_circle), ["circle: listing -> output -> listing"]);

    let folder_circle = tree(&[
        ("render/mod.rs", "mod a;\nmod b;\n"),
        ("render/a.rs", "use super::b::B;\npub struct A;\n"),
        ("render/b.rs", "use crate::render::a::A;\npub struct B;\n"),
    ]);
    assert_eq!(
        check(&folder_circle),
        ["circle: render::a -> render::b -> render::a"]
    );

    let long = tree(&[("model.rs", &"// x\n".repeat(MAX_LINES + 1))]);
    assert_eq!(
        check(&long),
        [format!(
            "model.rs: {} lines (at most {MAX_LINES})",
            MAX_LINES + 1
        )]
    );
}

/// Every `.rs` file below `root`, by path relative to it.
fn read_tree(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut files = BTreeMap::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("src/ is readable") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).expect("source is UTF-8");
                let relative = path.strip_prefix(root).expect("below src/");
                files.insert(relative.to_path_buf(), text);
            }
        }
    }
    files
}

/// What breaks the rules in `files` (paths relative to `src/`), one line
/// each; empty when all holds.
fn check(files: &BTreeMap<PathBuf, String>) -> Vec<String> {
    let test_only = test_only_modules(files);
    let mut report = Vec::new();
    // Uses between sibling modules, at every level: (from, to).
    let mut edges: BTreeSet<(Vec<String>, Vec<String>)> = BTreeSet::new();
    let modules: BTreeSet<Vec<String>> = files.keys().map(|p| module_of(p)).collect();
    for (path, text) in files {
        let module = module_of(path);
        if module.is_empty() || is_test_only(&module, &test_only) {
            continue;
        }
        let code = production_code(text);
        let lines = text.lines().count();
        if lines > MAX_LINES {
            report.push(format!(
                "{}: {lines} lines (at most {MAX_LINES})",
                path.display()
            ));
        }
        for target in used_paths(&code, &module, is_mod_rs(path)) {
            let Some(target) = longest_module(&target, &modules) else {
                continue;
            };
            if target == module || target.is_empty() {
                continue;
            }
            if let Some(rule) = forbidden(&module[0], &target[0]) {
                report.push(format!(
                    "{}: {} must not use {} (crate::{})",
                    path.display(),
                    module[0],
                    rule,
                    target.join("::")
                ));
            }
            // A child may use its parent or any ancestor: it is part of it.
            if target.len() < module.len() && module.starts_with(&target) {
                continue;
            }
            let common = module
                .iter()
                .zip(&target)
                .take_while(|(a, b)| a == b)
                .count();
            if common == target.len() {
                continue;
            }
            let from = module[..(common + 1).min(module.len())].to_vec();
            let to = target[..common + 1].to_vec();
            if from != to {
                edges.insert((from, to));
            }
        }
    }
    report.extend(circles(&edges));
    report
}

/// The module path of a file: `render/json.rs` and `render/json/mod.rs`
/// are `["render", "json"]`; `lib.rs` and `main.rs` are the root, `[]`.
fn module_of(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = path
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if !(stem == "mod" || (parts.is_empty() && (stem == "lib" || stem == "main"))) {
        parts.push(stem.to_string());
    }
    parts
}

fn is_mod_rs(path: &Path) -> bool {
    path.file_name().is_some_and(|n| n == "mod.rs")
}

/// Modules declared `#[cfg(test)] mod name;`, and every `tests` module.
fn test_only_modules(files: &BTreeMap<PathBuf, String>) -> BTreeSet<Vec<String>> {
    let mut found = BTreeSet::new();
    for (path, text) in files {
        let module = module_of(path);
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for pair in lines.windows(2) {
            if pair[0] != "#[cfg(test)]" {
                continue;
            }
            let declared = pair[1]
                .trim_start_matches("pub(crate) ")
                .trim_start_matches("pub ")
                .strip_prefix("mod ")
                .and_then(|rest| rest.strip_suffix(';'));
            if let Some(name) = declared {
                let mut child = module.clone();
                child.push(name.to_string());
                found.insert(child);
            }
        }
    }
    found
}

fn is_test_only(module: &[String], test_only: &BTreeSet<Vec<String>>) -> bool {
    module.iter().any(|part| part == "tests")
        || (1..=module.len()).any(|n| test_only.contains(&module[..n]))
}

/// The file without comments and without an inline `#[cfg(test)] mod … {`
/// block (which runs to the end of the file by the house's convention).
fn production_code(text: &str) -> String {
    let mut code = String::new();
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let trimmed = line.trim();
        if trimmed == "#[cfg(test)]"
            && lines.peek().is_some_and(|next| {
                next.trim_start().starts_with("mod ") && next.ends_with('{')
            })
        {
            break;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let without_comment = match line.find("//") {
            // Not inside a string literal, as far as a quote count tells.
            Some(at) if line[..at].matches('"').count() % 2 == 0 => &line[..at],
            _ => line,
        };
        code.push_str(without_comment);
        code.push('\n');
    }
    code
}

/// Every module path the code names, absolute (`crate::` stripped,
/// `super::` resolved against `module`), `use` groups expanded.
fn used_paths(code: &str, module: &[String], mod_rs: bool) -> Vec<Vec<String>> {
    // `super` of `a/b.rs` (module a::b) is `a`; of `a/b/mod.rs` (also
    // a::b) it is `a` too.
    let _ = mod_rs;
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    let mut found = Vec::new();
    for (prefix, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut rest = code;
        while let Some(at) = rest.find(prefix) {
            let preceded_by_ident = rest[..at]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':');
            rest = &rest[at + prefix.len()..];
            if preceded_by_ident {
                continue;
            }
            for path in expand(rest) {
                let mut full = base.clone();
                full.extend(path);
                found.push(full);
            }
        }
    }
    found
}

/// The paths at the start of `text` (what follows `crate::`): `a::b::C`
/// is one, `{a::b, c}` several.
fn expand(text: &str) -> Vec<Vec<String>> {
    let text = text.trim_start();
    if let Some(group) = text.strip_prefix('{') {
        let mut depth = 0;
        let mut end = group.len();
        for (i, c) in group.char_indices() {
            match c {
                '{' => depth += 1,
                '}' if depth == 0 => {
                    end = i;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        let inner = &group[..end];
        let mut items = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for (i, c) in inner.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    items.push(&inner[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        items.push(&inner[start..]);
        return items
            .into_iter()
            .filter(|item| !item.trim().is_empty())
            .flat_map(expand)
            .collect();
    }
    let mut path = Vec::new();
    let mut rest = text;
    loop {
        let ident: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if ident.is_empty() {
            break;
        }
        rest = &rest[ident.len()..];
        path.push(ident);
        match rest.strip_prefix("::") {
            Some(after) if after.starts_with('{') => {
                return expand(after)
                    .into_iter()
                    .map(|tail| path.iter().cloned().chain(tail).collect())
                    .collect();
            }
            Some(after) => rest = after,
            None => break,
        }
    }
    vec![path]
}

/// The longest prefix of `path` that is a module of the tree.
fn longest_module(
    path: &[String],
    modules: &BTreeSet<Vec<String>>,
) -> Option<Vec<String>> {
    (1..=path.len())
        .rev()
        .map(|n| path[..n].to_vec())
        .find(|prefix| modules.contains(prefix))
}

/// The rule `from` breaks by using `to`, if any.
fn forbidden(from: &str, to: &str) -> Option<String> {
    FORBIDDEN
        .iter()
        .find(|(module, _)| *module == from)
        .and_then(|(_, banned)| {
            banned
                .iter()
                .find(|b| **b == "*" || **b == to)
                .map(|_| to.to_string())
        })
}

/// Each circle of `edges`, once, as `a -> b -> a`.
fn circles(edges: &BTreeSet<(Vec<String>, Vec<String>)>) -> Vec<String> {
    let mut next: BTreeMap<&Vec<String>, Vec<&Vec<String>>> = BTreeMap::new();
    for (from, to) in edges {
        next.entry(from).or_default().push(to);
    }
    let mut seen_circles = BTreeSet::new();
    let mut report = Vec::new();
    for start in next.keys() {
        // Depth-first search for a way back to `start`.
        let mut stack = vec![(*start, vec![*start])];
        let mut visited = BTreeSet::new();
        while let Some((node, way)) = stack.pop() {
            for &to in next.get(node).map(Vec::as_slice).unwrap_or(&[]) {
                if to == *start {
                    let mut members: Vec<_> = way.iter().map(|m| m.join("::")).collect();
                    let mut key = members.clone();
                    key.sort();
                    if seen_circles.insert(key) {
                        members.push(start.join("::"));
                        report.push(format!("circle: {}", members.join(" -> ")));
                    }
                } else if visited.insert(to) {
                    let mut longer = way.clone();
                    longer.push(to);
                    stack.push((to, longer));
                }
            }
        }
    }
    report
}
