//! Checkpoints as this node passes them on: the origin's signed note plus every
//! cosignature this node holds for it (its own as a parent, and those it received from
//! above), so the next verifier can see who vouched for it on the way.

use credx_protocol::note::{Cosignature, NoteSignature, SignedCheckpoint};
use credx_storage::Storage;

use super::error::SessionEnd;

/// `checkpoint` of `origin` with the stored cosignature lines for its size attached.
pub fn with_stored_cosignatures(
    store: &dyn Storage,
    origin: &str,
    mut checkpoint: SignedCheckpoint,
) -> Result<SignedCheckpoint, SessionEnd> {
    let size = checkpoint.checkpoint().size;
    let lines = store
        .cosignatures(origin, size)
        .map_err(|e| SessionEnd::internal(e.to_string()))?;
    for line in lines {
        let parsed = NoteSignature::parse_line(line.trim_end_matches('\n'))
            .ok()
            .and_then(|sig| Cosignature::from_note_signature(&sig).ok());
        match parsed {
            Some(cosignature) => {
                if let Err(e) = checkpoint.add_cosignature(&cosignature) {
                    tracing::warn!(origin, size, "stored cosignature not attached: {e}");
                }
            }
            None => tracing::warn!(origin, size, "stored cosignature line does not parse"),
        }
    }
    Ok(checkpoint)
}

/// The latest checkpoint of `origin` this node holds, with its cosignatures.
pub fn latest_with_cosignatures(
    store: &dyn Storage,
    origin: &str,
) -> Result<Option<SignedCheckpoint>, SessionEnd> {
    let latest = store
        .latest_signed_checkpoint(origin)
        .map_err(|e| SessionEnd::internal(e.to_string()))?;
    latest
        .map(|cp| with_stored_cosignatures(store, origin, cp))
        .transpose()
}
