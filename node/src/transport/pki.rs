//! Federation PKI material: the federation CA, node TLS identities, and the trust anchors a
//! node verifies its peers against.
//!
//! Algorithm: **ECDSA P-256 with SHA-256** for the CA and every node key. rustls' ring
//! provider and webpki verify it for TLS 1.3 server *and* client authentication (Ed25519
//! would work there too), but P-256 is also what HSMs, PKCS#11 tokens and the usual
//! operator tooling (OpenSSL, Java keystores) handle everywhere, so the federation CA key can
//! later move into an HSM and a certificate can be inspected or re-issued with stock tools.
//! Ed25519 stays the algorithm of checkpoints and cosignatures; TLS keys are a separate,
//! transport-only concern.
//!
//! A node certificate carries the node's origin (e.g. `420281.credx`) as its only DNS
//! subjectAltName, and both the serverAuth and clientAuth extended key usages: a city node
//! is a server to its counties and a client of its province with the same identity.

use std::fs;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, PublicKeyData, SerialNumber, PKCS_ECDSA_P256_SHA256,
};
use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use super::error::PkiError;

/// Default lifetime of a federation CA certificate.
pub const CA_LIFETIME: Duration = Duration::from_secs(10 * 365 * 24 * 3600);

/// Certificates start this long before "now" so a peer whose clock is slightly behind does
/// not reject a freshly issued certificate as not yet valid.
pub const CLOCK_SKEW_ALLOWANCE: Duration = Duration::from_secs(5 * 60);

/// Longest accepted origin, the DNS limit.
const MAX_ORIGIN_LEN: usize = 253;

/// When a certificate is valid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Validity {
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
}

impl Validity {
    /// Valid from now (minus [`CLOCK_SKEW_ALLOWANCE`]) for `lifetime`.
    pub fn from_now(lifetime: Duration) -> Self {
        let now = OffsetDateTime::now_utc();
        let skew = time::Duration::try_from(CLOCK_SKEW_ALLOWANCE).unwrap_or(time::Duration::ZERO);
        let lifetime = time::Duration::try_from(lifetime).unwrap_or(time::Duration::MAX);
        Self {
            not_before: now.checked_sub(skew).unwrap_or(now),
            // X.509 GeneralizedTime ends at year 9999.
            not_after: now
                .checked_add(lifetime)
                .unwrap_or_else(|| rcgen::date_time_ymd(9999, 12, 31))
                .min(rcgen::date_time_ymd(9999, 12, 31)),
        }
    }

    fn check(&self, subject: &str) -> Result<(), PkiError> {
        if self.not_after <= self.not_before {
            return Err(PkiError::EmptyValidity {
                subject: subject.to_owned(),
            });
        }
        Ok(())
    }
}

/// PEM text of a certificate and its private key.
#[derive(Clone, PartialEq, Eq)]
pub struct PemPair {
    pub certificate_pem: String,
    pub private_key_pem: String,
}

impl PemPair {
    /// Writes the certificate and the key (the key file readable by its owner only).
    pub fn save(&self, certificate_path: &Path, private_key_path: &Path) -> Result<(), PkiError> {
        write_file(certificate_path, &self.certificate_pem, false)?;
        write_file(private_key_path, &self.private_key_pem, true)
    }

    /// Reads what [`PemPair::save`] wrote.
    pub fn load(certificate_path: &Path, private_key_path: &Path) -> Result<PemPair, PkiError> {
        Ok(PemPair {
            certificate_pem: read_file(certificate_path)?,
            private_key_pem: read_file(private_key_path)?,
        })
    }

    /// How errors name a certificate/key file pair.
    fn location(certificate_path: &Path, private_key_path: &Path) -> String {
        format!(
            "{} and {}",
            certificate_path.display(),
            private_key_path.display()
        )
    }
}

impl std::fmt::Debug for PemPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PemPair")
            .field("certificate_pem", &self.certificate_pem)
            .field("private_key_pem", &"<redacted>")
            .finish()
    }
}

/// The federation certificate authority: issues every node's TLS certificate.
pub struct FederationCa {
    name: String,
    issuer: Issuer<'static, KeyPair>,
    cert_der: CertificateDer<'static>,
}

impl std::fmt::Debug for FederationCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationCa")
            .field("name", &self.name)
            .field("fingerprint", &hex_fingerprint(&self.cert_der))
            .finish_non_exhaustive()
    }
}

impl FederationCa {
    /// A new CA with a fresh P-256 key, valid for [`CA_LIFETIME`].
    pub fn generate(name: &str) -> Result<Self, PkiError> {
        Self::generate_with_validity(name, Validity::from_now(CA_LIFETIME))
    }

    /// A new CA with a fresh P-256 key and the given validity.
    pub fn generate_with_validity(name: &str, validity: Validity) -> Result<Self, PkiError> {
        validity.check(name)?;
        let gen_err = |what| {
            move |source| PkiError::Generate {
                what,
                subject: name.to_owned(),
                source,
            }
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(gen_err("CA key"))?;
        let mut params = CertificateParams::default();
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, name);
        params
            .distinguished_name
            .push(DnType::OrganizationName, "credx federation");
        // Path length 0: this CA signs node certificates only, never another CA.
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.serial_number = Some(random_serial());
        let cert = params
            .self_signed(&key)
            .map_err(gen_err("CA certificate"))?;
        Ok(Self {
            name: name.to_owned(),
            cert_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    /// The CA's common name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The CA certificate, as distributed in the roster.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// The trust anchors to verify this CA's nodes with.
    pub fn roots(&self) -> Result<FederationRoots, PkiError> {
        FederationRoots::from_der([self.cert_der.clone()])
    }

    /// The certificate and the private key (PKCS#8) as PEM.
    pub fn to_pem(&self) -> PemPair {
        PemPair {
            certificate_pem: pem_encode("CERTIFICATE", &self.cert_der),
            private_key_pem: self.issuer.key().serialize_pem(),
        }
    }

    /// Loads a CA from its certificate and private key PEM; the key must belong to the
    /// certificate, and the certificate must be a CA.
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, PkiError> {
        Self::parse_pem(certificate_pem, private_key_pem, "the given PEM text")
    }

    fn parse_pem(
        certificate_pem: &str,
        private_key_pem: &str,
        location: &str,
    ) -> Result<Self, PkiError> {
        let material = |what: &'static str, reason: String| PkiError::Material {
            what,
            location: location.to_owned(),
            reason,
        };
        let cert_der = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
            .map_err(|e| material("federation CA certificate", e.to_string()))?;
        let key = KeyPair::from_pem(private_key_pem)
            .map_err(|e| material("federation CA private key", e.to_string()))?;
        let (_, x509) = x509_parser::parse_x509_certificate(&cert_der)
            .map_err(|e| material("federation CA certificate", e.to_string()))?;
        if !x509.is_ca() {
            return Err(material(
                "federation CA certificate",
                "it is not a CA certificate (basicConstraints cA is not set)".to_owned(),
            ));
        }
        if x509.public_key().raw != key.subject_public_key_info().as_slice() {
            return Err(material(
                "federation CA private key",
                "it does not belong to the CA certificate".to_owned(),
            ));
        }
        let name = x509
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .unwrap_or_default()
            .to_owned();
        let issuer = Issuer::from_ca_cert_der(&cert_der, key)
            .map_err(|e| material("federation CA certificate", e.to_string()))?;
        Ok(Self {
            name,
            issuer,
            cert_der: cert_der.into_owned(),
        })
    }

    /// Writes the certificate and the key (the key file readable by its owner only).
    pub fn save_pem(
        &self,
        certificate_path: &Path,
        private_key_path: &Path,
    ) -> Result<(), PkiError> {
        self.to_pem().save(certificate_path, private_key_path)
    }

    /// Reads what [`FederationCa::save_pem`] wrote.
    pub fn load_pem(certificate_path: &Path, private_key_path: &Path) -> Result<Self, PkiError> {
        let pem = PemPair::load(certificate_path, private_key_path)?;
        Self::parse_pem(
            &pem.certificate_pem,
            &pem.private_key_pem,
            &PemPair::location(certificate_path, private_key_path),
        )
    }

    /// Issues a node's TLS identity: a fresh P-256 key and a certificate naming `origin` as
    /// its only DNS subjectAltName, usable as TLS server and client.
    pub fn issue_node_certificate(
        &self,
        origin: &str,
        validity: Validity,
    ) -> Result<NodeTlsIdentity, PkiError> {
        validate_origin(origin)?;
        validity.check(origin)?;
        let gen_err = |what| {
            move |source| PkiError::Generate {
                what,
                subject: origin.to_owned(),
                source,
            }
        };
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(gen_err("node key"))?;
        let mut params =
            CertificateParams::new(vec![origin.to_owned()]).map_err(gen_err("node certificate"))?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, origin);
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        params.not_before = validity.not_before;
        params.not_after = validity.not_after;
        params.serial_number = Some(random_serial());
        let cert = params
            .signed_by(&key, &self.issuer)
            .map_err(gen_err("node certificate"))?;
        Ok(NodeTlsIdentity {
            origin: origin.to_owned(),
            cert_chain_der: vec![cert.der().clone()],
            private_key_der: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
        })
    }
}

/// A node's TLS identity: its certificate chain (leaf first) and private key.
pub struct NodeTlsIdentity {
    /// The origin the leaf certificate names.
    pub origin: String,
    pub cert_chain_der: Vec<CertificateDer<'static>>,
    pub private_key_der: PrivateKeyDer<'static>,
}

impl Clone for NodeTlsIdentity {
    fn clone(&self) -> Self {
        Self {
            origin: self.origin.clone(),
            cert_chain_der: self.cert_chain_der.clone(),
            private_key_der: self.private_key_der.clone_key(),
        }
    }
}

impl std::fmt::Debug for NodeTlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeTlsIdentity")
            .field("origin", &self.origin)
            .field("certificates", &self.cert_chain_der.len())
            .field(
                "fingerprint",
                &self.cert_chain_der.first().map(hex_fingerprint),
            )
            .finish_non_exhaustive()
    }
}

impl NodeTlsIdentity {
    /// SHA-256 of the leaf certificate's DER, as peers see it in `PeerIdentity`.
    pub fn fingerprint(&self) -> Option<[u8; 32]> {
        self.cert_chain_der.first().map(certificate_fingerprint)
    }

    /// The chain (leaf first) and the private key as PEM.
    pub fn to_pem(&self) -> PemPair {
        PemPair {
            certificate_pem: self
                .cert_chain_der
                .iter()
                .map(|c| pem_encode("CERTIFICATE", c))
                .collect(),
            private_key_pem: pem_encode("PRIVATE KEY", self.private_key_der.secret_der()),
        }
    }

    /// Parses a chain (leaf first) and key; the origin is read from the leaf certificate.
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<Self, PkiError> {
        Self::parse_pem(certificate_pem, private_key_pem, "the given PEM text")
    }

    fn parse_pem(
        certificate_pem: &str,
        private_key_pem: &str,
        location: &str,
    ) -> Result<Self, PkiError> {
        let material = |what: &'static str, reason: String| PkiError::Material {
            what,
            location: location.to_owned(),
            reason,
        };
        let chain = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| material("node certificate chain", e.to_string()))?;
        let leaf = chain.first().ok_or_else(|| {
            material(
                "node certificate chain",
                "it holds no certificate".to_owned(),
            )
        })?;
        let origin =
            certificate_origin(leaf).map_err(|reason| material("node certificate", reason))?;
        let key = PrivateKeyDer::from_pem_slice(private_key_pem.as_bytes())
            .map_err(|e| material("node private key", e.to_string()))?;
        Ok(Self {
            origin,
            cert_chain_der: chain,
            private_key_der: key,
        })
    }

    /// Writes the chain and the key (the key file readable by its owner only).
    pub fn save_pem(
        &self,
        certificate_path: &Path,
        private_key_path: &Path,
    ) -> Result<(), PkiError> {
        self.to_pem().save(certificate_path, private_key_path)
    }

    /// Reads what [`NodeTlsIdentity::save_pem`] wrote.
    pub fn load_pem(certificate_path: &Path, private_key_path: &Path) -> Result<Self, PkiError> {
        let pem = PemPair::load(certificate_path, private_key_path)?;
        Self::parse_pem(
            &pem.certificate_pem,
            &pem.private_key_pem,
            &PemPair::location(certificate_path, private_key_path),
        )
    }
}

/// The federation CA certificates a node trusts, and nothing else (no system roots). More
/// than one only while the CA is being rolled over.
#[derive(Clone, Debug)]
pub struct FederationRoots {
    store: Arc<RootCertStore>,
}

impl FederationRoots {
    /// Trust anchors from CA certificates in DER.
    pub fn from_der(
        certificates: impl IntoIterator<Item = CertificateDer<'static>>,
    ) -> Result<Self, PkiError> {
        let mut store = RootCertStore::empty();
        for (index, cert) in certificates.into_iter().enumerate() {
            store.add(cert).map_err(|e| PkiError::Material {
                what: "federation CA certificate",
                location: format!("trust anchor #{index}"),
                reason: e.to_string(),
            })?;
        }
        if store.is_empty() {
            return Err(PkiError::Material {
                what: "federation CA set",
                location: "the trust anchors given".to_owned(),
                reason: "it is empty; load the CA certificate from the signed roster".to_owned(),
            });
        }
        Ok(Self {
            store: Arc::new(store),
        })
    }

    /// Trust anchors from a PEM bundle of CA certificates.
    pub fn from_pem(pem: &str) -> Result<Self, PkiError> {
        Self::parse_pem(pem, "the given PEM text")
    }

    /// Trust anchors from a PEM file of CA certificates.
    pub fn load_pem(path: &Path) -> Result<Self, PkiError> {
        Self::parse_pem(&read_file(path)?, &path.display().to_string())
    }

    fn parse_pem(pem: &str, location: &str) -> Result<Self, PkiError> {
        let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| PkiError::Material {
                what: "federation CA certificates",
                location: location.to_owned(),
                reason: e.to_string(),
            })?;
        Self::from_der(certs)
    }

    pub(crate) fn root_store(&self) -> Arc<RootCertStore> {
        Arc::clone(&self.store)
    }
}

/// Checks that `origin` is a lower-case DNS name usable as a certificate's subjectAltName.
/// Lower case only because DNS matching ignores case while the roster compares origins
/// exactly: `420281.CREDX` must not pass as `420281.credx`.
pub fn validate_origin(origin: &str) -> Result<(), PkiError> {
    let invalid = |reason: &str| PkiError::InvalidOrigin {
        origin: origin.to_owned(),
        reason: reason.to_owned(),
    };
    if origin.is_empty() || origin.len() > MAX_ORIGIN_LEN {
        return Err(invalid("it must be 1 to 253 characters long"));
    }
    if !origin
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.')
    {
        return Err(invalid(
            "only lower-case letters, digits, '-' and '.' are allowed",
        ));
    }
    let labels: Vec<&str> = origin.split('.').collect();
    if labels.len() < 2 {
        return Err(invalid("it needs at least two labels, e.g. 420281.credx"));
    }
    for label in &labels {
        if label.is_empty() || label.len() > 63 {
            return Err(invalid("each label must be 1 to 63 characters long"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Err(invalid("a label may not start or end with '-'"));
        }
    }
    // webpki refuses reference names whose last label is numeric (they look like IPs).
    if labels
        .last()
        .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(invalid("the last label may not be all digits"));
    }
    rustls_pki_types::DnsName::try_from(origin)
        .map_err(|_| invalid("it is not a valid DNS name"))?;
    Ok(())
}

/// The origin a certificate names: its single DNS subjectAltName, which must be a valid
/// origin. Several names are refused, since the roster check needs one unambiguous identity.
pub fn certificate_origin(cert: &CertificateDer<'_>) -> Result<String, String> {
    let (_, x509) = x509_parser::parse_x509_certificate(cert)
        .map_err(|e| format!("the certificate cannot be parsed: {e}"))?;
    let san = x509
        .subject_alternative_name()
        .map_err(|e| format!("its subjectAltName extension is malformed: {e}"))?
        .ok_or_else(|| "it has no subjectAltName extension".to_owned())?;
    let mut names = san.value.general_names.iter().filter_map(|n| match n {
        x509_parser::extensions::GeneralName::DNSName(dns) => Some(*dns),
        _ => None,
    });
    let origin = names
        .next()
        .ok_or_else(|| "it has no DNS subjectAltName".to_owned())?;
    if names.next().is_some() {
        return Err("it has more than one DNS subjectAltName".to_owned());
    }
    validate_origin(origin).map_err(|e| e.to_string())?;
    Ok(origin.to_owned())
}

/// SHA-256 of a certificate's DER encoding.
pub fn certificate_fingerprint(cert: &CertificateDer<'_>) -> [u8; 32] {
    Sha256::digest(cert.as_ref()).into()
}

fn hex_fingerprint(cert: &CertificateDer<'_>) -> String {
    certificate_fingerprint(cert)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A random positive 128-bit serial: unique per certificate, as RFC 5280 asks, even when
/// the same subject is re-issued.
fn random_serial() -> SerialNumber {
    let mut bytes: [u8; 16] = rand::random();
    // Positive and without a leading zero byte, so the DER INTEGER is minimal as written.
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    SerialNumber::from_slice(&bytes)
}

fn pem_encode(tag: &str, der: &[u8]) -> String {
    pem::encode(&pem::Pem::new(tag, der.to_vec()))
}

fn read_file(path: &Path) -> Result<String, PkiError> {
    fs::read_to_string(path).map_err(|source| PkiError::Io {
        action: "read",
        path: path.to_owned(),
        source,
    })
}

/// Writes through a temporary file and a rename, so a crash never leaves half a key; private
/// keys are created with mode 0600.
fn write_file(path: &Path, contents: &str, private: bool) -> Result<(), PkiError> {
    let io_err = |action| {
        move |source| PkiError::Io {
            action,
            path: path.to_owned(),
            source,
        }
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(".tmp");
    let tmp = Path::new(&tmp_name);
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let mut file = options.open(tmp).map_err(io_err("create"))?;
    file.write_all(contents.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io_err("write"))?;
    fs::rename(tmp, path).map_err(io_err("replace"))
}
