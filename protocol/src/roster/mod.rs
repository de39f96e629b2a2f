//! The signed roster: the federation's directory of nodes, keys and jurisdictions.
//!
//! The national trust root signs it; it flows down the tree and every node verifies it
//! (design brief §5, modelled on X-Road's global configuration, federation.md §1.4).
//!
//! * [`model`]: [`Roster`], [`RosterNode`], [`NodeLevel`], [`JurisdictionSpec`].
//! * [`text`]: the canonical, line-oriented text the root signs.
//! * `validate`: the federation rules checked before signing and after verifying.
//! * [`signed`]: [`SignedRoster`], the signed note, and its verification.
//! * [`verified`]: [`VerifiedRoster`], lookups, status and update rules.

mod error;
pub mod model;
pub mod signed;
pub mod text;
mod validate;
pub mod verified;

pub use error::{InvalidReason, RosterError};
pub use model::{
    is_valid_origin, JurisdictionSpec, NodeLevel, Roster, RosterNode, MAX_JURISDICTION_SPECS,
    MAX_NODES, MAX_ORIGIN_LEN,
};
pub use signed::{SignedRoster, MAX_CLOCK_SKEW_SECS, MAX_ROSTER_BYTES};
pub use text::ROSTER_MAGIC;
pub use verified::{RosterStatus, VerifiedRoster, EXPIRY_WARNING_SECS};
