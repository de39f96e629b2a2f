//! What a child knows about its edge to the parent, per origin it sends up: the signed
//! size it holds, when each checkpoint was first seen, and what the parent acknowledged.
//! Feeds the edge window (one observation per upload attempt), the lag metrics and the
//! `upstream` part of the node's health report.

use std::collections::{BTreeMap, VecDeque};

use super::edge_status::{EdgeRules, EdgeWindow, Observation, Outcome};

/// Checkpoint sightings kept per origin. When full, the newest sighting is overwritten,
/// so the oldest unacknowledged checkpoint (which sets `lag_ms`) is never lost.
const MAX_SIGHTINGS: usize = 64;

/// One origin's state.
#[derive(Debug, Clone, Default)]
struct OriginState {
    /// (checkpoint size, first seen Unix ms), increasing sizes, beyond the acknowledged size.
    sightings: VecDeque<(u64, u64)>,
    /// The latest checkpoint size seen, and when.
    latest: Option<(u64, u64)>,
    /// What the parent acknowledged; `None` until its first `CursorIs` or `Accepted`.
    acked: Option<u64>,
}

impl OriginState {
    fn prune(&mut self) {
        let acked = self.acked.unwrap_or(0);
        while self
            .sightings
            .front()
            .is_some_and(|&(size, _)| size <= acked)
        {
            self.sightings.pop_front();
        }
    }
}

/// The lag of one origin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginLag {
    pub local: u64,
    pub acked: u64,
    pub entries: u64,
    /// Age of the oldest unacknowledged checkpoint; 0 when caught up.
    pub ms: u64,
}

/// The child's side of the edge.
#[derive(Debug)]
pub struct UpstreamTracker {
    origins: BTreeMap<String, OriginState>,
    window: EdgeWindow,
    /// An acknowledged size went down since the last observation.
    rewound: bool,
}

impl UpstreamTracker {
    pub fn new(rules: EdgeRules, now_ms: u64) -> UpstreamTracker {
        UpstreamTracker {
            origins: BTreeMap::new(),
            window: EdgeWindow::new(rules, now_ms),
            rewound: false,
        }
    }

    /// This node holds `origin` signed up to `size` (seen at `now_ms`).
    pub fn signed(&mut self, origin: &str, size: u64, now_ms: u64) {
        let state = self.origins.entry(origin.to_owned()).or_default();
        if state.latest.is_some_and(|(latest, _)| latest >= size) {
            return;
        }
        state.latest = Some((size, now_ms));
        if size > state.acked.unwrap_or(0) {
            if state.sightings.len() >= MAX_SIGHTINGS {
                state.sightings.pop_back();
            }
            state.sightings.push_back((size, now_ms));
        }
    }

    /// The parent holds `origin` up to `size` (its cursor, or what it just accepted).
    pub fn acknowledged(&mut self, origin: &str, size: u64) {
        let state = self.origins.entry(origin.to_owned()).or_default();
        if state.acked.is_some_and(|acked| size < acked) {
            self.rewound = true;
        }
        state.acked = Some(size);
        state.prune();
    }

    /// When the latest checkpoint of `origin` was first seen, and its size.
    pub fn latest_checkpoint(&self, origin: &str) -> Option<(u64, u64)> {
        self.origins.get(origin).and_then(|s| s.latest)
    }

    /// The lag of every origin seen, at `now_ms`.
    pub fn lags(&self, now_ms: u64) -> Vec<(String, OriginLag)> {
        self.origins
            .iter()
            .map(|(origin, state)| {
                let local = state.latest.map_or(0, |(size, _)| size);
                let acked = state.acked.unwrap_or(0).min(local);
                let entries = local - acked;
                let ms = if entries == 0 {
                    0
                } else {
                    state
                        .sightings
                        .front()
                        .map_or(0, |&(_, seen)| now_ms.saturating_sub(seen))
                };
                (
                    origin.clone(),
                    OriginLag {
                        local,
                        acked,
                        entries,
                        ms,
                    },
                )
            })
            .collect()
    }

    /// Total lag (entries, and the worst age) at `now_ms`.
    pub fn total_lag(&self, now_ms: u64) -> (u64, u64) {
        self.lags(now_ms)
            .iter()
            .fold((0, 0), |(entries, ms), (_, lag)| {
                (entries.saturating_add(lag.entries), ms.max(lag.ms))
            })
    }

    /// An upload attempt ended: one observation for the edge window.
    pub fn attempt_ended(&mut self, outcome: Outcome, now_ms: u64) {
        let (mut local, mut acked) = (0u64, 0u64);
        for (_, lag) in self.lags(now_ms) {
            local = local.saturating_add(lag.local);
            acked = acked.saturating_add(lag.acked);
        }
        self.window.record(Observation {
            at_ms: now_ms,
            local,
            acked,
            rewound: std::mem::take(&mut self.rewound),
            outcome,
        });
    }

    pub fn window(&self) -> &EdgeWindow {
        &self.window
    }

    /// Forgets origins this node no longer holds (bounded by the logs it holds).
    pub fn retain(&mut self, keep: impl Fn(&str) -> bool) {
        self.origins.retain(|origin, _| keep(origin));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credx_protocol::health::EdgeStatus;

    #[test]
    fn lag_counts_entries_and_the_oldest_unacknowledged_checkpoint() {
        let mut t = UpstreamTracker::new(EdgeRules::default(), 0);
        t.signed("a.credx", 10, 1_000);
        t.signed("a.credx", 20, 2_000);
        t.acknowledged("a.credx", 10);
        assert_eq!(t.total_lag(5_000), (10, 3_000));
        t.acknowledged("a.credx", 20);
        assert_eq!(t.total_lag(5_000), (0, 0));
        assert_eq!(t.latest_checkpoint("a.credx"), Some((20, 2_000)));
    }

    #[test]
    fn a_lower_acknowledgement_is_a_rewind() {
        let mut t = UpstreamTracker::new(EdgeRules::default(), 0);
        t.signed("a.credx", 20, 1_000);
        t.acknowledged("a.credx", 20);
        t.attempt_ended(Outcome::Ok, 1_000);
        t.acknowledged("a.credx", 5);
        t.attempt_ended(Outcome::Ok, 2_000);
        assert_eq!(t.window().status(2_000), EdgeStatus::Rewind);
    }

    #[test]
    fn sightings_are_bounded_and_keep_the_oldest() {
        let mut t = UpstreamTracker::new(EdgeRules::default(), 0);
        for i in 1..=1_000u64 {
            t.signed("a.credx", i, i);
        }
        t.acknowledged("a.credx", 0);
        assert_eq!(t.total_lag(2_000), (1_000, 1_999));
        assert!(t.origins["a.credx"].sightings.len() <= MAX_SIGHTINGS);
    }
}
