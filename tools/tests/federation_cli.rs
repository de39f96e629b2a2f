//! Runs the built `credx` binary through the federation workflow: trust root, node
//! credentials, roster signing and verification, and the ways each step refuses bad input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn credx(args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_credx"))
        .args(args)
        .output()
        .unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

fn ok(args: &[&str]) -> Run {
    ok_run(credx(args))
}

fn ok_run(run: Run) -> Run {
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run
}

/// Asserts the exit code and that stderr says each of `needles`.
fn fails(run: &Run, code: i32, needles: &[&str]) {
    assert_eq!(run.code, code, "{}{}", run.stdout, run.stderr);
    for needle in needles {
        assert!(
            run.stderr.contains(needle),
            "{needle:?} not in: {}",
            run.stderr
        );
    }
}

/// `credx roster sign` of version 1, valid 7 days, from a nodes file.
fn sign(root: &Path, nodes: &Path, roster: &Path) -> Run {
    credx(&[
        "roster",
        "sign",
        "--root",
        p(root),
        "--version",
        "1",
        "--expires-in-days",
        "7",
        "--nodes",
        p(nodes),
        "--out",
        p(roster),
    ])
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

const NODES: [(&str, &str, Option<&str>, &str); 4] = [
    ("cn.credx", "national", None, "national"),
    ("440000.credx", "province", Some("cn.credx"), "div:440000"),
    ("440100.credx", "city", Some("440000.credx"), "div:440100"),
    ("440106.credx", "county", Some("440100.credx"), "div:440106"),
];

/// `credx federation init` of federation credx-gd into `root`.
fn init(root: &Path) -> Run {
    credx(&["federation", "init", "--name", "credx-gd", "--out", p(root)])
}

/// `credx federation init` and `credx node issue` for the four nodes under `dir`.
fn federation(dir: &Path) {
    let root = dir.join("root");
    let run = ok_run(init(&root));
    assert!(run.stdout.contains("credx-gd-root+"), "{}", run.stdout);
    assert!(
        run.stdout.contains("next: credx node issue"),
        "{}",
        run.stdout
    );
    for (origin, ..) in NODES {
        let out = dir.join("nodes").join(origin);
        let run = ok(&[
            "node",
            "issue",
            "--root",
            p(&root),
            "--origin",
            origin,
            "--out",
            p(&out),
            "--validity-days",
            "30",
        ]);
        assert!(run.stdout.contains(origin), "{}", run.stdout);
        assert!(run.stdout.contains("credx roster sign"), "{}", run.stdout);
    }
}

fn nodes_toml(jurisdiction_of_county: &str) -> String {
    let mut text = String::from("# test federation\n");
    for (origin, level, parent, juris) in NODES {
        let juris = if origin == "440106.credx" {
            jurisdiction_of_county
        } else {
            juris
        };
        text.push_str(&format!(
            "[[node]]\norigin = \"{origin}\"\nlevel = \"{level}\"\n{}jurisdiction = [\"{juris}\"]\ncredentials = \"nodes/{origin}\"\n\n",
            parent.map(|p| format!("parent = \"{p}\"\n")).unwrap_or_default()
        ));
    }
    text
}

#[test]
fn init_issue_sign_verify() {
    let dir = tempfile::tempdir().unwrap();
    federation(dir.path());
    let nodes = dir.path().join("nodes.toml");
    std::fs::write(&nodes, nodes_toml("div:440106")).unwrap();
    let roster = dir.path().join("roster.note");
    let root = dir.path().join("root");
    let run = ok_run(sign(&root, &nodes, &roster));
    assert!(run.stdout.contains("4 nodes"), "{}", run.stdout);
    assert!(run.stdout.contains("credx roster verify"), "{}", run.stdout);

    // Verified with the root's vkey and with the copy every node holds.
    for vkey in [
        root.join("root.vkey"),
        dir.path().join("nodes/440106.credx/root.vkey"),
    ] {
        let run = ok(&["roster", "verify", "--root-vkey", p(&vkey), p(&roster)]);
        assert!(
            run.stdout
                .contains("valid; federation credx-gd version 1, 4 nodes"),
            "{}",
            run.stdout
        );
        assert!(
            run.stdout.lines().any(|l| l.contains("440106.credx")
                && l.contains("county")
                && l.contains("parent=440100.credx")
                && l.contains("div:440106")),
            "{}",
            run.stdout
        );
    }

    // The same roster from --node options (the issued_at differs, the content does not).
    let roster2 = dir.path().join("roster2.note");
    let mut args: Vec<String> = ["roster", "sign", "--root", p(&root), "--version", "1"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    args.extend([
        "--expires-in-days".into(),
        "7".into(),
        "--out".into(),
        p(&roster2).into(),
    ]);
    for (origin, level, parent, juris) in NODES {
        let parent = parent.map(|p| format!(",parent={p}")).unwrap_or_default();
        let creds = dir.path().join("nodes").join(origin);
        args.push("--node".into());
        args.push(format!(
            "origin={origin},level={level}{parent},juris={juris},credentials={}",
            p(&creds)
        ));
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&args);
    ok(&[
        "roster",
        "verify",
        "--root-vkey",
        p(&root.join("root.vkey")),
        p(&roster2),
    ]);
    let body = |path: &Path| {
        std::fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter(|l| l.starts_with("node "))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(body(&roster), body(&roster2));

    // After expiry the roster is refused, naming the file and the date.
    let later = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 8 * 24 * 3600)
        .to_string();
    let run = credx(&[
        "roster",
        "verify",
        "--root-vkey",
        p(&root.join("root.vkey")),
        "--at",
        &later,
        p(&roster),
    ]);
    fails(&run, 1, &["roster.note", "expired at"]);
}

#[test]
fn refusals_name_the_file_and_the_rule() {
    let dir = tempfile::tempdir().unwrap();
    federation(dir.path());
    let root = dir.path().join("root");

    // A second init over the same directory keeps the existing keys.
    let before = std::fs::read_to_string(root.join("root.key")).unwrap();
    let run = init(&root);
    fails(&run, 1, &["root.key", "--force"]);
    assert_eq!(
        std::fs::read_to_string(root.join("root.key")).unwrap(),
        before
    );

    // Bad names.
    let run = credx(&[
        "federation",
        "init",
        "--name",
        "Credx GD",
        "--out",
        p(&dir.path().join("x")),
    ]);
    fails(&run, 1, &["federation name"]);
    let run = credx(&[
        "node",
        "issue",
        "--root",
        p(&root),
        "--origin",
        "440106",
        "--out",
        p(&dir.path().join("bad")),
    ]);
    fails(&run, 1, &["\"440106\"", "two labels"]);

    // A missing trust root is an I/O failure: exit 2, naming the file.
    let run = credx(&[
        "node",
        "issue",
        "--root",
        p(&dir.path().join("nowhere")),
        "--origin",
        "440106.credx",
        "--out",
        p(&dir.path().join("n")),
    ]);
    fails(&run, 2, &["nowhere/root.key"]);

    // A county outside its city's area: the roster rule, with the line it breaks.
    let nodes = dir.path().join("nodes.toml");
    std::fs::write(&nodes, nodes_toml("div:440305")).unwrap();
    let roster = dir.path().join("roster.note");
    let run = sign(&root, &nodes, &roster);
    fails(&run, 1, &["outside the jurisdiction of parent"]);
    assert!(!roster.exists());

    // A nodes file with a typo names the file, the node and the field.
    std::fs::write(
        &nodes,
        nodes_toml("div:440106").replace("\"county\"", "\"town\""),
    )
    .unwrap();
    let run = sign(&root, &nodes, &roster);
    fails(&run, 1, &["nodes.toml node #4 (440106.credx)", "\"town\""]);

    // Credentials from another federation's CA are not put in the roster.
    let other = dir.path().join("other");
    ok_run(init(&other.join("root")));
    ok(&[
        "node",
        "issue",
        "--root",
        p(&other.join("root")),
        "--origin",
        "440106.credx",
        "--out",
        p(&other.join("440106.credx")),
    ]);
    let text = nodes_toml("div:440106").replace("nodes/440106.credx", "other/440106.credx");
    std::fs::write(&nodes, text).unwrap();
    let run = sign(&root, &nodes, &roster);
    fails(&run, 1, &["other/440106.credx/tls.crt", "CA"]);

    // A roster verified against another root's key: refused, exit 1.
    std::fs::write(&nodes, nodes_toml("div:440106")).unwrap();
    ok_run(sign(&root, &nodes, &roster));
    let run = credx(&[
        "roster",
        "verify",
        "--root-vkey",
        p(&other.join("root/root.vkey")),
        p(&roster),
    ]);
    fails(&run, 1, &["roster.note", "not signed by"]);

    // Help says what to do next.
    let run = ok(&["roster", "sign", "--help"]);
    assert!(
        run.stdout.contains("[[node]]") && run.stdout.contains("credx roster verify"),
        "{}",
        run.stdout
    );
}
