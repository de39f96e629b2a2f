//! Burrow-style status of the edge to the parent, from a sliding window of observations.
//!
//! One observation per upload attempt: when it ended, how many entries this node held
//! under signed checkpoints (`local`, summed over its own log and its mirrors), how many of
//! them the parent had acknowledged (`acked`), and how the attempt ended. No fixed lag
//! threshold: like LinkedIn Burrow, the verdict comes from how lag and acknowledgements
//! move across the window. Rules, first match wins:
//!
//! 1. **ERR**: the latest attempt ended with an error (refusal, proof failure, fork,
//!    certificate), not merely an unreachable parent.
//! 2. **REWIND**: the acknowledged size went backwards inside the window.
//! 3. **STOP**: lag > 0 and no successful session for longer than the stop limit.
//! 4. **OK**: caught up (lag 0 at the latest observation).
//! 5. **STALL**: lag > 0 at every observation of the window, the acknowledged size did not
//!    move, and sessions did run (at least two successful ones in the window).
//! 6. **WARN**: lag > 0 everywhere, never shrinking and larger at the end, while the
//!    acknowledged size still advanced.
//! 7. **OK** otherwise (lag shrinking or acknowledgements advancing).
//!
//! Rules 5 and 6 need at least [`EdgeRules::min_observations`] observations in the window.

use std::collections::VecDeque;

use credx_protocol::health::EdgeStatus;

/// How an upload attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The session completed and nothing was refused.
    Ok,
    /// The parent could not be reached, or the link dropped or stalled.
    Unreachable,
    /// The parent refused something, a proof or signature failed, or the session broke
    /// a protocol rule.
    Error,
}

/// One upload attempt, as seen by the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub at_ms: u64,
    /// Entries under signed checkpoints, over every log this node sends up.
    pub local: u64,
    /// Of those, entries the parent acknowledged (its cursor or `Accepted`).
    pub acked: u64,
    /// Some origin's acknowledged size went down since the previous observation (a sum
    /// can hide that when another origin advances at the same time).
    pub rewound: bool,
    pub outcome: Outcome,
}

impl Observation {
    pub fn lag(&self) -> u64 {
        self.local.saturating_sub(self.acked)
    }
}

/// The evaluator's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EdgeRules {
    /// Observations older than this are out of the window.
    pub window_ms: u64,
    /// No success for this long with lag > 0 is STOP.
    pub stop_limit_ms: u64,
    /// Fewest observations in the window for STALL and WARN.
    pub min_observations: usize,
    /// Most observations kept (memory bound; sessions can run several times a second).
    pub max_observations: usize,
}

impl Default for EdgeRules {
    fn default() -> Self {
        EdgeRules {
            window_ms: 10_000,
            stop_limit_ms: 30_000,
            min_observations: 3,
            max_observations: 64,
        }
    }
}

/// The sliding window of one edge.
#[derive(Debug, Clone)]
pub struct EdgeWindow {
    rules: EdgeRules,
    observations: VecDeque<Observation>,
    /// When watching began (a node that never succeeded counts from here).
    since_ms: u64,
    last_success_ms: Option<u64>,
}

impl EdgeWindow {
    pub fn new(rules: EdgeRules, since_ms: u64) -> EdgeWindow {
        EdgeWindow {
            rules,
            observations: VecDeque::new(),
            since_ms,
            last_success_ms: None,
        }
    }

    pub fn record(&mut self, observation: Observation) {
        if observation.outcome == Outcome::Ok {
            self.last_success_ms = Some(observation.at_ms);
        }
        self.observations.push_back(observation);
        while self.observations.len() > self.rules.max_observations.max(1) {
            self.observations.pop_front();
        }
    }

    pub fn last_success_ms(&self) -> Option<u64> {
        self.last_success_ms
    }

    pub fn latest(&self) -> Option<&Observation> {
        self.observations.back()
    }

    /// The status at `now_ms`.
    pub fn status(&self, now_ms: u64) -> EdgeStatus {
        let start = now_ms.saturating_sub(self.rules.window_ms);
        let window: Vec<Observation> = self
            .observations
            .iter()
            .filter(|o| o.at_ms >= start)
            .copied()
            .collect();
        let latest = window.last().or(self.observations.back()).copied();
        evaluate(
            &window,
            latest,
            self.last_success_ms.unwrap_or(self.since_ms),
            now_ms,
            &self.rules,
        )
    }
}

/// The rules of the module documentation over `window` (oldest first); `latest` is the
/// newest observation even if it fell out of the window; `success_ms` the last success
/// (or when watching began).
pub fn evaluate(
    window: &[Observation],
    latest: Option<Observation>,
    success_ms: u64,
    now_ms: u64,
    rules: &EdgeRules,
) -> EdgeStatus {
    let Some(latest) = latest else {
        return EdgeStatus::Ok;
    };
    if latest.outcome == Outcome::Error {
        return EdgeStatus::Err;
    }
    let rewound = window.iter().any(|o| o.rewound)
        || window.windows(2).any(|pair| pair[1].acked < pair[0].acked);
    if rewound {
        return EdgeStatus::Rewind;
    }
    let lag = latest.lag();
    if lag > 0 && now_ms.saturating_sub(success_ms) > rules.stop_limit_ms {
        return EdgeStatus::Stop;
    }
    if lag == 0 {
        return EdgeStatus::Ok;
    }
    if window.len() < rules.min_observations.max(2) || window.iter().any(|o| o.lag() == 0) {
        return EdgeStatus::Ok;
    }
    let (first, last) = (window[0], window[window.len() - 1]);
    let sessions_ran = window.iter().filter(|o| o.outcome == Outcome::Ok).count() >= 2;
    if first.acked == last.acked && sessions_ran {
        return EdgeStatus::Stall;
    }
    let never_shrinks = window.windows(2).all(|pair| pair[1].lag() >= pair[0].lag());
    if never_shrinks && last.lag() > first.lag() && last.acked > first.acked {
        return EdgeStatus::Warn;
    }
    EdgeStatus::Ok
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULES: EdgeRules = EdgeRules {
        window_ms: 10_000,
        stop_limit_ms: 30_000,
        min_observations: 3,
        max_observations: 64,
    };

    fn obs(at_ms: u64, local: u64, acked: u64, outcome: Outcome) -> Observation {
        Observation {
            at_ms,
            local,
            acked,
            rewound: false,
            outcome,
        }
    }

    fn window_of(observations: &[Observation]) -> EdgeWindow {
        let mut window = EdgeWindow::new(RULES, 0);
        for o in observations {
            window.record(*o);
        }
        window
    }

    #[test]
    fn no_observation_is_ok() {
        assert_eq!(EdgeWindow::new(RULES, 0).status(100_000), EdgeStatus::Ok);
    }

    #[test]
    fn caught_up_is_ok_even_after_errors_cleared() {
        let w = window_of(&[
            obs(1_000, 10, 5, Outcome::Error),
            obs(2_000, 10, 10, Outcome::Ok),
        ]);
        assert_eq!(w.status(2_500), EdgeStatus::Ok);
    }

    #[test]
    fn err_when_the_latest_attempt_failed_with_an_error() {
        let w = window_of(&[
            obs(1_000, 10, 10, Outcome::Ok),
            obs(2_000, 10, 10, Outcome::Error),
        ]);
        assert_eq!(w.status(2_500), EdgeStatus::Err);
    }

    #[test]
    fn unreachable_is_not_err() {
        let w = window_of(&[
            obs(1_000, 10, 10, Outcome::Ok),
            obs(2_000, 10, 10, Outcome::Unreachable),
        ]);
        assert_eq!(w.status(2_500), EdgeStatus::Ok);
    }

    #[test]
    fn rewind_when_acknowledged_size_goes_back() {
        let w = window_of(&[
            obs(1_000, 100, 90, Outcome::Ok),
            obs(2_000, 100, 40, Outcome::Ok),
            obs(3_000, 100, 100, Outcome::Ok),
        ]);
        assert_eq!(w.status(3_500), EdgeStatus::Rewind);
        // Once the decrease leaves the window, the edge recovers.
        assert_eq!(w.status(12_500), EdgeStatus::Ok);
    }

    #[test]
    fn rewind_of_one_origin_hidden_in_the_sum() {
        let mut o = obs(2_000, 100, 95, Outcome::Ok);
        o.rewound = true;
        let w = window_of(&[obs(1_000, 100, 90, Outcome::Ok), o]);
        assert_eq!(w.status(2_500), EdgeStatus::Rewind);
    }

    #[test]
    fn stop_when_no_success_beyond_the_limit_with_lag() {
        let w = window_of(&[
            obs(1_000, 10, 5, Outcome::Ok),
            obs(20_000, 20, 5, Outcome::Unreachable),
            obs(40_000, 30, 5, Outcome::Unreachable),
        ]);
        assert_eq!(w.status(40_000), EdgeStatus::Stop);
        // Without lag, a quiet edge is not STOP (the parent sees silence instead).
        let w = window_of(&[
            obs(1_000, 10, 10, Outcome::Ok),
            obs(40_000, 10, 10, Outcome::Unreachable),
        ]);
        assert_eq!(w.status(40_000), EdgeStatus::Ok);
    }

    #[test]
    fn stop_counts_from_the_start_when_never_successful() {
        let mut w = EdgeWindow::new(RULES, 1_000);
        w.record(obs(2_000, 10, 0, Outcome::Unreachable));
        assert_eq!(w.status(20_000), EdgeStatus::Ok);
        assert_eq!(w.status(31_001), EdgeStatus::Stop);
    }

    #[test]
    fn stall_when_nothing_is_acknowledged_although_sessions_run() {
        let w = window_of(&[
            obs(1_000, 50, 40, Outcome::Ok),
            obs(2_000, 55, 40, Outcome::Ok),
            obs(3_000, 60, 40, Outcome::Ok),
        ]);
        assert_eq!(w.status(3_500), EdgeStatus::Stall);
    }

    #[test]
    fn no_stall_when_sessions_do_not_run() {
        let w = window_of(&[
            obs(1_000, 50, 40, Outcome::Unreachable),
            obs(2_000, 55, 40, Outcome::Unreachable),
            obs(3_000, 60, 40, Outcome::Unreachable),
        ]);
        assert_eq!(w.status(3_500), EdgeStatus::Ok);
    }

    #[test]
    fn warn_when_lag_grows_while_acknowledgements_advance() {
        let w = window_of(&[
            obs(1_000, 100, 90, Outcome::Ok),
            obs(2_000, 200, 150, Outcome::Ok),
            obs(3_000, 300, 200, Outcome::Ok),
        ]);
        assert_eq!(w.status(3_500), EdgeStatus::Warn);
    }

    #[test]
    fn ok_when_lag_shrinks() {
        let w = window_of(&[
            obs(1_000, 300, 100, Outcome::Ok),
            obs(2_000, 300, 200, Outcome::Ok),
            obs(3_000, 310, 290, Outcome::Ok),
        ]);
        assert_eq!(w.status(3_500), EdgeStatus::Ok);
    }

    #[test]
    fn too_few_observations_for_stall_or_warn() {
        let w = window_of(&[
            obs(1_000, 50, 40, Outcome::Ok),
            obs(2_000, 60, 40, Outcome::Ok),
        ]);
        assert_eq!(w.status(2_500), EdgeStatus::Ok);
    }

    #[test]
    fn memory_is_bounded() {
        let mut w = EdgeWindow::new(RULES, 0);
        for i in 0..1_000 {
            w.record(obs(i, i, i, Outcome::Ok));
        }
        assert_eq!(w.observations.len(), RULES.max_observations);
    }
}
