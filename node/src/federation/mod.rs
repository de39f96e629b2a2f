//! Federation identity: the national trust root, each node's credentials, and the signed
//! roster that ties them together (issue 4 item 1, decision 0010).
//!
//! - [`trust_root`]: [`TrustRoot`], the roster signing key (Ed25519) and the federation CA
//!   (P-256), held by the national operator.
//! - [`credentials`]: [`NodeCredentials`], a node's log key, cosigner key and TLS identity,
//!   and [`NodePublicKeys`], the part the roster lists.
//! - [`roster_file`]: [`sign_roster`] and [`RosterFile`], the signed roster on disk,
//!   verified against `root.vkey` whenever it is read.
//! - [`test_federation`]: [`TestFederation`], a whole federation in memory for tests and the
//!   testnet.
//! - [`names`]: federation names, origins and jurisdiction items.
//!
//! Files are written through a temporary file, private keys with mode 0600, and never over
//! an existing file unless [`Overwrite::Replace`] is asked for.

pub mod credentials;
mod error;
mod files;
pub mod names;
pub mod roster_file;
pub mod test_federation;
pub mod trust_root;

pub use credentials::{NodeCredentials, NodePublicKeys};
pub use error::FederationError;
pub use files::Overwrite;
pub use names::{check_federation_name, check_origin, parse_jurisdiction};
pub use roster_file::{format_unix, sign_roster, unix_now, RosterFile};
pub use test_federation::{three_level, NodeSpec, TestFederation};
pub use trust_root::TrustRoot;
