//! Loopback tests of the federation transport with real certificates from a real CA
//! generated per test. No verifier is ever relaxed: every refusal here is produced by the
//! production code paths.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use credx_node::transport::{
    tls, AllowOrigins, CloseCode, FederationCa, FederationRoots, FrameError, NodeTlsIdentity,
    PeerConnection, PkiError, Transport, TransportError, TransportLimits, Validity,
};

const PROVINCE: &str = "420000.credx";
const COUNTY: &str = "420281.credx";
const HOUR: Duration = Duration::from_secs(3600);

fn identity(ca: &FederationCa, origin: &str) -> NodeTlsIdentity {
    ca.issue_node_certificate(origin, Validity::from_now(HOUR))
        .unwrap()
}

/// One node: its own identity, the CA it trusts, the origins it admits.
struct Node {
    identity: NodeTlsIdentity,
    roots: FederationRoots,
    admits: Vec<&'static str>,
    limits: TransportLimits,
}

impl Node {
    fn new(ca: &FederationCa, origin: &str, admits: &[&'static str]) -> Self {
        Self {
            identity: identity(ca, origin),
            roots: ca.roots().unwrap(),
            admits: admits.to_vec(),
            limits: TransportLimits::default(),
        }
    }

    fn server(&self) -> Transport {
        self.bind(true)
    }

    fn client(&self) -> Transport {
        self.bind(false)
    }

    fn bind(&self, listen: bool) -> Transport {
        let server = listen.then(|| tls::server_config(&self.identity, &self.roots).unwrap());
        let client = tls::client_config(&self.identity, &self.roots).unwrap();
        Transport::bind(
            "127.0.0.1:0".parse().unwrap(),
            server,
            client,
            Arc::new(self.admits.iter().copied().collect::<AllowOrigins>()),
            self.limits,
        )
        .unwrap()
    }
}

/// A province server and a county client from one CA, each admitting the other.
fn federation() -> (FederationCa, Node, Node) {
    let ca = FederationCa::generate("credx test federation CA").unwrap();
    let province = Node::new(&ca, PROVINCE, &[COUNTY]);
    let county = Node::new(&ca, COUNTY, &[PROVINCE]);
    (ca, province, county)
}

/// Dials `server` from `client` as `origin`; returns both ends' results.
async fn dial(
    client: &Transport,
    server: &Transport,
    origin: &str,
) -> (
    Result<PeerConnection, TransportError>,
    Result<PeerConnection, TransportError>,
) {
    let addr: SocketAddr = server.local_addr().unwrap();
    tokio::join!(client.connect(addr, origin), server.accept())
}

/// An established county → province connection: (client side, server side, transports).
async fn connected(
    province: &Node,
    county: &Node,
) -> (PeerConnection, PeerConnection, Transport, Transport) {
    let server = province.server();
    let client = county.client();
    let (c, s) = dial(&client, &server, PROVINCE).await;
    (c.unwrap(), s.unwrap(), client, server)
}

#[tokio::test]
async fn mutual_handshake_identifies_both_ends() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;

    assert_eq!(to_province.peer().origin, PROVINCE);
    assert_eq!(to_county.peer().origin, COUNTY);
    assert_eq!(
        Some(to_province.peer().cert_fingerprint),
        province.identity.fingerprint()
    );
    assert_eq!(
        Some(to_county.peer().cert_fingerprint),
        county.identity.fingerprint()
    );
}

#[tokio::test]
async fn frames_round_trip_including_empty_and_maximal() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;
    let max = province.limits.frame.max_frame_bytes as usize;
    let maximal: Vec<u8> = (0..max).map(|i| (i % 251) as u8).collect();
    let mut frames: Vec<Vec<u8>> = vec![Vec::new(), b"checkpoint".to_vec(), maximal, Vec::new()];
    frames.extend((0..10_000u32).map(|i| i.to_be_bytes().repeat(128)));

    // Server: echo every frame back, then finish.
    let echo = tokio::spawn(async move {
        let mut stream = to_county.accept_stream().await.unwrap().unwrap();
        let mut count = 0;
        while let Some(frame) = stream.recv.recv_frame().await.unwrap() {
            stream.send_frame(&frame).await.unwrap();
            count += 1;
        }
        stream.finish().await.unwrap();
        (count, to_county)
    });

    let stream = to_province.open_stream().await.unwrap();
    let (mut send, mut recv) = stream.into_split();
    let to_send = frames.clone();
    let sender = tokio::spawn(async move {
        for frame in &to_send {
            send.send_frame(frame).await.unwrap();
        }
        send.finish().await.unwrap();
        send
    });
    for expected in &frames {
        let got = recv.recv_frame().await.unwrap().expect("a frame");
        assert_eq!(got.as_ref(), expected.as_slice());
    }
    assert!(recv.recv_frame().await.unwrap().is_none(), "clean end");
    let _send = sender.await.unwrap();
    let (count, _server_side) = echo.await.unwrap();
    assert_eq!(count, frames.len());
}

#[tokio::test]
async fn oversized_frame_is_refused_before_allocation() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;
    let max = province.limits.frame.max_frame_bytes;

    // The sender refuses to send it at all.
    let mut stream = to_province.open_stream().await.unwrap();
    let err = stream
        .send_frame(&vec![0u8; max as usize + 1])
        .await
        .unwrap_err();
    assert!(
        matches!(err, FrameError::Oversized { len, max: m, .. } if len == u64::from(max) + 1 && m == max),
        "{err}"
    );

    // A hostile sender announces 4 GiB and sends nothing else: the receiver must refuse on
    // the header alone, at once, rather than reserve 4 GiB and wait for the body.
    stream.flush().await.unwrap();
    stream
        .send
        .get_mut()
        .write_all(&u32::MAX.to_be_bytes())
        .await
        .unwrap();
    let mut incoming = to_county.accept_stream().await.unwrap().unwrap();
    let started = Instant::now();
    let err = incoming.recv_frame().await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2));
    match &err {
        FrameError::Oversized { peer, len, max: m } => {
            assert_eq!(*len, u64::from(u32::MAX));
            assert_eq!(*m, max);
            assert!(peer.contains(COUNTY), "the error names the peer: {err}");
        }
        other => panic!("expected Oversized, got {other}"),
    }

    // The receiver stopped the stream: the sender learns why.
    let err = loop {
        match stream.send.get_mut().write_all(&[0u8; 1024]).await {
            Ok(()) => tokio::time::sleep(Duration::from_millis(10)).await,
            Err(e) => break e,
        }
    };
    assert_eq!(
        err,
        quinn::WriteError::Stopped(quinn::VarInt::from_u32(CloseCode::FrameTooLarge as u32))
    );
}

#[tokio::test]
async fn stalled_sender_times_out() {
    let (_ca, mut province, county) = federation();
    province.limits.frame.read_timeout = Duration::from_millis(300);
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;

    // Half a frame, then silence (the stream stays open).
    let mut stream = to_province.open_stream().await.unwrap();
    let mut partial = 100u32.to_be_bytes().to_vec();
    partial.extend_from_slice(&[7u8; 10]);
    stream.send.get_mut().write_all(&partial).await.unwrap();

    let mut incoming = to_county.accept_stream().await.unwrap().unwrap();
    let started = Instant::now();
    let err = incoming.recv_frame().await.unwrap_err();
    let waited = started.elapsed();
    assert!(
        matches!(err, FrameError::Timeout { after, .. } if after == Duration::from_millis(300)),
        "{err}"
    );
    assert!(
        waited >= Duration::from_millis(290) && waited < Duration::from_secs(3),
        "{waited:?}"
    );

    // Silence between frames is a stall too.
    let mut idle = to_province.open_stream().await.unwrap();
    idle.send_frame(b"one").await.unwrap();
    idle.flush().await.unwrap();
    let mut incoming = to_county.accept_stream().await.unwrap().unwrap();
    assert_eq!(
        incoming.recv_frame().await.unwrap().unwrap().as_ref(),
        b"one"
    );
    let err = incoming.recv_frame().await.unwrap_err();
    assert!(matches!(err, FrameError::Timeout { .. }), "{err}");
}

#[tokio::test]
async fn truncated_frame_is_reported() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;

    let mut stream = to_province.open_stream().await.unwrap();
    let mut partial = 100u32.to_be_bytes().to_vec();
    partial.extend_from_slice(&[7u8; 10]);
    stream.send.get_mut().write_all(&partial).await.unwrap();
    stream.finish().await.unwrap();

    let mut incoming = to_county.accept_stream().await.unwrap().unwrap();
    let err = incoming.recv_frame().await.unwrap_err();
    assert!(
        matches!(
            err,
            FrameError::Truncated {
                expected: 104,
                received: 14,
                ..
            }
        ),
        "{err}"
    );
}

#[tokio::test]
async fn dropped_writer_resets_instead_of_ending_cleanly() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;

    let mut stream = to_province.open_stream().await.unwrap();
    stream.send_frame(b"first").await.unwrap();
    stream.flush().await.unwrap();
    let mut incoming = to_county.accept_stream().await.unwrap().unwrap();
    assert_eq!(
        incoming.recv_frame().await.unwrap().unwrap().as_ref(),
        b"first"
    );
    drop(stream);
    let err = incoming.recv_frame().await.unwrap_err();
    assert!(
        matches!(&err, FrameError::Reset { code, .. } if code == "Abandoned"),
        "{err}"
    );
}

#[tokio::test]
async fn client_with_certificate_from_another_ca_is_refused() {
    let (_ca, province, _county) = federation();
    let foreign_ca = FederationCa::generate("some other CA").unwrap();
    // Trusts our CA (so it would accept our server), but its own certificate is foreign.
    let mut intruder = Node::new(&foreign_ca, COUNTY, &[PROVINCE]);
    intruder.roots = province.roots.clone();

    let server = province.server();
    let (client_side, server_side) = dial(&intruder.client(), &server, PROVINCE).await;
    match server_side.unwrap_err() {
        TransportError::PeerCertificateRejected { alert, reason, .. } => {
            assert_eq!(alert, "UnknownCA");
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("server: expected PeerCertificateRejected, got {other}"),
    }
    match client_side.unwrap_err() {
        TransportError::RejectedByPeer { alert, .. } => assert_eq!(alert, "UnknownCA"),
        other => panic!("client: expected RejectedByPeer, got {other}"),
    }
}

#[tokio::test]
async fn server_with_certificate_from_another_ca_is_refused() {
    let (_ca, _province, county) = federation();
    let foreign_ca = FederationCa::generate("some other CA").unwrap();
    // Poses as the province, trusts our CA, but its certificate is foreign.
    let mut impostor = Node::new(&foreign_ca, PROVINCE, &[COUNTY]);
    impostor.roots = county.roots.clone();

    let (client_side, server_side) = dial(&county.client(), &impostor.server(), PROVINCE).await;
    match client_side.unwrap_err() {
        TransportError::PeerCertificateRejected { alert, reason, .. } => {
            assert_eq!(alert, "UnknownCA");
            assert!(reason.contains("UnknownIssuer"), "{reason}");
        }
        other => panic!("client: expected PeerCertificateRejected, got {other}"),
    }
    assert!(
        matches!(
            server_side.unwrap_err(),
            TransportError::RejectedByPeer { .. }
        ),
        "server side"
    );
}

#[tokio::test]
async fn wrong_alpn_is_refused() {
    let (_ca, province, county) = federation();
    let mut config = (*tls::client_config(&county.identity, &county.roots).unwrap()).clone();
    config.alpn_protocols = vec![b"credx/2".to_vec()];
    let client = Transport::bind(
        "127.0.0.1:0".parse().unwrap(),
        None,
        Arc::new(config),
        Arc::new(AllowOrigins::from_iter([PROVINCE])),
        TransportLimits::default(),
    )
    .unwrap();

    let (client_side, server_side) = dial(&client, &province.server(), PROVINCE).await;
    for (side, result) in [("client", client_side), ("server", server_side)] {
        match result.unwrap_err() {
            TransportError::AlpnMismatch { ours, .. } => assert_eq!(ours, "credx/1"),
            other => panic!("{side}: expected AlpnMismatch, got {other}"),
        }
    }
}

#[tokio::test]
async fn certificate_for_another_origin_is_refused() {
    let (ca, _province, county) = federation();
    // A genuine federation certificate, but for a city, answering where the province is
    // expected.
    let city = Node::new(&ca, "420200.credx", &[COUNTY]);

    let (client_side, server_side) = dial(&county.client(), &city.server(), PROVINCE).await;
    match client_side.unwrap_err() {
        TransportError::PeerCertificateRejected { alert, reason, .. } => {
            assert_eq!(alert, "BadCertificate");
            assert!(reason.contains("not valid for name"), "{reason}");
            assert!(reason.contains(PROVINCE), "{reason}");
        }
        other => panic!("client: expected PeerCertificateRejected, got {other}"),
    }
    assert!(
        matches!(
            server_side.unwrap_err(),
            TransportError::RejectedByPeer { .. }
        ),
        "server side"
    );
}

#[tokio::test]
async fn expired_certificate_is_refused() {
    let (ca, province, mut county) = federation();
    let now = time::OffsetDateTime::now_utc();
    county.identity = ca
        .issue_node_certificate(
            COUNTY,
            Validity {
                not_before: now - time::Duration::days(30),
                not_after: now - time::Duration::days(1),
            },
        )
        .unwrap();

    let (client_side, server_side) = dial(&county.client(), &province.server(), PROVINCE).await;
    match server_side.unwrap_err() {
        TransportError::PeerCertificateRejected { alert, .. } => {
            assert_eq!(alert, "CertificateExpired")
        }
        other => panic!("server: expected PeerCertificateRejected, got {other}"),
    }
    match client_side.unwrap_err() {
        TransportError::RejectedByPeer { alert, .. } => assert_eq!(alert, "CertificateExpired"),
        other => panic!("client: expected RejectedByPeer, got {other}"),
    }
}

#[tokio::test]
async fn origin_outside_the_roster_is_refused_by_the_server() {
    let (ca, province, _county) = federation();
    // Right CA, but the province's roster does not list this county.
    let stranger = Node::new(&ca, "429999.credx", &[PROVINCE]);

    let (client_side, server_side) = dial(&stranger.client(), &province.server(), PROVINCE).await;
    match server_side.unwrap_err() {
        TransportError::NotAuthorized { peer, reason } => {
            assert!(peer.contains("429999.credx"), "{peer}");
            assert!(reason.contains("not in the roster"), "{reason}");
        }
        other => panic!("server: expected NotAuthorized, got {other}"),
    }
    match client_side.unwrap_err() {
        TransportError::RefusedByPeer { reason, .. } => {
            assert_eq!(reason, "origin 429999.credx is not in the roster")
        }
        other => panic!("client: expected RefusedByPeer, got {other}"),
    }
}

#[tokio::test]
async fn origin_outside_the_roster_is_refused_by_the_client() {
    let (_ca, province, mut county) = federation();
    county.admits = vec!["420100.credx"];

    let (client_side, server_side) = dial(&county.client(), &province.server(), PROVINCE).await;
    assert!(
        matches!(
            client_side.unwrap_err(),
            TransportError::NotAuthorized { .. }
        ),
        "client side"
    );
    match server_side.unwrap_err() {
        TransportError::RefusedByPeer { reason, .. } => {
            assert!(reason.contains(PROVINCE), "{reason}")
        }
        other => panic!("server: expected RefusedByPeer, got {other}"),
    }
}

#[tokio::test]
async fn stream_limit_blocks_then_fails_then_recovers() {
    let (_ca, mut province, mut county) = federation();
    province.limits.max_concurrent_streams = 2;
    county.limits.stream_open_timeout = Duration::from_millis(300);
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;

    let mut first = to_province.open_stream().await.unwrap();
    first.send_frame(b"one").await.unwrap();
    first.flush().await.unwrap();
    let mut second = to_province.open_stream().await.unwrap();
    second.send_frame(b"two").await.unwrap();
    second.flush().await.unwrap();

    let started = Instant::now();
    let err = to_province.open_stream().await.unwrap_err();
    assert!(matches!(err, TransportError::StreamLimit { .. }), "{err}");
    assert!(started.elapsed() >= Duration::from_millis(290));

    // Complete the first exchange on both sides: the slot comes back.
    first.finish().await.unwrap();
    let mut served = to_county.accept_stream().await.unwrap().unwrap();
    assert_eq!(served.recv_frame().await.unwrap().unwrap().as_ref(), b"one");
    assert!(served.recv_frame().await.unwrap().is_none());
    served.finish().await.unwrap();
    assert!(first.recv_frame().await.unwrap().is_none());
    drop((served, first));

    let mut third = to_province.open_stream().await.unwrap();
    third.send_frame(b"three").await.unwrap();
    third.flush().await.unwrap();
    drop(second);
}

#[tokio::test]
async fn normal_close_ends_accept_stream() {
    let (_ca, province, county) = federation();
    let (to_province, to_county, _c, _s) = connected(&province, &county).await;
    to_province.close("sync finished");
    assert!(to_county.accept_stream().await.unwrap().is_none());
}

#[test]
fn ca_and_identity_survive_pem_round_trips() {
    let ca = FederationCa::generate("credx test federation CA").unwrap();
    let pem = ca.to_pem();
    let reloaded = FederationCa::from_pem(&pem.certificate_pem, &pem.private_key_pem).unwrap();
    assert_eq!(reloaded.name(), "credx test federation CA");
    assert_eq!(reloaded.certificate_der(), ca.certificate_der());

    let dir = tempfile::tempdir().unwrap();
    let (cert_path, key_path) = (dir.path().join("ca.pem"), dir.path().join("ca.key"));
    ca.save_pem(&cert_path, &key_path).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "the CA key must be private");
    }
    let loaded = FederationCa::load_pem(&cert_path, &key_path).unwrap();
    assert_eq!(loaded.certificate_der(), ca.certificate_der());

    let node = loaded
        .issue_node_certificate(COUNTY, Validity::from_now(HOUR))
        .unwrap();
    let (node_cert, node_key) = (dir.path().join("node.pem"), dir.path().join("node.key"));
    node.save_pem(&node_cert, &node_key).unwrap();
    let node_back = NodeTlsIdentity::load_pem(&node_cert, &node_key).unwrap();
    assert_eq!(node_back.origin, COUNTY);
    assert_eq!(node_back.cert_chain_der, node.cert_chain_der);
    let roots = FederationRoots::load_pem(&cert_path).unwrap();
    // Issued by the reloaded CA, accepted by rustls against the original CA certificate.
    tls::server_config(&node_back, &roots).unwrap();
    tls::client_config(&node_back, &roots).unwrap();

    // A key that is not the CA's is refused.
    let other = FederationCa::generate("other").unwrap().to_pem();
    let err = FederationCa::from_pem(&pem.certificate_pem, &other.private_key_pem).unwrap_err();
    assert!(err.to_string().contains("does not belong"), "{err}");
    // A node certificate is not a CA.
    let node_pem = node.to_pem();
    let err =
        FederationCa::from_pem(&node_pem.certificate_pem, &node_pem.private_key_pem).unwrap_err();
    assert!(err.to_string().contains("not a CA"), "{err}");
}

#[tokio::test]
async fn identity_issued_by_reloaded_ca_connects() {
    let ca = FederationCa::generate("credx test federation CA").unwrap();
    let pem = ca.to_pem();
    let reloaded = FederationCa::from_pem(&pem.certificate_pem, &pem.private_key_pem).unwrap();
    let province = Node::new(&ca, PROVINCE, &[COUNTY]);
    let county = Node::new(&reloaded, COUNTY, &[PROVINCE]);
    let (to_province, _to_county, _c, _s) = connected(&province, &county).await;
    assert_eq!(to_province.peer().origin, PROVINCE);
}

#[test]
fn invalid_origins_are_not_issued() {
    let ca = FederationCa::generate("credx test federation CA").unwrap();
    for bad in [
        "",
        "credx",
        "420281.CREDX",
        "*.credx",
        "420281..credx",
        "-420281.credx",
        "420281.credx.",
        "127.0.0.1",
        "420281 .credx",
    ] {
        let err = ca
            .issue_node_certificate(bad, Validity::from_now(HOUR))
            .unwrap_err();
        assert!(
            matches!(err, PkiError::InvalidOrigin { .. }),
            "{bad:?}: {err}"
        );
    }
    let now = time::OffsetDateTime::now_utc();
    let err = ca
        .issue_node_certificate(
            COUNTY,
            Validity {
                not_before: now,
                not_after: now,
            },
        )
        .unwrap_err();
    assert!(matches!(err, PkiError::EmptyValidity { .. }), "{err}");
}

#[test]
fn limits_are_validated() {
    let limits = TransportLimits::default();
    assert!(limits.validate().is_ok());
    // 16 MiB + 16 MiB + 16 streams × (8 MiB + 128 KiB).
    assert_eq!(
        limits.max_buffered_bytes_per_peer(),
        32 * 1024 * 1024 + 16 * (8 * 1024 * 1024 + 128 * 1024)
    );
    let bad = TransportLimits {
        keep_alive_interval: Duration::from_secs(120),
        ..limits
    };
    assert!(bad.validate().unwrap_err().contains("keep_alive_interval"));
    let bad = TransportLimits {
        max_concurrent_streams: 0,
        ..limits
    };
    assert!(bad.validate().is_err());
}
