//! The child's end of a sync session, as a state machine: it pushes its own log and the
//! mirrors it holds of the nodes below, in deltas that end on a checkpoint the origin
//! signed, and keeps the parent's cosignature of each.
//!
//! ```text
//! start: Hello
//! AwaitHelloAck --HelloAck--> OfferLog(latest checkpoint) of EVERY origin at once
//! Surveying --CursorIs / Rejected (one per offer, in order)--> per origin:
//!             [parent up to date and its cosignature held: nothing to send]
//!             [else pending from the parent's cursor]
//!           all answered --> send deltas (below)
//! Streaming: each delta goes as OfferLog + ConsistencyProof + PushEntries..., one delta of
//!            each pending origin in turn, while fewer than PIPELINE_DEPTH are unanswered;
//!   --CursorIs (of the oldest delta)--> check it starts where we said
//!   --Accepted (of the oldest delta)--> store cosignature; send more
//!   --Rejected (of the oldest delta)--> drop that origin (its later deltas are refused too)
//!   nothing in flight and nothing pending --> FeedRequest{after: our position in the feed}
//! AwaitFeed --FeedPage--> verify every item, store, advance; more pages, then
//!     [health reports due: HealthReports (own + subtree) --HealthAck--> next chunk]
//!     Goodbye{None}
//! ```
//!
//! Every delta starts from the parent's cursor (`CursorIs` of the survey, then the end of
//! the delta sent before it), so nothing the parent has verified and stored is sent again.
//! The parent handles messages strictly in order, so the child never waits for a round
//! trip between deltas, of one origin or of different ones: while the parent verifies,
//! writes and cosigns delta k, deltas k+1.. are already on their way. Under load this is
//! what keeps a session with many origins (a province pushes its own log and every mirror
//! below it) from costing two round trips per origin. If the parent refuses a delta (fork,
//! frozen origin) it refuses each later one of that origin sent behind it too; those
//! answers are expected and skipped.

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

/// Most deltas sent and not yet answered (over all origins of the session). Three keep both
/// ends busy (the parent writes one while it verifies the next, and this node reads and
/// sends a third); four measured no faster in the sync benchmark (docs/performance.md) and
/// would hold one more delta's entries in memory at both ends.
pub const PIPELINE_DEPTH: usize = 3;

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
    origin: String,
    checkpoint: SignedCheckpoint,
    /// Where it starts: the parent's cursor when it was sent.
    from: u64,
    /// Every delta is sent behind its own `OfferLog`; the parent's `CursorIs` for it comes
    /// first, then its `Accepted`.
    cursor_due: bool,
}

/// An origin with something left to send, and where the parent's cursor will be once the
/// deltas already sent are accepted.
#[derive(Debug)]
struct Pending {
    origin: String,
    from: u64,
    /// The checkpoint to send first even though it adds no entry: the parent holds its
    /// size but this node lacks the parent's cosignature of it (the empty delta asks for
    /// one), or the two roots differ (the parent judges the fork from it).
    first: Option<SignedCheckpoint>,
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
    /// Every origin offered at once; the parent answers each offer in order.
    Surveying {
        offers: VecDeque<(String, SignedCheckpoint)>,
    },
    /// Deltas sent, oldest first, across origins (never empty).
    Streaming {
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
    origins: Vec<String>,
    /// Origins with deltas still to send, taken in turn (one delta each per turn).
    pending: VecDeque<Pending>,
    phase: Phase,
    report: UploadReport,
    /// Refusals still due for deltas sent behind one the parent refused: the parent
    /// refuses each of them as well (the origin is frozen), and they change nothing more.
    refusals_due: HashMap<String, usize>,
}

impl std::fmt::Debug for UploaderSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UploaderSession")
            .field("parent", &self.parent)
            .field("origins", &self.origins)
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
        // Own log first: it is what this node is responsible for.
        let origins = logs
            .iter()
            .filter(|l| l.role == LogRole::Own)
            .chain(logs.iter().filter(|l| l.role == LogRole::Mirror))
            .map(|l| l.origin.clone())
            .collect();
        Ok(UploaderSession {
            ctx,
            parent: parent.into(),
            session_id,
            unacked,
            origins,
            pending: VecDeque::new(),
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
                self.survey()
            }
            (
                Phase::Surveying { mut offers },
                Message::CursorIs {
                    origin: at,
                    size,
                    root,
                },
            ) if offers.front().is_some_and(|(origin, _)| *origin == at) => {
                if let Some((origin, checkpoint)) = offers.pop_front() {
                    self.cursor(origin, &checkpoint, size, root)?;
                }
                self.survey_answered(offers)
            }
            (
                Phase::Surveying { mut offers },
                Message::Rejected {
                    origin: at,
                    code,
                    detail,
                },
            ) if offers.front().is_some_and(|(origin, _)| *origin == at) => {
                offers.pop_front();
                self.refused(at, code, detail);
                self.survey_answered(offers)
            }
            (
                Phase::Streaming { in_flight },
                Message::CursorIs {
                    origin: at, size, ..
                },
            ) if in_flight.front().is_some_and(|d| d.origin == at) => {
                self.delta_cursor(in_flight, size)
            }
            (
                Phase::Streaming { in_flight },
                Message::Accepted {
                    origin: at,
                    size,
                    cosignature,
                },
            ) if in_flight.front().is_some_and(|d| d.origin == at) => {
                self.accepted(in_flight, size, &cosignature)
            }
            (
                Phase::Streaming { in_flight },
                Message::Rejected {
                    origin: at,
                    code,
                    detail,
                },
            ) if in_flight.front().is_some_and(|d| d.origin == at) => {
                self.delta_refused(in_flight, code, detail)
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

    /// Offers every origin that has a signed checkpoint, all at once: one round trip
    /// learns the parent's cursor of each, whatever the number of origins.
    fn survey(&mut self) -> Result<Vec<Message>, SessionEnd> {
        let mut out = Vec::new();
        let mut offers = VecDeque::new();
        for origin in std::mem::take(&mut self.origins) {
            let latest = self
                .ctx
                .store
                .latest_signed_checkpoint(&origin)
                .map_err(|e| SessionEnd::internal(e.to_string()))?;
            let Some(latest) = latest else { continue };
            let offered = self.with_cosignatures(&origin, latest)?;
            out.push(Message::OfferLog {
                origin: origin.clone(),
                checkpoint: offered.to_bytes(),
            });
            offers.push_back((origin, offered));
        }
        if offers.is_empty() {
            return self.after_deltas();
        }
        self.phase = Phase::Surveying { offers };
        Ok(out)
    }

    /// One offer answered; once all are, the deltas go out.
    fn survey_answered(
        &mut self,
        offers: VecDeque<(String, SignedCheckpoint)>,
    ) -> Result<Vec<Message>, SessionEnd> {
        if !offers.is_empty() {
            self.phase = Phase::Surveying { offers };
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        self.fill(VecDeque::new(), &mut out).map(|()| out)
    }

    /// The parent refused an origin (it is frozen there, or a delta of it forked). The
    /// session goes on with the other origins.
    fn refused(&mut self, origin: String, code: ErrorCode, detail: String) {
        self.ctx.metrics.rejected(code.name());
        tracing::warn!(origin = %origin, parent = %self.parent, ?code, "parent refused: {detail}");
        self.pending.retain(|p| p.origin != origin);
        self.report.refused.push((origin, code, detail));
    }

    /// Whether a refusal of `origin` is one still due for a delta sent behind a refused
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

    /// After the deltas: the parent's list feed.
    fn after_deltas(&mut self) -> Result<Vec<Message>, SessionEnd> {
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

    /// The checkpoint as offered upward, with the cosignatures this node holds for it.
    fn with_cosignatures(
        &self,
        origin: &str,
        checkpoint: SignedCheckpoint,
    ) -> Result<SignedCheckpoint, SessionEnd> {
        with_stored_cosignatures(self.ctx.store.as_ref(), origin, checkpoint)
    }

    /// The parent's cursor for an offered origin: decides whether it has anything to send.
    fn cursor(
        &mut self,
        origin: String,
        checkpoint: &SignedCheckpoint,
        size: u64,
        root: Hash,
    ) -> Result<(), SessionEnd> {
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
            return Ok(());
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
            // The parent holds more than our latest checkpoint covers (we crashed between
            // appending and storing the checkpoint): nothing to send until we sign again.
            tracing::warn!(origin = %origin, parent = %self.parent, "parent is at {size}, our latest checkpoint at {target}");
            return Ok(());
        }
        let first = if size == target {
            if our_root == root && self.parent_cosigned(checkpoint) {
                // The parent holds this checkpoint and we hold its cosignature: nothing to
                // send and nothing to ask for.
                self.report.synced.push(origin);
                return Ok(());
            }
            // An empty delta: it asks the parent to cosign again (we lack its
            // cosignature), or shows it our checkpoint where the roots differ (a fork).
            Some(checkpoint.clone())
        } else {
            None
        };
        self.pending.push_back(Pending {
            origin,
            from: size,
            first,
        });
        Ok(())
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

    /// Sends deltas until [`PIPELINE_DEPTH`] are unanswered or nothing is left: one delta
    /// of each pending origin in turn (a busy origin does not hold up the others), each
    /// behind its own `OfferLog` and starting where the parent's cursor will be. With
    /// nothing in flight and nothing left, goes on to the feed.
    fn fill(
        &mut self,
        mut in_flight: VecDeque<InFlight>,
        out: &mut Vec<Message>,
    ) -> Result<(), SessionEnd> {
        while in_flight.len() < PIPELINE_DEPTH {
            let Some(mut next) = self.pending.pop_front() else {
                break;
            };
            // `first` is the checkpoint as offered, its cosignatures already attached.
            let (end, mut attached) = match next.first.take() {
                Some(checkpoint) => (Some(checkpoint), true),
                None => (self.delta_end(&next.origin, next.from)?, false),
            };
            let Some(end) = end else {
                // Everything signed of this origin is sent; it is up to date at the parent
                // once the deltas still in flight are accepted (`accepted` says so then).
                if !in_flight.iter().any(|d| d.origin == next.origin) {
                    self.report.synced.push(next.origin);
                }
                continue;
            };
            // Too many bytes: end on a nearer checkpoint (each one strictly nearer, so this
            // ends; `delta_messages` sends the nearest one whatever its size).
            let mut end = end;
            let messages = loop {
                match self.delta_messages(&next.origin, &end, next.from)? {
                    DeltaMessages::Ready(messages) => break messages,
                    DeltaMessages::TooBig(nearer) => {
                        end = nearer;
                        attached = false;
                    }
                }
            };
            let end = if attached {
                end
            } else {
                self.with_cosignatures(&next.origin, end)?
            };
            let to = end.checkpoint().size;
            out.push(Message::OfferLog {
                origin: next.origin.clone(),
                checkpoint: end.to_bytes(),
            });
            out.extend(messages);
            self.count_sent(&next.origin, next.from, to);
            in_flight.push_back(InFlight {
                origin: next.origin.clone(),
                checkpoint: end,
                from: next.from,
                cursor_due: true,
            });
            next.from = to;
            self.pending.push_back(next);
        }
        if in_flight.is_empty() {
            out.extend(self.after_deltas()?);
        } else {
            self.phase = Phase::Streaming { in_flight };
        }
        Ok(())
    }

    /// The checkpoint that ends the next delta of `origin` after `from`: the latest one if
    /// it is within the entry limit of a delta, else the farthest stored one within it, or
    /// (none that near) the first one beyond `from`, for the parent to judge; `None` when
    /// nothing was signed beyond `from`.
    fn delta_end(&self, origin: &str, from: u64) -> Result<Option<SignedCheckpoint>, SessionEnd> {
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
        Ok(Some(
            self.nearest_checkpoint(origin, from, limit)?
                .unwrap_or(latest),
        ))
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

    /// The parent's cursor for the oldest delta in flight: it must be where that delta
    /// starts (the parent accepted the one before it). Any other size means the two ends
    /// disagree on the log, which the parent also finds when it checks the delta.
    fn delta_cursor(
        &mut self,
        mut in_flight: VecDeque<InFlight>,
        size: u64,
    ) -> Result<Vec<Message>, SessionEnd> {
        let Some(front) = in_flight.front_mut().filter(|d| d.cursor_due) else {
            return Err(SessionEnd::protocol(
                "CursorIs while the oldest delta in flight waits for its Accepted",
            ));
        };
        if size != front.from {
            return Err(SessionEnd::protocol(format!(
                "{}: parent's cursor is {size}, the delta sent starts at {}",
                front.origin, front.from
            )));
        }
        front.cursor_due = false;
        self.ctx.health.acknowledged(&front.origin, size);
        self.phase = Phase::Streaming { in_flight };
        Ok(Vec::new())
    }

    /// The parent refused the oldest delta in flight: it refuses every later delta of the
    /// same origin sent behind it too; the other origins' deltas go on.
    fn delta_refused(
        &mut self,
        mut in_flight: VecDeque<InFlight>,
        code: ErrorCode,
        detail: String,
    ) -> Result<Vec<Message>, SessionEnd> {
        let Some(refused) = in_flight.pop_front() else {
            return Err(SessionEnd::internal("Rejected while no delta is in flight"));
        };
        let behind = in_flight
            .iter()
            .filter(|d| d.origin == refused.origin)
            .count();
        in_flight.retain(|d| d.origin != refused.origin);
        if behind > 0 {
            *self.refusals_due.entry(refused.origin.clone()).or_default() += behind;
        }
        self.refused(refused.origin, code, detail);
        let mut out = Vec::new();
        self.fill(in_flight, &mut out)?;
        Ok(out)
    }

    fn accepted(
        &mut self,
        mut in_flight: VecDeque<InFlight>,
        size: u64,
        cosignature: &[u8],
    ) -> Result<Vec<Message>, SessionEnd> {
        let Some(oldest) = in_flight.pop_front() else {
            return Err(SessionEnd::internal("Accepted while no delta is in flight"));
        };
        let origin = oldest.origin.as_str();
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
            .add_cosignature(origin, size, &parsed.to_line())
            .map_err(|e| SessionEnd::internal(e.to_string()))?;
        self.unacked.acknowledged(origin, size);
        self.ctx.health.acknowledged(origin, size);
        self.ctx
            .metrics
            .cosignatures_stored
            .get_or_create(&SyncMetrics::origin(origin))
            .inc();
        let done = !in_flight.iter().any(|d| d.origin == origin)
            && !self.pending.iter().any(|p| p.origin == origin);
        if done {
            self.report.synced.push(oldest.origin.clone());
        }
        let mut out = Vec::new();
        self.fill(in_flight, &mut out)?;
        Ok(out)
    }
}
