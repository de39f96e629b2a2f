//! `POST /v1/records`: validate a batch, store what passes, report every finding.
//!
//! Each record is judged on its own: a rejected record gets all its findings and costs the
//! batch nothing else. Accepted records become entries naming the submitting department;
//! one whose business key is already in the log becomes an amendment of the latest entry
//! under that key. The accepted entries of a batch go to the sequencer in one
//! `submit_many` (split only when the batch exceeds the sequencer's submission limit), so
//! they are durable and checkpointed together before the answer is sent.
//!
//! A business key repeated *within* one batch is an amendment of its earlier occurrence;
//! since an amendment must name the entry it supersedes (origin, index, leaf hash), and
//! indexes are assigned by the sequencer, the n-th occurrences of keys go in the n-th
//! submission. Batches without repeats use exactly one.

use std::collections::HashMap;

use credx_protocol::entry::{Entry, EntryRef};
use credx_protocol::record::{fields, RawRecord, Record, RecordKind};
use credx_protocol::validate::{
    raw_error_finding, validate_raw, Finding, Rule, Severity, ValidationContext,
};
use serde::Serialize;
use utoipa::ToSchema;

use super::batch_input::{parallel_map, read_items, Item};
use super::error::ApiError;
use super::state::ApiState;
use super::tokens::TokenEntry;
use super::views::EntryPosition;

/// Rule code of the scope check (not one of the §4.5 rules: it is about who submits).
pub const SCOPE_RULE: &str = "SCOPE";
const REJECT: &str = "reject";

/// One finding about one record of the batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct FindingReport {
    /// 0-based position of the record in the submitted array.
    pub batch_index: usize,
    /// Standard column code concerned (e.g. `CF_JDRQ`), when the finding is about one column.
    pub field: Option<String>,
    /// Chinese column name.
    pub field_name_zh: Option<String>,
    /// `E1`–`E7` (reject), `W1`–`W3` (warn) from the 双公示 rule set, or `SCOPE` (the
    /// token may not submit for the record's authority code).
    pub rule: String,
    /// `reject` or `warn`.
    pub severity: String,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl FindingReport {
    fn from_finding(batch_index: usize, f: &Finding) -> FindingReport {
        FindingReport {
            batch_index,
            field: f.field.clone(),
            field_name_zh: f.field_name_zh.clone(),
            rule: f.rule.to_string(),
            severity: f.severity.to_string(),
            message: f.message.clone(),
        }
    }
}

/// Whether a record was stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Accepted,
    Rejected,
}

/// The answer for one record.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RecordResult {
    /// 0-based position of the record in the submitted array.
    pub batch_index: usize,
    pub outcome: Outcome,
    /// `licence` or `penalty`, when the record's kind could be told.
    pub kind: Option<String>,
    /// Authority code + document number (+ licence number), when known.
    pub business_key: Option<String>,
    /// Index of the entry in this node's log (accepted records).
    pub log_index: Option<u64>,
    /// The entry this one amends (a resubmission under a known business key).
    pub amends: Option<EntryPosition>,
    /// Every finding: all of them for a rejected record, the warnings for an accepted one.
    pub findings: Vec<FindingReport>,
}

/// The answer to a batch.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct BatchReport {
    /// The log the accepted records were appended to.
    pub origin: String,
    /// The department named as `submitted_by` in the entries.
    pub submitted_by: String,
    pub received: usize,
    pub accepted: usize,
    pub rejected: usize,
    /// Size of the signed checkpoint covering every accepted record (none accepted: absent).
    pub checkpoint_size: Option<u64>,
    /// One result per submitted record, in submission order.
    pub results: Vec<RecordResult>,
}

/// A record that passed validation and scope, waiting for its entry.
struct Candidate {
    batch_index: usize,
    record: Record,
    key: String,
}

/// Validates and stores a batch (blocking: runs on the blocking pool).
pub(crate) fn submit_batch(
    state: &ApiState,
    department: &TokenEntry,
    body: &[u8],
) -> Result<BatchReport, ApiError> {
    let items = read_items(body)?;
    let today = state.today();
    let jurisdiction = state.jurisdiction;
    // Validation is per record: judged on every core (a context per thread, since the
    // context's calendar is not shared across threads).
    let judged = parallel_map(&items, |item| {
        let mut ctx = ValidationContext::new(today);
        ctx.submitting_jurisdiction = jurisdiction;
        ctx.publication_date = Some(today);
        judge(item, &ctx, department)
    });

    let mut results = Vec::with_capacity(judged.len());
    let mut candidates = Vec::new();
    for (batch_index, (kind, record, mut findings)) in judged.into_iter().enumerate() {
        for f in &mut findings {
            f.batch_index = batch_index;
        }
        let rejected = findings.iter().any(|f| f.severity == REJECT);
        let key = record
            .as_ref()
            .and_then(Record::business_key)
            .map(|k| k.to_string());
        results.push(RecordResult {
            batch_index,
            outcome: if rejected {
                Outcome::Rejected
            } else {
                Outcome::Accepted
            },
            kind: kind.map(|k| kind_name(k).to_owned()),
            business_key: key.clone(),
            log_index: None,
            amends: None,
            findings,
        });
        if let (false, Some(record), Some(key)) = (rejected, record, key) {
            candidates.push(Candidate {
                batch_index,
                record,
                key,
            });
        }
    }

    let checkpoint_size = store_candidates(state, department, candidates, &mut results)?;
    let accepted = results
        .iter()
        .filter(|r| r.outcome == Outcome::Accepted)
        .count();
    Ok(BatchReport {
        origin: state.origin.to_string(),
        submitted_by: department.department.clone(),
        received: results.len(),
        accepted,
        rejected: results.len() - accepted,
        checkpoint_size,
        results,
    })
}

/// Validates one item and checks the token's scope; findings are numbered by the caller.
fn judge(
    item: &Item,
    ctx: &ValidationContext<'_>,
    department: &TokenEntry,
) -> (Option<RecordKind>, Option<Record>, Vec<FindingReport>) {
    match item {
        Ok(raw) => {
            let validated = validate_raw(raw, ctx);
            let mut findings: Vec<FindingReport> = validated
                .findings
                .iter()
                .map(|f| FindingReport::from_finding(0, f))
                .collect();
            findings.extend(scope_finding(0, raw, department));
            (Some(raw.kind), validated.record, findings)
        }
        Err(e) => (
            None,
            None,
            vec![FindingReport::from_finding(0, &raw_error_finding(e))],
        ),
    }
}

fn kind_name(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Licence => "licence",
        RecordKind::Penalty => "penalty",
    }
}

/// The column holding the deciding authority's USCC, which the token must cover.
fn authority_field(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Licence => "XK_XKJGDM",
        RecordKind::Penalty => "CF_CFJGDM",
    }
}

/// A reject finding when the token may not submit for the record's authority. A missing
/// authority code is already an E1 finding of validation.
fn scope_finding(
    batch_index: usize,
    raw: &RawRecord,
    department: &TokenEntry,
) -> Option<FindingReport> {
    let field = authority_field(raw.kind);
    let code = raw.get(field)?.trim().to_ascii_uppercase();
    if department.may_submit_for(&code) {
        return None;
    }
    let allowed: Vec<&str> = department.authorities.iter().map(String::as_str).collect();
    let name_zh = fields::name_zh(field);
    Some(FindingReport {
        batch_index,
        field: Some(field.to_owned()),
        field_name_zh: name_zh.map(str::to_owned),
        rule: SCOPE_RULE.to_owned(),
        severity: Severity::Reject.to_string(),
        message: format!(
            "{field} ({}): authority {code} is outside the scope of the token of {:?} (it may submit for: {}); submit with that authority's token or ask the node operator to extend the scope",
            name_zh.unwrap_or("authority code"),
            department.department,
            if allowed.is_empty() { "no authority".to_owned() } else { allowed.join(", ") }
        ),
    })
}

/// Appends the candidates' entries (round by round for keys repeated in the batch) and
/// fills in their log indexes. Returns the covering checkpoint size.
fn store_candidates(
    state: &ApiState,
    department: &TokenEntry,
    candidates: Vec<Candidate>,
    results: &mut [RecordResult],
) -> Result<Option<u64>, ApiError> {
    if candidates.is_empty() {
        return Ok(None);
    }
    // Round = how many earlier records of the batch carry the same key.
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut rounds: Vec<Vec<Candidate>> = Vec::new();
    for c in candidates {
        let n = seen.entry(c.key.clone()).or_insert(0);
        if rounds.len() <= *n {
            rounds.resize_with(*n + 1, Vec::new);
        }
        if let Some(round) = rounds.get_mut(*n) {
            round.push(c);
        }
        *n += 1;
    }

    let _writes = state.lock_writes()?;
    let accepted_at_ms = state.now_ms();
    // Latest entry per key: from the index first, then from this batch's own entries.
    let mut latest: HashMap<String, Option<EntryRef>> = HashMap::new();
    let mut checkpoint_size = None;
    for round in rounds {
        let mut encoded = Vec::with_capacity(round.len());
        let mut placed = Vec::with_capacity(round.len());
        for c in round {
            let previous = match latest.get(&c.key) {
                Some(known) => known.clone(),
                None => {
                    let found = latest_entry(state, &c.key)?;
                    latest.insert(c.key.clone(), found.clone());
                    found
                }
            };
            let entry = Entry::for_record(
                &state.origin,
                &department.department,
                accepted_at_ms,
                c.record,
                previous.clone(),
            );
            let Some(result) = results.get_mut(c.batch_index) else {
                continue;
            };
            match entry.encode() {
                Ok(bytes) => {
                    if let Some(p) = &previous {
                        result.amends = Some(EntryPosition::of(p));
                        result.findings.push(FindingReport {
                            batch_index: c.batch_index,
                            field: None,
                            field_name_zh: None,
                            rule: Rule::W2.to_string(),
                            severity: Severity::Warn.to_string(),
                            message: format!(
                                "business key {} is already in the log (entry {}#{}); stored as an amendment of it",
                                c.key, p.origin, p.index
                            ),
                        });
                    }
                    placed.push((c.batch_index, c.key, bytes.leaf_hash()));
                    encoded.push(bytes.into_bytes());
                }
                Err(e) => {
                    result.outcome = Outcome::Rejected;
                    result.findings.push(FindingReport {
                        batch_index: c.batch_index,
                        field: None,
                        field_name_zh: None,
                        rule: Rule::E4.to_string(),
                        severity: Severity::Reject.to_string(),
                        message: format!("the record cannot be stored as one log entry: {e}; shorten its longest text columns"),
                    });
                }
            }
        }
        if encoded.is_empty() {
            continue;
        }
        let indexes = append(state, encoded)?;
        for ((batch_index, key, leaf_hash), (index, size)) in placed.into_iter().zip(indexes) {
            if let Some(result) = results.get_mut(batch_index) {
                result.log_index = Some(index);
            }
            checkpoint_size = checkpoint_size.max(Some(size));
            latest.insert(
                key,
                Some(EntryRef {
                    origin: state.origin.to_string(),
                    index,
                    leaf_hash,
                }),
            );
        }
    }
    Ok(checkpoint_size)
}

/// The latest entry under `key` in the node's index, as a reference.
pub(crate) fn latest_entry(state: &ApiState, key: &str) -> Result<Option<EntryRef>, ApiError> {
    let Some(location) = state.store.latest_for_business_key(key)? else {
        return Ok(None);
    };
    let leaf_hash = state.store.leaf_hash(&location.origin, location.index)?;
    Ok(Some(EntryRef {
        origin: location.origin,
        index: location.index,
        leaf_hash,
    }))
}

/// Submits entries to the sequencer (in as few `submit_many` calls as its limit allows)
/// and waits until they are durable and checkpointed. Returns (index, checkpoint size) per
/// entry, in order.
pub(crate) fn append(state: &ApiState, entries: Vec<Vec<u8>>) -> Result<Vec<(u64, u64)>, ApiError> {
    let unavailable =
        |e: credx_storage::StorageError| ApiError::SequencerUnavailable(e.to_string());
    let mut tickets = Vec::new();
    let mut rest = entries;
    while !rest.is_empty() {
        let tail = rest.split_off(rest.len().min(state.max_submission));
        let count = rest.len();
        tickets.push((
            count,
            state.sequencer.submit_many(rest).map_err(unavailable)?,
        ));
        rest = tail;
    }
    let mut out = Vec::new();
    for (count, ticket) in tickets {
        let ack = ticket.wait().map_err(unavailable)?;
        out.extend((0..count as u64).map(|i| (ack.index + i, ack.checkpoint_size)));
    }
    Ok(out)
}
