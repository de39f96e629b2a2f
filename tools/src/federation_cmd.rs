//! `credx federation init`: create the national trust root and the federation CA.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Subcommand};
use credx_node::federation::{Overwrite, TrustRoot};

use crate::failure::{finish, Failure};

#[derive(Debug, Subcommand)]
pub enum FederationCommand {
    /// Create a trust root: the roster signing key (Ed25519) and the federation CA (P-256).
    ///
    /// Writes root.key and ca.key (mode 0600, keep them offline), root.vkey (give it to every
    /// node) and ca.crt. Next: `credx node issue --root DIR --origin ORIGIN --out NODEDIR`
    /// for each node.
    Init(InitArgs),
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Federation name written into every roster: lower-case letters, digits and '-'.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// Directory for the trust root files (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Replace existing trust root files (every node credential and roster made with the
    /// old root becomes useless).
    #[arg(long)]
    pub force: bool,
}

pub fn run(command: &FederationCommand) -> ExitCode {
    match command {
        FederationCommand::Init(args) => finish("federation init", init(args)),
    }
}

fn init(args: &InitArgs) -> Result<(), Failure> {
    let root = TrustRoot::generate(&args.name)?;
    root.save(&args.out, Overwrite::from_force(args.force))?;
    let dir = args.out.display();
    println!(
        "created trust root of federation {} in {dir}",
        root.federation()
    );
    println!(
        "  {dir}/{}   roster signing key (secret, 0600)",
        TrustRoot::KEY_FILE
    );
    println!(
        "  {dir}/{}  roster verifier key: {}",
        TrustRoot::VKEY_FILE,
        root.root_vkey()
    );
    println!(
        "  {dir}/{}     federation CA key (secret, 0600)",
        TrustRoot::CA_KEY_FILE
    );
    println!(
        "  {dir}/{}     federation CA certificate",
        TrustRoot::CA_CERT_FILE
    );
    println!(
        "next: credx node issue --root {dir} --origin <origin> --out <node dir>, for each node"
    );
    Ok(())
}
