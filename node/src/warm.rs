//! Warms the proof cache (the upper tree levels of every log, decision 0009) in the
//! background after the store opens, so the first proofs after a restart do not each pay
//! for the RocksDB reads of the levels the cache holds (5–23 s of reads at 10^7 entries,
//! docs/performance.md). The node serves meanwhile; proofs are correct either way.
//!
//! Then, for as long as the node runs, the same thread keeps the files proofs read below
//! the cached levels resident in the page cache: every [`RESIDENCY_INTERVAL`] it reads the
//! `hashes` table files once (`RocksStorage::touch_proof_files`). Hosts that reclaim page
//! cache left unused for a minute (DAMON-based reclaim on cloud VMs) would otherwise send a
//! random proof to the disk every few dozen requests (docs/performance.md, issue-3 tail).
//! Every [`CACHE_TOUCH_INTERVAL`] in between it reads one word of every page of the proof
//! cache (`RocksStorage::touch_proof_cache`): on such hosts a page of process memory left
//! untouched for seconds is slow to touch again, and a proof touches about ten of them.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use credx_storage::{LogStore, RocksStorage};

/// How often the proof files are read again: under the one-minute idle threshold of common
/// reclaim policies, with room for a pass that takes a few seconds.
pub const RESIDENCY_INTERVAL: Duration = Duration::from_secs(30);
/// How often every page of the proof cache is touched (one read per 4 KiB: ≤ 21 ms for
/// ~80 MiB here, so ≤ 2 % of a core). On hosts that stall the first touch of memory left
/// idle for seconds, this took the inclusion-proof p99 at 10^7 entries after 75 s without
/// proofs from 160 to 73 µs (docs/performance.md, issue-3 tail).
pub const CACHE_TOUCH_INTERVAL: Duration = Duration::from_secs(1);
/// Largest `hashes` column family kept resident by reading it (about 3×10^7 entries). A
/// pass over more would cost more than a second of a core every interval; such a node
/// needs the memory and an exemption from reclaim instead (docs/operations.md).
pub const RESIDENCY_BUDGET: u64 = 2 << 30;

/// The background warming thread; stopping waits at most for the log being warmed.
#[derive(Debug)]
pub struct ProofCacheWarmer {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl ProofCacheWarmer {
    /// Starts warming every log `store` holds, own log first.
    pub fn start(store: Arc<RocksStorage>) -> std::io::Result<ProofCacheWarmer> {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("credx-warm".into())
            .spawn(move || {
                warm_all(&store, &flag);
                keep_resident(&store, &flag);
            })?;
        Ok(ProofCacheWarmer {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the thread to stop after the current log or file and waits for it (it holds
    /// the store).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            if thread.join().is_err() {
                tracing::warn!("the proof-cache warming thread panicked");
            }
        }
    }
}

impl Drop for ProofCacheWarmer {
    /// A warmer dropped without [`ProofCacheWarmer::stop`] (a start that failed later)
    /// still stops after the current log rather than warming a store nobody uses.
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
    }
}

fn warm_all(store: &RocksStorage, stop: &AtomicBool) {
    let started = Instant::now();
    let mut logs = match store.logs() {
        Ok(logs) => logs,
        Err(e) => {
            tracing::warn!("proof cache not warmed: cannot list the logs: {e}");
            return;
        }
    };
    logs.sort_by_key(|log| log.role != credx_storage::LogRole::Own);
    let mut hashes = 0usize;
    for log in logs {
        if stop.load(Ordering::Relaxed) {
            return;
        }
        match store.warm_proof_cache(&log.origin) {
            Ok(loaded) => hashes += loaded,
            Err(e) => tracing::warn!(origin = %log.origin, "proof cache not warmed: {e}"),
        }
    }
    tracing::info!(
        hashes,
        elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        "proof cache warmed"
    );
}

/// Reads the proof files every [`RESIDENCY_INTERVAL`], and touches the proof cache every
/// [`CACHE_TOUCH_INTERVAL`], until asked to stop.
fn keep_resident(store: &RocksStorage, stop: &AtomicBool) {
    let mut warned_budget = false;
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        match store.touch_proof_files(RESIDENCY_BUDGET, stop) {
            Ok(pass) if pass.over_budget => {
                if !warned_budget {
                    tracing::warn!(
                        live_bytes = pass.live_bytes,
                        budget = RESIDENCY_BUDGET,
                        "the proof files exceed the residency budget and are no longer read \
                         to keep them in the page cache; see docs/operations.md (memory)"
                    );
                    warned_budget = true;
                }
            }
            Ok(pass) => tracing::debug!(
                files = pass.files,
                bytes = pass.bytes,
                elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
                "proof files read to keep them resident"
            ),
            Err(e) => tracing::warn!("proof files not read to keep them resident: {e}"),
        }
        // Until the next pass: touch the cache every second, parked in between; `stop`
        // unparks the thread.
        let next = started + RESIDENCY_INTERVAL;
        while !stop.load(Ordering::Relaxed) {
            if let Err(e) = store.touch_proof_cache() {
                tracing::warn!("proof cache not touched: {e}");
            }
            let now = Instant::now();
            if now >= next {
                break;
            }
            std::thread::park_timeout((next - now).min(CACHE_TOUCH_INTERVAL));
        }
    }
}
