//! The per-log sequencer: one std thread per own log, fed by a bounded channel.
//!
//! Loop: wait for a submission; collect more until `max_batch_entries` or
//! `max_batch_delay`; ask the caller's [`BatchPlanner`] for the index and status-map updates
//! the entries cause (storage stays free of domain logic); make everything durable in ONE
//! synced append; THEN sign the checkpoint for the new size through the [`SigningGuard`]
//! (checkpoint file, then store history); THEN acknowledge each submitter with its index and
//! the checkpoint size.
//!
//! What an acknowledgement means: the entry is durable at `index`, and a signed checkpoint of
//! size ≥ `index + 1` is durable. A crash before the acknowledgement may or may not have kept
//! the entry (never twice: indexes are assigned by the atomic append); a crash between
//! append and signature is healed at the next start, which signs the current size first.
//!
//! Backpressure: the channel is bounded (`queue_capacity` submissions); `submit` blocks when
//! it is full.

use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use credx_protocol::entry::SubjectId;
use credx_protocol::merkle::Hash;
use credx_protocol::note::{NoteSigner, SignedCheckpoint};

use crate::api::{
    AppendOutcome, EntryLocation, IndexUpdates, LogRole, Storage, MAX_APPEND_ENTRIES,
};
use crate::error::{Result, StorageError};
use crate::planned_append::plan_and_append;
use crate::rocks::poisoned;
use crate::signing_guard::{GuardState, SigningGuard};

/// Sequencer settings.
#[derive(Debug, Clone)]
pub struct SequencerConfig {
    /// Close a batch at this many entries.
    pub max_batch_entries: usize,
    /// ... or this long after its first submission arrived.
    pub max_batch_delay: Duration,
    /// Submissions waiting in the channel before `submit` blocks.
    pub queue_capacity: usize,
    /// Where the checkpoint file lives (keep it outside the database directory, so that
    /// restoring a database backup does not roll it back).
    pub checkpoint_dir: PathBuf,
    pub anchor: AnchorPolicy,
    /// Called on the sequencer thread after each checkpoint is signed (and durable), so
    /// whoever ships the log (the node's upload loop) can start at once instead of polling.
    pub on_signed: Option<SignedHook>,
}

/// A callback told the size of each newly signed checkpoint. It runs on the sequencer
/// thread between signing and acknowledging: it must only signal (never block).
#[derive(Clone)]
pub struct SignedHook(Arc<dyn Fn(u64) + Send + Sync>);

impl SignedHook {
    pub fn new(hook: impl Fn(u64) + Send + Sync + 'static) -> Self {
        SignedHook(Arc::new(hook))
    }

    fn call(&self, size: u64) {
        (self.0)(size);
    }
}

impl std::fmt::Debug for SignedHook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedHook")
    }
}

impl SequencerConfig {
    pub fn new(checkpoint_dir: impl Into<PathBuf>) -> Self {
        SequencerConfig {
            max_batch_entries: 4096,
            max_batch_delay: Duration::from_millis(50),
            queue_capacity: 16_384,
            checkpoint_dir: checkpoint_dir.into(),
            anchor: AnchorPolicy::default(),
            on_signed: None,
        }
    }
}

/// When to commit the status-map root as an entry of the log: every `every_entries`
/// entries and/or every `every` of time (whichever comes first). The planner builds the
/// anchor entry ([`BatchPlanner::anchor_entry`]); it goes first in the next batch.
#[derive(Debug, Clone, Default)]
pub struct AnchorPolicy {
    pub every_entries: Option<u64>,
    pub every: Option<Duration>,
}

/// An entry of the batch being planned.
#[derive(Debug, Clone, Copy)]
pub struct PlannedEntry<'a> {
    pub bytes: &'a [u8],
    pub leaf_hash: Hash,
}

/// What a batch of entries changes besides the log.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub index: IndexUpdates,
    /// Subject key → encoded `SubjectStatus` (`None` removes), in application order.
    pub status: Vec<(Hash, Option<Vec<u8>>)>,
}

/// Read access to the store for planners (committed state; the planner folds the
/// effects of earlier entries of the same batch itself). A concrete wrapper rather than a
/// trait, so its methods never clash with the store traits' methods of the same names.
#[derive(Clone, Copy)]
pub struct PlanView<'a> {
    store: &'a dyn Storage,
}

impl std::fmt::Debug for PlanView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlanView").finish_non_exhaustive()
    }
}

impl<'a> PlanView<'a> {
    pub fn new(store: &'a dyn Storage) -> Self {
        PlanView { store }
    }

    pub fn subject_status(&self, key: &Hash) -> Result<Option<Vec<u8>>> {
        self.store.subject_status(key)
    }

    pub fn latest_for_business_key(&self, business_key: &str) -> Result<Option<EntryLocation>> {
        self.store.latest_for_business_key(business_key)
    }

    pub fn entries_for_subject(
        &self,
        subject: &SubjectId,
        after: Option<&EntryLocation>,
        limit: usize,
    ) -> Result<Vec<EntryLocation>> {
        self.store.entries_for_subject(subject, after, limit)
    }

    pub fn status_root(&self) -> Result<Hash> {
        self.store.status_root()
    }

    pub fn log_size(&self, origin: &str) -> Result<u64> {
        self.store.log_size(origin)
    }
}

/// Caller-supplied domain logic: which index rows and status changes a batch causes.
pub trait BatchPlanner: Send + 'static {
    /// `entries[i]` will get index `start_index + i`. An error fails the whole batch
    /// (nothing is written; every submitter gets the error).
    fn plan(
        &self,
        entries: &[PlannedEntry<'_>],
        start_index: u64,
        view: &PlanView<'_>,
    ) -> std::result::Result<Plan, String>;

    /// The anchor entry committing `status_root` at `log_size`, when the [`AnchorPolicy`]
    /// says one is due. `None`: no anchor this time.
    fn anchor_entry(
        &self,
        _status_root: Hash,
        _log_size: u64,
    ) -> std::result::Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
}

/// A planner that indexes nothing and changes no status (tests, benchmarks, raw logs).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoopPlanner;

impl BatchPlanner for NoopPlanner {
    fn plan(
        &self,
        _: &[PlannedEntry<'_>],
        _: u64,
        _: &PlanView<'_>,
    ) -> std::result::Result<Plan, String> {
        Ok(Plan::default())
    }
}

/// What a submitter gets back once its entries are durable and checkpointed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    /// Index of the (first) submitted entry.
    pub index: u64,
    pub count: u64,
    /// The signed checkpoint covering the entries.
    pub checkpoint_size: u64,
    pub root: Hash,
}

/// A pending acknowledgement.
#[derive(Debug)]
pub struct Ticket {
    origin: String,
    rx: Receiver<Result<Ack>>,
}

impl Ticket {
    /// Blocks until the batch holding the submission is durable and signed (or failed).
    pub fn wait(self) -> Result<Ack> {
        self.rx
            .recv()
            .unwrap_or(Err(StorageError::SequencerStopped {
                origin: self.origin,
            }))
    }
}

struct Submission {
    entries: Vec<Vec<u8>>,
    reply: SyncSender<Result<Ack>>,
}

/// Handle to a running sequencer. Dropping it (or [`Sequencer::shutdown`]) drains the
/// queue and stops the thread.
pub struct Sequencer {
    origin: String,
    tx: Option<SyncSender<Submission>>,
    guard: Arc<Mutex<SigningGuard>>,
    thread: Option<JoinHandle<()>>,
    max_submission: usize,
}

impl std::fmt::Debug for Sequencer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sequencer")
            .field("origin", &self.origin)
            .finish_non_exhaustive()
    }
}

impl Sequencer {
    /// Starts the sequencer of the own log named like `signer` (registering the log if
    /// new). Opens the signing guard first; if the store is consistent and holds entries
    /// beyond the last signed checkpoint (a crash between append and signature), signs the
    /// current size before accepting submissions. A refused guard does not fail `start`:
    /// the sequencer runs and answers every submission with `SigningRefused`, so the
    /// operator API ([`Sequencer::acknowledge_restore`]) stays reachable.
    pub fn start<S, P>(
        store: Arc<S>,
        signer: NoteSigner,
        planner: P,
        config: SequencerConfig,
    ) -> Result<Sequencer>
    where
        S: Storage + 'static,
        P: BatchPlanner,
    {
        let origin = signer.name().as_str().to_string();
        store.register_log(&origin, LogRole::Own)?;
        let mut guard = SigningGuard::open(
            store.as_ref(),
            &origin,
            &config.checkpoint_dir,
            &signer.verifier_key(),
        )?;
        if guard.state() == &GuardState::Allowed {
            let size = store.log_size(&origin)?;
            let signed = guard.last_signed().map(|c| c.checkpoint().size);
            if size > 0 && signed < Some(size) {
                let root = store.root_at(&origin, size)?;
                guard.sign(store.as_ref(), &signer, size, root)?;
            }
        } else if let GuardState::Refused { reason } = guard.state() {
            tracing::error!(
                origin,
                reason,
                "signing refused; the log will not accept entries"
            );
        }
        let guard = Arc::new(Mutex::new(guard));
        let (tx, rx) = mpsc::sync_channel(config.queue_capacity.max(1));
        // One slot is reserved for an anchor entry.
        let max_submission = config.max_batch_entries.clamp(1, MAX_APPEND_ENTRIES - 1);
        let mut config = config;
        config.max_batch_entries = max_submission;
        let worker = Worker {
            store,
            signer,
            planner,
            guard: guard.clone(),
            origin: origin.clone(),
            last_anchor: (0, Instant::now()),
            last_anchored_root: None,
            config,
        };
        let thread = std::thread::Builder::new()
            .name(format!("sequencer-{origin}"))
            .spawn(move || worker.run(rx))
            .map_err(|e| StorageError::Engine {
                op: "spawn sequencer",
                message: e.to_string(),
            })?;
        Ok(Sequencer {
            origin,
            tx: Some(tx),
            guard,
            thread: Some(thread),
            max_submission,
        })
    }

    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// Queues one entry (exact bytes). Blocks while the queue is full.
    pub fn submit(&self, entry: Vec<u8>) -> Result<Ticket> {
        self.submit_many(vec![entry])
    }

    /// Queues entries that get consecutive indexes in one batch. At most
    /// `max_batch_entries` per call.
    pub fn submit_many(&self, entries: Vec<Vec<u8>>) -> Result<Ticket> {
        if entries.is_empty() || entries.len() > self.max_submission {
            return Err(StorageError::InvalidBatch {
                origin: self.origin.clone(),
                reason: format!(
                    "a submission carries 1..={} entries, not {}",
                    self.max_submission,
                    entries.len()
                ),
            });
        }
        let stopped = || StorageError::SequencerStopped {
            origin: self.origin.clone(),
        };
        let (reply, rx) = mpsc::sync_channel(1);
        self.tx
            .as_ref()
            .ok_or_else(stopped)?
            .send(Submission { entries, reply })
            .map_err(|_| stopped())?;
        Ok(Ticket {
            origin: self.origin.clone(),
            rx,
        })
    }

    /// `Ok` when the log may sign; the `SigningRefused` error (with operator guidance)
    /// otherwise.
    pub fn signing_state(&self) -> Result<()> {
        self.guard
            .lock()
            .map_err(|_| poisoned("signing guard"))?
            .check_allowed()
    }

    pub fn last_signed(&self) -> Result<Option<SignedCheckpoint>> {
        Ok(self
            .guard
            .lock()
            .map_err(|_| poisoned("signing guard"))?
            .last_signed()
            .cloned())
    }

    /// Operator resolution of a refused (restored) log; see
    /// [`SigningGuard::acknowledge_restore`].
    pub fn acknowledge_restore<S: Storage + ?Sized>(
        &self,
        store: &S,
        operator_note: &str,
        now_ms: u64,
    ) -> Result<()> {
        self.guard
            .lock()
            .map_err(|_| poisoned("signing guard"))?
            .acknowledge_restore(store, operator_note, now_ms)
    }

    /// Stops accepting submissions, lets the thread finish the queued ones, and joins it.
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        self.tx.take();
        if let Some(t) = self.thread.take() {
            if t.join().is_err() {
                tracing::error!(origin = %self.origin, "sequencer thread panicked");
            }
        }
    }
}

impl Drop for Sequencer {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The sequencer thread's state.
struct Worker<S, P> {
    store: Arc<S>,
    signer: NoteSigner,
    planner: P,
    guard: Arc<Mutex<SigningGuard>>,
    origin: String,
    /// (log size, time) of the last anchor.
    last_anchor: (u64, Instant),
    /// The status-map root the last anchor committed (`None`: none yet this run).
    last_anchored_root: Option<Hash>,
    config: SequencerConfig,
}

impl<S: Storage + 'static, P: BatchPlanner> Worker<S, P> {
    fn run(mut self, rx: Receiver<Submission>) {
        // A submission that would have pushed the previous batch over the limit starts the
        // next one, so a batch never exceeds `max_batch_entries` (unless one submission alone
        // does, which `submit_many` prevents).
        let mut carried: Option<Submission> = None;
        loop {
            let first = match carried.take() {
                Some(s) => s,
                None => match self.config.anchor.every {
                    None => match rx.recv() {
                        Ok(s) => s,
                        Err(_) => return,
                    },
                    // Idle for a whole anchor interval: a node that only receives mirrors
                    // still changes the status map, so anchor it on its own.
                    Some(every) => match rx.recv_timeout(every) {
                        Ok(s) => s,
                        Err(RecvTimeoutError::Timeout) => {
                            self.anchor_when_idle();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    },
                },
            };
            let mut count = first.entries.len();
            let mut subs = vec![first];
            let deadline = Instant::now() + self.config.max_batch_delay;
            while count < self.config.max_batch_entries {
                let left = deadline.saturating_duration_since(Instant::now());
                match rx.recv_timeout(left) {
                    Ok(s) if count + s.entries.len() > self.config.max_batch_entries => {
                        carried = Some(s);
                        break;
                    }
                    Ok(s) => {
                        count += s.entries.len();
                        subs.push(s);
                    }
                    Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => break,
                }
            }
            self.process(subs);
        }
    }

    /// Appends an anchor-only batch when the status map changed since the last anchor.
    fn anchor_when_idle(&mut self) {
        let root = match self.store.status_root() {
            Ok(root) => root,
            Err(e) => {
                tracing::warn!(origin = %self.origin, error = %e, "reading the status root to anchor it");
                return;
            }
        };
        let due = self
            .config
            .anchor
            .every
            .is_some_and(|every| self.last_anchor.1.elapsed() >= every);
        if !due || self.last_anchored_root == Some(root) {
            return;
        }
        if let Err(e) = self.commit(Vec::new()) {
            // Not anchored after all: try again at the next idle interval.
            self.last_anchored_root = None;
            tracing::warn!(origin = %self.origin, error = %e, "idle anchor failed");
        }
    }

    /// Appends, signs and acknowledges one batch; on failure every submitter gets the error.
    fn process(&mut self, subs: Vec<Submission>) {
        let counts: Vec<usize> = subs.iter().map(|s| s.entries.len()).collect();
        let mut replies = Vec::with_capacity(subs.len());
        let mut entries = Vec::with_capacity(counts.iter().sum::<usize>() + 1);
        for s in subs {
            entries.extend(s.entries);
            replies.push(s.reply);
        }
        match self.commit(entries) {
            Ok((first_user_index, outcome, checkpoint)) => {
                let mut index = first_user_index;
                for (reply, count) in replies.into_iter().zip(counts) {
                    // A submitter that stopped waiting is fine: its entries are durable.
                    let _ = reply.send(Ok(Ack {
                        index,
                        count: count as u64,
                        checkpoint_size: checkpoint.checkpoint().size,
                        root: outcome.root,
                    }));
                    index += count as u64;
                }
            }
            Err(e) => {
                self.last_anchored_root = None;
                tracing::warn!(origin = %self.origin, error = %e, "sequencer batch failed");
                for reply in replies {
                    let _ = reply.send(Err(e.clone()));
                }
            }
        }
    }

    /// Returns (index of the first submitted entry, append outcome, signed checkpoint).
    fn commit(
        &mut self,
        mut entries: Vec<Vec<u8>>,
    ) -> Result<(u64, AppendOutcome, SignedCheckpoint)> {
        let guard_lock = Arc::clone(&self.guard);
        let mut guard = guard_lock.lock().map_err(|_| poisoned("signing guard"))?;
        guard.check_allowed()?;
        let size = self.store.log_size(&self.origin)?;
        let anchored = self.maybe_anchor(size, &mut entries)?;
        let store_arc = Arc::clone(&self.store);
        let store = store_arc.as_ref();
        let origin_name = self.origin.clone();
        let origin = origin_name.as_str();
        let outcome = plan_and_append(
            store,
            &self.planner,
            origin,
            size,
            std::mem::take(&mut entries),
            None,
            None,
        )?;
        if anchored {
            self.last_anchor = (outcome.first_index, Instant::now());
        }
        let checkpoint = guard
            .sign(store, &self.signer, outcome.new_size, outcome.root)
            .map_err(|e| StorageError::CheckpointAfterAppend {
                origin: origin.to_string(),
                first_index: outcome.first_index,
                end_index: outcome.new_size,
                reason: e.to_string(),
            })?;
        if let Some(hook) = &self.config.on_signed {
            hook.call(outcome.new_size);
        }
        Ok((size + u64::from(anchored), outcome, checkpoint))
    }

    /// Puts an anchor entry in front of the batch when the policy says one is due.
    fn maybe_anchor(&mut self, size: u64, entries: &mut Vec<Vec<u8>>) -> Result<bool> {
        let policy = &self.config.anchor;
        let (anchor_size, anchor_time) = self.last_anchor;
        let due = policy
            .every_entries
            .is_some_and(|n| size.saturating_sub(anchor_size) >= n)
            || policy.every.is_some_and(|t| anchor_time.elapsed() >= t);
        if !due {
            return Ok(false);
        }
        let root = self.store.status_root()?;
        match self.planner.anchor_entry(root, size) {
            Ok(Some(anchor)) => {
                entries.insert(0, anchor);
                self.last_anchored_root = Some(root);
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(reason) => Err(StorageError::Planner {
                origin: self.origin.clone(),
                reason: format!("anchor entry: {reason}"),
            }),
        }
    }
}
