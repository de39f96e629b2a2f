//! Credit workflows as log entries (issue 5 item 4): list entries, objections (异议) and
//! credit repair (信用修复), listing removal (移出).
//!
//! Every write is one entry appended through the sequencer, naming the submitting
//! department and carrying the target's authority and subject, so the status map folds it
//! (`credx_protocol::statusmap::apply_entry`) and any node that syncs the log derives the
//! same workflow state. Nothing here keeps state beside the log: whether an objection is
//! open, a repair already approved or a listing still in force is read back from the
//! subject's entries and its status.
//!
//! * `POST /v1/lists` — a list entry (credit-data.md §4.7), validated by the protocol's
//!   list rules; a known business key makes an amendment.
//! * `POST /v1/objections` / `POST /v1/objections/{id}/resolve` — §5.3: measures are
//!   suspended while verifying unless the list says otherwise (the courts' 失信被执行人
//!   list stays in force during reconsideration, 法释〔2017〕7号 Art. 12).
//! * `POST /v1/repairs` — eligibility from the period rules (order No. 36 conditions
//!   (1)–(4)); a refusal names every unmet rule and the earliest date.
//! * `POST /v1/lists/{target}/remove` — early removal from a list.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use credx_protocol::entry::{
    Entry, EntryRef, Event, ObjectionOutcome, SubjectId, ENVELOPE_VERSION,
};
use credx_protocol::period::{
    day_after, publication_period, repair_eligibility, PeriodOptions, PublicationPeriod,
    RepairBlocker, RepairFacts, SeverityClass,
};
use credx_protocol::record::enums::CreditSeverity;
use credx_protocol::record::list_entry::{ListKind, ListStatus};
use credx_protocol::record::{ListEntry, Record};
use credx_protocol::statusmap::SubjectStatus;
use credx_protocol::validate::{validate_list_entry, Severity, ValidationContext};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::publication::severity_from_remarks;
use super::state::ApiState;
use super::submit::{append, latest_entry};
use super::tokens::TokenEntry;
use super::views::EntryPosition;

/// Longest grounds, reason or basis accepted (the entry's bound on reasons).
const MAX_TEXT_CHARS: usize = 4000;
/// Longest objection or repair identifier.
const MAX_ID_CHARS: usize = 128;
/// Entries of one subject read per index page.
const PAGE: usize = 1_000;

/// An entry of a log: the record a workflow acts on.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetRef {
    pub origin: String,
    pub index: u64,
}

/// `POST /v1/objections`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObjectionRequest {
    /// The record objected to (for a listing: its list entry).
    pub target: TargetRef,
    /// The department's identifier of the objection (unique for the subject).
    pub objection_id: String,
    pub grounds: String,
    /// Whether measures are suspended while verifying. Default: the list's rule (every
    /// list suspends except the courts' 失信被执行人 list); other records: suspend
    /// (国发〔2016〕33号 (25)).
    #[serde(default)]
    pub suspend_on_objection: Option<bool>,
}

/// How an objection was decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ObjectionOutcomeDto {
    /// 异议成立: the record is corrected or revoked; the listing and its measures are lifted.
    Upheld,
    /// 异议不成立: the mark is removed and suspended measures resume.
    Dismissed,
    /// Not accepted for verification: as dismissed for the measures.
    Rejected,
}

impl From<ObjectionOutcomeDto> for ObjectionOutcome {
    fn from(o: ObjectionOutcomeDto) -> ObjectionOutcome {
        match o {
            ObjectionOutcomeDto::Upheld => ObjectionOutcome::Upheld,
            ObjectionOutcomeDto::Dismissed => ObjectionOutcome::Dismissed,
            ObjectionOutcomeDto::Rejected => ObjectionOutcome::Rejected,
        }
    }
}

/// `POST /v1/objections/{id}/resolve`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveRequest {
    /// The record the objection is about: objections are found among its subject's
    /// entries, since the log (not a table beside it) holds them.
    pub target: TargetRef,
    pub outcome: ObjectionOutcomeDto,
    pub reason: String,
}

/// `POST /v1/repairs`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RepairRequest {
    /// The penalty or list entry whose publication ends.
    pub target: TargetRef,
    /// The department's identifier of the repair (unique for the subject).
    pub repair_id: String,
    /// Basis of the decision (application, evidence of performance, commitment).
    pub basis: String,
    /// Order No. 36 condition (2): misconduct corrected, obligations fully performed.
    pub obligations_fulfilled: bool,
    /// Order No. 36 condition (3): public credit commitment (信用承诺) made.
    pub commitment_made: bool,
    /// Condition (4): repair barred through this day (e.g. repeat offenders).
    #[serde(default)]
    pub barred_until: Option<NaiveDate>,
}

/// `POST /v1/lists/{target}/remove`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoveRequest {
    pub reason: String,
    /// Day of removal; default today (China Standard Time).
    #[serde(default)]
    pub removed_on: Option<NaiveDate>,
}

/// A stored workflow entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WorkflowResponse {
    pub origin: String,
    /// Index of the workflow entry in this node's log.
    pub log_index: u64,
    /// `objection-opened`, `objection-resolved`, `repair-approved` or `listing-removed`.
    pub event: String,
    /// The record acted on.
    pub target: EntryPosition,
    pub submitted_by: String,
    pub checkpoint_size: u64,
    /// Objections: whether measures are suspended while verifying.
    pub suspends_measures: Option<bool>,
}

/// A stored list entry.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ListEntryResponse {
    pub origin: String,
    pub log_index: u64,
    pub business_key: String,
    /// The entry this one amends (same determining unit and document number).
    pub amends: Option<EntryPosition>,
    pub submitted_by: String,
    pub checkpoint_size: u64,
}

/// The body of a refused repair: which rules are unmet and from when it may succeed.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct RepairRefusalBody {
    /// Always `repair_not_eligible`.
    pub error: String,
    pub message: String,
    /// Every unmet condition, one sentence each.
    pub unmet: Vec<String>,
    /// First day the time-based conditions (minimum period, bar) are met, when they are
    /// what blocks.
    pub earliest: Option<NaiveDate>,
}

/// Why a workflow request was refused.
#[derive(Debug, thiserror::Error)]
pub enum WorkflowError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("repair of entry {target} is not possible on {on}: {}", unmet.join("; "))]
    RepairNotEligible {
        target: String,
        on: NaiveDate,
        unmet: Vec<String>,
        earliest: Option<NaiveDate>,
    },
}

impl IntoResponse for WorkflowError {
    fn into_response(self) -> Response {
        match self {
            WorkflowError::Api(e) => e.into_response(),
            WorkflowError::RepairNotEligible {
                ref unmet,
                earliest,
                ..
            } => {
                let body = RepairRefusalBody {
                    error: "repair_not_eligible".to_owned(),
                    message: self.to_string(),
                    unmet: unmet.clone(),
                    earliest,
                };
                (StatusCode::UNPROCESSABLE_ENTITY, Json(body)).into_response()
            }
        }
    }
}

/// Stores a list entry (blocking).
pub(crate) fn submit_list_entry(
    state: &ApiState,
    department: &TokenEntry,
    list: ListEntry,
) -> Result<ListEntryResponse, ApiError> {
    let mut ctx = ValidationContext::new(state.today());
    ctx.submitting_jurisdiction = state.jurisdiction;
    let rejects: Vec<String> = validate_list_entry(&list, &ctx)
        .iter()
        .filter(|f| f.severity == Severity::Reject)
        .map(|f| {
            format!(
                "{} ({}): {}",
                f.field.as_deref().unwrap_or("entry"),
                f.rule,
                f.message
            )
        })
        .collect();
    if !rejects.is_empty() {
        return Err(ApiError::InvalidField {
            field: "list_entry",
            reason: rejects.join("; "),
        });
    }
    if list.status != ListStatus::Active {
        return Err(ApiError::InvalidField {
            field: "status",
            reason: "a list entry is submitted Active; removal, revocation and expiry are later entries (POST /v1/lists/{target}/remove, objections, the period)".into(),
        });
    }
    let authority = list.determining_unit.uscc.trim().to_ascii_uppercase();
    if !department.may_submit_for(&authority) {
        return Err(ApiError::AuthorityOutOfScope {
            department: department.department.clone(),
            authority,
        });
    }
    let record = Record::ListEntry(list);
    let key = record
        .business_key()
        .map(|k| k.to_string())
        .ok_or_else(|| ApiError::Internal("a list entry without a business key".into()))?;

    let _writes = state.lock_writes()?;
    let previous = latest_entry(state, &key)?;
    let entry = Entry::for_record(
        &state.origin,
        &department.department,
        state.now_ms(),
        record,
        previous.clone(),
    );
    let (log_index, checkpoint_size) = append_one(state, &entry, "list_entry")?;
    Ok(ListEntryResponse {
        origin: state.origin.to_string(),
        log_index,
        business_key: key,
        amends: previous.as_ref().map(EntryPosition::of),
        submitted_by: department.department.clone(),
        checkpoint_size,
    })
}

/// Opens an objection (blocking).
pub(crate) fn open_objection(
    state: &ApiState,
    department: &TokenEntry,
    request: ObjectionRequest,
) -> Result<WorkflowResponse, ApiError> {
    let objection_id = identifier("objection_id", &request.objection_id)?;
    let grounds = text("grounds", &request.grounds)?;
    let _writes = state.lock_writes()?;
    let target = Target::load(state, department, &request.target)?;
    let history = subject_history(state, &target.subject)?;
    let taken = history.iter().any(|e| {
        matches!(&e.event, Event::ObjectionOpened { objection_id: id, .. } if id == &objection_id)
    });
    if taken {
        return Err(ApiError::Conflict(format!(
            "objection {objection_id:?} already exists for this subject; give a new objection_id"
        )));
    }
    if let Some(open) = open_objection_on(&history, &target.at) {
        return Err(ApiError::Conflict(format!(
            "objection {open:?} on entry {}#{} is still open; resolve it before opening another",
            target.at.origin, target.at.index
        )));
    }
    let suspends = request
        .suspend_on_objection
        .unwrap_or_else(|| default_suspend(&target.record));
    let event = Event::ObjectionOpened {
        objection_id,
        target: target.at.clone(),
        grounds,
        suspends_measures: suspends,
    };
    target.write(state, department, event, Some(suspends))
}

/// Resolves an open objection (blocking).
pub(crate) fn resolve_objection(
    state: &ApiState,
    department: &TokenEntry,
    objection_id: &str,
    request: ResolveRequest,
) -> Result<WorkflowResponse, ApiError> {
    let objection_id = identifier("objection_id", objection_id)?;
    let reason = text("reason", &request.reason)?;
    let _writes = state.lock_writes()?;
    let target = Target::load(state, department, &request.target)?;
    let history = subject_history(state, &target.subject)?;
    if open_objection_on(&history, &target.at).as_deref() != Some(objection_id.as_str()) {
        return Err(ApiError::NotFound {
            what: format!(
                "an open objection {objection_id:?} on entry {}#{}",
                target.at.origin, target.at.index
            ),
        });
    }
    let event = Event::ObjectionResolved {
        objection_id,
        target: target.at.clone(),
        outcome: request.outcome.into(),
        reason,
    };
    target.write(state, department, event, None)
}

/// Approves a credit repair when the period rules allow it (blocking).
pub(crate) fn approve_repair(
    state: &ApiState,
    department: &TokenEntry,
    request: RepairRequest,
) -> Result<WorkflowResponse, WorkflowError> {
    let repair_id = identifier("repair_id", &request.repair_id)?;
    let basis = text("basis", &request.basis)?;
    let _writes = state.lock_writes()?;
    let target = Target::load(state, department, &request.target)?;
    let history = subject_history(state, &target.subject)?;
    for e in &history {
        if let Event::RepairApproved {
            repair_id: id,
            target: t,
            ..
        } = &e.event
        {
            if t == &target.at {
                return Err(ApiError::Conflict(format!(
                    "entry {}#{} is already repaired (repair {id:?})",
                    t.origin, t.index
                ))
                .into());
            }
            if id == &repair_id {
                return Err(ApiError::Conflict(format!(
                    "repair {id:?} already exists for this subject; give a new repair_id"
                ))
                .into());
            }
        }
    }
    let period = repair_period(&target.record)?;
    let today = state.today();
    let facts = RepairFacts {
        obligations_fulfilled: request.obligations_fulfilled,
        commitment_made: request.commitment_made,
        barred_until: request.barred_until,
    };
    let eligibility = repair_eligibility(&period, today, &facts);
    if !eligibility.is_eligible() {
        let blockers = eligibility.blockers();
        return Err(WorkflowError::RepairNotEligible {
            target: format!("{}#{}", target.at.origin, target.at.index),
            on: today,
            unmet: blockers.iter().map(|b| explain(b, &period)).collect(),
            earliest: blockers.iter().filter_map(earliest_after).max(),
        });
    }
    let event = Event::RepairApproved {
        repair_id,
        target: target.at.clone(),
        approved_on: today,
        basis,
    };
    Ok(target.write(state, department, event, None)?)
}

/// Removes a listing early (blocking).
pub(crate) fn remove_listing(
    state: &ApiState,
    department: &TokenEntry,
    target: &str,
    request: RemoveRequest,
) -> Result<WorkflowResponse, ApiError> {
    let target = parse_target(target)?;
    let reason = text("reason", &request.reason)?;
    let removed_on = request.removed_on.unwrap_or_else(|| state.today());
    let _writes = state.lock_writes()?;
    let target = Target::load(state, department, &target)?;
    let listed = match state.store.subject_status(&target.subject.map_key())? {
        None => false,
        Some(bytes) => SubjectStatus::decode(&bytes)
            .map_err(|e| ApiError::Internal(format!("stored status: {e}")))?
            .listings
            .iter()
            .any(|l| l.entry == target.at),
    };
    if !listed {
        return Err(ApiError::Conflict(format!(
            "entry {}#{} is not a current listing (never listed, or already removed, repaired or lifted)",
            target.at.origin, target.at.index
        )));
    }
    let event = Event::ListingRemoved {
        target: target.at.clone(),
        removed_on,
        reason,
    };
    target.write(state, department, event, None)
}

/// The record a workflow acts on, checked against the caller's scope.
struct Target {
    at: EntryRef,
    record: Record,
    subject: SubjectId,
    authority: String,
}

impl Target {
    /// Reads the target entry: it must be the latest version of a record, of a subject,
    /// for an authority the token may act for.
    fn load(
        state: &ApiState,
        department: &TokenEntry,
        target: &TargetRef,
    ) -> Result<Target, ApiError> {
        let not_found = || ApiError::NotFound {
            what: format!("entry {}#{}", target.origin, target.index),
        };
        if target.index >= state.store.indexed_size(&target.origin)? {
            return Err(not_found());
        }
        let bytes = state
            .store
            .read_entries(&target.origin, target.index, 1)?
            .into_iter()
            .next()
            .ok_or_else(not_found)?;
        let entry = Entry::decode(&bytes).map_err(|e| {
            ApiError::Internal(format!("entry {}#{}: {e}", target.origin, target.index))
        })?;
        let at = EntryRef {
            origin: target.origin.clone(),
            index: target.index,
            leaf_hash: state.store.leaf_hash(&target.origin, target.index)?,
        };
        let (Some(record), Some(subject), Some(authority), Some(key)) = (
            entry.event.record().cloned(),
            entry.subject.clone(),
            entry.authority.clone(),
            entry.business_key.as_ref(),
        ) else {
            return Err(ApiError::InvalidField {
                field: "target",
                reason: format!(
                    "entry {}#{} is a {} entry, not a record of a subject; target the record (for a listing: its list entry)",
                    target.origin,
                    target.index,
                    entry.event.kind_name()
                ),
            });
        };
        if !department.may_submit_for(&authority) {
            return Err(ApiError::AuthorityOutOfScope {
                department: department.department.clone(),
                authority,
            });
        }
        if let Some(latest) = latest_entry(state, &key.to_string())? {
            if latest != at {
                return Err(ApiError::Conflict(format!(
                    "entry {}#{} is not the current version of {key} (the latest is {}#{}); target the latest entry",
                    at.origin, at.index, latest.origin, latest.index
                )));
            }
        }
        Ok(Target {
            at,
            record,
            subject,
            authority,
        })
    }

    /// Appends `event` about this target, naming the department.
    fn write(
        &self,
        state: &ApiState,
        department: &TokenEntry,
        event: Event,
        suspends_measures: Option<bool>,
    ) -> Result<WorkflowResponse, ApiError> {
        let name = event.kind_name();
        let entry = Entry {
            version: ENVELOPE_VERSION,
            origin: state.origin.to_string(),
            authority: Some(self.authority.clone()),
            submitted_by: department.department.clone(),
            subject: Some(self.subject.clone()),
            // Workflow entries carry no business key: the key's latest entry stays the
            // record itself, which withdrawals and amendments point at.
            business_key: None,
            accepted_at_ms: state.now_ms(),
            event,
        };
        let (log_index, checkpoint_size) = append_one(state, &entry, "reason")?;
        Ok(WorkflowResponse {
            origin: state.origin.to_string(),
            log_index,
            event: name.to_owned(),
            target: EntryPosition::of(&self.at),
            submitted_by: department.department.clone(),
            checkpoint_size,
            suspends_measures,
        })
    }
}

fn append_one(
    state: &ApiState,
    entry: &Entry,
    field: &'static str,
) -> Result<(u64, u64), ApiError> {
    let encoded = entry.encode().map_err(|e| ApiError::InvalidField {
        field,
        reason: e.to_string(),
    })?;
    append(state, vec![encoded.into_bytes()])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the sequencer acknowledged no entry".into()))
}

/// Parses `<origin>:<index>` (the origin may itself contain `:`; the index is last).
fn parse_target(text: &str) -> Result<TargetRef, ApiError> {
    let invalid = || ApiError::InvalidField {
        field: "target",
        reason: format!("{text:?} is not `<origin>:<index>` (e.g. `420281.credx:17`)"),
    };
    let (origin, index) = text.rsplit_once(':').ok_or_else(invalid)?;
    let index = index.parse().map_err(|_| invalid())?;
    if origin.is_empty() {
        return Err(invalid());
    }
    Ok(TargetRef {
        origin: origin.to_owned(),
        index,
    })
}

fn identifier(field: &'static str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_ID_CHARS || value.contains('/') {
        return Err(ApiError::InvalidField {
            field,
            reason: format!("must be 1 to {MAX_ID_CHARS} characters without `/`"),
        });
    }
    Ok(value.to_owned())
}

fn text(field: &'static str, value: &str) -> Result<String, ApiError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::InvalidField {
            field,
            reason: format!(
                "must be 1 to {MAX_TEXT_CHARS} characters (it is published with the entry)"
            ),
        });
    }
    Ok(value.to_owned())
}

/// Reads every entry about `subject`, in index order.
fn subject_history(state: &ApiState, subject: &SubjectId) -> Result<Vec<Entry>, ApiError> {
    let mut out = Vec::new();
    let mut after = None;
    loop {
        let page = state
            .store
            .entries_for_subject(subject, after.as_ref(), PAGE)?;
        for location in &page {
            for bytes in state
                .store
                .read_entries(&location.origin, location.index, 1)?
            {
                out.push(Entry::decode(&bytes).map_err(|e| {
                    ApiError::Internal(format!("entry {}#{}: {e}", location.origin, location.index))
                })?);
            }
        }
        if page.len() < PAGE {
            return Ok(out);
        }
        after = page.last().cloned();
    }
}

/// The id of the objection open on `target`, if any.
fn open_objection_on(history: &[Entry], target: &EntryRef) -> Option<String> {
    let mut open = None;
    for e in history {
        match &e.event {
            Event::ObjectionOpened {
                objection_id,
                target: t,
                ..
            } if t == target => open = Some(objection_id.clone()),
            Event::ObjectionResolved {
                objection_id,
                target: t,
                ..
            } if t == target && open.as_ref() == Some(objection_id) => open = None,
            _ => {}
        }
    }
    open
}

/// credit-data §5.3: measures are suspended while information is verified (国发〔2016〕33号
/// (25)), except on the courts' list, which stays in force during reconsideration.
fn default_suspend(record: &Record) -> bool {
    !matches!(
        record,
        Record::ListEntry(ListEntry {
            kind: ListKind::DishonestJudgmentDebtor,
            ..
        })
    )
}

/// The publication period repair is judged against: a penalty's from its decision date and
/// stated class; a dishonesty listing's from its listing date and severity.
fn repair_period(record: &Record) -> Result<PublicationPeriod, ApiError> {
    let refuse = |why: &str| ApiError::InvalidField {
        field: "target",
        reason: why.to_owned(),
    };
    let (start, class) = match record {
        Record::Penalty(p) => (
            p.decision_date.0,
            p.remarks
                .as_deref()
                .and_then(severity_from_remarks)
                .unwrap_or(SeverityClass::General),
        ),
        Record::ListEntry(l) => {
            let default = match l.kind {
                ListKind::SeriouslyDishonest => SeverityClass::Serious,
                ListKind::KeyAttention => SeverityClass::General,
                ListKind::RedList => return Err(refuse("a red list entry is not dishonesty information: there is nothing to repair (remove it with POST /v1/lists/{target}/remove)")),
                ListKind::DishonestJudgmentDebtor => return Err(refuse("the courts' 失信被执行人 list is left on performance by the court's decision (法释〔2017〕7号 Art. 10), not by credit repair: use POST /v1/lists/{target}/remove")),
            };
            let class = match l.severity {
                Some(CreditSeverity::Minor) => SeverityClass::Minor,
                Some(CreditSeverity::General) => SeverityClass::General,
                Some(CreditSeverity::Serious) => SeverityClass::Serious,
                None => default,
            };
            (l.listed_on.0, class)
        }
        Record::Licence(_) | Record::Commitment(_) => {
            return Err(refuse(
                "only penalties and dishonesty listings are repaired; this record is neither",
            ))
        }
    };
    publication_period(start, class, &PeriodOptions::default()).map_err(|e| {
        ApiError::InvalidField {
            field: "target",
            reason: format!("no publication period applies, so there is nothing to repair: {e}"),
        }
    })
}

/// One sentence per unmet condition, naming the rule.
fn explain(blocker: &RepairBlocker, period: &PublicationPeriod) -> String {
    let (regime, class) = (period.regime, period.class);
    match blocker {
        RepairBlocker::PublicationEnded { ended } => format!(
            "publication ended automatically on {ended} at the maximum period of {class} information under {regime}: there is nothing left to repair"
        ),
        RepairBlocker::NotRepairable { .. } => format!(
            "{class} information under {regime} is published for the full maximum period and cannot be repaired"
        ),
        RepairBlocker::NotYet { earliest } => format!(
            "condition (1) of NDRC order No. 36 (minimum publication period of {class} information under {regime}, counted from {}) is not met; the earliest application date is {earliest}",
            period.decision_date
        ),
        RepairBlocker::ObligationsOutstanding => "condition (2) of NDRC order No. 36 is not met: the misconduct must be corrected and every obligation fully performed (obligations_fulfilled is false)".to_owned(),
        RepairBlocker::CommitmentMissing => "condition (3) of NDRC order No. 36 is not met: no public credit commitment (信用承诺) was made (commitment_made is false)".to_owned(),
        RepairBlocker::Barred { until } => format!(
            "condition (4) of NDRC order No. 36 is not met: repair is barred through {until}"
        ),
    }
}

/// The first day a time-based blocker stops applying.
fn earliest_after(blocker: &RepairBlocker) -> Option<NaiveDate> {
    match blocker {
        RepairBlocker::NotYet { earliest } => Some(*earliest),
        RepairBlocker::Barred { until } => day_after(*until),
        _ => None,
    }
}
