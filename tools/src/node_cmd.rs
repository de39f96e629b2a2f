//! `credx node issue`: issue one node's credentials from the trust root.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};
use credx_node::federation::{format_unix, NodeCredentials, Overwrite, TrustRoot};
use credx_node::transport::Validity;

use crate::failure::{finish, Failure};

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
