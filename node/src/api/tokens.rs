//! Department credentials: bearer tokens stored only as SHA-256 hashes, each scoped to the
//! authority codes (USCCs) it may submit for and the views it may read.
//!
//! A token is 32 random bytes shown once, at issue, as `credx_<64 hex>`; the node keeps
//! SHA-256 of that text. Looking a presented token up by its hash means the node never holds
//! a usable credential at rest, and the lookup reveals nothing useful about other tokens.
//! The token file is JSON (the daemon config names its path); it is written atomically
//! (temporary file, then rename) with owner-only permissions.

use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use credx_protocol::ident::Uscc;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::sync::context::now_ms;

/// Prefix of every token, so a leaked token is recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "credx_";
/// Version of the token file format this code reads and writes.
pub const TOKEN_FILE_VERSION: u32 = 1;
/// Longest department name: the bound of an entry's `submitted_by`, where it is written.
pub const MAX_DEPARTMENT_LEN: usize = 128;

/// Which view of a subject a token may read.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum View {
    /// 社会公开: personal ID numbers masked, records past their publication period hidden.
    Public,
    /// 政务共享: everything, for authorised departments.
    Shared,
}

impl View {
    pub fn as_str(self) -> &'static str {
        match self {
            View::Public => "public",
            View::Shared => "shared",
        }
    }
}

/// One issued token, as stored (never the token itself).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenEntry {
    /// Short public handle for audit and revocation (first 8 hex digits of the hash).
    pub id: String,
    /// The department the token belongs to; named as `submitted_by` in every entry it writes.
    pub department: String,
    /// Hex SHA-256 of the token text.
    pub token_sha256: String,
    /// Normalised USCCs of the authorities the department may submit for.
    pub authorities: BTreeSet<String>,
    /// Views the department may read.
    pub views: BTreeSet<View>,
    /// When the token was issued, Unix milliseconds.
    pub issued_at_ms: u64,
}

impl TokenEntry {
    pub fn may_submit_for(&self, authority: &str) -> bool {
        self.authorities.contains(authority.trim())
    }

    pub fn may_read(&self, view: View) -> bool {
        self.views.contains(&view)
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TokenFile {
    version: u32,
    tokens: Vec<TokenEntry>,
}

/// Why tokens could not be issued, loaded or saved.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("token file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("token file {path} is not valid JSON of the token format: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("token file {path} has format version {found}; this node reads version {supported}")]
    Version {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
    #[error("token {id:?}: field `{field}` {reason}")]
    InvalidEntry {
        id: String,
        field: &'static str,
        reason: String,
    },
    #[error("token {id:?} appears twice (same token hash); remove one of them")]
    Duplicate { id: String },
    #[error("the token store lock is poisoned")]
    Poisoned,
}

/// The department tokens this node accepts.
#[derive(Debug, Default)]
pub struct TokenStore {
    /// Hex SHA-256 of the token text → entry.
    by_hash: RwLock<HashMap<String, TokenEntry>>,
}

fn hash_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

impl TokenStore {
    /// An empty store (no department can submit; everyone reads the public view).
    pub fn new() -> TokenStore {
        TokenStore::default()
    }

    /// Issues a new token for `department`, scoped to `authorities` (USCCs, normalised here)
    /// and `views`. Returns the token text (show it once; it is not kept) and the stored entry.
    pub fn issue(
        &self,
        department: &str,
        authorities: impl IntoIterator<Item = impl AsRef<str>>,
        views: impl IntoIterator<Item = View>,
    ) -> Result<(String, TokenEntry), TokenError> {
        let mut secret = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut secret);
        let token = format!("{TOKEN_PREFIX}{}", hex::encode(secret));
        let token_sha256 = hash_hex(&token);
        let entry = TokenEntry {
            id: token_sha256.get(..8).unwrap_or_default().to_owned(),
            department: department.trim().to_owned(),
            token_sha256,
            authorities: authorities
                .into_iter()
                .map(|a| a.as_ref().trim().to_ascii_uppercase())
                .collect(),
            views: views.into_iter().collect(),
            issued_at_ms: now_ms(),
        };
        check_entry(&entry)?;
        let mut map = self.by_hash.write().map_err(|_| TokenError::Poisoned)?;
        map.insert(entry.token_sha256.clone(), entry.clone());
        Ok((token, entry))
    }

    /// The entry of a presented token, if the node knows it.
    pub fn authenticate(&self, presented: &str) -> Option<TokenEntry> {
        let presented = presented.trim();
        if !presented.starts_with(TOKEN_PREFIX) {
            return None;
        }
        let map = self.by_hash.read().ok()?;
        map.get(&hash_hex(presented)).cloned()
    }

    /// Removes the token with handle `id`; returns whether one was removed.
    pub fn revoke(&self, id: &str) -> Result<bool, TokenError> {
        let mut map = self.by_hash.write().map_err(|_| TokenError::Poisoned)?;
        let before = map.len();
        map.retain(|_, e| e.id != id);
        Ok(map.len() != before)
    }

    /// All entries, ordered by id.
    pub fn entries(&self) -> Result<Vec<TokenEntry>, TokenError> {
        let map = self.by_hash.read().map_err(|_| TokenError::Poisoned)?;
        let mut all: Vec<TokenEntry> = map.values().cloned().collect();
        all.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(all)
    }

    /// Loads a token file, checking every entry.
    pub fn load(path: &Path) -> Result<TokenStore, TokenError> {
        let bytes = std::fs::read(path).map_err(|source| TokenError::Io {
            path: path.to_owned(),
            source,
        })?;
        let file: TokenFile = serde_json::from_slice(&bytes).map_err(|e| TokenError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        if file.version != TOKEN_FILE_VERSION {
            return Err(TokenError::Version {
                path: path.to_owned(),
                found: file.version,
                supported: TOKEN_FILE_VERSION,
            });
        }
        let mut map = HashMap::with_capacity(file.tokens.len());
        for entry in file.tokens {
            check_entry(&entry)?;
            let id = entry.id.clone();
            if map.insert(entry.token_sha256.clone(), entry).is_some() {
                return Err(TokenError::Duplicate { id });
            }
        }
        Ok(TokenStore {
            by_hash: RwLock::new(map),
        })
    }

    /// Replaces every token with those of the file at `path`, all or nothing: a file that
    /// does not load (missing, malformed, an invalid entry) leaves the current tokens in
    /// force and says why. Returns how many tokens are now accepted.
    pub fn reload(&self, path: &Path) -> Result<usize, TokenError> {
        let fresh = TokenStore::load(path)?
            .by_hash
            .into_inner()
            .map_err(|_| TokenError::Poisoned)?;
        let count = fresh.len();
        *self.by_hash.write().map_err(|_| TokenError::Poisoned)? = fresh;
        Ok(count)
    }

    /// Writes the token file atomically (temporary file beside it, then rename), readable
    /// by the owner only.
    pub fn save(&self, path: &Path) -> Result<(), TokenError> {
        let file = TokenFile {
            version: TOKEN_FILE_VERSION,
            tokens: self.entries()?,
        };
        let json = serde_json::to_vec_pretty(&file).map_err(|e| TokenError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        let io = |source| TokenError::Io {
            path: path.to_owned(),
            source,
        };
        let tmp = path.with_extension("tmp");
        write_private(&tmp, &json).map_err(io)?;
        std::fs::rename(&tmp, path).map_err(io)
    }
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn check_entry(entry: &TokenEntry) -> Result<(), TokenError> {
    let invalid = |field: &'static str, reason: String| TokenError::InvalidEntry {
        id: entry.id.clone(),
        field,
        reason,
    };
    if entry.token_sha256.len() != 64
        || !entry
            .token_sha256
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        return Err(invalid(
            "token_sha256",
            "must be 64 lower-case hex digits".into(),
        ));
    }
    let max = MAX_DEPARTMENT_LEN;
    if entry.department.trim().is_empty() || entry.department.len() > max {
        return Err(invalid(
            "department",
            format!("must be 1 to {max} bytes (it is named in every entry the token writes)"),
        ));
    }
    for authority in &entry.authorities {
        if let Err(e) = Uscc::parse(authority) {
            return Err(invalid(
                "authorities",
                format!("{authority:?} is not a valid USCC: {e}"),
            ));
        }
    }
    Ok(())
}
