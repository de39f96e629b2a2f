//! A federation node for sync tests and benchmarks: real RocksDB in a temp dir, a real
//! sequencer signing its own log, a real QUIC endpoint with certificates from the test
//! federation's CA, and the sync receiver serving its children.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use credx_node::federation::TestFederation;
use credx_node::health::{HealthBook, HealthSettings};
use credx_node::sync::{
    serve, upload_once, MirrorIndexer, RosterAuthorizer, SharedRoster, SyncContext, SyncFailure,
    SyncLimits, SyncMetrics, Unacknowledged, UploadReport,
};
use credx_node::synthetic::SyntheticLicences;
use credx_node::transport::tls::{client_config, server_config};
use credx_node::transport::{Transport, TransportLimits};
use credx_storage::{
    EntryPlanner, LogRole, LogStore, RocksStorage, Sequencer, SequencerConfig, Storage,
    StorageOptions,
};

pub struct TestNode {
    pub origin: String,
    pub dir: PathBuf,
    pub store: Arc<RocksStorage>,
    pub sequencer: Option<Sequencer>,
    pub ctx: Arc<SyncContext>,
    pub transport: Transport,
    pub addr: SocketAddr,
    pub unacked: Arc<Unacknowledged>,
    server: tokio::task::JoinHandle<()>,
}

impl TestNode {
    /// Starts `origin` of `fed` with its data in `dir` (created if missing; reused on
    /// restart), listening on `addr` (port 0 picks one).
    pub async fn start(
        fed: &TestFederation,
        origin: &str,
        dir: &Path,
        addr: SocketAddr,
    ) -> TestNode {
        Self::start_with(fed, fed, origin, dir, addr, SyncLimits::default()).await
    }

    /// `tls_fed` provides the TLS identity and trust anchors (another federation's, for
    /// negative tests); `fed` everything else.
    pub async fn start_with(
        fed: &TestFederation,
        tls_fed: &TestFederation,
        origin: &str,
        dir: &Path,
        addr: SocketAddr,
        limits: SyncLimits,
    ) -> TestNode {
        let creds = fed.node(origin).unwrap();
        let tls_creds = tls_fed.node(origin).unwrap();
        std::fs::create_dir_all(dir.join("db")).unwrap();
        std::fs::create_dir_all(dir.join("checkpoints")).unwrap();
        // A restarted node may find its previous incarnation's last session task still
        // releasing the database; retry briefly.
        let mut attempts = 0;
        let store = loop {
            match RocksStorage::open(dir.join("db"), &StorageOptions::default()) {
                Ok(store) => break Arc::new(store),
                Err(e) if attempts < 100 => {
                    attempts += 1;
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                Err(e) => panic!("opening {}: {e}", dir.display()),
            }
        };
        store.register_log(origin, LogRole::Own).unwrap();
        let mut config = SequencerConfig::new(dir.join("checkpoints"));
        config.max_batch_delay = Duration::from_millis(5);
        let sequencer = Sequencer::start(
            Arc::clone(&store),
            creds.checkpoint_signer().clone(),
            EntryPlanner::new(origin),
            config,
        )
        .unwrap();
        let roster = Arc::new(SharedRoster::new(fed.roster().clone(), None));
        let roots = tls_fed.roots().unwrap();
        let server = server_config(tls_creds.tls(), &roots).unwrap();
        let client = client_config(tls_creds.tls(), &roots).unwrap();
        let authorizer = Arc::new(RosterAuthorizer::new(origin, Arc::clone(&roster)));
        let transport = Transport::bind(
            addr,
            Some(server),
            client,
            authorizer,
            TransportLimits::default(),
        )
        .unwrap();
        let addr = transport.local_addr().unwrap();
        let dyn_store: Arc<dyn Storage> = store.clone();
        let indexer = Arc::new(MirrorIndexer::start(Arc::clone(&dyn_store)).unwrap());
        let health = Arc::new(HealthBook::new(
            origin,
            Arc::clone(&dyn_store),
            Arc::clone(&roster),
            creds.checkpoint_signer().clone(),
            HealthSettings::default(),
            0,
        ));
        let ctx = Arc::new(SyncContext {
            origin: origin.to_owned(),
            store: dyn_store,
            roster,
            cosigner: creds.cosigner().clone(),
            limits,
            metrics: SyncMetrics::default(),
            indexer,
            health,
            log_advanced: Arc::new(tokio::sync::Notify::new()),
        });
        let server = tokio::spawn(serve(transport.clone(), Arc::clone(&ctx)));
        TestNode {
            origin: origin.to_owned(),
            dir: dir.to_owned(),
            store,
            sequencer: Some(sequencer),
            ctx,
            transport,
            addr,
            unacked: Arc::new(Unacknowledged::default()),
            server,
        }
    }

    /// Appends `entries` to this node's own log and waits until they are checkpointed.
    pub fn submit(&self, entries: Vec<Vec<u8>>) {
        let sequencer = self.sequencer.as_ref().unwrap();
        for chunk in entries.chunks(4096) {
            sequencer
                .submit_many(chunk.to_vec())
                .unwrap()
                .wait()
                .unwrap();
        }
    }

    /// One upload session to `parent`.
    pub async fn upload_to(&self, parent: &TestNode) -> Result<UploadReport, SyncFailure> {
        upload_once(
            &self.transport,
            Arc::clone(&self.ctx),
            &parent.origin,
            parent.addr,
            Arc::clone(&self.unacked),
        )
        .await
    }

    /// One upload session to the node `parent` at `addr` (which may be down).
    pub async fn upload_to_addr(
        &self,
        parent: &str,
        addr: SocketAddr,
    ) -> Result<UploadReport, SyncFailure> {
        upload_once(
            &self.transport,
            Arc::clone(&self.ctx),
            parent,
            addr,
            Arc::clone(&self.unacked),
        )
        .await
    }

    /// Waits until this node's mirrors are indexed (feed, indexes, status map).
    pub fn wait_indexed(&self) {
        assert!(
            self.ctx.indexer.wait_caught_up(Duration::from_secs(60)),
            "{}: mirror indexing did not catch up",
            self.origin
        );
    }

    pub fn size(&self, origin: &str) -> u64 {
        self.store.log_size(origin).unwrap_or(0)
    }

    /// Stops the node (endpoint closed, sequencer shut down, store closed) and returns
    /// its data directory and address for a restart.
    pub async fn stop(mut self) -> (PathBuf, SocketAddr) {
        self.transport.close("node stopping");
        self.server.abort();
        let _ = (&mut self.server).await;
        if let Some(sequencer) = self.sequencer.take() {
            tokio::task::block_in_place(|| sequencer.shutdown());
        }
        self.transport.wait_idle().await;
        let (dir, addr) = (self.dir.clone(), self.addr);
        drop(self);
        (dir, addr)
    }
}

/// Licence entries for `origin`, whose authority lies in `division`.
pub fn licences(origin: &str, division: &str, from: u64, to: u64) -> Vec<Vec<u8>> {
    SyntheticLicences::new(origin, division)
        .unwrap()
        .entries(from, to)
}

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().unwrap()
}
pub mod api_node;
