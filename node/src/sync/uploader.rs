//! The child's end of a sync session, as a state machine: it pushes its own log and the
//! mirrors it holds of the nodes below, one origin after another, in deltas that end on a
//! checkpoint the origin signed, and keeps the parent's cosignature of each.
//!
//! ```text
//! start: Hello
//! AwaitHelloAck --HelloAck--> next origin: OfferLog(latest checkpoint)
//! Offered --CursorIs--> [parent up to date and its cosignature held: next origin]
//!                       [re-offer a nearer checkpoint if the delta would be too big]
//!                       ConsistencyProof + PushEntries...
//!                       [+ the next delta: OfferLog + ConsistencyProof + PushEntries...]
//!                                                                --> AwaitAccepted
//! AwaitAccepted --CursorIs (of a delta sent ahead)--> check it starts where we said
//! AwaitAccepted --Accepted--> store cosignature; send the delta after the ones in flight;
//!                             none in flight: same origin again if behind, else next
//! no origin left: FeedRequest{after: our position in the parent's feed}
//! AwaitFeed --FeedPage--> verify every item, store, advance; more pages, then
//!     [health reports due: HealthReports (own + subtree) --HealthAck--> next chunk]
//!     Goodbye{None}
//! ```
//!
//! It starts the first delta of each origin from the parent's cursor (`CursorIs`), so
//! nothing the parent has verified and stored is ever sent again. Later deltas of the same
//! origin are pipelined: up to [`PIPELINE_DEPTH`] deltas are unacknowledged at once, each
//! starting where the one before ends, so this node reads and sends delta k+1 while the
//! parent verifies, writes and cosigns delta k (the parent handles messages in order, so
//! it sees delta k+1 only after it has accepted delta k). If the parent refuses a delta
//! (fork, frozen origin) it refuses each one sent after it too; those answers are expected
//! and skipped.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use credx_protocol::merkle::Hash;
use credx_protocol::note::{Cosignature, NoteSignature, SignedCheckpoint};
use credx_protocol::wire::limits::{MAX_FEED_ITEMS, MAX_HEALTH_REPORTS};
use credx_protocol::wire::{ErrorCode, FeedItem, Message, PROTOCOL_VERSION};
use credx_storage::{LogRole, MAX_READ_ENTRIES};

use super::checkpoints::with_stored_cosignatures;
use super::context::{now_ms, now_secs, SyncContext};
use super::error::SessionEnd;
use super::feed::verify_page;
use super::metrics::{is_verification_failure, SyncMetrics};

/// Most deltas of one origin sent and not yet accepted. Two keep both ends busy (the
/// parent verifies and writes one while this node reads and sends the next); more would
/// only hold more entries in memory, since the parent handles deltas one at a time.
pub const PIPELINE_DEPTH: usize = 2;

/// Ranges sent to the parent and not yet acknowledged, per origin. Kept across sessions
/// (in memory, per process) to count entries sent twice.
#[derive(Debug, Default)]
pub struct Unacknowledged {
    /// Per origin, the span from the oldest unacknowledged entry sent to the end of the
    /// newest delta sent (pipelined deltas are contiguous).
    ranges: Mutex<HashMap<String, (u64, u64)>>,
}

impl Unacknowledged {
    /// Records `start..end` as sent; returns how many of its entries were sent before and
    /// not acknowledged (an earlier session ended between sending and the parent's answer).
    fn sent(&self, origin: &str, start: u64, end: u64) -> u64 {
        let mut ranges = match self.ranges.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let (overlap, span) = match ranges.get(origin) {
            Some(&(s, e)) => (
                e.min(end).saturating_sub(s.max(start)),
                (s.min(start), e.max(end)),
            ),
            None => (0, (start, end)),
        };
        ranges.insert(origin.to_owned(), span);
        overlap
    }

    fn acknowledged(&self, origin: &str, size: u64) {
        let mut ranges = match self.ranges.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        match ranges.get_mut(origin) {
            Some(&mut (_, end)) if end <= size => {
                ranges.remove(origin);
            }
            Some(span) => span.0 = span.0.max(size),
            None => {}
        }
    }
}

/// A delta sent to the parent and not yet accepted.
#[derive(Debug)]
struct InFlight {
    checkpoint: SignedCheckpoint,
    /// Where it starts: the parent's cursor for the first delta of an origin, the end of
    /// the delta before it for a pipelined one.
    from: u64,
    /// Sent ahead with its own `OfferLog`: the parent's `CursorIs` for it is still due.
    cursor_due: bool,
}

/// The messages of one delta, or the reason it cannot be sent as one.
enum DeltaMessages {
    /// `ConsistencyProof` and the `PushEntries` frames.
    Ready(Vec<Message>),
    /// Its entries exceed the byte limit of a delta; this nearer checkpoint ends a smaller
    /// one.
    TooBig(SignedCheckpoint),
}

/// What a session did, for logs and tests.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct UploadReport {
    /// Origins the parent now holds up to our latest checkpoint.
    pub synced: Vec<String>,
    /// Origins the parent refused, with its code and detail.
    pub refused: Vec<(String, ErrorCode, String)>,
    /// Origins skipped because the parent holds more of them than this node: (origin, the
    /// parent's size, ours). A store restored from an older backup.
    pub behind_parent: Vec<(String, u64, u64)>,
    pub entries_sent: u64,
    pub roster_adopted: bool,
    /// List-feed items taken in from the parent (echoes of this subtree not counted).
    pub feed_items: u64,
}

enum Phase {
    AwaitHelloAck,
    Offered {
        origin: String,
        checkpoint: SignedCheckpoint,
        /// The offer is already the nearest checkpoint within the delta limits.
        narrowed: bool,
    },
    /// Deltas of `origin` sent, oldest first (never empty).
    AwaitAccepted {
        origin: String,
        in_flight: VecDeque<InFlight>,
    },
    /// Pulling the parent's list feed from this position.
    AwaitFeed {
        after: u64,
    },
    /// Health reports sent; `rest` are the chunks still to send.
    AwaitHealthAck {
        rest: VecDeque<Vec<Vec<u8>>>,
    },
    Done,
}

/// One session with the parent.
pub struct UploaderSession {
    ctx: Arc<SyncContext>,
    parent: String,
    session_id: [u8; 16],
    unacked: Arc<Unacknowledged>,
    origins: VecDeque<String>,
    phase: Phase,
    report: UploadReport,
    /// Refusals still due for deltas sent ahead of one the parent refused: the parent
    /// refuses each of them as well (the origin is frozen), and they change nothing more.
    refusals_due: HashMap<String, usize>,
}

impl std::fmt::Debug for UploaderSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploaderSession")
            .field("parent", &self.parent)
            .field("pending_origins", &self.origins)
            .finish_non_exhaustive()
    }
}

impl UploaderSession {
    /// A session with `parent`: pushes this node's own log, then every mirror it holds.
    pub fn new(
        ctx: Arc<SyncContext>,
        parent: impl Into<String>,
        session_id: [u8; 16],
        unacked: Arc<Unacknowledged>,
    ) -> Result<UploaderSession, SessionEnd> {
        let roster = ctx.roster.current();
        if roster.status(now_secs()) == credx_protocol::roster::RosterStatus::Expired {
            return Err(SessionEnd::new(
                ErrorCode::RosterExpired,
                "roster_expired",
                format!(
                    "this node's roster v{} has expired; install a newer one (credx roster) to sync again",
                    roster.version()
                ),
            ));
        }
        let logs = ctx
            .store
            .logs()
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        let mut origins: VecDeque<String> = VecDeque::new();
        // Own log first: it is what this node is responsible for.
        for log in logs.iter().filter(|l| l.role == LogRole::Own) {
            origins.push_back(log.origin.clone());
        }
        for log in logs.iter().filter(|l| l.role == LogRole::Mirror) {
            origins.push_back(log.origin.clone());
        }
        Ok(UploaderSession {
            ctx,
            parent: parent.into(),
            session_id,
            unacked,
            origins,
            phase: Phase::AwaitHelloAck,
            report: UploadReport::default(),
            refusals_due: HashMap::new(),
        })
    }

    /// The first message.
    pub fn start(&self) -> Message {
        Message::Hello {
            protocol_version: PROTOCOL_VERSION,
            node: self.ctx.origin.clone(),
            roster_version: self.ctx.roster.current().version(),
            session_id: self.session_id,
        }
    }

    pub fn is_done(&self) -> bool {
        matches!(self.phase, Phase::Done)
    }

    pub fn report(&self) -> &UploadReport {
        &self.report
    }

    /// Handles one message from the parent; returns what to send next. After the last
    /// origin the answer ends with `Goodbye{None}` and [`UploaderSession::is_done`] holds.
    pub fn handle(&mut self, message: Message) -> Result<Vec<Message>, SessionEnd> {
        let result = self.step(message);
        if let Err(end) = &result {
            if !end.by_peer && is_verification_failure(end.code) {
                self.ctx.health.proof_failure(end.kind);
            }
        }
        result
    }

    fn step(&mut self, message: Message) -> Result<Vec<Message>, SessionEnd> {
        if let Message::Rejected { origin, .. } = &message {
            if self.refusal_was_due(origin) {
                return Ok(Vec::new());
            }
        }
        let phase = std::mem::replace(&mut self.phase, Phase::Done);
        match (phase, message) {
            (_, Message::Goodbye { code, detail }) => match code {
                None => Ok(Vec::new()),
                Some(code) => Err(SessionEnd {
                    code,
                    kind: code.name(),
                    detail,
                    by_peer: true,
                }),
            },
            (phase, Message::RosterOffer { signed_roster }) => {
                self.phase = phase;
                match self.ctx.roster.offer(&signed_roster, now_secs()) {
                    Ok(adopted) => {
                        if adopted {
                            self.ctx.metrics.rosters_adopted.inc();
                            self.report.roster_adopted = true;
                        }
                    }
                    Err(error) => {
                        self.ctx.metrics.rejected("roster_refused");
                        tracing::warn!(parent = %self.parent, "keeping the current roster: {error}");
                    }
                }
                Ok(Vec::new())
            }
            (
                Phase::AwaitHelloAck,
                Message::HelloAck {
                    protocol_version,
                    node,
                    ..
                },
            ) => {
                if protocol_version != PROTOCOL_VERSION {
                    return Err(SessionEnd::new(
                        ErrorCode::ProtocolVersion,
                        "protocol_version",
                        format!("parent answered version {protocol_version}"),
                    ));
                }
                if node != self.parent {
                    return Err(SessionEnd::protocol(format!(
                        "HelloAck names {node}, expected the parent {}",
                        self.parent
                    )));
                }
                self.next_origin()
            }
            (
                Phase::Offered {
                    origin,
                    checkpoint,
                    narrowed,
                },
                Message::CursorIs {
                    origin: at,
                    size,
                    root,
                },
            ) if at == origin => self.cursor(origin, checkpoint, narrowed, size, root),
            (
                Phase::AwaitAccepted { origin, in_flight },
                Message::CursorIs {
                    origin: at, size, ..
                },
            ) if at == origin => self.pipelined_cursor(origin, in_flight, size),
            (
                Phase::AwaitAccepted { origin, in_flight },
                Message::Accepted {
                    origin: at,
                    size,
                    cosignature,
                },
            ) if at == origin => self.accepted(origin, in_flight, size, &cosignature),
            (
                Phase::Offered { origin, .. },
                Message::Rejected {
                    origin: at,
                    code,
                    detail,
                },
            ) if at == origin => self.refused(origin, 0, code, detail),
            (
                Phase::AwaitAccepted { origin, in_flight },
                Message::Rejected {
                    origin: at,
                    code,
                    detail,
                },
            ) if at == origin => {
                // Every delta sent after the refused one is refused in turn.
                let after = in_flight.len().saturating_sub(1);
                self.refused(origin, after, code, detail)
            }
            (
                Phase::AwaitFeed { after },
                Message::FeedPage {
                    start,
                    feed_size,
                    checkpoints,
                    items,
                },
            ) => self.feed_page(after, start, feed_size, &checkpoints, items),
            (Phase::AwaitHealthAck { rest }, Message::HealthAck { accepted, refused }) => {
                if refused > 0 {
                    tracing::warn!(
                        parent = %self.parent,
                        accepted,
                        refused,
                        "the parent refused health reports (its log says why)"
                    );
                }
                self.send_health(rest)
            }
            (_, message) => Err(SessionEnd::protocol(format!(
                "unexpected {} from the parent",
                message.name()
            ))),
        }
    }

    /// The parent refused a delta of `origin`; `sent_after` more of its deltas were in
    /// flight behind it. The session goes on with the next origin.
    fn refused(
        &mut self,
        origin: String,
        sent_after: usize,
        code: ErrorCode,
        detail: String,
    ) -> Result<Vec<Message>, SessionEnd> {
        self.ctx.metrics.rejected(code.name());
        tracing::warn!(origin = %origin, parent = %self.parent, ?code, "parent refused: {detail}");
        if sent_after > 0 {
            *self.refusals_due.entry(origin.clone()).or_default() += sent_after;
        }
        self.report.refused.push((origin, code, detail));
        self.next_origin()
    }

    /// Whether a refusal of `origin` is one still due for a delta sent ahead of a refused
    /// one (and so already accounted for).
    fn refusal_was_due(&mut self, origin: &str) -> bool {
        let Some(due) = self.refusals_due.get_mut(origin) else {
            return false;
        };
        *due -= 1;
        if *due == 0 {
            self.refusals_due.remove(origin);
        }
        true
    }

    /// Offers the next origin that has a signed checkpoint; after the last one, pulls the
    /// parent's list feed.
    fn next_origin(&mut self) -> Result<Vec<Message>, SessionEnd> {
        while let Some(origin) = self.origins.pop_front() {
            let latest = self
                .ctx
                .store
                .latest_signed_checkpoint(&origin)
                .map_err(|e| SessionEnd::internal(e.to_string()))?;
            let Some(latest) = latest else { continue };
            return self.offer(origin, latest, false);
        }
        let after = self
            .ctx
            .store
            .received_position(&self.parent)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        self.request_feed(after)
    }

    fn request_feed(&mut self, after: u64) -> Result<Vec<Message>, SessionEnd> {
        self.phase = Phase::AwaitFeed { after };
        Ok(vec![Message::FeedRequest {
            after,
            max: MAX_FEED_ITEMS as u32,
        }])
    }

    fn feed_page(
        &mut self,
        after: u64,
        start: u64,
        feed_size: u64,
        checkpoints: &[Vec<u8>],
        items: Vec<FeedItem>,
    ) -> Result<Vec<Message>, SessionEnd> {
        if start != after {
            return Err(SessionEnd::protocol(format!(
                "asked for the feed after {after}, the page starts at {start}"
            )));
        }
        let count = items.len();
        let roster = self.ctx.roster.current();
        let (keep, end) = verify_page(
            &roster,
            &self.ctx.origin,
            &self.parent,
            start,
            checkpoints,
            items,
        )?;
        self.ctx
            .store
            .store_received(&self.parent, start, end, &keep)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        self.report.feed_items += keep.len() as u64;
        if count > 0 && end < feed_size {
            return self.request_feed(end);
        }
        self.health_or_goodbye()
    }

    /// After the feed: this node's and its subtree's health reports when they are due
    /// (every `health.report_interval`, on a kept connection even when idle), then goodbye.
    fn health_or_goodbye(&mut self) -> Result<Vec<Message>, SessionEnd> {
        let now = now_ms();
        if !self.ctx.health.report_due(now) {
            return self.send_health(VecDeque::new());
        }
        match self.ctx.health.outgoing(now) {
            Ok(reports) => {
                let chunks = reports
                    .chunks(MAX_HEALTH_REPORTS)
                    .map(<[Vec<u8>]>::to_vec)
                    .collect();
                self.send_health(chunks)
            }
            Err(error) => {
                tracing::warn!("no health report sent: {error}");
                self.send_health(VecDeque::new())
            }
        }
    }

    fn send_health(
        &mut self,
        mut chunks: VecDeque<Vec<Vec<u8>>>,
    ) -> Result<Vec<Message>, SessionEnd> {
        if let Some(reports) = chunks.pop_front() {
            self.phase = Phase::AwaitHealthAck { rest: chunks };
            return Ok(vec![Message::HealthReports { reports }]);
        }
        self.phase = Phase::Done;
        Ok(vec![Message::Goodbye {
            code: None,
            detail: String::new(),
        }])
    }

    fn offer(
        &mut self,
        origin: String,
        checkpoint: SignedCheckpoint,
        narrowed: bool,
    ) -> Result<Vec<Message>, SessionEnd> {
        let checkpoint = self.with_cosignatures(&origin, checkpoint)?;
        let bytes = checkpoint.to_bytes();
        self.phase = Phase::Offered {
            origin: origin.clone(),
            checkpoint,
            narrowed,
        };
        Ok(vec![Message::OfferLog {
            origin,
            checkpoint: bytes,
        }])
    }

    /// The checkpoint as offered upward, with the cosignatures this node holds for it.
    fn with_cosignatures(
        &self,
        origin: &str,
        checkpoint: SignedCheckpoint,
    ) -> Result<SignedCheckpoint, SessionEnd> {
        with_stored_cosignatures(self.ctx.store.as_ref(), origin, checkpoint)
    }

    fn cursor(
        &mut self,
        origin: String,
        checkpoint: SignedCheckpoint,
        narrowed: bool,
        size: u64,
        root: Hash,
    ) -> Result<Vec<Message>, SessionEnd> {
        self.ctx.health.acknowledged(&origin, size);
        let store = self.ctx.store.as_ref();
        let ours = store
            .log_size(&origin)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        let target = checkpoint.checkpoint().size;
        if size > ours {
            // This node's copy is older than the parent's (a store restored from a backup):
            // nothing of this log can be sent, but the other logs (the subtree's mirrors)
            // still go up, so one restored node does not cut off everything below it.
            tracing::error!(
                origin = %origin,
                parent = %self.parent,
                "the parent holds {size} entries of {origin}, this node only {ours}; was this \
                 node restored from a backup? See docs/operations.md (backup and restore)"
            );
            self.report.behind_parent.push((origin, size, ours));
            return self.next_origin();
        }
        let our_root = store
            .root_at(&origin, size)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        if our_root != root {
            // Two histories under one key. Go on with the proof from our log: the parent
            // judges it, keeps both checkpoints as evidence and freezes the origin; an
            // operator has to sort out which history is the real one.
            tracing::error!(
                origin = %origin,
                parent = %self.parent,
                "the parent's mirror at size {size} has root {root}, ours is {our_root}"
            );
        }
        if size > target {
            if narrowed {
                // The parent is ahead of the nearer checkpoint we picked: offer the latest.
                return self.same_origin_again(origin);
            }
            // The parent holds more than our latest checkpoint covers (we crashed between
            // appending and storing the checkpoint): nothing to send until we sign again.
            tracing::warn!(origin = %origin, parent = %self.parent, "parent is at {size}, our latest checkpoint at {target}");
            return self.next_origin();
        }
        if size == target && our_root == root && self.parent_cosigned(&checkpoint) {
            // The parent holds this checkpoint and we hold its cosignature: nothing to send
            // and nothing to ask for. (Without the cosignature, the empty delta below asks
            // the parent to cosign again.)
            self.report.synced.push(origin);
            return self.next_origin();
        }
        if !narrowed && target - size > self.ctx.limits.max_delta_entries {
            let limit = size.saturating_add(self.ctx.limits.max_delta_entries);
            let nearer = self.nearest_checkpoint(&origin, size, limit)?;
            if let Some(nearer) = nearer {
                if nearer.checkpoint().size != target {
                    return self.offer(origin, nearer, true);
                }
            }
        }
        self.send_delta(origin, checkpoint, size)
    }

    /// Whether `checkpoint` (as offered, with the cosignatures this node stores) carries a
    /// cosignature under the parent's cosigner key. Stored cosignatures were verified when
    /// they arrived.
    fn parent_cosigned(&self, checkpoint: &SignedCheckpoint) -> bool {
        let roster = self.ctx.roster.current();
        let Some(key) = roster.cosigner_key(&self.parent) else {
            return false;
        };
        checkpoint
            .note()
            .signatures
            .iter()
            .any(|sig| *key.name() == sig.name && key.key_id() == sig.key_id)
    }

    /// The largest stored checkpoint of `origin` beyond `from` and at most `limit`; if none
    /// is that near, the first one beyond `from` (the parent then judges the size).
    fn nearest_checkpoint(
        &self,
        origin: &str,
        from: u64,
        limit: u64,
    ) -> Result<Option<SignedCheckpoint>, SessionEnd> {
        let mut best = None;
        let mut after = from.saturating_add(1);
        loop {
            let page = self
                .ctx
                .store
                .signed_checkpoints(origin, after, 256)
                .map_err(|e| SessionEnd::internal(e.to_string()))?;
            let Some(last) = page.last() else { break };
            let next_after = last.checkpoint().size.saturating_add(1);
            let full = page.len() == 256;
            for cp in page {
                let cp_size = cp.checkpoint().size;
                if cp_size > limit {
                    // Too far; take it only if nothing nearer exists (the parent decides).
                    if best.is_none() {
                        best = Some(cp);
                    }
                    return Ok(best);
                }
                best = Some(cp);
            }
            if !full {
                break;
            }
            after = next_after;
        }
        Ok(best)
    }

    /// Sends the delta `from..checkpoint` (the parent's cursor is `from`), and behind it
    /// the next deltas of the same origin up to [`PIPELINE_DEPTH`].
    fn send_delta(
        &mut self,
        origin: String,
        checkpoint: SignedCheckpoint,
        from: u64,
    ) -> Result<Vec<Message>, SessionEnd> {
        let mut out = match self.delta_messages(&origin, &checkpoint, from)? {
            DeltaMessages::Ready(out) => out,
            DeltaMessages::TooBig(nearer) => return self.offer(origin, nearer, true),
        };
        self.count_sent(&origin, from, checkpoint.checkpoint().size);
        let mut in_flight = VecDeque::from([InFlight {
            checkpoint,
            from,
            cursor_due: false,
        }]);
        self.send_ahead(&origin, &mut in_flight, &mut out, from)?;
        self.phase = Phase::AwaitAccepted { origin, in_flight };
        Ok(out)
    }

    /// Appends to `out` the deltas that follow the last one in flight (or, with none in
    /// flight, the parent's known cursor `cursor`), each with its own `OfferLog`, while
    /// fewer than [`PIPELINE_DEPTH`] are unacknowledged. A delta that needs narrowing (no
    /// stored checkpoint within the limits) is left for the path that asks for the cursor.
    fn send_ahead(
        &mut self,
        origin: &str,
        in_flight: &mut VecDeque<InFlight>,
        out: &mut Vec<Message>,
        cursor: u64,
    ) -> Result<(), SessionEnd> {
        while in_flight.len() < PIPELINE_DEPTH {
            let from = in_flight
                .back()
                .map_or(cursor, |last| last.checkpoint.checkpoint().size);
            let Some(next) = self.next_checkpoint(origin, from)? else {
                break;
            };
            let next = self.with_cosignatures(origin, next)?;
            let DeltaMessages::Ready(messages) = self.delta_messages(origin, &next, from)? else {
                break;
            };
            out.push(Message::OfferLog {
                origin: origin.to_owned(),
                checkpoint: next.to_bytes(),
            });
            out.extend(messages);
            self.count_sent(origin, from, next.checkpoint().size);
            in_flight.push_back(InFlight {
                checkpoint: next,
                from,
                cursor_due: true,
            });
        }
        Ok(())
    }

    /// The checkpoint that ends the next delta of `origin` after `from`: the latest one if
    /// it is within the entry limit of a delta, else the farthest stored one within it;
    /// `None` when there is none (nothing new, or only checkpoints too far away).
    fn next_checkpoint(
        &self,
        origin: &str,
        from: u64,
    ) -> Result<Option<SignedCheckpoint>, SessionEnd> {
        let latest = self
            .ctx
            .store
            .latest_signed_checkpoint(origin)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        let Some(latest) = latest else {
            return Ok(None);
        };
        let size = latest.checkpoint().size;
        if size <= from {
            return Ok(None);
        }
        let limit = from.saturating_add(self.ctx.limits.max_delta_entries);
        if size <= limit {
            return Ok(Some(latest));
        }
        Ok(self
            .nearest_checkpoint(origin, from, limit)?
            .filter(|cp| cp.checkpoint().size <= limit))
    }

    /// The `ConsistencyProof` and `PushEntries` frames of the delta `from..checkpoint`.
    fn delta_messages(
        &self,
        origin: &str,
        checkpoint: &SignedCheckpoint,
        from: u64,
    ) -> Result<DeltaMessages, SessionEnd> {
        let store = self.ctx.store.as_ref();
        let to = checkpoint.checkpoint().size;
        let proof = store
            .consistency_proof(origin, from, to)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        let mut out = vec![Message::ConsistencyProof {
            origin: origin.to_owned(),
            old_size: from,
            new_size: to,
            hashes: proof.hashes,
        }];
        let batch_max = (self.ctx.limits.push_batch_entries as u64).clamp(1, MAX_READ_ENTRIES);
        let mut next = from;
        let mut bytes = 0usize;
        while next < to {
            let count = (to - next).min(batch_max);
            let entries = store
                .read_entries(origin, next, count)
                .map_err(|e| SessionEnd::internal(e.to_string()))?;
            if entries.is_empty() {
                return Err(SessionEnd::internal(format!(
                    "{origin}: no entries readable at {next} below the checkpoint size {to}"
                )));
            }
            let read = entries.len() as u64;
            bytes = bytes.saturating_add(entries.iter().map(Vec::len).sum::<usize>());
            if bytes > self.ctx.limits.max_delta_bytes {
                // Too many bytes for one delta: end it on an earlier checkpoint if one exists.
                if let Some(nearer) = self.nearest_checkpoint(origin, from, next)? {
                    if nearer.checkpoint().size <= next && nearer.checkpoint().size < to {
                        return Ok(DeltaMessages::TooBig(nearer));
                    }
                }
                tracing::warn!(origin = %origin, "delta {from}..{to} exceeds {} bytes and no checkpoint lies nearer", self.ctx.limits.max_delta_bytes);
            }
            out.push(Message::PushEntries {
                origin: origin.to_owned(),
                start: next,
                entries,
                end_of_batch_checkpoint: None,
            });
            next += read;
        }
        Ok(DeltaMessages::Ready(out))
    }

    /// Counts the delta `from..to` as sent (and, if an earlier session sent part of it
    /// without an answer, as sent again).
    fn count_sent(&mut self, origin: &str, from: u64, to: u64) {
        let resent = self.unacked.sent(origin, from, to);
        if resent > 0 {
            self.ctx
                .metrics
                .entries_resent
                .get_or_create(&SyncMetrics::origin(origin))
                .inc_by(resent);
        }
        self.ctx
            .metrics
            .entries_sent
            .get_or_create(&SyncMetrics::origin(origin))
            .inc_by(to - from);
        self.report.entries_sent += to - from;
    }

    /// The parent's cursor for a delta sent ahead: it must be where that delta starts (the
    /// parent accepted the one before it). Any other size means the two ends disagree on
    /// the log, which the parent also finds when it checks the delta.
    fn pipelined_cursor(
        &mut self,
        origin: String,
        mut in_flight: VecDeque<InFlight>,
        size: u64,
    ) -> Result<Vec<Message>, SessionEnd> {
        let Some(front) = in_flight.front_mut().filter(|d| d.cursor_due) else {
            return Err(SessionEnd::protocol(format!(
                "{origin}: CursorIs while no delta sent ahead waits for one"
            )));
        };
        if size != front.from {
            return Err(SessionEnd::protocol(format!(
                "{origin}: parent's cursor is {size}, the delta sent ahead starts at {}",
                front.from
            )));
        }
        front.cursor_due = false;
        self.ctx.health.acknowledged(&origin, size);
        self.phase = Phase::AwaitAccepted { origin, in_flight };
        Ok(Vec::new())
    }

    fn accepted(
        &mut self,
        origin: String,
        mut in_flight: VecDeque<InFlight>,
        size: u64,
        cosignature: &[u8],
    ) -> Result<Vec<Message>, SessionEnd> {
        let Some(oldest) = in_flight.pop_front() else {
            return Err(SessionEnd::internal(format!(
                "{origin}: Accepted while no delta is in flight"
            )));
        };
        if oldest.cursor_due {
            return Err(SessionEnd::protocol(format!(
                "{origin}: Accepted before the CursorIs of the delta from {}",
                oldest.from
            )));
        }
        let cp = oldest.checkpoint.checkpoint();
        if size != cp.size {
            return Err(SessionEnd::protocol(format!(
                "{origin}: parent accepted size {size}, the delta ended at {}",
                cp.size
            )));
        }
        let roster = self.ctx.roster.current();
        let Some(key) = roster.cosigner_key(&self.parent) else {
            return Err(SessionEnd::new(
                ErrorCode::NotInRoster,
                "not_in_roster",
                format!(
                    "{} has no cosigner key in roster v{}",
                    self.parent,
                    roster.version()
                ),
            ));
        };
        let line = std::str::from_utf8(cosignature)
            .map_err(|_| SessionEnd::protocol("cosignature line is not UTF-8"))?;
        let parsed = NoteSignature::parse_line(line.trim_end_matches('\n'))
            .map_err(|e| SessionEnd::protocol(format!("cosignature line: {e}")))?;
        let cosig = Cosignature::from_note_signature(&parsed).map_err(|e| {
            SessionEnd::new(ErrorCode::BadSignature, "bad_signature", e.to_string())
        })?;
        cosig.verify(cp, key).map_err(|e| {
            SessionEnd::new(
                ErrorCode::BadSignature,
                "bad_signature",
                format!(
                    "{origin}: cosignature of size {size} by {}: {e}",
                    self.parent
                ),
            )
        })?;
        self.ctx
            .store
            .add_cosignature(&origin, size, &parsed.to_line())
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        self.unacked.acknowledged(&origin, size);
        self.ctx.health.acknowledged(&origin, size);
        self.ctx
            .metrics
            .cosignatures_stored
            .get_or_create(&SyncMetrics::origin(&origin))
            .inc();
        // The parent's cursor is now `size`: what was signed since goes up without asking.
        let mut out = Vec::new();
        self.send_ahead(&origin, &mut in_flight, &mut out, size)?;
        if !in_flight.is_empty() {
            self.phase = Phase::AwaitAccepted { origin, in_flight };
            return Ok(out);
        }
        let latest = self
            .ctx
            .store
            .latest_signed_checkpoint(&origin)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        match latest {
            // Nothing could be sent ahead (the next checkpoint is too far): offer the
            // latest, and the cursor path narrows it.
            Some(latest) if latest.checkpoint().size > size => self.offer(origin, latest, false),
            _ => {
                self.report.synced.push(origin);
                self.next_origin()
            }
        }
    }

    fn same_origin_again(&mut self, origin: String) -> Result<Vec<Message>, SessionEnd> {
        let latest = self
            .ctx
            .store
            .latest_signed_checkpoint(&origin)
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        match latest {
            Some(latest) => self.offer(origin, latest, false),
            None => self.next_origin(),
        }
    }
}
