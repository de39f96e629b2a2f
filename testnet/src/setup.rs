//! Everything `up` writes before starting a process: the federation's credentials and
//! signed roster, each node's department token and config, and the manifest.
//!
//! Node configs follow `docs/examples/node.toml` with the testnet's paths and ports and a
//! shorter sync interval (100 ms instead of 250 ms) and peer timeout, so a record crosses
//! the four levels quickly and a stopped node is noticed within seconds.
//!
//! With relays, every child's `parent.address` is its edge's relay port, not the parent's
//! QUIC port: the relay forwards datagrams only, so TLS still runs between child and parent
//! and the parent's identity is verified end to end.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::path::{Path, PathBuf};

use credx_node::api::{TokenStore, View};
use credx_node::federation::{Overwrite, TestFederation};
use credx_node::synthetic::synthetic_uscc;

use crate::error::TestnetError;
use crate::manifest::{EdgeEntry, Manifest, NodeEntry, RelaySet};
use crate::topology::{NodePlan, Topology};

/// Serial, in the reserved synthetic range, of each division's licensing authority
/// (审批局) and of its market regulator (监管局), which decides penalties.
pub const LICENSING_SERIAL: u64 = 52;
pub const REGULATOR_SERIAL: u64 = 132;

/// File names of the relay's control socket and log in the testnet directory.
pub const RELAY_SOCKET: &str = "relay.sock";
pub const RELAY_LOG: &str = "relay.log";

/// Writes a new testnet of `topology` into `dir` (which must not hold one) and returns
/// its manifest, with no process started yet. With `relays`, every edge goes through a
/// fault-injecting relay (see [`crate::relay`]).
pub fn generate(
    dir: &Path,
    topology: Topology,
    node_bin: &Path,
    relays: bool,
) -> Result<Manifest, TestnetError> {
    std::fs::create_dir_all(dir).map_err(TestnetError::io(dir))?;
    let dir = dir.canonicalize().map_err(TestnetError::io(dir))?;
    let plans = topology.nodes();
    let specs = plans
        .iter()
        .map(NodePlan::spec)
        .collect::<Result<Vec<_>, _>>()?;
    let federation = TestFederation::build(&specs)?;
    federation.save(&dir.join("federation"), Overwrite::Refuse)?;
    let tokens_dir = dir.join("tokens");
    std::fs::create_dir_all(&tokens_dir).map_err(TestnetError::io(&tokens_dir))?;

    let ports = Ports::reserve(&plans, relays)?;
    let mut nodes = Vec::with_capacity(plans.len());
    let mut edges = Vec::new();
    for (plan, (http, quic, relay)) in plans.iter().zip(ports.addresses) {
        let node_dir = dir.join("nodes").join(&plan.origin);
        std::fs::create_dir_all(&node_dir).map_err(TestnetError::io(&node_dir))?;
        let authorities = authorities(plan)?;
        let token_file = tokens_dir.join(format!("{}.token", plan.origin));
        issue_token(
            plan,
            &authorities,
            &node_dir.join("tokens.json"),
            &token_file,
        )?;
        let parent_quic = plan.parent.as_ref().and_then(|parent| {
            nodes
                .iter()
                .find(|n: &&NodeEntry| &n.origin == parent)
                .and_then(|n| n.quic)
        });
        let dial = match (relay, &plan.parent, parent_quic) {
            (Some(listen), Some(parent), Some(upstream)) => {
                edges.push(EdgeEntry {
                    child: plan.origin.clone(),
                    parent: parent.clone(),
                    listen,
                    upstream,
                });
                Some(listen)
            }
            _ => parent_quic,
        };
        let config = node_dir.join("node.toml");
        write_config(plan, &config, http, quic, dial)?;
        nodes.push(NodeEntry {
            origin: plan.origin.clone(),
            name: plan.name.to_owned(),
            level: plan.level.as_str().to_owned(),
            parent: plan.parent.clone(),
            division: plan.division.map(str::to_owned),
            log: node_dir.join("node.log"),
            dir: node_dir,
            config,
            http,
            quic,
            token_file,
            authorities,
            pid: None,
        });
    }
    Ok(Manifest {
        topology: topology.name().to_owned(),
        created_unix_ms: crate::process::unix_ms(),
        node_bin: node_bin.to_owned(),
        nodes,
        relays: relays.then(|| RelaySet {
            control: dir.join(RELAY_SOCKET),
            log: dir.join(RELAY_LOG),
            pid: None,
            edges,
        }),
    })
}

/// The authorities a node's department token covers: the division's licensing authority
/// and market regulator. The national node's token only reads.
fn authorities(plan: &NodePlan) -> Result<Vec<String>, TestnetError> {
    let Some(division) = plan.division else {
        return Ok(Vec::new());
    };
    [LICENSING_SERIAL, REGULATOR_SERIAL]
        .into_iter()
        .map(|serial| {
            synthetic_uscc("11", division, serial).ok_or_else(|| TestnetError::Records {
                division: division.to_owned(),
                reason: "no synthetic authority code".to_owned(),
            })
        })
        .collect()
}

/// Issues the node's department token: the hashed store the node reads, and the secret
/// in `token_file` (owner-only) for `load`.
fn issue_token(
    plan: &NodePlan,
    authorities: &[String],
    store_file: &Path,
    token_file: &Path,
) -> Result<(), TestnetError> {
    let tokens_error = |source| TestnetError::Tokens {
        origin: plan.origin.clone(),
        source,
    };
    let store = TokenStore::new();
    let department = format!("{}政务服务数据管理局（示例）", plan.name);
    let (token, _) = store
        .issue(&department, authorities, [View::Public, View::Shared])
        .map_err(tokens_error)?;
    store.save(store_file).map_err(tokens_error)?;
    write_secret(token_file, token.as_bytes())
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), TestnetError> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(TestnetError::io(path))?;
    file.write_all(bytes).map_err(TestnetError::io(path))
}

fn write_config(
    plan: &NodePlan,
    path: &Path,
    http: SocketAddr,
    quic: Option<SocketAddr>,
    parent_quic: Option<SocketAddr>,
) -> Result<(), TestnetError> {
    use toml::{Table, Value};
    let text = |s: &str| Value::String(s.to_owned());
    let int = |n: i64| Value::Integer(n);
    let credentials: PathBuf = ["..", "..", "federation", "nodes", &plan.origin]
        .iter()
        .collect();
    let roster: PathBuf = ["..", "..", "federation", "roster.note"].iter().collect();
    let mut table = Table::new();
    table.insert("origin".into(), text(&plan.origin));
    table.insert("data_dir".into(), text("data"));
    table.insert(
        "credentials_dir".into(),
        text(&credentials.display().to_string()),
    );
    table.insert("roster_file".into(), text(&roster.display().to_string()));
    table.insert("tokens_file".into(), text("tokens.json"));
    if let Some(quic) = quic {
        table.insert("listen_quic".into(), text(&quic.to_string()));
    }
    table.insert("listen_http".into(), text(&http.to_string()));
    if let (Some(parent), Some(address)) = (&plan.parent, parent_quic) {
        let mut p = Table::new();
        p.insert("origin".into(), text(parent));
        p.insert("address".into(), text(&address.to_string()));
        table.insert("parent".into(), Value::Table(p));
    }
    let mut sync = Table::new();
    sync.insert("interval_ms".into(), int(100));
    sync.insert("backoff_max_ms".into(), int(2_000));
    sync.insert("peer_timeout_ms".into(), int(5_000));
    table.insert("sync".into(), Value::Table(sync));
    let mut log = Table::new();
    log.insert("format".into(), text("text"));
    log.insert("level".into(), text("info"));
    table.insert("log".into(), Value::Table(log));
    let body = toml::to_string(&table).map_err(|e| TestnetError::Config {
        origin: plan.origin.clone(),
        message: e.to_string(),
    })?;
    let header = format!(
        "# credx-testnet: {} {} ({}). Keys as documented in docs/examples/node.toml.\n",
        plan.level.as_str(),
        plan.name,
        plan.origin
    );
    std::fs::write(path, header + &body).map_err(TestnetError::io(path))
}

/// Free loopback ports for every node: HTTP (TCP) for all, QUIC (UDP) for nodes with
/// children, and with relays a UDP port for the relay of each node's upstream edge. The
/// sockets are held until all are chosen, so no two get the same.
struct Ports {
    /// (HTTP, QUIC, relay of the upstream edge) per node.
    addresses: Vec<(SocketAddr, Option<SocketAddr>, Option<SocketAddr>)>,
}

impl Ports {
    fn reserve(plans: &[NodePlan], relays: bool) -> Result<Ports, TestnetError> {
        let mut held_tcp = Vec::new();
        let mut held_udp = Vec::new();
        let mut addresses = Vec::new();
        for plan in plans {
            let has_children = plans
                .iter()
                .any(|p| p.parent.as_ref() == Some(&plan.origin));
            let tcp = TcpListener::bind("127.0.0.1:0").map_err(port_error("TCP"))?;
            let http = tcp.local_addr().map_err(port_error("TCP"))?;
            held_tcp.push(tcp);
            let mut udp_port = || -> Result<SocketAddr, TestnetError> {
                let udp = UdpSocket::bind("127.0.0.1:0").map_err(port_error("UDP"))?;
                let addr = udp.local_addr().map_err(port_error("UDP"))?;
                held_udp.push(udp);
                Ok(addr)
            };
            let quic = has_children.then(&mut udp_port).transpose()?;
            let relay = (relays && plan.parent.is_some())
                .then(&mut udp_port)
                .transpose()?;
            addresses.push((http, quic, relay));
        }
        Ok(Ports { addresses })
    }
}

fn port_error(protocol: &'static str) -> impl Fn(std::io::Error) -> TestnetError {
    move |source| TestnetError::Port { protocol, source }
}
