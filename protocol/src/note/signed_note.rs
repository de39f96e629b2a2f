//! C2SP signed-note: parsing, serialising, signing and verifying notes.
//!
//! ```text
//! <text, ending in \n>
//! <blank line>
//! — <key name> <base64(4-byte key id || signature)>\n   (one or more)
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::error::{NoteError, SignatureLineError};
use super::key::{CosignerKey, KeyName, KeyType, NoteSigner, VerifierKey};
use super::limits::{MAX_NOTE_SIZE, MAX_SIGNATURES};

/// Em dash U+2014 followed by a space: the prefix of every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Something that can add a signature line to a note.
pub trait Signer {
    /// The key name written on the signature line.
    fn name(&self) -> &KeyName;
    /// The key id written in the first four signature bytes.
    fn key_id(&self) -> u32;
    /// The signature bytes (after the key id) over the note text.
    fn sign(&self, text: &[u8]) -> Vec<u8>;
}

impl Signer for NoteSigner {
    fn name(&self) -> &KeyName {
        NoteSigner::name(self)
    }
    fn key_id(&self) -> u32 {
        NoteSigner::key_id(self)
    }
    fn sign(&self, text: &[u8]) -> Vec<u8> {
        self.sign_raw(text).to_vec()
    }
}

/// A [`CosignerKey`] bound to the timestamp it will put in its cosignatures: a
/// cosignature/v1 cannot be made without one. Obtain it with [`CosignerKey::at`].
#[derive(Debug, Clone, Copy)]
pub struct TimestampedCosigner<'a> {
    key: &'a CosignerKey,
    timestamp: u64,
}

impl CosignerKey {
    /// Binds this key to a cosignature timestamp (POSIX seconds, at most 2^63-1).
    pub fn at(&self, timestamp: u64) -> Result<TimestampedCosigner<'_>, super::CosignatureError> {
        super::cosignature::check_timestamp(timestamp)?;
        Ok(TimestampedCosigner {
            key: self,
            timestamp,
        })
    }
}

impl Signer for TimestampedCosigner<'_> {
    fn name(&self) -> &KeyName {
        self.key.name()
    }
    fn key_id(&self) -> u32 {
        self.key.key_id()
    }
    fn sign(&self, text: &[u8]) -> Vec<u8> {
        let msg = super::cosignature::signed_message(text, self.timestamp);
        let sig = self.key.sign_raw(&msg);
        let mut out = Vec::with_capacity(72);
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&sig);
        out
    }
}

/// One signature line: key name, key id and the signature bytes that follow the id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: KeyName,
    pub key_id: u32,
    pub signature: Vec<u8>,
}

impl NoteSignature {
    /// Parses one line (without its trailing newline).
    pub fn parse_line(line: &str) -> Result<NoteSignature, SignatureLineError> {
        let rest = line
            .strip_prefix(SIG_PREFIX)
            .ok_or(SignatureLineError::MissingEmDash)?;
        let (name, b64) = rest
            .split_once(' ')
            .ok_or(SignatureLineError::MissingSignature)?;
        let name = KeyName::new(name).map_err(SignatureLineError::BadKeyName)?;
        // The engine rejects non-canonical padding and trailing bits, so a signature line
        // has a single accepted spelling (and a trailing space or second field fails here).
        let raw = BASE64
            .decode(b64)
            .map_err(|_| SignatureLineError::NotBase64)?;
        if raw.len() < 5 {
            return Err(SignatureLineError::TooShort { len: raw.len() });
        }
        let (id, sig) = raw.split_at(4);
        let key_id = u32::from_be_bytes([id[0], id[1], id[2], id[3]]);
        Ok(NoteSignature {
            name,
            key_id,
            signature: sig.to_vec(),
        })
    }

    /// The line without its trailing newline.
    pub fn to_line(&self) -> String {
        let mut raw = Vec::with_capacity(4 + self.signature.len());
        raw.extend_from_slice(&self.key_id.to_be_bytes());
        raw.extend_from_slice(&self.signature);
        format!("{SIG_PREFIX}{} {}", self.name, BASE64.encode(raw))
    }

    fn matches(&self, key: &VerifierKey) -> bool {
        self.key_id == key.key_id() && self.name == *key.name()
    }
}

/// A note: text plus signature lines, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedNote {
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

/// One signature that verified against a known key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedSignature {
    pub key: VerifierKey,
    /// The cosignature timestamp, for type 0x04 keys.
    pub timestamp: Option<u64>,
}

/// The result of [`SignedNote::verify`]: the text is trustworthy as far as `verified` goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedNote {
    pub text: String,
    /// One entry per known key that signed (a key that signed twice appears once).
    pub verified: Vec<VerifiedSignature>,
    /// Signatures by keys the caller did not list, ignored as the spec requires.
    pub unverified: Vec<NoteSignature>,
}

/// Checks the note-text rules shared by signing and parsing: UTF-8 (given by `&str`),
/// no control characters except newline, ends with newline.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::EmptyText);
    }
    check_control_chars(text, 1)?;
    if !text.ends_with('\n') {
        return Err(NoteError::TextMissingFinalNewline);
    }
    Ok(())
}

/// Rejects ASCII control characters other than `\n`, reporting the 1-based line.
/// (DEL 0x7f is not below U+0020 and so is allowed, as in the spec.)
fn check_control_chars(s: &str, first_line: usize) -> Result<(), NoteError> {
    let mut line = first_line;
    for b in s.bytes() {
        if b == b'\n' {
            line += 1;
        } else if b < 0x20 {
            return Err(NoteError::ControlCharacter { line, byte: b });
        }
    }
    Ok(())
}

impl SignedNote {
    /// Signs `text` with every signer, in order.
    pub fn sign(text: impl Into<String>, signers: &[&dyn Signer]) -> Result<SignedNote, NoteError> {
        let text = text.into();
        check_text(&text)?;
        let mut note = SignedNote {
            text,
            signatures: Vec::new(),
        };
        for signer in signers {
            note.add_signer(*signer)?;
        }
        note.check_size()?;
        Ok(note)
    }

    /// Signs the text with one more signer (replacing an earlier signature by the same key).
    pub fn add_signer(&mut self, signer: &dyn Signer) -> Result<(), NoteError> {
        let sig = NoteSignature {
            name: signer.name().clone(),
            key_id: signer.key_id(),
            signature: signer.sign(self.text.as_bytes()),
        };
        self.add_signature(sig)
    }

    /// Appends a signature line. A line with the same (name, key id) is replaced, as
    /// Go's `note.Sign` does, so re-signing never produces two lines for one key.
    /// Fails when the note would exceed the signature-count or size limits, so that
    /// everything we emit is something we (and peers with the same limits) accept.
    pub fn add_signature(&mut self, sig: NoteSignature) -> Result<(), NoteError> {
        let replaced = self
            .signatures
            .iter()
            .position(|s| s.name == sig.name && s.key_id == sig.key_id);
        match replaced {
            Some(i) => self.signatures[i] = sig,
            None => {
                if self.signatures.len() >= MAX_SIGNATURES {
                    return Err(NoteError::TooManySignatures {
                        count: self.signatures.len() + 1,
                        max: MAX_SIGNATURES,
                    });
                }
                self.signatures.push(sig);
            }
        }
        self.check_size()
    }

    fn check_size(&self) -> Result<(), NoteError> {
        let size = self.encoded_len();
        if size > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size,
                max: MAX_NOTE_SIZE,
            });
        }
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        let sigs: usize = self
            .signatures
            .iter()
            .map(|s| {
                SIG_PREFIX.len()
                    + s.name.as_str().len()
                    + 1
                    + (4 + s.signature.len()).div_ceil(3) * 4
                    + 1
            })
            .sum();
        self.text.len() + 1 + sigs
    }

    /// The wire form: text, blank line, one line per signature.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::with_capacity(self.encoded_len());
        out.push_str(&self.text);
        out.push('\n');
        for sig in &self.signatures {
            out.push_str(&sig.to_line());
            out.push('\n');
        }
        out.into_bytes()
    }

    /// Strict parse of a signed note.
    pub fn parse(bytes: &[u8]) -> Result<SignedNote, NoteError> {
        if bytes.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge {
                size: bytes.len(),
                max: MAX_NOTE_SIZE,
            });
        }
        let s = std::str::from_utf8(bytes).map_err(|e| NoteError::NotUtf8 {
            offset: e.valid_up_to(),
        })?;
        check_control_chars(s, 1)?;
        // The LAST blank line separates text from signatures: the text may contain
        // blank lines, signature lines never can.
        let (text, sig_block) = s
            .rsplit_once("\n\n")
            .ok_or(NoteError::MissingSignatureBlock)?;
        let text = format!("{text}\n");
        // Nothing after the last blank line: the note ends in a blank line, no signatures.
        if sig_block.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        let sig_block = sig_block
            .strip_suffix('\n')
            .ok_or(NoteError::MissingFinalNewline)?;
        // Line number of the first signature line: text lines + the blank line + 1.
        let first_sig_line = text.matches('\n').count() + 2;
        let mut signatures = Vec::new();
        for (i, line) in sig_block.split('\n').enumerate() {
            if i >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures {
                    count: sig_block.split('\n').count(),
                    max: MAX_SIGNATURES,
                });
            }
            let sig =
                NoteSignature::parse_line(line).map_err(|reason| NoteError::BadSignatureLine {
                    line: first_sig_line + i,
                    reason,
                })?;
            signatures.push(sig);
        }
        Ok(SignedNote { text, signatures })
    }

    /// Verifies the note against `known` keys, following signed-note §Signatures:
    /// signatures whose (name, key id) match no known key are ignored; a known key's
    /// signature that fails rejects the whole note; at least one must verify.
    ///
    /// Type 0x04 keys verify `cosignature/v1` signatures over this text.
    pub fn verify(&self, known: &[VerifierKey]) -> Result<VerifiedNote, NoteError> {
        let mut verified: Vec<VerifiedSignature> = Vec::new();
        let mut unverified = Vec::new();
        let first_sig_line = self.text.matches('\n').count() + 2;
        for (i, sig) in self.signatures.iter().enumerate() {
            let key = match find_known(known, sig)? {
                Some(key) => key,
                None => {
                    if !unverified.contains(sig) {
                        unverified.push(sig.clone());
                    }
                    continue;
                }
            };
            let timestamp =
                verify_one(key, self.text.as_bytes(), &sig.signature).ok_or_else(|| {
                    NoteError::InvalidSignature {
                        name: sig.name.to_string(),
                        key_id: sig.key_id,
                        line: first_sig_line + i,
                    }
                })?;
            if !verified.iter().any(|v| v.key == *key) {
                verified.push(VerifiedSignature {
                    key: key.clone(),
                    timestamp,
                });
            }
        }
        if verified.is_empty() {
            return Err(NoteError::NoVerifiedSignature);
        }
        Ok(VerifiedNote {
            text: self.text.clone(),
            verified,
            unverified,
        })
    }
}

/// The known key matching a signature's (name, key id), if any. Two *different* known
/// keys with the same pair are a configuration error we refuse to guess about.
fn find_known<'k>(
    known: &'k [VerifierKey],
    sig: &NoteSignature,
) -> Result<Option<&'k VerifierKey>, NoteError> {
    let mut found: Option<&VerifierKey> = None;
    for key in known.iter().filter(|k| sig.matches(k)) {
        match found {
            Some(prev) if prev != key => {
                return Err(NoteError::AmbiguousKey {
                    name: sig.name.to_string(),
                    key_id: sig.key_id,
                })
            }
            _ => found = Some(key),
        }
    }
    Ok(found)
}

/// Verifies one signature by `key` over note `text`. `Some(timestamp)` on success
/// (`Some(None)` for plain Ed25519), `None` on failure.
fn verify_one(key: &VerifierKey, text: &[u8], sig: &[u8]) -> Option<Option<u64>> {
    match key.key_type() {
        KeyType::Ed25519 => key.verify_raw(text, sig).then_some(None),
        KeyType::CosignatureV1 => {
            let (timestamp, sig) = super::cosignature::split_signature(sig).ok()?;
            let msg = super::cosignature::signed_message(text, timestamp);
            key.verify_raw(&msg, &sig).then_some(Some(timestamp))
        }
    }
}
