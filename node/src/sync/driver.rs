//! The I/O edge: runs the session state machines over QUIC streams.
//!
//! One bidirectional stream per session. Each side reads one frame, decodes it (bounded,
//! canonical), hands it to its state machine and writes what comes back. Storage work
//! (RocksDB reads and synced writes) runs on the blocking section of the runtime so it
//! never stalls other sessions' network I/O.
//!
//! The parent's side is split in two tasks joined by a short queue: one reads and
//! verifies, the other sends the answers in order and runs each delta's write where its
//! `Accepted` goes. So delta k is written while delta k+1 is verified, and the child sees
//! exactly the messages, in the order, of a parent that does one thing at a time.

use std::net::SocketAddr;
use std::sync::Arc;

use credx_protocol::wire::{Message, WireError};
use rand::RngCore;
use tokio::sync::mpsc;

use super::context::{now_ms, SyncContext};
use super::delta_write::ReceiverOutput;
use super::error::SessionEnd;
use super::receiver::ReceiverSession;
use super::uploader::{Unacknowledged, UploadReport, UploaderSession};
use crate::health::{failure_outcome, report_outcome, Outcome};
use crate::transport::{
    FrameError, FrameReader, FrameWriter, FramedStream, PeerConnection, Transport, TransportError,
};

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

/// The next message, waiting at most `wait` (a silent peer is a stalled one). Frames
/// queued to send go out first.
async fn recv(
    stream: &mut FramedStream,
    wait: std::time::Duration,
) -> Result<Option<Message>, SyncFailure> {
    next_message(stream.recv_frame(), wait).await
}

/// The next message from `reader`, waiting at most `wait`.
async fn recv_from(
    reader: &mut FrameReader,
    wait: std::time::Duration,
) -> Result<Option<Message>, SyncFailure> {
    next_message(reader.recv_frame(), wait).await
}

async fn next_message(
    frame: impl std::future::Future<Output = Result<Option<bytes::Bytes>, FrameError>>,
    wait: std::time::Duration,
) -> Result<Option<Message>, SyncFailure> {
    let frame = tokio::time::timeout(wait, frame)
        .await
        .map_err(|_| SyncFailure::Stalled { after: wait })??;
    match frame {
        None => Ok(None),
        Some(frame) => Ok(Some(Message::decode(&frame)?)),
    }
}

/// Tells the peer why we end the session, best effort (it may be gone already).
async fn goodbye(stream: &mut FramedStream, end: &SessionEnd) {
    say_goodbye(&mut stream.send, end).await;
}

async fn say_goodbye(writer: &mut FrameWriter, end: &SessionEnd) {
    if end.by_peer {
        return;
    }
    let message = Message::Goodbye {
        code: Some(end.code),
        detail: end.detail.clone(),
    };
    if let Ok(bytes) = message.encode() {
        let _ = writer.send_frame(&bytes).await;
        let _ = writer.finish().await;
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
    stream: FramedStream,
    ctx: Arc<SyncContext>,
    peer: &str,
) -> Result<(), SyncFailure> {
    let wait = ctx.limits.frame_timeout;
    let (writer, mut reader) = stream.into_split();
    let (answers, queue) = mpsc::channel(ANSWERS_QUEUED);
    let mut answering = tokio::spawn(send_answers(writer, queue));
    let mut session = ReceiverSession::new(ctx, peer);
    let read = loop {
        let received = tokio::select! {
            biased;
            // The answering task ends early only when a write failed: the session is over,
            // whatever frame is being read.
            answered = &mut answering => {
                return Err(joined(answered).err().unwrap_or_else(|| {
                    SyncFailure::Session(SessionEnd::internal(
                        "the answering task stopped before the session without an error; the child resumes from the cursors",
                    ))
                }));
            }
            received = recv_from(&mut reader, wait) => received,
        };
        let message = match received {
            Ok(Some(message)) => message,
            Ok(None) if session.is_closed() => break Ok(()),
            Ok(None) => break Err(SyncFailure::PeerVanished),
            Err(failure) => {
                if let SyncFailure::Wire(error) = &failure {
                    let end = SessionEnd::protocol(error.to_string());
                    let _ = answers.send(Answer::End(end)).await;
                }
                break Err(failure);
            }
        };
        match blocking(|| session.handle_deferring_writes(message)) {
            Ok(outputs) => {
                let mut queued = true;
                for output in outputs {
                    queued = queued && answers.send(Answer::Output(output)).await.is_ok();
                }
                if !queued {
                    // The answering task has ended; its result says why.
                    break Ok(());
                }
                if session.is_closed() {
                    let _ = answers.send(Answer::Finish).await;
                    break Ok(());
                }
            }
            Err(end) => {
                let _ = answers.send(Answer::End(end.clone())).await;
                break Err(SyncFailure::Session(end));
            }
        }
    };
    // Deltas verified before the session ended are still written (and answered, if the
    // child still listens): the next session starts from the cursors they leave.
    drop(answers);
    let answered = joined(answering.await);
    // A failed write explains whatever the reading side saw after it.
    answered.and(read)
}

/// Answers waiting for the answering task beyond the one it is sending or writing. Every
/// delta's write follows its own `CursorIs`, so at most one of two queued answers is a
/// write: with the one being written and the one being verified, a session holds at most
/// three deltas' entries. A full queue stops the reading, and QUIC flow control the child.
const ANSWERS_QUEUED: usize = 2;

/// What the reading side of a receive session hands the answering side, in order.
#[derive(Debug)]
enum Answer {
    Output(ReceiverOutput),
    /// The session ended with this error: say goodbye after the answers before it.
    End(SessionEnd),
    /// The child said goodbye: end the stream cleanly after the answers before it.
    Finish,
}

/// The answering side of a receive session: sends the session's answers in order, runs
/// each delta write where its `Accepted` goes (so verification of the next delta runs
/// meanwhile), and stops at the first failed write, which ends the session. Once the child
/// can no longer be reached, verified deltas still queued are written all the same (the
/// next session then starts after them) and nothing more is sent.
async fn send_answers(
    mut writer: FrameWriter,
    mut queue: mpsc::Receiver<Answer>,
) -> Result<(), SyncFailure> {
    let mut unreachable: Option<SyncFailure> = None;
    while let Some(answer) = queue.recv().await {
        let message = match answer {
            Answer::Output(ReceiverOutput::Send(message)) => message,
            Answer::Output(ReceiverOutput::Write(write)) => {
                // What is queued (the previous Accepted, the next offer's CursorIs) goes out
                // before the write, not after it: the child waits for it.
                if unreachable.is_none() {
                    if let Err(e) = writer.flush().await {
                        unreachable = Some(e.into());
                    }
                }
                match blocking(|| write.write()) {
                    Ok(accepted) => accepted,
                    Err(end) => {
                        if unreachable.is_none() {
                            say_goodbye(&mut writer, &end).await;
                        }
                        return Err(SyncFailure::Session(end));
                    }
                }
            }
            Answer::End(end) => {
                if unreachable.is_none() {
                    say_goodbye(&mut writer, &end).await;
                }
                break;
            }
            Answer::Finish => {
                if unreachable.is_none() {
                    if let Err(e) = writer.finish().await {
                        unreachable = Some(e.into());
                    }
                }
                break;
            }
        };
        if unreachable.is_some() {
            continue;
        }
        let sent = match message.encode() {
            Ok(bytes) => writer.send_frame(&bytes).await.map_err(SyncFailure::from),
            Err(e) => Err(e.into()),
        };
        let flushed = match sent {
            Ok(()) if queue.is_empty() => writer.flush().await.map_err(SyncFailure::from),
            other => other,
        };
        if let Err(failure) = flushed {
            unreachable = Some(failure);
        }
    }
    match unreachable {
        Some(failure) => Err(failure),
        None => {
            // The reading side gave up (stalled or vanished child): nothing more to say.
            let _ = writer.flush().await;
            Ok(())
        }
    }
}

fn joined(
    result: Result<Result<(), SyncFailure>, tokio::task::JoinError>,
) -> Result<(), SyncFailure> {
    result.unwrap_or_else(|e| {
        Err(SyncFailure::Session(SessionEnd::internal(format!(
            "the answering task failed: {e}"
        ))))
    })
}
