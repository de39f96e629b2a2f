//! The parent's end of a sync session, as a state machine: a message in, the messages to
//! answer with out. No network I/O here (the driver does it); the store is called
//! directly, because a parent must make a delta durable before it may cosign it.
//!
//! ```text
//! AwaitHello --Hello--> Ready --OfferLog--> Offered --ConsistencyProof--> Receiving
//!     ^                   ^                    |  (empty delta: write, Accepted)  |
//!     |                   +-------Accepted------+<-------PushEntries (last)--------+
//!     |                   Ready --FeedRequest--> FeedPage (list feed, with proofs)
//! ```
//!
//! Messages are handled strictly in order, so a child may send the next delta of an origin
//! (its `OfferLog`, proof and entries) before this end has accepted the one before. A
//! verified delta comes out as a write for the driver ([`ReceiverOutput::Write`]), which
//! may run it while this session verifies the next delta against the state that write
//! leaves; answers still leave in order, so the offer behind it is answered after the
//! `Accepted`.
//!
//! Per origin, a refusal that concerns only that origin (frozen after a fork, a fork just
//! found) is answered with `Rejected` and the session goes on with the next offer. Anything
//! that shows the child is faulty or hostile (bad signature, entry outside its
//! jurisdiction, bad proof, wrong root, protocol violation) ends the session with
//! `Goodbye{code}`; nothing of the refused delta has been written.

use std::collections::HashMap;
use std::sync::Arc;

use credx_protocol::delta::{
    DeltaError, DeltaVerifier, JurisdictionCheck, MirrorState, RosterJurisdiction,
};
use credx_protocol::entry::Entry;
use credx_protocol::note::{Cosignature, SignedCheckpoint, VerifierKey};
use credx_protocol::roster::{RosterStatus, VerifiedRoster};
use credx_protocol::wire::{ErrorCode, Message, PROTOCOL_VERSION};
use credx_storage::{mirror_state, ForkEvidence};

use super::context::{now_ms, now_secs, SyncContext};
use super::delta_write::{DeltaWrite, ReceiverOutput};
use super::error::SessionEnd;
use super::feed::serve_page;
use super::indexer::ActiveSession;
use super::metrics::{is_verification_failure, SyncMetrics};

/// The roster's jurisdiction rule for one origin, owning its roster snapshot so a
/// verifier can outlive the borrow of the shared roster.
#[derive(Debug)]
pub struct OwnedJurisdiction {
    roster: Arc<VerifiedRoster>,
    origin: String,
}

impl JurisdictionCheck for OwnedJurisdiction {
    fn allows(&self, entry: &Entry) -> bool {
        RosterJurisdiction::new(&self.roster, &self.origin).allows(entry)
    }
}

// One phase per session, never moved in bulk: variant sizes do not matter.
#[allow(clippy::large_enum_variant)]
enum Phase {
    AwaitHello,
    Ready,
    Offered {
        origin: String,
        checkpoint: SignedCheckpoint,
        key: VerifierKey,
        state: MirrorState,
    },
    Receiving {
        verifier: DeltaVerifier<OwnedJurisdiction>,
        received: Received,
    },
    /// A delta of `origin` was refused (a fork, or the origin is frozen) while the child may
    /// still be sending its proof and entries (it sends them without waiting, and may
    /// pipeline the next delta of the origin behind them): drop them, then go on.
    Discarding {
        origin: String,
    },
    Closed,
}

/// The entries of the delta being received, verified so far, with their leaf hashes.
#[derive(Debug, Default)]
struct Received {
    entries: Vec<Vec<u8>>,
    leaf_hashes: Vec<credx_protocol::merkle::Hash>,
    /// Bytes of `entries`, against the delta size limit.
    bytes: usize,
}

/// One child's session at this node.
pub struct ReceiverSession {
    ctx: Arc<SyncContext>,
    /// The child's origin, from its verified TLS certificate.
    peer: String,
    session_id: String,
    phase: Phase,
    /// Per origin, the state the last delta handed to the driver leaves the mirror in
    /// (see [`ReceiverSession::mirror_state`]).
    written_soon: HashMap<String, MirrorState>,
    /// Indexing defers to this session while it lasts.
    _active: ActiveSession,
}

impl std::fmt::Debug for ReceiverSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReceiverSession")
            .field("peer", &self.peer)
            .field("session_id", &self.session_id)
            .finish_non_exhaustive()
    }
}

impl ReceiverSession {
    /// A session with the child whose TLS identity is `peer`.
    pub fn new(ctx: Arc<SyncContext>, peer: impl Into<String>) -> ReceiverSession {
        let active = ctx.indexer.session_active();
        ReceiverSession {
            _active: active,
            ctx,
            peer: peer.into(),
            session_id: String::new(),
            phase: Phase::AwaitHello,
            written_soon: HashMap::new(),
        }
    }

    pub fn peer(&self) -> &str {
        &self.peer
    }

    /// Whether the child said goodbye.
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed)
    }

    /// Handles one message from the child and writes any delta it completes before
    /// returning: the answers, in order. An `Err` ends the session: the driver sends
    /// `Goodbye{code, detail}` and closes.
    pub fn handle(&mut self, message: Message) -> Result<Vec<Message>, SessionEnd> {
        self.handle_deferring_writes(message)?
            .into_iter()
            .map(|output| match output {
                ReceiverOutput::Send(message) => Ok(message),
                ReceiverOutput::Write(write) => write.write(),
            })
            .collect()
    }

    /// Handles one message from the child; returns what to do, in order. A completed
    /// delta comes back as [`ReceiverOutput::Write`]: the driver may run it while it hands
    /// this session the next messages, as long as it sends every output in order (the
    /// `Accepted` a write returns in its place).
    pub fn handle_deferring_writes(
        &mut self,
        message: Message,
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        let result = self.step(message);
        if let Err(end) = &result {
            self.ctx.metrics.rejected(end.kind);
            if !end.by_peer && is_verification_failure(end.code) {
                self.ctx.health.proof_failure(end.kind);
            }
        }
        result
    }

    fn step(&mut self, message: Message) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        let phase = std::mem::replace(&mut self.phase, Phase::Closed);
        match (phase, message) {
            (_, Message::Goodbye { code, detail }) => {
                self.phase = Phase::Closed;
                match code {
                    None => Ok(Vec::new()),
                    Some(code) => Err(SessionEnd {
                        code,
                        kind: code.name(),
                        detail,
                        by_peer: true,
                    }),
                }
            }
            (
                Phase::AwaitHello,
                Message::Hello {
                    protocol_version,
                    node,
                    roster_version,
                    session_id,
                },
            ) => self.hello(protocol_version, &node, roster_version, session_id),
            (
                Phase::Ready | Phase::Offered { .. } | Phase::Discarding { .. },
                Message::OfferLog { origin, checkpoint },
            ) => self.offer(origin, &checkpoint),
            (
                Phase::Discarding { origin },
                Message::PushEntries { origin: at, .. }
                | Message::ConsistencyProof { origin: at, .. },
            ) if at == origin => {
                self.phase = Phase::Discarding { origin };
                Ok(Vec::new())
            }
            (
                Phase::Offered {
                    origin,
                    checkpoint,
                    key,
                    state,
                },
                Message::ConsistencyProof {
                    origin: proof_origin,
                    old_size,
                    new_size,
                    hashes,
                },
            ) => {
                if proof_origin != origin {
                    return Err(SessionEnd::protocol(format!(
                        "ConsistencyProof for {proof_origin} while {origin} is offered"
                    )));
                }
                self.consistency(origin, checkpoint, key, state, old_size, new_size, &hashes)
            }
            (
                Phase::Receiving { verifier, received },
                Message::PushEntries {
                    origin,
                    start,
                    entries: batch,
                    ..
                },
            ) => self.push(verifier, received, &origin, start, batch),
            // After an offer the child may move on without a proof (the origin is up to
            // date and it holds this node's cosignature).
            (
                Phase::Ready | Phase::Offered { .. } | Phase::Discarding { .. },
                Message::FeedRequest { after, max },
            ) => {
                self.phase = Phase::Ready;
                Ok(sends(vec![serve_page(
                    self.ctx.store.as_ref(),
                    after,
                    max,
                )?]))
            }
            (
                Phase::Ready | Phase::Offered { .. } | Phase::Discarding { .. },
                Message::HealthReports { reports },
            ) => {
                self.phase = Phase::Ready;
                Ok(sends(vec![self.health_reports(&reports)]))
            }
            (phase, message) => Err(SessionEnd::protocol(format!(
                "unexpected {} while {}",
                message.name(),
                phase_name(&phase)
            ))),
        }
    }

    /// Keeps the child's health reports that verify and lie in its subtree. A refused
    /// report is counted and logged; it does not end the session (the others may be fine).
    fn health_reports(&self, reports: &[Vec<u8>]) -> Message {
        let now = now_ms();
        let (mut accepted, mut refused) = (0u32, 0u32);
        for bytes in reports {
            match self.ctx.health.accept(&self.peer, bytes, now) {
                Ok(_) => accepted += 1,
                Err(refusal) => {
                    refused += 1;
                    tracing::warn!(peer = %self.peer, kind = refusal.kind(), "health report refused: {refusal}");
                }
            }
        }
        Message::HealthAck { accepted, refused }
    }

    fn hello(
        &mut self,
        protocol_version: u16,
        node: &str,
        roster_version: u64,
        session_id: [u8; 16],
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        if protocol_version != PROTOCOL_VERSION {
            return Err(SessionEnd::new(
                ErrorCode::ProtocolVersion,
                "protocol_version",
                format!("this node speaks version {PROTOCOL_VERSION}, not {protocol_version}"),
            ));
        }
        if node != self.peer {
            return Err(SessionEnd::new(
                ErrorCode::NotInRoster,
                "not_in_roster",
                format!(
                    "Hello names {node} but the TLS certificate names {}",
                    self.peer
                ),
            ));
        }
        let roster = self.ctx.roster.current();
        if roster.status(now_secs()) == RosterStatus::Expired {
            return Err(SessionEnd::new(
                ErrorCode::RosterExpired,
                "roster_expired",
                format!(
                    "roster v{} has expired; no sync until a new one is installed",
                    roster.version()
                ),
            ));
        }
        let is_child = roster
            .parent(&self.peer)
            .is_some_and(|p| p.origin == self.ctx.origin);
        if !is_child {
            return Err(SessionEnd::new(
                ErrorCode::NotInRoster,
                "not_in_roster",
                format!(
                    "{} is not a child of {} in roster v{}",
                    self.peer,
                    self.ctx.origin,
                    roster.version()
                ),
            ));
        }
        self.session_id = session_id.iter().map(|b| format!("{b:02x}")).collect();
        self.phase = Phase::Ready;
        let mut out = vec![Message::HelloAck {
            protocol_version: PROTOCOL_VERSION,
            node: self.ctx.origin.clone(),
            roster_version: roster.version(),
            session_id,
        }];
        if roster.version() > roster_version {
            out.push(Message::RosterOffer {
                signed_roster: roster.signed().to_bytes(),
            });
        }
        Ok(sends(out))
    }

    fn offer(
        &mut self,
        origin: String,
        checkpoint: &[u8],
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        let roster = self.ctx.roster.current();
        if !roster.is_within(&origin, &self.peer) {
            return Err(SessionEnd::new(
                ErrorCode::NotInRoster,
                "not_in_roster",
                format!(
                    "{} may not push {origin}: it is not in its subtree in roster v{}",
                    self.peer,
                    roster.version()
                ),
            ));
        }
        let Some(key) = roster.checkpoint_key(&origin).cloned() else {
            return Err(SessionEnd::new(
                ErrorCode::UnknownOrigin,
                "unknown_origin",
                format!("{origin} has no log key in roster v{}", roster.version()),
            ));
        };
        let store = self.ctx.store.as_ref();
        if store
            .is_frozen(&origin)
            .map_err(|e| SessionEnd::internal(e.to_string()))?
        {
            // The child may have sent this delta's proof and entries behind the offer
            // (pipelined after an earlier delta of the origin): drop them.
            self.phase = Phase::Discarding {
                origin: origin.clone(),
            };
            self.ctx.metrics.rejected("origin_frozen");
            return Ok(sends(vec![Message::Rejected {
                origin: origin.clone(),
                code: ErrorCode::OriginFrozen,
                detail: format!(
                    "{origin} is frozen after a fork; an operator must review the evidence and clear it"
                ),
            }]));
        }
        let checkpoint = SignedCheckpoint::parse(checkpoint).map_err(|e| {
            SessionEnd::new(
                ErrorCode::BadSignature,
                "bad_signature",
                format!("{origin}: offered checkpoint does not parse: {e}"),
            )
        })?;
        let state = self.mirror_state(&origin)?;
        let answer = Message::CursorIs {
            origin: origin.clone(),
            size: state.size,
            root: state.root,
        };
        self.phase = Phase::Offered {
            origin,
            checkpoint,
            key,
            state,
        };
        Ok(sends(vec![answer]))
    }

    #[allow(clippy::too_many_arguments)]
    fn consistency(
        &mut self,
        origin: String,
        checkpoint: SignedCheckpoint,
        key: VerifierKey,
        state: MirrorState,
        old_size: u64,
        new_size: u64,
        hashes: &[credx_protocol::merkle::Hash],
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        if old_size != state.size {
            if old_size < state.size {
                self.ctx
                    .metrics
                    .entries_resent_verified
                    .get_or_create(&SyncMetrics::origin(&origin))
                    .inc_by(state.size - old_size);
            }
            return Err(SessionEnd::new(
                ErrorCode::CursorMismatch,
                "cursor_mismatch",
                format!(
                    "{origin}: delta starts at {old_size}, the mirror holds {}",
                    state.size
                ),
            ));
        }
        let offered = checkpoint.checkpoint().size;
        if new_size != offered {
            return Err(SessionEnd::protocol(format!(
                "{origin}: proof is to size {new_size}, the offered checkpoint has size {offered}"
            )));
        }
        let count = new_size.saturating_sub(old_size);
        if count > self.ctx.limits.max_delta_entries {
            return Err(SessionEnd::new(
                ErrorCode::Oversized,
                "oversized",
                format!(
                    "{origin}: delta of {count} entries, above the limit of {}",
                    self.ctx.limits.max_delta_entries
                ),
            ));
        }
        let check = OwnedJurisdiction {
            roster: self.ctx.roster.current(),
            origin: origin.clone(),
        };
        let verifier = match DeltaVerifier::new(state, checkpoint, hashes, &key, check) {
            Ok(verifier) => verifier,
            Err(error) => return self.refuse_delta(error),
        };
        if count == 0 {
            return self.complete(verifier, Received::default());
        }
        // Bounded by max_delta_entries, checked above.
        let count = usize::try_from(count).unwrap_or(0);
        self.phase = Phase::Receiving {
            verifier,
            received: Received {
                entries: Vec::with_capacity(count),
                leaf_hashes: Vec::with_capacity(count),
                bytes: 0,
            },
        };
        Ok(Vec::new())
    }

    fn push(
        &mut self,
        mut verifier: DeltaVerifier<OwnedJurisdiction>,
        mut received: Received,
        origin: &str,
        start: u64,
        batch: Vec<Vec<u8>>,
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        if origin != verifier.origin() {
            return Err(SessionEnd::protocol(format!(
                "PushEntries for {origin} while receiving {}",
                verifier.origin()
            )));
        }
        if start < verifier.old_size() {
            self.ctx
                .metrics
                .entries_resent_verified
                .get_or_create(&SyncMetrics::origin(origin))
                .inc_by(verifier.old_size() - start);
        }
        received.bytes = received
            .bytes
            .saturating_add(batch.iter().map(Vec::len).sum::<usize>());
        if received.bytes > self.ctx.limits.max_delta_bytes {
            return Err(SessionEnd::new(
                ErrorCode::Oversized,
                "oversized",
                format!(
                    "{origin}: delta exceeds {} bytes of entries",
                    self.ctx.limits.max_delta_bytes
                ),
            ));
        }
        match verifier.push_batch(start, &batch) {
            Ok(verified) => received.leaf_hashes.extend(verified.leaf_hashes),
            Err(error) => return self.refuse_delta(error),
        }
        received.entries.extend(batch);
        if verifier.next_index() == verifier.new_size() {
            return self.complete(verifier, received);
        }
        self.phase = Phase::Receiving { verifier, received };
        Ok(Vec::new())
    }

    /// The root matches: cosign, then hand the driver the write of entries, checkpoint and
    /// cosignature (one atomic write). The cosignature leaves this node only in the
    /// `Accepted` the write returns. Until that write is durable, the next offer of the
    /// origin is verified against the state this delta leads to.
    fn complete(
        &mut self,
        verifier: DeltaVerifier<OwnedJurisdiction>,
        received: Received,
    ) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        let mut delta = match verifier.finish() {
            Ok(delta) => delta,
            Err(error) => return self.refuse_delta(error),
        };
        // The hashes the root was just recomputed from: the write need not hash again.
        delta.leaf_hashes = received.leaf_hashes;
        delta.checkpoint = keep_verified_signatures(&delta.checkpoint, &self.ctx.roster.current());
        let cosignature = self
            .ctx
            .cosigner
            .cosign(delta.checkpoint.checkpoint(), now_secs())
            .map_err(|e| SessionEnd::internal(format!("cosigning {}: {e}", delta.origin)))?;
        self.written_soon
            .insert(delta.origin.clone(), MirrorState::after(&delta));
        self.phase = Phase::Ready;
        Ok(vec![ReceiverOutput::Write(Box::new(DeltaWrite {
            ctx: Arc::clone(&self.ctx),
            peer: self.peer.clone(),
            session_id: self.session_id.clone(),
            delta,
            entries: received.entries,
            cosignature: cosignature.to_note_signature().to_line(),
        }))])
    }

    /// Where the mirror of `origin` stands for the next delta: as stored, or, while this
    /// session's write of an earlier delta is still on its way, as that write leaves it.
    /// A stored log at or past that size means the write is done (or another session
    /// moved the mirror, whose write then fails the engine's size check): the store wins.
    fn mirror_state(&mut self, origin: &str) -> Result<MirrorState, SessionEnd> {
        let store = self.ctx.store.as_ref();
        let internal = |e: credx_storage::StorageError| SessionEnd::internal(e.to_string());
        if let Some(pending) = self.written_soon.remove(origin) {
            if store.log_size(origin).map_err(internal)? < pending.size {
                return Ok(pending);
            }
        }
        mirror_state(store, origin).map_err(internal)
    }

    /// A delta failed verification. A fork is kept as evidence and freezes the origin
    /// (the session goes on with other origins); anything else ends the session.
    fn refuse_delta(&mut self, error: DeltaError) -> Result<Vec<ReceiverOutput>, SessionEnd> {
        let code = error.code();
        if let DeltaError::Fork {
            origin, evidence, ..
        } = &error
        {
            let stored = ForkEvidence {
                first: evidence.ours.clone().unwrap_or_default(),
                second: evidence.theirs.clone(),
                peer: self.peer.clone(),
                observed_at_ms: now_ms(),
            };
            self.ctx.store.record_fork(origin, stored).map_err(|e| {
                SessionEnd::internal(format!("{origin}: keeping fork evidence: {e}"))
            })?;
            self.ctx
                .metrics
                .forks
                .get_or_create(&SyncMetrics::origin(origin))
                .inc();
            self.ctx.metrics.rejected("fork");
            self.ctx.health.proof_failure("fork");
            tracing::error!(origin = %origin, peer = %self.peer, "fork detected: {error}; origin frozen");
            self.phase = Phase::Discarding {
                origin: origin.clone(),
            };
            return Ok(sends(vec![Message::Rejected {
                origin: origin.clone(),
                code,
                detail: error.to_string(),
            }]));
        }
        Err(SessionEnd::new(code, code.name(), error.to_string()))
    }
}

/// The checkpoint as it will be stored and passed on: the origin's signature and the
/// cosignatures that verify with a cosigner key of the roster. Anything else a child
/// attached (a line under an ancestor's name that does not verify) is dropped, so it
/// cannot make later verifiers reject an honest checkpoint.
fn keep_verified_signatures(
    checkpoint: &SignedCheckpoint,
    roster: &VerifiedRoster,
) -> SignedCheckpoint {
    let origin = checkpoint.checkpoint().origin.as_str();
    let log_key = roster.checkpoint_key(origin);
    let mut note = checkpoint.note().clone();
    note.signatures.retain(|sig| {
        if log_key.is_some_and(|k| *k.name() == sig.name && k.key_id() == sig.key_id) {
            return true;
        }
        let Some(key) = roster.cosigner_key(sig.name.as_str()) else {
            return false;
        };
        key.key_id() == sig.key_id
            && Cosignature::from_note_signature(sig)
                .is_ok_and(|c| c.verify(checkpoint.checkpoint(), key).is_ok())
    });
    SignedCheckpoint::from_note(note).unwrap_or_else(|_| checkpoint.clone())
}

fn sends(messages: Vec<Message>) -> Vec<ReceiverOutput> {
    messages.into_iter().map(ReceiverOutput::Send).collect()
}

fn phase_name(phase: &Phase) -> &'static str {
    match phase {
        Phase::AwaitHello => "waiting for Hello",
        Phase::Ready => "waiting for an offer",
        Phase::Offered { .. } => "waiting for a consistency proof",
        Phase::Receiving { .. } => "receiving entries",
        Phase::Discarding { .. } => "discarding a refused delta",
        Phase::Closed => "closed",
    }
}
