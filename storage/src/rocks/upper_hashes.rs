//! The upper levels of every log's stored-hash tree, held in memory under one byte budget.
//!
//! # Why
//!
//! An inclusion proof at 10^7 entries needs ~24 stored hashes spread over a ~1 GB `hashes`
//! column family. The low-level siblings lie next to the leaf (usually one 4 KiB block),
//! but every upper-level sibling sits in a different block, and a 64 MiB block cache cannot
//! hold all the blocks those hashes live in. Keeping every hash at level `>= L` in memory
//! leaves RocksDB only the `L` low-level siblings and the right-edge pieces of the tree (the
//! same for every proof at one size, so always in the block cache).
//!
//! # Why it is never wrong
//!
//! A stored hash never changes once written: the log is append-only, and everything below the
//! committed size is immutable. A slot is filled only with a hash read from the CF below the
//! committed size, or written by an append whose batch is durable; slots are allocated only up
//! to the committed size. An empty or missing slot falls back to RocksDB. So the cache can be
//! incomplete, never stale, and needs no invalidation.
//!
//! # Memory bound
//!
//! A log of `size` records has `floor(size / 2^k)` perfect subtrees at level `k`; the cache
//! allocates one `Option<Hash>` (33 B) slot for each of them at every level `k >= L`, fewer
//! than `size / 2^(L-1)` slots in all. `L` is one level shared by all logs: it starts at 0 and
//! is raised by one (halving the footprint) whenever the slots of all logs would exceed the
//! budget ([`super::StorageOptions::proof_cache_bytes`]). Vector capacity, not length, is what is
//! counted, so the budget bounds real allocation whatever the number and size of the logs;
//! only the number of RocksDB reads per proof grows, by about one per doubling of the total.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Mutex, RwLock};

use credx_protocol::merkle::{split_stored_hash_index, Hash};

/// Bytes of one slot.
pub(crate) const SLOT_BYTES: usize = std::mem::size_of::<Option<Hash>>();

/// Levels above this are never cached: a tree of at most 2^62 records has none.
const TOP_LEVEL: u8 = 62;

/// When a level's vector must grow, it grows by at least 1/8 of its length, so an append of a
/// few thousand entries does not copy the whole vector, while capacity stays within 12.5 % of
/// what is used (and the budget counts capacity).
const GROWTH_DIVISOR: usize = 8;

/// One log's cached levels: `levels[i]` holds level `min_level + i`, slot `n` = subtree `n`.
#[derive(Debug)]
pub(crate) struct UpperHashes {
    min_level: u8,
    levels: Vec<Vec<Option<Hash>>>,
}

impl UpperHashes {
    pub(crate) fn new(min_level: u8) -> UpperHashes {
        UpperHashes {
            min_level,
            levels: Vec::new(),
        }
    }

    /// Slots allocated (capacity), the unit of the budget.
    fn capacity(&self) -> usize {
        self.levels.iter().map(Vec::capacity).sum()
    }

    /// Extra capacity that [`UpperHashes::grow`] to `size` at `min_level` would allocate.
    fn growth_needed(&self, size: u64, min_level: u8) -> usize {
        (min_level..=TOP_LEVEL)
            .map_while(|level| usize::try_from(size >> level).ok().filter(|&w| w > 0))
            .enumerate()
            .map(|(i, want)| {
                let (len, cap) = self
                    .levels
                    .get(i)
                    .filter(|_| min_level == self.min_level)
                    .map_or((0, 0), |v| (v.len(), v.capacity()));
                if want <= cap {
                    0
                } else {
                    next_capacity(len, cap, want) - cap
                }
            })
            .sum()
    }

    /// Allocates empty slots up to the committed `size` (levels `>= min_level` only).
    fn grow(&mut self, size: u64) {
        for level in self.min_level..=TOP_LEVEL {
            let Some(want) = usize::try_from(size >> level).ok().filter(|&w| w > 0) else {
                break;
            };
            let i = usize::from(level - self.min_level);
            if self.levels.len() <= i {
                self.levels.push(Vec::new());
            }
            if let Some(slots) = self.levels.get_mut(i) {
                if want > slots.len() {
                    if want > slots.capacity() {
                        let target = next_capacity(slots.len(), slots.capacity(), want);
                        slots.reserve_exact(target - slots.len());
                    }
                    slots.resize(want, None);
                }
            }
        }
    }

    /// Drops the levels below `min_level`; returns the slots freed.
    fn raise(&mut self, min_level: u8) -> usize {
        if min_level <= self.min_level {
            return 0;
        }
        let drop = usize::from(min_level - self.min_level).min(self.levels.len());
        let freed = self.levels.drain(..drop).map(|v| v.capacity()).sum();
        self.min_level = min_level;
        freed
    }

    /// Reads one slot in every 4 KiB of every level, so each page of the cache is touched;
    /// returns the bytes spanned.
    pub(crate) fn touch(&self) -> usize {
        const STRIDE: usize = 4096 / std::mem::size_of::<Option<Hash>>();
        let mut spanned = 0;
        for slots in &self.levels {
            for slot in slots.iter().step_by(STRIDE) {
                // A load the compiler must keep: passing the reference alone reads nothing.
                std::hint::black_box(*slot);
            }
            spanned += std::mem::size_of_val(slots.as_slice());
        }
        spanned
    }

    /// The cached hash of subtree `n` at `level`, if that slot is allocated and filled.
    pub(crate) fn get(&self, level: u8, n: u64) -> Option<Hash> {
        let i = usize::from(level.checked_sub(self.min_level)?);
        let n = usize::try_from(n).ok()?;
        *self.levels.get(i)?.get(n)?
    }

    /// Fills the slot of subtree `n` at `level` if it is allocated (ignored otherwise).
    pub(crate) fn set(&mut self, level: u8, n: u64, hash: Hash) {
        let Some(i) = level.checked_sub(self.min_level) else {
            return;
        };
        let (Some(slots), Ok(n)) = (self.levels.get_mut(usize::from(i)), usize::try_from(n)) else {
            return;
        };
        if let Some(slot) = slots.get_mut(n) {
            *slot = Some(hash);
        }
    }

    /// Fills the slot of the hash at stored-hash `index`, if cached.
    pub(crate) fn set_index(&mut self, index: u64, hash: Hash) {
        let (level, n) = split_stored_hash_index(index);
        self.set(level, n, hash);
    }

    /// Stored-hash indexes of every allocated slot that is still empty, sorted.
    pub(crate) fn empty_slots(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self
            .levels
            .iter()
            .zip(self.min_level..)
            .flat_map(|(slots, level)| {
                slots
                    .iter()
                    .enumerate()
                    .filter(|(_, s)| s.is_none())
                    .map(move |(n, _)| credx_protocol::merkle::stored_hash_index(level, n as u64))
            })
            .collect();
        out.sort_unstable();
        out
    }

    /// Number of filled slots (diagnostics and tests).
    pub(crate) fn filled(&self) -> usize {
        self.levels.iter().flatten().filter(|s| s.is_some()).count()
    }

    pub(crate) fn min_level(&self) -> u8 {
        self.min_level
    }
}

/// Capacity for a vector of `len` / `cap` that must hold `want` slots.
fn next_capacity(len: usize, cap: usize, want: usize) -> usize {
    want.max(cap).max(len.saturating_add(len / GROWTH_DIVISOR))
}

/// The budget shared by all logs' [`UpperHashes`] and the one cached level `L`.
#[derive(Debug)]
pub(crate) struct UpperHashBudget {
    budget_slots: usize,
    min_level: AtomicU8,
    /// Capacity allocated by all logs. Changed only by the log that allocates or frees, while
    /// it holds that log's lock, so it never undercounts.
    allocated: AtomicUsize,
    /// Serialises raising the level.
    raising: Mutex<()>,
}

impl UpperHashBudget {
    pub(crate) fn new(budget_bytes: usize) -> UpperHashBudget {
        UpperHashBudget {
            budget_slots: budget_bytes / SLOT_BYTES,
            // A zero budget caches nothing: start above every level.
            min_level: AtomicU8::new(if budget_bytes < SLOT_BYTES {
                TOP_LEVEL + 1
            } else {
                0
            }),
            allocated: AtomicUsize::new(0),
            raising: Mutex::new(()),
        }
    }

    /// The level new logs start caching at.
    pub(crate) fn min_level(&self) -> u8 {
        self.min_level.load(Ordering::Acquire)
    }

    pub(crate) fn allocated_bytes(&self) -> usize {
        self.allocated.load(Ordering::Acquire) * SLOT_BYTES
    }

    /// Allocates `log`'s slots up to its committed `size`, first raising the shared level as
    /// often as needed to stay within the budget. `all_logs` lists every log's cache (for
    /// raising the level everywhere).
    pub(crate) fn grow<'a>(
        &self,
        log: &RwLock<UpperHashes>,
        size: u64,
        all_logs: impl Fn() -> Vec<std::sync::Arc<super::LogState>> + 'a,
    ) {
        loop {
            let level = self.min_level();
            let Ok(mut cache) = log.write() else {
                return; // poisoned: the cache is only an accelerator; reads fall back
            };
            if cache.min_level < level {
                let freed = cache.raise(level);
                self.allocated.fetch_sub(freed, Ordering::AcqRel);
            }
            let extra = cache.growth_needed(size, level);
            let total = self.allocated.load(Ordering::Acquire);
            if extra == 0 || total.saturating_add(extra) <= self.budget_slots {
                let before = cache.capacity();
                cache.grow(size);
                let after = cache.capacity();
                self.allocated
                    .fetch_add(after.saturating_sub(before), Ordering::AcqRel);
                return;
            }
            drop(cache);
            if level > TOP_LEVEL {
                return; // nothing cached any more; nothing to grow
            }
            self.raise_from(level, &all_logs());
        }
    }

    /// Raises the shared level above `seen` (unless another thread already did) and frees the
    /// dropped levels of every log.
    fn raise_from(&self, seen: u8, logs: &[std::sync::Arc<super::LogState>]) {
        let Ok(_raising) = self.raising.lock() else {
            return;
        };
        if self.min_level() != seen {
            return;
        }
        self.min_level.store(seen + 1, Ordering::Release);
        for state in logs {
            if let Ok(mut cache) = state.upper.write() {
                let freed = cache.raise(seen + 1);
                self.allocated.fetch_sub(freed, Ordering::AcqRel);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credx_protocol::merkle::stored_hash_index;

    #[test]
    fn slots_cover_every_subtree_at_cached_levels() {
        let mut c = UpperHashes::new(2);
        c.grow(37);
        // levels 2..=5: 9, 4, 2, 1 subtrees.
        let lens: Vec<usize> = c.levels.iter().map(Vec::len).collect();
        assert_eq!(lens, [9, 4, 2, 1]);
        assert_eq!(c.get(3, 3), None);
        c.set(3, 3, Hash([7; 32]));
        assert_eq!(c.get(3, 3), Some(Hash([7; 32])));
        c.set(3, 4, Hash([7; 32])); // beyond the allocated range: ignored
        assert_eq!(c.get(3, 4), None);
        c.set(1, 0, Hash([7; 32])); // below the cached levels: ignored
        assert_eq!(c.get(1, 0), None);
        c.set_index(stored_hash_index(5, 0), Hash([5; 32]));
        assert_eq!(c.get(5, 0), Some(Hash([5; 32])));
        assert_eq!(c.filled(), 2);
        assert_eq!(c.empty_slots().len(), 16 - 2);
        let low = c.levels[0].capacity() + c.levels[1].capacity();
        assert_eq!(c.raise(4), low);
        assert_eq!(c.get(5, 0), Some(Hash([5; 32])));
        assert_eq!(c.get(3, 3), None);
    }

    #[test]
    fn raising_the_level_frees_lower_levels() {
        let mut c = UpperHashes::new(0);
        c.grow(1000);
        let before = c.capacity();
        let freed = c.raise(3);
        assert!(freed >= 1000 + 500 + 250);
        assert_eq!(c.capacity(), before - freed);
        assert_eq!(c.min_level(), 3);
        assert_eq!(c.get(0, 0), None);
    }

    #[test]
    fn growth_needed_matches_growth() {
        let mut c = UpperHashes::new(1);
        for size in [1u64, 2, 3, 100, 101, 5000, 5001, 80_000] {
            let needed = c.growth_needed(size, 1);
            let before = c.capacity();
            c.grow(size);
            assert_eq!(c.capacity() - before, needed, "size {size}");
        }
    }
}
