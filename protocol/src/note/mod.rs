//! C2SP signed notes: checkpoints, cosignatures (cosignature/v1) and tlog-proof files.
//!
//! Byte-exact implementations of C2SP signed-note, tlog-checkpoint, tlog-cosignature
//! (Ed25519 `cosignature/v1`), tlog-proof and the offline-verification subset of
//! tlog-policy. Pure: parsing, formatting, signing and verification, no I/O.
//!
//! Every parser is strict (one accepted spelling per value, so signed bytes and parsed
//! values correspond one-to-one) and bounded by the limits in [`limits`].

mod checkpoint;
mod cosignature;
mod error;
mod key;
pub mod limits;
mod policy;
mod signed_note;
mod tlog_proof;

pub use checkpoint::{Checkpoint, SignedCheckpoint};
pub use cosignature::{
    signed_message as cosignature_message, Cosignature, COSIGNATURE_V1_LEN,
    MAX_COSIGNATURE_TIMESTAMP,
};
pub use error::{
    CheckpointError, CosignatureError, KeyError, NoteError, PolicyError, SignatureLineError,
    TlogProofError,
};
pub use key::{key_id, CosignerKey, KeyName, KeyType, NoteSigner, VerifierKey};
pub use policy::{
    Member, PolicyGroup, PolicyLog, PolicyWitness, Quorum, TrustPolicy, VerifiedCheckpoint,
};
pub use signed_note::{
    NoteSignature, SignedNote, Signer, TimestampedCosigner, VerifiedNote, VerifiedSignature,
};
pub use tlog_proof::{TlogProof, VerifiedProof, TLOG_PROOF_MAGIC};
