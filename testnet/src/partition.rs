//! `credx-testnet partition`: the scripted partition scenario of issue 6 — with load
//! running, cut one edge for a while, heal it, and measure how long until every node holds
//! everything that existed at the heal (the backlog of the partition), and how long after
//! the load until the testnet has fully converged.
//!
//! While load runs the logs keep growing, so "converged" during load means *caught up to the
//! heal*: every ancestor of every log holds at least the size that log had at its own node
//! when the edge was healed ([`crate::report::Report::reached`]).

use std::time::{Duration, Instant};

use crate::chaos;
use crate::error::TestnetError;
use crate::load::LoadSummary;
use crate::manifest::Manifest;
use crate::report::{self, Report};

/// The scenario's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct PartitionPlan {
    /// The edge to cut, by its child (`None`: the first province's link to the national node).
    pub edge: Option<String>,
    /// How long the edge stays cut.
    pub seconds: f64,
    /// Records per second of the load, in total over all counties.
    pub rate: f64,
    /// Load before the cut.
    pub before: f64,
    /// Load after the heal.
    pub after: f64,
    /// How long to wait for catching up after the heal, and for convergence after the load.
    pub limit: Duration,
}

/// What the scenario measured.
#[derive(Debug, Clone)]
pub struct PartitionOutcome {
    pub edge: String,
    pub parent: String,
    /// Entries of the logs below the cut not yet at the cut's parent, at the heal.
    pub backlog: u64,
    /// Seconds from the heal until every ancestor held every log's size at the heal.
    pub caught_up: Option<f64>,
    /// Seconds from the end of the load until every log was the same size everywhere.
    pub converged_after_load: Option<f64>,
    pub load: LoadSummary,
    pub report: Report,
}

/// The target of issue 6: convergence within 30 s of the heal.
pub const TARGET_SECONDS: f64 = 30.0;
const POLL: Duration = Duration::from_millis(250);

/// Runs the scenario on the testnet in `dir` and prints what happens.
pub async fn run(
    dir: &std::path::Path,
    plan: &PartitionPlan,
) -> Result<PartitionOutcome, TestnetError> {
    let manifest = Manifest::load(dir)?;
    let edge = match &plan.edge {
        Some(name) => name.clone(),
        None => manifest
            .nodes
            .iter()
            .find(|n| n.level == "province")
            .map(|n| n.origin.clone())
            .ok_or_else(|| TestnetError::Partition("the testnet has no province".to_owned()))?,
    };
    let edges = chaos::edges_named(&manifest, &edge)?;
    let [edge] = edges.as_slice() else {
        return Err(TestnetError::Partition(format!(
            "cut one edge, not {}",
            edges.join(", ")
        )));
    };
    let edge = edge.clone();
    let parent = manifest
        .node(&edge)
        .and_then(|n| n.parent.clone())
        .unwrap_or_default();
    for (what, value) in [
        ("--seconds", plan.seconds),
        ("--before", plan.before),
        ("--after", plan.after),
    ] {
        if !(value >= 0.0 && value.is_finite()) {
            return Err(TestnetError::ChaosParameter {
                what,
                rule: "a number of seconds ≥ 0",
                value: value.to_string(),
            });
        }
    }
    let client = crate::commands::client()?;
    let load_seconds = plan.before + plan.seconds + plan.after;
    println!(
        "partition: load {} records/s for {load_seconds} s; cut {edge} → {parent} after {} s for {} s",
        plan.rate, plan.before, plan.seconds
    );
    let load = {
        let manifest = manifest.clone();
        let rate = plan.rate;
        tokio::spawn(async move {
            crate::load::run(&manifest, rate, Duration::from_secs_f64(load_seconds)).await
        })
    };
    let load_started = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(plan.before)).await;
    chaos::cut(dir, &edge)?;
    println!("partition: {edge} → {parent} cut");
    tokio::time::sleep(Duration::from_secs_f64(plan.seconds)).await;

    let at_heal = report::collect(&client, &manifest).await;
    let backlog = at_heal.lag_at(&parent).entries;
    let sizes = at_heal.own_sizes();
    chaos::heal(dir, &edge)?;
    let healed = Instant::now();
    println!(
        "partition: {edge} → {parent} healed; {backlog} entries from below not yet at {parent}"
    );

    let mut caught_up = None;
    while healed.elapsed() < plan.limit {
        let now = report::collect(&client, &manifest).await;
        if now.reached(&sizes) {
            caught_up = Some(healed.elapsed().as_secs_f64());
            break;
        }
        tokio::time::sleep(POLL).await;
    }
    match caught_up {
        Some(s) => println!(
            "partition: every node holds everything written before the heal {s:.1} s after it \
             (target ≤ {TARGET_SECONDS} s: {})",
            if s <= TARGET_SECONDS { "met" } else { "MISSED" }
        ),
        None => println!(
            "partition: NOT caught up {} s after the heal",
            plan.limit.as_secs()
        ),
    }

    let load = match load.await {
        Ok(outcome) => outcome?,
        Err(e) => {
            return Err(TestnetError::Partition(format!(
                "the load task failed: {e}"
            )))
        }
    };
    // The load's own drain (waiting for its last batches at the national node) has passed
    // by now; convergence is timed from the end of the load's sending.
    let load_end = load_started + Duration::from_secs_f64(load.seconds);
    let (report, converged) = report::wait_converged(&client, &manifest, plan.limit).await;
    let converged_after_load = converged.then(|| load_end.elapsed().as_secs_f64());
    print!("{}", report::render(&report));
    println!(
        "partition summary: cut {edge} → {parent} for {} s at {} records/s; backlog at the heal \
         {backlog} entries; caught up {} after the heal (target ≤ {TARGET_SECONDS} s); full \
         convergence {} after the load ended",
        plan.seconds,
        plan.rate,
        caught_up.map_or("never".to_owned(), |s| format!("{s:.1} s")),
        converged_after_load.map_or("never".to_owned(), |s| format!("{s:.1} s")),
    );
    report::check_resent_verified(&report)?;
    let outcome = PartitionOutcome {
        edge,
        parent,
        backlog,
        caught_up,
        converged_after_load,
        load,
        report,
    };
    if outcome.caught_up.is_none() || outcome.converged_after_load.is_none() {
        return Err(TestnetError::NotConverged {
            seconds: plan.limit.as_secs(),
            detail: outcome.report.lagging().join("; "),
        });
    }
    Ok(outcome)
}
