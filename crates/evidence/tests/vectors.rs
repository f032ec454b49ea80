//! The public test vectors, answered file by file (issue 16, acceptance 1).
//!
//! `tests/vectors/` is a verbatim copy of the workplace's `shared/vectors` (its
//! README says where each file comes from): the RFC 6962/9162 inclusion and
//! consistency cases of transparency-dev/merkle, and the C2SP signed-note example.
//! A verifier passes only if it answers every file as the file says, so the test
//! also counts the files it answered.

use std::path::{Path, PathBuf};

use accord_evidence::merkle::{verify_consistency, verify_inclusion, Hash};
use accord_evidence::note::{Note, VerifierKey};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use serde_json::Value;

fn vectors() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn json_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        panic!("cannot read {}", dir.display());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            json_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "json") {
            found.push(path);
        }
    }
    found.sort();
}

fn bytes(value: &Value) -> Vec<u8> {
    match value.as_str() {
        Some(text) => BASE64
            .decode(text)
            .unwrap_or_else(|_| text.as_bytes().to_vec()),
        None => Vec::new(),
    }
}

/// The proof as typed hashes, or None when a component is not 32 bytes: a proof
/// that cannot even be read is refused.
fn proof(value: &Value) -> Option<Vec<Hash>> {
    match value {
        Value::Null => Some(Vec::new()),
        Value::Array(items) => items
            .iter()
            .map(|item| bytes(item).try_into().ok())
            .collect(),
        _ => None,
    }
}

fn size(value: &Value) -> Option<u64> {
    value.as_u64()
}

/// What our verifier says of one case: Ok(()) accepts.
fn answer_inclusion(case: &Value) -> Result<(), String> {
    let (Some(index), Some(size)) = (size(&case["leafIdx"]), size(&case["treeSize"])) else {
        return Err("index or size is not a natural number".into());
    };
    let proof = proof(&case["proof"]).ok_or("a proof hash is not 32 bytes")?;
    verify_inclusion(
        index,
        size,
        &bytes(&case["leafHash"]),
        &proof,
        &bytes(&case["root"]),
    )
    .map_err(|e| e.to_string())
}

fn answer_consistency(case: &Value) -> Result<(), String> {
    let (Some(old), Some(new)) = (size(&case["size1"]), size(&case["size2"])) else {
        return Err("a size is not a natural number".into());
    };
    let proof = proof(&case["proof"]).ok_or("a proof hash is not 32 bytes")?;
    verify_consistency(
        old,
        new,
        &proof,
        &bytes(&case["root1"]),
        &bytes(&case["root2"]),
    )
    .map_err(|e| e.to_string())
}

fn check_all(kind: &str, answer: fn(&Value) -> Result<(), String>) -> usize {
    let mut files = Vec::new();
    json_files(&vectors().join("merkle").join(kind), &mut files);
    let mut wrong = Vec::new();
    for file in &files {
        let Ok(text) = std::fs::read_to_string(file) else {
            panic!("cannot read {}", file.display());
        };
        let Ok(case) = serde_json::from_str::<Value>(&text) else {
            panic!("{} is not JSON", file.display());
        };
        let want_error = case["wantErr"].as_bool().unwrap_or(false);
        let got = answer(&case);
        if got.is_err() != want_error {
            wrong.push(format!(
                "{}: wantErr {want_error}, got {got:?}",
                file.display()
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} wrong answers:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    files.len()
}

#[test]
fn every_inclusion_vector_gets_the_expected_answer() {
    let answered = check_all("inclusion", answer_inclusion);
    // The folders 0-4, additional/ and single-entry/ as copied: all of them.
    assert_eq!(answered, 98, "the copy of the inclusion vectors changed");
}

#[test]
fn every_consistency_vector_gets_the_expected_answer() {
    let answered = check_all("consistency", answer_consistency);
    assert_eq!(answered, 98, "the copy of the consistency vectors changed");
}

fn example() -> (VerifierKey, Vec<u8>) {
    let dir = vectors().join("signed-note");
    let (Ok(key), Ok(note)) = (
        std::fs::read_to_string(dir.join("example.vkey")),
        std::fs::read(dir.join("example.note")),
    ) else {
        panic!("the signed-note vector is missing");
    };
    let Ok(key) = key.parse::<VerifierKey>() else {
        panic!("example.vkey does not parse: {key}");
    };
    (key, note)
}

#[test]
fn the_signed_note_example_verifies() {
    let (key, note) = example();
    let Ok(parsed) = Note::parse(&note) else {
        panic!("example.note does not parse");
    };
    assert_eq!(parsed.text, "This is an example message.\n");
    let keys = [key];
    assert_eq!(parsed.verify(&keys).map(|signed| signed.len()), Ok(1));
}

#[test]
fn the_signed_note_example_fails_when_any_byte_of_its_text_or_signature_changes() {
    let (key, note) = example();
    let keys = [key];
    let text_len = "This is an example message.\n".len();
    let dash = "\u{2014} ".as_bytes();
    let Some(line) = note.windows(dash.len()).position(|w| w == dash) else {
        panic!("no signature line");
    };
    let signature_start = line + "— example.com/foo ".len();
    let signature_end = note.len() - 1; // the final newline
    let mut changed = 0;
    for at in (0..text_len).chain(signature_start..signature_end) {
        let mut bytes = note.clone();
        bytes[at] ^= 0x01;
        let accepted = Note::parse(&bytes).and_then(|n| n.verify(&keys).map(|_| ()));
        assert!(
            accepted.is_err(),
            "byte {at} changed and the note still verifies"
        );
        changed += 1;
    }
    assert!(changed > 100, "only {changed} bytes changed");
}
