//! Verified delta sync across a three-level federation (county → city → province) on
//! loopback QUIC with real certificates, real RocksDB stores and real signatures.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{licences, loopback, TestNode};
use credx_node::federation::test_federation::three_level::{CITY, COUNTY, PROVINCE};
use credx_node::federation::TestFederation;
use credx_node::sync::{
    ReceiverOutput, ReceiverSession, SyncFailure, SyncLimits, SyncMetrics, Unacknowledged,
    UploaderSession,
};
use credx_protocol::merkle::{leaf_hash, verify_inclusion};
use credx_protocol::wire::{ErrorCode, Message};
use credx_storage::{CheckpointStore, EvidenceStore, IndexStore, LogStore, StatusStore};

/// 天河区's division: the county's own authorities.
const COUNTY_DIVISION: &str = "440106";

fn resent_verified(node: &TestNode, origins: &[&str]) -> u64 {
    SyncMetrics::total(&node.ctx.metrics.entries_resent_verified, origins)
}

async fn city_and_county(fed: &TestFederation, dir: &std::path::Path) -> (TestNode, TestNode) {
    let city = TestNode::start(fed, CITY, &dir.join("city"), loopback()).await;
    let county = TestNode::start(fed, COUNTY, &dir.join("county"), loopback()).await;
    (city, county)
}

/// The city and the county, both with `limits`.
async fn city_and_county_with(
    fed: &TestFederation,
    dir: &std::path::Path,
    limits: SyncLimits,
) -> (TestNode, TestNode) {
    let (city_dir, county_dir) = (dir.join("city"), dir.join("county"));
    let city = TestNode::start_with(fed, fed, CITY, &city_dir, loopback(), limits.clone()).await;
    let county = TestNode::start_with(fed, fed, COUNTY, &county_dir, loopback(), limits).await;
    (city, county)
}

/// A city holding the county's first 100 entries, the county, and a second store under
/// the county's key that signed `forked_entries` other entries: another history.
async fn city_county_and_fork(
    fed: &TestFederation,
    dir: &std::path::Path,
    forked_entries: u64,
) -> (TestNode, TestNode, TestNode) {
    let (city, county) = city_and_county(fed, dir).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 100));
    county.upload_to(&city).await.unwrap();
    let forked = TestNode::start(fed, COUNTY, &dir.join("forked"), loopback()).await;
    forked.submit(licences(
        COUNTY,
        COUNTY_DIVISION,
        5_000,
        5_000 + forked_entries,
    ));
    (city, county, forked)
}

async fn three_nodes(
    fed: &TestFederation,
    dir: &std::path::Path,
) -> (TestNode, TestNode, TestNode) {
    let province = TestNode::start(fed, PROVINCE, &dir.join("province"), loopback()).await;
    let (city, county) = city_and_county(fed, dir).await;
    (province, city, county)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_levels_converge_and_county_entries_are_provable_at_the_province() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (province, city, county) = three_nodes(&fed, dir.path()).await;

    let entries = licences(COUNTY, COUNTY_DIVISION, 0, 6_000);
    county.submit(entries.clone());
    let county_size = county.size(COUNTY);
    assert!(
        county_size >= 6_000,
        "anchors may add entries: {county_size}"
    );

    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.synced, vec![COUNTY.to_owned()]);
    assert!(report.refused.is_empty(), "{:?}", report.refused);
    assert_eq!(city.size(COUNTY), county_size);
    assert_eq!(
        city.store.root_at(COUNTY, county_size).unwrap(),
        county.store.root_at(COUNTY, county_size).unwrap()
    );

    // The city indexes the mirror behind the sync: subjects, status map, proofs.
    city.wait_indexed();
    assert_eq!(city.store.indexed_size(COUNTY).unwrap(), county_size);
    let first = credx_protocol::entry::Entry::decode(&entries[0]).unwrap();
    let subject = first.subject.clone().unwrap();
    assert!(!city
        .store
        .entries_for_subject(&subject, None, 10)
        .unwrap()
        .is_empty());
    let status = city
        .store
        .subject_status(&subject.map_key())
        .unwrap()
        .unwrap();
    let status = credx_protocol::statusmap::SubjectStatus::decode(&status).unwrap();
    let proof = city.store.status_proof(&subject.map_key()).unwrap();
    credx_protocol::statusmap::verify_status(&city.store.status_root().unwrap(), &status, &proof)
        .unwrap();

    // The county kept the city's cosignature of its latest checkpoint.
    let city_cosigner = fed.roster().cosigner_key(CITY).unwrap().clone();
    let county_cosigs = county.store.cosignatures(COUNTY, county_size).unwrap();
    assert!(
        !county_cosigs.is_empty(),
        "the county stores the city's cosignature"
    );

    // The city has its own entries too? It has none; it pushes the county's mirror upward.
    let report = city.upload_to(&province).await.unwrap();
    assert!(report.synced.contains(&COUNTY.to_owned()), "{report:?}");
    assert_eq!(province.size(COUNTY), county_size);

    // Every county entry is provable at the province against a checkpoint signed by the
    // county and cosigned by the city.
    let checkpoint = province
        .store
        .latest_signed_checkpoint(COUNTY)
        .unwrap()
        .unwrap();
    assert_eq!(checkpoint.checkpoint().size, county_size);
    checkpoint
        .verify(fed.roster().checkpoint_key(COUNTY).unwrap())
        .unwrap();
    let cosignature = checkpoint
        .cosignature_by(&city_cosigner)
        .expect("the province's checkpoint of the county carries the city's cosignature");
    cosignature
        .verify(checkpoint.checkpoint(), &city_cosigner)
        .unwrap();
    for index in [0, 1, 2_047, 4_095, county_size / 2, county_size - 1] {
        let proof = province
            .store
            .tlog_proof(COUNTY, index, &checkpoint)
            .unwrap();
        let bytes = province.store.read_entries(COUNTY, index, 1).unwrap();
        verify_inclusion(
            &leaf_hash(&bytes[0]),
            index,
            county_size,
            &proof.inclusion,
            &checkpoint.checkpoint().root,
        )
        .unwrap();
    }
    // The entries the county submitted are the ones the province holds, byte for byte.
    let at_province = province.store.read_entries(COUNTY, 0, 4_096).unwrap();
    let at_county = county.store.read_entries(COUNTY, 0, 4_096).unwrap();
    assert_eq!(at_province, at_county);

    // Province cosigned too; the city stored it.
    let province_cosigner = fed.roster().cosigner_key(PROVINCE).unwrap();
    let city_checkpoint_cosigs = city.store.cosignatures(COUNTY, county_size).unwrap();
    assert!(
        city_checkpoint_cosigs
            .iter()
            .any(|line| line.contains(province_cosigner.name().as_str())),
        "{city_checkpoint_cosigs:?}"
    );

    // A second round with nothing new sends nothing.
    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.entries_sent, 0);
    assert_eq!(resent_verified(&city, &[COUNTY]), 0);
    assert_eq!(resent_verified(&province, &[COUNTY, CITY]), 0);

    province.stop().await;
    city.stop().await;
    county.stop().await;
}

/// Pumps messages between an uploader and a receiver in-process (the same state
/// machines the QUIC driver runs), stopping after `deliver` messages from the child.
fn pump(
    child: &mut UploaderSession,
    parent: &mut ReceiverSession,
    deliver: usize,
) -> Result<bool, String> {
    let mut to_parent = vec![child.start()];
    let mut delivered = 0;
    while !to_parent.is_empty() {
        let mut to_child = Vec::new();
        for message in std::mem::take(&mut to_parent) {
            if delivered == deliver {
                return Ok(false);
            }
            delivered += 1;
            to_child.extend(parent.handle(message).map_err(|e| e.to_string())?);
        }
        for message in to_child {
            to_parent.extend(child.handle(message).map_err(|e| e.to_string())?);
        }
        if child.is_done() {
            for message in to_parent.drain(..) {
                parent.handle(message).map_err(|e| e.to_string())?;
            }
            return Ok(true);
        }
    }
    Ok(child.is_done())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_cut_mid_batch_resumes_with_zero_resent_verified_entries() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = SyncLimits {
        max_delta_entries: 1_000,
        push_batch_entries: 250,
        ..SyncLimits::default()
    };
    let (city, county) = city_and_county_with(&fed, dir.path(), limits).await;
    // Checkpoints every 500 entries, so deltas of at most 1,000 exist.
    for chunk in 0..8 {
        county.submit(licences(
            COUNTY,
            COUNTY_DIVISION,
            chunk * 500,
            (chunk + 1) * 500,
        ));
    }
    let total = county.size(COUNTY);
    let unacked = Arc::new(Unacknowledged::default());

    // Cut after the Hello, two whole deltas and half of the third: the state machines
    // are dropped mid-delta, as a broken link would drop them.
    let mut cut_child =
        UploaderSession::new(Arc::clone(&county.ctx), CITY, [1; 16], Arc::clone(&unacked)).unwrap();
    let mut cut_parent = ReceiverSession::new(Arc::clone(&city.ctx), COUNTY);
    // Hello, the survey's Offer, then Offer + Proof + 4 pushes per delta: 18 messages end
    // two pushes into the third delta.
    let finished =
        tokio::task::block_in_place(|| pump(&mut cut_child, &mut cut_parent, 18)).unwrap();
    assert!(!finished);
    let mirrored = city.size(COUNTY);
    assert!(
        mirrored > 0 && mirrored < total,
        "cut landed mid-range: {mirrored} of {total}"
    );
    drop((cut_child, cut_parent));

    // Resume over real QUIC from the cursors.
    let report = credx_node::sync::upload_once(
        &county.transport,
        Arc::clone(&county.ctx),
        CITY,
        city.addr,
        Arc::clone(&unacked),
    )
    .await
    .unwrap();
    assert_eq!(city.size(COUNTY), total);
    assert_eq!(
        city.store.root_at(COUNTY, total).unwrap(),
        county.store.root_at(COUNTY, total).unwrap()
    );
    assert_eq!(
        report.entries_sent,
        total - mirrored,
        "only what the city lacked was sent"
    );
    assert_eq!(resent_verified(&city, &[COUNTY]), 0);
    // The half-delivered delta was sent again (it was never verified), and counted.
    let resent = SyncMetrics::total(&county.ctx.metrics.entries_resent, &[COUNTY]);
    assert!(
        resent > 0,
        "the unacknowledged partial delta is counted as re-sent"
    );
    city.stop().await;
    county.stop().await;
}

/// The parent verifies the next delta of an origin while the write of the one before is
/// still pending (as its QUIC driver does): the offer behind it is answered from the state
/// that write leaves, nothing is stored until the writes run, and they run in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_delta_is_verified_while_the_write_before_it_is_pending() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = SyncLimits {
        max_delta_entries: 100,
        push_batch_entries: 50,
        ..SyncLimits::default()
    };
    let (city, county) = city_and_county_with(&fed, dir.path(), limits).await;
    // Two checkpoints, at 100 and 200: two deltas, sent back to back.
    for chunk in 0..2 {
        county.submit(licences(
            COUNTY,
            COUNTY_DIVISION,
            chunk * 100,
            (chunk + 1) * 100,
        ));
    }
    let root_at = |size| county.store.root_at(COUNTY, size).unwrap();
    let mut child = UploaderSession::new(
        Arc::clone(&county.ctx),
        CITY,
        [5; 16],
        Arc::new(Unacknowledged::default()),
    )
    .unwrap();
    let mut parent = ReceiverSession::new(Arc::clone(&city.ctx), COUNTY);
    tokio::task::block_in_place(|| {
        let mut to_parent = vec![child.start()];
        // Hello, then the survey: answered at once (no delta is complete yet).
        for _ in 0..2 {
            let mut to_child = Vec::new();
            for message in std::mem::take(&mut to_parent) {
                for output in parent.handle_deferring_writes(message).unwrap() {
                    match output {
                        ReceiverOutput::Send(answer) => to_child.push(answer),
                        ReceiverOutput::Write(w) => panic!("nothing to write yet: {w:?}"),
                    }
                }
            }
            to_parent = to_child
                .into_iter()
                .flat_map(|m| child.handle(m).unwrap())
                .collect();
        }
        // Both deltas are on their way; the parent verifies both, writing neither.
        let mut outputs = Vec::new();
        for message in to_parent {
            outputs.extend(parent.handle_deferring_writes(message).unwrap());
        }
        assert_eq!(
            city.size(COUNTY),
            0,
            "nothing written before the driver writes"
        );
        // Each delta goes behind its own offer: CursorIs, write, CursorIs, write.
        let [ReceiverOutput::Send(cursor_first), ReceiverOutput::Write(first), ReceiverOutput::Send(cursor_second), ReceiverOutput::Write(second)] =
            <[ReceiverOutput; 4]>::try_from(outputs).unwrap()
        else {
            panic!("expected CursorIs, write, CursorIs, write");
        };
        let cursor = |size| Message::CursorIs {
            origin: COUNTY.to_owned(),
            size,
            root: root_at(size),
        };
        assert_eq!(cursor_first, cursor(0));
        assert_eq!(
            cursor_second,
            cursor(100),
            "the second offer is answered from the state the pending write leaves"
        );
        // The driver runs the writes in order; each answer goes out where its write was.
        let accepted_first = first.write().unwrap();
        assert_eq!(city.size(COUNTY), 100);
        let accepted_second = second.write().unwrap();
        assert_eq!(city.size(COUNTY), 200);
        let mut to_parent = Vec::new();
        for answer in [cursor_first, accepted_first, cursor_second, accepted_second] {
            to_parent.extend(child.handle(answer).unwrap());
        }
        while !child.is_done() {
            let answers: Vec<Message> = std::mem::take(&mut to_parent)
                .into_iter()
                .flat_map(|m| parent.handle(m).unwrap())
                .collect();
            assert!(!answers.is_empty(), "the session stalled");
            to_parent = answers
                .into_iter()
                .flat_map(|m| child.handle(m).unwrap())
                .collect();
        }
    });
    assert_eq!(city.store.root_at(COUNTY, 200).unwrap(), root_at(200));
    assert_eq!(
        SyncMetrics::total(&county.ctx.metrics.cosignatures_stored, &[COUNTY]),
        2,
        "both deltas accepted and cosigned"
    );
    assert_eq!(resent_verified(&city, &[COUNTY]), 0);
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_parent_restarted_mid_sync_resumes_and_converges() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = SyncLimits {
        max_delta_entries: 2_000,
        ..SyncLimits::default()
    };
    let city_dir = dir.path().join("city");
    let city = TestNode::start_with(&fed, &fed, CITY, &city_dir, loopback(), limits.clone()).await;
    // Both ends of a federation run with the same delta limit (it is not negotiated).
    let county = TestNode::start_with(
        &fed,
        &fed,
        COUNTY,
        &dir.path().join("county"),
        loopback(),
        limits.clone(),
    )
    .await;
    for chunk in 0..20 {
        county.submit(licences(
            COUNTY,
            COUNTY_DIVISION,
            chunk * 1_000,
            (chunk + 1) * 1_000,
        ));
    }
    let total = county.size(COUNTY);

    // Stop the city while the upload runs, wherever it is.
    let upload = {
        let transport = county.transport.clone();
        let ctx = Arc::clone(&county.ctx);
        let unacked = Arc::clone(&county.unacked);
        let addr = city.addr;
        tokio::spawn(async move {
            credx_node::sync::upload_once(&transport, ctx, CITY, addr, unacked).await
        })
    };
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while city.size(COUNTY) == 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let (city_dir_back, city_addr) = city.stop().await;
    let first = upload.await.unwrap();
    let mirrored_before_restart;
    {
        // Reopen: the mirror is whatever was durable when the city stopped.
        let city = TestNode::start_with(&fed, &fed, CITY, &city_dir_back, city_addr, limits).await;
        mirrored_before_restart = city.size(COUNTY);
        assert!(mirrored_before_restart <= total);
        let report = county.upload_to(&city).await.unwrap();
        assert_eq!(city.size(COUNTY), total);
        assert_eq!(
            city.store.root_at(COUNTY, total).unwrap(),
            county.store.root_at(COUNTY, total).unwrap()
        );
        assert_eq!(report.entries_sent, total - mirrored_before_restart);
        assert_eq!(resent_verified(&city, &[COUNTY]), 0);
        city.stop().await;
    }
    if first.is_ok() {
        // The upload finished before the stop took effect; the restart still had to agree.
        assert_eq!(mirrored_before_restart, total);
    }
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forked_child_is_rejected_with_evidence_and_the_origin_frozen() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (city, county, forked) = city_county_and_fork(&fed, dir.path(), 150).await;
    let size = city.size(COUNTY);
    let root = city.store.root_at(COUNTY, size).unwrap();
    let report = forked.upload_to(&city).await.unwrap();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].1, ErrorCode::InconsistentCheckpoint);

    // Evidence kept: both signed checkpoints; the origin is frozen; the mirror unchanged.
    let forks = city.store.forks(COUNTY).unwrap();
    assert_eq!(forks.len(), 1);
    assert!(!forks[0].evidence.first.is_empty() && !forks[0].evidence.second.is_empty());
    assert_ne!(forks[0].evidence.first, forks[0].evidence.second);
    assert!(city.store.is_frozen(COUNTY).unwrap());
    assert_eq!(city.size(COUNTY), size);
    assert_eq!(city.store.root_at(COUNTY, size).unwrap(), root);
    assert_eq!(SyncMetrics::total(&city.ctx.metrics.forks, &[COUNTY]), 1);

    // Even the honest history is refused until an operator clears the evidence.
    county.submit(licences(COUNTY, COUNTY_DIVISION, 100, 120));
    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.refused[0].1, ErrorCode::OriginFrozen);
    assert_eq!(city.size(COUNTY), size);
    city.store
        .clear_fork(COUNTY, "forked store retired by the operator")
        .unwrap();
    county.upload_to(&city).await.unwrap();
    assert_eq!(city.size(COUNTY), county.size(COUNTY));

    forked.stop().await;
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_at_the_size_the_parent_holds_is_shown_to_it_and_refused_with_evidence() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Another history of exactly the size the city holds: no entry to send, only the
    // checkpoint, which the city must see to find the fork.
    let (city, county, forked) = city_county_and_fork(&fed, dir.path(), 100).await;
    let size = city.size(COUNTY);
    assert_eq!(forked.size(COUNTY), size, "the fork has the mirror's size");
    let report = forked.upload_to(&city).await.unwrap();
    assert_eq!(report.entries_sent, 0, "{report:?}");
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].1, ErrorCode::InconsistentCheckpoint);
    assert!(report.synced.is_empty(), "{report:?}");
    assert_eq!(city.store.forks(COUNTY).unwrap().len(), 1);
    assert!(city.store.is_frozen(COUNTY).unwrap());
    assert_eq!(city.size(COUNTY), size);

    forked.stop().await;
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fork_found_while_deltas_are_pipelined_is_refused_once_and_the_session_goes_on() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let limits = SyncLimits {
        max_delta_entries: 1_000,
        ..SyncLimits::default()
    };
    let start = |name: &'static str, origin: &'static str| {
        let path = dir.path().join(name);
        let (fed, limits) = (&fed, limits.clone());
        async move { TestNode::start_with(fed, fed, origin, &path, loopback(), limits).await }
    };
    let city = start("city", CITY).await;
    let county = start("county", COUNTY).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 100));
    county.upload_to(&city).await.unwrap();
    let size = city.size(COUNTY);

    // Another history under the county's key, signed in four checkpoints: the child sends
    // the first delta and pipelines the second behind it.
    let forked = start("forked", COUNTY).await;
    for chunk in 0..4 {
        forked.submit(licences(
            COUNTY,
            COUNTY_DIVISION,
            5_000 + chunk * 500,
            5_000 + (chunk + 1) * 500,
        ));
    }
    let report = forked.upload_to(&city).await.unwrap();
    assert_eq!(report.refused.len(), 1, "{report:?}");
    assert_eq!(report.refused[0].1, ErrorCode::InconsistentCheckpoint);
    assert!(
        report.entries_sent > 1_000,
        "a second delta was pipelined: {report:?}"
    );
    assert!(city.store.is_frozen(COUNTY).unwrap());
    assert_eq!(city.store.forks(COUNTY).unwrap().len(), 1);
    assert_eq!(
        city.size(COUNTY),
        size,
        "nothing of either delta was stored"
    );

    // The session ended cleanly, so the next one is a normal one too.
    let again = forked.upload_to(&city).await.unwrap();
    assert_eq!(again.refused[0].1, ErrorCode::OriginFrozen);
    assert_eq!(city.size(COUNTY), size);

    forked.stop().await;
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_session_sends_no_proof_and_asks_for_no_cosignature() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (city, county) = city_and_county(&fed, dir.path()).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 50));
    county.upload_to(&city).await.unwrap();
    let cosigned = SyncMetrics::total(&county.ctx.metrics.cosignatures_stored, &[COUNTY]);
    assert!(cosigned >= 1);

    // Nothing new: the county learns the city's cursor, holds its cosignature, moves on.
    let idle = county.upload_to(&city).await.unwrap();
    assert_eq!(idle.entries_sent, 0);
    assert_eq!(idle.synced, vec![COUNTY.to_owned()]);
    assert_eq!(
        SyncMetrics::total(&county.ctx.metrics.cosignatures_stored, &[COUNTY]),
        cosigned,
        "no empty delta was cosigned again"
    );

    city.stop().await;
    county.stop().await;
}

fn offered_origins(messages: &[Message]) -> Vec<&str> {
    messages
        .iter()
        .filter_map(|m| match m {
            Message::OfferLog { origin, .. } => Some(origin.as_str()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_session_offers_every_origin_at_once_and_streams_deltas_of_several_origins() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (province, city, county) = three_nodes(&fed, dir.path()).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 40));
    county.upload_to(&city).await.unwrap();
    city.submit(licences(CITY, "440100", 0, 30));
    // The city has news of two logs for the province: its own and the county's mirror.
    let mut child = UploaderSession::new(
        Arc::clone(&city.ctx),
        PROVINCE,
        [3; 16],
        Arc::new(Unacknowledged::default()),
    )
    .unwrap();
    let mut parent = ReceiverSession::new(Arc::clone(&province.ctx), CITY);
    let exchange = |from: Vec<Message>, to: &mut dyn FnMut(Message) -> Vec<Message>| {
        from.into_iter().flat_map(to).collect::<Vec<Message>>()
    };
    tokio::task::block_in_place(|| {
        let hello_ack = parent.handle(child.start()).unwrap();
        let offers = exchange(hello_ack, &mut |m| child.handle(m).unwrap());
        assert_eq!(
            offered_origins(&offers),
            vec![CITY, COUNTY],
            "every origin is offered before any answer"
        );
        assert_eq!(offers.len(), 2, "{offers:?}");
        let cursors = exchange(offers, &mut |m| parent.handle(m).unwrap());
        assert!(cursors
            .iter()
            .all(|m| matches!(m, Message::CursorIs { .. })));
        let mut to_parent = exchange(cursors, &mut |m| child.handle(m).unwrap());
        assert_eq!(
            offered_origins(&to_parent),
            vec![CITY, COUNTY],
            "the deltas of both origins go out without waiting for an answer"
        );
        while !child.is_done() {
            let answers = exchange(std::mem::take(&mut to_parent), &mut |m| {
                parent.handle(m).unwrap()
            });
            assert!(!answers.is_empty(), "the session stalled");
            to_parent = exchange(answers, &mut |m| child.handle(m).unwrap());
        }
        for m in to_parent {
            parent.handle(m).unwrap();
        }
    });
    assert!(child.report().refused.is_empty(), "{:?}", child.report());
    let mut synced = child.report().synced.clone();
    synced.sort();
    assert_eq!(
        synced,
        vec![CITY, COUNTY],
        "each origin reported up to date once"
    );
    for origin in [CITY, COUNTY] {
        assert_eq!(province.size(origin), city.size(origin), "{origin}");
    }
    assert_eq!(
        SyncMetrics::total(&city.ctx.metrics.cosignatures_stored, &[CITY, COUNTY]),
        2,
        "one cosignature per delta, stored"
    );
    province.stop().await;
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entries_outside_the_childs_jurisdiction_end_the_session_and_change_nothing() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (city, county) = city_and_county(&fed, dir.path()).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 50));
    county.upload_to(&city).await.unwrap();
    let size = city.size(COUNTY);

    // 越秀区 (440104) is in the city but not in this county.
    county.submit(licences(COUNTY, "440104", 0, 10));
    let failure = county.upload_to(&city).await.unwrap_err();
    match &failure {
        SyncFailure::Session(end) => {
            assert_eq!(end.code, ErrorCode::OutOfJurisdiction, "{end}");
            assert!(end.by_peer);
            assert!(end.detail.contains(COUNTY), "{}", end.detail);
        }
        other => panic!("expected the parent's refusal, got {other}"),
    }
    assert_eq!(
        city.size(COUNTY),
        size,
        "nothing of the refused delta was stored"
    );
    let refused = city
        .ctx
        .metrics
        .rejections
        .get_or_create(&credx_node::sync::metrics::RejectionLabels {
            kind: "out_of_jurisdiction".into(),
        })
        .get();
    assert_eq!(refused, 1);
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_with_a_certificate_from_another_ca_is_refused() {
    let fed = TestFederation::three_level().unwrap();
    let foreign = fed.foreign().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let city = TestNode::start(&fed, CITY, &dir.path().join("city"), loopback()).await;
    let impostor = TestNode::start_with(
        &fed,
        &foreign,
        COUNTY,
        &dir.path().join("impostor"),
        loopback(),
        SyncLimits::default(),
    )
    .await;
    impostor.submit(licences(COUNTY, COUNTY_DIVISION, 0, 10));
    let failure = impostor.upload_to(&city).await.unwrap_err();
    assert!(matches!(failure, SyncFailure::Transport(_)), "{failure}");
    assert_eq!(city.size(COUNTY), 0);
    city.stop().await;
    impostor.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_child_keeps_ingesting_while_the_parent_is_down_and_catches_up() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (city, county) = city_and_county(&fed, dir.path()).await;
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 100));
    county.upload_to(&city).await.unwrap();
    let (city_dir, city_addr) = city.stop().await;

    county.submit(licences(COUNTY, COUNTY_DIVISION, 100, 300));
    assert!(county.upload_to_addr(CITY, city_addr).await.is_err());
    county.submit(licences(COUNTY, COUNTY_DIVISION, 300, 400));

    let city = TestNode::start(&fed, CITY, &city_dir, city_addr).await;
    county.upload_to(&city).await.unwrap();
    assert_eq!(city.size(COUNTY), county.size(COUNTY));
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_newer_roster_flows_down_and_an_expired_one_is_refused() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (city, county) = city_and_county(&fed, dir.path()).await;
    let now = credx_node::federation::roster_file::unix_now();
    let v1 = fed.roster().version();

    // An expired roster from the parent is refused; the child keeps working on its own.
    let expired = fed.sign_roster(v1 + 1, now - 7_200, now - 3_600).unwrap();
    assert!(county.ctx.roster.offer(&expired.to_bytes(), now).is_err());
    assert_eq!(county.ctx.roster.current().version(), v1);

    // The parent adopts a newer one; the child gets it in its next session.
    let newer = fed.sign_roster(v1 + 2, now, now + 86_400).unwrap();
    assert!(city.ctx.roster.offer(&newer.to_bytes(), now).unwrap());
    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 10));
    let report = county.upload_to(&city).await.unwrap();
    assert!(report.roster_adopted);
    assert_eq!(county.ctx.roster.current().version(), v1 + 2);
    city.stop().await;
    county.stop().await;
}

#[test]
fn hello_from_a_node_that_is_not_a_child_is_refused() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let fed = TestFederation::three_level().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let province =
            TestNode::start(&fed, PROVINCE, &dir.path().join("province"), loopback()).await;
        // The county is the city's child, not the province's.
        let mut session = ReceiverSession::new(Arc::clone(&province.ctx), COUNTY);
        let end = session
            .handle(Message::Hello {
                protocol_version: credx_protocol::wire::PROTOCOL_VERSION,
                node: COUNTY.into(),
                roster_version: 1,
                session_id: [0; 16],
            })
            .unwrap_err();
        assert_eq!(end.code, ErrorCode::NotInRoster);
        province.stop().await;
    });
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_feed_page_stops_at_the_size_it_states_while_the_feed_grows() {
    use credx_node::sync::feed::serve_page_as_of;
    use credx_node::synthetic::black_list_entry;
    use credx_protocol::wire::Message;
    use credx_storage::FeedStore;

    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (province, city, county) = three_nodes(&fed, dir.path()).await;
    province.submit(vec![black_list_entry(PROVINCE, "440000", 7).unwrap()]);
    // The page is being built for the size read here when another list entry lands.
    let stated = province.store.feed_size().unwrap();
    assert_eq!(stated, 1);
    province.submit(vec![black_list_entry(PROVINCE, "440000", 8).unwrap()]);
    assert_eq!(province.store.feed_size().unwrap(), 2);

    let page = serve_page_as_of(province.store.as_ref(), stated, 0, 100).unwrap();
    let Message::FeedPage {
        feed_size, items, ..
    } = &page
    else {
        panic!("not a feed page: {page:?}");
    };
    assert_eq!(
        (*feed_size, items.len()),
        (1, 1),
        "the page stops at its size"
    );
    page.encode()
        .expect("a page the child can decode (items past feed_size are refused)");

    province.stop().await;
    city.stop().await;
    county.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_flow_down_the_tree_with_proofs() {
    use credx_node::synthetic::black_list_entry;
    use credx_storage::FeedStore;

    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (province, city, county) = three_nodes(&fed, dir.path()).await;

    // A provincial black-list entry, and a county one with ordinary licences around it.
    province.submit(vec![black_list_entry(PROVINCE, "440000", 7).unwrap()]);
    let mut county_entries = licences(COUNTY, COUNTY_DIVISION, 0, 20);
    county_entries.push(black_list_entry(COUNTY, COUNTY_DIVISION, 8).unwrap());
    county.submit(county_entries);
    assert_eq!(province.store.feed_size().unwrap(), 1);
    assert_eq!(
        county.store.feed_size().unwrap(),
        1,
        "only the list entry is in the feed"
    );

    // Up: county → city → province. The city's feed holds the county's list entry, which
    // comes back to the county as an echo and is not kept.
    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.feed_items, 0);
    city.wait_indexed();
    let report = city.upload_to(&province).await.unwrap();
    assert_eq!(
        report.feed_items, 1,
        "the province's own list entry comes down"
    );
    province.wait_indexed();
    assert_eq!(province.store.feed_size().unwrap(), 2);

    // Down again: the city passes the province's entry on to the county, with its proof.
    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.feed_items, 1);
    let province_index = province.size(PROVINCE) - 1;
    let received = county
        .store
        .received_entry(PROVINCE, province_index)
        .unwrap()
        .expect("the county holds the province's list entry");
    let checkpoint = credx_protocol::note::SignedCheckpoint::parse(&received.checkpoint).unwrap();
    checkpoint
        .verify(fed.roster().checkpoint_key(PROVINCE).unwrap())
        .unwrap();
    verify_inclusion(
        &leaf_hash(&received.entry),
        province_index,
        checkpoint.checkpoint().size,
        &received.inclusion,
        &checkpoint.checkpoint().root,
    )
    .unwrap();
    // Nothing more to pull: positions are remembered.
    let report = county.upload_to(&city).await.unwrap();
    assert_eq!(report.feed_items, 0);
    assert_eq!(county.store.received_position(CITY).unwrap(), 2);

    province.stop().await;
    city.stop().await;
    county.stop().await;
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_restored_from_an_old_backup_still_passes_its_subtree_up() {
    let fed = TestFederation::three_level().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (province, city, county) = three_nodes(&fed, dir.path()).await;
    city.submit(licences(CITY, "440100", 0, 3));
    city.upload_to(&province).await.unwrap();
    let (city_dir, city_addr) = city.stop().await;
    let backup = dir.path().join("city-backup");
    copy_dir(&city_dir, &backup);

    // The city goes on, and the province mirrors more of it than the backup holds.
    let city = TestNode::start(&fed, CITY, &city_dir, city_addr).await;
    city.submit(licences(CITY, "440100", 3, 8));
    city.upload_to(&province).await.unwrap();
    let province_has = province.size(CITY);
    city.stop().await;

    // Restore the backup (store and signing files together, as a careless restore would).
    std::fs::remove_dir_all(&city_dir).unwrap();
    copy_dir(&backup, &city_dir);
    let city = TestNode::start(&fed, CITY, &city_dir, city_addr).await;
    let ours = city.size(CITY);
    assert!(ours < province_has);

    county.submit(licences(COUNTY, COUNTY_DIVISION, 0, 50));
    county.upload_to(&city).await.unwrap();
    let report = city.upload_to(&province).await.unwrap();
    assert_eq!(
        report.behind_parent,
        vec![(CITY.to_owned(), province_has, ours)]
    );
    assert_eq!(
        province.size(COUNTY),
        county.size(COUNTY),
        "the county's log went up although the city's own log could not"
    );
    assert_eq!(
        province.size(CITY),
        province_has,
        "the province's copy is untouched"
    );
    county.stop().await;
    city.stop().await;
    province.stop().await;
}
