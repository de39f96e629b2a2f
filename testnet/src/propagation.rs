//! Propagation during a load, level by level: each batch's answer says the size of the
//! county's signed checkpoint covering it; the `/metrics` of every ancestor of the counties
//! (cities, provinces, the national node) is polled every 50 ms, and a batch has reached a
//! level when that ancestor's mirror of the county reaches the size.
//!
//! Latency runs from the county's answer (records durable and checkpointed) to the first
//! poll that sees them at the ancestor, so it includes the sync interval at every level
//! and overstates by up to one poll period plus a scrape.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::metrics::Scrape;

const POLL: Duration = Duration::from_millis(50);

/// A county's ancestors, nearest first: (origin, level name).
pub type Ancestors = Vec<(String, String)>;

/// A batch answered by its county and not yet seen at every ancestor.
#[derive(Debug)]
struct Batch {
    origin: String,
    size: u64,
    answered: Instant,
    /// Per ancestor (nearest first): whether the batch was seen there.
    seen: Vec<bool>,
}

/// Batches answered and not yet seen everywhere, and the latencies so far.
#[derive(Debug, Default)]
pub struct Tracker {
    /// County origin → its ancestors.
    chains: HashMap<String, Ancestors>,
    pending: Mutex<Vec<Batch>>,
    /// Level name → the batches seen there.
    latencies: Mutex<HashMap<String, Vec<Arrival>>>,
    load_done: AtomicBool,
}

/// A batch seen at one level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arrival {
    /// The county whose batch it was.
    pub origin: String,
    pub answered: Instant,
    pub latency: Duration,
}

/// Latency percentiles of the batches of a run at one level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Percentiles {
    pub batches: usize,
    pub p50: Duration,
    pub p90: Duration,
    pub p99: Duration,
    pub max: Duration,
    /// Batches not seen at this level before the watch gave up.
    pub unresolved: usize,
}

impl Tracker {
    /// A tracker for counties whose ancestors are `chains` (county origin → ancestors).
    pub fn new(chains: HashMap<String, Ancestors>) -> Tracker {
        Tracker {
            chains,
            ..Tracker::default()
        }
    }

    /// The ancestor nodes to poll (origins).
    pub fn watched(&self) -> Vec<String> {
        let mut nodes: Vec<String> = self
            .chains
            .values()
            .flatten()
            .map(|(origin, _)| origin.clone())
            .collect();
        nodes.sort();
        nodes.dedup();
        nodes
    }

    /// A batch of `origin` answered now, covered by its checkpoint of `size`.
    pub fn answered(&self, origin: &str, size: u64) {
        let levels = self.chains.get(origin).map_or(0, Vec::len);
        if let Ok(mut pending) = self.pending.lock() {
            pending.push(Batch {
                origin: origin.to_owned(),
                size,
                answered: Instant::now(),
                seen: vec![false; levels],
            });
        }
    }

    /// No more batches will come.
    pub fn load_done(&self) {
        self.load_done.store(true, Ordering::Relaxed);
    }

    /// Polls the ancestors (`urls`: origin → `/metrics` address) until the load is done
    /// and every batch has arrived everywhere, or `drain` after the load ended.
    pub async fn watch(
        &self,
        client: &reqwest::Client,
        urls: &HashMap<String, String>,
        drain: Duration,
    ) {
        let mut drain_deadline = None;
        loop {
            tokio::time::sleep(POLL).await;
            let mut sizes = HashMap::new();
            for (origin, url) in urls {
                if let Some(mirrors) = mirror_sizes(client, url).await {
                    sizes.insert(origin.clone(), mirrors);
                }
            }
            self.resolve(&sizes);
            if self.load_done.load(Ordering::Relaxed) {
                let deadline = *drain_deadline.get_or_insert_with(|| Instant::now() + drain);
                let empty = self.pending.lock().map(|p| p.is_empty()).unwrap_or(true);
                if empty || Instant::now() > deadline {
                    return;
                }
            }
        }
    }

    /// `sizes`: ancestor origin → (mirrored origin → size), as just polled.
    fn resolve(&self, sizes: &HashMap<String, HashMap<String, u64>>) {
        let now = Instant::now();
        let (Ok(mut pending), Ok(mut latencies)) = (self.pending.lock(), self.latencies.lock())
        else {
            return;
        };
        pending.retain_mut(|batch| {
            let Some(chain) = self.chains.get(&batch.origin) else {
                return false;
            };
            for ((ancestor, level), seen) in chain.iter().zip(batch.seen.iter_mut()) {
                let arrived = sizes
                    .get(ancestor)
                    .and_then(|mirrors| mirrors.get(&batch.origin))
                    .is_some_and(|have| *have >= batch.size);
                if arrived && !*seen {
                    *seen = true;
                    latencies.entry(level.clone()).or_default().push(Arrival {
                        origin: batch.origin.clone(),
                        answered: batch.answered,
                        latency: now.saturating_duration_since(batch.answered),
                    });
                }
            }
            !batch.seen.iter().all(|s| *s)
        });
    }

    /// The percentiles at each level, nearest level first, once the watch is over (levels
    /// where no batch arrived are left out).
    pub fn levels(&self) -> Vec<(String, Percentiles)> {
        let mut order: Vec<(usize, String)> = self
            .chains
            .values()
            .flat_map(|chain| {
                chain
                    .iter()
                    .enumerate()
                    .map(|(depth, (_, level))| (depth, level.clone()))
            })
            .collect();
        order.sort();
        order.dedup_by(|a, b| a.1 == b.1);
        order
            .into_iter()
            .filter_map(|(_, level)| Some((level.clone(), self.percentiles_at(&level)?)))
            .collect()
    }

    /// The percentiles at the top level (the national node), once the watch is over
    /// (`None`: no batch arrived there).
    pub fn percentiles(&self) -> Option<Percentiles> {
        let top = self
            .chains
            .values()
            .filter_map(|chain| chain.last())
            .map(|(_, level)| level.clone())
            .next()?;
        self.percentiles_at(&top)
    }

    /// The `n` slowest batches seen at the top level, slowest first: when a tail happens
    /// (all counties at once: a stall above them; one county: its own path) is the first
    /// question about it.
    pub fn slowest(&self, n: usize) -> Vec<Arrival> {
        let top = self
            .chains
            .values()
            .filter_map(|chain| chain.last())
            .map(|(_, level)| level.clone())
            .next();
        let Some(mut arrivals) = top.and_then(|top| self.latencies.lock().ok()?.get(&top).cloned())
        else {
            return Vec::new();
        };
        arrivals.sort_by_key(|a| std::cmp::Reverse(a.latency));
        arrivals.truncate(n);
        arrivals
    }

    fn percentiles_at(&self, level: &str) -> Option<Percentiles> {
        let mut latencies: Vec<Duration> = self
            .latencies
            .lock()
            .ok()?
            .get(level)?
            .iter()
            .map(|a| a.latency)
            .collect();
        let unresolved = self
            .pending
            .lock()
            .map(|pending| {
                pending
                    .iter()
                    .filter(|batch| {
                        let chain = self.chains.get(&batch.origin);
                        chain.is_some_and(|chain| {
                            chain
                                .iter()
                                .zip(&batch.seen)
                                .any(|((_, l), seen)| l == level && !seen)
                        })
                    })
                    .count()
            })
            .unwrap_or(0);
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

    fn chain(pairs: &[(&str, &str)]) -> Ancestors {
        pairs
            .iter()
            .map(|(o, l)| (o.to_string(), l.to_string()))
            .collect()
    }

    fn polled(node: &str, mirrors: &[(&str, u64)]) -> (String, HashMap<String, u64>) {
        (
            node.to_owned(),
            mirrors.iter().map(|(o, s)| (o.to_string(), *s)).collect(),
        )
    }

    #[test]
    fn a_batch_reaches_each_level_when_its_mirror_there_reaches_the_checkpoint() {
        let tracker = Tracker::new(HashMap::from([
            (
                "a.credx".to_owned(),
                chain(&[("city", "city"), ("cn", "national")]),
            ),
            (
                "b.credx".to_owned(),
                chain(&[("city", "city"), ("cn", "national")]),
            ),
        ]));
        assert_eq!(tracker.watched(), vec!["city".to_owned(), "cn".to_owned()]);
        tracker.answered("a.credx", 10);
        tracker.answered("a.credx", 20);
        tracker.answered("b.credx", 5);
        tracker.resolve(&HashMap::from([polled("city", &[("a.credx", 15)])]));
        tracker.resolve(&HashMap::from([
            polled("city", &[("a.credx", 20), ("b.credx", 5)]),
            polled("cn", &[("a.credx", 20), ("b.credx", 4)]),
        ]));
        let levels = tracker.levels();
        let names: Vec<&str> = levels.iter().map(|(l, _)| l.as_str()).collect();
        assert_eq!(names, vec!["city", "national"]);
        assert_eq!((levels[0].1.batches, levels[0].1.unresolved), (3, 0));
        let top = tracker.percentiles().unwrap();
        assert_eq!((top.batches, top.unresolved), (2, 1));
        assert!(top.p50 <= top.p99 && top.p99 <= top.max);
        // Batch b is still pending (not yet at the national node); the others are done.
        assert_eq!(tracker.pending.lock().unwrap().len(), 1);
    }
}
