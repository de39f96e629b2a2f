//! `credx status --tree` against a fixture server answering `GET /v1/health/tree` with the
//! JSON of the health contract (the node's endpoint is built separately), and `credx init`
//! + `credx node add` producing configs that `credx-node check-config` accepts.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;

use common::{credx, free_udp, init_federation, ok, path_str};

/// A subtree: national OK, a province WARN, its city STALL, a county never heard from.
const TREE: &str = r#"{
  "node": "cn.credx",
  "generated_at_ms": 1764480000000,
  "nodes": [
    {"origin": "440106.credx", "level": "county", "parent": "440100.credx", "status": "STOP",
     "report_age_ms": null, "log_size": null, "checkpoint_age_ms": null, "proof_failures": 0,
     "forks": 0, "cert_expires_at_ms": null, "roster_expires_at_ms": null, "upstream": null},
    {"origin": "440100.credx", "level": "city", "parent": "440000.credx", "status": "STALL",
     "report_age_ms": 1200, "log_size": 5000, "checkpoint_age_ms": 800, "proof_failures": 0,
     "forks": 0, "cert_expires_at_ms": 1790000000000, "roster_expires_at_ms": 1790000000000,
     "upstream": {"parent": "440000.credx", "status": "STALL", "lag_entries": 321,
                  "lag_ms": 45000, "last_success_age_ms": 61000}},
    {"origin": "440000.credx", "level": "province", "parent": "cn.credx", "status": "WARN",
     "report_age_ms": 900, "log_size": 12345, "checkpoint_age_ms": 700, "proof_failures": 0,
     "forks": 0, "cert_expires_at_ms": 1790000000000, "roster_expires_at_ms": 1790000000000,
     "upstream": {"parent": "cn.credx", "status": "WARN", "lag_entries": 12, "lag_ms": 1500,
                  "last_success_age_ms": 300}},
    {"origin": "cn.credx", "level": "national", "parent": null, "status": "OK",
     "report_age_ms": 0, "log_size": 99, "checkpoint_age_ms": 100, "proof_failures": 0,
     "forks": 0, "cert_expires_at_ms": null, "roster_expires_at_ms": null, "upstream": null}
  ],
  "integrity": {
    "proof_failures_by_kind": {"bad_signature": 2},
    "forks": [],
    "origins": [{"origin": "440000.credx", "size": 123, "checkpoint_age_ms": 800}]
  }
}"#;

/// Serves `body` as JSON to every request, on a thread, until the test ends.
fn fixture_server(body: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            // Read the headers up to the blank line.
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap() == 0 || line == "\r\n" {
                    break;
                }
            }
            let (status, body) = if request_line.starts_with("GET /v1/health/tree ") {
                ("200 OK", body.clone())
            } else {
                (
                    "404 Not Found",
                    r#"{"error":"not_found","message":"no such endpoint"}"#.to_owned(),
                )
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
        }
    });
    format!("http://{addr}")
}

#[test]
fn status_tree_prints_the_subtree_and_fails_when_a_node_is_not_ok() {
    let url = fixture_server(TREE.to_owned());
    let run = credx(&["status", "--tree", "--node", &url]);
    assert_eq!(run.code, 1, "some node is not OK: exit code 1");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(lines[0].starts_with("ORIGIN"), "{}", run.stdout);
    // Indented tree: national, province, city, county, each one level deeper.
    let origins: Vec<&str> = lines[1..5]
        .iter()
        .map(|l| l.split("  ").find(|s| !s.is_empty()).unwrap())
        .collect();
    assert_eq!(
        origins,
        ["cn.credx", "440000.credx", "440100.credx", "440106.credx"]
    );
    assert!(lines[2].starts_with("  440000.credx"));
    assert!(lines[3].starts_with("    440100.credx"));
    assert!(lines[4].starts_with("      440106.credx"));
    let city = lines[3];
    for column in [
        "city", "STALL", "321", "45.0s", "1m01s", "1.2s", "800ms", "5000",
    ] {
        assert!(city.contains(column), "{column} in {city}");
    }
    assert!(
        lines[4].contains("STOP") && lines[4].contains("never"),
        "{}",
        lines[4]
    );
    assert!(
        run.stdout
            .contains("4 nodes as seen by cn.credx: 1 STOP, 1 STALL, 1 WARN, 1 OK"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("bad_signature 2"), "{}", run.stdout);

    let worst = credx(&["status", "--tree", "--worst-first", "--node", &url]);
    let order: Vec<&str> = worst
        .stdout
        .lines()
        .skip(1)
        .take(4)
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    assert_eq!(
        order,
        ["440106.credx", "440100.credx", "440000.credx", "cn.credx"]
    );

    let sub = credx(&["status", "--tree", "--root", "440100.credx", "--node", &url]);
    assert!(
        sub.stdout.contains("2 nodes as seen by cn.credx"),
        "{}",
        sub.stdout
    );

    // All OK: exit code 0.
    let healthy = TREE
        .replace("\"STOP\"", "\"OK\"")
        .replace("\"STALL\"", "\"OK\"")
        .replace("\"WARN\"", "\"OK\"");
    let url = fixture_server(healthy);
    let run = credx(&["status", "--tree", "--node", &url]);
    assert_eq!(run.code, 0, "{}", run.stdout);

    // An endpoint the node does not have, and no node at all: exit code 2 with the fix.
    let missing = credx(&["status", "--node", &url]);
    assert_eq!(missing.code, 2);
    let nobody = credx(&[
        "status",
        "--tree",
        "--node",
        &format!("http://{}", common::free_tcp()),
    ]);
    assert_eq!(nobody.code, 2);
    assert!(
        nobody.stderr.contains("cannot reach the node"),
        "{}",
        nobody.stderr
    );
}

/// Runs `credx-node check-config` when the binary was built next to `credx`.
fn node_check_config(config: &Path) -> Option<String> {
    let credx_bin = Path::new(env!("CARGO_BIN_EXE_credx"));
    let node_bin = credx_bin.with_file_name("credx-node");
    if !node_bin.exists() {
        eprintln!("{} not built: checked in process only", node_bin.display());
        return None;
    }
    let out = Command::new(node_bin)
        .arg("check-config")
        .arg(config)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "credx-node check-config {}: {}{}",
        config.display(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(String::from_utf8(out.stdout).unwrap())
}

/// `credx node add` of `[origin, level, parent]` on a free HTTP port, plus `extra`.
fn node_add(fed: &Path, node: &[&str; 3], extra: &[&str]) -> common::Run {
    let fed = path_str(fed);
    let http = common::free_tcp();
    let mut args = vec![
        "node",
        "add",
        "--federation",
        &fed,
        "--origin",
        node[0],
        "--level",
        node[1],
        "--parent",
        node[2],
        "--listen-http",
        &http,
    ];
    args.extend_from_slice(extra);
    ok(&args)
}

fn check_in_process(config: &Path) {
    let loaded = credx_node::config::Config::load(config).unwrap();
    loaded.load_identity().unwrap();
}

#[test]
fn init_and_node_add_write_configs_that_check_config_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let fed = dir.path().join("fed");
    let (national, _) = init_federation(&fed);
    let national_quic = std::fs::read_to_string(&national)
        .unwrap()
        .parse::<toml::Table>()
        .unwrap()["listen_quic"]
        .as_str()
        .unwrap()
        .to_owned();
    check_in_process(&national);
    let fed_s = path_str(&fed);
    let province_quic = free_udp();
    node_add(
        &fed,
        &["440000.credx", "province", "cn.credx"],
        &["--listen-quic", &province_quic],
    );
    // The county gets its parent's address from the city's config; no --juris: div:440106.
    let city_quic = free_udp();
    node_add(
        &fed,
        &["440100.credx", "city", "440000.credx"],
        &["--listen-quic", &city_quic],
    );
    let county = node_add(&fed, &["440106.credx", "county", "440100.credx"], &[]);
    assert!(county.stdout.contains("version 4"), "{}", county.stdout);

    for origin in ["cn.credx", "440000.credx", "440100.credx", "440106.credx"] {
        let config = fed.join("nodes").join(origin).join("node.toml");
        check_in_process(&config);
        if let Some(out) = node_check_config(&config) {
            assert!(out.contains("roster v4"), "{out}");
        }
    }
    let county_config = std::fs::read_to_string(fed.join("nodes/440106.credx/node.toml")).unwrap();
    assert!(
        county_config.contains(&format!("address = \"{city_quic}\"")),
        "{county_config}"
    );
    let province_config =
        std::fs::read_to_string(fed.join("nodes/440000.credx/node.toml")).unwrap();
    assert!(province_config.contains(&format!("address = \"{national_quic}\"")));
    // The old commands read what init wrote.
    ok(&[
        "roster",
        "verify",
        "--root-vkey",
        &path_str(&fed.join("root.vkey")),
        &path_str(&fed.join("roster.note")),
    ]);

    // Refusals name the fix and keep nothing.
    let again = credx(&["init", "--name", "test-fed", "--out", &fed_s]);
    assert_eq!(again.code, 1);
    assert!(again.stderr.contains("credx node add"), "{}", again.stderr);
    let orphan = credx(&[
        "node",
        "add",
        "--federation",
        &fed_s,
        "--origin",
        "420000.credx",
        "--level",
        "province",
        "--parent",
        "nowhere.credx",
        "--parent-address",
        "127.0.0.1:1",
    ]);
    assert_eq!(orphan.code, 1, "{}", orphan.stderr);
    assert!(!fed.join("nodes/420000.credx").exists());
    let listed = std::fs::read_to_string(fed.join("nodes.toml")).unwrap();
    assert!(!listed.contains("420000.credx"));
}
