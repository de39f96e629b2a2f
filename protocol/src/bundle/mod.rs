//! The cross-region verification bundle: everything a verifier in another region needs to
//! check a subject's status offline, against nothing but the national root key (decision
//! 0014).
//!
//! * [`model`]: [`Bundle`], its JSON form ([`Bundle::to_json`], [`Bundle::parse`]).
//! * [`verify`]: [`verify_bundle`], which trusts nothing in the bundle: roster signature,
//!   checkpoint signature and cosigner quorum, anchor inclusion, anchor root, status proof.
//! * [`error`]: [`BundleError`], one variant per check, naming what failed.

// `BundleError` carries the full roster / policy / tlog-proof error so a refusal names the
// exact rule; it is built once per refused bundle, so its size costs nothing that matters.
#![allow(clippy::result_large_err)]

pub mod error;
pub mod model;
pub mod verify;

pub use error::BundleError;
pub use model::{AnchorPart, Bundle, ProvenEntry, BUNDLE_VERSION, MAX_BUNDLE_BYTES};
pub use verify::{verify_bundle, VerifiedBundle};
