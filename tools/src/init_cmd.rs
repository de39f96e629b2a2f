//! `credx init`: a new federation in one step — trust root, federation CA, the national
//! node's credentials and config, and the first signed roster.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Args;
use credx_node::federation::{format_unix, Overwrite, TrustRoot};

use crate::failure::{finish, Failure};
use crate::federation_dir::{add_node, NewNode, NODES_FILE, ROSTER_FILE};

#[derive(Debug, Args)]
#[command(after_long_help = INIT_HELP)]
pub struct InitArgs {
    /// Federation name written into every roster: lower-case letters, digits and '-'.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    /// The national node's origin.
    #[arg(long, value_name = "ORIGIN", default_value = "cn.credx")]
    pub national: String,
    /// The federation directory to create (must not hold a trust root yet).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The national node's HTTP address (department API, /metrics, health).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen_http: SocketAddr,
    /// Where the national node listens for its children (QUIC, UDP).
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:7400")]
    pub listen_quic: SocketAddr,
    /// Days until the roster expires (each `credx node add` signs a new one).
    #[arg(long, value_name = "DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub expires_in_days: u64,
    /// How long the national node's TLS certificate is valid.
    #[arg(long, value_name = "DAYS", default_value_t = 365, value_parser = clap::value_parser!(u32).range(1..=36500))]
    pub validity_days: u32,
}

const INIT_HELP: &str = "\
Example:
  credx init --name cn-credit --out /srv/credx-federation
  credx node add --federation /srv/credx-federation --origin 440000.credx --level province \\
      --parent cn.credx --parent-address 10.0.0.1:7400

Writes DIR/root.key, DIR/ca.key (secret, 0600: keep them offline), DIR/root.vkey,
DIR/ca.crt, DIR/nodes.toml, DIR/roster.note (version 1, listing the national node) and
DIR/nodes/<national>/ (credentials/, node.toml, roster.note, tokens.json): copy that
directory to the national node's machine and run `credx-node --config node.toml` there.
It is the same as `credx federation init`, `credx node issue` and `credx roster sign`
in one step; those commands still work on their own.

Exit codes: 0 done; 1 a rule was broken (bad name or origin, DIR already initialised);
2 a file could not be written.";

pub fn run(args: &InitArgs) -> ExitCode {
    finish("init", init(args))
}

fn init(args: &InitArgs) -> Result<(), Failure> {
    if args.out.join(TrustRoot::KEY_FILE).exists() {
        return Err(Failure::refused(format!(
            "{} already holds a trust root; add nodes with `credx node add --federation {}`, or pick a new directory",
            args.out.display(),
            args.out.display()
        )));
    }
    // Checked before any key is generated.
    credx_node::federation::check_origin(&args.national).map_err(Failure::from)?;
    let root = TrustRoot::generate(&args.name)?;
    root.save(&args.out, Overwrite::Refuse)?;
    let national = NewNode {
        origin: args.national.clone(),
        level: "national".to_owned(),
        parent: None,
        jurisdiction: vec!["national".to_owned()],
        listen_http: args.listen_http,
        listen_quic: Some(args.listen_quic),
        parent_address: None,
        validity_days: args.validity_days,
        roster_days: args.expires_in_days,
    };
    let added = add_node(&args.out, &root, &national)?;
    let dir = args.out.display();
    println!("created federation {} in {dir}", root.federation());
    println!(
        "  trust root     {dir}/{{root.key, ca.key}} (secret, keep offline), root.vkey, ca.crt"
    );
    println!("  node list      {dir}/{NODES_FILE}");
    println!(
        "  roster         {dir}/{ROSTER_FILE} (version {}, valid until {})",
        added.roster_version,
        format_unix(added.roster_expires_at)
    );
    println!(
        "  national node  {} (config {})",
        added.node_dir.display(),
        added.config.display()
    );
    println!("  {}", added.check);
    println!(
        "next: credx node add --federation {dir} --origin <origin> --level province --parent {} --parent-address <host>:{}",
        args.national,
        args.listen_quic.port()
    );
    Ok(())
}
