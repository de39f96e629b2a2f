//! Sending one batch to `POST /v1/records` and reading the node's per-record answer.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Deserialize;

use super::report::ReportLine;
use super::state::{runs, DoneBatch};
use crate::node_client::{NodeClient, NodeError};

/// Attempts per batch while the node is unreachable or busy (503), with doubling pauses.
const ATTEMPTS: u32 = 4;
const FIRST_PAUSE: Duration = Duration::from_secs(1);

/// The node's answer to a batch (`BatchReport` of the department API).
#[derive(Debug, Deserialize)]
struct BatchAnswer {
    received: usize,
    checkpoint_size: Option<u64>,
    results: Vec<RecordAnswer>,
}

#[derive(Debug, Deserialize)]
struct RecordAnswer {
    batch_index: usize,
    outcome: String,
    amends: Option<serde_json::Value>,
    findings: Vec<NodeFinding>,
}

#[derive(Debug, Deserialize)]
struct NodeFinding {
    field: Option<String>,
    field_name_zh: Option<String>,
    rule: String,
    severity: String,
    message: String,
}

/// A row ready to send: its number in the file and its columns by field code.
#[derive(Debug, Clone)]
pub struct OutgoingRow<'a> {
    pub number: u64,
    pub fields: &'a BTreeMap<String, String>,
}

/// Sends `rows` as one batch, retrying while the node is unreachable or busy; `notice` is
/// told about each retry. Returns what the node did with every row.
pub fn send_batch(
    client: &NodeClient,
    rows: &[OutgoingRow<'_>],
    notice: &dyn Fn(String),
) -> Result<DoneBatch, NodeError> {
    let body: Vec<&BTreeMap<String, String>> = rows.iter().map(|r| r.fields).collect();
    let body = serde_json::to_vec(&body).map_err(|e| NodeError::BadAnswer {
        what: "the batch".to_owned(),
        reason: format!("cannot encode the batch: {e}"),
    })?;
    let what = format!(
        "the batch of rows {}–{}",
        rows.first().map_or(0, |r| r.number),
        rows.last().map_or(0, |r| r.number)
    );
    let mut pause = FIRST_PAUSE;
    let mut attempt = 1;
    let answer: BatchAnswer = loop {
        match client.post_json("/v1/records", body.clone(), &what) {
            Ok(answer) => break answer,
            Err(e) if e.is_transient() && attempt < ATTEMPTS => {
                notice(format!("{e}; retrying in {} s", pause.as_secs()));
                std::thread::sleep(pause);
                pause *= 2;
                attempt += 1;
            }
            Err(e) => return Err(e),
        }
    };
    judged(rows, answer, &what)
}

fn judged(
    rows: &[OutgoingRow<'_>],
    answer: BatchAnswer,
    what: &str,
) -> Result<DoneBatch, NodeError> {
    let bad = |reason: String| NodeError::BadAnswer {
        what: what.to_owned(),
        reason,
    };
    if answer.received != rows.len() || answer.results.len() != rows.len() {
        return Err(bad(format!(
            "{} rows sent, the node received {} and answered {}",
            rows.len(),
            answer.received,
            answer.results.len()
        )));
    }
    let mut batch = DoneBatch {
        rows: runs(rows.iter().map(|r| r.number)),
        accepted: 0,
        amended: 0,
        rejected: 0,
        checkpoint_size: answer.checkpoint_size,
        findings: Vec::new(),
    };
    for result in answer.results {
        let row = rows
            .get(result.batch_index)
            .ok_or_else(|| bad(format!("batch_index {} out of range", result.batch_index)))?
            .number;
        match result.outcome.as_str() {
            "accepted" => {
                batch.accepted += 1;
                if result.amends.as_ref().is_some_and(|a| !a.is_null()) {
                    batch.amended += 1;
                }
            }
            "rejected" => batch.rejected += 1,
            other => return Err(bad(format!("unknown outcome {other:?}"))),
        }
        batch
            .findings
            .extend(result.findings.into_iter().map(|f| ReportLine {
                row,
                field: f.field,
                field_name_zh: f.field_name_zh,
                rule: f.rule,
                severity: f.severity,
                source: "node".to_owned(),
                message: f.message,
            }));
    }
    Ok(batch)
}
