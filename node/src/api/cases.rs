//! Joint reward/punishment cases (联合奖惩) through the department API (issue 5 item 4).
//!
//! * `POST /v1/cases` — initiate from a list entry: measures resolved from a catalogue
//!   edition (a code outside it is refused, naming code and edition), a `CaseInitiated`
//!   entry plus one `Pushed` step per target. Repeating an initiation of the same
//!   (case_id, version) with the same terms writes nothing and answers the case
//!   (idempotent); other terms under a taken version are refused.
//! * `POST /v1/cases/{id}/steps` — a responder's step at its own node (acknowledge or
//!   refuse, a result per measure, lift acknowledgement, close), or the initiator's lift;
//!   scoped by the token to the responding department.
//! * `POST /v1/cases/{id}/overdue-check` — the initiator records `Overdue` for targets past
//!   their respond-by date without acknowledgement and, given a new date, re-pushes them
//!   under the next version.
//! * `GET /v1/cases/{id}` — the folded state ([`crate::cases::state`]).
//! * `GET /v1/cases/statistics` — per responding department ([`crate::cases::statistics`]).
//!
//! Every write is entries through the sequencer, naming the department; the state is
//! always folded again from the entries (own log, mirrors and received feed items).

use axum::extract::rejection::{JsonRejection, PathRejection};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use credx_protocol::entry::{
    CaseInitiation, CaseKey, CaseKind, CaseStep, CaseStepKind, Entry, EntryRef, Event,
    ExecutionResult, TargetUnit, ENVELOPE_VERSION,
};
use credx_protocol::record::list_entry::ListKind;
use credx_protocol::record::Record;
use credx_protocol::statusmap::SubjectStatus;
use credx_storage::EntryLocation;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::state::ApiState;
use super::submit::{append, latest_entry};
use super::tokens::TokenEntry;
use super::views::EntryPosition;
use super::workflows::TargetRef;
use crate::cases::load::read_entry;
use crate::cases::names::{CaseKindName, LiftReasonName, ResultName};
use crate::cases::state::{
    result_fits, unit_name, CaseState, CaseStatus, TargetPhase, TargetState,
};
use crate::cases::{load_case, statistics, CaseStatistics, Catalogue, CatalogueError, LoadError};

/// Longest case id.
const MAX_CASE_ID_CHARS: usize = 128;
/// Most targets one case names (the protocol's bound on `CaseInitiation::targets`).
const MAX_TARGETS: usize = 512;
/// Longest reason, detail or business item (the entry's bound on texts).
const MAX_TEXT_CHARS: usize = 4000;
/// Case ids read per page for the statistics.
const PAGE: usize = 1_000;

/// A unit a case is pushed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetUnitDto {
    /// The responding node's origin (e.g. `460200.credx`).
    pub node: String,
    /// USCC of the responding department there; none: any department of that node.
    #[serde(default)]
    pub department: Option<String>,
}

impl From<&TargetUnitDto> for TargetUnit {
    fn from(t: &TargetUnitDto) -> TargetUnit {
        TargetUnit {
            node: t.node.trim().to_owned(),
            department: t.department.as_ref().map(|d| d.trim().to_ascii_uppercase()),
        }
    }
}

/// `POST /v1/cases`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InitiateRequest {
    /// Globally unique case id; default `<division><yyyymmdd><serial>` of this node.
    #[serde(default)]
    pub case_id: Option<String>,
    /// Version of the case (default 1); a new version re-issues the terms.
    #[serde(default)]
    pub version: Option<u32>,
    /// The list entry the case acts on.
    pub listing: TargetRef,
    pub kind: CaseKindName,
    /// The measures catalogue edition the measures are taken from (e.g. `2024`).
    pub catalogue_edition: String,
    /// Measure codes of that edition.
    pub measures: Vec<String>,
    pub targets: Vec<TargetUnitDto>,
    /// Targets must acknowledge by this date.
    pub respond_by: NaiveDate,
}

/// A responder's (or the initiator's) step.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum StepAction {
    /// 签收 (accepted) or 拒收 (refused, with a reason).
    Acknowledge {
        accepted: bool,
        #[serde(default)]
        reason: String,
    },
    /// 执行反馈 for one measure.
    Execute {
        measure_code: String,
        result: ResultName,
        /// Required for `not_applicable`.
        #[serde(default)]
        detail: String,
        /// 事项编码/名称/办件号.
        #[serde(default)]
        business_item: String,
        /// Default today.
        #[serde(default)]
        executed_on: Option<NaiveDate>,
    },
    /// LIFT_ACK: the responder lifted its measures.
    LiftAcknowledge,
    /// The responder's work on the case is done.
    Close,
    /// The initiator tells every target not yet told to lift its measures.
    Lift { reason: LiftReasonName },
}

/// `POST /v1/cases/{id}/steps`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The target acting; default the case's only target at this node the token covers.
    #[serde(default)]
    pub responder: Option<TargetUnitDto>,
    /// The authority the step is written for when the target names no department;
    /// default the token's only authority.
    #[serde(default)]
    pub authority: Option<String>,
    pub step: StepAction,
}

/// `POST /v1/cases/{id}/overdue-check`.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OverdueRequest {
    /// A new respond-by date: overdue targets are re-pushed under the next version.
    #[serde(default)]
    pub respond_by: Option<NaiveDate>,
}

/// The answer to every case write: what was written and the case folded again.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CaseWriteResponse {
    pub case_id: String,
    /// Entries written, in order (none for a repeated initiation).
    pub written: Vec<EntryPosition>,
    /// The initiation repeated one already in the log: nothing was written.
    pub duplicate: bool,
    pub submitted_by: String,
    pub checkpoint_size: Option<u64>,
    /// Overdue check: targets found overdue, and those re-pushed.
    pub overdue: Vec<TargetUnitDto>,
    pub repushed: Vec<TargetUnitDto>,
    pub state: CaseState,
}

/// Why a case request was refused.
#[derive(Debug, thiserror::Error)]
pub enum CaseError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Catalogue(#[from] CatalogueError),
}

impl From<LoadError> for CaseError {
    fn from(e: LoadError) -> Self {
        CaseError::Api(ApiError::Internal(e.to_string()))
    }
}

impl From<credx_storage::StorageError> for CaseError {
    fn from(e: credx_storage::StorageError) -> Self {
        CaseError::Api(e.into())
    }
}

impl IntoResponse for CaseError {
    fn into_response(self) -> Response {
        match self {
            CaseError::Api(e) => e.into_response(),
            CaseError::Catalogue(e) => {
                let code = match e {
                    CatalogueError::MeasureNotInEdition { .. } => "measure_not_in_catalogue",
                    CatalogueError::UnknownEdition { .. } => "unknown_catalogue_edition",
                    CatalogueError::WrongKind { .. } => "measure_of_other_kind",
                    CatalogueError::Duplicate { .. } | CatalogueError::NoMeasures => {
                        "invalid_measures"
                    }
                    CatalogueError::Embedded(_) => "internal_error",
                };
                let status = if code == "internal_error" {
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::UNPROCESSABLE_ENTITY
                };
                let body = ErrorBody {
                    error: code.to_owned(),
                    message: e.to_string(),
                };
                (status, Json(body)).into_response()
            }
        }
    }
}

fn invalid(field: &'static str, reason: impl Into<String>) -> CaseError {
    CaseError::Api(ApiError::InvalidField {
        field,
        reason: reason.into(),
    })
}

fn conflict(message: impl Into<String>) -> CaseError {
    CaseError::Api(ApiError::Conflict(message.into()))
}

fn check_text(field: &'static str, value: &str) -> Result<String, CaseError> {
    let value = value.trim();
    if value.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(
            field,
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(value.to_owned())
}

fn check_case_id(value: &str) -> Result<String, CaseError> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > MAX_CASE_ID_CHARS || value.contains('/') {
        return Err(invalid(
            "case_id",
            format!("must be 1 to {MAX_CASE_ID_CHARS} characters without `/`"),
        ));
    }
    Ok(value.to_owned())
}

/// The case as this node sees it today, or 404.
fn current_case(state: &ApiState, case_id: &str) -> Result<CaseState, CaseError> {
    load_case(state.store.as_ref(), case_id, state.today())?.ok_or_else(|| {
        CaseError::Api(ApiError::NotFound {
            what: format!(
                "case {case_id:?} (no initiation of it in this node's logs or received feed)"
            ),
        })
    })
}

/// A case entry written by this node for `authority`.
fn case_entry(state: &ApiState, department: &TokenEntry, authority: &str, event: Event) -> Entry {
    Entry {
        version: ENVELOPE_VERSION,
        origin: state.origin.to_string(),
        authority: Some(authority.to_owned()),
        submitted_by: department.department.clone(),
        // Case entries name no subject: they do not change the subject's status, and the
        // case index (not the subject index) finds them.
        subject: None,
        business_key: None,
        accepted_at_ms: state.now_ms(),
        event,
    }
}

/// Appends `entries` (one sequencer submission, consecutive indexes).
fn write(
    state: &ApiState,
    entries: &[Entry],
) -> Result<(Vec<EntryPosition>, Option<u64>), CaseError> {
    let mut bytes = Vec::with_capacity(entries.len());
    for e in entries {
        let encoded = e.encode().map_err(|err| invalid("case", err.to_string()))?;
        bytes.push(encoded.into_bytes());
    }
    if bytes.is_empty() {
        return Ok((Vec::new(), None));
    }
    let acks = append(state, bytes)?;
    let checkpoint = acks.iter().map(|(_, size)| *size).max();
    let written = acks
        .iter()
        .map(|(index, _)| EntryPosition {
            origin: state.origin.to_string(),
            index: *index,
        })
        .collect();
    Ok((written, checkpoint))
}

fn response(
    state: &ApiState,
    department: &TokenEntry,
    case_id: &str,
    (written, checkpoint_size): (Vec<EntryPosition>, Option<u64>),
) -> Result<CaseWriteResponse, CaseError> {
    Ok(CaseWriteResponse {
        case_id: case_id.to_owned(),
        duplicate: written.is_empty(),
        written,
        submitted_by: department.department.clone(),
        checkpoint_size,
        overdue: Vec::new(),
        repushed: Vec::new(),
        state: current_case(state, case_id)?,
    })
}

/// The listing a case is initiated on: a current list entry of the right kind, for an
/// authority the token covers.
struct Listing {
    at: EntryRef,
    authority: String,
}

fn load_listing(
    state: &ApiState,
    department: &TokenEntry,
    target: &TargetRef,
    kind: CaseKind,
) -> Result<Listing, CaseError> {
    let location = EntryLocation {
        origin: target.origin.clone(),
        index: target.index,
    };
    let name = format!("{}#{}", target.origin, target.index);
    let (entry, leaf_hash) = match read_entry(state.store.as_ref(), &location) {
        Ok(found) => found,
        Err(LoadError::Missing { .. }) => {
            return Err(CaseError::Api(ApiError::NotFound {
                what: format!("listing entry {name}"),
            }))
        }
        Err(e) => return Err(e.into()),
    };
    let Some(Record::ListEntry(list)) = entry.event.record() else {
        return Err(invalid(
            "listing",
            format!(
                "entry {name} is a {} entry, not a list entry",
                entry.event.kind_name()
            ),
        ));
    };
    let fits = match kind {
        CaseKind::Reward => list.kind == ListKind::RedList,
        CaseKind::Punishment => list.kind != ListKind::RedList,
    };
    if !fits {
        return Err(invalid(
            "kind",
            format!(
                "a {} case cannot act on a {} entry (rewards act on the red list, punishments on the others)",
                CaseKindName::from(kind).as_str(),
                list.kind.name_zh()
            ),
        ));
    }
    let authority = entry
        .authority
        .clone()
        .ok_or_else(|| invalid("listing", format!("entry {name} names no authority")))?;
    if !department.may_submit_for(&authority) {
        return Err(CaseError::Api(ApiError::AuthorityOutOfScope {
            department: department.department.clone(),
            authority,
        }));
    }
    let at = EntryRef {
        origin: target.origin.clone(),
        index: target.index,
        leaf_hash,
    };
    if let Some(key) = &entry.business_key {
        if let Some(latest) = latest_entry(state, &key.to_string())? {
            if latest != at {
                return Err(conflict(format!(
                    "list entry {name} is superseded by {}#{}; initiate on the latest version",
                    latest.origin, latest.index
                )));
            }
        }
    }
    if let Some(subject) = &entry.subject {
        if let Some(bytes) = state.store.subject_status(&subject.map_key())? {
            let status = SubjectStatus::decode(&bytes)
                .map_err(|e| CaseError::Api(ApiError::Internal(format!("stored status: {e}"))))?;
            if !status.listings.iter().any(|l| l.entry == at) {
                return Err(conflict(format!(
                    "list entry {name} is no longer a current listing (removed, repaired, revoked or corrected)"
                )));
            }
        }
    }
    Ok(Listing { at, authority })
}

fn check_targets(targets: &[TargetUnitDto]) -> Result<Vec<TargetUnit>, CaseError> {
    if targets.is_empty() || targets.len() > MAX_TARGETS {
        return Err(invalid(
            "targets",
            format!("must name 1 to {MAX_TARGETS} units"),
        ));
    }
    let mut out: Vec<TargetUnit> = Vec::with_capacity(targets.len());
    for t in targets {
        let unit = TargetUnit::from(t);
        if unit.node.is_empty()
            || unit.node.len() > 255
            || unit
                .node
                .chars()
                .any(|c| c.is_whitespace() || c == '+' || c.is_control())
        {
            return Err(invalid(
                "targets",
                format!("node {:?} is not an origin name", t.node),
            ));
        }
        if let Some(d) = &unit.department {
            if d.len() != 18 || !d.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(invalid(
                    "targets",
                    format!(
                        "department {d:?} of {} is not an 18-character USCC",
                        unit.node
                    ),
                ));
            }
        }
        if out.contains(&unit) {
            return Err(invalid(
                "targets",
                format!("{} is named twice", unit_name(&unit)),
            ));
        }
        out.push(unit);
    }
    Ok(out)
}

/// `POST /v1/cases` (blocking).
pub(crate) fn initiate(
    state: &ApiState,
    department: &TokenEntry,
    request: InitiateRequest,
) -> Result<CaseWriteResponse, CaseError> {
    let kind = CaseKind::from(request.kind);
    let edition = request.catalogue_edition.trim().to_owned();
    let measures = Catalogue::embedded()?.resolve(&edition, kind, &request.measures)?;
    let targets = check_targets(&request.targets)?;
    let version = request.version.unwrap_or(1);
    if version == 0 {
        return Err(invalid("version", "versions start at 1"));
    }
    let today = state.today();
    if request.respond_by < today {
        return Err(invalid(
            "respond_by",
            format!("{} is before today ({today})", request.respond_by),
        ));
    }
    let _writes = state.lock_writes()?;
    let listing = load_listing(state, department, &request.listing, kind)?;
    let case_id = match &request.case_id {
        Some(id) => check_case_id(id)?,
        None => format!(
            "{}{}{:06}",
            state.origin.split('.').next().unwrap_or_default(),
            today.format("%Y%m%d"),
            state.store.log_size(&state.origin)?
        ),
    };
    let initiation = CaseInitiation {
        case: CaseKey {
            case_id: case_id.clone(),
            version,
        },
        kind,
        listing: listing.at.clone(),
        catalogue_edition: edition,
        measures,
        targets: targets.clone(),
        respond_by: request.respond_by,
    };
    if let Some(existing) = load_case(state.store.as_ref(), &case_id, today)? {
        if existing.version >= version {
            return if same_terms(state, &case_id, &initiation)? {
                response(state, department, &case_id, (Vec::new(), None))
            } else {
                Err(conflict(format!(
                    "case {case_id} version {version} is already initiated with other terms; the next version is {}",
                    existing.version + 1
                )))
            };
        }
        if existing.initiator.origin != *state.origin || existing.version + 1 != version {
            return Err(conflict(format!(
                "case {case_id} was initiated by {} at version {}; only it may issue version {}",
                existing.initiator.origin,
                existing.version,
                existing.version + 1
            )));
        }
    }
    let mut entries = vec![case_entry(
        state,
        department,
        &listing.authority,
        Event::CaseInitiated(initiation),
    )];
    for target in targets {
        entries.push(case_entry(
            state,
            department,
            &listing.authority,
            Event::CaseStep(CaseStep {
                case: CaseKey {
                    case_id: case_id.clone(),
                    version,
                },
                responder: target,
                step: CaseStepKind::Pushed,
            }),
        ));
    }
    let written = write(state, &entries)?;
    response(state, department, &case_id, written)
}

/// Whether the log already holds `initiation` (same version, same terms).
fn same_terms(
    state: &ApiState,
    case_id: &str,
    initiation: &CaseInitiation,
) -> Result<bool, CaseError> {
    let inputs = crate::cases::load_inputs(state.store.as_ref(), case_id)?;
    Ok(inputs.entries.iter().any(|e| {
        e.entry.origin == *state.origin
            && matches!(&e.entry.event, Event::CaseInitiated(existing) if existing == initiation)
    }))
}

/// The target a step is for, checked against the token.
fn responder<'a>(
    state: &ApiState,
    department: &TokenEntry,
    case: &'a CaseState,
    asked: Option<&TargetUnitDto>,
) -> Result<&'a TargetState, CaseError> {
    let covers = |t: &TargetState| {
        t.department
            .as_deref()
            .is_none_or(|d| department.may_submit_for(d))
    };
    let target = match asked {
        Some(asked) => {
            let unit = TargetUnit::from(asked);
            case.targets
                .iter()
                .find(|t| t.node == unit.node && t.department == unit.department)
                .ok_or_else(|| {
                    invalid(
                        "responder",
                        format!(
                            "{} is not a target of case {}",
                            unit_name(&unit),
                            case.case_id
                        ),
                    )
                })?
        }
        None => {
            let mine: Vec<&'a TargetState> = case
                .targets
                .iter()
                .filter(|t| t.node == *state.origin && covers(t))
                .collect();
            match mine.as_slice() {
                [one] => *one,
                [] => {
                    return Err(conflict(format!(
                        "case {} has no target at {} that this token may act for",
                        case.case_id, state.origin
                    )))
                }
                _ => {
                    return Err(invalid(
                        "responder",
                        "several targets of the case are at this node; name the responder",
                    ))
                }
            }
        }
    };
    if target.node != *state.origin {
        return Err(conflict(format!(
            "steps of {} are written at that node, not at {}",
            target.node, state.origin
        )));
    }
    if let Some(d) = &target.department {
        if !department.may_submit_for(d) {
            return Err(CaseError::Api(ApiError::AuthorityOutOfScope {
                department: department.department.clone(),
                authority: d.clone(),
            }));
        }
    }
    Ok(target)
}

/// The authority a responder's step is written for.
fn step_authority(
    department: &TokenEntry,
    target: &TargetState,
    asked: Option<&str>,
) -> Result<String, CaseError> {
    if let Some(d) = &target.department {
        return Ok(d.clone());
    }
    let authority = match asked {
        Some(a) => a.trim().to_ascii_uppercase(),
        None => match department.authorities.iter().collect::<Vec<_>>().as_slice() {
            [one] => (*one).clone(),
            _ => {
                return Err(invalid(
                    "authority",
                    "the token covers several authorities; name the one this step is for",
                ))
            }
        },
    };
    if !department.may_submit_for(&authority) {
        return Err(CaseError::Api(ApiError::AuthorityOutOfScope {
            department: department.department.clone(),
            authority,
        }));
    }
    Ok(authority)
}

/// `POST /v1/cases/{id}/steps` (blocking).
pub(crate) fn step(
    state: &ApiState,
    department: &TokenEntry,
    case_id: &str,
    request: StepRequest,
) -> Result<CaseWriteResponse, CaseError> {
    let case_id = check_case_id(case_id)?;
    let _writes = state.lock_writes()?;
    let case = current_case(state, &case_id)?;
    // The initiator's lift names no responder.
    if let StepAction::Lift { reason } = request.step {
        return lift(state, department, &case, reason);
    }
    let target = responder(state, department, &case, request.responder.as_ref())?;
    let authority = step_authority(department, target, request.authority.as_deref())?;
    let who = unit_name(&TargetUnit {
        node: target.node.clone(),
        department: target.department.clone(),
    });
    let Some(version) = target.pushed_versions.last().copied() else {
        return Err(conflict(format!(
            "case {case_id} has not been pushed to {who} yet (no push in this node's logs or received feed)"
        )));
    };
    let kind = match request.step {
        StepAction::Acknowledge { accepted, reason } => {
            let reason = check_text("reason", &reason)?;
            if !accepted && reason.is_empty() {
                return Err(invalid("reason", "a refusal (拒收) states its reason"));
            }
            if let Some(ack) = &target.acknowledgement {
                return Err(conflict(format!(
                    "{who} already {} case {case_id} on {}",
                    if ack.accepted {
                        "acknowledged"
                    } else {
                        "refused"
                    },
                    ack.on
                )));
            }
            CaseStepKind::Acknowledged { accepted, reason }
        }
        StepAction::Execute {
            measure_code,
            result,
            detail,
            business_item,
            executed_on,
        } => {
            let measure_code = measure_code.trim().to_owned();
            let result = ExecutionResult::from(result);
            if target.acknowledgement.as_ref().map(|a| a.accepted) != Some(true) {
                return Err(conflict(format!(
                    "{who} has not acknowledged case {case_id}; acknowledge before recording results"
                )));
            }
            if target.lift.is_some() {
                return Err(conflict(format!(
                    "the measures of case {case_id} are lifted; acknowledge the lift instead"
                )));
            }
            if case.status == CaseStatus::Suspended && result != ExecutionResult::Deferred {
                return Err(conflict(format!(
                    "the measures of case {case_id} are paused while objection {} is verified; record `deferred`",
                    case.objection
                        .as_ref()
                        .map_or("(unknown)", |o| o.objection_id.as_str())
                )));
            }
            if !case.measures.iter().any(|m| m.code == measure_code) {
                return Err(invalid(
                    "measure_code",
                    format!("{measure_code:?} is not a measure of case {case_id}"),
                ));
            }
            if !result_fits(case.kind, result) {
                return Err(invalid(
                    "result",
                    format!(
                        "{:?} does not fit a {} case",
                        ResultName::from(result),
                        case.kind.as_str()
                    ),
                ));
            }
            let detail = check_text("detail", &detail)?;
            if result == ExecutionResult::NotApplicable && detail.is_empty() {
                return Err(invalid(
                    "detail",
                    "不适用 (not_applicable) states its reason in detail",
                ));
            }
            CaseStepKind::Executed {
                measure_code,
                result,
                detail,
                business_item: check_text("business_item", &business_item)?,
                executed_on: executed_on.unwrap_or_else(|| state.today()),
            }
        }
        StepAction::LiftAcknowledge => {
            if target.lift.is_none() {
                return Err(conflict(format!(
                    "case {case_id} has not been lifted for {who}; there is nothing to acknowledge"
                )));
            }
            if let Some(on) = target.lift_acknowledged_on {
                return Err(conflict(format!(
                    "{who} already acknowledged the lift on {on}"
                )));
            }
            CaseStepKind::LiftAcknowledged
        }
        StepAction::Close => {
            if let Some(on) = target.closed_on {
                return Err(conflict(format!(
                    "{who} already closed case {case_id} on {on}"
                )));
            }
            if !matches!(target.phase, TargetPhase::Feedback | TargetPhase::Refused) {
                let pending: Vec<&str> = target
                    .measures
                    .iter()
                    .filter(|m| m.result.is_none())
                    .map(|m| m.code.as_str())
                    .collect();
                return Err(conflict(format!(
                    "{who} cannot close case {case_id}: feedback is incomplete (no result for {})",
                    if pending.is_empty() {
                        "an accepted acknowledgement".to_owned()
                    } else {
                        pending.join(", ")
                    }
                )));
            }
            CaseStepKind::Closed
        }
        StepAction::Lift { reason } => return lift(state, department, &case, reason),
    };
    let entry = case_entry(
        state,
        department,
        &authority,
        Event::CaseStep(CaseStep {
            case: CaseKey {
                case_id: case_id.clone(),
                version,
            },
            responder: TargetUnit {
                node: target.node.clone(),
                department: target.department.clone(),
            },
            step: kind,
        }),
    );
    let written = write(state, &[entry])?;
    response(state, department, &case_id, written)
}

/// The initiator's side of a case: this node initiated it and the token covers its authority.
fn initiator_authority(
    state: &ApiState,
    department: &TokenEntry,
    case: &CaseState,
) -> Result<String, CaseError> {
    if case.initiator.origin != *state.origin {
        return Err(conflict(format!(
            "case {} was initiated at {}; only that node writes the initiator's steps",
            case.case_id, case.initiator.origin
        )));
    }
    let authority = case.initiator.authority.clone().unwrap_or_default();
    if !department.may_submit_for(&authority) {
        return Err(CaseError::Api(ApiError::AuthorityOutOfScope {
            department: department.department.clone(),
            authority,
        }));
    }
    Ok(authority)
}

fn initiator_step(
    state: &ApiState,
    department: &TokenEntry,
    authority: &str,
    case: &CaseState,
    version: u32,
    target: &TargetState,
    step: CaseStepKind,
) -> Entry {
    case_entry(
        state,
        department,
        authority,
        Event::CaseStep(CaseStep {
            case: CaseKey {
                case_id: case.case_id.clone(),
                version,
            },
            responder: TargetUnit {
                node: target.node.clone(),
                department: target.department.clone(),
            },
            step,
        }),
    )
}

/// The initiator's explicit lift of every target not yet lifted.
fn lift(
    state: &ApiState,
    department: &TokenEntry,
    case: &CaseState,
    reason: LiftReasonName,
) -> Result<CaseWriteResponse, CaseError> {
    let authority = initiator_authority(state, department, case)?;
    let entries: Vec<Entry> = case
        .targets
        .iter()
        .filter(|t| t.lift.is_none())
        .map(|t| {
            initiator_step(
                state,
                department,
                &authority,
                case,
                case.version,
                t,
                CaseStepKind::Lifted {
                    reason: reason.into(),
                },
            )
        })
        .collect();
    if entries.is_empty() {
        return Err(conflict(format!(
            "every target of case {} is already told to lift its measures",
            case.case_id
        )));
    }
    let written = write(state, &entries)?;
    response(state, department, &case.case_id, written)
}

/// `POST /v1/cases/{id}/overdue-check` (blocking).
pub(crate) fn overdue_check(
    state: &ApiState,
    department: &TokenEntry,
    case_id: &str,
    request: OverdueRequest,
) -> Result<CaseWriteResponse, CaseError> {
    let case_id = check_case_id(case_id)?;
    let today = state.today();
    if let Some(date) = request.respond_by {
        if date <= today {
            return Err(invalid(
                "respond_by",
                format!("a re-push needs a date after today ({today})"),
            ));
        }
    }
    let _writes = state.lock_writes()?;
    let case = current_case(state, &case_id)?;
    let authority = initiator_authority(state, department, &case)?;
    let overdue: Vec<&TargetState> = case
        .targets
        .iter()
        .filter(|t| t.phase == TargetPhase::Overdue)
        .collect();
    let mut entries = Vec::new();
    for t in &overdue {
        let version = t.pushed_versions.last().copied().unwrap_or(case.version);
        if !t.overdue_versions.contains(&version) {
            entries.push(initiator_step(
                state,
                department,
                &authority,
                &case,
                version,
                t,
                CaseStepKind::Overdue,
            ));
        }
    }
    let mut repushed = Vec::new();
    if let (Some(respond_by), false) = (request.respond_by, overdue.is_empty()) {
        let inputs = crate::cases::load_inputs(state.store.as_ref(), &case_id)?;
        let latest = inputs
            .entries
            .iter()
            .filter(|e| e.entry.origin == *state.origin)
            .filter_map(|e| match &e.entry.event {
                Event::CaseInitiated(init) if init.case.version == case.version => Some(init),
                _ => None,
            })
            .next()
            .cloned()
            .ok_or_else(|| {
                CaseError::Api(ApiError::Internal(format!(
                    "case {case_id} version {} has no initiation in this node's log",
                    case.version
                )))
            })?;
        let version = case.version + 1;
        entries.push(case_entry(
            state,
            department,
            &authority,
            Event::CaseInitiated(CaseInitiation {
                case: CaseKey {
                    case_id: case_id.clone(),
                    version,
                },
                respond_by,
                ..latest
            }),
        ));
        for t in &overdue {
            entries.push(initiator_step(
                state,
                department,
                &authority,
                &case,
                version,
                t,
                CaseStepKind::Pushed,
            ));
            repushed.push(TargetUnitDto {
                node: t.node.clone(),
                department: t.department.clone(),
            });
        }
    }
    let overdue_units = overdue
        .iter()
        .map(|t| TargetUnitDto {
            node: t.node.clone(),
            department: t.department.clone(),
        })
        .collect();
    let written = write(state, &entries)?;
    let mut answer = response(state, department, &case_id, written)?;
    answer.duplicate = false;
    answer.overdue = overdue_units;
    answer.repushed = repushed;
    Ok(answer)
}

/// `GET /v1/cases/statistics` (blocking): every case this node knows, folded for today.
pub(crate) fn case_statistics(state: &ApiState) -> Result<CaseStatistics, CaseError> {
    let today = state.today();
    let mut cases = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let ids = state.store.case_ids(after.as_deref(), PAGE)?;
        for id in &ids {
            if let Some(case) = load_case(state.store.as_ref(), id, today)? {
                cases.push(case);
            }
        }
        if ids.len() < PAGE {
            break;
        }
        after = ids.last().cloned();
    }
    Ok(statistics(&cases, today))
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, CaseError> + Send + 'static,
) -> Result<T, CaseError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| CaseError::Api(ApiError::Internal(format!("case task failed: {e}"))))?
}

fn path_id(id: Result<Path<String>, PathRejection>) -> Result<String, CaseError> {
    let Path(id) = id.map_err(|e| invalid("id", e.body_text()))?;
    Ok(id)
}

fn json<T>(body: Result<Json<T>, JsonRejection>) -> Result<T, CaseError> {
    let Json(value) = body.map_err(|e| CaseError::Api(ApiError::InvalidJson(e.body_text())))?;
    Ok(value)
}

/// Initiate a joint reward/punishment case (联合奖惩发起) on a list entry and push it to its
/// targets. Measures must be in the named catalogue edition.
#[utoipa::path(
    post,
    path = "/v1/cases",
    tag = "cases",
    request_body = InitiateRequest,
    responses(
        (status = 200, description = "The initiation and pushes are durable and checkpointed, or the same initiation was already in the log (duplicate)", body = CaseWriteResponse),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the listing's authority", body = ErrorBody),
        (status = 404, description = "No such listing", body = ErrorBody),
        (status = 409, description = "Version taken with other terms, or the listing is not current", body = ErrorBody),
        (status = 422, description = "A measure is not in the catalogue edition (measure_not_in_catalogue), the edition is unknown, or a measure is of the other kind", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_case(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Json<InitiateRequest>, JsonRejection>,
) -> Result<Json<CaseWriteResponse>, CaseError> {
    let department = caller.department()?.clone();
    let request = json(body)?;
    blocking(move || initiate(&state, &department, request))
        .await
        .map(Json)
}

/// Record a step of a case: a responder's acknowledgement, result per measure, lift
/// acknowledgement or close (at the responder's node), or the initiator's lift.
#[utoipa::path(
    post,
    path = "/v1/cases/{id}/steps",
    tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body = StepRequest,
    responses(
        (status = 200, description = "The step is durable and checkpointed", body = CaseWriteResponse),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the responding department", body = ErrorBody),
        (status = 404, description = "No such case at this node", body = ErrorBody),
        (status = 409, description = "The step does not fit the case's state", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_step(
    State(state): State<ApiState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<StepRequest>, JsonRejection>,
) -> Result<Json<CaseWriteResponse>, CaseError> {
    let department = caller.department()?.clone();
    let id = path_id(id)?;
    let request = json(body)?;
    blocking(move || step(&state, &department, &id, request))
        .await
        .map(Json)
}

/// Mark targets past their respond-by date without acknowledgement as overdue and, with
/// a new date, re-push them under the next version (initiator only).
#[utoipa::path(
    post,
    path = "/v1/cases/{id}/overdue-check",
    tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    request_body = OverdueRequest,
    responses(
        (status = 200, description = "Overdue marks and re-pushes are durable and checkpointed", body = CaseWriteResponse),
        (status = 400, description = "A field is invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the initiating authority", body = ErrorBody),
        (status = 404, description = "No such case at this node", body = ErrorBody),
        (status = 409, description = "This node did not initiate the case", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_overdue_check(
    State(state): State<ApiState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<OverdueRequest>, JsonRejection>,
) -> Result<Json<CaseWriteResponse>, CaseError> {
    let department = caller.department()?.clone();
    let id = path_id(id)?;
    let request = json(body)?;
    blocking(move || overdue_check(&state, &department, &id, request))
        .await
        .map(Json)
}

/// A case folded from its entries in this node's logs and received feed: per-target
/// sub-states, suspension, lift.
#[utoipa::path(
    get,
    path = "/v1/cases/{id}",
    tag = "cases",
    params(("id" = String, Path, description = "The case id")),
    responses(
        (status = 200, description = "The case state", body = CaseState),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 404, description = "No such case at this node", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn get_case(
    State(state): State<ApiState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<CaseState>, CaseError> {
    caller.department()?;
    let id = path_id(id)?;
    blocking(move || current_case(&state, &id)).await.map(Json)
}

/// Tracking statistics per responding department over every case this node knows.
#[utoipa::path(
    get,
    path = "/v1/cases/statistics",
    tag = "cases",
    responses(
        (status = 200, description = "The statistics", body = CaseStatistics),
        (status = 401, description = "No or unknown token", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn get_statistics(
    State(state): State<ApiState>,
    caller: Caller,
) -> Result<Json<CaseStatistics>, CaseError> {
    caller.department()?;
    blocking(move || case_statistics(&state)).await.map(Json)
}
