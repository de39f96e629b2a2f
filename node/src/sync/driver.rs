//! The I/O edge: runs the session state machines over QUIC streams.
//!
//! One bidirectional stream per session. Each side reads one frame, decodes it (bounded,
//! canonical), hands it to its state machine and writes what comes back. Storage work
//! (RocksDB reads and synced writes) runs on the blocking section of the runtime so it
//! never stalls other sessions' network I/O.

use std::net::SocketAddr;
use std::sync::Arc;

use credx_protocol::wire::{Message, WireError};
use rand::RngCore;

use super::context::{now_ms, SyncContext};
use super::error::SessionEnd;
use super::receiver::ReceiverSession;
use super::uploader::{Unacknowledged, UploadReport, UploaderSession};
use crate::health::{failure_outcome, report_outcome, Outcome};
use crate::transport::{FrameError, FramedStream, PeerConnection, Transport, TransportError};

/// How long a parent that refused a session waits for the child to read its `Goodbye`
/// and close the connection before closing it itself.
const GOODBYE_GRACE: std::time::Duration = std::time::Duration::from_secs(2);

/// Why a session did not complete.
#[derive(Debug, thiserror::Error)]
pub enum SyncFailure {
    #[error("connection: {0}")]
    Transport(#[from] TransportError),
    #[error("stream: {0}")]
    Frame(#[from] FrameError),
    #[error("message: {0}")]
    Wire(#[from] WireError),
    #[error("session ended: {0}")]
    Session(SessionEnd),
    #[error("the peer closed the stream without saying goodbye")]
    PeerVanished,
    #[error("no message from the peer for {after:?}: it is stalled; the next session resumes from the cursor")]
    Stalled { after: std::time::Duration },
}

impl SyncFailure {
    /// A short stable name for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            SyncFailure::Transport(_) => "transport",
            SyncFailure::Frame(FrameError::Timeout { .. }) => "stalled",
            SyncFailure::Frame(FrameError::Oversized { .. }) => "oversized",
            SyncFailure::Frame(_) => "stream",
            SyncFailure::Wire(_) => "malformed",
            SyncFailure::Session(end) => end.kind,
            SyncFailure::PeerVanished => "vanished",
            SyncFailure::Stalled { .. } => "stalled",
        }
    }
}

/// Runs blocking storage work without stalling the runtime's other tasks.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(f)
        }
        _ => f(),
    }
}

async fn send_all(stream: &mut FramedStream, messages: &[Message]) -> Result<(), SyncFailure> {
    for message in messages {
        let bytes = message.encode()?;
        stream.send_frame(&bytes).await?;
    }
    stream.flush().await?;
    Ok(())
}

/// The next message, waiting at most `wait` (a silent peer is a stalled one).
async fn recv(
    stream: &mut FramedStream,
    wait: std::time::Duration,
) -> Result<Option<Message>, SyncFailure> {
    let frame = tokio::time::timeout(wait, stream.recv_frame())
        .await
        .map_err(|_| SyncFailure::Stalled { after: wait })??;
    match frame {
        None => Ok(None),
        Some(frame) => Ok(Some(Message::decode(&frame)?)),
    }
}

/// Tells the peer why we end the session, best effort (it may be gone already).
async fn goodbye(stream: &mut FramedStream, end: &SessionEnd) {
    if end.by_peer {
        return;
    }
    let message = Message::Goodbye {
        code: Some(end.code),
        detail: end.detail.clone(),
    };
    if let Ok(bytes) = message.encode() {
        let _ = stream.send_frame(&bytes).await;
        let _ = stream.finish().await;
    }
}

/// One upload session to the parent at `addr`: pushes every log this node holds that
/// the parent is behind on, and stores the parent's cosignatures.
pub async fn upload_once(
    transport: &Transport,
    ctx: Arc<SyncContext>,
    parent: &str,
    addr: SocketAddr,
    unacked: Arc<Unacknowledged>,
) -> Result<UploadReport, SyncFailure> {
    let result = upload(transport, Arc::clone(&ctx), parent, addr, unacked).await;
    match &result {
        Ok(_) => ctx.metrics.session_ended("upload", "ok"),
        Err(failure) => {
            ctx.metrics.session_ended("upload", failure.kind());
            tracing::warn!(parent, "upload session failed: {failure}");
        }
    }
    result
}

async fn upload(
    transport: &Transport,
    ctx: Arc<SyncContext>,
    parent: &str,
    addr: SocketAddr,
    unacked: Arc<Unacknowledged>,
) -> Result<UploadReport, SyncFailure> {
    let connection = match transport.connect(addr, parent).await {
        Ok(connection) => connection,
        Err(error) => {
            let health = Arc::clone(&ctx.health);
            blocking(|| health.attempt_ended(Outcome::Unreachable, now_ms()));
            return Err(error.into());
        }
    };
    let result = upload_on(&connection, ctx, parent, unacked).await;
    connection.close("sync session done");
    result
}

/// An upload session on an established connection to the parent. Its outcome is one
/// observation of the edge for the health book.
pub async fn upload_on(
    connection: &PeerConnection,
    ctx: Arc<SyncContext>,
    parent: &str,
    unacked: Arc<Unacknowledged>,
) -> Result<UploadReport, SyncFailure> {
    let health = Arc::clone(&ctx.health);
    let result = upload_session(connection, ctx, parent, unacked).await;
    let outcome = match &result {
        Ok(report) => report_outcome(report),
        Err(failure) => failure_outcome(failure),
    };
    blocking(|| health.attempt_ended(outcome, now_ms()));
    result
}

async fn upload_session(
    connection: &PeerConnection,
    ctx: Arc<SyncContext>,
    parent: &str,
    unacked: Arc<Unacknowledged>,
) -> Result<UploadReport, SyncFailure> {
    let mut session_id = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut session_id);
    let wait = ctx.limits.frame_timeout;
    let mut session = blocking(|| UploaderSession::new(ctx, parent, session_id, unacked))
        .map_err(SyncFailure::Session)?;
    let mut stream = connection.open_stream().await?;
    send_all(&mut stream, &[session.start()]).await?;
    loop {
        let Some(message) = recv(&mut stream, wait).await? else {
            return Err(SyncFailure::PeerVanished);
        };
        match blocking(|| session.handle(message)) {
            Ok(out) => {
                send_all(&mut stream, &out).await?;
                if session.is_done() {
                    let _ = stream.finish().await;
                    return Ok(session.report().clone());
                }
            }
            Err(end) => {
                goodbye(&mut stream, &end).await;
                return Err(SyncFailure::Session(end));
            }
        }
    }
}

/// Accepts children and serves each connection's sessions until the endpoint closes.
pub async fn serve(transport: Transport, ctx: Arc<SyncContext>) {
    loop {
        let incoming = match transport.accept_incoming().await {
            Ok(incoming) => incoming,
            Err(TransportError::EndpointClosed) => return,
            Err(error) => {
                tracing::warn!("accepting a connection failed: {error}");
                continue;
            }
        };
        let ctx = Arc::clone(&ctx);
        tokio::spawn(async move {
            match incoming.establish().await {
                Ok(connection) => serve_connection(connection, ctx).await,
                Err(error) => {
                    ctx.metrics.session_ended("receive", "handshake");
                    tracing::warn!("child connection refused: {error}");
                }
            }
        });
    }
}

/// Serves the sessions a child opens on one connection, one after another.
pub async fn serve_connection(connection: PeerConnection, ctx: Arc<SyncContext>) {
    loop {
        let stream = match connection.accept_stream().await {
            Ok(Some(stream)) => stream,
            Ok(None) => return,
            Err(error) => {
                tracing::debug!(
                    "connection with {} ended: {error}",
                    connection.peer().origin
                );
                return;
            }
        };
        let peer = connection.peer().origin.clone();
        let result = receive(stream, Arc::clone(&ctx), &peer).await;
        match result {
            Ok(()) => ctx.metrics.session_ended("receive", "ok"),
            Err(failure) => {
                ctx.metrics.session_ended("receive", failure.kind());
                tracing::warn!(peer = %peer, "receive session failed: {failure}");
                if matches!(
                    failure,
                    SyncFailure::Session(_) | SyncFailure::Frame(_) | SyncFailure::Wire(_)
                ) {
                    // Closing at once would discard the Goodbye still in flight: give the
                    // child a moment to read it and close first.
                    let _ = tokio::time::timeout(GOODBYE_GRACE, connection.closed()).await;
                    connection.close("sync session refused");
                    return;
                }
            }
        }
    }
}

async fn receive(
    mut stream: FramedStream,
    ctx: Arc<SyncContext>,
    peer: &str,
) -> Result<(), SyncFailure> {
    let wait = ctx.limits.frame_timeout;
    let mut session = ReceiverSession::new(ctx, peer);
    loop {
        let message = match recv(&mut stream, wait).await {
            Ok(Some(message)) => message,
            Ok(None) => {
                return if session.is_closed() {
                    Ok(())
                } else {
                    Err(SyncFailure::PeerVanished)
                };
            }
            Err(failure) => {
                if let SyncFailure::Wire(error) = &failure {
                    let end = SessionEnd::protocol(error.to_string());
                    goodbye(&mut stream, &end).await;
                }
                return Err(failure);
            }
        };
        match blocking(|| session.handle(message)) {
            Ok(out) => {
                send_all(&mut stream, &out).await?;
                if session.is_closed() {
                    let _ = stream.finish().await;
                    return Ok(());
                }
            }
            Err(end) => {
                goodbye(&mut stream, &end).await;
                return Err(SyncFailure::Session(end));
            }
        }
    }
}
