//! The `credx-node` binary end to end: configs built from `docs/examples/node.toml`, real
//! processes (a county and its city) with credentials from the test federation saved to
//! disk, records submitted through the department API, sync observed through `/metrics`,
//! SIGKILL and restart, SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use credx_node::api::{TokenStore, View};
use credx_node::config::Config;
use credx_node::federation::test_federation::three_level::{CITY, COUNTY};
use credx_node::federation::NodeCredentials;
use credx_node::federation::{Overwrite, TestFederation};
use credx_node::synthetic::synthetic_uscc;
use credx_protocol::merkle::Hash;
use credx_protocol::note::{Checkpoint, SignedCheckpoint};
use credx_storage::signing_guard::checkpoint_file;
use credx_storage::{
    CheckpointStore, EvidenceStore, ForkEvidence, LogRole, LogStore, RocksStorage, StorageOptions,
};

const BIN: &str = env!("CARGO_BIN_EXE_credx-node");
const COUNTY_DIVISION: &str = "440106";

/// The crate's directory as cargo gives it to the running test. `env!` would bake in the
/// path of the checkout that compiled the binary, and the shared target directory may
/// hold binaries compiled from another checkout of the same sources.
fn manifest_dir() -> PathBuf {
    std::env::var_os("CARGO_MANIFEST_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")))
}

fn example_path() -> PathBuf {
    manifest_dir().join("../docs/examples/node.toml")
}

fn example() -> toml::Table {
    let text = std::fs::read_to_string(example_path()).unwrap();
    text.parse::<toml::Table>().unwrap()
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn free_tcp_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One node's directory: its config, data and logs.
struct NodeFiles {
    origin: &'static str,
    dir: PathBuf,
    config: PathBuf,
    http: SocketAddr,
    quic: Option<SocketAddr>,
}

impl NodeFiles {
    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }
}

/// Writes the config of `origin` from the documented example: its own paths and ports,
/// everything else as documented.
fn write_config(
    root: &Path,
    origin: &'static str,
    listen: bool,
    parent: Option<(&str, SocketAddr)>,
    tokens: Option<&Path>,
) -> NodeFiles {
    let dir = root.join(origin);
    std::fs::create_dir_all(&dir).unwrap();
    let http: SocketAddr = format!("127.0.0.1:{}", free_tcp_port()).parse().unwrap();
    let quic: Option<SocketAddr> =
        listen.then(|| format!("127.0.0.1:{}", free_udp_port()).parse().unwrap());
    let mut table = example();
    let fed = root.join("federation");
    let set = |table: &mut toml::Table, key: &str, value: String| {
        table.insert(key.to_owned(), toml::Value::String(value));
    };
    set(&mut table, "origin", origin.to_owned());
    set(&mut table, "data_dir", "data".to_owned());
    set(
        &mut table,
        "credentials_dir",
        fed.join("nodes").join(origin).display().to_string(),
    );
    set(
        &mut table,
        "roster_file",
        fed.join("roster.note").display().to_string(),
    );
    set(&mut table, "listen_http", http.to_string());
    match quic {
        Some(addr) => set(&mut table, "listen_quic", addr.to_string()),
        None => {
            table.remove("listen_quic");
        }
    }
    match tokens {
        Some(path) => set(&mut table, "tokens_file", path.display().to_string()),
        None => {
            table.remove("tokens_file");
        }
    }
    match parent {
        Some((origin, addr)) => {
            let mut p = toml::Table::new();
            p.insert("origin".into(), toml::Value::String(origin.to_owned()));
            p.insert("address".into(), toml::Value::String(addr.to_string()));
            table.insert("parent".into(), toml::Value::Table(p));
        }
        None => {
            table.remove("parent");
        }
    }
    // Short batches so the test's checkpoints come quickly; the rest as documented.
    if let Some(toml::Value::Table(seq)) = table.get_mut("sequencer") {
        seq.insert("max_batch_delay_ms".into(), toml::Value::Integer(5));
    }
    if let Some(toml::Value::Table(sync)) = table.get_mut("sync") {
        sync.insert("interval_ms".into(), toml::Value::Integer(50));
        sync.insert("backoff_max_ms".into(), toml::Value::Integer(500));
        // A killed city is noticed within 2 s instead of the documented 10.
        sync.insert("peer_timeout_ms".into(), toml::Value::Integer(2_000));
    }
    let config = dir.join("node.toml");
    std::fs::write(&config, toml::to_string(&table).unwrap()).unwrap();
    NodeFiles {
        origin,
        dir,
        config,
        http,
        quic,
    }
}

/// A running `credx-node`; killed (SIGKILL) if the test panics before stopping it.
struct NodeProcess {
    child: Option<Child>,
    name: String,
    log: PathBuf,
}

impl NodeProcess {
    fn spawn(files: &NodeFiles, run: u32) -> NodeProcess {
        let log = files.dir.join(format!("node-{run}.log"));
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new(BIN)
            .arg("--config")
            .arg(&files.config)
            .env("RUST_LOG", "info,credx_node=debug")
            .stdout(Stdio::null())
            .stderr(out)
            .spawn()
            .unwrap();
        NodeProcess {
            child: Some(child),
            name: files.origin.to_owned(),
            log,
        }
    }

    fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    fn sigkill(mut self) {
        let mut child = self.child.take().unwrap();
        child.kill().unwrap();
        child.wait().unwrap();
    }

    /// SIGTERM, then the exit status (within 60 s).
    fn sigterm(mut self) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let mut child = self.child.take().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                return status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "{} did not stop within 60 s of SIGTERM:\n{}",
                    self.name,
                    self.log_text()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for NodeProcess {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
            eprintln!("--- log of {} ---\n{}", self.name, self.log_text());
        }
    }
}

async fn wait_healthy(client: &reqwest::Client, node: &NodeFiles, process: &NodeProcess) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(response) = client.get(node.url("/healthz")).send().await {
            if response.status().is_success() {
                return;
            }
        }
        assert!(
            Instant::now() < deadline,
            "{} did not become healthy:\n{}",
            node.origin,
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Sum of the samples of `metric` whose labels contain every one of `labels`.
fn sample(text: &str, metric: &str, labels: &[&str]) -> u64 {
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter(|line| {
            line.strip_prefix(metric).is_some_and(|rest| {
                rest.starts_with('{') || rest.starts_with(' ') || rest.starts_with("_total")
            })
        })
        .filter(|line| labels.iter().all(|l| line.contains(l)))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .map(|v| v as u64)
        .sum()
}

async fn metrics(client: &reqwest::Client, node: &NodeFiles) -> Option<String> {
    client
        .get(node.url("/metrics"))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()
}

async fn own_log_size(client: &reqwest::Client, node: &NodeFiles) -> u64 {
    let health: serde_json::Value = client
        .get(node.url("/healthz"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    health["own_log_size"].as_u64().unwrap()
}

/// The county's mirror at the city, as the city's `/metrics` reports it (None: down).
async fn mirrored(client: &reqwest::Client, city: &NodeFiles) -> Option<u64> {
    let text = metrics(client, city).await?;
    Some(sample(
        &text,
        "credx_log_entries",
        &[&format!("origin=\"{COUNTY}\""), "role=\"mirror\""],
    ))
}

async fn wait_mirrored(
    client: &reqwest::Client,
    city: &NodeFiles,
    size: u64,
    process: &NodeProcess,
) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if mirrored(client, city).await == Some(size) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "the city did not reach {size} county entries (has {:?}):\n{}",
            mirrored(client, city).await,
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A licence record of the county's synthetic authority, in the standard field codes.
fn licence(n: u64) -> serde_json::Value {
    let authority = synthetic_uscc("11", COUNTY_DIVISION, 52).unwrap();
    let subject = synthetic_uscc("91", COUNTY_DIVISION, n).unwrap();
    serde_json::json!({
        "XK_XDR_MC": format!("示例建材有限公司{COUNTY_DIVISION}-{n}"),
        "XK_XDR_LB": "法人及非法人组织",
        "XK_XDR_SHXYM": subject,
        "XK_FRDB": "张示例",
        "XK_XKWS": "准予行政许可决定书",
        "XK_WSH": format!("示许字〔2026〕第{n}号"),
        "XK_XKLB": "普通",
        "XK_XKZS": "示例经营许可证",
        "XK_XKBH": format!("SL{COUNTY_DIVISION}2026{n:06}"),
        "XK_NR": "准予从事建筑材料经营（示例）",
        "XK_JDRQ": "2026-03-02", "XK_YXQZ": "2026-03-02", "XK_YXQZI": "2031-03-01",
        "XK_XKJG": format!("示例审批局{COUNTY_DIVISION}"),
        "XK_XKJGDM": authority,
        "XK_ZT": "1",
        "XK_LYDW": format!("示例审批局{COUNTY_DIVISION}"),
        "XK_LYDWDM": authority,
        "BZ": ""
    })
}

/// Submits records `from..to` to the county through the department API.
async fn submit(client: &reqwest::Client, county: &NodeFiles, token: &str, from: u64, to: u64) {
    let records: Vec<serde_json::Value> = (from..to).map(licence).collect();
    let response = client
        .post(county.url("/v1/records"))
        .bearer_auth(token)
        .json(&records)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let body: serde_json::Value = response.json().await.unwrap();
    assert!(status.is_success(), "{status}: {body}");
    assert_eq!(body["accepted"].as_u64(), Some(to - from), "{body}");
}

/// Federation on disk, the county's department token, and the configs of both nodes.
struct Setup {
    _dir: tempfile::TempDir,
    city: NodeFiles,
    county: NodeFiles,
    token: String,
    /// The county's department token file.
    tokens_file: PathBuf,
}

fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let fed = TestFederation::three_level().unwrap();
    fed.save(&dir.path().join("federation"), Overwrite::Refuse)
        .unwrap();
    let tokens = TokenStore::new();
    let authority = synthetic_uscc("11", COUNTY_DIVISION, 52).unwrap();
    let (token, _) = tokens
        .issue(
            "示例审批局440106",
            [authority],
            [View::Public, View::Shared],
        )
        .unwrap();
    let tokens_file = dir.path().join("county-tokens.json");
    tokens.save(&tokens_file).unwrap();
    // The city's parent (the province) is not running: its upstream loop backs off, which
    // must not disturb anything else.
    let province_addr: SocketAddr = format!("127.0.0.1:{}", free_udp_port()).parse().unwrap();
    let city = write_config(
        dir.path(),
        CITY,
        true,
        Some(("440000.credx", province_addr)),
        None,
    );
    // The city logs JSON, the county text (the example's default).
    let city_config = std::fs::read_to_string(&city.config).unwrap();
    let json = city_config.replace("format = \"text\"", "format = \"json\"");
    assert_ne!(json, city_config);
    std::fs::write(&city.config, json).unwrap();
    let county = write_config(
        dir.path(),
        COUNTY,
        false,
        Some((CITY, city.quic.unwrap())),
        Some(&tokens_file),
    );
    Setup {
        _dir: dir,
        city,
        county,
        token,
        tokens_file,
    }
}

fn check_config(path: &Path) -> (i32, String) {
    let output = Command::new(BIN)
        .arg("check-config")
        .arg(path)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn the_documented_example_is_a_valid_config() {
    let config = Config::load(&example_path()).unwrap();
    assert_eq!(config.origin, COUNTY);
    assert_eq!(config.parent.as_ref().unwrap().origin, CITY);
    assert!(config.listen_quic.is_none());
    assert!(config.anchor.every_entries.is_some() && config.anchor.every.is_some());
    assert!(!config.signing_dir.starts_with(config.database_dir()));
}

#[test]
fn a_bad_config_names_the_offending_key() {
    let setup = setup();
    let good = std::fs::read_to_string(&setup.county.config).unwrap();
    let (code, stderr) = check_config(&setup.county.config);
    assert_eq!(code, 0, "{stderr}");

    let cases: [(&str, String, &str); 6] = [
        (
            "unknown key",
            good.replace("listen_http", "listen_htp"),
            "listen_htp",
        ),
        (
            "out of range",
            good.replace("interval_ms = 50", "interval_ms = 0"),
            "sync.interval_ms",
        ),
        (
            "bad address",
            good.replace(&setup.county.http.to_string(), "localhost"),
            "listen_http",
        ),
        (
            "wrong parent",
            good.replace("origin = \"440100.credx\"", "origin = \"440000.credx\""),
            "parent.origin",
        ),
        (
            "bad log format",
            good.replace("format = \"text\"", "format = \"xml\""),
            "format",
        ),
        (
            "credentials of another node",
            good.replace("nodes/440106.credx", "nodes/440100.credx"),
            "credentials_dir",
        ),
    ];
    for (what, text, key) in cases {
        assert_ne!(text, good, "{what}: the replacement did not apply");
        let path = setup.county.dir.join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let (code, stderr) = check_config(&path);
        assert_eq!(code, 2, "{what}: {stderr}");
        assert!(stderr.contains(key), "{what}: {key} not named in: {stderr}");
        // Starting the node refuses the same way, before touching anything.
        let output = Command::new(BIN)
            .arg("--config")
            .arg(&path)
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{what}");
        assert!(
            String::from_utf8_lossy(&output.stderr).contains(key),
            "{what}"
        );
    }
}

/// The status the county's API answers a one-record submission with `token`.
async fn submission_status(
    client: &reqwest::Client,
    county: &NodeFiles,
    token: &str,
    n: u64,
) -> reqwest::StatusCode {
    client
        .post(county.url("/v1/records"))
        .bearer_auth(token)
        .json(&[licence(n)])
        .send()
        .await
        .unwrap()
        .status()
}

fn sighup(process: &NodeProcess) {
    let status = Command::new("kill")
        .args(["-HUP", &process.pid().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

/// Waits until the node's log holds `text` `times` times.
async fn wait_logged(process: &NodeProcess, text: &str, times: usize) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while process.log_text().matches(text).count() < times {
        assert!(
            Instant::now() < deadline,
            "no {text:?} logged:\n{}",
            process.log_text()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_the_department_tokens_and_a_bad_file_changes_nothing() {
    let setup = setup();
    let client = reqwest::Client::new();
    let county = &setup.county;
    let process = NodeProcess::spawn(county, 0);
    wait_healthy(&client, county, &process).await;
    assert!(submission_status(&client, county, &setup.token, 0)
        .await
        .is_success());

    // The operator revokes the token and issues another, as `credx token` does.
    let tokens = TokenStore::load(&setup.tokens_file).unwrap();
    let old_id = tokens.entries().unwrap()[0].id.clone();
    assert!(tokens.revoke(&old_id).unwrap());
    let authority = synthetic_uscc("11", COUNTY_DIVISION, 52).unwrap();
    let (new_token, _) = tokens
        .issue("示例审批局440106", [authority], [View::Public])
        .unwrap();
    tokens.save(&setup.tokens_file).unwrap();
    // Until the reload the node still goes by the tokens it loaded at start.
    assert_eq!(
        submission_status(&client, county, &new_token, 1).await,
        reqwest::StatusCode::UNAUTHORIZED
    );
    sighup(&process);
    wait_logged(&process, "department tokens reloaded", 1).await;
    assert_eq!(
        submission_status(&client, county, &setup.token, 2).await,
        reqwest::StatusCode::UNAUTHORIZED,
        "the revoked token stops working without a restart"
    );
    assert!(submission_status(&client, county, &new_token, 3)
        .await
        .is_success());

    // A broken file is refused as a whole: the tokens in force stay in force.
    std::fs::write(&setup.tokens_file, b"{ not json").unwrap();
    sighup(&process);
    wait_logged(&process, "department tokens NOT reloaded", 1).await;
    assert!(submission_status(&client, county, &new_token, 4)
        .await
        .is_success());
    assert!(process.sigterm().success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn county_entries_reach_the_city_and_survive_a_city_crash() {
    let setup = setup();
    let client = reqwest::Client::new();
    let (city, county) = (&setup.city, &setup.county);

    let started = Instant::now();
    let phase = |what: &str| eprintln!("[{:>6} ms] {what}", started.elapsed().as_millis());

    // (b) Entries submitted at the county reach the city.
    let city_process = NodeProcess::spawn(city, 0);
    let county_process = NodeProcess::spawn(county, 0);
    wait_healthy(&client, city, &city_process).await;
    wait_healthy(&client, county, &county_process).await;
    submit(&client, county, &setup.token, 0, 500).await;
    submit(&client, county, &setup.token, 500, 1_000).await;
    let size = own_log_size(&client, county).await;
    assert!(size >= 1_000, "anchors may add entries: {size}");
    wait_mirrored(&client, city, size, &city_process).await;
    phase("1,000 county records submitted and mirrored at the city");
    // The counter is bumped just after the write that the size gauge reads.
    let received = format!("origin=\"{COUNTY}\"");
    let deadline = Instant::now() + Duration::from_secs(5);
    let text = loop {
        let text = metrics(&client, city).await.unwrap();
        let count = sample(&text, "credx_sync_entries_received", &[&received]);
        if count == size || Instant::now() > deadline {
            assert_eq!(count, size, "{text}");
            break text;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert!(text.contains("credx_build_info{"), "{text}");

    // (c) SIGKILL the city while the county keeps ingesting and syncing; the county goes
    // on accepting records (degrade, don't stop); the restarted city converges.
    let mut next = 1_000;
    let mut killed_at = None;
    let mut city_process = Some(city_process);
    for round in 0..12 {
        submit(&client, county, &setup.token, next, next + 1_000).await;
        next += 1_000;
        if round == 3 {
            killed_at = mirrored(&client, city).await;
            city_process.take().unwrap().sigkill();
        }
    }
    let size = own_log_size(&client, county).await;
    assert!(size >= next, "{size}");
    phase("12,000 more records submitted, city killed after 4,000");
    let restarted = NodeProcess::spawn(city, 1);
    wait_healthy(&client, city, &restarted).await;
    phase("city restarted");
    wait_mirrored(&client, city, size, &restarted).await;
    phase("city converged");
    // Indexing follows the mirror (it yields to receive sessions) and catches up once the
    // county has nothing more to send; its backlog is on `/metrics`.
    let backlog_line = format!("credx_mirror_index_backlog_entries{{origin=\"{COUNTY}\"}}");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = metrics(&client, city).await.unwrap_or_default();
        let shown = text.lines().find(|l| l.starts_with(&backlog_line));
        if shown.is_some_and(|l| l.ends_with(" 0")) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the city's index of the county never caught up: {shown:?}\n{}",
            restarted.log_text()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    phase("city indexed the whole mirror");
    for line in restarted.log_text().lines() {
        let object: serde_json::Value = serde_json::from_str(line)
            .unwrap_or_else(|e| panic!("not a JSON log line ({e}): {line}"));
        assert!(
            object["level"].is_string() && object["timestamp"].is_string(),
            "{line}"
        );
    }
    eprintln!("city killed with {killed_at:?} county entries mirrored; converged at {size}");
    let text = metrics(&client, city).await.unwrap();
    assert_eq!(
        sample(&text, "credx_sync_entries_resent_verified", &[]),
        0,
        "{text}"
    );
    let county_text = metrics(&client, county).await.unwrap();
    assert!(
        sample(&county_text, "credx_upstream_last_success_unix_ms", &[]) > 0,
        "{county_text}"
    );

    // (d) SIGTERM stops both cleanly.
    let status = county_process.sigterm();
    assert_eq!(status.code(), Some(0));
    phase("county stopped by SIGTERM");
    let status = restarted.sigterm();
    assert_eq!(status.code(), Some(0));
    phase("city stopped by SIGTERM");

    // Both stores, reopened after the clean stop: the city's mirror is the county's log,
    // root for root, and the city keeps the county's signed checkpoint of that size.
    let open = |node: &NodeFiles| {
        RocksStorage::open(node.dir.join("data/db"), &StorageOptions::default()).unwrap()
    };
    let (county_store, city_store) = (open(county), open(city));
    assert_eq!(city_store.log_size(COUNTY).unwrap(), size);
    assert_eq!(
        city_store.root_at(COUNTY, size).unwrap(),
        county_store.root_at(COUNTY, size).unwrap()
    );
    let checkpoint = city_store
        .latest_signed_checkpoint(COUNTY)
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.checkpoint().size, size);
}

fn admin(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(BIN).args(args).output().unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn clear_fork(config: &str, origin: &str, note: &str) -> (i32, String, String) {
    admin(&[
        "clear-fork",
        "--config",
        config,
        "--origin",
        origin,
        "--note",
        note,
    ])
}

fn acknowledge_restore(config: &str, note: &str) -> (i32, String, String) {
    admin(&["acknowledge-restore", "--config", config, "--note", note])
}

/// The action exited 1 with `reason` on stderr.
fn assert_refused((code, _, err): (i32, String, String), reason: &str) {
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(reason), "{err}");
}

fn signed_checkpoint(config: &Config, size: u64, root_byte: u8) -> SignedCheckpoint {
    let credentials = NodeCredentials::load(&config.credentials_dir).unwrap();
    SignedCheckpoint::sign(
        Checkpoint::new(config.origin.clone(), size, Hash([root_byte; 32])),
        credentials.checkpoint_signer(),
    )
    .unwrap()
}

#[test]
fn an_operator_lists_and_clears_fork_evidence_with_a_note() {
    let setup = setup();
    let config = Config::load(&setup.county.config).unwrap();
    let county_config = setup.county.config.to_str().unwrap();
    {
        std::fs::create_dir_all(&config.data_dir).unwrap();
        let store = RocksStorage::open(config.database_dir(), &StorageOptions::default()).unwrap();
        store.register_log(CITY, LogRole::Mirror).unwrap();
        store
            .record_fork(
                CITY,
                ForkEvidence {
                    first: signed_checkpoint(&config, 3, 1).to_bytes(),
                    second: signed_checkpoint(&config, 3, 2).to_bytes(),
                    peer: CITY.to_owned(),
                    observed_at_ms: 1_764_480_000_000,
                },
            )
            .unwrap();
    }
    let (code, out, _) = admin(&["forks", "--config", county_config]);
    assert_eq!(code, 0);
    assert!(
        out.contains("FROZEN") && out.contains("size 3 root"),
        "{out}"
    );

    // A note is required, and a log without evidence has nothing to clear.
    assert_refused(
        clear_fork(county_config, CITY, " "),
        "operator note is required",
    );
    assert_refused(clear_fork(county_config, COUNTY, "x"), "nothing to clear");

    let (code, out, err) = clear_fork(county_config, CITY, "ticket 1234");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("1 fork record(s) cleared"), "{out}");
    let (_, out, _) = admin(&["forks", "--config", county_config]);
    assert!(out.contains("cleared: ticket 1234"), "{out}");
    let store = RocksStorage::open(config.database_dir(), &StorageOptions::default()).unwrap();
    assert!(!store.is_frozen(CITY).unwrap());
    assert_eq!(store.forks(CITY).unwrap().len(), 1, "the evidence is kept");
}

#[test]
fn an_operator_acknowledges_a_restored_store_and_the_refused_checkpoint_is_kept() {
    let setup = setup();
    let config = Config::load(&setup.county.config).unwrap();
    let county_config = setup.county.config.to_str().unwrap();
    // The signing file says checkpoint size 5 was signed; the (restored) store is empty.
    std::fs::create_dir_all(&config.signing_dir).unwrap();
    let file = checkpoint_file(&config.signing_dir, &config.origin);
    std::fs::write(&file, signed_checkpoint(&config, 5, 7).to_bytes()).unwrap();

    assert_refused(
        acknowledge_restore(county_config, ""),
        "operator note is required",
    );
    let (code, out, err) = acknowledge_restore(county_config, "backup of 11-29, ticket 99");
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("restore acknowledged"), "{out}");
    assert!(!file.exists(), "the refused checkpoint file is moved aside");
    let kept: Vec<String> = std::fs::read_dir(&config.signing_dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(kept.iter().any(|n| n.contains("refused")), "{kept:?}");
    // Nothing left to acknowledge.
    assert_refused(acknowledge_restore(county_config, "again"), "not refusing");
}

#[test]
fn an_anchor_trigger_left_out_of_the_anchor_table_is_switched_off() {
    let text = std::fs::read_to_string(example_path()).unwrap();
    let table = "[anchor]\nevery_entries = 10000\nevery_ms = 10000\n";
    assert!(text.contains(table), "the example's [anchor] table changed");
    let path = example_path();

    let only_time =
        Config::parse(&text.replace(table, "[anchor]\nevery_ms = 5000\n"), &path).unwrap();
    assert_eq!(only_time.anchor.every_entries, None);
    assert_eq!(only_time.anchor.every, Some(Duration::from_millis(5_000)));

    let defaults = Config::parse(&text.replace(table, ""), &path).unwrap();
    assert_eq!(defaults.anchor.every_entries, Some(10_000));
    assert_eq!(defaults.anchor.every, Some(Duration::from_millis(10_000)));

    let error = Config::parse(&text.replace(table, "[anchor]\n"), &path)
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("anchor") && error.contains("neither"),
        "{error}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_checkpoint_starts_an_upload_at_once_not_at_the_next_interval() {
    let setup = setup();
    let client = reqwest::Client::new();
    let (city, county) = (&setup.city, &setup.county);
    // An idle county polls its parent only every 10 minutes: what arrives must go up
    // because the sequencer signed it, not because a poll came round.
    let text = std::fs::read_to_string(&county.config).unwrap();
    let slow = text
        .replace("interval_ms = 50", "interval_ms = 600000")
        .replace("backoff_max_ms = 500", "backoff_max_ms = 600000");
    assert_ne!(slow, text);
    std::fs::write(&county.config, slow).unwrap();

    let city_process = NodeProcess::spawn(city, 0);
    let county_process = NodeProcess::spawn(county, 0);
    wait_healthy(&client, city, &city_process).await;
    wait_healthy(&client, county, &county_process).await;
    // The first session (at start) has ended: the loop now waits.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = metrics(&client, county).await.unwrap_or_default();
        if sample(&text, "credx_sync_sessions_total", &["role=\"upload\""]) >= 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no upload session ended:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for round in 0..3 {
        submit(&client, county, &setup.token, round * 10, round * 10 + 10).await;
        let size = own_log_size(&client, county).await;
        // wait_mirrored gives up after 60 s, far below the 600 s interval.
        wait_mirrored(&client, city, size, &county_process).await;
    }
    county_process.sigterm();
    city_process.sigterm();
}
