//! Key names, key ids, verifier keys (vkeys) and the two Ed25519 signing keys a node holds:
//! its log key ([`NoteSigner`], type 0x01) and its cosigner key ([`CosignerKey`], type 0x04).

use std::fmt;
use std::str::FromStr;

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use rand::CryptoRng;
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::error::KeyError;
use super::limits::MAX_KEY_NAME_LEN;

/// A signed-note key name: non-empty, at most [`MAX_KEY_NAME_LEN`] bytes, no Unicode
/// whitespace, no `+`.
///
/// We additionally reject control characters: a name is written into signature lines, and
/// a note containing a control character other than newline is malformed, so such a name
/// could only ever produce notes nobody can parse.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KeyName(String);

impl KeyName {
    pub fn new(name: impl Into<String>) -> Result<KeyName, KeyError> {
        let name = name.into();
        Self::validate(&name)?;
        Ok(KeyName(name))
    }

    fn validate(name: &str) -> Result<(), KeyError> {
        if name.is_empty() {
            return Err(KeyError::EmptyName);
        }
        if name.len() > MAX_KEY_NAME_LEN {
            return Err(KeyError::NameTooLong {
                len: name.len(),
                max: MAX_KEY_NAME_LEN,
            });
        }
        for (offset, c) in name.char_indices() {
            if c.is_whitespace() {
                return Err(KeyError::NameHasWhitespace { offset });
            }
            if c == '+' {
                return Err(KeyError::NameHasPlus { offset });
            }
            if c.is_control() {
                return Err(KeyError::NameHasControl { offset });
            }
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Debug for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for KeyName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for KeyName {
    type Err = KeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        KeyName::new(s)
    }
}

impl AsRef<str> for KeyName {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<str> for KeyName {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

/// Signature type byte. Only the two types credx uses are supported; any other byte in a
/// vkey is rejected rather than carried along unverifiable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum KeyType {
    /// Plain Ed25519 note signature (signed-note §Ed25519): log keys.
    Ed25519 = 0x01,
    /// Timestamped Ed25519 cosignature (tlog-cosignature, `cosignature/v1`): witnesses.
    CosignatureV1 = 0x04,
}

impl KeyType {
    pub fn from_byte(byte: u8) -> Option<KeyType> {
        match byte {
            0x01 => Some(KeyType::Ed25519),
            0x04 => Some(KeyType::CosignatureV1),
            _ => None,
        }
    }

    pub fn as_byte(self) -> u8 {
        self as u8
    }
}

/// The RECOMMENDED (and, for cosignatures, REQUIRED) key id:
/// `SHA-256(name || 0x0A || type || public key)[:4]`, big-endian.
pub fn key_id(name: &KeyName, key_type: KeyType, public_key: &[u8; 32]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_str().as_bytes());
    h.update([b'\n', key_type.as_byte()]);
    h.update(public_key);
    let d = h.finalize();
    u32::from_be_bytes([d[0], d[1], d[2], d[3]])
}

/// Parses exactly 8 lowercase hex digits, the form every implementation writes (`%08x`).
/// Uppercase is refused so that a vkey has exactly one spelling.
fn parse_key_id_hex(s: &str) -> Result<u32, KeyError> {
    let ok = s.len() == 8
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !ok {
        return Err(KeyError::BadKeyIdHex {
            found: s.chars().take(16).collect(),
        });
    }
    u32::from_str_radix(s, 16).map_err(|_| KeyError::BadKeyIdHex {
        found: s.to_owned(),
    })
}

/// Decodes `base64(type || 32-byte key)`.
fn decode_key_material(b64: &str) -> Result<(u8, [u8; 32]), KeyError> {
    let raw = BASE64.decode(b64).map_err(|_| KeyError::NotBase64)?;
    let (&type_byte, key) = raw.split_first().ok_or(KeyError::EmptyKeyMaterial)?;
    let key: [u8; 32] = key
        .try_into()
        .map_err(|_| KeyError::WrongKeyLength { len: key.len() })?;
    Ok((type_byte, key))
}

/// A verifier key: `<name>+<8 hex key id>+<base64(type || Ed25519 public key)>`.
///
/// Parsing checks that the stated key id is the one the name, type and key derive, that
/// the point is valid Ed25519, and that it is not of small order (a weak key lets anyone
/// forge signatures for some messages).
#[derive(Clone, PartialEq, Eq)]
pub struct VerifierKey {
    name: KeyName,
    key_id: u32,
    key_type: KeyType,
    public_key: VerifyingKey,
}

impl VerifierKey {
    /// Builds a vkey from its parts; the key id is computed, never supplied.
    pub fn new(
        name: KeyName,
        key_type: KeyType,
        public_key: VerifyingKey,
    ) -> Result<Self, KeyError> {
        if public_key.is_weak() {
            return Err(KeyError::WeakPublicKey);
        }
        let key_id = key_id(&name, key_type, public_key.as_bytes());
        Ok(VerifierKey {
            name,
            key_id,
            key_type,
            public_key,
        })
    }

    pub fn name(&self) -> &KeyName {
        &self.name
    }

    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    pub fn key_type(&self) -> KeyType {
        self.key_type
    }

    pub fn public_key(&self) -> &VerifyingKey {
        &self.public_key
    }

    /// True when both vkeys wrap the same Ed25519 key, whatever their names and types
    /// (tlog-policy's definition of a duplicate).
    pub fn same_public_key(&self, other: &VerifierKey) -> bool {
        self.public_key == other.public_key
    }

    /// Verifies a raw Ed25519 signature over `msg`. Strict verification: rejects
    /// non-canonical S and small-order R, so a signature has one valid encoding.
    pub(crate) fn verify_raw(&self, msg: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        self.public_key.verify_strict(msg, &sig).is_ok()
    }
}

impl FromStr for VerifierKey {
    type Err = KeyError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        // The name cannot contain '+', so the first two '+' delimit it and the id; the
        // base64 key material may itself contain '+'.
        let (name, rest) = s
            .split_once('+')
            .ok_or(KeyError::MissingField { field: "key id" })?;
        let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::MissingField {
            field: "key material",
        })?;
        let name = KeyName::new(name)?;
        let stated = parse_key_id_hex(id_hex)?;
        let (type_byte, key) = decode_key_material(b64)?;
        let key_type =
            KeyType::from_byte(type_byte).ok_or(KeyError::UnsupportedKeyType(type_byte))?;
        let public_key = VerifyingKey::from_bytes(&key).map_err(|_| KeyError::InvalidPublicKey)?;
        let vkey = VerifierKey::new(name, key_type, public_key)?;
        if vkey.key_id != stated {
            return Err(KeyError::KeyIdMismatch {
                stated,
                computed: vkey.key_id,
            });
        }
        Ok(vkey)
    }
}

impl fmt::Display for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut material = Vec::with_capacity(33);
        material.push(self.key_type.as_byte());
        material.extend_from_slice(self.public_key.as_bytes());
        write!(
            f,
            "{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(material)
        )
    }
}

impl fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifierKey({self})")
    }
}

/// The shared body of [`NoteSigner`] and [`CosignerKey`]: a name, an Ed25519 secret and the
/// key type that fixes both the key id and how signatures are produced.
#[derive(Clone)]
struct Ed25519Secret {
    name: KeyName,
    key_type: KeyType,
    key_id: u32,
    signing_key: SigningKey,
}

impl Ed25519Secret {
    fn new(name: KeyName, key_type: KeyType, signing_key: SigningKey) -> Self {
        let key_id = key_id(&name, key_type, signing_key.verifying_key().as_bytes());
        Ed25519Secret {
            name,
            key_type,
            key_id,
            signing_key,
        }
    }

    fn generate<R: RngCore + CryptoRng + ?Sized>(
        name: KeyName,
        key_type: KeyType,
        rng: &mut R,
    ) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let secret = Self::new(name, key_type, SigningKey::from_bytes(&seed));
        seed.fill(0);
        secret
    }

    /// Parses the Go `sumdb/note` private key form `PRIVATE+KEY+<name>+<hexid>+<base64(type||seed)>`.
    fn from_private_key_str(s: &str, key_type: KeyType) -> Result<Self, KeyError> {
        let rest = s
            .strip_prefix("PRIVATE+KEY+")
            .ok_or(KeyError::NotPrivateKey)?;
        let (name, rest) = rest
            .split_once('+')
            .ok_or(KeyError::MissingField { field: "key id" })?;
        let (id_hex, b64) = rest.split_once('+').ok_or(KeyError::MissingField {
            field: "key material",
        })?;
        let name = KeyName::new(name)?;
        let stated = parse_key_id_hex(id_hex)?;
        let (type_byte, mut seed) = decode_key_material(b64)?;
        let found = KeyType::from_byte(type_byte).ok_or(KeyError::UnsupportedKeyType(type_byte))?;
        if found != key_type {
            seed.fill(0);
            return Err(KeyError::WrongKeyType {
                expected: key_type,
                found,
            });
        }
        let secret = Self::new(name, key_type, SigningKey::from_bytes(&seed));
        seed.fill(0);
        if secret.key_id != stated {
            return Err(KeyError::KeyIdMismatch {
                stated,
                computed: secret.key_id,
            });
        }
        Ok(secret)
    }

    fn to_private_key_str(&self) -> String {
        let mut material = Vec::with_capacity(33);
        material.push(self.key_type.as_byte());
        material.extend_from_slice(self.signing_key.as_bytes());
        let s = format!(
            "PRIVATE+KEY+{}+{:08x}+{}",
            self.name,
            self.key_id,
            BASE64.encode(&material)
        );
        material.fill(0);
        s
    }

    fn verifier_key(&self) -> VerifierKey {
        VerifierKey {
            name: self.name.clone(),
            key_id: self.key_id,
            key_type: self.key_type,
            public_key: self.signing_key.verifying_key(),
        }
    }

    fn sign(&self, msg: &[u8]) -> [u8; 64] {
        self.signing_key.sign(msg).to_bytes()
    }

    /// Debug output that shows the public identity only; the seed never reaches logs.
    fn fmt_redacted(&self, f: &mut fmt::Formatter<'_>, ty: &str) -> fmt::Result {
        f.debug_struct(ty)
            .field("vkey", &self.verifier_key().to_string())
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// A log's Ed25519 signing key (signature type 0x01): signs checkpoints and other notes.
#[derive(Clone)]
pub struct NoteSigner(Ed25519Secret);

impl NoteSigner {
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(name: KeyName, rng: &mut R) -> NoteSigner {
        NoteSigner(Ed25519Secret::generate(name, KeyType::Ed25519, rng))
    }

    pub fn from_signing_key(name: KeyName, signing_key: SigningKey) -> NoteSigner {
        NoteSigner(Ed25519Secret::new(name, KeyType::Ed25519, signing_key))
    }

    /// Parses `PRIVATE+KEY+<name>+<hexid>+<base64(0x01||seed)>` (Go `sumdb/note`,
    /// `signed_note::StandardSigner`), checking the key id.
    pub fn from_private_key_str(s: &str) -> Result<NoteSigner, KeyError> {
        Ed25519Secret::from_private_key_str(s, KeyType::Ed25519).map(NoteSigner)
    }

    /// The secret in `PRIVATE+KEY+…` form. The caller owns the secrecy of the result.
    pub fn to_private_key_str(&self) -> String {
        self.0.to_private_key_str()
    }

    pub fn verifier_key(&self) -> VerifierKey {
        self.0.verifier_key()
    }

    pub fn name(&self) -> &KeyName {
        &self.0.name
    }

    pub fn key_id(&self) -> u32 {
        self.0.key_id
    }

    /// A raw Ed25519 signature over `msg` (no key id prefix).
    pub fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg)
    }
}

impl fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f, "NoteSigner")
    }
}

/// A cosigner's (witness's) Ed25519 key for `cosignature/v1` (signature type 0x04).
///
/// tlog-cosignature: the signed message does not commit to the cosigner name, so one
/// Ed25519 key MUST NOT be shared between cosigners — keep this separate from the node's
/// [`NoteSigner`] log key.
#[derive(Clone)]
pub struct CosignerKey(Ed25519Secret);

impl CosignerKey {
    pub fn generate<R: RngCore + CryptoRng + ?Sized>(name: KeyName, rng: &mut R) -> CosignerKey {
        CosignerKey(Ed25519Secret::generate(name, KeyType::CosignatureV1, rng))
    }

    pub fn from_signing_key(name: KeyName, signing_key: SigningKey) -> CosignerKey {
        CosignerKey(Ed25519Secret::new(
            name,
            KeyType::CosignatureV1,
            signing_key,
        ))
    }

    /// Parses `PRIVATE+KEY+<name>+<hexid>+<base64(0x04||seed)>`: the Go private-key form
    /// with the cosignature type byte (no spec defines a cosigner private-key string).
    pub fn from_private_key_str(s: &str) -> Result<CosignerKey, KeyError> {
        Ed25519Secret::from_private_key_str(s, KeyType::CosignatureV1).map(CosignerKey)
    }

    pub fn to_private_key_str(&self) -> String {
        self.0.to_private_key_str()
    }

    pub fn verifier_key(&self) -> VerifierKey {
        self.0.verifier_key()
    }

    pub fn name(&self) -> &KeyName {
        &self.0.name
    }

    pub fn key_id(&self) -> u32 {
        self.0.key_id
    }

    pub(crate) fn sign_raw(&self, msg: &[u8]) -> [u8; 64] {
        self.0.sign(msg)
    }
}

impl fmt::Debug for CosignerKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt_redacted(f, "CosignerKey")
    }
}
