//! The node's HTTP API as the command line uses it: blocking requests, JSON in and out.
//!
//! The department API is plain HTTP (decision 0012); a node exposed beyond its host sits
//! behind a TLS-terminating proxy, and an `https://` URL then needs a build of credx with a
//! TLS client, which this one deliberately leaves out. Request-level refusals carry the
//! node's stable `error` code and its message, which already says what to do.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::failure::error_chain;

/// How long one request may take: a 10,000-record batch is answered once it is durable and
/// checkpointed, which takes seconds, not minutes.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);

/// A node's HTTP API.
#[derive(Debug)]
pub struct NodeClient {
    base: String,
    token: Option<String>,
    http: reqwest::blocking::Client,
}

/// Why a request to the node failed.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    #[error("--node {url:?}: {reason}; give the node's HTTP address (its listen_http), e.g. http://127.0.0.1:8080")]
    BadUrl { url: String, reason: String },
    #[error("cannot read the token file {path}: {source}; give --token-file with the file holding the department token (credx_…) the node operator issued")]
    TokenFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("the token file {path} does not hold a credx token (credx_ followed by 64 hex digits); ask the node operator for the department token")]
    BadToken { path: PathBuf },
    #[error("cannot reach the node at {url}: {reason}; check --node (the node's listen_http) and that credx-node is running there")]
    Unreachable { url: String, reason: String },
    #[error("the node refused {what} (HTTP {status}, {code}): {message}")]
    Refused {
        what: String,
        status: u16,
        code: String,
        message: String,
    },
    #[error("the node's answer to {what} is not what this credx expects ({reason}); check that --node is a credx node of the same version")]
    BadAnswer { what: String, reason: String },
}

impl NodeError {
    /// Whether trying again later may succeed (node unreachable, or busy: 503).
    pub fn is_transient(&self) -> bool {
        match self {
            NodeError::Unreachable { .. } => true,
            NodeError::Refused { status, .. } => *status == 503,
            _ => false,
        }
    }
}

/// The node's error body (`ErrorBody` of the department API).
#[derive(Debug, Deserialize)]
struct ErrorBody {
    error: String,
    message: String,
}

impl NodeClient {
    /// A client for the node at `url` (`http://host:port`, a trailing `/` is ignored).
    pub fn new(url: &str, token: Option<String>) -> Result<NodeClient, NodeError> {
        let bad = |reason: &str| NodeError::BadUrl {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let base = url.trim().trim_end_matches('/');
        let base = if base.contains("://") {
            base.to_owned()
        } else {
            format!("http://{base}")
        };
        if base.starts_with("https://") {
            return Err(bad("this credx speaks plain HTTP to the node (the department API is HTTP); use http://, or reach the node through a local port"));
        }
        if !base.starts_with("http://") || base.len() <= "http://".len() {
            return Err(bad("not an http:// URL"));
        }
        let http = reqwest::blocking::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .user_agent(concat!("credx/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(NodeClient { base, token, http })
    }

    /// The base URL requests go to.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// GET `path` and decode the JSON answer.
    pub fn get_json<T: DeserializeOwned>(&self, path: &str, what: &str) -> Result<T, NodeError> {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request, what)
    }

    /// POST `body` (JSON) to `path` and decode the JSON answer.
    pub fn post_json<T: DeserializeOwned>(
        &self,
        path: &str,
        body: Vec<u8>,
        what: &str,
    ) -> Result<T, NodeError> {
        let request = self
            .http
            .post(format!("{}{path}", self.base))
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .body(body);
        self.send(request, what)
    }

    fn send<T: DeserializeOwned>(
        &self,
        request: reqwest::blocking::RequestBuilder,
        what: &str,
    ) -> Result<T, NodeError> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().map_err(|e| NodeError::Unreachable {
            url: self.base.clone(),
            reason: error_chain(&e),
        })?;
        let status = response.status();
        let bytes = response.bytes().map_err(|e| NodeError::Unreachable {
            url: self.base.clone(),
            reason: error_chain(&e),
        })?;
        if !status.is_success() {
            let (code, message) = match serde_json::from_slice::<ErrorBody>(&bytes) {
                Ok(body) => (body.error, body.message),
                Err(_) => (
                    status
                        .canonical_reason()
                        .unwrap_or("error")
                        .to_ascii_lowercase(),
                    String::from_utf8_lossy(&bytes).chars().take(300).collect(),
                ),
            };
            let message = if status.as_u16() == 404 && code == "not found" {
                format!(
                    "{} has no such endpoint; is the node older than this credx?",
                    self.base
                )
            } else {
                message
            };
            return Err(NodeError::Refused {
                what: what.to_owned(),
                status: status.as_u16(),
                code,
                message,
            });
        }
        serde_json::from_slice(&bytes).map_err(|e| NodeError::BadAnswer {
            what: what.to_owned(),
            reason: e.to_string(),
        })
    }
}

/// Reads a department token from `path` (surrounding white space ignored).
pub fn read_token_file(path: &Path) -> Result<String, NodeError> {
    let text = std::fs::read_to_string(path).map_err(|source| NodeError::TokenFile {
        path: path.to_owned(),
        source,
    })?;
    let token = text.trim();
    let well_formed = token
        .strip_prefix("credx_")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !well_formed {
        return Err(NodeError::BadToken {
            path: path.to_owned(),
        });
    }
    Ok(token.to_owned())
}
