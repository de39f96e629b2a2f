//! C2SP tlog-proof (`c2sp.org/tlog-proof@v1`): a self-contained, offline-verifiable proof
//! that an entry is in a log, as observed by the log's cosigners.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra <base64>            (optional, unauthenticated)
//! index <decimal>
//! <base64 hash>             (zero or more: leaf sibling first, root child last)
//!
//! <signed checkpoint, verbatim>
//! ```

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;

use super::checkpoint::{parse_canonical_hash, parse_canonical_u64, SignedCheckpoint};
use super::cosignature::Cosignature;
use super::error::TlogProofError;
use super::key::VerifierKey;
use super::limits::{MAX_PROOF_EXTRA, MAX_PROOF_HASHES, MAX_PROOF_SIZE};
use super::policy::TrustPolicy;
use crate::merkle::{verify_inclusion, Hash};

/// The first line of every tlog-proof.
pub const TLOG_PROOF_MAGIC: &str = "c2sp.org/tlog-proof@v1";

/// A parsed tlog-proof. Nothing in it is trusted until [`TlogProof::verify`] succeeds;
/// `extra` is never authenticated, even then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub inclusion: Vec<Hash>,
    pub checkpoint: SignedCheckpoint,
}

/// What a successful [`TlogProof::verify`] established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedProof {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub index: u64,
    pub leaf_hash: Hash,
    pub log_key: VerifierKey,
    /// Cosignatures that verified against the policy (whatever the quorum needed).
    pub cosignatures: Vec<Cosignature>,
}

impl VerifiedProof {
    /// Key names of the cosigners whose cosignatures verified.
    pub fn cosigner_names(&self) -> Vec<String> {
        self.cosignatures
            .iter()
            .map(|c| c.name.to_string())
            .collect()
    }
}

impl TlogProof {
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = String::new();
        out.push_str(TLOG_PROOF_MAGIC);
        out.push('\n');
        if let Some(extra) = &self.extra {
            out.push_str("extra ");
            out.push_str(&BASE64.encode(extra));
            out.push('\n');
        }
        out.push_str(&format!("index {}\n", self.index));
        for h in &self.inclusion {
            out.push_str(&h.to_base64());
            out.push('\n');
        }
        out.push('\n');
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.checkpoint.to_bytes());
        bytes
    }

    /// Strict parse. The header ends at the first blank line; everything after it is the
    /// checkpoint, parsed with [`SignedCheckpoint::parse`].
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, TlogProofError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(TlogProofError::TooLarge {
                size: bytes.len(),
                max: MAX_PROOF_SIZE,
            });
        }
        let split = bytes
            .windows(2)
            .position(|w| w == b"\n\n")
            .ok_or(TlogProofError::MissingCheckpoint)?;
        let header = &bytes[..split];
        let checkpoint_bytes = &bytes[split + 2..];

        let mut lines = header.split(|&b| b == b'\n').enumerate().map(|(i, l)| {
            let line = i + 1;
            std::str::from_utf8(l)
                .map(|s| (line, s))
                .map_err(|_| TlogProofError::NotUtf8 { line })
        });
        let mut next = |missing: TlogProofError| lines.next().unwrap_or(Err(missing));

        let (_, magic) = next(TlogProofError::BadMagic)?;
        if magic != TLOG_PROOF_MAGIC {
            return Err(TlogProofError::BadMagic);
        }
        let (mut line, mut text) = next(TlogProofError::MissingIndex { line: 2 })?;
        let mut extra = None;
        if let Some(b64) = text.strip_prefix("extra ") {
            // Bound before decoding: base64 inflates by 4/3.
            if b64.len() > MAX_PROOF_EXTRA.div_ceil(3) * 4 {
                return Err(TlogProofError::ExtraTooLarge {
                    line,
                    len: b64.len() / 4 * 3,
                    max: MAX_PROOF_EXTRA,
                });
            }
            let data = BASE64
                .decode(b64)
                .map_err(|_| TlogProofError::BadExtra { line })?;
            if data.len() > MAX_PROOF_EXTRA {
                return Err(TlogProofError::ExtraTooLarge {
                    line,
                    len: data.len(),
                    max: MAX_PROOF_EXTRA,
                });
            }
            extra = Some(data);
            (line, text) = next(TlogProofError::MissingIndex { line: line + 1 })?;
        }
        let index_str = text
            .strip_prefix("index ")
            .ok_or(TlogProofError::MissingIndex { line })?;
        let index = parse_canonical_u64(index_str).map_err(|_| TlogProofError::BadIndex {
            line,
            found: index_str.chars().take(32).collect(),
        })?;
        let mut inclusion = Vec::new();
        for item in lines {
            let (line, text) = item?;
            if inclusion.len() >= MAX_PROOF_HASHES {
                return Err(TlogProofError::TooManyHashes {
                    max: MAX_PROOF_HASHES,
                });
            }
            let h = parse_canonical_hash(text).map_err(|e| match e {
                Some(reason) => TlogProofError::BadHash { line, reason },
                None => TlogProofError::NonCanonicalHash { line },
            })?;
            inclusion.push(h);
        }
        let checkpoint =
            SignedCheckpoint::parse(checkpoint_bytes).map_err(TlogProofError::Checkpoint)?;
        Ok(TlogProof {
            extra,
            index,
            inclusion,
            checkpoint,
        })
    }

    /// Verifies, in the order tlog-proof prescribes: the log signature (key chosen by the
    /// policy from the origin), the cosigner quorum, then inclusion of `leaf_hash` (the
    /// RFC 6962 leaf hash, which the application computes from its entry).
    pub fn verify(
        &self,
        leaf_hash: &Hash,
        policy: &TrustPolicy,
    ) -> Result<VerifiedProof, TlogProofError> {
        let verified = policy.verify_checkpoint(&self.checkpoint)?;
        let cp = self.checkpoint.checkpoint();
        if self.index >= cp.size {
            return Err(TlogProofError::IndexOutOfRange {
                index: self.index,
                size: cp.size,
            });
        }
        verify_inclusion(leaf_hash, self.index, cp.size, &self.inclusion, &cp.root)
            .map_err(TlogProofError::Inclusion)?;
        Ok(VerifiedProof {
            origin: cp.origin.clone(),
            size: cp.size,
            root: cp.root,
            index: self.index,
            leaf_hash: *leaf_hash,
            log_key: verified.log_key,
            cosignatures: verified.cosignatures,
        })
    }
}
