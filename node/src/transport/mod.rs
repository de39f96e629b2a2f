//! The federation transport: QUIC (quinn) with mutual TLS (rustls, ring provider) against
//! the federation CA, a roster hook, and length-framed streams with hard limits.
//!
//! Typical use by the sync layer:
//! ```text
//! let roots = FederationRoots::load_pem(ca_path)?;               // from the roster
//! let identity = NodeTlsIdentity::load_pem(cert_path, key_path)?;
//! let transport = Transport::bind(addr, Some(tls::server_config(&identity, &roots)?),
//!                                 tls::client_config(&identity, &roots)?, roster, limits)?;
//! let parent = transport.connect(parent_addr, "420000.credx").await?;   // child side
//! let mut stream = parent.open_stream().await?;
//! stream.send_frame(&delta).await?;
//! let ack = stream.recv_frame().await?;                          // flushes first
//! ```
//!
//! - [`pki`]: federation CA, node certificates, trust anchors (rcgen, ECDSA P-256).
//! - [`tls`]: rustls configurations with WebPKI verification, ALPN `credx/1`,
//!   [`PeerIdentity`] and the [`PeerAuthorizer`] roster hook.
//! - [`endpoint`]: [`Transport`] (bind / connect / accept) and [`PeerConnection`].
//! - [`framing`]: `u32`-length-prefixed frames with size and time limits.
//! - [`limits`]: every bound in one place.
//! - [`error`]: the error enums.

pub mod endpoint;
pub mod error;
pub mod framing;
pub mod limits;
pub mod pki;
pub mod tls;

pub use endpoint::{udp_socket, IncomingPeer, PeerConnection, Transport};
pub use error::{CloseCode, FrameError, PkiError, TlsError, TransportError};
pub use framing::{FrameReader, FrameWriter, FramedStream};
pub use limits::{FrameLimits, TransportLimits};
pub use pki::{FederationCa, FederationRoots, NodeTlsIdentity, PemPair, Validity};
pub use tls::{AllowOrigins, PeerAuthorizer, PeerIdentity, ALPN, ALPN_NAME};
