//! The relay's control socket: a Unix stream socket (`D/relay.sock`, in the testnet
//! directory) taking one JSON request line and answering one JSON line, then closing.
//!
//! ```text
//! → {"op":"status"}
//! → {"op":"change","edges":["440000.credx"],"change":{"change":"cut"}}
//! → {"op":"change","edges":["440100.credx"],"change":{"change":"delay","ms":50,"jitter_ms":20}}
//! ← {"ok":true,"error":null,"edges":[{"child":"440000.credx","parent":"cn.credx","fault":{...},...}]}
//! ```
//!
//! Edges are named by their child's origin. A change applies to every edge listed, or to
//! none when one is unknown; the answer lists every edge after the change.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::TestnetError;
use crate::relay::{Edge, EdgeStatus, FaultChange};

/// How long a client waits for the relay's answer.
const ANSWER_WITHIN: Duration = Duration::from_secs(5);
/// Longest request line the relay reads.
pub const MAX_REQUEST: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum ControlRequest {
    Status,
    Change {
        edges: Vec<String>,
        change: FaultChange,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlResponse {
    pub ok: bool,
    pub error: Option<String>,
    pub edges: Vec<EdgeStatus>,
}

/// The relay's answer to `request` (run by the relay process).
pub fn answer(edges: &[Arc<Edge>], request: &ControlRequest) -> ControlResponse {
    let mut error = None;
    if let ControlRequest::Change {
        edges: names,
        change,
    } = request
    {
        let unknown: Vec<&str> = names
            .iter()
            .filter(|n| !edges.iter().any(|e| &e.entry.child == *n))
            .map(String::as_str)
            .collect();
        if unknown.is_empty() {
            for edge in edges.iter().filter(|e| names.contains(&e.entry.child)) {
                edge.change(*change);
            }
        } else {
            error = Some(format!(
                "no edge with child {}; edges are named by their child's origin",
                unknown.join(", ")
            ));
        }
    }
    ControlResponse {
        ok: error.is_none(),
        error,
        edges: edges.iter().map(|e| e.status()).collect(),
    }
}

/// Sends `request` to the relay listening on `socket` and returns every edge's status.
pub fn request(socket: &Path, request: &ControlRequest) -> Result<Vec<EdgeStatus>, TestnetError> {
    let failed = |message: String| TestnetError::Relay {
        socket: socket.to_owned(),
        message,
    };
    let mut stream = UnixStream::connect(socket).map_err(|e| {
        failed(format!(
            "cannot connect ({e}); is the testnet up (`credx-testnet up`)?"
        ))
    })?;
    stream
        .set_read_timeout(Some(ANSWER_WITHIN))
        .and_then(|()| stream.set_write_timeout(Some(ANSWER_WITHIN)))
        .map_err(|e| failed(e.to_string()))?;
    let mut line = serde_json::to_string(request).map_err(|e| failed(e.to_string()))?;
    line.push('\n');
    stream
        .write_all(line.as_bytes())
        .map_err(|e| failed(format!("sending the request: {e}")))?;
    let mut answer = String::new();
    BufReader::new(stream.take(16 * 1024 * 1024))
        .read_line(&mut answer)
        .map_err(|e| failed(format!("reading the answer: {e}")))?;
    let response: ControlResponse = serde_json::from_str(&answer)
        .map_err(|e| failed(format!("malformed answer {answer:?}: {e}")))?;
    match response.error {
        Some(message) => Err(failed(message)),
        None => Ok(response.edges),
    }
}
