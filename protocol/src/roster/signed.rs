//! The signed roster: a C2SP signed note whose text is the canonical roster text, signed by
//! the national trust root's Ed25519 note key.
//!
//! Notes in general are capped at 64 KiB ([`crate::note::limits::MAX_NOTE_SIZE`]), but a
//! national roster lists thousands of nodes (~300 bytes each), so rosters have their own,
//! larger cap, [`MAX_ROSTER_BYTES`]. The note syntax is exactly signed-note's; only the size
//! differs, which is why parsing is done here rather than by [`SignedNote::parse`].

use super::error::RosterError;
use super::model::Roster;
use super::validate::validate;
use super::verified::VerifiedRoster;
use crate::note::limits::MAX_SIGNATURES;
use crate::note::{KeyType, NoteError, NoteSignature, NoteSigner, SignedNote, VerifierKey};

/// Largest signed roster, in bytes. 10,000 node lines of ~350 bytes fit with room to spare,
/// and the whole note still fits in one wire frame (`codec::MAX_FRAME_BYTES`, 8 MiB) with the
/// framing around it.
pub const MAX_ROSTER_BYTES: usize = 7 * 1024 * 1024;

/// How far a node's clock may lag the trust root's before a fresh roster counts as "not yet
/// valid". Expiry gets no such allowance: an expired roster is expired.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// A roster as received: signed note syntax checked, nothing verified yet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRoster {
    note: SignedNote,
}

impl SignedRoster {
    /// Validates `roster` against every federation rule and signs its canonical text with
    /// the trust root. Refuses what a verifier would refuse, so nothing invalid is ever
    /// signed.
    pub fn sign(roster: &Roster, root: &NoteSigner) -> Result<SignedRoster, RosterError> {
        validate(roster)?;
        let text = roster.to_text();
        let mut roster = SignedRoster {
            note: SignedNote {
                text,
                signatures: Vec::new(),
            },
        };
        roster.add_signature(root)?;
        Ok(roster)
    }

    /// Adds (or replaces) a signature by another root key, e.g. the incoming root while a
    /// root key is being rotated, so nodes configured with either accept the roster.
    pub fn add_signature(&mut self, signer: &NoteSigner) -> Result<(), RosterError> {
        let sig = NoteSignature {
            name: signer.name().clone(),
            key_id: signer.key_id(),
            signature: signer.sign_raw(self.note.text.as_bytes()).to_vec(),
        };
        let same = |s: &NoteSignature| s.name == sig.name && s.key_id == sig.key_id;
        if let Some(existing) = self.note.signatures.iter_mut().find(|s| same(s)) {
            *existing = sig;
        } else {
            if self.note.signatures.len() >= MAX_SIGNATURES {
                return Err(RosterError::MalformedNote(NoteError::TooManySignatures {
                    count: self.note.signatures.len() + 1,
                    max: MAX_SIGNATURES,
                }));
            }
            self.note.signatures.push(sig);
        }
        let size = self.note.to_bytes().len();
        if size > MAX_ROSTER_BYTES {
            return Err(RosterError::TooLarge {
                size,
                max: MAX_ROSTER_BYTES,
            });
        }
        Ok(())
    }

    /// Strict parse of the signed-note syntax (bounded by [`MAX_ROSTER_BYTES`]). The roster
    /// text itself is parsed by [`SignedRoster::verify`], after the signature checks out.
    pub fn parse(bytes: &[u8]) -> Result<SignedRoster, RosterError> {
        if bytes.len() > MAX_ROSTER_BYTES {
            return Err(RosterError::TooLarge {
                size: bytes.len(),
                max: MAX_ROSTER_BYTES,
            });
        }
        let malformed = RosterError::MalformedNote;
        let s = std::str::from_utf8(bytes).map_err(|e| {
            malformed(NoteError::NotUtf8 {
                offset: e.valid_up_to(),
            })
        })?;
        check_control_chars(s).map_err(malformed)?;
        // As in signed-note: the LAST blank line separates text and signatures.
        let (text, sig_block) = s
            .rsplit_once("\n\n")
            .ok_or(malformed(NoteError::MissingSignatureBlock))?;
        if sig_block.is_empty() {
            return Err(malformed(NoteError::NoSignatures));
        }
        let sig_block = sig_block
            .strip_suffix('\n')
            .ok_or(malformed(NoteError::MissingFinalNewline))?;
        let text = format!("{text}\n");
        let first_sig_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        for (i, line) in sig_block.split('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(malformed(NoteError::TooManySignatures {
                    count: sig_block.split('\n').count(),
                    max: MAX_SIGNATURES,
                }));
            }
            let sig = NoteSignature::parse_line(line).map_err(|reason| {
                malformed(NoteError::BadSignatureLine {
                    line: first_sig_line + i,
                    reason,
                })
            })?;
            signatures.push(sig);
        }
        Ok(SignedRoster {
            note: SignedNote { text, signatures },
        })
    }

    /// The wire form (what [`SignedRoster::parse`] reads and `RosterOffer` carries).
    pub fn to_bytes(&self) -> Vec<u8> {
        self.note.to_bytes()
    }

    /// The signed text (unverified until [`SignedRoster::verify`] succeeds).
    pub fn text(&self) -> &str {
        &self.note.text
    }

    /// The signed note.
    pub fn note(&self) -> &SignedNote {
        &self.note
    }

    /// Verifies the trust root's signature, parses and validates the roster, then checks
    /// that it is valid at `now_unix` (issued, within [`MAX_CLOCK_SKEW_SECS`], and not
    /// expired).
    pub fn verify(&self, root: &VerifierKey, now_unix: u64) -> Result<VerifiedRoster, RosterError> {
        let verified = self.verify_ignoring_time(root)?;
        verified.check_time(now_unix)?;
        Ok(verified)
    }

    /// Signature, syntax and federation rules, without the validity window: for showing an
    /// expired roster to an operator, and for ordering checks before time checks.
    pub fn verify_ignoring_time(&self, root: &VerifierKey) -> Result<VerifiedRoster, RosterError> {
        if root.key_type() != KeyType::Ed25519 {
            return Err(RosterError::RootKeyType {
                root: root.to_string(),
                found: root.key_type(),
            });
        }
        // Signature first: nothing in an unauthenticated text is worth parsing.
        self.note
            .verify(std::slice::from_ref(root))
            .map_err(|reason| RosterError::BadSignature {
                root: root.to_string(),
                reason,
            })?;
        let roster = Roster::parse_text(&self.note.text)?;
        let checked = validate(&roster)?;
        Ok(VerifiedRoster::new(
            roster,
            self.clone(),
            root.clone(),
            checked,
        ))
    }
}

/// Control characters other than newline are not allowed anywhere in a note.
fn check_control_chars(s: &str) -> Result<(), NoteError> {
    let mut line = 1;
    for b in s.bytes() {
        if b == b'\n' {
            line += 1;
        } else if b < 0x20 {
            return Err(NoteError::ControlCharacter { line, byte: b });
        }
    }
    Ok(())
}
