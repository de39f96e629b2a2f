//! Shared helpers for the storage integration tests (real RocksDB in temp dirs).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::sync::Arc;

use credx_protocol::merkle::{leaf_hash, Hash};
use credx_protocol::note::{KeyName, NoteSigner};
use credx_storage::{AppendBatch, LogRole, LogStore, RocksStorage, StorageOptions};

pub const ORIGIN: &str = "420281.credx";
pub const MIRROR: &str = "420282.credx";

pub fn open(path: &Path) -> Arc<RocksStorage> {
    Arc::new(RocksStorage::open(path, &StorageOptions::default()).unwrap())
}

pub fn signer(origin: &str) -> NoteSigner {
    NoteSigner::generate(KeyName::new(origin).unwrap(), &mut rand::rngs::OsRng)
}

/// Deterministic, unique entry bytes for index `i` of a test log.
pub fn entry(tag: &str, i: u64) -> Vec<u8> {
    let mut e = format!("{tag}/{i}/").into_bytes();
    e.resize(64 + (i % 97) as usize, b'x');
    e
}

pub fn entries(tag: &str, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    range.map(|i| entry(tag, i)).collect()
}

pub fn leaves(entries: &[Vec<u8>]) -> Vec<Hash> {
    entries.iter().map(|e| leaf_hash(e)).collect()
}

pub fn batch(entries: Vec<Vec<u8>>) -> AppendBatch {
    AppendBatch {
        entries,
        ..AppendBatch::default()
    }
}

/// A registered own log holding `n` entries appended in batches of `chunk`.
pub fn filled(store: &RocksStorage, origin: &str, n: u64, chunk: u64) -> Vec<Vec<u8>> {
    store.register_log(origin, LogRole::Own).unwrap();
    let all = entries(origin, 0..n);
    let mut size = 0;
    for c in all.chunks(chunk as usize) {
        size = store
            .append(origin, size, batch(c.to_vec()))
            .unwrap()
            .new_size;
    }
    all
}

/// Copies a (closed) RocksDB directory, for backup/restore tests.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
