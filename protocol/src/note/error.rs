//! Error types of the note module. Each variant names the line or field at fault so an
//! operator reading a rejection log can find the offending byte without a debugger.
//!
//! Line numbers are 1-based and count lines of the whole input being parsed (note,
//! proof file or policy file), which is what `sed -n Np` / an editor shows.

use thiserror::Error;

use super::key::KeyType;
use crate::merkle::HashParseError;

/// A key name, verifier key (vkey) or private key string was rejected.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum KeyError {
    #[error("key name is empty")]
    EmptyName,
    #[error("key name is {len} bytes, longer than the limit of {max}")]
    NameTooLong { len: usize, max: usize },
    #[error("key name contains a Unicode space at byte {offset}")]
    NameHasWhitespace { offset: usize },
    #[error("key name contains '+' at byte {offset}")]
    NameHasPlus { offset: usize },
    #[error("key name contains a control character at byte {offset}")]
    NameHasControl { offset: usize },
    #[error("key string is malformed: missing the {field} field")]
    MissingField { field: &'static str },
    #[error("key id {found:?} is not exactly 8 lowercase hex digits")]
    BadKeyIdHex { found: String },
    #[error("key material is not canonical standard base64")]
    NotBase64,
    #[error("key material is empty")]
    EmptyKeyMaterial,
    #[error("unsupported key type byte 0x{0:02x}")]
    UnsupportedKeyType(u8),
    #[error("key type {found:?} cannot be used here; expected {expected:?}")]
    WrongKeyType { expected: KeyType, found: KeyType },
    #[error("Ed25519 key material must be 32 bytes, found {len}")]
    WrongKeyLength { len: usize },
    #[error("public key is not a valid Ed25519 point")]
    InvalidPublicKey,
    #[error("public key is a small-order (weak) Ed25519 point")]
    WeakPublicKey,
    #[error("stated key id {stated:08x} does not match computed key id {computed:08x}")]
    KeyIdMismatch { stated: u32, computed: u32 },
    #[error("private key string must start with \"PRIVATE+KEY+\"")]
    NotPrivateKey,
}

/// Why one signature line of a note could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum SignatureLineError {
    #[error("does not start with an em dash (U+2014) and a space")]
    MissingEmDash,
    #[error("has no space between key name and signature")]
    MissingSignature,
    #[error("key name is invalid: {0}")]
    BadKeyName(KeyError),
    #[error("signature is not canonical standard base64")]
    NotBase64,
    #[error("signature decodes to {len} bytes; at least 5 (key id + 1) are required")]
    TooShort { len: usize },
}

/// A signed note was malformed or failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NoteError {
    #[error("note is {size} bytes, larger than the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("note is not valid UTF-8 (first invalid byte at offset {offset})")]
    NotUtf8 { offset: usize },
    #[error("line {line}: control character 0x{byte:02x} (only newline is allowed)")]
    ControlCharacter { line: usize, byte: u8 },
    #[error("note text is empty")]
    EmptyText,
    #[error("note text does not end with a newline")]
    TextMissingFinalNewline,
    #[error("note has no blank line separating text from signatures")]
    MissingSignatureBlock,
    #[error("note does not end with a newline after the last signature line")]
    MissingFinalNewline,
    #[error("note has no signature lines")]
    NoSignatures,
    #[error("note has {count} signature lines, more than the limit of {max}")]
    TooManySignatures { count: usize, max: usize },
    #[error("line {line}: bad signature line: {reason}")]
    BadSignatureLine {
        line: usize,
        reason: SignatureLineError,
    },
    #[error("two different known keys share name {name:?} and key id {key_id:08x}")]
    AmbiguousKey { name: String, key_id: u32 },
    #[error("line {line}: signature by known key {name}+{key_id:08x} does not verify")]
    InvalidSignature {
        name: String,
        key_id: u32,
        line: usize,
    },
    #[error("no signature from a known key verified")]
    NoVerifiedSignature,
}

/// A checkpoint body was malformed, or a signed checkpoint failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CheckpointError {
    #[error("checkpoint is {size} bytes, larger than the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("line {line}: control character 0x{byte:02x} in checkpoint")]
    ControlCharacter { line: usize, byte: u8 },
    #[error("checkpoint text does not end with a newline")]
    MissingFinalNewline,
    #[error("checkpoint is missing its {field} line")]
    MissingLine { field: &'static str },
    #[error("line 1: origin is empty")]
    EmptyOrigin,
    #[error("line 2: tree size {found:?} is not an ASCII decimal")]
    SizeNotDecimal { found: String },
    #[error("line 2: tree size {found:?} has a leading zero")]
    SizeLeadingZero { found: String },
    #[error("line 2: tree size {found:?} does not fit in 64 bits")]
    SizeOverflow { found: String },
    #[error("line 3: root hash: {0}")]
    BadRoot(HashParseError),
    #[error("line 3: root hash is not in canonical base64 form")]
    NonCanonicalRoot,
    #[error("line {line}: extension line is empty")]
    EmptyExtension { line: usize },
    #[error("extension {index}: contains a newline")]
    ExtensionHasNewline { index: usize },
    #[error("origin contains a newline")]
    OriginHasNewline,
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
    #[error("log key {key_name:?} does not match checkpoint origin {origin:?}")]
    OriginMismatch { origin: String, key_name: String },
    #[error("log key has type {found:?}; checkpoints are signed with Ed25519 (0x01)")]
    WrongLogKeyType { found: KeyType },
    #[error("checkpoint carries no signature by log key {key}")]
    MissingLogSignature { key: String },
    #[error("line {line}: log signature by {key} does not verify")]
    InvalidLogSignature { key: String, line: usize },
}

/// A cosignature/v1 was malformed or failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CosignatureError {
    #[error("cosignature is {len} bytes; cosignature/v1 is exactly 72 (8-byte time + 64-byte signature)")]
    WrongLength { len: usize },
    #[error("cosignature timestamp {timestamp} exceeds 2^63-1")]
    TimestampOutOfRange { timestamp: u64 },
    #[error("key has type {found:?}; cosignature/v1 needs type 0x04")]
    WrongKeyType { found: KeyType },
    #[error("cosignature is by {found:?}, not by key {expected:?}")]
    NameMismatch { expected: String, found: String },
    #[error("cosignature key id {found:08x} does not match key id {expected:08x}")]
    KeyIdMismatch { expected: u32, found: u32 },
    #[error("cosignature by {name} does not verify")]
    InvalidSignature { name: String },
    #[error("checkpoint: {0}")]
    Checkpoint(CheckpointError),
}

/// A tlog-proof file was malformed or failed verification.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TlogProofError {
    #[error("proof is {size} bytes, larger than the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("line {line}: proof header is not valid UTF-8")]
    NotUtf8 { line: usize },
    #[error("line 1: expected \"c2sp.org/tlog-proof@v1\"")]
    BadMagic,
    #[error("line {line}: expected \"index <n>\"")]
    MissingIndex { line: usize },
    #[error("line {line}: index {found:?} is not a canonical decimal u64")]
    BadIndex { line: usize, found: String },
    #[error("line {line}: extra data is not canonical standard base64")]
    BadExtra { line: usize },
    #[error("line {line}: extra data is {len} bytes, more than the limit of {max}")]
    ExtraTooLarge { line: usize, len: usize, max: usize },
    #[error("line {line}: inclusion hash: {reason}")]
    BadHash { line: usize, reason: HashParseError },
    #[error("line {line}: inclusion hash is not in canonical base64 form")]
    NonCanonicalHash { line: usize },
    #[error("proof has more than {max} inclusion hashes")]
    TooManyHashes { max: usize },
    #[error("proof has no blank line before the checkpoint")]
    MissingCheckpoint,
    #[error("embedded checkpoint: {0}")]
    Checkpoint(CheckpointError),
    #[error("checkpoint rejected by trust policy: {0}")]
    Policy(#[from] PolicyError),
    #[error("index {index} is outside the checkpointed tree of size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("inclusion proof does not verify: {0}")]
    Inclusion(crate::merkle::ProofError),
}

/// A tlog-policy was malformed, or a checkpoint does not satisfy it.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    #[error("policy is {size} bytes, larger than the limit of {max}")]
    TooLarge { size: usize, max: usize },
    #[error("line {line}: byte 0x{byte:02x} is not allowed (only tab, newline, printable ASCII and bytes ≥ 0x80)")]
    ForbiddenByte { line: usize, byte: u8 },
    #[error("line {line}: not valid UTF-8")]
    NotUtf8 { line: usize },
    #[error("line {line}: unknown keyword {keyword:?}")]
    UnknownKeyword { line: usize, keyword: String },
    #[error("line {line}: wrong number of fields for {keyword:?}")]
    WrongFieldCount { line: usize, keyword: &'static str },
    #[error("line {line}: bad verifier key: {source}")]
    BadKey { line: usize, source: KeyError },
    #[error("line {line}: {role} key has type {found:?}, expected {expected:?}")]
    WrongKeyType {
        line: usize,
        role: &'static str,
        expected: super::key::KeyType,
        found: super::key::KeyType,
    },
    #[error("line {line}: public key already listed on line {first}")]
    DuplicateKey { line: usize, first: usize },
    #[error("line {line}: name {name:?} is already defined")]
    DuplicateName { line: usize, name: String },
    #[error("line {line}: name {name:?} is reserved")]
    ReservedName { line: usize, name: String },
    #[error("line {line}: name {name:?} is not defined on an earlier line")]
    UndefinedName { line: usize, name: String },
    #[error("line {line}: group member {name:?} is listed twice")]
    DuplicateMember { line: usize, name: String },
    #[error("line {line}: group has no members")]
    EmptyGroup { line: usize },
    #[error(
        "line {line}: threshold {found:?} must be all, any or a decimal k with 1 ≤ k ≤ {members}"
    )]
    BadThreshold {
        line: usize,
        found: String,
        members: usize,
    },
    #[error("line {line}: more than {max} {what}")]
    TooMany {
        line: usize,
        what: &'static str,
        max: usize,
    },
    #[error("line {line}: second quorum line (first on line {first})")]
    DuplicateQuorum { line: usize, first: usize },
    #[error("policy has no quorum line")]
    MissingQuorum,
    #[error("no log in the policy is named after origin {origin:?}")]
    UnknownLog { origin: String },
    #[error("log signature: {0}")]
    LogSignature(CheckpointError),
    #[error("cosignature by witness {witness:?}: {source}")]
    InvalidCosignature {
        witness: String,
        source: CosignatureError,
    },
    #[error("quorum {quorum:?} not met: {verified} of the policy's witnesses cosigned")]
    QuorumNotMet { quorum: String, verified: usize },
}
