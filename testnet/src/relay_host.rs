//! The relay process, `credx-testnet relay --dir D` (started by `up`, stopped by `down`):
//! one [`crate::relay`] per edge of the manifest, and the control socket
//! ([`crate::relay_control`]) on which `credx-testnet chaos` sets faults.

use std::path::Path;
use std::sync::Arc;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};

use crate::error::TestnetError;
use crate::manifest::Manifest;
use crate::relay::{self, Edge};
use crate::relay_control::{answer, ControlRequest, ControlResponse, MAX_REQUEST};

/// Runs the relays of the testnet in `dir` until the process is stopped.
pub async fn run(dir: &Path) -> Result<(), TestnetError> {
    let manifest = Manifest::load(dir)?;
    let Some(relays) = manifest.relays else {
        return Err(TestnetError::NoRelays {
            dir: dir.to_owned(),
        });
    };
    let mut edges = Vec::new();
    for entry in relays.edges {
        let edge = Arc::new(Edge::new(entry));
        let socket = relay::bind(&edge).await.map_err(TestnetError::RelayStart)?;
        tokio::spawn(relay::serve(Arc::clone(&edge), socket));
        edges.push(edge);
    }
    // A socket file left by a relay that was killed would make bind fail.
    match std::fs::remove_file(&relays.control) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(source) => {
            return Err(TestnetError::Io {
                path: relays.control.clone(),
                source,
            })
        }
    }
    let listener =
        UnixListener::bind(&relays.control).map_err(TestnetError::io(&relays.control))?;
    println!(
        "relay: {} edges, control socket {}",
        edges.len(),
        relays.control.display()
    );
    for edge in &edges {
        println!(
            "relay: {} → {}: {} → {}",
            edge.entry.child, edge.entry.parent, edge.entry.listen, edge.entry.upstream
        );
    }
    let edges: Arc<[Arc<Edge>]> = edges.into();
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let edges = Arc::clone(&edges);
        tokio::spawn(async move { control(stream, &edges).await });
    }
}

/// One control connection: one request line, one answer line.
async fn control(stream: UnixStream, edges: &[Arc<Edge>]) {
    let (read, mut write) = stream.into_split();
    let mut line = String::new();
    let read = BufReader::new(read.take(MAX_REQUEST))
        .read_line(&mut line)
        .await;
    let response = match read.map(|_| serde_json::from_str::<ControlRequest>(&line)) {
        Ok(Ok(request)) => {
            let response = answer(edges, &request);
            if let (ControlRequest::Change { edges, change }, true) = (&request, response.ok) {
                println!("relay: {} ← {change:?}", edges.join(", "));
            }
            response
        }
        Ok(Err(e)) => refused(format!("malformed request: {e}")),
        Err(e) => refused(format!("reading the request: {e}")),
    };
    let mut text = serde_json::to_string(&response).unwrap_or_else(|e| {
        format!("{{\"ok\":false,\"error\":\"cannot encode the answer: {e}\",\"edges\":[]}}")
    });
    text.push('\n');
    let _ = write.write_all(text.as_bytes()).await;
}

fn refused(message: String) -> ControlResponse {
    ControlResponse {
        ok: false,
        error: Some(message),
        edges: Vec::new(),
    }
}
