//! Keeping the files that proofs read in the operating system's page cache.
//!
//! An inclusion proof reads about one 4 KiB block of the `hashes` column family below the
//! cached upper levels (decision 0009). On a host that proactively reclaims page cache it
//! has not seen used for a while (Linux DAMON-based reclaim with a `pageout` scheme, common
//! on cloud VMs; on the development VM: pages idle for 60 s are paged out, mapped or not),
//! a random proof then often finds its block evicted and waits for the disk: 100 µs to a few
//! milliseconds instead of about one. The block cache and the proof cache are process
//! memory, which such schemes leave alone, but holding every stored hash there costs
//! about 64 bytes per entry of process memory.
//!
//! A residency pass instead reads the `hashes` table files front to back through the page
//! cache, which marks their pages used again. Repeated more often than the host's idle
//! threshold, it keeps them resident for the price of a sequential read of the column
//! family (about 1 GB at 10^7 entries: a few hundred milliseconds of one core per pass),
//! and it adds nothing to the process's own memory. Passes read only files that RocksDB
//! lists as live, tolerate a file that compaction deletes meanwhile, and give up on a
//! column family larger than the caller's budget (a pass must stay cheap; beyond that,
//! size the host or exempt the service from reclaim).

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{RocksStorage, CF_HASHES};
use crate::error::{Result, StorageError};

/// Read size of a pass: large enough for sequential-read throughput, small enough to stop
/// promptly.
const CHUNK: usize = 1 << 20;

/// What one residency pass did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ResidencyPass {
    /// Table files read to the end.
    pub files: usize,
    /// Bytes read.
    pub bytes: u64,
    /// Live `hashes` table bytes when the pass started.
    pub live_bytes: u64,
    /// The pass did not run: the live bytes exceed the budget.
    pub over_budget: bool,
    /// The pass stopped early because it was asked to.
    pub stopped: bool,
}

impl RocksStorage {
    /// Reads the live table files of the `hashes` column family once, front to back, so the
    /// operating system keeps their pages resident (module docs). Does nothing and reports
    /// `over_budget` when they exceed `max_bytes`. Stops early when `stop` is set.
    pub fn touch_proof_files(&self, max_bytes: u64, stop: &AtomicBool) -> Result<ResidencyPass> {
        let files: Vec<(PathBuf, u64)> = self
            .db()
            .live_files()
            .map_err(|e| StorageError::engine("live_files", e))?
            .into_iter()
            .filter(|f| f.column_family_name == CF_HASHES)
            .map(|f| (table_path(self.db().path(), &f.name), f.size as u64))
            .collect();
        let live_bytes = files.iter().map(|(_, size)| size).sum();
        let mut pass = ResidencyPass {
            live_bytes,
            ..ResidencyPass::default()
        };
        if live_bytes > max_bytes {
            pass.over_budget = true;
            return Ok(pass);
        }
        let mut buffer = vec![0u8; CHUNK];
        for (path, _) in files {
            match read_through(&path, &mut buffer, stop) {
                Ok((bytes, finished)) => {
                    pass.bytes += bytes;
                    if !finished {
                        pass.stopped = true;
                        return Ok(pass);
                    }
                    pass.files += 1;
                }
                // Compaction replaced the file since it was listed: its successor is read
                // by the next pass.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(StorageError::io(&path, "reading a hashes table file", e)),
            }
        }
        Ok(pass)
    }
}

/// The path of a live file: RocksDB names them relative to the database directory, with a
/// leading slash.
fn table_path(db: &Path, name: &str) -> PathBuf {
    db.join(name.trim_start_matches('/'))
}

/// Reads `path` to the end; returns the bytes read and whether it got there.
fn read_through(path: &Path, buffer: &mut [u8], stop: &AtomicBool) -> std::io::Result<(u64, bool)> {
    let mut file = std::fs::File::open(path)?;
    let mut total = 0u64;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok((total, false));
        }
        let read = file.read(buffer)?;
        if read == 0 {
            return Ok((total, true));
        }
        total += read as u64;
    }
}
