//! QUIC endpoints and verified peer connections.
//!
//! Establishing a connection, on either side, is:
//! 1. the TLS 1.3 handshake with both certificates verified against the federation CA (and,
//!    when dialling, the server's certificate checked against the dialled origin);
//! 2. the peer's [`PeerIdentity`] read from its certificate and handed to this node's
//!    [`PeerAuthorizer`]; a refusal closes the connection with [`CloseCode::NotAuthorized`]
//!    and the reason;
//! 3. a mutual *admission*: each side, once it has authorized the other, sends a short fixed
//!    message on a unidirectional stream and waits for the peer's. In QUIC a client considers
//!    the handshake complete before the server has checked the client's certificate, so
//!    without this step `connect` could return a connection the server is about to refuse.
//!    With it, `connect` and `accept` return only connections both ends have admitted, and a
//!    refusal surfaces as a precise error from the call itself. Cost: one round trip per
//!    (long-lived) connection.
//!
//! All of it runs under [`TransportLimits::handshake_timeout`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::timeout;
use tracing::{debug, warn};

use super::error::{connection_error, CloseCode, TransportError};
use super::framing::FramedStream;
use super::limits::TransportLimits;
use super::tls::{PeerAuthorizer, PeerIdentity};

/// The admission message: the protocol version, so a peer that got past ALPN by accident
/// still cannot be mistaken for a credx/1 node.
const ADMISSION: &[u8] = b"credx/1 admitted";
// The admission message must change with the ALPN version.
const _: () = {
    let alpn = super::tls::ALPN;
    assert!(ADMISSION.len() > alpn.len());
    let mut i = 0;
    while i < alpn.len() {
        assert!(
            ADMISSION[i] == alpn[i],
            "ADMISSION must start with the ALPN id"
        );
        i += 1;
    }
};

/// How long a refusing dialler waits for handshake confirmation before closing anyway.
const REFUSAL_GRACE: Duration = Duration::from_secs(1);

/// Longest close reason sent to a peer; QUIC close frames must fit in one packet.
const MAX_CLOSE_REASON_BYTES: usize = 512;

/// A QUIC endpoint: dials parents and, when it has a server configuration, accepts children.
/// Cheap to clone; clones share the socket.
#[derive(Clone)]
pub struct Transport {
    endpoint: quinn::Endpoint,
    client: quinn::ClientConfig,
    authorizer: Arc<dyn PeerAuthorizer>,
    limits: TransportLimits,
    listening: bool,
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Transport")
            .field("local_addr", &self.endpoint.local_addr().ok())
            .field("listening", &self.listening)
            .field("limits", &self.limits)
            .finish_non_exhaustive()
    }
}

impl Transport {
    /// Binds a UDP socket on `addr` (port 0 picks one). Must run inside a tokio runtime.
    /// Without `server` the endpoint only dials out (a county node behind a firewall).
    /// The stateless-reset key is random: see [`Transport::bind_with_reset_secret`].
    pub fn bind(
        addr: SocketAddr,
        server: Option<Arc<rustls::ServerConfig>>,
        client: Arc<rustls::ClientConfig>,
        authorizer: Arc<dyn PeerAuthorizer>,
        limits: TransportLimits,
    ) -> Result<Self, TransportError> {
        Self::bind_inner(addr, server, client, authorizer, limits, None)
    }

    /// As [`Transport::bind`], with the QUIC stateless-reset key derived from `secret`
    /// (e.g. from the node's TLS key). A node restarted after a crash then answers packets
    /// of its peers' old connections with a valid stateless reset, and they reconnect at
    /// once instead of waiting for their idle timeout.
    pub fn bind_with_reset_secret(
        addr: SocketAddr,
        server: Option<Arc<rustls::ServerConfig>>,
        client: Arc<rustls::ClientConfig>,
        authorizer: Arc<dyn PeerAuthorizer>,
        limits: TransportLimits,
        secret: &[u8],
    ) -> Result<Self, TransportError> {
        Self::bind_inner(addr, server, client, authorizer, limits, Some(secret))
    }

    fn bind_inner(
        addr: SocketAddr,
        server: Option<Arc<rustls::ServerConfig>>,
        client: Arc<rustls::ClientConfig>,
        authorizer: Arc<dyn PeerAuthorizer>,
        limits: TransportLimits,
        reset_secret: Option<&[u8]>,
    ) -> Result<Self, TransportError> {
        limits.validate().map_err(TransportError::InvalidLimits)?;
        // quinn would panic when wrapping the socket outside a runtime.
        tokio::runtime::Handle::try_current().map_err(|e| TransportError::Bind {
            addr,
            source: std::io::Error::other(format!("bind must run inside a tokio runtime: {e}")),
        })?;
        let transport_config = Arc::new(transport_config(&limits)?);

        let server_config = match server {
            Some(tls) => {
                let crypto = quinn::crypto::rustls::QuicServerConfig::try_from(tls)
                    .map_err(|e| super::error::TlsError::Quic(e.to_string()))?;
                let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
                config.transport_config(Arc::clone(&transport_config));
                config.max_incoming(limits.max_pending_handshakes);
                // Federation nodes have fixed addresses; a migrating peer is suspicious.
                config.migration(false);
                Some(config)
            }
            None => None,
        };
        let listening = server_config.is_some();

        let crypto = quinn::crypto::rustls::QuicClientConfig::try_from(client)
            .map_err(|e| super::error::TlsError::Quic(e.to_string()))?;
        let mut client = quinn::ClientConfig::new(Arc::new(crypto));
        client.transport_config(transport_config);

        let socket = udp_socket(addr, limits.socket_buffer_bytes)
            .map_err(|source| TransportError::Bind { addr, source })?;
        let endpoint_config = match reset_secret {
            Some(secret) => {
                use sha2::Digest;
                let mut seed = sha2::Sha256::new();
                seed.update(b"credx/1 QUIC stateless reset\0");
                seed.update(secret);
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &seed.finalize());
                quinn::EndpointConfig::new(Arc::new(key))
            }
            None => quinn::EndpointConfig::default(),
        };
        let endpoint = quinn::Endpoint::new(
            endpoint_config,
            server_config,
            socket,
            Arc::new(quinn::TokioRuntime),
        )
        .map_err(|source| TransportError::Bind { addr, source })?;
        Ok(Self {
            endpoint,
            client,
            authorizer,
            limits,
            listening,
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.endpoint.local_addr()
    }

    /// The limits this endpoint applies.
    pub fn limits(&self) -> &TransportLimits {
        &self.limits
    }

    /// Dials the node `expected_origin` at `addr`: its certificate must come from the
    /// federation CA, name exactly that origin, and pass this node's authorizer; this node
    /// must pass the peer's.
    pub async fn connect(
        &self,
        addr: SocketAddr,
        expected_origin: &str,
    ) -> Result<PeerConnection, TransportError> {
        let label = format!("{expected_origin} ({addr}, not yet verified)");
        let connecting = self
            .endpoint
            .connect_with(self.client.clone(), addr, expected_origin)
            .map_err(|source| TransportError::Connect {
                peer: label.clone(),
                source,
            })?;
        let establish = async {
            let conn = connecting.await.map_err(|e| connection_error(&label, e))?;
            self.admit(conn, &label, Some(expected_origin)).await
        };
        timeout(self.limits.handshake_timeout, establish)
            .await
            .map_err(|_| TransportError::HandshakeTimeout {
                peer: label.clone(),
                after: self.limits.handshake_timeout,
            })?
    }

    /// Waits for the next incoming connection and establishes it. One slow or failing
    /// handshake delays the next; a busy server should use [`Transport::accept_incoming`]
    /// and establish each connection in its own task.
    pub async fn accept(&self) -> Result<PeerConnection, TransportError> {
        self.accept_incoming().await?.establish().await
    }

    /// Waits for the next incoming connection attempt, without handshaking yet.
    pub async fn accept_incoming(&self) -> Result<IncomingPeer, TransportError> {
        if !self.listening {
            return Err(TransportError::NotListening);
        }
        let incoming = self
            .endpoint
            .accept()
            .await
            .ok_or(TransportError::EndpointClosed)?;
        Ok(IncomingPeer {
            incoming,
            transport: self.clone(),
        })
    }

    /// Closes every connection (peers see [`CloseCode::Done`]) and stops accepting.
    pub fn close(&self, reason: &str) {
        self.endpoint
            .close(CloseCode::Done.varint(), truncate_reason(reason));
    }

    /// Waits until closed connections have told their peers.
    pub async fn wait_idle(&self) {
        self.endpoint.wait_idle().await;
    }

    /// Identity, origin check (when dialling), roster check, then the mutual admission
    /// exchange. `dialled` is the origin this node dialled, `None` on the accepting side.
    async fn admit(
        &self,
        conn: quinn::Connection,
        label: &str,
        dialled: Option<&str>,
    ) -> Result<PeerConnection, TransportError> {
        let dialler = dialled.is_some();
        let peer = match peer_identity(&conn) {
            Ok(peer) => peer,
            Err(reason) => {
                refuse(&conn, CloseCode::NotAuthorized, &reason, dialler).await;
                return Err(TransportError::PeerIdentity {
                    peer: label.to_owned(),
                    reason,
                });
            }
        };
        if let Some(expected) = dialled {
            // webpki already matched the certificate to the dialled name, but it ignores
            // case; the roster does not.
            if peer.origin != expected {
                let reason = format!(
                    "certificate names {}, but {expected} was dialled",
                    peer.origin
                );
                refuse(&conn, CloseCode::NotAuthorized, &reason, dialler).await;
                return Err(TransportError::OriginMismatch {
                    peer: label.to_owned(),
                    expected: expected.to_owned(),
                    presented: peer.origin,
                });
            }
        }
        let label: Arc<str> = format!("{} ({})", peer.origin, conn.remote_address()).into();
        if let Err(reason) = self.authorizer.authorize(&peer) {
            warn!(peer = %label, %reason, "refusing peer");
            refuse(&conn, CloseCode::NotAuthorized, &reason, dialler).await;
            return Err(TransportError::NotAuthorized {
                peer: label.to_string(),
                reason,
            });
        }
        let send = async {
            let mut stream = conn.open_uni().await?;
            stream.write_all(ADMISSION).await?;
            // Finishing cannot fail on a stream we just opened and wrote.
            let _ = stream.finish();
            Ok::<_, AdmissionError>(())
        };
        let receive = async {
            let mut stream = conn.accept_uni().await?;
            let message = stream.read_to_end(ADMISSION.len()).await?;
            Ok::<_, AdmissionError>(message)
        };
        let message = match tokio::try_join!(send, receive) {
            Ok(((), message)) => message,
            Err(AdmissionError::Connection(e)) => return Err(connection_error(&label, e)),
            Err(AdmissionError::Protocol(reason)) => {
                close(&conn, CloseCode::ProtocolViolation, &reason);
                return Err(TransportError::ProtocolViolation {
                    peer: label.to_string(),
                    reason,
                });
            }
        };
        if message != ADMISSION {
            let reason = "the admission message is not credx/1's".to_owned();
            close(&conn, CloseCode::ProtocolViolation, &reason);
            return Err(TransportError::ProtocolViolation {
                peer: label.to_string(),
                reason,
            });
        }
        debug!(peer = %label, fingerprint = %peer.fingerprint_hex(), "peer admitted");
        Ok(PeerConnection {
            conn,
            peer,
            label,
            limits: self.limits,
        })
    }
}

/// A connection attempt that has not been handshaken yet.
#[derive(Debug)]
pub struct IncomingPeer {
    incoming: quinn::Incoming,
    transport: Transport,
}

impl IncomingPeer {
    /// Where the attempt comes from (not yet authenticated).
    pub fn remote_address(&self) -> SocketAddr {
        self.incoming.remote_address()
    }

    /// Handshake, roster check and admission, under the handshake timeout.
    pub async fn establish(self) -> Result<PeerConnection, TransportError> {
        let label = format!("{} (not yet verified)", self.incoming.remote_address());
        let transport = self.transport;
        let establish = async {
            let connecting = self
                .incoming
                .accept()
                .map_err(|e| connection_error(&label, e))?;
            let conn = connecting.await.map_err(|e| connection_error(&label, e))?;
            transport.admit(conn, &label, None).await
        };
        timeout(transport.limits.handshake_timeout, establish)
            .await
            .map_err(|_| TransportError::HandshakeTimeout {
                peer: label.clone(),
                after: transport.limits.handshake_timeout,
            })?
    }
}

/// An established connection with a verified, admitted peer. Cheap to clone.
#[derive(Clone, Debug)]
pub struct PeerConnection {
    conn: quinn::Connection,
    peer: PeerIdentity,
    /// `origin (address)`, for errors and logs.
    label: Arc<str>,
    limits: TransportLimits,
}

impl PeerConnection {
    /// Who the peer is, as proven by its certificate.
    pub fn peer(&self) -> &PeerIdentity {
        &self.peer
    }

    pub fn remote_address(&self) -> SocketAddr {
        self.conn.remote_address()
    }

    /// Current round-trip estimate.
    pub fn rtt(&self) -> Duration {
        self.conn.rtt()
    }

    /// Opens a bidirectional framed stream. The peer sees it once the first frame is
    /// flushed. Waits up to `stream_open_timeout` while the peer's concurrent-stream limit is
    /// reached, then fails with [`TransportError::StreamLimit`].
    pub async fn open_stream(&self) -> Result<FramedStream, TransportError> {
        let opened = timeout(self.limits.stream_open_timeout, self.conn.open_bi())
            .await
            .map_err(|_| TransportError::StreamLimit {
                peer: self.label.to_string(),
                waited: self.limits.stream_open_timeout,
            })?;
        let (send, recv) = opened.map_err(|e| connection_error(&self.label, e))?;
        Ok(FramedStream::new(
            send,
            recv,
            self.limits.frame,
            Arc::clone(&self.label),
        ))
    }

    /// Waits for the peer to open a stream; `Ok(None)` once the connection was closed
    /// normally (by either side, with [`CloseCode::Done`]). Waiting is bounded by the idle
    /// timeout: keep-alives hold a healthy quiet link open, a dead one errors.
    pub async fn accept_stream(&self) -> Result<Option<FramedStream>, TransportError> {
        match self.conn.accept_bi().await {
            Ok((send, recv)) => Ok(Some(FramedStream::new(
                send,
                recv,
                self.limits.frame,
                Arc::clone(&self.label),
            ))),
            Err(quinn::ConnectionError::LocallyClosed) => Ok(None),
            Err(quinn::ConnectionError::ApplicationClosed(close))
                if close.error_code == CloseCode::Done.varint() =>
            {
                Ok(None)
            }
            Err(e) => Err(connection_error(&self.label, e)),
        }
    }

    /// Closes the connection normally. Data not yet acknowledged is lost: close after the
    /// peer has replied.
    pub fn close(&self, reason: &str) {
        close(&self.conn, CloseCode::Done, reason);
    }

    /// Resolves when the connection ends, with why.
    pub async fn closed(&self) -> TransportError {
        connection_error(&self.label, self.conn.closed().await)
    }
}

enum AdmissionError {
    Connection(quinn::ConnectionError),
    Protocol(String),
}

impl From<quinn::ConnectionError> for AdmissionError {
    fn from(e: quinn::ConnectionError) -> Self {
        Self::Connection(e)
    }
}

impl From<quinn::WriteError> for AdmissionError {
    fn from(e: quinn::WriteError) -> Self {
        match e {
            quinn::WriteError::ConnectionLost(e) => Self::Connection(e),
            other => Self::Protocol(format!("the admission stream failed: {other}")),
        }
    }
}

impl From<quinn::ReadToEndError> for AdmissionError {
    fn from(e: quinn::ReadToEndError) -> Self {
        match e {
            quinn::ReadToEndError::Read(quinn::ReadError::ConnectionLost(e)) => Self::Connection(e),
            quinn::ReadToEndError::TooLong => {
                Self::Protocol("the admission message is too long".to_owned())
            }
            quinn::ReadToEndError::Read(other) => {
                Self::Protocol(format!("the admission stream failed: {other}"))
            }
        }
    }
}

/// The identity in the peer's verified certificate.
fn peer_identity(conn: &quinn::Connection) -> Result<PeerIdentity, String> {
    let chain = conn
        .peer_identity()
        .and_then(|any| {
            any.downcast::<Vec<rustls_pki_types::CertificateDer<'static>>>()
                .ok()
        })
        .ok_or_else(|| "the peer presented no certificate".to_owned())?;
    let leaf = chain
        .first()
        .ok_or_else(|| "the peer presented an empty certificate chain".to_owned())?;
    PeerIdentity::from_certificate(leaf)
}

/// Closes a connection this node refuses, with the reason for the peer's operator.
///
/// QUIC replaces an application close sent before the handshake is *confirmed* by a bare
/// APPLICATION_ERROR without reason (RFC 9000 §10.2.3). A dialler's handshake is confirmed
/// only when the server says so, so it first waits briefly for the server's admission
/// stream, which arrives after that; then the server learns why it was refused.
async fn refuse(conn: &quinn::Connection, code: CloseCode, reason: &str, dialler: bool) {
    if dialler {
        let _ = timeout(REFUSAL_GRACE, conn.accept_uni()).await;
    }
    close(conn, code, reason);
}

fn close(conn: &quinn::Connection, code: CloseCode, reason: &str) {
    conn.close(code.varint(), truncate_reason(reason));
}

fn truncate_reason(reason: &str) -> &[u8] {
    let mut end = reason.len().min(MAX_CLOSE_REASON_BYTES);
    while !reason.is_char_boundary(end) {
        end -= 1;
    }
    &reason.as_bytes()[..end]
}

/// QUIC transport parameters from the limits. Symmetric: both roles may open bidirectional
/// streams (a parent may later push to a child), and each side opens exactly one
/// unidirectional stream, the admission.
fn transport_config(limits: &TransportLimits) -> Result<quinn::TransportConfig, TransportError> {
    let idle = quinn::IdleTimeout::try_from(limits.idle_timeout).map_err(|_| {
        TransportError::InvalidLimits(format!(
            "idle_timeout {:?} is too large",
            limits.idle_timeout
        ))
    })?;
    let mut config = quinn::TransportConfig::default();
    config
        .max_idle_timeout(Some(idle))
        .keep_alive_interval(Some(limits.keep_alive_interval))
        .max_concurrent_bidi_streams(quinn::VarInt::from_u32(limits.max_concurrent_streams))
        .max_concurrent_uni_streams(quinn::VarInt::from_u32(1))
        .stream_receive_window(quinn::VarInt::from_u32(limits.stream_receive_window))
        .receive_window(quinn::VarInt::from_u32(limits.connection_receive_window))
        .send_window(limits.send_window)
        // No unreliable datagrams: every byte of a delta must arrive.
        .datagram_receive_buffer_size(None);
    Ok(config)
}

/// A UDP socket with enlarged buffers: with the default ones, bulk QUIC on this hardware
/// lost datagrams to receive-buffer overflow. The kernel may cap the size (rmem_max), which
/// is logged but not fatal. Also used by the testnet's relay, whose sockets must not drop
/// what the nodes' would not.
pub fn udp_socket(addr: SocketAddr, buffer_bytes: usize) -> std::io::Result<std::net::UdpSocket> {
    use socket2::{Domain, Protocol, Socket, Type};
    let socket = Socket::new(Domain::for_address(addr), Type::DGRAM, Some(Protocol::UDP))?;
    if let Err(e) = socket.set_recv_buffer_size(buffer_bytes) {
        warn!(%addr, error = %e, "cannot enlarge the UDP receive buffer");
    }
    if let Err(e) = socket.set_send_buffer_size(buffer_bytes) {
        warn!(%addr, error = %e, "cannot enlarge the UDP send buffer");
    }
    socket.set_nonblocking(true)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}
