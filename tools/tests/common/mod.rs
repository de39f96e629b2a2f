//! Shared by the CLI tests: running the built `credx`, free loopback ports, and a
//! federation made by `credx init` whose national node runs in this process.
#![allow(dead_code)]

use std::net::{TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;

/// One run of the `credx` binary.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub fn credx<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_credx"))
        .args(args)
        .output()
        .unwrap();
    let run = Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    };
    eprintln!(
        "$ credx {}\n{}{}[exit {}]",
        args.iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect::<Vec<_>>()
            .join(" "),
        run.stdout,
        run.stderr,
        run.code
    );
    run
}

pub fn ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Run {
    let run = credx(args);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    run
}

pub fn free_tcp() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().to_string()
}

pub fn free_udp() -> String {
    let s = UdpSocket::bind("127.0.0.1:0").unwrap();
    s.local_addr().unwrap().to_string()
}

pub fn path_str(p: &Path) -> String {
    p.to_str().unwrap().to_owned()
}

/// `credx init` of federation `test-fed` with national node cn.credx on loopback ports;
/// returns the federation directory's national node config and its HTTP address.
pub fn init_federation(dir: &Path) -> (PathBuf, String) {
    let http = free_tcp();
    let quic = free_udp();
    ok(&[
        "init",
        "--name",
        "test-fed",
        "--out",
        &path_str(dir),
        "--listen-http",
        &http,
        "--listen-quic",
        &quic,
    ]);
    (dir.join("nodes/cn.credx/node.toml"), http)
}
