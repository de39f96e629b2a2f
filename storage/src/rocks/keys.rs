//! Byte layouts of keys and small values, one function per layout.
//!
//! All integers are big-endian so that RocksDB's bytewise order is numeric order: the entries
//! of one log are contiguous and ordered by index, checkpoints by size, and so on. Variable
//! strings that are followed by more key material carry a 2-byte length prefix so that no
//! key is a prefix of a key of another string (`"ab" + x` vs `"a" + "b…"`).
//!
//! Decoding never panics: a short or malformed value is a [`StorageError::Corrupt`] naming
//! the column family and key.

use credx_protocol::merkle::Hash;

use crate::error::{Result, StorageError};

/// Origins are numbered (u32) in keys: 4 bytes instead of the name on every entry and hash.
pub type OriginId = u32;

/// `origin_id || n` — entries (n = index), hashes (n = stored-hash index), checkpoints
/// (n = size).
pub fn origin_u64(origin: OriginId, n: u64) -> [u8; 12] {
    let mut key = [0u8; 12];
    key[..4].copy_from_slice(&origin.to_be_bytes());
    key[4..].copy_from_slice(&n.to_be_bytes());
    key
}

/// `len(s) as u16 || s` — a self-delimiting string component.
pub fn push_str(out: &mut Vec<u8>, s: &str) -> Result<()> {
    let len = u16::try_from(s.len()).map_err(|_| StorageError::InvalidBatch {
        origin: String::new(),
        reason: format!("key component of {} bytes exceeds 65535", s.len()),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

/// Prefix of all keys that start with the self-delimited string `s`.
pub fn str_prefix(s: &str) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(2 + s.len());
    push_str(&mut out, s)?;
    Ok(out)
}

/// A cursor over a stored value; every read names the CF and key on failure.
pub struct ValueReader<'a> {
    cf: &'static str,
    key: &'a [u8],
    rest: &'a [u8],
}

impl<'a> ValueReader<'a> {
    pub fn new(cf: &'static str, key: &'a [u8], value: &'a [u8]) -> Self {
        ValueReader {
            cf,
            key,
            rest: value,
        }
    }

    fn corrupt(&self, reason: impl Into<String>) -> StorageError {
        StorageError::corrupt(self.cf, self.key, reason)
    }

    pub fn bytes(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.rest.len() < n {
            return Err(self.corrupt(format!("needs {n} more bytes, has {}", self.rest.len())));
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        Ok(head)
    }

    pub fn u8(&mut self) -> Result<u8> {
        Ok(self.bytes(1)?[0])
    }

    pub fn u32(&mut self) -> Result<u32> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.bytes(4)?);
        Ok(u32::from_be_bytes(b))
    }

    pub fn u64(&mut self) -> Result<u64> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.bytes(8)?);
        Ok(u64::from_be_bytes(b))
    }

    pub fn hash(&mut self) -> Result<Hash> {
        let mut b = [0u8; 32];
        b.copy_from_slice(self.bytes(32)?);
        Ok(Hash(b))
    }

    /// A `u32` length followed by that many bytes.
    pub fn blob(&mut self) -> Result<&'a [u8]> {
        let len = self.u32()? as usize;
        self.bytes(len)
    }

    /// A `u16` length followed by UTF-8.
    pub fn str16(&mut self) -> Result<&'a str> {
        let mut b = [0u8; 2];
        b.copy_from_slice(self.bytes(2)?);
        let raw = self.bytes(usize::from(u16::from_be_bytes(b)))?;
        std::str::from_utf8(raw).map_err(|e| self.corrupt(format!("invalid UTF-8: {e}")))
    }

    /// The remaining bytes as UTF-8.
    pub fn rest_str(&mut self) -> Result<&'a str> {
        let raw = std::mem::take(&mut self.rest);
        std::str::from_utf8(raw).map_err(|e| self.corrupt(format!("invalid UTF-8: {e}")))
    }

    pub fn finish(&self) -> Result<()> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(self.corrupt(format!("{} trailing bytes", self.rest.len())))
        }
    }
}

/// `u32 len || bytes`.
pub fn push_blob(out: &mut Vec<u8>, bytes: &[u8]) -> Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| StorageError::InvalidBatch {
        origin: String::new(),
        reason: format!("value of {} bytes exceeds 4 GiB", bytes.len()),
    })?;
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
    Ok(())
}

/// Decodes a 32-byte hash value.
pub fn decode_hash(cf: &'static str, key: &[u8], value: &[u8]) -> Result<Hash> {
    let mut r = ValueReader::new(cf, key, value);
    let h = r.hash()?;
    r.finish()?;
    Ok(h)
}

/// Decodes a 12-byte `origin_id || u64` value (entry locations in indexes).
pub fn decode_origin_u64(cf: &'static str, key: &[u8], value: &[u8]) -> Result<(OriginId, u64)> {
    let mut r = ValueReader::new(cf, key, value);
    let id = r.u32()?;
    let n = r.u64()?;
    r.finish()?;
    Ok((id, n))
}

/// The smallest key greater than every key starting with `prefix` (exclusive upper bound
/// for prefix scans); `None` if the prefix is all 0xff.
pub fn prefix_successor(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut bound = prefix.to_vec();
    while let Some(last) = bound.pop() {
        if last != 0xff {
            bound.push(last + 1);
            return Some(bound);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_u64_orders_numerically() {
        assert!(origin_u64(1, 255) < origin_u64(1, 256));
        assert!(origin_u64(1, u64::MAX) < origin_u64(2, 0));
    }

    #[test]
    fn prefix_successor_bounds() {
        assert_eq!(prefix_successor(&[1, 2]), Some(vec![1, 3]));
        assert_eq!(prefix_successor(&[1, 0xff]), Some(vec![2]));
        assert_eq!(prefix_successor(&[0xff]), None);
    }

    #[test]
    fn reader_reports_short_values() {
        let mut r = ValueReader::new("cf", b"k", &[0, 0, 0, 9, 1]);
        assert!(matches!(
            r.blob(),
            Err(StorageError::Corrupt { cf: "cf", .. })
        ));
    }
}
