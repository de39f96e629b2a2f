//! The federation sync protocol's messages: versioned, framed through the one codec,
//! bounded on decode.
//!
//! * [`messages`]: [`Message`], [`FeedItem`], [`PROTOCOL_VERSION`], [`ALPN`].
//! * [`codes`]: [`ErrorCode`], stable numeric refusal codes.
//! * [`limits`]: the per-field limits.
//! * `bounded`: count limits enforced while decoding.
//!
//! Pure: what to send and how to read it. Sessions, streams and storage live in `node`.

mod bounded;
mod bytes;
pub mod codes;
mod error;
pub mod limits;
pub mod messages;

pub use codes::ErrorCode;
pub use error::WireError;
pub use messages::{FeedItem, Message, ALPN, PROTOCOL_VERSION};
