//! `credx node issue`: issue one node's credentials from the trust root.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use credx_node::federation::{format_unix, NodeCredentials, Overwrite, TrustRoot};
use credx_node::transport::Validity;

use crate::failure::{finish, Failure};
use crate::federation_dir::{add_node, NewNode, ROSTER_FILE};

#[derive(Debug, Subcommand)]
pub enum NodeCommand {
    /// Issue a node's credentials: log key, cosigner key, and a TLS certificate from the
    /// federation CA naming the origin.
    ///
    /// Writes checkpoint.key, cosigner.key, tls.key (0600; they stay on the node),
    /// checkpoint.vkey, cosigner.vkey, tls.crt (what the roster lists), ca.crt and root.vkey
    /// (the node's trust anchors). Next: list the node in a nodes.toml and run
    /// `credx roster sign`.
    Issue(IssueArgs),
    /// Add a node to a federation made by `credx init`: credentials, the next signed roster
    /// listing it, and a ready node directory with its config.
    #[command(after_long_help = ADD_HELP)]
    Add(AddArgs),
}

const ADD_HELP: &str = "\
Examples:
  credx node add --federation /srv/credx-federation --origin 440000.credx \\
      --level province --parent cn.credx --parent-address 10.0.0.1:7400
  credx node add --federation /srv/credx-federation --origin 440106.credx \\
      --level county --parent 440100.credx --parent-address 10.0.2.1:7400 \\
      --listen-http 0.0.0.0:8080

Writes DIR/nodes/<origin>/: credentials/ (keys, certificate), node.toml (checked as
`credx-node check-config` checks it), roster.note and an empty tokens.json (add
department tokens with `credx token issue`). Appends the node to DIR/nodes.toml and signs
roster version N+1 into DIR/roster.note (and the roster.note of every node directory).
The jurisdiction defaults to div:<code> for an origin such as 440106.credx.

Next: copy DIR/nodes/<origin>/ to the node's machine and run `credx-node --config
node.toml`; install DIR/roster.note at the national node (it flows down the tree from
there), so the parent admits the new node.

Exit codes: 0 done; 1 a rule was broken or the roster refused (nothing kept); 2 a file
could not be read or written.";

#[derive(Debug, Args)]
pub struct AddArgs {
    /// The federation directory made by `credx init`.
    #[arg(long, value_name = "DIR")]
    pub federation: PathBuf,
    /// The node's origin, e.g. 440106.credx.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
    /// national, province, city, county or sector.
    #[arg(long, value_name = "LEVEL")]
    pub level: String,
    /// The origin of the node it syncs up to (one level up).
    #[arg(long, value_name = "ORIGIN")]
    pub parent: String,
    /// Jurisdiction items (repeat): div:<GB/T 2260 code>, sector:<name>, national.
    #[arg(long = "juris", value_name = "ITEM")]
    pub jurisdiction: Vec<String>,
    /// The node's HTTP address (department API, /metrics, health).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen_http: SocketAddr,
    /// Where it listens for children (QUIC, UDP); default 0.0.0.0:7400 for province and
    /// city nodes, none for county and sector nodes.
    #[arg(long, value_name = "ADDR")]
    pub listen_quic: Option<SocketAddr>,
    /// The parent's QUIC address as this node reaches it (default: the parent's
    /// listen_quic, when that names a host).
    #[arg(long, value_name = "HOST:PORT")]
    pub parent_address: Option<String>,
    /// Days until the new roster expires.
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub expires_in_days: u64,
    /// How long the node's TLS certificate is valid.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub validity_days: u32,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// Trust root directory made by `credx federation init`.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// The node's origin, e.g. 440106.credx: lower-case DNS name, at most 64 characters.
    #[arg(long, value_name = "ORIGIN")]
    pub origin: String,
    /// Directory for the node's credential files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How long the TLS certificate is valid.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub validity_days: u32,
    /// Replace existing credential files (the roster must then be signed again).
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: &NodeCommand) -> ExitCode {
    match command {
        NodeCommand::Issue(args) => finish("node issue", issue(args)),
        NodeCommand::Add(args) => finish("node add", add(args)),
    }
}

fn issue(args: &IssueArgs) -> Result<(), Failure> {
    let root = TrustRoot::load(&args.root)?;
    let lifetime = Duration::from_secs(u64::from(args.validity_days) * 24 * 3600);
    let validity = Validity::from_now(lifetime);
    let credentials = NodeCredentials::issue(&root, &args.origin, validity)?;
    credentials.save(&args.out, Overwrite::from_force(args.force))?;
    let public = credentials.public();
    let fingerprint: String = public
        .tls_fingerprint()
        .map(|f| f.iter().map(|b| format!("{b:02x}")).collect())
        .unwrap_or_default();
    let not_after = u64::try_from(validity.not_after.unix_timestamp()).unwrap_or(0);
    println!(
        "issued credentials for {} (federation {}) in {}",
        credentials.origin(),
        root.federation(),
        args.out.display()
    );
    println!("  log key       {}", public.checkpoint_vkey);
    println!("  cosigner key  {}", public.cosigner_vkey);
    println!(
        "  certificate   sha256 {fingerprint}, valid until {}",
        format_unix(not_after)
    );
    println!(
        "next: add {} to the nodes file with credentials = \"{}\" and run credx roster sign",
        credentials.origin(),
        args.out.display()
    );
    Ok(())
}

fn add(args: &AddArgs) -> Result<(), Failure> {
    let root = TrustRoot::load(&args.federation)?;
    let jurisdiction = if args.jurisdiction.is_empty() {
        vec![default_jurisdiction(&args.origin).ok_or_else(|| {
            Failure::refused(format!(
                "give --juris (div:<GB/T 2260 code>, sector:<name>): it cannot be read from the origin {:?}",
                args.origin
            ))
        })?]
    } else {
        args.jurisdiction.clone()
    };
    let listen_quic = args.listen_quic.or_else(|| {
        matches!(args.level.as_str(), "national" | "province" | "city")
            .then(|| SocketAddr::from(([0, 0, 0, 0], 7400)))
    });
    let node = NewNode {
        origin: args.origin.clone(),
        level: args.level.clone(),
        parent: Some(args.parent.clone()),
        jurisdiction,
        listen_http: args.listen_http,
        listen_quic,
        parent_address: args.parent_address.clone(),
        validity_days: args.validity_days,
        roster_days: args.expires_in_days,
    };
    let added = add_node(&args.federation, &root, &node)?;
    println!(
        "added {} ({}, parent {}) to federation {}",
        args.origin,
        args.level,
        args.parent,
        root.federation()
    );
    println!("  node directory  {}", added.node_dir.display());
    println!(
        "  roster          {} version {}, valid until {}",
        args.federation.join(ROSTER_FILE).display(),
        added.roster_version,
        format_unix(added.roster_expires_at)
    );
    println!("  {}", added.check);
    println!(
        "next: copy {} to the node's machine and run credx-node --config node.toml; install {} at the national node",
        added.node_dir.display(),
        args.federation.join(ROSTER_FILE).display()
    );
    Ok(())
}

/// `div:440106` for an origin whose first label is a 6-digit division code.
fn default_jurisdiction(origin: &str) -> Option<String> {
    let first = origin.split('.').next()?;
    (first.len() == 6 && first.bytes().all(|b| b.is_ascii_digit())).then(|| format!("div:{first}"))
}
