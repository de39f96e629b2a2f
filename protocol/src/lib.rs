//! The shared language of credx.
//!
//! Everything a verifier in another region needs lives here, and nothing here does I/O:
//! identifiers and their check algorithms, the 双公示 record types and their validation
//! rules, publication-period arithmetic, the canonical log entry and its codec, RFC 6962
//! Merkle hashing and proofs, and C2SP signed notes (checkpoints, cosignatures, proofs).
//!
//! Modules read top-down: `ident` → `record` → `validate` → `period` → `entry`/`codec`
//! → `merkle` → `note`.

pub mod bundle;
pub mod codec;
pub mod delta;
pub mod entry;
pub mod health;
pub mod ident;
pub mod merkle;
pub mod note;
pub mod period;
pub mod record;
pub mod roster;
pub mod statusmap;
pub mod validate;
pub mod wire;

pub use merkle::Hash;
