//! C2SP tlog-checkpoint: the signed statement "log <origin> has <size> leaves with root <root>".
//!
//! ```text
//! <origin>\n
//! <tree size, ASCII decimal, no leading zeros>\n
//! <standard base64 of the 32-byte root>\n
//! [<non-empty extension line>\n]*
//! ```

use super::cosignature::{Cosignature, COSIGNATURE_V1_LEN};
use super::error::{CheckpointError, NoteError};
use super::key::{KeyType, NoteSigner, VerifierKey};
use super::limits::MAX_NOTE_SIZE;
use super::signed_note::SignedNote;
use crate::merkle::Hash;

/// A checkpoint body (the note text). Fields are public; [`Checkpoint::validate`] (run by
/// every signing path) enforces what `to_text` needs to produce a parseable body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    /// Opaque extension lines, without newlines. NOT RECOMMENDED by the spec; kept so
    /// third-party checkpoints round-trip byte for byte.
    pub extensions: Vec<String>,
}

/// Why [`parse_canonical_u64`] rejected its input.
pub(crate) enum DecimalError {
    NotDecimal,
    LeadingZero,
    Overflow,
}

/// Parses an ASCII decimal with no sign and no leading zeros (except "0") that fits in a
/// u64: the one spelling tlog-checkpoint and tlog-proof allow for sizes and indexes.
pub(crate) fn parse_canonical_u64(s: &str) -> Result<u64, DecimalError> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DecimalError::NotDecimal);
    }
    if s.len() > 1 && s.starts_with('0') {
        return Err(DecimalError::LeadingZero);
    }
    s.parse::<u64>().map_err(|_| DecimalError::Overflow)
}

/// Decodes a hash line, insisting on the canonical encoding so a line has one spelling.
pub(crate) fn parse_canonical_hash(s: &str) -> Result<Hash, Option<crate::merkle::HashParseError>> {
    let h = Hash::from_base64(s).map_err(Some)?;
    if h.to_base64() != s {
        return Err(None);
    }
    Ok(h)
}

impl Checkpoint {
    pub fn new(origin: impl Into<String>, size: u64, root: Hash) -> Checkpoint {
        Checkpoint {
            origin: origin.into(),
            size,
            root,
            extensions: Vec::new(),
        }
    }

    /// The note text. Byte-exact tlog-checkpoint body for any checkpoint that passes
    /// [`Checkpoint::validate`].
    pub fn to_text(&self) -> String {
        let mut s = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            self.root.to_base64()
        );
        for ext in &self.extensions {
            s.push_str(ext);
            s.push('\n');
        }
        s
    }

    /// Checks that [`Checkpoint::to_text`] yields a body [`Checkpoint::parse_text`] accepts
    /// back unchanged.
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.origin.contains('\n') {
            return Err(CheckpointError::OriginHasNewline);
        }
        for (index, ext) in self.extensions.iter().enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension { line: 4 + index });
            }
            if ext.contains('\n') {
                return Err(CheckpointError::ExtensionHasNewline { index });
            }
        }
        let text = self.to_text();
        check_body_bytes(&text)?;
        Ok(())
    }

    /// Strict parse of a checkpoint body (a verified note's text).
    pub fn parse_text(text: &str) -> Result<Checkpoint, CheckpointError> {
        check_body_bytes(text)?;
        let body = text
            .strip_suffix('\n')
            .ok_or(CheckpointError::MissingFinalNewline)?;
        let mut lines = body.split('\n');
        let origin = lines.next().unwrap_or_default();
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size_line = lines
            .next()
            .ok_or(CheckpointError::MissingLine { field: "tree size" })?;
        let size = parse_canonical_u64(size_line).map_err(|e| {
            let found = size_line.chars().take(32).collect();
            match e {
                DecimalError::NotDecimal => CheckpointError::SizeNotDecimal { found },
                DecimalError::LeadingZero => CheckpointError::SizeLeadingZero { found },
                DecimalError::Overflow => CheckpointError::SizeOverflow { found },
            }
        })?;
        let root_line = lines
            .next()
            .ok_or(CheckpointError::MissingLine { field: "root hash" })?;
        let root = parse_canonical_hash(root_line).map_err(|e| match e {
            Some(e) => CheckpointError::BadRoot(e),
            None => CheckpointError::NonCanonicalRoot,
        })?;
        let mut extensions = Vec::new();
        for (i, ext) in lines.enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension { line: 4 + i });
            }
            extensions.push(ext.to_owned());
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
            extensions,
        })
    }
}

/// Size limit and note-text character rules, applied to a checkpoint body.
fn check_body_bytes(text: &str) -> Result<(), CheckpointError> {
    if text.len() > MAX_NOTE_SIZE {
        return Err(CheckpointError::TooLarge {
            size: text.len(),
            max: MAX_NOTE_SIZE,
        });
    }
    let mut line = 1;
    for b in text.bytes() {
        if b == b'\n' {
            line += 1;
        } else if b < 0x20 {
            return Err(CheckpointError::ControlCharacter { line, byte: b });
        }
    }
    Ok(())
}

/// A checkpoint together with its signed note. The note text is always exactly
/// `checkpoint.to_text()`; fields are private to keep it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    checkpoint: Checkpoint,
    note: SignedNote,
}

impl SignedCheckpoint {
    /// Signs `checkpoint` with the log key. The key name must equal the origin: verifiers
    /// (ours included) require it, so signing anything else would be signing garbage.
    pub fn sign(
        checkpoint: Checkpoint,
        signer: &NoteSigner,
    ) -> Result<SignedCheckpoint, CheckpointError> {
        checkpoint.validate()?;
        if signer.name().as_str() != checkpoint.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: checkpoint.origin,
                key_name: signer.name().to_string(),
            });
        }
        let note = SignedNote::sign(checkpoint.to_text(), &[signer])?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Wraps an already-parsed note whose text must be a valid checkpoint body.
    pub fn from_note(note: SignedNote) -> Result<SignedCheckpoint, CheckpointError> {
        let checkpoint = Checkpoint::parse_text(&note.text)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Strict parse of a signed checkpoint (note syntax, then body syntax). Unverified.
    pub fn parse(bytes: &[u8]) -> Result<SignedCheckpoint, CheckpointError> {
        Self::from_note(SignedNote::parse(bytes)?)
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }

    pub fn checkpoint(&self) -> &Checkpoint {
        &self.checkpoint
    }

    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// Verifies the log's signature: `log_key` must be Ed25519, named exactly like the
    /// origin, and its signature must be present and valid. Other signature lines
    /// (cosignatures, other keys) are ignored here; see `TrustPolicy` for those.
    pub fn verify(&self, log_key: &VerifierKey) -> Result<(), CheckpointError> {
        if log_key.key_type() != KeyType::Ed25519 {
            return Err(CheckpointError::WrongLogKeyType {
                found: log_key.key_type(),
            });
        }
        if log_key.name().as_str() != self.checkpoint.origin {
            return Err(CheckpointError::OriginMismatch {
                origin: self.checkpoint.origin.clone(),
                key_name: log_key.name().to_string(),
            });
        }
        match self.note.verify(std::slice::from_ref(log_key)) {
            Ok(_) => Ok(()),
            Err(NoteError::NoVerifiedSignature) => Err(CheckpointError::MissingLogSignature {
                key: log_key.to_string(),
            }),
            Err(NoteError::InvalidSignature { line, .. }) => {
                Err(CheckpointError::InvalidLogSignature {
                    key: log_key.to_string(),
                    line,
                })
            }
            Err(e) => Err(CheckpointError::Note(e)),
        }
    }

    /// Signature lines shaped like cosignature/v1 (72 bytes, timestamp in range).
    /// Candidates only: a line is a cosignature only if the matching key verifies it.
    pub fn cosignatures(&self) -> impl Iterator<Item = Cosignature> + '_ {
        self.note
            .signatures
            .iter()
            .filter(|s| s.signature.len() == COSIGNATURE_V1_LEN)
            .filter_map(|s| Cosignature::from_note_signature(s).ok())
    }

    /// The cosignature line matching `key`'s (name, key id), if any.
    pub fn cosignature_by(&self, key: &VerifierKey) -> Option<Cosignature> {
        self.cosignatures()
            .find(|c| c.key_id == key.key_id() && c.name == *key.name())
    }

    /// Adds (or replaces, for the same key) a cosignature line. Not verified here: the
    /// caller either produced it or verified it with the cosigner's key.
    pub fn add_cosignature(&mut self, cosignature: &Cosignature) -> Result<(), CheckpointError> {
        self.note.add_signature(cosignature.to_note_signature())?;
        Ok(())
    }
}
