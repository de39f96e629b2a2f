//! `load`: synthetic records submitted to every county through the department API, with
//! the county's own token, at a chosen total rate.
//!
//! Each county gets an equal share of the rate. Every tick (250 ms) a county's task sends
//! one batch of the records due by then; a batch answered late makes the next one larger,
//! so the total over the run is `rate × duration` whatever the latency.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::error::TestnetError;
use crate::manifest::{Manifest, NodeEntry};
use crate::propagation::{Ancestors, Percentiles, Tracker};
use crate::records::RecordMix;

const TICK: Duration = Duration::from_millis(250);
/// How long, after the load, to wait for the last batches at the national node.
const PROPAGATION_DRAIN: Duration = Duration::from_secs(30);
/// How many of the slowest batches the summary names (county, when, how slow).
const SLOWEST_SHOWN: usize = 8;
/// Each county runs one workflow step (a listing, then an objection or a repair) every
/// this many ticks, beside its records.
const WORKFLOW_EVERY_TICKS: u64 = 4;

/// What a load run did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LoadSummary {
    pub sent: u64,
    pub accepted: u64,
    pub rejected: u64,
    /// Records in requests that got no answer or an error status.
    pub failed: u64,
    pub penalties: u64,
    /// Black-list entries listed, objections opened and resolved, repairs granted.
    pub listed: u64,
    pub objections: u64,
    pub repairs: u64,
    /// Workflow steps that failed (each also a problem to show).
    pub workflow_failed: u64,
    pub seconds: f64,
    /// The first rejection or failure, to show.
    pub first_problem: Option<String>,
    /// County → top (national) latency of the batches (none without an ancestor).
    pub propagation: Option<Percentiles>,
    /// County → each level above it (city, province, national), nearest first.
    pub propagation_by_level: Vec<(String, Percentiles)>,
    /// The result as printed (totals, propagation per level, slowest batches), one line
    /// each; `credx-testnet report` shows the last run's.
    pub result: Vec<String>,
}

#[derive(Debug, Default)]
struct Counters {
    sent: AtomicU64,
    accepted: AtomicU64,
    rejected: AtomicU64,
    failed: AtomicU64,
    penalties: AtomicU64,
    /// Workflow steps through the department API (lists, objections, repairs).
    listed: AtomicU64,
    objections: AtomicU64,
    repairs: AtomicU64,
    workflow_failed: AtomicU64,
    first_problem: Mutex<Option<String>>,
}

impl Counters {
    fn problem(&self, text: String) {
        if let Ok(mut first) = self.first_problem.lock() {
            first.get_or_insert(text);
        }
    }
}

/// Submits `rate` records/s in total for `duration` to every county of `manifest`,
/// printing progress every second.
pub async fn run(
    manifest: &Manifest,
    rate: f64,
    duration: Duration,
) -> Result<LoadSummary, TestnetError> {
    if !(rate > 0.0 && duration > Duration::ZERO && rate.is_finite()) {
        return Err(TestnetError::LoadParameters {
            rate,
            seconds: duration.as_secs_f64(),
        });
    }
    let counties: Vec<&NodeEntry> = manifest.counties().collect();
    if counties.is_empty() {
        return Err(TestnetError::NoCounty);
    }
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|e| TestnetError::Client(e.to_string()))?;
    let per_county = rate / counties.len() as f64;
    let run_tag = format!("L{:X}", crate::process::unix_ms() / 1000);
    // "Today" for the API is the date in China Standard Time (UTC+8).
    let today = (chrono::Utc::now() + chrono::Duration::hours(8)).date_naive();
    println!(
        "load: {rate} records/s for {} s to {} count{} ({per_county:.1}/s each), run {run_tag}",
        duration.as_secs_f64(),
        counties.len(),
        if counties.len() == 1 { "y" } else { "ies" }
    );
    let counters = Arc::new(Counters::default());
    let tracker = Arc::new(Tracker::new(ancestors_of_counties(manifest)));
    let watched: HashMap<String, String> = tracker
        .watched()
        .into_iter()
        .filter_map(|origin| {
            let node = manifest.nodes.iter().find(|n| n.origin == origin)?;
            Some((origin, node.url("/metrics")))
        })
        .collect();
    let watcher = (!watched.is_empty()).then(|| {
        let tracker = Arc::clone(&tracker);
        let client = client.clone();
        tokio::spawn(async move { tracker.watch(&client, &watched, PROPAGATION_DRAIN).await })
    });
    let started = Instant::now();
    let mut tasks = Vec::new();
    for county in counties {
        let mix = mix_for(county, &run_tag, today)?;
        let target = County {
            url: county.url("/v1/records"),
            base: county.url(""),
            run_tag: run_tag.clone(),
            token: county.token()?,
            origin: county.origin.clone(),
            mix,
        };
        let client = client.clone();
        let counters = Arc::clone(&counters);
        let tracker = Arc::clone(&tracker);
        tasks.push(tokio::spawn(async move {
            target
                .drive(&client, per_county, duration, started, &counters, &tracker)
                .await;
        }));
    }
    let progress = tokio::spawn(print_progress(Arc::clone(&counters), started));
    for task in tasks {
        // A task that panicked leaves its records uncounted; the totals show the gap.
        let _ = task.await;
    }
    progress.abort();
    let seconds = started.elapsed().as_secs_f64();
    tracker.load_done();
    let watched = match watcher {
        Some(task) => task.await.is_ok(),
        None => false,
    };
    let propagation = watched.then(|| tracker.percentiles()).flatten();
    let propagation_by_level = if watched {
        tracker.levels()
    } else {
        Vec::new()
    };
    let mut summary = LoadSummary {
        sent: counters.sent.load(Ordering::Relaxed),
        accepted: counters.accepted.load(Ordering::Relaxed),
        rejected: counters.rejected.load(Ordering::Relaxed),
        failed: counters.failed.load(Ordering::Relaxed),
        penalties: counters.penalties.load(Ordering::Relaxed),
        listed: counters.listed.load(Ordering::Relaxed),
        objections: counters.objections.load(Ordering::Relaxed),
        repairs: counters.repairs.load(Ordering::Relaxed),
        workflow_failed: counters.workflow_failed.load(Ordering::Relaxed),
        seconds,
        first_problem: counters.first_problem.lock().ok().and_then(|p| p.clone()),
        propagation,
        propagation_by_level,
        result: Vec::new(),
    };
    let mut result = Vec::new();
    result.push(format!(
        "load: done in {:.1} s: sent {}, accepted {} ({} licences, {} penalties), rejected {}, failed {} ({:.0} records/s accepted)",
        summary.seconds,
        summary.sent,
        summary.accepted,
        summary.sent.saturating_sub(summary.penalties),
        summary.penalties,
        summary.rejected,
        summary.failed,
        summary.accepted as f64 / summary.seconds.max(1e-9)
    ));
    result.push(format!(
        "workflows: {} black-list entries, {} objections opened and resolved, {} repairs, {} failed",
        summary.listed, summary.objections, summary.repairs, summary.workflow_failed
    ));
    if let Some(p) = summary.propagation {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        result.push(format!(
            "propagation county → national ({} batches, from the county's answer to the national \
             mirror covering it, polled every 50 ms): p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms{}",
            p.batches,
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max),
            if p.unresolved > 0 {
                format!("; {} batches not seen at the national node", p.unresolved)
            } else {
                String::new()
            }
        ));
    }
    for (level, p) in &summary.propagation_by_level {
        let ms = |d: Duration| d.as_secs_f64() * 1e3;
        result.push(format!(
            "  county → {level}: p50 {:.0} ms, p90 {:.0} ms, p99 {:.0} ms, max {:.0} ms ({} batches{})",
            ms(p.p50),
            ms(p.p90),
            ms(p.p99),
            ms(p.max),
            p.batches,
            if p.unresolved > 0 {
                format!(", {} not seen", p.unresolved)
            } else {
                String::new()
            }
        ));
    }
    let slowest = if watched {
        tracker.slowest(SLOWEST_SHOWN)
    } else {
        Vec::new()
    };
    if !slowest.is_empty() {
        let shown: Vec<String> = slowest
            .iter()
            .map(|a| {
                format!(
                    "{} at {:.1} s: {:.0} ms",
                    a.origin,
                    a.answered.saturating_duration_since(started).as_secs_f64(),
                    a.latency.as_secs_f64() * 1e3
                )
            })
            .collect();
        result.push(format!("  slowest at the top: {}", shown.join("; ")));
    }
    for line in &result {
        println!("{line}");
    }
    summary.result = result;
    Ok(summary)
}

/// Every county's ancestors, nearest first, from the manifest's parent links.
fn ancestors_of_counties(manifest: &Manifest) -> HashMap<String, Ancestors> {
    manifest
        .counties()
        .map(|county| {
            let mut chain = Vec::new();
            let mut at = county.parent.as_deref();
            // A manifest is a tree; the bound only guards against a hand-edited cycle.
            while let Some(parent) = at.filter(|_| chain.len() < manifest.nodes.len()) {
                let Some(node) = manifest.nodes.iter().find(|n| n.origin == parent) else {
                    break;
                };
                chain.push((node.origin.clone(), node.level.clone()));
                at = node.parent.as_deref();
            }
            (county.origin.clone(), chain)
        })
        .collect()
}

fn mix_for(
    county: &NodeEntry,
    run: &str,
    today: chrono::NaiveDate,
) -> Result<RecordMix, TestnetError> {
    let missing = |what: &str| TestnetError::Records {
        division: county.division.clone().unwrap_or_default(),
        reason: format!("{} has no {what} in the manifest", county.origin),
    };
    let division = county
        .division
        .as_deref()
        .ok_or_else(|| missing("division"))?;
    let licensing = county
        .authorities
        .first()
        .ok_or_else(|| missing("licensing authority"))?;
    let regulator = county
        .authorities
        .get(1)
        .ok_or_else(|| missing("regulator"))?;
    Ok(RecordMix::new(
        division,
        &county.name,
        licensing,
        regulator,
        run,
        today,
    ))
}

async fn print_progress(counters: Arc<Counters>, started: Instant) {
    let mut interval = tokio::time::interval(Duration::from_secs(1));
    interval.tick().await;
    loop {
        interval.tick().await;
        let elapsed = started.elapsed().as_secs_f64();
        let accepted = counters.accepted.load(Ordering::Relaxed);
        println!(
            "[{elapsed:>5.1} s] sent {}, accepted {accepted}, rejected {}, failed {} ({:.0} records/s)",
            counters.sent.load(Ordering::Relaxed),
            counters.rejected.load(Ordering::Relaxed),
            counters.failed.load(Ordering::Relaxed),
            accepted as f64 / elapsed.max(1e-9)
        );
    }
}

/// One county's share of the load.
struct County {
    url: String,
    /// The node's address, for the workflow endpoints.
    base: String,
    /// Makes objection and repair ids unique across runs.
    run_tag: String,
    token: String,
    origin: String,
    mix: RecordMix,
}

impl County {
    async fn drive(
        &self,
        client: &reqwest::Client,
        rate: f64,
        duration: Duration,
        started: Instant,
        counters: &Counters,
        tracker: &Tracker,
    ) {
        let total = (rate * duration.as_secs_f64()).floor() as u64;
        let mut next = 0u64;
        let mut tick = tokio::time::interval_at(tokio::time::Instant::from_std(started), TICK);
        let mut ticks = 0u64;
        while next < total {
            tick.tick().await;
            ticks += 1;
            if ticks.is_multiple_of(WORKFLOW_EVERY_TICKS) {
                self.workflow(client, ticks / WORKFLOW_EVERY_TICKS, counters)
                    .await;
            }
            let elapsed = started.elapsed().min(duration);
            let due = ((rate * elapsed.as_secs_f64()).floor() as u64).min(total);
            // One request carries at most the API's batch limit.
            let to = due.min(next + credx_node::api::MAX_BATCH_RECORDS as u64);
            if to > next {
                self.send(client, next, to, counters, tracker).await;
                next = to;
            }
        }
    }

    /// Workflow step `k`: lists a subject on the black list, then either opens an objection
    /// against the listing and dismisses it, or repairs it (every listing is old enough).
    async fn workflow(&self, client: &reqwest::Client, k: u64, counters: &Counters) {
        match self.workflow_steps(client, k, counters).await {
            Ok(()) => {}
            Err(problem) => {
                counters.workflow_failed.fetch_add(1, Ordering::Relaxed);
                counters.problem(format!("{}: workflow {k}: {problem}", self.origin));
            }
        }
    }

    async fn workflow_steps(
        &self,
        client: &reqwest::Client,
        k: u64,
        counters: &Counters,
    ) -> Result<(), String> {
        let list = self.mix.black_list(k).map_err(|e| e.to_string())?;
        let listed = self.post(client, "/v1/lists", &list).await?;
        counters.listed.fetch_add(1, Ordering::Relaxed);
        let target = serde_json::json!({"origin": self.origin, "index": listed["log_index"]});
        if k.is_multiple_of(2) {
            let id = format!("{}-{}-O{k}", self.run_tag, self.origin);
            let objection = serde_json::json!({
                "target": target, "objection_id": id, "grounds": "认定事实有误（示例）"
            });
            self.post(client, "/v1/objections", &objection).await?;
            let resolution = serde_json::json!({
                "target": target, "outcome": "dismissed", "reason": "经核实，原认定无误（示例）"
            });
            self.post(client, &format!("/v1/objections/{id}/resolve"), &resolution)
                .await?;
            counters.objections.fetch_add(1, Ordering::Relaxed);
        } else {
            let repair = serde_json::json!({
                "target": target, "repair_id": format!("{}-{}-R{k}", self.run_tag, self.origin),
                "basis": "已履行全部义务并作出信用承诺（示例）",
                "obligations_fulfilled": true, "commitment_made": true
            });
            self.post(client, "/v1/repairs", &repair).await?;
            counters.repairs.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    /// POSTs `body` to the county's `path`; the answer, or what went wrong.
    async fn post(
        &self,
        client: &reqwest::Client,
        path: &str,
        body: &Value,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let response = client
            .post(&url)
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| format!("POST {url}: {e}"))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if status.is_success() {
            Ok(answer)
        } else {
            Err(format!("POST {path}: HTTP {status}: {answer}"))
        }
    }

    async fn send(
        &self,
        client: &reqwest::Client,
        from: u64,
        to: u64,
        counters: &Counters,
        tracker: &Tracker,
    ) {
        let count = to - from;
        counters.sent.fetch_add(count, Ordering::Relaxed);
        let penalties = (from..to).filter(|&n| RecordMix::is_penalty(n)).count() as u64;
        counters.penalties.fetch_add(penalties, Ordering::Relaxed);
        let records: Result<Vec<Value>, TestnetError> =
            (from..to).map(|n| self.mix.record(n)).collect();
        let records = match records {
            Ok(records) => records,
            Err(e) => {
                counters.failed.fetch_add(count, Ordering::Relaxed);
                counters.problem(e.to_string());
                return;
            }
        };
        let answer = client
            .post(&self.url)
            .bearer_auth(&self.token)
            .json(&records)
            .send()
            .await;
        let response = match answer {
            Ok(response) => response,
            Err(e) => {
                counters.failed.fetch_add(count, Ordering::Relaxed);
                counters.problem(format!("{}: POST {}: {e}", self.origin, self.url));
                return;
            }
        };
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            counters.failed.fetch_add(count, Ordering::Relaxed);
            counters.problem(format!("{}: HTTP {status}: {body}", self.origin));
            return;
        }
        let accepted = body["accepted"].as_u64().unwrap_or(0);
        let rejected = body["rejected"].as_u64().unwrap_or(0);
        counters.accepted.fetch_add(accepted, Ordering::Relaxed);
        if let Some(size) = body["checkpoint_size"].as_u64() {
            tracker.answered(&self.origin, size);
        }
        counters.rejected.fetch_add(rejected, Ordering::Relaxed);
        // Records the answer does not account for (a malformed answer) count as failed.
        counters
            .failed
            .fetch_add(count.saturating_sub(accepted + rejected), Ordering::Relaxed);
        if rejected > 0 {
            let first = body["results"]
                .as_array()
                .and_then(|r| r.iter().find(|x| x["outcome"] == "rejected"))
                .map(|r| r["findings"].to_string())
                .unwrap_or_default();
            counters.problem(format!("{}: rejected: {first}", self.origin));
        }
    }
}
