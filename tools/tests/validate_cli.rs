//! Runs the built `credx` binary on the record fixtures.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The crate's directory as cargo gives it to the running test. `env!` would bake in the
/// path of the checkout that compiled the binary, and the shared target directory may
/// hold binaries compiled from another checkout of the same sources.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn fixture(name: &str) -> PathBuf {
    manifest_dir()
        .join("../protocol/tests/fixtures/records")
        .join(name)
}

fn credx(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_credx"))
        .args(args)
        .output()
        .unwrap()
}

fn validate(name: &str, extra: &[&str]) -> (i32, String, String) {
    let path = fixture(name);
    let mut args = vec!["validate", path.to_str().unwrap(), "--today", "2026-11-22"];
    args.extend_from_slice(extra);
    let out = credx(&args);
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

#[test]
fn samples_are_accepted() {
    for name in ["samples.json", "licences.csv", "penalties.csv"] {
        let (code, out, err) = validate(name, &[]);
        assert_eq!(code, 0, "{name}: {out}{err}");
        assert!(!out.contains(" reject "), "{name}: {out}");
        assert!(out.contains("0 rejected"), "{name}: {out}");
    }
}

#[test]
fn invalid_fixture_reports_each_seeded_defect() {
    let (code, out, _) = validate("invalid.json", &[]);
    assert_eq!(code, 1, "{out}");
    let expected = [
        (1, "CF_NR_FK", "E5", "reject"),
        (2, "XK_YXQZI", "E3", "reject"),
        (3, "CF_XDR_SHXYM", "E1", "reject"),
        (4, "CF_NR_FK", "E5", "warn"),
        (5, "CF_JDRQ", "E3", "reject"),
        (6, "XK_XDR_SHXYM", "E2", "reject"),
        (7, "XK_XDR_SHXYM", "E2", "reject"),
        (8, "XK_XDR_SHXYM", "E2", "reject"),
        (9, "XK_XDR_SHXYM", "E2", "reject"),
        (10, "CF_XDR_ZJHM", "E2", "reject"),
        (11, "CF_XDR_ZJHM", "E2", "reject"),
        (12, "CF_XDR_ZJHM", "E2", "reject"),
        (13, "XK_XKJGDM", "E6", "reject"),
        (14, "BZ", "E7", "reject"),
        (15, "CF_CFLB", "E4", "reject"),
    ];
    for (n, field, rule, sev) in expected {
        let prefix = format!("record {n}  {field}  {rule}  {sev}  ");
        assert!(
            out.lines().any(|l| l.starts_with(&prefix)),
            "missing `{prefix}` in\n{out}"
        );
    }
    assert!(out.contains("15 records: 1 accepted, 14 rejected"), "{out}");
}

#[test]
fn json_output_is_machine_readable() {
    let (code, out, _) = validate("invalid.json", &["--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["records"], 15);
    assert_eq!(v["rejected"], 14);
    let f = &v["findings"][0];
    assert_eq!(f["record"], 1);
    assert_eq!(f["field"], "CF_NR_FK");
    assert_eq!(f["rule"], "E5");
    assert_eq!(f["severity"], "reject");
}

#[test]
fn malformed_files_exit_2_with_location() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("broken.json");
    std::fs::write(&bad, "[{\"CF_WSH\": \"x\",\n  \"CF_JDRQ\": }]").unwrap();
    let out = credx(&["validate", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("broken.json") && err.contains("line 2"),
        "{err}"
    );

    let missing = dir.path().join("nope.json");
    let out = credx(&["validate", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));

    let ragged = dir.path().join("ragged.csv");
    std::fs::write(&ragged, "CF_WSH,CF_JDRQ\na,b,c\n").unwrap();
    let out = credx(&["validate", ragged.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(
        err.contains("ragged.csv") && err.contains("line 2"),
        "{err}"
    );
}

#[test]
fn json_lines_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let samples: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("samples.json")).unwrap()).unwrap();
    let lines: Vec<String> = samples
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r.to_string())
        .collect();
    let path = dir.path().join("samples.jsonl");
    std::fs::write(&path, lines.join("\n")).unwrap();
    let out = credx(&["validate", path.to_str().unwrap(), "--today", "2026-11-22"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8(out.stdout)
        .unwrap()
        .contains("2 records: 2 accepted"));
}
