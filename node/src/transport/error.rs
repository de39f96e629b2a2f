//! Error types of the transport, and the one place QUIC/TLS failures are translated into
//! them.
//!
//! Each variant names the peer (its origin once the certificate proved it, otherwise its
//! address) and says what the operator or the sync layer should do next.

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Application close and stream codes this transport sends. The numbers are on the wire:
/// never renumber them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum CloseCode {
    /// Normal end of a connection or stream.
    Done = 0,
    /// The peer's identity is not admitted (roster) or its certificate names no usable
    /// origin.
    NotAuthorized = 1,
    /// The peer broke the credx transport protocol (bad admission message...).
    ProtocolViolation = 2,
    /// A frame length over the receiver's limit.
    FrameTooLarge = 3,
    /// The receiver gave up on a stalled stream, or the sender on a stalled window.
    StreamTimeout = 4,
    /// The sender dropped the stream without finishing it: whatever arrived is incomplete.
    Abandoned = 5,
}

impl CloseCode {
    pub(crate) fn varint(self) -> quinn::VarInt {
        quinn::VarInt::from_u32(self as u32)
    }

    fn from_u64(code: u64) -> Option<Self> {
        [
            Self::Done,
            Self::NotAuthorized,
            Self::ProtocolViolation,
            Self::FrameTooLarge,
            Self::StreamTimeout,
            Self::Abandoned,
        ]
        .into_iter()
        .find(|c| *c as u64 == code)
    }
}

/// Creating, loading or saving federation PKI material.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// The origin cannot be a certificate's DNS name.
    #[error(
        "origin {origin:?} cannot be put in a certificate: {reason}; origins are lower-case DNS \
         names such as 420281.credx"
    )]
    InvalidOrigin { origin: String, reason: String },
    /// `not_after` is not after `not_before`.
    #[error("certificate validity for {subject} is empty: not_after must be after not_before")]
    EmptyValidity { subject: String },
    /// rcgen refused to build or sign a certificate or key.
    #[error("cannot generate the {what} for {subject}: {source}")]
    Generate {
        what: &'static str,
        subject: String,
        #[source]
        source: rcgen::Error,
    },
    /// PEM or DER material that is missing, malformed or inconsistent.
    #[error("{what} from {location} is not usable: {reason}")]
    Material {
        what: &'static str,
        location: String,
        reason: String,
    },
    /// Reading or writing a PEM file.
    #[error("cannot {action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// Building rustls/quinn configurations.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The federation CA set is empty: nothing could ever be verified.
    #[error("no federation CA certificate given: load the CA from the signed roster first")]
    NoRoots,
    /// rustls refused the verifier built over the federation CA.
    #[error("cannot build the {side} certificate verifier over the federation CA: {source}")]
    Verifier {
        side: &'static str,
        #[source]
        source: rustls::server::VerifierBuilderError,
    },
    /// The node's own certificate or key was refused.
    #[error(
        "the TLS identity of {origin} was refused: {source}; re-issue the node certificate \
         from the federation CA"
    )]
    Identity {
        origin: String,
        #[source]
        source: rustls::Error,
    },
    /// The rustls configuration cannot run QUIC (QUIC needs TLS 1.3 with AES-128-GCM).
    #[error("the TLS configuration cannot be used for QUIC: {0}")]
    Quic(String),
}

/// Connection-level failures. `peer` is `origin (address)` once the peer's certificate was
/// verified, otherwise the address and, when dialling, the origin we expected.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// The limits are inconsistent.
    #[error("invalid transport limits: {0}")]
    InvalidLimits(String),
    /// The TLS configuration is unusable.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The UDP socket could not be set up.
    #[error(
        "cannot bind the QUIC endpoint on {addr}: {source}; check that the address is local and \
         the UDP port is free"
    )]
    Bind {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// quinn refused to start the connection (bad server name, endpoint stopping...).
    #[error("cannot start a connection to {peer}: {source}")]
    Connect {
        peer: String,
        #[source]
        source: quinn::ConnectError,
    },
    /// This endpoint was bound without a server configuration.
    #[error("this endpoint has no server configuration, so it cannot accept connections")]
    NotListening,
    /// The endpoint was closed locally.
    #[error("the local QUIC endpoint is closed")]
    EndpointClosed,
    /// Handshake, roster check and admission did not finish in time.
    #[error(
        "the handshake with {peer} did not finish within {after:?}: the peer is down, \
         unreachable or overloaded; retry with backoff"
    )]
    HandshakeTimeout { peer: String, after: Duration },
    /// This node refused the peer's certificate during the TLS handshake.
    #[error(
        "this node rejected the certificate of {peer} ({alert}): {reason}; the peer needs a \
         current certificate from the federation CA naming the origin it is dialled as"
    )]
    PeerCertificateRejected {
        peer: String,
        alert: String,
        reason: String,
    },
    /// The peer refused this node's certificate during the TLS handshake.
    #[error(
        "{peer} rejected this node's certificate ({alert}){reason}; check that this node's \
         certificate comes from the federation CA the peer trusts and has not expired"
    )]
    RejectedByPeer {
        peer: String,
        alert: String,
        reason: String,
    },
    /// No common ALPN protocol version.
    #[error(
        "no common protocol version with {peer}: this node speaks {ours}; upgrade the older node"
    )]
    AlpnMismatch { peer: String, ours: &'static str },
    /// Any other TLS handshake failure.
    #[error("TLS handshake with {peer} failed: {reason}")]
    Handshake { peer: String, reason: String },
    /// The verified certificate does not carry exactly one usable origin.
    #[error("the certificate of {peer} names no single usable origin: {reason}")]
    PeerIdentity { peer: String, reason: String },
    /// The certificate is for another origin than the one dialled.
    #[error(
        "{peer} presented a certificate for {presented}, but {expected} was dialled; check the \
         parent's address in the roster"
    )]
    OriginMismatch {
        peer: String,
        expected: String,
        presented: String,
    },
    /// This node's `PeerAuthorizer` refused the peer.
    #[error("{peer} is not admitted by this node: {reason}")]
    NotAuthorized { peer: String, reason: String },
    /// The peer's `PeerAuthorizer` refused this node.
    #[error(
        "{peer} refused this node: {reason}; the peer's roster does not admit this origin, ask \
         its operator"
    )]
    RefusedByPeer { peer: String, reason: String },
    /// The peer broke the transport protocol.
    #[error("{peer} violated the credx transport protocol: {reason}")]
    ProtocolViolation { peer: String, reason: String },
    /// No stream slot became free in time.
    #[error(
        "could not open a stream to {peer} within {waited:?}: all the concurrent streams the \
         peer allows are in use; finish a stream first"
    )]
    StreamLimit { peer: String, waited: Duration },
    /// The connection ended for another reason (idle timeout, reset, closed by the peer).
    #[error("connection with {peer} lost: {source}; reconnect and resume from the cursor")]
    ConnectionLost {
        peer: String,
        #[source]
        source: quinn::ConnectionError,
    },
}

/// Failures on one framed stream.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// A frame over the limit, announced by the peer (checked before any allocation) or
    /// handed to `send_frame`.
    #[error(
        "frame of {len} bytes on the stream with {peer} exceeds the {max}-byte limit; the \
         sender must split its batch"
    )]
    Oversized { peer: String, len: u64, max: u32 },
    /// No byte of progress within the limit.
    #[error(
        "no progress {phase} {peer} for {after:?}: the peer is stalled; drop the stream, \
         reconnect if needed and resume from the cursor"
    )]
    Timeout {
        peer: String,
        phase: &'static str,
        after: Duration,
    },
    /// The peer finished the stream inside a frame.
    #[error(
        "the stream from {peer} ended inside a frame ({received} of {expected} bytes, length \
         prefix included); discard the partial message and resume from the cursor"
    )]
    Truncated {
        peer: String,
        expected: u64,
        received: u64,
    },
    /// The peer abandoned its sending side.
    #[error("{peer} reset the stream ({code}); discard the partial message")]
    Reset { peer: String, code: String },
    /// The peer no longer reads this stream.
    #[error("{peer} stopped reading the stream ({code}); nothing more can be sent on it")]
    Stopped { peer: String, code: String },
    /// The stream was already finished or reset locally.
    #[error("the stream with {peer} is already closed on this side")]
    ClosedStream { peer: String },
    /// The whole connection failed.
    #[error(transparent)]
    Connection(Box<TransportError>),
}

impl FrameError {
    pub(crate) fn connection(peer: &str, err: quinn::ConnectionError) -> Self {
        Self::Connection(Box::new(connection_error(peer, err)))
    }
}

/// Describes a stream code for errors: ours by name, anything else by number.
pub(crate) fn describe_code(code: quinn::VarInt) -> String {
    match CloseCode::from_u64(code.into_inner()) {
        Some(c) => format!("{c:?}"),
        None => format!("code {code}"),
    }
}

/// TLS alert number `no_application_protocol` (RFC 7301): no common ALPN.
const ALERT_NO_APPLICATION_PROTOCOL: u8 = 120;

/// QUIC carries TLS alerts as transport error codes 0x100 + alert (RFC 9001 §4.8).
fn tls_alert(code: quinn::TransportErrorCode) -> Option<u8> {
    let code = u64::from(code);
    if (0x100..0x200).contains(&code) {
        u8::try_from(code & 0xff).ok()
    } else {
        None
    }
}

fn alert_name(alert: u8) -> String {
    format!("{:?}", rustls::AlertDescription::from(alert))
}

/// Alerts that mean "your certificate is not acceptable": bad_certificate,
/// unsupported_certificate, certificate_revoked, certificate_expired, certificate_unknown,
/// unknown_ca, access_denied, decrypt_error (bad signature), certificate_required.
fn is_certificate_alert(alert: u8) -> bool {
    matches!(alert, 42..=46 | 48 | 49 | 51 | 116)
}

/// Translates a quinn connection failure, during or after the handshake.
pub(crate) fn connection_error(peer: &str, err: quinn::ConnectionError) -> TransportError {
    use quinn::ConnectionError as E;
    let peer = peer.to_owned();
    match &err {
        // Our own TLS stack failed the handshake.
        E::TransportError(local) => match tls_alert(local.code) {
            Some(ALERT_NO_APPLICATION_PROTOCOL) => TransportError::AlpnMismatch {
                peer,
                ours: crate::transport::tls::ALPN_NAME,
            },
            Some(alert) if is_certificate_alert(alert) => TransportError::PeerCertificateRejected {
                peer,
                alert: alert_name(alert),
                reason: local.reason.clone(),
            },
            _ => TransportError::ConnectionLost { peer, source: err },
        },
        // The peer's TLS stack failed the handshake and told us why.
        E::ConnectionClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            match tls_alert(close.error_code) {
                Some(ALERT_NO_APPLICATION_PROTOCOL) => TransportError::AlpnMismatch {
                    peer,
                    ours: crate::transport::tls::ALPN_NAME,
                },
                Some(alert) if is_certificate_alert(alert) => TransportError::RejectedByPeer {
                    peer,
                    alert: alert_name(alert),
                    reason: if reason.is_empty() {
                        String::new()
                    } else {
                        format!(": {reason}")
                    },
                },
                Some(alert) => TransportError::Handshake {
                    peer,
                    reason: format!("the peer sent TLS alert {}: {reason}", alert_name(alert)),
                },
                // What an application close becomes before the handshake is confirmed.
                None if close.error_code == quinn::TransportErrorCode::APPLICATION_ERROR => {
                    TransportError::Handshake {
                        peer,
                        reason: "the peer closed the connection during the handshake; QUIC \
                                 withholds its reason at that stage, most likely its roster \
                                 refused this node"
                            .to_owned(),
                    }
                }
                None => TransportError::ConnectionLost { peer, source: err },
            }
        }
        E::ApplicationClosed(close) => {
            let reason = String::from_utf8_lossy(&close.reason).into_owned();
            match CloseCode::from_u64(close.error_code.into_inner()) {
                Some(CloseCode::NotAuthorized) => TransportError::RefusedByPeer { peer, reason },
                Some(CloseCode::ProtocolViolation) => TransportError::ProtocolViolation {
                    peer,
                    reason: format!("the peer reports that this node broke the protocol: {reason}"),
                },
                _ => TransportError::ConnectionLost { peer, source: err },
            }
        }
        _ => TransportError::ConnectionLost { peer, source: err },
    }
}
