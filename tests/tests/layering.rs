//! The workspace's layering, checked from the manifests: the pure crates stay pure,
//! and every crate takes the workspace's lints.

// Tests panic on unexpected errors; that is how they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

/// Crates that must not do I/O or depend on a runtime: the kernel and the domains.
const PURE: &[&str] = &["kernel", "agreements", "projects", "procurement"];
const FORBIDDEN_IN_PURE: &[&str] = &["tokio", "sled", "async-nats", "anyhow", "accord-log"];

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates")
}

fn manifest(dir: &Path) -> toml::Table {
    let text = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
    text.parse().unwrap()
}

fn dependency_names(manifest: &toml::Table) -> Vec<String> {
    ["dependencies", "build-dependencies"]
        .iter()
        .filter_map(|section| manifest.get(*section).and_then(|d| d.as_table()))
        .flat_map(|deps| deps.keys().cloned())
        .collect()
}

#[test]
fn pure_crates_depend_on_no_runtime_storage_or_bus() {
    let mut checked = 0;
    for name in PURE {
        let dir = crates_dir().join(name);
        if !dir.exists() {
            continue;
        }
        checked += 1;
        let deps = dependency_names(&manifest(&dir));
        for forbidden in FORBIDDEN_IN_PURE {
            assert!(
                !deps.iter().any(|d| d == forbidden),
                "crates/{name} depends on {forbidden}; domain logic must stay pure"
            );
        }
    }
    assert!(
        checked >= 1,
        "no pure crate found under {}",
        crates_dir().display()
    );
}

#[test]
fn every_crate_uses_the_workspace_lints_and_package_settings() {
    let mut crates: Vec<PathBuf> = std::fs::read_dir(crates_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("Cargo.toml").exists())
        .collect();
    crates.push(Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf());
    for dir in crates {
        let manifest = manifest(&dir);
        let lints = manifest.get("lints").and_then(|l| l.get("workspace"));
        assert_eq!(
            lints.and_then(|w| w.as_bool()),
            Some(true),
            "{} must set [lints] workspace = true",
            dir.display()
        );
        let edition = manifest["package"]
            .get("edition")
            .and_then(|e| e.get("workspace"));
        assert_eq!(
            edition.and_then(|w| w.as_bool()),
            Some(true),
            "{}",
            dir.display()
        );
    }
}

/// The modules of `crates/bus/src` another one names (`crate::<module>`), outside
/// comments.
fn bus_module_imports() -> std::collections::BTreeMap<String, std::collections::BTreeSet<String>> {
    let dir = crates_dir().join("bus").join("src");
    let mut graph = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().into_owned();
        if name == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let mut names = std::collections::BTreeSet::new();
        for line in text.lines().filter(|l| !l.trim_start().starts_with("//")) {
            for (at, _) in line.match_indices("crate::") {
                let rest = &line[at + "crate::".len()..];
                let module: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                    .collect();
                if !module.is_empty() && module != name && dir.join(format!("{module}.rs")).exists()
                {
                    names.insert(module);
                }
            }
        }
        graph.insert(name, names);
    }
    graph
}

#[test]
fn the_bus_modules_import_each_other_without_a_circle() {
    let graph = bus_module_imports();
    // The shared vocabulary is a leaf but for subject naming.
    assert!(
        graph["message"].iter().all(|m| m == "subject"),
        "{:?}",
        graph["message"]
    );
    // Depth-first search for a cycle.
    fn visit(
        node: &str,
        graph: &std::collections::BTreeMap<String, std::collections::BTreeSet<String>>,
        path: &mut Vec<String>,
    ) {
        assert!(
            !path.iter().any(|p| p == node),
            "a circle: {path:?} -> {node}"
        );
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            visit(next, graph, path);
        }
        path.pop();
    }
    for node in graph.keys() {
        visit(node, &graph, &mut Vec::new());
    }
    assert!(
        graph.contains_key("bus") && graph.contains_key("nats"),
        "{graph:?}"
    );
}

/// Every `.rs` file under `dir`, recursively.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            found.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
    found
}

/// The one place outside the domain crates that calls the deciders.
const DEFINITIONS: &str = "boundary/src/definition.rs";

#[test]
fn the_deciders_are_dispatched_in_one_place_the_service_definitions() {
    // A second dispatch (as the scenario's in-memory run once had) calls a decider's
    // decide, evolve or fold itself; the runtime, the scenario, the demo and the audit
    // tools go through `ServiceDefinition` instead.
    let calls = ["Decider::decide(", "Decider::evolve(", "Decider::fold("];
    let mut offenders = Vec::new();
    let mut seen_definitions = false;
    for name in [
        "boundary", "runtime", "scenario", "cli", "bus", "log", "bench", "testkit",
    ] {
        for path in sources(&crates_dir().join(name).join("src")) {
            let relative = path.strip_prefix(crates_dir()).unwrap().to_string_lossy();
            let text = std::fs::read_to_string(&path).unwrap();
            let calls_a_decider = calls.iter().any(|call| text.contains(call));
            // The shells may not even name a decider: they hold service definitions.
            if ["runtime/", "scenario/", "cli/"]
                .iter()
                .any(|shell| relative.starts_with(shell))
                && text.contains("Decider")
            {
                offenders.push(relative.clone().into_owned());
            }
            if relative == DEFINITIONS {
                seen_definitions = calls_a_decider;
            } else if calls_a_decider {
                offenders.push(relative.into_owned());
            }
        }
    }
    assert!(seen_definitions, "{DEFINITIONS} should hold the dispatch");
    assert!(
        offenders.is_empty(),
        "deciders called outside {DEFINITIONS}: {offenders:?}"
    );
}
