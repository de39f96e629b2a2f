//! RFC 6962 Merkle trees: hashing, proof generation over stored hashes, proof verification.

mod hash;

pub use hash::{Hash, HashParseError};
