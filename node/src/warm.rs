//! Warms the proof cache (the upper tree levels of every log, decision 0009) in the
//! background after the store opens, so the first proofs after a restart do not each pay
//! for the RocksDB reads of the levels the cache holds (5–23 s of reads at 10^7 entries,
//! docs/performance.md). The node serves meanwhile; proofs are correct either way.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Instant;

use credx_storage::{LogStore, RocksStorage};

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
            .spawn(move || warm_all(&store, &flag))?;
        Ok(ProofCacheWarmer {
            stop,
            thread: Some(thread),
        })
    }

    /// Asks the thread to stop after the current log and waits for it (it holds the store).
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
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
