//! `credx verify BUNDLE --root-vkey FILE [--policy FILE]`: checks a verification bundle
//! offline (decision 0014). It trusts only the national root key, the optional cosigner
//! policy and the local clock — never the server that produced the bundle.
//!
//! Exit 0: the bundle verified; 1: it was refused (the failing check is printed);
//! 2: a file could not be read or parsed as a key/policy.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use clap::Args;
use credx_protocol::bundle::{verify_bundle, Bundle, VerifiedBundle};
use credx_protocol::note::{TrustPolicy, VerifierKey};

use crate::failure::{finish, Failure};

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// The bundle (JSON, as served by `GET /v1/subjects/{code}/bundle`).
    pub bundle: PathBuf,
    /// The national root verifier key (vkey text).
    #[arg(long)]
    pub root_vkey: PathBuf,
    /// A C2SP tlog-policy to apply instead of the roster's (all ancestors up to national).
    #[arg(long)]
    pub policy: Option<PathBuf>,
}

pub fn run(args: &VerifyArgs) -> ExitCode {
    finish("verify", verify(args))
}

fn read(path: &PathBuf) -> Result<Vec<u8>, Failure> {
    std::fs::read(path).map_err(|e| Failure::Io(format!("reading {}: {e}", path.display())))
}

fn verify(args: &VerifyArgs) -> Result<(), Failure> {
    let bundle_bytes = read(&args.bundle)?;
    let key_text = String::from_utf8(read(&args.root_vkey)?)
        .map_err(|_| Failure::Io(format!("{} is not UTF-8", args.root_vkey.display())))?;
    let root_key: VerifierKey = key_text
        .trim()
        .parse()
        .map_err(|e| Failure::Io(format!("root key {}: {e}", args.root_vkey.display())))?;
    let policy = match &args.policy {
        Some(path) => Some(
            TrustPolicy::parse(&read(path)?)
                .map_err(|e| Failure::Io(format!("policy {}: {e}", path.display())))?,
        ),
        None => None,
    };
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let bundle =
        Bundle::parse(&bundle_bytes).map_err(|e| Failure::refused(format!("REFUSED: {e}")))?;
    let verified = verify_bundle(&bundle, &root_key, policy.as_ref(), now)
        .map_err(|e| Failure::refused(format!("REFUSED: {e}")))?;
    print_verdict(&verified);
    Ok(())
}

fn print_verdict(v: &VerifiedBundle) {
    let claim = match &v.status {
        Some(s) => format!(
            "present with {} listing(s) and {} record(s)",
            s.listings.len(),
            s.records.len()
        ),
        None => "absent (no status in the map)".to_owned(),
    };
    println!("VERIFIED: subject {} is {claim}", v.subject.index_key());
    println!(
        "  status root {} anchored at {} index {}, checkpoint size {}",
        v.status_root, v.origin, v.anchor_index, v.checkpoint_size
    );
    println!(
        "  cosigned by: {}; roster version {}; {} supporting entr(y/ies) proven",
        if v.cosigners.is_empty() {
            "(none required)".to_owned()
        } else {
            v.cosigners.join(", ")
        },
        v.roster_version,
        v.entries.len()
    );
}
