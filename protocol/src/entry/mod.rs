//! The canonical log entry: a versioned envelope around one domain event.
//!
//! A leaf of a credx log is the exact bytes of one [`EncodedEntry`]. Those bytes are made
//! once, by [`Entry::encode`], and from then on they are stored, shipped, hashed and
//! verified as they are; the decoded [`Entry`] is a view for reading, never the thing
//! that gets hashed.

mod event;
mod limits;
mod subject;
mod workflow;

pub use event::{Event, LogPosition, WithdrawalKind};
pub use limits::EntryLimitError;
pub use subject::{EntryRef, SubjectId};
pub use workflow::{
    CaseInitiation, CaseKey, CaseKind, CaseStep, CaseStepKind, ExecutionResult, LiftReason,
    MeasureRef, ObjectionOutcome, TargetUnit,
};

use serde::{Deserialize, Serialize};

use crate::codec;
use crate::merkle::{leaf_hash, Hash};
use crate::record::{BusinessKey, Record};

/// The envelope version this code writes. Readers accept exactly the versions they know.
pub const ENVELOPE_VERSION: u16 = 1;

/// One log entry, decoded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    /// Envelope version; [`ENVELOPE_VERSION`] for everything written today.
    pub version: u16,
    /// The origin name of the log this entry belongs to (e.g. `420281.credx`). Provenance
    /// never changes: a mirrored entry keeps its origin.
    pub origin: String,
    /// USCC of the submitting authority (the department that made or reported the decision);
    /// `None` only for node-level anchors.
    pub authority: Option<String>,
    /// The account that submitted it (department user or node process), for audit.
    pub submitted_by: String,
    /// Who the entry is about, if anyone.
    pub subject: Option<SubjectId>,
    /// Stable business key (authority code + decision document number), so a resubmission
    /// is recognised as an amendment rather than a duplicate.
    pub business_key: Option<BusinessKey>,
    /// When the node accepted the submission, Unix milliseconds (UTC).
    pub accepted_at_ms: u64,
    pub event: Event,
}

/// The canonical bytes of an entry, with the leaf hash computed from exactly those bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct EncodedEntry {
    bytes: Vec<u8>,
    leaf_hash: Hash,
}

/// Why an entry could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    #[error("entry encoding: {0}")]
    Encode(#[from] codec::EncodeError),
    #[error("entry decoding: {0}")]
    Decode(#[from] codec::DecodeError),
    #[error(
        "entry envelope version {found} is not supported (this node reads version {supported})"
    )]
    UnsupportedVersion { found: u16, supported: u16 },
    #[error("entry {0}")]
    Limit(#[from] EntryLimitError),
}

impl Entry {
    /// The entry that publishes (or, with `previous`, amends) a validated record.
    pub fn for_record(
        origin: &str,
        submitted_by: &str,
        accepted_at_ms: u64,
        record: Record,
        previous: Option<EntryRef>,
    ) -> Entry {
        let business_key = record.business_key();
        let event = match previous {
            None => Event::RecordPublished { record },
            Some(previous) => Event::RecordAmended {
                previous,
                record,
                reason: String::new(),
            },
        };
        let record = event.record();
        Entry {
            version: ENVELOPE_VERSION,
            origin: origin.to_owned(),
            authority: business_key.as_ref().map(|k| k.authority.clone()),
            submitted_by: submitted_by.to_owned(),
            subject: record.and_then(SubjectId::of_record),
            business_key,
            accepted_at_ms,
            event,
        }
    }

    /// Checks the envelope's bounds and produces its canonical bytes.
    pub fn encode(&self) -> Result<EncodedEntry, EntryError> {
        self.check()?;
        let bytes = codec::encode_entry(self)?;
        Ok(EncodedEntry::from_canonical(bytes))
    }

    /// Decodes and checks an entry: canonical bincode, known version, all bounds.
    pub fn decode(bytes: &[u8]) -> Result<Entry, EntryError> {
        let entry: Entry = codec::decode_entry(bytes)?;
        entry.check()?;
        Ok(entry)
    }

    fn check(&self) -> Result<(), EntryError> {
        if self.version != ENVELOPE_VERSION {
            return Err(EntryError::UnsupportedVersion {
                found: self.version,
                supported: ENVELOPE_VERSION,
            });
        }
        limits::check(self)?;
        Ok(())
    }
}

impl EncodedEntry {
    fn from_canonical(bytes: Vec<u8>) -> EncodedEntry {
        let leaf_hash = leaf_hash(&bytes);
        EncodedEntry { bytes, leaf_hash }
    }

    /// Wraps bytes received from storage or a peer after checking that they decode to a
    /// valid entry. The bytes are kept exactly as given.
    pub fn from_bytes(bytes: Vec<u8>) -> Result<(EncodedEntry, Entry), EntryError> {
        let entry = Entry::decode(&bytes)?;
        Ok((EncodedEntry::from_canonical(bytes), entry))
    }

    /// Wraps bytes already checked when they were first accepted (read back from this
    /// node's own store). Hashing still uses exactly these bytes.
    pub fn from_trusted_bytes(bytes: Vec<u8>) -> EncodedEntry {
        EncodedEntry::from_canonical(bytes)
    }

    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }

    /// RFC 6962 leaf hash of the stored bytes.
    pub fn leaf_hash(&self) -> Hash {
        self.leaf_hash
    }

    pub fn decode(&self) -> Result<Entry, EntryError> {
        Entry::decode(&self.bytes)
    }
}

impl std::fmt::Debug for EncodedEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncodedEntry")
            .field("len", &self.bytes.len())
            .field("leaf_hash", &self.leaf_hash)
            .finish()
    }
}
