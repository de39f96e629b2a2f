//! Delta verification: the parent's pure check of a range of a child's log before it is
//! mirrored, cosigned and acknowledged (design brief §6). No storage, no I/O.
//!
//! * [`state`]: [`MirrorState`] (the cursor) in, [`VerifiedDelta`] / [`VerifiedBatch`] out.
//! * [`verify`]: [`DeltaVerifier`] (bounded batches) and [`verify_delta`] (one call).
//! * [`jurisdiction`]: the [`JurisdictionCheck`] rule, and [`RosterJurisdiction`].
//! * `structure`: envelope/record agreement rules.
//! * [`error`]: [`DeltaError`] with fork evidence.

pub mod error;
pub mod jurisdiction;
pub mod state;
mod structure;
pub mod verify;

pub use error::{DeltaError, EntryRule, ForkEvidence, ForkKind, StateProblem};
pub use jurisdiction::{JurisdictionCheck, RosterJurisdiction};
pub use state::{MirrorState, VerifiedBatch, VerifiedDelta};
pub use verify::{verify_delta, DeltaVerifier};
