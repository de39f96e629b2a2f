//! Framed-stream throughput over loopback QUIC with mutual TLS and real certificates:
//! 1,000,000 frames of 512 bytes on one stream, the shape of an upward delta of entries.
//!
//! Run: `CARGO_TARGET_DIR=/root/.cache/credx/target cargo bench -p credx-node --bench transport`
//! (`CREDX_BENCH_FRAMES` overrides the frame count, `CREDX_BENCH_RUNS` the repetitions).
//!
//! As in `shared/reference/machine-limits.md` §4, each peer runs a current-thread tokio
//! runtime on its own OS thread, so each gets one of the two cores. The clock runs from
//! opening the stream until the receiver's acknowledgement (sent after it has read every
//! frame) arrives back. One warm-up run, then the median of the timed runs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use credx_node::transport::{
    tls, AllowOrigins, FederationCa, NodeTlsIdentity, Transport, TransportLimits, Validity,
};

const FRAME_BYTES: usize = 512;
const PARENT: &str = "420000.credx";
const CHILD: &str = "420281.credx";

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn transport(
    identity: &NodeTlsIdentity,
    ca: &FederationCa,
    admit: &str,
    listen: bool,
) -> Transport {
    let roots = ca.roots().unwrap();
    Transport::bind(
        "127.0.0.1:0".parse().unwrap(),
        listen.then(|| tls::server_config(identity, &roots).unwrap()),
        tls::client_config(identity, &roots).unwrap(),
        Arc::new(AllowOrigins::from_iter([admit])),
        TransportLimits::default(),
    )
    .unwrap()
}

fn main() {
    let frames = env_or("CREDX_BENCH_FRAMES", 1_000_000);
    let runs = env_or("CREDX_BENCH_RUNS", 5).max(1);
    let ca = FederationCa::generate("credx bench CA").unwrap();
    let validity = Validity::from_now(Duration::from_secs(3600));
    let parent_id = ca.issue_node_certificate(PARENT, validity).unwrap();
    let child_id = ca.issue_node_certificate(CHILD, validity).unwrap();
    let ca = Arc::new(ca);

    // Parent: accept one connection, then one stream per run; count frames and ack.
    let (addr_tx, addr_rx) = mpsc::channel::<SocketAddr>();
    let parent_ca = Arc::clone(&ca);
    let parent = std::thread::spawn(move || {
        runtime().block_on(async move {
            let server = transport(&parent_id, &parent_ca, CHILD, true);
            addr_tx.send(server.local_addr().unwrap()).unwrap();
            let conn = server.accept().await.unwrap();
            while let Some(mut stream) = conn.accept_stream().await.unwrap() {
                let mut count = 0u64;
                let mut bytes = 0u64;
                while let Some(frame) = stream.recv.recv_frame().await.unwrap() {
                    count += 1;
                    bytes += frame.len() as u64;
                }
                let mut ack = count.to_be_bytes().to_vec();
                ack.extend_from_slice(&bytes.to_be_bytes());
                stream.send_frame(&ack).await.unwrap();
                stream.finish().await.unwrap();
            }
        })
    });

    let addr = addr_rx.recv().unwrap();
    let mut rates = Vec::new();
    runtime().block_on(async {
        let client = transport(&child_id, &ca, PARENT, false);
        let conn = client.connect(addr, PARENT).await.unwrap();
        let payload = vec![0x5a_u8; FRAME_BYTES];
        for run in 0..=runs {
            // Run 0 is the warm-up, at 1/8 size.
            let n = if run == 0 { (frames / 8).max(1) } else { frames };
            let started = Instant::now();
            let mut stream = conn.open_stream().await.unwrap();
            for _ in 0..n {
                stream.send_frame(&payload).await.unwrap();
            }
            stream.finish().await.unwrap();
            let ack = stream.recv_frame().await.unwrap().unwrap();
            let elapsed = started.elapsed();
            let count = u64::from_be_bytes(ack[..8].try_into().unwrap());
            let bytes = u64::from_be_bytes(ack[8..16].try_into().unwrap());
            assert_eq!((count, bytes), (n, n * FRAME_BYTES as u64));
            if run > 0 {
                let per_sec = n as f64 / elapsed.as_secs_f64();
                println!(
                    "run {run}: {n} frames x {FRAME_BYTES} B in {:.3} s = {:.0} frames/s, {:.0} MB/s payload",
                    elapsed.as_secs_f64(),
                    per_sec,
                    per_sec * FRAME_BYTES as f64 / 1e6
                );
                rates.push(per_sec);
            }
        }
        conn.close("bench done");
        client.wait_idle().await;
    });
    parent.join().unwrap();

    rates.sort_by(f64::total_cmp);
    let median = rates[rates.len() / 2];
    println!(
        "transport bench: median {median:.0} frames/s = {:.0} MB/s payload ({FRAME_BYTES}-byte frames, {frames} per run, {runs} runs)",
        median * FRAME_BYTES as f64 / 1e6
    );
}
