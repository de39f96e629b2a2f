//! A node's credentials: its log key, its cosigner key and its TLS identity, plus the two
//! public trust anchors it verifies others with (the roster root vkey and the CA
//! certificate).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use credx_protocol::note::{CosignerKey, NoteSigner, VerifierKey};
use credx_protocol::roster::{JurisdictionSpec, NodeLevel, RosterNode};
use rand::rngs::OsRng;
use rcgen::{KeyPair, PublicKeyData};
use rustls::server::WebPkiClientVerifier;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, UnixTime};

use super::error::FederationError;
use super::files::{self, Overwrite, Secrecy};
use super::names::origin_key_name;
use super::trust_root::{read_private_key, read_vkey, TrustRoot};
use crate::transport::pki::{certificate_fingerprint, certificate_origin};
use crate::transport::{FederationRoots, NodeTlsIdentity, Validity};

/// File names of a node credentials directory (see [`NodeCredentials`]).
pub mod file {
    /// Log key, signs the node's checkpoints: `PRIVATE+KEY+<origin>+…` (type 0x01). 0600.
    pub const CHECKPOINT_KEY: &str = "checkpoint.key";
    /// Its verifier key, as listed in the roster (`ckey`).
    pub const CHECKPOINT_VKEY: &str = "checkpoint.vkey";
    /// Cosigner key, cosigns the checkpoints of the logs below (`cosignature/v1`, type
    /// 0x04). 0600.
    pub const COSIGNER_KEY: &str = "cosigner.key";
    /// Its verifier key, as listed in the roster (`cosigner`).
    pub const COSIGNER_VKEY: &str = "cosigner.vkey";
    /// TLS certificate chain (leaf first) naming the origin, issued by the federation CA.
    pub const TLS_CERT: &str = "tls.crt";
    /// TLS private key, PKCS#8 PEM (ECDSA P-256). 0600.
    pub const TLS_KEY: &str = "tls.key";
    /// The federation CA certificate: the only transport trust anchor.
    pub const CA_CERT: &str = "ca.crt";
    /// The trust root's roster verifier key: the only roster trust anchor.
    pub const ROOT_VKEY: &str = "root.vkey";
}

/// One node's credentials, issued by the trust root.
///
/// Directory layout written by [`NodeCredentials::save`] (the `.vkey` files and `tls.crt`
/// are what the roster operator needs, see [`NodePublicKeys::load`]; the `.key` files never
/// leave the node):
///
/// | file | content | mode |
/// |---|---|---|
/// | `checkpoint.key` / `.vkey` | log key (Ed25519, note type 0x01), named like the origin | 0600 / 0644 |
/// | `cosigner.key` / `.vkey` | cosigner key (Ed25519, `cosignature/v1` type 0x04), named like the origin | 0600 / 0644 |
/// | `tls.key` / `tls.crt` | TLS key (P-256) and certificate whose only DNS name is the origin | 0600 / 0644 |
/// | `ca.crt` | federation CA certificate | 0644 |
/// | `root.vkey` | trust root's roster verifier key | 0644 |
#[derive(Clone, Debug)]
pub struct NodeCredentials {
    origin: String,
    checkpoint: NoteSigner,
    cosigner: CosignerKey,
    tls: NodeTlsIdentity,
    ca_certificate_pem: String,
    root_vkey: VerifierKey,
}

impl NodeCredentials {
    /// Fresh credentials for `origin`: two independent Ed25519 keys (log and cosigner: the
    /// cosignature message does not name the cosigner, so the keys must never be shared) and
    /// a TLS certificate from the root's CA, valid for `validity`.
    pub fn issue(
        root: &TrustRoot,
        origin: &str,
        validity: Validity,
    ) -> Result<NodeCredentials, FederationError> {
        let name = origin_key_name(origin)?;
        let checkpoint = NoteSigner::generate(name.clone(), &mut OsRng);
        let cosigner = CosignerKey::generate(name, &mut OsRng);
        let tls = root.ca().issue_node_certificate(origin, validity)?;
        Ok(NodeCredentials {
            origin: origin.to_owned(),
            checkpoint,
            cosigner,
            tls,
            ca_certificate_pem: root.ca_certificate_pem(),
            root_vkey: root.root_vkey(),
        })
    }

    /// The origin both keys and the certificate are named after.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The log key: signs this node's checkpoints.
    pub fn checkpoint_signer(&self) -> &NoteSigner {
        &self.checkpoint
    }

    /// The cosigner key: cosigns the checkpoints of the logs below this node.
    pub fn cosigner(&self) -> &CosignerKey {
        &self.cosigner
    }

    /// The TLS identity for the transport.
    pub fn tls(&self) -> &NodeTlsIdentity {
        &self.tls
    }

    /// The trust root's roster verifier key.
    pub fn root_vkey(&self) -> &VerifierKey {
        &self.root_vkey
    }

    /// The federation CA certificate, PEM.
    pub fn ca_certificate_pem(&self) -> &str {
        &self.ca_certificate_pem
    }

    /// The transport trust anchors (the federation CA only).
    pub fn roots(&self) -> Result<FederationRoots, FederationError> {
        Ok(FederationRoots::from_pem(&self.ca_certificate_pem)?)
    }

    /// What the roster operator needs: the two verifier keys and the certificate.
    pub fn public(&self) -> NodePublicKeys {
        NodePublicKeys {
            origin: self.origin.clone(),
            checkpoint_vkey: self.checkpoint.verifier_key(),
            cosigner_vkey: self.cosigner.verifier_key(),
            tls_certificate: self.tls.cert_chain_der.first().cloned(),
        }
    }

    /// This node's roster line: its keys and certificate fingerprint, at `level` under
    /// `parent` with `jurisdiction`.
    pub fn roster_node(
        &self,
        level: NodeLevel,
        parent: Option<&str>,
        jurisdiction: Vec<JurisdictionSpec>,
    ) -> RosterNode {
        self.public().roster_node(level, parent, jurisdiction)
    }

    /// The files [`NodeCredentials::save`] writes under `dir`.
    pub fn files(dir: &Path) -> Vec<PathBuf> {
        [
            file::CHECKPOINT_KEY,
            file::CHECKPOINT_VKEY,
            file::COSIGNER_KEY,
            file::COSIGNER_VKEY,
            file::TLS_CERT,
            file::TLS_KEY,
            file::CA_CERT,
            file::ROOT_VKEY,
        ]
        .iter()
        .map(|name| dir.join(name))
        .collect()
    }

    /// Writes the credentials under `dir` (created if missing), private keys with mode
    /// 0600. With [`Overwrite::Refuse`] nothing is written if any of the files exists.
    pub fn save(&self, dir: &Path, overwrite: Overwrite) -> Result<(), FederationError> {
        files::create_dir(dir)?;
        files::check_free(&Self::files(dir), overwrite)?;
        let tls = self.tls.to_pem();
        let mut writes: Vec<(&str, String, Secrecy)> = Vec::with_capacity(8);
        for (key_file, vkey_file, private, public) in [
            (
                file::CHECKPOINT_KEY,
                file::CHECKPOINT_VKEY,
                self.checkpoint.to_private_key_str(),
                self.checkpoint.verifier_key(),
            ),
            (
                file::COSIGNER_KEY,
                file::COSIGNER_VKEY,
                self.cosigner.to_private_key_str(),
                self.cosigner.verifier_key(),
            ),
        ] {
            writes.push((key_file, format!("{private}\n"), Secrecy::Private));
            writes.push((vkey_file, format!("{public}\n"), Secrecy::Public));
        }
        writes.extend([
            (file::TLS_KEY, tls.private_key_pem, Secrecy::Private),
            (file::TLS_CERT, tls.certificate_pem, Secrecy::Public),
            (
                file::CA_CERT,
                self.ca_certificate_pem.clone(),
                Secrecy::Public,
            ),
            (
                file::ROOT_VKEY,
                format!("{}\n", self.root_vkey),
                Secrecy::Public,
            ),
        ]);
        for (name, contents, secrecy) in writes {
            files::write(&dir.join(name), &contents, secrecy, overwrite)?;
        }
        Ok(())
    }

    /// Reads what [`NodeCredentials::save`] wrote and checks that it belongs together: both
    /// keys named like the origin and distinct, the vkey files matching the keys, the TLS
    /// key matching a certificate that names the origin and that the CA in `ca.crt` issued
    /// and that is valid now.
    pub fn load(dir: &Path) -> Result<NodeCredentials, FederationError> {
        let path = |name: &str| dir.join(name);
        let checkpoint_path = path(file::CHECKPOINT_KEY);
        let checkpoint = read_private_key(
            &checkpoint_path,
            "log key (PRIVATE+KEY+<origin>+…, type 0x01)",
            NoteSigner::from_private_key_str,
        )?;
        let origin = checkpoint.name().as_str().to_owned();
        origin_key_name(&origin).map_err(|e| FederationError::Inconsistent {
            path: checkpoint_path.clone(),
            reason: format!("the key's name is not a usable origin: {e}"),
        })?;
        let cosigner_path = path(file::COSIGNER_KEY);
        let cosigner = read_private_key(
            &cosigner_path,
            "cosigner key (PRIVATE+KEY+<origin>+…, type 0x04)",
            CosignerKey::from_private_key_str,
        )?;
        check_named_like(
            &cosigner_path,
            cosigner.name().as_str(),
            &origin,
            &checkpoint_path,
        )?;
        if cosigner
            .verifier_key()
            .same_public_key(&checkpoint.verifier_key())
        {
            return Err(FederationError::Inconsistent {
                path: cosigner_path,
                reason: format!(
                    "it holds the same Ed25519 key as {}; log and cosigner keys must differ",
                    checkpoint_path.display()
                ),
            });
        }
        for (name, expected) in [
            (file::CHECKPOINT_VKEY, checkpoint.verifier_key()),
            (file::COSIGNER_VKEY, cosigner.verifier_key()),
        ] {
            let vkey_path = path(name);
            if read_vkey(&vkey_path, "verifier key")? != expected {
                return Err(FederationError::Inconsistent {
                    path: vkey_path,
                    reason: "it does not belong to the private key beside it".to_owned(),
                });
            }
        }
        let cert_path = path(file::TLS_CERT);
        let tls = NodeTlsIdentity::load_pem(&cert_path, &path(file::TLS_KEY))?;
        if tls.origin != origin {
            return Err(FederationError::Inconsistent {
                path: cert_path,
                reason: format!(
                    "the certificate names {:?}, but the keys are for {origin:?}",
                    tls.origin
                ),
            });
        }
        check_tls_key(&tls, &path(file::TLS_KEY))?;
        let ca_path = path(file::CA_CERT);
        let ca_certificate_pem = files::read(&ca_path)?;
        let roots = FederationRoots::load_pem(&ca_path)?;
        check_issued_by(&tls.cert_chain_der, &roots, &ca_path, &cert_path)?;
        let root_vkey = read_vkey(&path(file::ROOT_VKEY), "trust root verifier key")?;
        Ok(NodeCredentials {
            origin,
            checkpoint,
            cosigner,
            tls,
            ca_certificate_pem,
            root_vkey,
        })
    }
}

/// The public half of a node's credentials: what the trust root puts in the roster. Read
/// from the public files only, so the roster operator never handles a node's private keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodePublicKeys {
    pub origin: String,
    pub checkpoint_vkey: VerifierKey,
    pub cosigner_vkey: VerifierKey,
    /// The node's leaf certificate, pinned in the roster by its fingerprint.
    pub tls_certificate: Option<CertificateDer<'static>>,
}

impl NodePublicKeys {
    /// Reads `checkpoint.vkey`, `cosigner.vkey` and `tls.crt` from a credentials directory
    /// and checks they name one origin with two distinct keys of the right types.
    pub fn load(dir: &Path) -> Result<NodePublicKeys, FederationError> {
        let ckey_path = dir.join(file::CHECKPOINT_VKEY);
        let checkpoint_vkey = read_vkey(&ckey_path, "log verifier key")?;
        let origin = checkpoint_vkey.name().as_str().to_owned();
        let cosigner_path = dir.join(file::COSIGNER_VKEY);
        let cosigner_vkey = read_vkey(&cosigner_path, "cosigner verifier key")?;
        check_named_like(
            &cosigner_path,
            cosigner_vkey.name().as_str(),
            &origin,
            &ckey_path,
        )?;
        let cert_path = dir.join(file::TLS_CERT);
        let pem = files::read(&cert_path)?;
        let leaf = CertificateDer::pem_slice_iter(pem.as_bytes())
            .next()
            .transpose()
            .map_err(|e| FederationError::Inconsistent {
                path: cert_path.clone(),
                reason: format!("not a PEM certificate: {e}"),
            })?
            .ok_or_else(|| FederationError::Inconsistent {
                path: cert_path.clone(),
                reason: "it holds no certificate".to_owned(),
            })?;
        let cert_origin =
            certificate_origin(&leaf).map_err(|reason| FederationError::Inconsistent {
                path: cert_path.clone(),
                reason,
            })?;
        if cert_origin != origin {
            return Err(FederationError::Inconsistent {
                path: cert_path,
                reason: format!(
                    "the certificate names {cert_origin:?}, but the keys are for {origin:?}"
                ),
            });
        }
        Ok(NodePublicKeys {
            origin,
            checkpoint_vkey,
            cosigner_vkey,
            tls_certificate: Some(leaf),
        })
    }

    /// SHA-256 of the leaf certificate, as the roster pins it.
    pub fn tls_fingerprint(&self) -> Option<[u8; 32]> {
        self.tls_certificate.as_ref().map(certificate_fingerprint)
    }

    /// Checks that the certificate was issued by the CA of `roots` and is valid now, so a
    /// roster never pins a certificate the transport would refuse.
    pub fn check_issued_by(
        &self,
        roots: &FederationRoots,
        ca_label: &Path,
        cert_label: &Path,
    ) -> Result<(), FederationError> {
        let chain: Vec<CertificateDer<'static>> = self.tls_certificate.iter().cloned().collect();
        check_issued_by(&chain, roots, ca_label, cert_label)
    }

    /// The roster line for this node at `level` under `parent` with `jurisdiction`.
    pub fn roster_node(
        &self,
        level: NodeLevel,
        parent: Option<&str>,
        jurisdiction: Vec<JurisdictionSpec>,
    ) -> RosterNode {
        RosterNode {
            origin: self.origin.clone(),
            level,
            parent: parent.map(str::to_owned),
            jurisdiction,
            checkpoint_key: self.checkpoint_vkey.to_string(),
            cosigner_key: self.cosigner_vkey.to_string(),
            tls_fingerprint: self.tls_fingerprint(),
        }
    }
}

/// The cosigner key in `path` must be named like the origin that `origin_source` named.
fn check_named_like(
    path: &Path,
    name: &str,
    origin: &str,
    origin_source: &Path,
) -> Result<(), FederationError> {
    if name == origin {
        return Ok(());
    }
    Err(FederationError::Inconsistent {
        path: path.to_owned(),
        reason: format!(
            "the key is named {name:?}, but {} names origin {origin:?}",
            origin_source.display()
        ),
    })
}

/// The TLS private key must belong to the leaf certificate.
fn check_tls_key(tls: &NodeTlsIdentity, key_path: &Path) -> Result<(), FederationError> {
    let inconsistent = |reason: String| FederationError::Inconsistent {
        path: key_path.to_owned(),
        reason,
    };
    let key = KeyPair::try_from(&tls.private_key_der)
        .map_err(|e| inconsistent(format!("not a usable private key: {e}")))?;
    let leaf = tls
        .cert_chain_der
        .first()
        .ok_or_else(|| inconsistent("the certificate file beside it is empty".to_owned()))?;
    let (_, x509) = x509_parser::parse_x509_certificate(leaf)
        .map_err(|e| inconsistent(format!("the certificate beside it cannot be parsed: {e}")))?;
    if x509.public_key().raw != key.subject_public_key_info().as_slice() {
        return Err(inconsistent(
            "it does not belong to the certificate beside it (tls.crt)".to_owned(),
        ));
    }
    Ok(())
}

/// Verifies `chain` (leaf first) against `roots` with the same WebPKI client verifier the
/// transport uses, at the current time.
fn check_issued_by(
    chain: &[CertificateDer<'static>],
    roots: &FederationRoots,
    ca_label: &Path,
    cert_label: &Path,
) -> Result<(), FederationError> {
    let refused = |reason: String| FederationError::NotIssuedByCa {
        path: cert_label.to_owned(),
        ca: ca_label.display().to_string(),
        reason,
    };
    let (leaf, intermediates) = chain
        .split_first()
        .ok_or_else(|| refused("it holds no certificate".to_owned()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = WebPkiClientVerifier::builder_with_provider(roots.root_store(), provider)
        .build()
        .map_err(|e| refused(format!("cannot build a verifier: {e}")))?;
    verifier
        .verify_client_cert(leaf, intermediates, UnixTime::now())
        .map(|_| ())
        .map_err(|e| refused(e.to_string()))
}
