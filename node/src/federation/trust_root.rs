//! The national trust root: the Ed25519 key that signs the roster and the federation CA
//! that issues every node's TLS certificate. Two keys for two jobs (decision 0010): the
//! roster key says *who belongs* to the federation, the CA key lets nodes *prove who they
//! are* on a link; either can be rotated or moved into an HSM without touching the other.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use credx_protocol::note::{KeyError, NoteSigner, VerifierKey};
use rand::rngs::OsRng;

use super::error::FederationError;
use super::files::{self, Overwrite, Secrecy};
use super::names::{federation_of_root_key, root_key_name};
use crate::transport::{FederationCa, FederationRoots};

/// The trust root's private material, held only by the national operator.
///
/// Directory layout written by [`TrustRoot::save`]:
///
/// | file | content | mode |
/// |---|---|---|
/// | `root.key` | roster signing key, `PRIVATE+KEY+<federation>-root+…` (Go `sumdb/note` form) | 0600 |
/// | `root.vkey` | its verifier key, the one line every node is configured with | 0644 |
/// | `ca.key` | federation CA private key, PKCS#8 PEM (ECDSA P-256) | 0600 |
/// | `ca.crt` | federation CA certificate, PEM: the transport trust anchor | 0644 |
pub struct TrustRoot {
    federation: String,
    signer: NoteSigner,
    ca: FederationCa,
}

impl std::fmt::Debug for TrustRoot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TrustRoot")
            .field("federation", &self.federation)
            .field("root_vkey", &self.signer.verifier_key().to_string())
            .field("ca", &self.ca)
            .finish_non_exhaustive()
    }
}

impl TrustRoot {
    /// Roster signing key.
    pub const KEY_FILE: &'static str = "root.key";
    /// Roster verifier key (public).
    pub const VKEY_FILE: &'static str = "root.vkey";
    /// Federation CA private key.
    pub const CA_KEY_FILE: &'static str = "ca.key";
    /// Federation CA certificate (public).
    pub const CA_CERT_FILE: &'static str = "ca.crt";

    /// A fresh trust root for `federation`: an Ed25519 roster key named
    /// `<federation>-root` and a P-256 federation CA named `<federation> CA`.
    pub fn generate(federation: &str) -> Result<TrustRoot, FederationError> {
        let signer = NoteSigner::generate(root_key_name(federation)?, &mut OsRng);
        let ca = FederationCa::generate(&format!("{federation} CA"))?;
        Ok(TrustRoot {
            federation: federation.to_owned(),
            signer,
            ca,
        })
    }

    /// The federation name, as written in every roster this root signs.
    pub fn federation(&self) -> &str {
        &self.federation
    }

    /// The roster signing key.
    pub fn signer(&self) -> &NoteSigner {
        &self.signer
    }

    /// The federation CA.
    pub fn ca(&self) -> &FederationCa {
        &self.ca
    }

    /// The roster verifier key every node is configured with.
    pub fn root_vkey(&self) -> VerifierKey {
        self.signer.verifier_key()
    }

    /// The CA certificate as PEM, as node credentials carry it.
    pub fn ca_certificate_pem(&self) -> String {
        self.ca.to_pem().certificate_pem
    }

    /// The transport trust anchors for this federation's nodes.
    pub fn roots(&self) -> Result<FederationRoots, FederationError> {
        Ok(self.ca.roots()?)
    }

    /// The files [`TrustRoot::save`] writes under `dir`.
    pub fn files(dir: &Path) -> [PathBuf; 4] {
        [
            dir.join(Self::KEY_FILE),
            dir.join(Self::VKEY_FILE),
            dir.join(Self::CA_KEY_FILE),
            dir.join(Self::CA_CERT_FILE),
        ]
    }

    /// Writes the four files under `dir` (created if missing), the keys with mode 0600.
    /// With [`Overwrite::Refuse`] nothing is written if any of them exists.
    pub fn save(&self, dir: &Path, overwrite: Overwrite) -> Result<(), FederationError> {
        files::create_dir(dir)?;
        let [key, vkey, ca_key, ca_cert] = Self::files(dir);
        files::check_free(
            &[key.clone(), vkey.clone(), ca_key.clone(), ca_cert.clone()],
            overwrite,
        )?;
        let pem = self.ca.to_pem();
        files::write(
            &key,
            &format!("{}\n", self.signer.to_private_key_str()),
            Secrecy::Private,
            overwrite,
        )?;
        files::write(
            &vkey,
            &format!("{}\n", self.root_vkey()),
            Secrecy::Public,
            overwrite,
        )?;
        files::write(&ca_key, &pem.private_key_pem, Secrecy::Private, overwrite)?;
        files::write(&ca_cert, &pem.certificate_pem, Secrecy::Public, overwrite)
    }

    /// Reads what [`TrustRoot::save`] wrote, checking that `root.vkey` belongs to
    /// `root.key` and that the CA key belongs to the CA certificate.
    pub fn load(dir: &Path) -> Result<TrustRoot, FederationError> {
        let [key_path, vkey_path, ca_key, ca_cert] = Self::files(dir);
        let signer =
            NoteSigner::from_private_key_str(&files::read_line(&key_path)?).map_err(|source| {
                FederationError::Key {
                    what: "roster signing key (PRIVATE+KEY+<federation>-root+…)",
                    path: key_path.clone(),
                    source,
                }
            })?;
        let federation = federation_of_root_key(signer.name())
            .ok_or_else(|| FederationError::Inconsistent {
                path: key_path.clone(),
                reason: format!(
                    "the key is named {:?}; a trust root key is named <federation>-root",
                    signer.name().as_str()
                ),
            })?
            .to_owned();
        let vkey = read_vkey(&vkey_path, "roster verifier key")?;
        if vkey != signer.verifier_key() {
            return Err(FederationError::Inconsistent {
                path: vkey_path,
                reason: format!("it does not belong to {}", key_path.display()),
            });
        }
        let ca = FederationCa::load_pem(&ca_cert, &ca_key)?;
        Ok(TrustRoot {
            federation,
            signer,
            ca,
        })
    }
}

/// Reads a one-line private key file with `parse` (`NoteSigner::from_private_key_str` or
/// `CosignerKey::from_private_key_str`), naming the file and the key expected on failure.
pub(crate) fn read_private_key<T>(
    path: &Path,
    what: &'static str,
    parse: impl FnOnce(&str) -> Result<T, KeyError>,
) -> Result<T, FederationError> {
    parse(&files::read_line(path)?).map_err(|source| FederationError::Key {
        what,
        path: path.to_owned(),
        source,
    })
}

/// Reads a one-line vkey file.
pub(crate) fn read_vkey(path: &Path, what: &'static str) -> Result<VerifierKey, FederationError> {
    VerifierKey::from_str(&files::read_line(path)?).map_err(|source| FederationError::Key {
        what,
        path: path.to_owned(),
        source,
    })
}
