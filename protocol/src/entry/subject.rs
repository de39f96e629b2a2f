//! Who an entry is about, and the key that subject has in the status map.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::merkle::Hash;
use crate::record::{IdType, Record, SubjectCategory};

/// The subject of a record: an organisation by its USCC, or a natural person by an
/// identity document. Identifiers are stored normalised, exactly as accepted at ingestion;
/// they are not re-judged against later code tables when an entry is decoded, because a
/// log records what was accepted and must stay readable whatever the tables say later.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum SubjectId {
    /// 统一社会信用代码, 18 characters, normalised.
    Organisation(String),
    /// A natural person: 证件类型 code (`01` resident ID, `02` passport, ...) and number.
    Person { id_type: String, number: String },
}

impl SubjectId {
    /// Longest identifier accepted in an entry (the widest 双公示 code column is C(64)).
    pub const MAX_LEN: usize = 64;

    /// The subject a validated record is about: its USCC when it has one, otherwise the
    /// natural person's identity document. `None` when the record names neither (an
    /// organisation known only by a legacy code), which validation already flags.
    pub fn of_record(record: &Record) -> Option<SubjectId> {
        let (category, uscc, id_type, number) = match record {
            Record::Licence(r) => (
                r.subject_category,
                r.uscc.as_deref(),
                r.id_type,
                r.id_no.as_deref(),
            ),
            Record::Penalty(r) => (
                r.subject_category,
                r.uscc.as_deref(),
                r.id_type,
                r.id_no.as_deref(),
            ),
            Record::ListEntry(e) => (
                e.subject.category,
                None,
                None,
                Some(e.subject.code.as_str()),
            ),
            Record::Commitment(c) => (
                c.subject_category,
                None,
                None,
                Some(c.subject_code.as_str()),
            ),
        };
        let clean = |s: &str| s.trim().to_ascii_uppercase();
        if let Some(code) = uscc.map(clean).filter(|c| !c.is_empty()) {
            return Some(SubjectId::Organisation(code));
        }
        let number = number.map(clean).filter(|n| !n.is_empty())?;
        match category {
            // List entries and commitments carry one code column: a USCC for organisations.
            SubjectCategory::Organisation | SubjectCategory::IndividualBusiness => {
                Some(SubjectId::Organisation(number))
            }
            SubjectCategory::NaturalPerson => Some(SubjectId::Person {
                id_type: id_type_code(id_type.unwrap_or(IdType::ResidentId)).to_owned(),
                number,
            }),
        }
    }

    /// The status-map key: SHA-256 over a domain-separated, unambiguous rendering, so a
    /// USCC and a personal number can never map to the same key.
    pub fn map_key(&self) -> Hash {
        let mut hasher = Sha256::new();
        hasher.update(b"credx/subject/v1\n");
        match self {
            SubjectId::Organisation(code) => {
                hasher.update(b"org\n");
                hasher.update(code.as_bytes());
            }
            SubjectId::Person { id_type, number } => {
                hasher.update(b"person\n");
                hasher.update(id_type.as_bytes());
                hasher.update(b"\n");
                hasher.update(number.as_bytes());
            }
        }
        Hash(hasher.finalize().into())
    }

    /// The identifier as one string (the index key used by storage).
    pub fn index_key(&self) -> String {
        match self {
            SubjectId::Organisation(code) => format!("org:{code}"),
            SubjectId::Person { id_type, number } => format!("person:{id_type}:{number}"),
        }
    }

    pub(crate) fn check_shape(&self) -> Result<(), &'static str> {
        let parts: &[&str] = match self {
            SubjectId::Organisation(code) => &[code.as_str()],
            SubjectId::Person { id_type, number } => &[id_type.as_str(), number.as_str()],
        };
        for part in parts {
            if part.is_empty() || part.len() > Self::MAX_LEN {
                return Err("identifier must be 1 to 64 characters");
            }
            if !part.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err("identifier must be normalised ASCII letters and digits");
            }
        }
        Ok(())
    }
}

/// A pointer to one entry of one log: what workflow events refer to.
///
/// It carries the leaf hash so a reference is self-verifying: whoever follows it can check
/// that the entry found at (origin, index) is the one that was meant.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct EntryRef {
    pub origin: String,
    pub index: u64,
    pub leaf_hash: Hash,
}

fn id_type_code(id_type: IdType) -> &'static str {
    match id_type {
        IdType::ResidentId => "01",
        IdType::Passport => "02",
        IdType::HkMacauPermit => "03",
        IdType::TaiwanPermit => "04",
        IdType::ForeignPermanentResident => "05",
    }
}
