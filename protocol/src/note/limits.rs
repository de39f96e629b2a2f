//! Hard limits applied while parsing untrusted notes, checkpoints, proofs and policies.
//!
//! Every parser in this module rejects input beyond these bounds *before* doing any
//! per-line work, so a hostile peer cannot make a node allocate or hash without bound.

/// Maximum size of a whole signed note (text + blank line + signature lines), in bytes.
///
/// A checkpoint with 100 Ed25519 cosignatures is ~11 KiB; 64 KiB leaves room for a few
/// post-quantum signatures (~3.3 KiB each) without inviting abuse.
pub const MAX_NOTE_SIZE: usize = 64 * 1024;

/// Maximum number of signature lines in one note.
///
/// C2SP signed-note: verifiers SHOULD cap the count but MUST accept at least 16.
pub const MAX_SIGNATURES: usize = 100;

/// The spec's floor for [`MAX_SIGNATURES`]; asserted at compile time below.
pub const MIN_ACCEPTED_SIGNATURES: usize = 16;

const _: () = assert!(MAX_SIGNATURES >= MIN_ACCEPTED_SIGNATURES);

/// Maximum key-name length in bytes. 255 matches the `<1..2^8-1>` bound the ML-DSA
/// cosignature format puts on names, so a name valid here stays valid there.
pub const MAX_KEY_NAME_LEN: usize = 255;

/// Maximum number of inclusion-proof hashes in a tlog-proof. A tree of at most
/// 2^64 − 1 leaves has depth ≤ 64, so no valid proof is longer.
pub const MAX_PROOF_HASHES: usize = 64;

/// Maximum decoded size of the unauthenticated `extra` field of a tlog-proof.
pub const MAX_PROOF_EXTRA: usize = 16 * 1024;

/// Maximum size of a whole tlog-proof file: header (magic, extra, index, hashes)
/// plus the embedded checkpoint note.
pub const MAX_PROOF_SIZE: usize = MAX_NOTE_SIZE + 4 * MAX_PROOF_EXTRA / 3 + 8 * 1024;

/// Maximum size of a tlog-policy file in bytes.
pub const MAX_POLICY_SIZE: usize = 64 * 1024;

/// Maximum number of `log` lines (the spec recommends supporting at least 32).
pub const MAX_POLICY_LOGS: usize = 64;

/// Maximum number of `witness` lines (the spec recommends supporting at least 32).
pub const MAX_POLICY_WITNESSES: usize = 64;

/// Maximum number of `group` lines (the spec recommends supporting at least 32).
pub const MAX_POLICY_GROUPS: usize = 64;

/// Maximum number of members listed in one `group` line. Members are distinct names
/// defined earlier, so this can never usefully exceed witnesses + groups.
pub const MAX_GROUP_MEMBERS: usize = MAX_POLICY_WITNESSES + MAX_POLICY_GROUPS;
