//! Propagation county → national during a load: each batch's answer says the size of the
//! county's signed checkpoint covering it; the national node's `/metrics` is polled every
//! 50 ms, and a batch has arrived when the national mirror of that county reaches the size.
//!
//! Latency runs from the county's answer (records durable and checkpointed) to the first
//! poll that sees them at the national node, so it includes the sync interval at every
//! level and overstates by up to one poll period plus a scrape.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::metrics::Scrape;

const POLL: Duration = Duration::from_millis(50);

/// Batches answered and not yet seen at the national node, and the latencies so far.
#[derive(Debug, Default)]
pub struct Tracker {
    pending: Mutex<Vec<(String, u64, Instant)>>,
    latencies: Mutex<Vec<Duration>>,
    load_done: AtomicBool,
}

/// Latency percentiles of the batches of a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    pub batches: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Batches not seen at the national node before the watch gave up.
    pub unresolved: usize,
}

impl Tracker {
    /// A batch of `origin` answered now, covered by its checkpoint of `size`.
    pub fn answered(&self, origin: &str, size: u64) {
        if let Ok(mut pending) = self.pending.lock() {
            pending.push((origin.to_owned(), size, Instant::now()));
        }
    }

    /// No more batches will come.
    pub fn load_done(&self) {
        self.load_done.store(true, Ordering::Relaxed);
    }

    /// Polls the national node until the load is done and every batch has arrived, or
    /// `drain` after the load ended.
    pub async fn watch(&self, client: &reqwest::Client, national_metrics: &str, drain: Duration) {
        let mut drain_deadline = None;
        loop {
            tokio::time::sleep(POLL).await;
            if let Some(sizes) = mirror_sizes(client, national_metrics).await {
                self.resolve(&sizes);
            }
            if self.load_done.load(Ordering::Relaxed) {
                let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + drain);
                let empty = self.pending.lock().map(|p| p.is_empty()).unwrap_or(true);
                if empty || Instant::now() > deadline {
                    return;
                }
            }
        }
    }

    fn resolve(&self, sizes: &HashMap<String, u64>) {
        let now = Instant::now();
        let (Ok(mut pending), Ok(mut latencies)) = (self.pending.lock(), self.latencies.lock())
        else {
            return;
        };
        pending.retain(|(origin, size, answered)| {
            let arrived = sizes.get(origin).is_some_and(|have| have >= size);
            if arrived {
                latencies.push(now.saturating_duration_since(*answered));
            }
            !arrived
        });
    }

    /// The percentiles, once the watch is over (`None`: no batch was answered).
    pub fn percentiles(&self) -> Option<Percentiles> {
        let mut latencies = self.latencies.lock().ok()?.clone();
        let unresolved = self.pending.lock().map(|p| p.len()).unwrap_or(0);
        latencies.sort();
        let at = |q: f64| {
            let rank = ((q * latencies.len() as f64).ceil() as usize).max(1);
            latencies.get(rank - 1).copied()
        };
        Some(Percentiles {
            batches: latencies.len(),
            p50: at(0.50)?,
            p90: at(0.90)?,
            p99: at(0.99)?,
            max: latencies.last().copied()?,
            unresolved,
        })
    }
}

async fn mirror_sizes(client: &reqwest::Client, url: &str) -> Option<HashMap<String, u64>> {
    let text = client
        .get(url)
        .timeout(Duration::from_secs(2))
        .send()
        .await
        .ok()?
        .text()
        .await
        .ok()?;
    let scrape = Scrape::parse(&text);
    Some(
        scrape
            .matching("credx_log_entries", &[("role", "mirror")])
            .filter_map(|s| Some((s.labels.get("origin")?.clone(), s.value.max(0.0) as u64)))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_batch_arrives_when_the_mirror_reaches_its_checkpoint() {
        let tracker = Tracker::default();
        tracker.answered("a.credx", 10);
        tracker.answered("a.credx", 20);
        tracker.answered("b.credx", 5);
        tracker.resolve(&HashMap::from([("a.credx".to_owned(), 15)]));
        assert_eq!(tracker.latencies.lock().unwrap().len(), 1);
        tracker.resolve(&HashMap::from([
            ("a.credx".to_owned(), 20),
            ("b.credx".to_owned(), 4),
        ]));
        let p = tracker.percentiles().unwrap();
        assert_eq!((p.batches, p.unresolved), (2, 1));
        assert!(p.p50 <= p.p99 && p.p99 <= p.max);
    }
}
