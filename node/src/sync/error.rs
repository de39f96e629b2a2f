//! How a session ends when it does not end normally.

use credx_protocol::wire::ErrorCode;

/// Why a session ended early, on either side: the wire code (sent to the peer in
/// `Goodbye`, or received from it) and a detail naming origin, index and rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{kind} ({}): {detail}", if *by_peer { "said by the peer" } else { "our decision" })]
pub struct SessionEnd {
    /// The code sent to (or received from) the peer.
    pub code: ErrorCode,
    /// A short stable name for metrics (`fork`, `out_of_jurisdiction`, `stalled` ...).
    pub kind: &'static str,
    pub detail: String,
    /// Whether the peer said so (`Goodbye`/`Rejected` received) rather than we decided.
    pub by_peer: bool,
}

impl SessionEnd {
    pub fn new(code: ErrorCode, kind: &'static str, detail: impl Into<String>) -> SessionEnd {
        let mut detail = detail.into();
        // Wire detail fields are bounded (MAX_DETAIL_BYTES); keep a char boundary.
        if detail.len() > 1000 {
            let mut cut = 1000;
            while !detail.is_char_boundary(cut) {
                cut -= 1;
            }
            detail.truncate(cut);
        }
        SessionEnd {
            code,
            kind,
            detail,
            by_peer: false,
        }
    }

    pub fn internal(detail: impl Into<String>) -> SessionEnd {
        SessionEnd::new(ErrorCode::Internal, "internal", detail)
    }

    pub fn protocol(detail: impl Into<String>) -> SessionEnd {
        SessionEnd::new(ErrorCode::Malformed, "protocol", detail)
    }
}
