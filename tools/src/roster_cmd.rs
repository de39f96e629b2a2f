//! `credx roster sign` and `credx roster verify`.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand};
use credx_node::federation::{
    format_unix, sign_roster, unix_now, NodePublicKeys, Overwrite, RosterFile, TrustRoot,
};
use credx_protocol::roster::{JurisdictionSpec, RosterStatus, SignedRoster, VerifiedRoster};

use crate::failure::{finish, Failure};
use crate::node_list::{parse_node_option, read_nodes_file, NodeEntry};

const DAY: u64 = 24 * 3600;

#[derive(Debug, Subcommand)]
pub enum RosterCommand {
    /// Sign a roster with the trust root, listing every node with its keys
    ///
    /// Reads each node's public files (checkpoint.vkey, cosigner.vkey, tls.crt) from its
    /// credentials directory, checks the certificate was issued by this root's CA and the
    /// roster rules (one national node, parents one level up, jurisdictions inside the
    /// parent's), then writes the signed roster. The nodes file is TOML, paths relative to it:
    ///
    ///   [[node]]
    ///   origin = "440000.credx"
    ///   level = "province"            # national|province|city|county|sector
    ///   parent = "cn.credx"           # omitted for the national node
    ///   jurisdiction = ["div:440000"] # national | div:<code> | sector:<name>
    ///   credentials = "nodes/440000.credx"
    ///
    /// Next: `credx roster verify --root-vkey ROOT/root.vkey ROSTER`, then copy the roster to
    /// the national node; it flows down the tree from there.
    #[command(verbatim_doc_comment)]
    Sign(SignArgs),
    /// Verify a signed roster against the trust root's verifier key, now.
    ///
    /// Exit code 0 when it is valid (also while expiring soon), 1 when it is refused (bad
    /// signature, broken rule, expired or not yet valid), 2 when a file cannot be read.
    Verify(VerifyArgs),
}

#[derive(Debug, Args)]
pub struct SignArgs {
    /// Trust root directory made by `credx federation init`.
    #[arg(long, value_name = "DIR")]
    pub root: PathBuf,
    /// Roster version: must be higher than the version in force (nodes refuse rollbacks).
    #[arg(long, value_name = "V")]
    pub version: u64,
    /// Days until the roster expires; issue the next one well before (nodes warn 3 days
    /// ahead).
    #[arg(long, value_name = "D", value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub expires_in_days: u64,
    /// TOML file listing the nodes (see above).
    #[arg(
        long,
        value_name = "FILE",
        conflicts_with = "node",
        required_unless_present = "node"
    )]
    pub nodes: Option<PathBuf>,
    /// One node, instead of a nodes file (repeat the option):
    /// origin=O,level=L[,parent=P],juris=div:440106[+…],credentials=DIR
    #[arg(long, value_name = "SPEC")]
    pub node: Vec<String>,
    /// Where to write the signed roster (e.g. roster.note).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Replace an existing roster file.
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The trust root's verifier key file (root.vkey).
    #[arg(long, value_name = "FILE")]
    pub root_vkey: PathBuf,
    /// Verify as of this Unix time instead of now.
    #[arg(long, value_name = "UNIX_SECONDS")]
    pub at: Option<u64>,
    /// The signed roster file.
    pub roster: PathBuf,
}

pub fn run(command: &RosterCommand) -> ExitCode {
    match command {
        RosterCommand::Sign(args) => finish("roster sign", sign(args)),
        RosterCommand::Verify(args) => finish("roster verify", verify(args)),
    }
}

fn sign(args: &SignArgs) -> Result<(), Failure> {
    let root = TrustRoot::load(&args.root)?;
    let entries: Vec<NodeEntry> = match &args.nodes {
        Some(path) => read_nodes_file(path)?,
        None => args
            .node
            .iter()
            .map(|spec| parse_node_option(spec))
            .collect::<Result<_, _>>()?,
    };
    let (signed, expires_at) = sign_entries(
        &root,
        &args.root,
        &entries,
        args.version,
        args.expires_in_days,
    )?;
    RosterFile::new(&args.out).save(&signed, Overwrite::from_force(args.force))?;
    println!(
        "signed roster version {} of federation {}: {} nodes, valid until {}; wrote {}",
        args.version,
        root.federation(),
        entries.len(),
        format_unix(expires_at),
        args.out.display()
    );
    println!(
        "next: credx roster verify --root-vkey {} {}",
        args.root.join(TrustRoot::VKEY_FILE).display(),
        args.out.display()
    );
    Ok(())
}

/// Signs a roster listing `entries` (public keys read from each credentials directory,
/// certificates checked against the root's CA in `root_dir`); returns it and its expiry.
pub fn sign_entries(
    root: &TrustRoot,
    root_dir: &Path,
    entries: &[NodeEntry],
    version: u64,
    expires_in_days: u64,
) -> Result<(SignedRoster, u64), Failure> {
    let roots = root.roots()?;
    let ca_path = root_dir.join(TrustRoot::CA_CERT_FILE);
    let mut nodes = Vec::with_capacity(entries.len());
    for entry in entries {
        let keys = NodePublicKeys::load(&entry.credentials)?;
        if keys.origin != entry.origin {
            return Err(Failure::refused(format!(
                "{}: the credentials in {} are for {:?}, not {:?}",
                entry.source,
                entry.credentials.display(),
                keys.origin,
                entry.origin
            )));
        }
        keys.check_issued_by(
            &roots,
            &ca_path,
            &entry
                .credentials
                .join(credx_node::federation::credentials::file::TLS_CERT),
        )?;
        nodes.push(keys.roster_node(
            entry.level,
            entry.parent.as_deref(),
            entry.jurisdiction.clone(),
        ));
    }
    let issued_at = unix_now();
    let expires_at = issued_at.saturating_add(expires_in_days.saturating_mul(DAY));
    let signed = sign_roster(
        root,
        root.federation(),
        version,
        issued_at,
        expires_at,
        nodes,
    )?;
    Ok((signed, expires_at))
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let now = args.at.unwrap_or_else(unix_now);
    let verified =
        RosterFile::new(&args.roster).load_verified_with_vkey_file(&args.root_vkey, now)?;
    print_roster(&args.roster.display().to_string(), &verified, now);
    Ok(())
}

fn print_roster(name: &str, verified: &VerifiedRoster, now: u64) {
    let roster = verified.roster();
    let status = match verified.status(now) {
        RosterStatus::Valid => "valid".to_owned(),
        RosterStatus::ExpiringSoon { seconds_left } => format!(
            "valid, EXPIRING SOON ({} h left): sign a new roster",
            seconds_left / 3600
        ),
        RosterStatus::Expired => "expired".to_owned(),
    };
    println!(
        "{name}: {status}; federation {} version {}, {} nodes, issued {}, expires {}",
        roster.federation,
        roster.version,
        roster.nodes.len(),
        format_unix(roster.issued_at),
        format_unix(roster.expires_at)
    );
    for node in &roster.nodes {
        let jurisdiction: Vec<String> = node
            .jurisdiction
            .iter()
            .map(JurisdictionSpec::to_text)
            .collect();
        println!(
            "  {:<24} {:<8} parent={:<20} {}",
            node.origin,
            node.level.as_str(),
            node.parent.as_deref().unwrap_or("-"),
            jurisdiction.join(",")
        );
    }
}
