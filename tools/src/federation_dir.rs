//! The federation directory `credx init` creates and `credx node add` extends: the trust
//! root, the node list, the current signed roster, and one ready-to-copy directory per node.
//!
//! ```text
//! DIR/root.key root.vkey ca.key ca.crt   trust root (decision 0010; keep root.key, ca.key offline)
//! DIR/nodes.toml                         the node list `credx roster sign --nodes` reads
//! DIR/roster.note                        the newest signed roster (version + 1 per node added)
//! DIR/nodes/<origin>/credentials/        the node's keys and certificate (`credx node issue`)
//! DIR/nodes/<origin>/node.toml           its credx-node config (passes `credx-node check-config`)
//! DIR/nodes/<origin>/roster.note         the roster its config starts from
//! DIR/nodes/<origin>/tokens.json         its department tokens (hashed; `credx token issue`)
//! ```
//!
//! A node's directory holds everything that node needs, so it is copied to the node's
//! machine as a whole; paths in `node.toml` are relative to it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use credx_node::api::TokenStore;
use credx_node::config::Config;
use credx_node::federation::{
    format_unix, unix_now, NodeCredentials, Overwrite, RosterFile, TrustRoot,
};
use credx_node::transport::Validity;

use crate::failure::Failure;
use crate::node_list::{node_entry, nodes_file_table, read_nodes_file, NodeEntry};
use crate::roster_cmd::sign_entries;

pub const NODES_FILE: &str = "nodes.toml";
pub const ROSTER_FILE: &str = "roster.note";
pub const NODES_DIR: &str = "nodes";
pub const CONFIG_FILE: &str = "node.toml";
pub const CREDENTIALS_DIR: &str = "credentials";
pub const TOKENS_FILE: &str = "tokens.json";

/// What to add: a node's place in the tree and how it is reached.
#[derive(Debug, Clone)]
pub struct NewNode {
    pub origin: String,
    pub level: String,
    pub parent: Option<String>,
    pub jurisdiction: Vec<String>,
    pub listen_http: SocketAddr,
    pub listen_quic: Option<SocketAddr>,
    /// The parent's QUIC address as this node dials it.
    pub parent_address: Option<String>,
    pub validity_days: u32,
    pub roster_days: u64,
}

/// What adding a node produced.
#[derive(Debug)]
pub struct Added {
    pub node_dir: PathBuf,
    pub config: PathBuf,
    pub roster_version: u64,
    pub roster_expires_at: u64,
    pub check: String,
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::Io(format!("{}: {e}", path.display()))
}

/// The directory of node `origin`.
pub fn node_dir(dir: &Path, origin: &str) -> PathBuf {
    dir.join(NODES_DIR).join(origin)
}

/// Issues the node's credentials, signs the next roster listing it, writes its config and
/// refreshes the roster copy of every node directory. On a refused roster nothing stays.
pub fn add_node(dir: &Path, root: &TrustRoot, node: &NewNode) -> Result<Added, Failure> {
    let nodes_file = dir.join(NODES_FILE);
    let mut entries: Vec<NodeEntry> = if nodes_file.exists() {
        read_nodes_file(&nodes_file)?
    } else {
        Vec::new()
    };
    if entries.iter().any(|e| e.origin == node.origin) {
        return Err(Failure::refused(format!(
            "{} is already in {}; pick another origin, or remove it there first",
            node.origin,
            nodes_file.display()
        )));
    }
    let node_dir = node_dir(dir, &node.origin);
    if node_dir.exists() {
        return Err(Failure::refused(format!(
            "{} exists; remove it or pick another origin (credx never overwrites a node's keys)",
            node_dir.display()
        )));
    }
    let parent_address = match &node.parent {
        Some(parent) => Some(parent_address(dir, parent, node.parent_address.as_deref())?),
        None => None,
    };
    let relative_credentials = format!("{NODES_DIR}/{}/{CREDENTIALS_DIR}", node.origin);
    let new_entry = node_entry(
        &node.origin,
        &node.level,
        node.parent.as_deref(),
        &node.jurisdiction,
        dir.join(&relative_credentials),
        format!("node {}", node.origin),
    )?;

    let lifetime = Duration::from_secs(u64::from(node.validity_days) * 24 * 3600);
    let credentials = NodeCredentials::issue(root, &node.origin, Validity::from_now(lifetime))?;
    let credentials_dir = node_dir.join(CREDENTIALS_DIR);
    credentials.save(&credentials_dir, Overwrite::Refuse)?;
    entries.push(new_entry);

    let roster_path = dir.join(ROSTER_FILE);
    let version = if roster_path.exists() {
        RosterFile::new(&roster_path)
            .load_verified_with_vkey_file(&dir.join(TrustRoot::VKEY_FILE), unix_now())?
            .version()
            + 1
    } else {
        1
    };
    let (signed, expires_at) = match sign_entries(root, dir, &entries, version, node.roster_days) {
        Ok(signed) => signed,
        Err(refused) => {
            // The node was never listed: its fresh keys are of no use to anyone.
            let _ = std::fs::remove_dir_all(&node_dir);
            return Err(refused);
        }
    };

    let mut list = std::fs::read_to_string(&nodes_file).unwrap_or_else(|_| {
        "# The nodes of this federation, as `credx roster sign --nodes` reads them; paths are\n\
         # relative to this file. `credx node add` appends to it.\n"
            .to_owned()
    });
    list.push_str(&nodes_file_table(
        &node.origin,
        &node.level,
        node.parent.as_deref(),
        &node.jurisdiction,
        &relative_credentials,
    ));
    std::fs::write(&nodes_file, list).map_err(io(&nodes_file))?;
    RosterFile::new(&roster_path).save(&signed, Overwrite::Replace)?;
    for entry in &entries {
        let copy = crate::federation_dir::node_dir(dir, &entry.origin).join(ROSTER_FILE);
        if copy.parent().is_some_and(Path::exists) {
            RosterFile::new(&copy).save(&signed, Overwrite::Replace)?;
        }
    }

    let tokens = node_dir.join(TOKENS_FILE);
    TokenStore::new()
        .save(&tokens)
        .map_err(|e| Failure::Io(format!("{}: {e}", tokens.display())))?;
    let config = node_dir.join(CONFIG_FILE);
    std::fs::write(&config, config_text(node, parent_address.as_deref())).map_err(io(&config))?;
    let check = check_config(&config)?;
    Ok(Added {
        node_dir,
        config,
        roster_version: version,
        roster_expires_at: expires_at,
        check,
    })
}

/// Where the new node dials its parent: `--parent-address`, else the parent's own
/// `listen_quic` when it names a host.
fn parent_address(dir: &Path, parent: &str, given: Option<&str>) -> Result<String, Failure> {
    if let Some(given) = given {
        return Ok(given.to_owned());
    }
    let config = node_dir(dir, parent).join(CONFIG_FILE);
    let listen = std::fs::read_to_string(&config)
        .ok()
        .and_then(|text| text.parse::<toml::Table>().ok())
        .and_then(|t| {
            t.get("listen_quic")
                .and_then(|v| v.as_str())
                .map(str::to_owned)
        });
    match listen.as_deref().map(str::parse::<SocketAddr>) {
        Some(Ok(addr)) if !addr.ip().is_unspecified() => Ok(addr.to_string()),
        Some(Ok(addr)) => Err(Failure::refused(format!(
            "{parent} listens for children on all interfaces (listen_quic = \"{addr}\" in {}); give --parent-address HOST:{} with the address this node reaches it at",
            config.display(),
            addr.port()
        ))),
        _ => Err(Failure::refused(format!(
            "the address of {parent} is not known ({} has no listen_quic); give --parent-address HOST:PORT",
            config.display()
        ))),
    }
}

/// The node's config: the documented defaults (docs/examples/node.toml) with this node's
/// identity, paths and addresses.
fn config_text(node: &NewNode, parent_address: Option<&str>) -> String {
    let q = |s: &str| toml::Value::String(s.to_owned()).to_string();
    let mut out = format!(
        "# credx-node config of {origin} ({level}), written by `credx node add`.\n\
         # Every key is documented in docs/examples/node.toml; paths are relative to this file.\n\
         #   credx-node check-config node.toml   # validate\n\
         #   credx-node --config node.toml       # run\n\n\
         origin = {}\n\
         data_dir = \"data\"\n\
         credentials_dir = {}\n\
         roster_file = {}\n\
         # Department tokens (hashed): credx token issue --tokens {TOKENS_FILE} …\n\
         tokens_file = {}\n\
         listen_http = {}\n",
        q(&node.origin),
        q(CREDENTIALS_DIR),
        q(ROSTER_FILE),
        q(TOKENS_FILE),
        q(&node.listen_http.to_string()),
        origin = node.origin,
        level = node.level,
    );
    match node.listen_quic {
        Some(quic) => out.push_str(&format!(
            "# Children of this node connect here (UDP).\nlisten_quic = {}\n",
            q(&quic.to_string())
        )),
        None => out.push_str(
            "# No children: this node only dials out. Set listen_quic when one is added.\n",
        ),
    }
    if let (Some(parent), Some(address)) = (&node.parent, parent_address) {
        out.push_str(&format!(
            "\n[parent]\norigin = {}\naddress = {}\n",
            q(parent),
            q(address)
        ));
    }
    out.push_str("\n[log]\nformat = \"text\"\nlevel = \"info\"\n");
    out
}

/// What `credx-node check-config` checks: the config, then the credentials and roster it
/// names and that they agree.
pub fn check_config(config: &Path) -> Result<String, Failure> {
    let loaded = Config::load(config).map_err(|e| {
        Failure::refused(format!(
            "the written config does not pass check-config: {e}"
        ))
    })?;
    let identity = loaded.load_identity().map_err(|e| {
        Failure::refused(format!(
            "the written config does not pass check-config: {e}"
        ))
    })?;
    Ok(format!(
        "{}: valid (as credx-node check-config checks it): origin {}, roster v{} until {}",
        config.display(),
        loaded.origin,
        identity.roster.version(),
        format_unix(identity.roster.expires_at())
    ))
}
