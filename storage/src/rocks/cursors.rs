//! Sync cursors per (peer, origin): `len‖peer ‖ origin` → `size ‖ root ‖ updated_at_ms ‖ session`.
//!
//! A mirror's cursor is normally advanced inside the append that writes the entries it
//! covers (`AppendBatch::cursor`), so entries and cursor are durable together;
//! [`CursorStore::set_cursor`] is for cursors that move without entries (downward feeds,
//! resets), and is itself one synced write.

use rocksdb::WriteBatch;

use super::keys::{str_prefix, ValueReader};
use super::{RocksStorage, CF_CURSORS};
use crate::api::{Cursor, CursorStore};
use crate::error::Result;

fn cursor_key(peer: &str, origin: &str) -> Result<Vec<u8>> {
    let mut key = str_prefix(peer)?;
    key.extend_from_slice(origin.as_bytes());
    Ok(key)
}

fn encode_cursor(c: &Cursor) -> Vec<u8> {
    let mut v = Vec::with_capacity(48 + c.session_id.len());
    v.extend_from_slice(&c.size.to_be_bytes());
    v.extend_from_slice(&c.root.0);
    v.extend_from_slice(&c.updated_at_ms.to_be_bytes());
    v.extend_from_slice(c.session_id.as_bytes());
    v
}

fn decode_cursor(key: &[u8], value: &[u8]) -> Result<Cursor> {
    let mut r = ValueReader::new(CF_CURSORS, key, value);
    let size = r.u64()?;
    let root = r.hash()?;
    let updated_at_ms = r.u64()?;
    let session_id = r.rest_str()?.to_string();
    Ok(Cursor {
        size,
        root,
        session_id,
        updated_at_ms,
    })
}

impl RocksStorage {
    pub(crate) fn put_cursor(
        &self,
        wb: &mut WriteBatch,
        peer: &str,
        origin: &str,
        c: &Cursor,
    ) -> Result<()> {
        wb.put_cf(
            self.cf(CF_CURSORS)?,
            cursor_key(peer, origin)?,
            encode_cursor(c),
        );
        Ok(())
    }
}

impl CursorStore for RocksStorage {
    fn cursor(&self, peer: &str, origin: &str) -> Result<Option<Cursor>> {
        let key = cursor_key(peer, origin)?;
        self.get(CF_CURSORS, &key)?
            .map(|v| decode_cursor(&key, &v))
            .transpose()
    }

    fn set_cursor(&self, peer: &str, origin: &str, cursor: &Cursor) -> Result<()> {
        let mut wb = WriteBatch::default();
        self.put_cursor(&mut wb, peer, origin, cursor)?;
        self.write("set_cursor", wb)
    }
}
