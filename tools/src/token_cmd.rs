//! `credx token issue|list|revoke`: department tokens of a node (decision 0012). The node
//! keeps only SHA-256 hashes in its tokens file; the token itself is shown once, written
//! to a file for the department (mode 0600), and never stored by the node.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, Subcommand, ValueEnum};
use credx_node::api::{TokenError, TokenStore, View};

use crate::failure::{finish, Failure};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Issue a department token: scoped to the authority USCCs it may submit for and the
    /// views it may read.
    ///
    /// Example:
    ///   credx token issue --tokens DIR/nodes/440106.credx/tokens.json \
    ///       --department 天河区市场监督管理局 --authority 11440106MB2C12345X \
    ///       --view public --view shared --out scjgj.token
    ///
    /// The node reads its tokens file at start and on SIGHUP: `systemctl reload credx-node`.
    /// Give the token file to the department: `credx import … --token-file scjgj.token`.
    #[command(verbatim_doc_comment)]
    Issue(IssueArgs),
    /// List the tokens of a tokens file (handles, departments, scopes; never the tokens).
    List(ListArgs),
    /// Revoke a token by its handle (the node refuses it once reloaded: SIGHUP).
    Revoke(RevokeArgs),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ViewArg {
    Public,
    Shared,
}

#[derive(Debug, Args)]
pub struct IssueArgs {
    /// The node's tokens file (its config's tokens_file); created if missing.
    #[arg(long, value_name = "FILE")]
    pub tokens: PathBuf,
    /// The department, written as `submitted_by` in every entry it submits.
    #[arg(long, value_name = "NAME")]
    pub department: String,
    /// USCC of an authority the department submits for (repeat).
    #[arg(long, value_name = "USCC")]
    pub authority: Vec<String>,
    /// A view the token may read (repeat); default public.
    #[arg(long, value_enum)]
    pub view: Vec<ViewArg>,
    /// Where to write the token (mode 0600; must not exist).
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// The node's tokens file.
    #[arg(long, value_name = "FILE")]
    pub tokens: PathBuf,
}

#[derive(Debug, Args)]
pub struct RevokeArgs {
    /// The node's tokens file.
    #[arg(long, value_name = "FILE")]
    pub tokens: PathBuf,
    /// The token's handle (first column of `credx token list`).
    pub id: String,
}

pub fn run(command: &TokenCommand) -> ExitCode {
    match command {
        TokenCommand::Issue(args) => finish("token issue", issue(args)),
        TokenCommand::List(args) => finish("token list", list(args)),
        TokenCommand::Revoke(args) => finish("token revoke", revoke(args)),
    }
}

fn token_failure(e: TokenError) -> Failure {
    match e {
        TokenError::Io { .. } => Failure::Io(e.to_string()),
        other => Failure::refused(other.to_string()),
    }
}

fn load_or_new(path: &Path) -> Result<TokenStore, Failure> {
    if path.exists() {
        TokenStore::load(path).map_err(token_failure)
    } else {
        Ok(TokenStore::new())
    }
}

fn issue(args: &IssueArgs) -> Result<(), Failure> {
    if args.out.exists() {
        return Err(Failure::refused(format!(
            "{} exists; give --out a new file (credx never overwrites a token)",
            args.out.display()
        )));
    }
    let store = load_or_new(&args.tokens)?;
    let views: Vec<View> = if args.view.is_empty() {
        vec![View::Public]
    } else {
        args.view
            .iter()
            .map(|v| match v {
                ViewArg::Public => View::Public,
                ViewArg::Shared => View::Shared,
            })
            .collect()
    };
    let (token, entry) = store
        .issue(&args.department, &args.authority, views)
        .map_err(token_failure)?;
    write_secret(&args.out, token.as_bytes())?;
    store.save(&args.tokens).map_err(token_failure)?;
    println!(
        "issued token {} for {:?} ({} authorities, views {}); wrote {} (0600)",
        entry.id,
        entry.department,
        entry.authorities.len(),
        entry
            .views
            .iter()
            .map(|v| v.as_str())
            .collect::<Vec<_>>()
            .join("+"),
        args.out.display()
    );
    println!(
        "next: reload the node (systemctl reload credx-node, or kill -HUP its pid) so it reads {}, and give {} to the department",
        args.tokens.display(),
        args.out.display()
    );
    Ok(())
}

fn list(args: &ListArgs) -> Result<(), Failure> {
    let store = TokenStore::load(&args.tokens).map_err(token_failure)?;
    for e in store.entries().map_err(token_failure)? {
        println!(
            "{}  {}  views={}  authorities={}",
            e.id,
            e.department,
            e.views
                .iter()
                .map(|v| v.as_str())
                .collect::<Vec<_>>()
                .join("+"),
            e.authorities.iter().cloned().collect::<Vec<_>>().join(",")
        );
    }
    Ok(())
}

fn revoke(args: &RevokeArgs) -> Result<(), Failure> {
    let store = TokenStore::load(&args.tokens).map_err(token_failure)?;
    if !store.revoke(&args.id).map_err(token_failure)? {
        return Err(Failure::refused(format!(
            "no token with handle {:?} in {}; see credx token list",
            args.id,
            args.tokens.display()
        )));
    }
    store.save(&args.tokens).map_err(token_failure)?;
    println!(
        "revoked {}; reload the node (systemctl reload credx-node, or kill -HUP its pid) so it stops accepting it",
        args.id
    );
    Ok(())
}

fn write_secret(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let io = |e: std::io::Error| Failure::Io(format!("{}: {e}", path.display()));
    let mut file = options.open(path).map_err(io)?;
    file.write_all(bytes).map_err(io)?;
    file.write_all(b"\n").map_err(io)
}
