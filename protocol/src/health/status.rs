//! The status of one upward edge (child → parent), after LinkedIn Burrow's evaluator.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The verdict on one edge, from a window of observations (see
/// `node/src/health/edge_status.rs` for the rules). On the wire it is the variant index
/// (bincode); in JSON the upper-case name. Variants are append-only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EdgeStatus {
    /// Caught up, or catching up.
    #[serde(rename = "OK")]
    Ok,
    /// Lag grew over the whole window although the parent still acknowledges entries.
    #[serde(rename = "WARN")]
    Warn,
    /// Lag and no acknowledgement during the window although sessions run.
    #[serde(rename = "STALL")]
    Stall,
    /// No successful session for longer than the stop limit with lag, or the node is silent.
    #[serde(rename = "STOP")]
    Stop,
    /// The acknowledged size went backwards (the parent restored an older store).
    #[serde(rename = "REWIND")]
    Rewind,
    /// The last sessions ended with errors (refusals, proof failures, forks, certificates).
    #[serde(rename = "ERR")]
    Err,
}

impl EdgeStatus {
    /// Every status, from the least to the most severe.
    pub const ALL_BY_SEVERITY: [EdgeStatus; 6] = [
        EdgeStatus::Ok,
        EdgeStatus::Warn,
        EdgeStatus::Rewind,
        EdgeStatus::Stall,
        EdgeStatus::Stop,
        EdgeStatus::Err,
    ];

    /// The upper-case name used in JSON and by operators.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeStatus::Ok => "OK",
            EdgeStatus::Warn => "WARN",
            EdgeStatus::Stall => "STALL",
            EdgeStatus::Stop => "STOP",
            EdgeStatus::Rewind => "REWIND",
            EdgeStatus::Err => "ERR",
        }
    }

    /// 0 (OK) to 5 (ERR): the order "worst first" sorts by (ERR, STOP, STALL, REWIND,
    /// WARN, OK), and the value of the `credx_health_edge_status` gauge.
    pub fn severity(self) -> u8 {
        match self {
            EdgeStatus::Ok => 0,
            EdgeStatus::Warn => 1,
            EdgeStatus::Rewind => 2,
            EdgeStatus::Stall => 3,
            EdgeStatus::Stop => 4,
            EdgeStatus::Err => 5,
        }
    }

    /// The more severe of the two.
    pub fn worst(self, other: EdgeStatus) -> EdgeStatus {
        if other.severity() > self.severity() {
            other
        } else {
            self
        }
    }
}

impl fmt::Display for EdgeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_orders_worst_first_as_the_contract_says() {
        let mut all = EdgeStatus::ALL_BY_SEVERITY.to_vec();
        all.sort_by_key(|s| std::cmp::Reverse(s.severity()));
        let names: Vec<&str> = all.iter().map(|s| s.as_str()).collect();
        assert_eq!(names, ["ERR", "STOP", "STALL", "REWIND", "WARN", "OK"]);
        assert_eq!(EdgeStatus::Ok.worst(EdgeStatus::Stop), EdgeStatus::Stop);
        assert_eq!(EdgeStatus::Err.worst(EdgeStatus::Stop), EdgeStatus::Err);
    }

    #[test]
    fn json_names_are_upper_case() {
        let json = serde_json::to_string(&EdgeStatus::Rewind).unwrap_or_default();
        assert_eq!(json, "\"REWIND\"");
    }
}
