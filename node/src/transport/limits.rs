//! Every bound the transport enforces, in one place.
//!
//! A parent serves many children over links it does not control, so nothing a peer sends may
//! make it wait, allocate or open things without limit. The defaults below are sized for the
//! federation's traffic: deltas are batches of ~512-byte entries, a batch frame is at most
//! 8 MiB, and a link is long-lived.

use std::time::Duration;

/// Bounds on one framed stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameLimits {
    /// Largest payload accepted or sent in one frame. The 4-byte length prefix is checked
    /// against it *before* any buffer is reserved, so a hostile length costs nothing.
    pub max_frame_bytes: u32,
    /// Longest wait without receiving a single byte, whether between frames or inside one.
    /// Each byte of progress restarts it, so a slow but live peer is not cut off, while a
    /// stalled one cannot hold the stream (and its buffers) forever.
    pub read_timeout: Duration,
    /// Longest wait for the peer's flow-control window to admit more bytes.
    pub write_timeout: Duration,
}

impl FrameLimits {
    /// The protocol codec's frame cap (8 MiB): a few thousand entries per batch, small
    /// enough that a stream's buffers stay modest when many children sync at once. Taken
    /// from the codec so a frame the transport accepts is always one the codec decodes.
    pub const DEFAULT_MAX_FRAME_BYTES: u32 = {
        let max = credx_protocol::codec::MAX_FRAME_BYTES;
        assert!(
            max <= u32::MAX as usize,
            "frame lengths are u32 on the wire"
        );
        max as u32
    };
}

impl Default for FrameLimits {
    fn default() -> Self {
        Self {
            max_frame_bytes: Self::DEFAULT_MAX_FRAME_BYTES,
            read_timeout: Duration::from_secs(30),
            write_timeout: Duration::from_secs(30),
        }
    }
}

/// Bounds on one QUIC endpoint and each of its connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TransportLimits {
    /// Applied to every stream of every connection.
    pub frame: FrameLimits,
    /// TLS handshake plus the roster check and the mutual admission exchange.
    pub handshake_timeout: Duration,
    /// A connection with no packets for this long is closed (negotiated: the smaller of
    /// both peers' values applies).
    pub idle_timeout: Duration,
    /// Ping interval keeping an otherwise quiet link (and the NAT/firewall state in front
    /// of a county node) alive. Must be shorter than `idle_timeout`.
    pub keep_alive_interval: Duration,
    /// Bidirectional streams the peer may have open toward this node at once. Opening more
    /// waits for one to finish (see `stream_open_timeout`).
    pub max_concurrent_streams: u32,
    /// How long `open_stream` waits for a free stream slot before failing.
    pub stream_open_timeout: Duration,
    /// Bytes the peer may send on one stream before we read them (flow control). Several
    /// `PushEntries` frames (≤ 2 MiB each at 512-byte entries): with one frame's worth, a
    /// child could not read its next delta while the parent still verified the last one
    /// (measured: 87k → 100k entries/s county → city with 2 → 12 MiB). The connection
    /// window below still bounds the total per peer.
    pub stream_receive_window: u32,
    /// Bytes the peer may send on all streams together before we read them: with
    /// `send_window` this bounds QUIC's own buffering per peer.
    pub connection_receive_window: u32,
    /// Bytes of unacknowledged data we keep per connection.
    pub send_window: u64,
    /// Connection attempts that may be in the handshake at once; more are refused.
    pub max_pending_handshakes: usize,
    /// UDP socket buffers (SO_RCVBUF / SO_SNDBUF). With the kernel default, bulk QUIC
    /// transfers overflowed the receive buffer on loopback (measured); 4 MiB is the host's
    /// `rmem_max`, and the kernel may silently cap it lower elsewhere.
    pub socket_buffer_bytes: usize,
}

impl Default for TransportLimits {
    fn default() -> Self {
        Self {
            frame: FrameLimits::default(),
            handshake_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            keep_alive_interval: Duration::from_secs(15),
            max_concurrent_streams: 16,
            stream_open_timeout: Duration::from_secs(10),
            stream_receive_window: 12 * 1024 * 1024,
            connection_receive_window: 16 * 1024 * 1024,
            send_window: 16 * 1024 * 1024,
            max_pending_handshakes: 256,
            socket_buffer_bytes: 4 * 1024 * 1024,
        }
    }
}

impl TransportLimits {
    /// Worst-case bytes buffered for one peer: QUIC's receive and send windows plus, per
    /// stream, one maximal frame being assembled and one write buffer.
    pub fn max_buffered_bytes_per_peer(&self) -> u64 {
        let per_stream = u64::from(self.frame.max_frame_bytes)
            + crate::transport::framing::READ_CHUNK_BYTES as u64
            + crate::transport::framing::WRITE_BUFFER_BYTES as u64;
        u64::from(self.connection_receive_window)
            + self.send_window
            + u64::from(self.max_concurrent_streams) * per_stream
    }

    /// Rejects combinations that would silently misbehave.
    pub fn validate(&self) -> Result<(), String> {
        let nonzero = [
            ("frame.read_timeout", self.frame.read_timeout),
            ("frame.write_timeout", self.frame.write_timeout),
            ("handshake_timeout", self.handshake_timeout),
            ("idle_timeout", self.idle_timeout),
            ("keep_alive_interval", self.keep_alive_interval),
            ("stream_open_timeout", self.stream_open_timeout),
        ];
        if let Some((name, _)) = nonzero.iter().find(|(_, d)| d.is_zero()) {
            return Err(format!("{name} must be greater than zero"));
        }
        if self.keep_alive_interval >= self.idle_timeout {
            return Err(format!(
                "keep_alive_interval ({:?}) must be shorter than idle_timeout ({:?}), or quiet \
                 links time out",
                self.keep_alive_interval, self.idle_timeout
            ));
        }
        if self.max_concurrent_streams == 0 {
            return Err("max_concurrent_streams must be at least 1".to_owned());
        }
        if self.max_pending_handshakes == 0 {
            return Err("max_pending_handshakes must be at least 1".to_owned());
        }
        if self.stream_receive_window == 0 || self.connection_receive_window == 0 {
            return Err("receive windows must be greater than zero".to_owned());
        }
        Ok(())
    }
}
