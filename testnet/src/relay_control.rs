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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::manifest::EdgeEntry;

    fn edges() -> Vec<Arc<Edge>> {
        ["440000.credx", "440100.credx"]
            .iter()
            .map(|child| {
                Arc::new(Edge::new(EdgeEntry {
                    child: (*child).to_owned(),
                    parent: "p.credx".to_owned(),
                    listen: "127.0.0.1:1".parse().unwrap(),
                    upstream: "127.0.0.1:2".parse().unwrap(),
                }))
            })
            .collect()
    }

    #[test]
    fn the_documented_requests_parse_and_apply() {
        let edges = edges();
        let cut: ControlRequest = serde_json::from_str(
            r#"{"op":"change","edges":["440000.credx"],"change":{"change":"cut"}}"#,
        )
        .unwrap();
        let answer_cut = answer(&edges, &cut);
        assert!(answer_cut.ok);
        assert!(answer_cut.edges[0].fault.cut && !answer_cut.edges[1].fault.cut);
        let delay: ControlRequest = serde_json::from_str(
            r#"{"op":"change","edges":["440100.credx"],"change":{"change":"delay","ms":50,"jitter_ms":20}}"#,
        )
        .unwrap();
        let answered = answer(&edges, &delay);
        assert_eq!(
            (
                answered.edges[1].fault.delay_ms,
                answered.edges[1].fault.jitter_ms
            ),
            (50, 20)
        );
        let status: ControlRequest = serde_json::from_str(r#"{"op":"status"}"#).unwrap();
        assert_eq!(answer(&edges, &status).edges.len(), 2);
    }

    #[test]
    fn an_unknown_edge_changes_nothing() {
        let edges = edges();
        let request = ControlRequest::Change {
            edges: vec!["440000.credx".to_owned(), "nowhere".to_owned()],
            change: FaultChange::Cut,
        };
        let answered = answer(&edges, &request);
        assert!(!answered.ok);
        assert!(answered.error.unwrap().contains("nowhere"));
        assert!(answered.edges.iter().all(|e| e.fault.is_clear()));
    }
}
