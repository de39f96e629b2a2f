//! The department API of a test node over loopback HTTP: the router served by axum on a
//! real TCP port, a JSON client, and a clock tests can move forward.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use credx_node::api::{router, ApiState, Clock, TokenStore};
use credx_storage::Sequencer;
use serde_json::Value;

use super::TestNode;

/// A clock shared by the nodes of a test, moved forward by hand (Unix seconds).
#[derive(Clone, Debug)]
pub struct TestClock(Arc<AtomicU64>);

impl TestClock {
    pub fn at(unix_seconds: u64) -> TestClock {
        TestClock(Arc::new(AtomicU64::new(unix_seconds)))
    }

    /// The API's clock, reading this one.
    pub fn clock(&self) -> Clock {
        let secs = Arc::clone(&self.0);
        Arc::new(move || -> SystemTime {
            UNIX_EPOCH + Duration::from_secs(secs.load(Ordering::SeqCst))
        })
    }

    pub fn advance_days(&self, days: u64) {
        self.0.fetch_add(days * 86_400, Ordering::SeqCst);
    }

    /// Moves forward one second (entries of different nodes then differ in time).
    pub fn tick(&self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The API served for one node.
pub struct ApiServer {
    pub base: String,
    pub http: reqwest::Client,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ApiServer {
    /// Serves `state` on a loopback port until [`ApiServer::stop`].
    pub async fn serve(state: ApiState) -> ApiServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, router(state))
                .with_graceful_shutdown(async move {
                    let _ = rx.await;
                })
                .await
                .unwrap();
        });
        ApiServer {
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            stop: Some(tx),
            task,
        }
    }

    pub async fn post(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        let resp = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> (u16, Value) {
        let mut req = self.http.get(format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap())
    }

    /// Stops serving and waits until the state (and the sequencer and store it holds)
    /// is released.
    pub async fn stop(mut self) {
        drop(self.http);
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = tokio::time::timeout(Duration::from_secs(10), &mut self.task).await;
        self.task.abort();
    }
}

impl TestNode {
    /// Hands this node's sequencer to a department API with `tokens` and `clock`; from
    /// then on write through the API ([`TestNode::submit`] needs the sequencer).
    pub fn api_state(&mut self, tokens: TokenStore, clock: Clock) -> ApiState {
        self.api_state_and_sequencer(tokens, clock).0
    }

    /// Like [`TestNode::api_state`], also returning the sequencer, for tests that write
    /// entries the API would not (a repeated push). Drop it before restarting the node.
    pub fn api_state_and_sequencer(
        &mut self,
        tokens: TokenStore,
        clock: Clock,
    ) -> (ApiState, Arc<Sequencer>) {
        let sequencer = Arc::new(self.sequencer.take().expect("the node's sequencer"));
        let state = ApiState::new(
            self.origin.clone(),
            self.store.clone(),
            Arc::clone(&sequencer),
            Arc::new(tokens),
        )
        .with_clock(clock);
        (state, sequencer)
    }
}
