//! `testnet.json`: what `up` started, read by `load`, `report` and `down`.
//!
//! ```text
//! D/testnet.json            this manifest
//! D/federation/             trust root, nodes/<origin>/ credentials, roster.note
//! D/nodes/<origin>/         node.toml, tokens.json (hashed), data/, node.log
//! D/tokens/<origin>.token   the department token of the node (the secret; mode 0600)
//! D/relay.sock, relay.log   the fault-injecting relay's control socket and log (with relays)
//! D/chaos.jsonl             every fault set or node killed/restarted, one JSON line each
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TestnetError;

/// File name of the manifest in the testnet directory.
pub const MANIFEST_FILE: &str = "testnet.json";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// `default` or `small`.
    pub topology: String,
    pub created_unix_ms: u64,
    /// The `credx-node` binary the nodes run.
    pub node_bin: PathBuf,
    /// Parents before children.
    pub nodes: Vec<NodeEntry>,
    /// The fault-injecting relays between children and parents; `None` when the testnet
    /// was generated without them (children then dial their parent directly).
    #[serde(default)]
    pub relays: Option<RelaySet>,
}

/// The relay process and its edges.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RelaySet {
    /// The relay's control socket (Unix stream, one JSON line each way).
    pub control: PathBuf,
    pub log: PathBuf,
    /// The running relay process, while up.
    pub pid: Option<u32>,
    /// One per tree edge, in node order.
    pub edges: Vec<EdgeEntry>,
}

/// One tree edge: the child's config names `listen` as its parent's address, and the relay
/// forwards datagrams between there and the parent's QUIC listener `upstream`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EdgeEntry {
    /// The edge is named by its child: every node but the national one has exactly one.
    pub child: String,
    pub parent: String,
    pub listen: SocketAddr,
    pub upstream: SocketAddr,
}

/// One node of the testnet.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NodeEntry {
    pub origin: String,
    /// Chinese name of the division.
    pub name: String,
    /// `national`, `province`, `city` or `county`.
    pub level: String,
    pub parent: Option<String>,
    pub division: Option<String>,
    /// The node's directory (config, data, log).
    pub dir: PathBuf,
    pub config: PathBuf,
    pub log: PathBuf,
    /// The department API, `/metrics` and `/healthz`.
    pub http: SocketAddr,
    /// Where children connect (nodes with children only).
    pub quic: Option<SocketAddr>,
    /// The file holding the node's department token.
    pub token_file: PathBuf,
    /// The authority codes (USCC) the token may submit for: licences, then penalties.
    pub authorities: Vec<String>,
    /// The running process, while up.
    pub pid: Option<u32>,
}

impl NodeEntry {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.http)
    }

    pub fn is_county(&self) -> bool {
        self.level == "county"
    }

    /// The department token (the secret).
    pub fn token(&self) -> Result<String, TestnetError> {
        std::fs::read_to_string(&self.token_file)
            .map(|t| t.trim().to_owned())
            .map_err(TestnetError::io(&self.token_file))
    }
}

impl Manifest {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(MANIFEST_FILE)
    }

    pub fn exists(dir: &Path) -> bool {
        Manifest::path(dir).exists()
    }

    pub fn load(dir: &Path) -> Result<Manifest, TestnetError> {
        let path = Manifest::path(dir);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(TestnetError::NoTestnet {
                    dir: dir.to_owned(),
                })
            }
            Err(source) => return Err(TestnetError::Io { path, source }),
        };
        serde_json::from_slice(&bytes).map_err(|e| TestnetError::Manifest {
            path,
            message: e.to_string(),
        })
    }

    /// Writes the manifest through a temporary file, so a reader never sees half of it.
    pub fn save(&self, dir: &Path) -> Result<(), TestnetError> {
        let path = Manifest::path(dir);
        let json = serde_json::to_vec_pretty(self).map_err(|e| TestnetError::Manifest {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let tmp = path.with_extension("json.tmp");
        std::fs::write(&tmp, json).map_err(TestnetError::io(&tmp))?;
        std::fs::rename(&tmp, &path).map_err(TestnetError::io(&path))
    }

    pub fn node(&self, origin: &str) -> Option<&NodeEntry> {
        self.nodes.iter().find(|n| n.origin == origin)
    }

    /// The ancestors of `origin`, nearest first.
    pub fn ancestors(&self, origin: &str) -> Vec<&NodeEntry> {
        let mut out = Vec::new();
        let mut current = self.node(origin).and_then(|n| n.parent.as_deref());
        while let Some(parent) = current {
            match self.node(parent) {
                // A malformed manifest with a cycle must not loop forever.
                Some(node) if out.len() < self.nodes.len() => {
                    out.push(node);
                    current = node.parent.as_deref();
                }
                _ => break,
            }
        }
        out
    }

    pub fn counties(&self) -> impl Iterator<Item = &NodeEntry> {
        self.nodes.iter().filter(|n| n.is_county())
    }

    /// The node named by `name`: its origin, or its division code alone (`440100` for
    /// `440100.credx`).
    pub fn find(&self, name: &str) -> Option<&NodeEntry> {
        self.node(name)
            .or_else(|| self.node(&crate::topology::origin_of(name)))
    }

    /// Whether `origin` lies below `ancestor` (not itself).
    pub fn is_below(&self, origin: &str, ancestor: &str) -> bool {
        self.ancestors(origin).iter().any(|a| a.origin == ancestor)
    }
}
