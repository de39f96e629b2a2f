//! The mirror indexer: a thread that follows the mirrors' logs and builds their index
//! rows, feed rows and status-map entries (`credx_storage::index_mirror`), so a parent
//! cosigns a delta as soon as its entries are durable and indexing never slows sync.
//!
//! Two rules keep it out of the way of propagation: it pauses while children push, and it
//! runs at a lower CPU priority (nice +[`INDEXER_NICE`]), so the work it does between
//! sessions takes the CPU that receiving, cosigning and the department API leave. The pause
//! never lasts longer than [`MAX_DEFERRAL`] at a stretch: a parent whose children push
//! without a gap still indexes a batch every second, so lists keep flowing down.
//!
//! Crash safety comes from storage: each indexed range is written with the mirror's
//! indexed size in one atomic write, so after a restart the indexer resumes where the last
//! durable range ended.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use credx_storage::{index_mirror, LogRole, Storage};

/// Entries indexed per write.
const INDEX_BATCH: u64 = 4_096;
/// How long the thread sleeps when not woken (it also catches up after a restart).
const IDLE_POLL: Duration = Duration::from_secs(1);
/// While children are pushing, indexing waits (the two share the machine's cores and a
/// cosignature must not wait for indexes), but never longer than this at a stretch: then
/// one batch is indexed and a new wait begins.
///
/// Why a time and not a backlog bound (262,144 entries until 2026-12-01): indexing costs
/// 30-50 µs of CPU per entry against ~5 for receiving it, so during a bulk catch-up the
/// backlog outgrows any bound whatever the indexer does. Indexing flat out past the bound
/// bought little (70,000-82,000 of 10^6 entries indexed during a 5 s catch-up) and cost the
/// catch-up ~18 % of its rate (docs/performance.md). What a bound must guarantee is that
/// indexing never starves while sessions follow one another; one batch per second does.
pub const MAX_DEFERRAL: Duration = Duration::from_secs(1);
/// How long a deferring indexer waits before looking again.
const DEFER_POLL: Duration = Duration::from_millis(20);

#[derive(Default)]
struct Signal {
    /// Work may be pending.
    dirty: bool,
    stop: bool,
    /// The thread found nothing to do since the last wake-up.
    idle: bool,
}

/// Handle to the indexer thread; stops it on drop.
pub struct MirrorIndexer {
    shared: Arc<(Mutex<Signal>, Condvar)>,
    /// Receive sessions in progress.
    active: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for MirrorIndexer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MirrorIndexer").finish_non_exhaustive()
    }
}

impl MirrorIndexer {
    pub fn start(store: Arc<dyn Storage>) -> std::io::Result<MirrorIndexer> {
        let shared = Arc::new((
            Mutex::new(Signal {
                dirty: true,
                ..Signal::default()
            }),
            Condvar::new(),
        ));
        let active = Arc::new(AtomicUsize::new(0));
        let thread_shared = Arc::clone(&shared);
        let thread_active = Arc::clone(&active);
        let thread = std::thread::Builder::new()
            .name("credx-mirror-indexer".into())
            .spawn(move || {
                lower_priority();
                run(store, thread_shared, thread_active)
            })?;
        Ok(MirrorIndexer {
            shared,
            active,
            thread: Some(thread),
        })
    }

    /// Marks a receive session in progress until the guard is dropped; meanwhile indexing
    /// defers to it (one batch per [`MAX_DEFERRAL`]).
    pub fn session_active(&self) -> ActiveSession {
        self.active.fetch_add(1, Ordering::AcqRel);
        ActiveSession {
            active: Arc::clone(&self.active),
        }
    }

    /// New mirror entries are durable: index them.
    pub fn notify(&self) {
        let (lock, cvar) = &*self.shared;
        let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
        signal.dirty = true;
        signal.idle = false;
        cvar.notify_all();
    }

    /// Waits until every mirror is indexed up to its size (tests, shutdown), at most
    /// `timeout`. Returns whether it caught up.
    pub fn wait_caught_up(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        self.notify();
        let (lock, cvar) = &*self.shared;
        let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
        while !signal.idle {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            signal = cvar
                .wait_timeout(signal, deadline - now)
                .map(|(guard, _)| guard)
                .unwrap_or_else(|p| p.into_inner().0);
        }
        true
    }
}

impl Drop for MirrorIndexer {
    fn drop(&mut self) {
        {
            let (lock, cvar) = &*self.shared;
            let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
            signal.stop = true;
            cvar.notify_all();
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// A receive session in progress (see [`MirrorIndexer::session_active`]).
#[derive(Debug)]
pub struct ActiveSession {
    active: Arc<AtomicUsize>,
}

impl Drop for ActiveSession {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// How much the indexer lowers its thread's priority (a nice value; 10 gives it about a
/// tenth of the weight of a normal thread when they compete for a core).
pub const INDEXER_NICE: i32 = 10;

/// Lowers this thread's CPU priority by [`INDEXER_NICE`]. Failing is harmless (indexing
/// then competes at normal priority) and only logged.
fn lower_priority() {
    let thread = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(thread)).unwrap_or(0);
    if let Err(e) = rustix::process::setpriority_process(Some(thread), current + INDEXER_NICE) {
        tracing::warn!("the mirror indexer runs at normal priority: setpriority: {e}");
    }
}

fn run(store: Arc<dyn Storage>, shared: Arc<(Mutex<Signal>, Condvar)>, active: Arc<AtomicUsize>) {
    let (lock, cvar) = &*shared;
    let mut deferral = Deferral::default();
    loop {
        {
            let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
            if signal.stop {
                return;
            }
            if !signal.dirty {
                signal.idle = true;
                cvar.notify_all();
                signal = cvar
                    .wait_timeout(signal, IDLE_POLL)
                    .map(|(guard, _)| guard)
                    .unwrap_or_else(|p| p.into_inner().0);
                if signal.stop {
                    return;
                }
            }
            signal.dirty = false;
        }
        match index_all(store.as_ref(), &shared, &active, &mut deferral) {
            Ok(true) => {
                // More may be pending: go round again without waiting.
                let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
                signal.dirty = true;
            }
            Ok(false) => {}
            Err(error) => {
                tracing::error!("mirror indexing failed: {error}; retrying");
                std::thread::sleep(Duration::from_millis(200));
                let mut signal = lock.lock().unwrap_or_else(|p| p.into_inner());
                signal.dirty = true;
            }
        }
    }
}

/// When the current wait for receive sessions began, if one is under way.
#[derive(Debug, Default)]
struct Deferral {
    since: Option<Instant>,
}

impl Deferral {
    /// Whether indexing should wait now: sessions are open and the current wait is shorter
    /// than [`MAX_DEFERRAL`]. Once it is not, the caller indexes one batch and the next call
    /// starts a new wait.
    fn wait(&mut self, sessions_open: bool, now: Instant) -> bool {
        if !sessions_open {
            self.since = None;
            return false;
        }
        let since = *self.since.get_or_insert(now);
        if now.duration_since(since) < MAX_DEFERRAL {
            return true;
        }
        self.since = None;
        false
    }
}

/// One pass over all mirrors; `Ok(true)` if it indexed anything.
fn index_all(
    store: &dyn Storage,
    shared: &(Mutex<Signal>, Condvar),
    active: &AtomicUsize,
    deferral: &mut Deferral,
) -> Result<bool, credx_storage::StorageError> {
    let mut any = false;
    for log in store.logs()? {
        if log.role != LogRole::Mirror {
            continue;
        }
        loop {
            if shared.0.lock().map(|s| s.stop).unwrap_or(true) {
                return Ok(any);
            }
            let pending = store.log_size(&log.origin)? > store.indexed_size(&log.origin)?;
            if !pending {
                break;
            }
            let sessions_open = active.load(Ordering::Acquire) > 0;
            if deferral.wait(sessions_open, Instant::now()) {
                std::thread::sleep(DEFER_POLL);
                continue;
            }
            let indexed = index_mirror(store, &log.origin, INDEX_BATCH)?;
            if indexed == 0 {
                break;
            }
            any = true;
            if sessions_open {
                // One batch per wait while children push, and the next mirror has the next
                // turn: a mirror that keeps growing must not hold the others back.
                break;
            }
        }
    }
    Ok(any)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indexing_waits_for_sessions_at_most_max_deferral_then_runs_one_batch() {
        let mut deferral = Deferral::default();
        let t0 = Instant::now();
        let after = |d: Duration| t0 + d;
        assert!(!deferral.wait(false, t0), "no session: index at once");
        assert!(deferral.wait(true, t0), "a session opens: wait");
        assert!(deferral.wait(true, after(MAX_DEFERRAL / 2)));
        assert!(
            !deferral.wait(true, after(MAX_DEFERRAL)),
            "waited MAX_DEFERRAL: one batch runs"
        );
        assert!(
            deferral.wait(true, after(MAX_DEFERRAL + DEFER_POLL)),
            "then a new wait begins"
        );
        assert!(deferral.wait(true, after(2 * MAX_DEFERRAL)));
        assert!(!deferral.wait(true, after(2 * MAX_DEFERRAL + DEFER_POLL)));
        assert!(
            !deferral.wait(false, after(3 * MAX_DEFERRAL)),
            "sessions over"
        );
        assert!(
            deferral.wait(true, after(3 * MAX_DEFERRAL + DEFER_POLL)),
            "a later session starts a fresh wait"
        );
    }
}
