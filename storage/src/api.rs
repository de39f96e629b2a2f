//! The engine-agnostic storage contract: traits and plain data types.
//!
//! Nothing here names an engine type, so a distributed engine can implement the same traits
//! later (the TiKV `engine_traits` / `engine_rocks` split). Everything is `Send + Sync`.
//!
//! The store never interprets entries: it keeps their exact bytes (the leaf is
//! `SHA-256(0x00 || bytes)`), and callers pass the index and status-map updates an entry
//! causes alongside it in the same [`AppendBatch`], so one atomic write makes all of them
//! durable together.

use credx_protocol::entry::SubjectId;
use credx_protocol::merkle::{ConsistencyProof, Hash, InclusionProof};
use credx_protocol::note::{SignedCheckpoint, TlogProof};
use credx_protocol::statusmap::StatusProof;

use crate::error::{Result, StorageError};

/// Largest entry the store accepts (C2SP tlog-tiles entry bundles need < 64 KiB).
pub const MAX_ENTRY_SIZE: usize = 64 * 1024;
/// Most entries one append may carry (bounds the memory of one write batch: ≤ 4 GiB worst
/// case, ~32 MiB for 512-byte entries).
pub const MAX_APPEND_ENTRIES: usize = 65_536;
/// Most entries one `read_entries` call returns.
pub const MAX_READ_ENTRIES: u64 = 4_096;
/// Most rows one index page returns.
pub const MAX_INDEX_PAGE: usize = 1_000;

/// Whether a log is this node's own (it sequences and signs it) or a mirror of a node below.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogRole {
    Own,
    Mirror,
}

impl LogRole {
    pub fn as_str(self) -> &'static str {
        match self {
            LogRole::Own => "own",
            LogRole::Mirror => "mirror",
        }
    }
}

/// One log held by the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogInfo {
    pub origin: String,
    pub role: LogRole,
    pub size: u64,
}

/// Where an entry lives: (origin, index). Provenance never changes.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct EntryLocation {
    pub origin: String,
    pub index: u64,
}

/// Everything one append makes durable, in ONE atomic synced write.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AppendBatch {
    /// Exact entry bytes; they get indexes `expected_size..expected_size + len`.
    pub entries: Vec<Vec<u8>>,
    /// The RFC 6962 leaf hashes of `entries`, in order, when the caller has them already
    /// (a delta verifier hashed these very bytes to recompute the signed root); `None`:
    /// the engine hashes the entries. The engine checks the count, and with
    /// `expected_root` that they build the signed tree; it cannot check that they are the
    /// entries' hashes without doing the work this saves, so only pass hashes computed
    /// from exactly these bytes.
    pub leaf_hashes: Option<Vec<Hash>>,
    /// If set, the root the log must have after this batch (mirrors: the root of the
    /// peer's checkpoint). Checked before anything is written.
    pub expected_root: Option<Hash>,
    pub index: IndexUpdates,
    pub status: Option<StatusWrite>,
    /// Mirrors: the sync cursor advanced in the same write as the entries it covers, so
    /// a crash can never leave the cursor ahead of (or behind) the mirror.
    pub cursor: Option<CursorUpdate>,
    /// Mirrors: the peer's signed checkpoint of exactly the new size (and this node's
    /// cosignatures of it) in the same write, so no reader ever sees the entries without
    /// the checkpoint or the checkpoint without this node's cosignature.
    pub checkpoint: Option<CheckpointWrite>,
}

/// A signed checkpoint to store with the write that makes its entries durable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckpointWrite {
    /// The signed note, verbatim. Its size must be the log's size after the write and its
    /// root the log's root there.
    pub note: Vec<u8>,
    /// Cosignature lines (C2SP note signature lines) kept beside it, one per cosigner.
    pub cosignatures: Vec<String>,
}

/// Secondary-index rows written with a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndexUpdates {
    pub subjects: Vec<SubjectIndexUpdate>,
    pub business_keys: Vec<BusinessKeyUpdate>,
    pub lists: Vec<ListUpdate>,
    /// Entries that go down the tree in this node's list feed (list entries, their
    /// lifecycle changes, joint-punishment cases), in log order. The engine numbers them
    /// after every earlier feed item of any log, in the same atomic write.
    pub feed: Vec<EntryLocation>,
    /// Joint reward/punishment case rows: case entries by case id, and the lifecycle
    /// entries (objections, repair, removal, withdrawal) by the entry they target.
    pub cases: Vec<CaseIndexUpdate>,
}

impl IndexUpdates {
    pub fn is_empty(&self) -> bool {
        self.subjects.is_empty()
            && self.business_keys.is_empty()
            && self.lists.is_empty()
            && self.feed.is_empty()
            && self.cases.is_empty()
    }
}

/// What a case-index row is filed under.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum CaseIndexKey {
    /// Every entry of one joint reward/punishment case (initiations and steps), whatever
    /// log it is in.
    Case(String),
    /// Lifecycle entries acting on the entry at this location (objections and their
    /// resolution, repair, removal, withdrawal): what became of a case's listing.
    Target(EntryLocation),
}

/// "The entry at `location` belongs under `key`". Derived from the entry alone
/// (`credx_storage::planner::case_index_rows`), so the rows can be rebuilt from the logs
/// and the received feed items at any time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseIndexUpdate {
    pub key: CaseIndexKey,
    pub location: EntryLocation,
}

/// "Entry at `location` is about `subject_key`" (`SubjectId::index_key()`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectIndexUpdate {
    pub subject_key: String,
    pub location: EntryLocation,
}

/// "The latest entry for `business_key` is `location`" (overwrites).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BusinessKeyUpdate {
    pub business_key: String,
    pub location: EntryLocation,
}

/// Adds (`Some`) or removes (`None`) `member` on the list `list_kind`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListUpdate {
    pub list_kind: String,
    pub member: String,
    pub entry: Option<EntryLocation>,
}

/// One member of a list, with the entry that put it there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListMember {
    pub member: String,
    pub entry: EntryLocation,
}

/// A status-map transition, computed by [`StatusStore::plan_status_update`] and made durable
/// by an append. Byte-level on purpose: node keys and nodes are the protocol's encodings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusWrite {
    /// Compare-and-swap: the root this write was computed from.
    pub expected_root: Hash,
    pub new_root: Hash,
    pub node_writes: Vec<(Vec<u8>, Vec<u8>)>,
    pub node_deletes: Vec<Vec<u8>>,
    /// Subject key → encoded `SubjectStatus` (`None` removes the subject).
    pub values: Vec<(Hash, Option<Vec<u8>>)>,
}

/// Sync position with a peer for one origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub size: u64,
    pub root: Hash,
    pub session_id: String,
    pub updated_at_ms: u64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CursorUpdate {
    pub peer: String,
    pub origin: String,
    pub cursor: Cursor,
}

/// Two signed checkpoints of one origin that cannot both be honest (same size, different
/// roots, or no consistency between them), as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkEvidence {
    pub first: Vec<u8>,
    pub second: Vec<u8>,
    pub peer: String,
    pub observed_at_ms: u64,
}

/// A stored piece of fork evidence; `cleared` holds the operator's note once cleared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ForkRecord {
    pub id: u64,
    pub evidence: ForkEvidence,
    pub cleared: Option<String>,
}

/// Result of a successful append.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AppendOutcome {
    pub first_index: u64,
    pub new_size: u64,
    pub root: Hash,
}

/// Append-only Merkle logs: entries, stored tree hashes, proofs.
pub trait LogStore: Send + Sync {
    /// Creates the log if needed (idempotent for the same role).
    fn register_log(&self, origin: &str, role: LogRole) -> Result<LogInfo>;
    fn logs(&self) -> Result<Vec<LogInfo>>;
    fn log_size(&self, origin: &str) -> Result<u64>;

    /// Appends `batch` at `expected_size` (compare-and-swap on the size) as ONE atomic,
    /// synced write: entries, the stored tree hashes they create, index rows, status-map
    /// nodes/values/root and the cursor. When this returns `Ok`, all of it survives a crash;
    /// when it returns `Err`, none of it was written.
    fn append(&self, origin: &str, expected_size: u64, batch: AppendBatch)
        -> Result<AppendOutcome>;

    /// Up to `min(max_count, MAX_READ_ENTRIES)` entries from `start`, stopping at the log size.
    fn read_entries(&self, origin: &str, start: u64, max_count: u64) -> Result<Vec<Vec<u8>>>;
    fn leaf_hash(&self, origin: &str, index: u64) -> Result<Hash>;
    /// The root of the first `size` entries (any past size).
    fn root_at(&self, origin: &str, size: u64) -> Result<Hash>;
    fn inclusion_proof(&self, origin: &str, index: u64, size: u64) -> Result<InclusionProof>;
    fn consistency_proof(&self, origin: &str, old: u64, new: u64) -> Result<ConsistencyProof>;

    /// A C2SP tlog-proof of entry `index` against `checkpoint`, after checking that the
    /// checkpoint is for this origin and agrees with this store's log at its size.
    fn tlog_proof(
        &self,
        origin: &str,
        index: u64,
        checkpoint: &SignedCheckpoint,
    ) -> Result<TlogProof> {
        let cp = checkpoint.checkpoint();
        if cp.origin != origin {
            return Err(StorageError::CheckpointRejected {
                origin: origin.to_string(),
                reason: format!("checkpoint is for origin {:?}", cp.origin),
            });
        }
        let root = self.root_at(origin, cp.size)?;
        if root != cp.root {
            return Err(StorageError::CheckpointRejected {
                origin: origin.to_string(),
                reason: format!(
                    "checkpoint root {} at size {} differs from the stored root {root}",
                    cp.root, cp.size
                ),
            });
        }
        let proof = self.inclusion_proof(origin, index, cp.size)?;
        Ok(TlogProof {
            extra: None,
            index,
            inclusion: proof.hashes,
            checkpoint: checkpoint.clone(),
        })
    }
}

/// Secondary indexes (written only through [`AppendBatch::index`]).
pub trait IndexStore: Send + Sync {
    /// Entries about `subject`, ordered by (origin id, index), after `after`; `limit` is
    /// capped at [`MAX_INDEX_PAGE`].
    fn entries_for_subject(
        &self,
        subject: &SubjectId,
        after: Option<&EntryLocation>,
        limit: usize,
    ) -> Result<Vec<EntryLocation>>;
    fn latest_for_business_key(&self, business_key: &str) -> Result<Option<EntryLocation>>;
    /// Members of `list_kind` in member order, after `after`; `limit` capped at [`MAX_INDEX_PAGE`].
    fn list_members(
        &self,
        list_kind: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<ListMember>>;
    /// Entries filed under `key` in the case index, from this node's own log, its mirrors
    /// and the items received from its parent's feed, ordered by (origin, index), after
    /// `after`; `limit` is capped at [`MAX_INDEX_PAGE`].
    fn case_entries(
        &self,
        key: &CaseIndexKey,
        after: Option<&EntryLocation>,
        limit: usize,
    ) -> Result<Vec<EntryLocation>>;
    /// Case ids known to this node, in index order (length, then bytes), after `after`;
    /// `limit` is capped at [`MAX_INDEX_PAGE`].
    fn case_ids(&self, after: Option<&str>, limit: usize) -> Result<Vec<String>>;
    /// How many entries of `origin` the indexes, feed and status map cover. Own logs are
    /// indexed in the write that appends them; mirrors are indexed after their entries are
    /// durable and cosigned (so sync never waits for indexing), by [`IndexStore::apply_index`].
    fn indexed_size(&self, origin: &str) -> Result<u64>;
    /// Makes the derived state of mirror entries `[from, to)` durable in one atomic write:
    /// index and feed rows, the status-map write, and the indexed size `to`. Compare-and-swap
    /// on the indexed size (`from`) and on the status root; on error nothing is written.
    fn apply_index(
        &self,
        origin: &str,
        from: u64,
        to: u64,
        index: IndexUpdates,
        status: Option<StatusWrite>,
    ) -> Result<()>;
}

/// The node's verifiable status map (one per node, fed by all the logs it holds).
pub trait StatusStore: Send + Sync {
    fn status_root(&self) -> Result<Hash>;
    /// The encoded `SubjectStatus` of `key` (`SubjectId::map_key()`), if present.
    fn subject_status(&self, key: &Hash) -> Result<Option<Vec<u8>>>;
    fn status_proof(&self, key: &Hash) -> Result<StatusProof>;
    /// Computes the status-map write for `updates` (subject key → encoded `SubjectStatus`,
    /// `None` removes) from the current root, without writing anything. The result goes
    /// into an [`AppendBatch`]; the append fails with `StatusRootMismatch` if another
    /// write changed the map in between.
    fn plan_status_update(&self, updates: &[(Hash, Option<Vec<u8>>)]) -> Result<StatusWrite>;
}

/// Signed checkpoints (append-only history per origin) and their cosignatures.
pub trait CheckpointStore: Send + Sync {
    /// The stored checkpoint of the largest size within the log as readers see it (a
    /// checkpoint written with its entries appears with them, never before).
    fn latest_signed_checkpoint(&self, origin: &str) -> Result<Option<SignedCheckpoint>>;
    /// Stores a signed checkpoint of `origin` after checking that it parses, names
    /// `origin`, lies within the stored log and agrees with its root, and is not older than
    /// the latest stored one (compare-and-swap: checkpoints never go backwards).
    /// Signatures are the caller's business (the sequencer signed it, or sync verified it).
    fn store_signed_checkpoint(&self, origin: &str, bytes: &[u8]) -> Result<SignedCheckpoint> {
        self.store_cosigned_checkpoint(origin, bytes, &[])
    }
    /// [`CheckpointStore::store_signed_checkpoint`] with cosignature lines kept in the same
    /// atomic write: a reader sees the checkpoint with all of them or not at all.
    fn store_cosigned_checkpoint(
        &self,
        origin: &str,
        bytes: &[u8],
        cosignatures: &[String],
    ) -> Result<SignedCheckpoint>;
    /// Stored checkpoints with size ≥ `from_size`, oldest first, at most `limit`.
    fn signed_checkpoints(
        &self,
        origin: &str,
        from_size: u64,
        limit: usize,
    ) -> Result<Vec<SignedCheckpoint>>;
    /// Keeps a cosignature line (C2SP note signature line) for the checkpoint at `size`.
    fn add_cosignature(&self, origin: &str, size: u64, line: &str) -> Result<()>;
    fn cosignatures(&self, origin: &str, size: u64) -> Result<Vec<String>>;
}

/// Sync cursors per (peer, origin).
pub trait CursorStore: Send + Sync {
    fn cursor(&self, peer: &str, origin: &str) -> Result<Option<Cursor>>;
    fn set_cursor(&self, peer: &str, origin: &str, cursor: &Cursor) -> Result<()>;
}

/// Fork evidence; an origin with uncleared evidence is frozen (appends refused).
pub trait EvidenceStore: Send + Sync {
    fn record_fork(&self, origin: &str, evidence: ForkEvidence) -> Result<u64>;
    fn forks(&self, origin: &str) -> Result<Vec<ForkRecord>>;
    /// Marks all uncleared evidence of `origin` cleared with the operator's note; returns
    /// how many records were cleared. The evidence itself is kept.
    fn clear_fork(&self, origin: &str, operator_note: &str) -> Result<usize>;
    fn is_frozen(&self, origin: &str) -> Result<bool>;
}

/// Most items one feed page returns.
pub const MAX_FEED_PAGE: usize = 4_096;

/// A list-feed item this node received from its parent and verified: the entry, the
/// checkpoint of its origin it was proven against (signed note bytes, with cosignatures)
/// and the inclusion proof, so it can be shown to anyone again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedListEntry {
    pub origin: String,
    pub index: u64,
    pub entry: Vec<u8>,
    pub checkpoint: Vec<u8>,
    pub inclusion: Vec<Hash>,
}

/// The list feed: this node's numbered sequence of list-relevant entries of every log it
/// holds (served to children), and the items it received from its parent.
pub trait FeedStore: Send + Sync {
    /// Number of items in this node's feed.
    fn feed_size(&self) -> Result<u64>;
    /// Feed items `start..`, at most `min(limit, MAX_FEED_PAGE)`.
    fn feed_page(&self, start: u64, limit: usize) -> Result<Vec<EntryLocation>>;
    /// How many items of `parent`'s feed this node has taken in.
    fn received_position(&self, parent: &str) -> Result<u64>;
    /// Stores verified items taken from `parent`'s feed positions `[from, to)` (items this
    /// node already holds may have been left out) and sets the position to `to`, in one
    /// atomic write that also appends the new items to this node's own feed. `from` must
    /// equal the stored position.
    fn store_received(
        &self,
        parent: &str,
        from: u64,
        to: u64,
        items: &[ReceivedListEntry],
    ) -> Result<()>;
    /// A received item by its place in its origin's log.
    fn received_entry(&self, origin: &str, index: u64) -> Result<Option<ReceivedListEntry>>;
}

/// Everything a node needs from its storage engine.
pub trait Storage:
    LogStore + IndexStore + StatusStore + CheckpointStore + CursorStore + EvidenceStore + FeedStore
{
}

impl<T> Storage for T where
    T: LogStore
        + IndexStore
        + StatusStore
        + CheckpointStore
        + CursorStore
        + EvidenceStore
        + FeedStore
{
}
