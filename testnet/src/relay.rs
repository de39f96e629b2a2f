//! The fault-injecting UDP relay of one tree edge: it sits between a child's QUIC client
//! and its parent's QUIC listener and forwards datagrams both ways, unless a [`Fault`] says
//! to drop or delay them.
//!
//! The relay never looks inside a datagram: TLS runs end to end between child and parent,
//! so the parent's identity is still verified by the child (and the child's by the
//! parent). Each client address the relay hears from gets its own upstream socket, so the
//! parent sees one stable peer per child connection, and a restarted child (new port) a
//! new one.
//!
//! With no fault set a datagram is sent on at once by the task that received it: one extra
//! `recv` and `send` per datagram, nothing queued. Delayed datagrams each get a timer task.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::net::UdpSocket;

use crate::manifest::EdgeEntry;

/// Largest datagram relayed (QUIC's are far smaller; a UDP datagram cannot be larger).
const MAX_DATAGRAM: usize = 65_535;
/// A session whose client and parent have both been silent this long is dropped (its
/// upstream socket closed). Longer than any QUIC idle timeout the nodes use.
const SESSION_IDLE: Duration = Duration::from_secs(120);
/// Pause after a socket error, so a persistent one does not spin a core.
const ERROR_PAUSE: Duration = Duration::from_millis(10);

/// What the relay does to an edge's datagrams, in both directions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// Drop every datagram (a partition).
    #[serde(default)]
    pub cut: bool,
    /// Fraction of datagrams dropped at random, 0.0–1.0.
    #[serde(default)]
    pub drop: f64,
    /// Fixed delay added to every datagram, in milliseconds.
    #[serde(default)]
    pub delay_ms: u64,
    /// Random extra delay, uniform in 0..=jitter_ms (so datagrams may be reordered).
    #[serde(default)]
    pub jitter_ms: u64,
}

impl Fault {
    /// No fault: every datagram forwarded at once.
    pub fn is_clear(&self) -> bool {
        *self == Fault::default()
    }

    fn verdict(&self) -> Verdict {
        if self.cut || (self.drop > 0.0 && rand::random::<f64>() < self.drop) {
            return Verdict::Drop;
        }
        if self.delay_ms == 0 && self.jitter_ms == 0 {
            return Verdict::Forward;
        }
        let jitter = if self.jitter_ms > 0 {
            rand::random::<u64>() % (self.jitter_ms + 1)
        } else {
            0
        };
        Verdict::Delay(Duration::from_millis(self.delay_ms.saturating_add(jitter)))
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.is_clear() {
            return f.write_str("none");
        }
        let mut parts = Vec::new();
        if self.cut {
            parts.push("cut".to_owned());
        }
        if self.drop > 0.0 {
            parts.push(format!("drop {:.0} %", self.drop * 100.0));
        }
        if self.delay_ms > 0 || self.jitter_ms > 0 {
            parts.push(format!(
                "delay {} ms ± {} ms",
                self.delay_ms, self.jitter_ms
            ));
        }
        f.write_str(&parts.join(", "))
    }
}

/// What happens to one datagram.
enum Verdict {
    Forward,
    Drop,
    Delay(Duration),
}

/// A change to an edge's fault, as the control socket receives it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum FaultChange {
    /// Drop everything (drop and delay settings stay; a heal clears all of them).
    Cut,
    /// Clear every fault.
    Heal,
    /// Drop this fraction (0.0–1.0) of the datagrams.
    Drop { fraction: f64 },
    /// Delay every datagram by `ms` plus a random 0..=`jitter_ms`.
    Delay { ms: u64, jitter_ms: u64 },
}

impl FaultChange {
    pub fn apply(self, fault: &mut Fault) {
        match self {
            FaultChange::Cut => fault.cut = true,
            FaultChange::Heal => *fault = Fault::default(),
            FaultChange::Drop { fraction } => fault.drop = fraction.clamp(0.0, 1.0),
            FaultChange::Delay { ms, jitter_ms } => {
                fault.delay_ms = ms;
                fault.jitter_ms = jitter_ms;
            }
        }
    }
}

/// One edge's relay state, shared by its tasks and the control socket.
#[derive(Debug)]
pub struct Edge {
    pub entry: EdgeEntry,
    fault: Mutex<Fault>,
    changed_unix_ms: AtomicU64,
    up: AtomicU64,
    down: AtomicU64,
    dropped: AtomicU64,
    delayed: AtomicU64,
    sessions: AtomicU64,
}

/// An edge as the control socket reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EdgeStatus {
    pub child: String,
    pub parent: String,
    pub listen: SocketAddr,
    pub upstream: SocketAddr,
    pub fault: Fault,
    /// When the fault last changed (0: never).
    pub changed_unix_ms: u64,
    /// Datagrams forwarded child → parent and parent → child.
    pub up: u64,
    pub down: u64,
    pub dropped: u64,
    pub delayed: u64,
    /// Client addresses seen (a restarted child counts again).
    pub sessions: u64,
}

impl Edge {
    pub fn new(entry: EdgeEntry) -> Edge {
        Edge {
            entry,
            fault: Mutex::new(Fault::default()),
            changed_unix_ms: AtomicU64::new(0),
            up: AtomicU64::new(0),
            down: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            delayed: AtomicU64::new(0),
            sessions: AtomicU64::new(0),
        }
    }

    pub fn fault(&self) -> Fault {
        self.fault.lock().map(|f| *f).unwrap_or_default()
    }

    pub fn change(&self, change: FaultChange) {
        if let Ok(mut fault) = self.fault.lock() {
            change.apply(&mut fault);
        }
        self.changed_unix_ms
            .store(crate::process::unix_ms(), Ordering::Relaxed);
    }

    pub fn status(&self) -> EdgeStatus {
        EdgeStatus {
            child: self.entry.child.clone(),
            parent: self.entry.parent.clone(),
            listen: self.entry.listen,
            upstream: self.entry.upstream,
            fault: self.fault(),
            changed_unix_ms: self.changed_unix_ms.load(Ordering::Relaxed),
            up: self.up.load(Ordering::Relaxed),
            down: self.down.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
            delayed: self.delayed.load(Ordering::Relaxed),
            sessions: self.sessions.load(Ordering::Relaxed),
        }
    }

    /// Sends `bytes` on `socket` (to `to`, or to its connected peer) as the fault says;
    /// `up` tells the direction, for the counters.
    async fn pass(
        self: &Arc<Self>,
        socket: &Arc<UdpSocket>,
        to: Option<SocketAddr>,
        bytes: &[u8],
        up: bool,
    ) {
        let counter = if up { &self.up } else { &self.down };
        match self.fault().verdict() {
            Verdict::Drop => {
                self.dropped.fetch_add(1, Ordering::Relaxed);
            }
            Verdict::Forward => {
                // A failing send loses the datagram, as a network would.
                let sent = match to {
                    Some(to) => socket.send_to(bytes, to).await,
                    None => socket.send(bytes).await,
                };
                if sent.is_ok() {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }
            Verdict::Delay(pause) => {
                self.delayed.fetch_add(1, Ordering::Relaxed);
                let socket = Arc::clone(socket);
                let bytes = bytes.to_vec();
                let edge = Arc::clone(self);
                tokio::spawn(async move {
                    tokio::time::sleep(pause).await;
                    let sent = match to {
                        Some(to) => socket.send_to(&bytes, to).await,
                        None => socket.send(&bytes).await,
                    };
                    if sent.is_ok() {
                        let counter = if up { &edge.up } else { &edge.down };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                });
            }
        }
    }
}

/// Why an edge's relay could not start.
#[derive(Debug, thiserror::Error)]
#[error("relay of edge {child} → {parent}: cannot {action} {address}: {source}")]
pub struct RelayError {
    pub child: String,
    pub parent: String,
    pub action: &'static str,
    pub address: SocketAddr,
    #[source]
    pub source: std::io::Error,
}

/// One client address and its upstream socket.
struct Session {
    upstream: Arc<UdpSocket>,
    last_heard_ms: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

/// Binds the edge's listening address; [`serve`] then relays on it.
pub async fn bind(edge: &Edge) -> Result<Arc<UdpSocket>, RelayError> {
    udp_bound(edge.entry.listen)
        .map(Arc::new)
        .map_err(|source| edge.error("bind", edge.entry.listen, source))
}

/// A UDP socket with the buffers the nodes give their own sockets
/// ([`credx_node::transport::udp_socket`]). With the kernel default (208 KiB) the relay's
/// sockets overflowed whenever the testnet saturated both cores (~10,000 datagrams dropped
/// per 30 s load at 5,000 records/s), and QUIC's loss recovery then lengthened the
/// propagation tail: the relay must add faults only when told to.
fn udp_bound(addr: SocketAddr) -> std::io::Result<UdpSocket> {
    let buffer = credx_node::transport::TransportLimits::default().socket_buffer_bytes;
    UdpSocket::from_std(credx_node::transport::udp_socket(addr, buffer)?)
}

impl Edge {
    fn error(
        &self,
        action: &'static str,
        address: SocketAddr,
        source: std::io::Error,
    ) -> RelayError {
        RelayError {
            child: self.entry.child.clone(),
            parent: self.entry.parent.clone(),
            action,
            address,
            source,
        }
    }
}

/// Relays datagrams arriving on `listen` (from the child) to the parent, and the parent's
/// answers back, for ever.
pub async fn serve(edge: Arc<Edge>, listen: Arc<UdpSocket>) {
    let mut sessions: HashMap<SocketAddr, Session> = HashMap::new();
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        let (len, client) = match listen.recv_from(&mut buf).await {
            Ok(received) => received,
            Err(_) => {
                tokio::time::sleep(ERROR_PAUSE).await;
                continue;
            }
        };
        let alive = sessions.get(&client).is_some_and(|s| !s.task.is_finished());
        if !alive {
            sessions.retain(|_, s| !s.task.is_finished());
            match open_session(&edge, &listen, client).await {
                Ok(session) => {
                    sessions.insert(client, session);
                }
                // No upstream socket: the datagram is lost, the next one tries again.
                Err(_) => continue,
            }
        }
        let Some(session) = sessions.get(&client) else {
            continue;
        };
        session
            .last_heard_ms
            .store(crate::process::unix_ms(), Ordering::Relaxed);
        let Some(bytes) = buf.get(..len) else {
            continue;
        };
        edge.pass(&session.upstream, None, bytes, true).await;
    }
}

async fn open_session(
    edge: &Arc<Edge>,
    listen: &Arc<UdpSocket>,
    client: SocketAddr,
) -> Result<Session, RelayError> {
    let parent = edge.entry.upstream;
    let any = SocketAddr::from(([127, 0, 0, 1], 0));
    let upstream = udp_bound(any).map_err(|e| edge.error("bind", any, e))?;
    upstream
        .connect(parent)
        .await
        .map_err(|e| edge.error("connect to", parent, e))?;
    let upstream = Arc::new(upstream);
    edge.sessions.fetch_add(1, Ordering::Relaxed);
    let last_heard_ms = Arc::new(AtomicU64::new(crate::process::unix_ms()));
    let task = tokio::spawn(downstream(
        Arc::clone(edge),
        Arc::clone(&upstream),
        Arc::clone(listen),
        client,
        Arc::clone(&last_heard_ms),
    ));
    Ok(Session {
        upstream,
        last_heard_ms,
        task,
    })
}

/// Parent → child for one session; ends when both sides have been silent for
/// [`SESSION_IDLE`].
async fn downstream(
    edge: Arc<Edge>,
    upstream: Arc<UdpSocket>,
    listen: Arc<UdpSocket>,
    client: SocketAddr,
    client_heard_ms: Arc<AtomicU64>,
) {
    let mut buf = vec![0u8; MAX_DATAGRAM];
    loop {
        match tokio::time::timeout(SESSION_IDLE, upstream.recv(&mut buf)).await {
            Ok(Ok(len)) => {
                if let Some(bytes) = buf.get(..len) {
                    edge.pass(&listen, Some(client), bytes, false).await;
                }
            }
            // A connected UDP socket reports the parent's port unreachable (parent
            // stopped) as an error; it comes back on the same port, so keep listening.
            Ok(Err(_)) => tokio::time::sleep(ERROR_PAUSE).await,
            Err(_) => {
                let idle_ms = crate::process::unix_ms()
                    .saturating_sub(client_heard_ms.load(Ordering::Relaxed));
                if u128::from(idle_ms) >= SESSION_IDLE.as_millis() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn edge(listen: SocketAddr, upstream: SocketAddr) -> Arc<Edge> {
        Arc::new(Edge::new(EdgeEntry {
            child: "c.credx".to_owned(),
            parent: "p.credx".to_owned(),
            listen,
            upstream,
        }))
    }

    async fn recv_within(socket: &UdpSocket, ms: u64) -> Option<Vec<u8>> {
        let mut buf = vec![0u8; 2048];
        let got = tokio::time::timeout(Duration::from_millis(ms), socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        Some(buf[..got.0].to_vec())
    }

    #[tokio::test]
    async fn forwards_both_ways_and_obeys_cut_delay_and_heal() {
        let parent = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let child = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let probe = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let listen_addr = probe.local_addr().unwrap();
        drop(probe);
        let edge = edge(listen_addr, parent.local_addr().unwrap());
        let listen = bind(&edge).await.unwrap();
        tokio::spawn(serve(Arc::clone(&edge), listen));

        child.send_to(b"hello", listen_addr).await.unwrap();
        let mut buf = [0u8; 64];
        let (len, relay_side) =
            tokio::time::timeout(Duration::from_secs(2), parent.recv_from(&mut buf))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(&buf[..len], b"hello");
        parent.send_to(b"world", relay_side).await.unwrap();
        assert_eq!(recv_within(&child, 2000).await.unwrap(), b"world");

        edge.change(FaultChange::Cut);
        child.send_to(b"lost", listen_addr).await.unwrap();
        parent.send_to(b"lost too", relay_side).await.unwrap();
        assert!(recv_within(&parent, 200).await.is_none());
        assert!(recv_within(&child, 200).await.is_none());

        edge.change(FaultChange::Heal);
        edge.change(FaultChange::Delay {
            ms: 150,
            jitter_ms: 0,
        });
        let sent = std::time::Instant::now();
        child.send_to(b"late", listen_addr).await.unwrap();
        assert_eq!(recv_within(&parent, 2000).await.unwrap(), b"late");
        assert!(sent.elapsed() >= Duration::from_millis(150));

        edge.change(FaultChange::Heal);
        assert!(edge.fault().is_clear());
        let status = edge.status();
        assert_eq!((status.up, status.down, status.dropped), (2, 1, 2));
        assert_eq!(status.sessions, 1);
    }

    #[test]
    fn drop_fraction_drops_about_that_many() {
        let mut fault = Fault::default();
        FaultChange::Drop { fraction: 0.3 }.apply(&mut fault);
        let dropped = (0..10_000)
            .filter(|_| matches!(fault.verdict(), Verdict::Drop))
            .count();
        assert!((2_500..3_500).contains(&dropped), "{dropped}");
        assert_eq!(fault.to_string(), "drop 30 %");
    }
}
