//! Why a frame is not an acceptable message.

use super::codes::ErrorCode;
use crate::codec;

/// A message could not be encoded, or a received frame is not an acceptable message.
#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("encoding failed: {0}")]
    Encode(#[from] codec::EncodeError),
    #[error("frame does not decode: {0}")]
    Decode(#[from] codec::DecodeError),
    /// A count or size beyond its limit.
    #[error("{message}.{field} is {found}, above the limit of {max}")]
    Limit {
        message: &'static str,
        field: &'static str,
        found: usize,
        max: usize,
    },
    /// A field that decodes but breaks a rule of the protocol.
    #[error("{message}.{field}: {reason}")]
    Invalid {
        message: &'static str,
        field: &'static str,
        reason: &'static str,
    },
}

impl WireError {
    /// The code to answer with in `Rejected` / `Goodbye`.
    pub fn code(&self) -> ErrorCode {
        match self {
            WireError::Limit { .. }
            | WireError::Encode(codec::EncodeError::TooLarge { .. })
            | WireError::Decode(codec::DecodeError::TooLarge { .. }) => ErrorCode::Oversized,
            WireError::Encode(_) => ErrorCode::Internal,
            WireError::Decode(_) | WireError::Invalid { .. } => ErrorCode::Malformed,
        }
    }
}
