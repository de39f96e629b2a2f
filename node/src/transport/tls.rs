//! rustls configurations for federation links, and the peer identity extracted from them.
//!
//! Both directions use rustls' own WebPKI verifiers over the federation CA only: the server
//! requires a client certificate (`WebPkiClientVerifier`), the client checks the server's
//! certificate and that it names the dialled origin (`WebPkiServerVerifier`). Nothing here
//! replaces or relaxes a verifier. What the CA cannot know — whether an origin is in the
//! current roster — is checked after the handshake by a [`PeerAuthorizer`], before either
//! side reads application data.

use std::collections::BTreeSet;
use std::sync::Arc;

use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::CryptoProvider;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls_pki_types::CertificateDer;

use super::error::TlsError;
use super::pki::{certificate_fingerprint, certificate_origin, FederationRoots, NodeTlsIdentity};

/// ALPN protocol id of the credx sync protocol version this build speaks, as the protocol
/// crate defines it. A node that speaks another version fails the handshake with
/// `no_application_protocol` instead of misreading frames.
pub const ALPN_NAME: &str = credx_protocol::wire::ALPN;
/// [`ALPN_NAME`] as bytes.
pub const ALPN: &[u8] = ALPN_NAME.as_bytes();

/// The ring provider, explicitly: the process-wide default is never consulted, so another
/// crate installing a different provider cannot change what this transport accepts.
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// Server side of a federation link: requires and verifies a client certificate from the
/// federation CA, presents this node's certificate, speaks only [`ALPN`].
pub fn server_config(
    identity: &NodeTlsIdentity,
    roots: &FederationRoots,
) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let provider = provider();
    let verifier =
        WebPkiClientVerifier::builder_with_provider(roots.root_store(), Arc::clone(&provider))
            .build()
            .map_err(|source| TlsError::Verifier {
                side: "client",
                source,
            })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Quic(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(
            identity.cert_chain_der.clone(),
            identity.private_key_der.clone_key(),
        )
        .map_err(|source| TlsError::Identity {
            origin: identity.origin.clone(),
            source,
        })?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    // No resumption: links are long-lived, and every connection must present a certificate
    // that is checked against today's CA set and roster.
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok(Arc::new(config))
}

/// Client side of a federation link: verifies the server's certificate against the
/// federation CA and the dialled origin (the server name given to `connect`), presents this
/// node's certificate, speaks only [`ALPN`].
pub fn client_config(
    identity: &NodeTlsIdentity,
    roots: &FederationRoots,
) -> Result<Arc<rustls::ClientConfig>, TlsError> {
    let provider = provider();
    let verifier =
        WebPkiServerVerifier::builder_with_provider(roots.root_store(), Arc::clone(&provider))
            .build()
            .map_err(|source| TlsError::Verifier {
                side: "server",
                source,
            })?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13])
        .map_err(|e| TlsError::Quic(e.to_string()))?
        .with_webpki_verifier(verifier)
        .with_client_auth_cert(
            identity.cert_chain_der.clone(),
            identity.private_key_der.clone_key(),
        )
        .map_err(|source| TlsError::Identity {
            origin: identity.origin.clone(),
            source,
        })?;
    config.alpn_protocols = vec![ALPN.to_vec()];
    config.resumption = Resumption::disabled();
    Ok(Arc::new(config))
}

/// Who is on the other end of a verified connection.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PeerIdentity {
    /// The single DNS subjectAltName of the peer's certificate, e.g. `420281.credx`.
    pub origin: String,
    /// SHA-256 of the peer's leaf certificate DER, for pinning against the roster.
    pub cert_fingerprint: [u8; 32],
}

impl PeerIdentity {
    /// Identity of a certificate that rustls has already verified.
    pub fn from_certificate(cert: &CertificateDer<'_>) -> Result<Self, String> {
        Ok(Self {
            origin: certificate_origin(cert)?,
            cert_fingerprint: certificate_fingerprint(cert),
        })
    }

    /// The fingerprint in lower-case hex.
    pub fn fingerprint_hex(&self) -> String {
        self.cert_fingerprint
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

/// Decides whether a verified peer may talk to this node, typically by looking its origin
/// (and optionally its certificate fingerprint) up in the signed roster. It runs on both
/// sides after the TLS handshake and before any application data is read; a refusal closes
/// the connection with the returned reason, which the peer sees.
pub trait PeerAuthorizer: Send + Sync {
    fn authorize(&self, peer: &PeerIdentity) -> Result<(), String>;
}

/// A fixed set of admitted origins: a stand-in for the roster in tests and small setups.
#[derive(Clone, Debug, Default)]
pub struct AllowOrigins {
    origins: BTreeSet<String>,
}

impl<S: Into<String>> FromIterator<S> for AllowOrigins {
    fn from_iter<I: IntoIterator<Item = S>>(iter: I) -> Self {
        Self {
            origins: iter.into_iter().map(Into::into).collect(),
        }
    }
}

impl PeerAuthorizer for AllowOrigins {
    fn authorize(&self, peer: &PeerIdentity) -> Result<(), String> {
        if self.origins.contains(&peer.origin) {
            Ok(())
        } else {
            Err(format!("origin {} is not in the roster", peer.origin))
        }
    }
}
