//! The state of a joint reward/punishment case: a pure fold over its entries.
//!
//! Inputs are the case's entries from any log (initiations, pushes, responders' steps, as
//! found by the case index in this node's own log, its mirrors and the received feed) and
//! the lifecycle entries of the listing it acts on (objections, repair, removal,
//! withdrawal). Nothing else is read, so every node holding the same entries derives the
//! same state, and the state is rebuilt from the log whenever asked.
//!
//! The fold does not depend on the order entries arrive in from different logs: pushes and
//! overdue marks are sets of versions, an objection is open while its id has no resolution,
//! and "latest" (an acknowledgement, a measure's result) is only ever taken within one
//! responder's own log, where the index order is the truth. Entries that break the case's
//! rules (a step written by a node that is not the responder, a push not written by the
//! initiator) are listed as ignored, not folded.
//!
//! Idempotency is on (case_id, version): a second initiation or push of the same version
//! changes nothing but the duplicate count.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use credx_protocol::entry::{
    CaseInitiation, CaseStepKind, Entry, EntryRef, Event, ExecutionResult, LiftReason,
    ObjectionOutcome, TargetUnit,
};
use credx_storage::EntryLocation;
use serde::Serialize;
use utoipa::ToSchema;

use super::names::{china_date, CaseKindName, LiftReasonName, ResultName};
use crate::api::views::EntryPosition;

/// One entry as the fold sees it: where it is stored and what it says.
#[derive(Debug, Clone)]
pub struct CaseEntry {
    pub location: EntryLocation,
    pub entry: Entry,
}

/// The listing a case acts on, when this node holds it.
#[derive(Debug, Clone)]
pub struct ListingFacts {
    pub at: EntryRef,
    pub list_kind: String,
    pub valid_until: Option<NaiveDate>,
}

/// Everything a case's state is folded from.
#[derive(Debug, Clone, Default)]
pub struct CaseInputs {
    /// Entries filed under the case id.
    pub entries: Vec<CaseEntry>,
    pub listing: Option<ListingFacts>,
    /// Lifecycle entries targeting the listing.
    pub listing_events: Vec<CaseEntry>,
}

/// The case as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    /// Pushed to its targets, work under way.
    Open,
    /// 异议核实中: an objection that suspends measures is open; measures are paused.
    Suspended,
    /// The listing was repaired, removed, revoked, corrected or expired: every target must
    /// lift its measures and confirm (LIFT_ACK).
    Lifted,
    /// Every target closed or refused; or, once lifted, every target confirmed the lift.
    Closed,
}

/// Where one target stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TargetPhase {
    /// Named in the case, no push seen yet.
    NotPushed,
    Pushed,
    /// Past its respond-by date without acknowledgement (recorded or due).
    Overdue,
    /// 签收: accepted, feedback not complete.
    Acknowledged,
    /// 拒收.
    Refused,
    /// Every measure has a result (executed or not applicable).
    Feedback,
    /// The responder closed its work on the case.
    Closed,
    /// Told to lift its measures, not yet confirmed.
    Lifted,
    /// Confirmed the lift (LIFT_ACK).
    LiftAcknowledged,
}

/// Per-measure state at one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureState {
    Pending,
    /// 已惩戒 / 已激励
    Executed,
    /// 无相关业务 / 不适用
    NotApplicable,
    /// 暂缓 (objection)
    Deferred,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Initiator {
    pub origin: String,
    /// USCC of the initiating (determining) unit.
    pub authority: Option<String>,
    pub submitted_by: String,
    pub initiated_on: NaiveDate,
    pub entry: EntryPosition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MeasureView {
    pub code: String,
    pub text: String,
    pub legal_basis: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ObjectionView {
    pub objection_id: String,
    pub suspends_measures: bool,
    pub entry: EntryPosition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct LiftView {
    pub reason: LiftReasonName,
    pub on: NaiveDate,
    /// The entry that caused it (repair, removal, resolution, withdrawal or a lift step);
    /// none for expiry, which is evaluated for the reader's date.
    pub entry: Option<EntryPosition>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Acknowledgement {
    pub accepted: bool,
    pub reason: String,
    pub on: NaiveDate,
    pub version: u32,
    pub entry: EntryPosition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct MeasureResult {
    pub result: ResultName,
    pub detail: String,
    pub business_item: String,
    pub executed_on: NaiveDate,
    pub recorded_on: NaiveDate,
    pub entry: EntryPosition,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TargetMeasure {
    pub code: String,
    pub state: MeasureState,
    pub result: Option<MeasureResult>,
}

/// One responder's sub-state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct TargetState {
    pub node: String,
    /// USCC of the responding department, when the case names one.
    pub department: Option<String>,
    pub phase: TargetPhase,
    /// Versions pushed to this target (a duplicate push adds nothing).
    pub pushed_versions: Vec<u32>,
    pub first_pushed_on: Option<NaiveDate>,
    /// Respond-by date of the latest version pushed to it.
    pub respond_by: NaiveDate,
    /// Versions the initiator recorded as overdue.
    pub overdue_versions: Vec<u32>,
    /// Unacknowledged past its respond-by date today.
    pub overdue_now: bool,
    pub acknowledgement: Option<Acknowledgement>,
    pub measures: Vec<TargetMeasure>,
    /// When every measure had a result (the last of them).
    pub feedback_on: Option<NaiveDate>,
    pub lift: Option<LiftView>,
    pub lift_acknowledged_on: Option<NaiveDate>,
    pub closed_on: Option<NaiveDate>,
}

/// An entry the fold did not apply, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct IgnoredEntry {
    pub entry: EntryPosition,
    pub reason: String,
}

/// The folded case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct CaseState {
    pub case_id: String,
    /// The latest version initiated.
    pub version: u32,
    pub kind: CaseKindName,
    pub status: CaseStatus,
    pub initiator: Initiator,
    pub listing: EntryPosition,
    /// The listing's list (`seriously-dishonest`, `red-list`, ...), when this node holds it.
    pub list_kind: Option<String>,
    pub catalogue_edition: String,
    pub measures: Vec<MeasureView>,
    /// Respond-by date of the latest version.
    pub respond_by: NaiveDate,
    /// Measures are paused while a suspending objection is verified.
    pub measures_paused: bool,
    /// The open objection on the listing, if any.
    pub objection: Option<ObjectionView>,
    /// Why every target must lift its measures, once the listing ended.
    pub lift: Option<LiftView>,
    pub targets: Vec<TargetState>,
    /// Case entries folded (duplicates included).
    pub entries: u64,
    /// Initiations and pushes of a (case_id, version) already seen.
    pub duplicates: u64,
    pub ignored: Vec<IgnoredEntry>,
}

fn position(location: &EntryLocation) -> EntryPosition {
    EntryPosition {
        origin: location.origin.clone(),
        index: location.index,
    }
}

/// A target's facts as the steps state them, before phases are derived.
#[derive(Debug, Default)]
struct TargetFacts {
    pushed: BTreeMap<u32, NaiveDate>,
    overdue: BTreeSet<u32>,
    ack: Option<Acknowledgement>,
    results: BTreeMap<String, MeasureResult>,
    lift: Option<LiftView>,
    lift_ack: Option<NaiveDate>,
    closed: Option<NaiveDate>,
}

/// Folds `inputs` into the case's state for the reader's date `today`. `None` when no
/// initiation of the case is among the entries (its steps may have arrived first).
pub fn fold(inputs: &CaseInputs, today: NaiveDate) -> Option<CaseState> {
    let mut entries: Vec<&CaseEntry> = inputs.entries.iter().collect();
    entries.sort_by(|a, b| a.location.cmp(&b.location));
    let mut ignored = Vec::new();
    let mut duplicates = 0u64;

    // The initiation: the earliest-accepted initiation of the lowest version fixes the
    // initiator; later versions count only from the same origin and the same listing.
    let initiations: Vec<(&CaseEntry, &CaseInitiation)> = entries
        .iter()
        .filter_map(|e| match &e.entry.event {
            Event::CaseInitiated(init) => Some((*e, init)),
            _ => None,
        })
        .collect();
    let (base_entry, base) = initiations.iter().copied().min_by(|a, b| {
        (a.1.case.version, a.0.entry.accepted_at_ms, &a.0.location).cmp(&(
            b.1.case.version,
            b.0.entry.accepted_at_ms,
            &b.0.location,
        ))
    })?;
    let case_id = base.case.case_id.clone();
    let initiator_origin = base_entry.entry.origin.clone();
    let mut versions: BTreeMap<u32, &CaseInitiation> = BTreeMap::new();
    for (e, init) in &initiations {
        let at = position(&e.location);
        if e.entry.origin != initiator_origin {
            ignored.push(IgnoredEntry {
                entry: at,
                reason: format!(
                    "case {case_id} was initiated by {initiator_origin}; an initiation from {} is not part of it",
                    e.entry.origin
                ),
            });
        } else if init.listing != base.listing || init.kind != base.kind {
            ignored.push(IgnoredEntry {
                entry: at,
                reason: format!(
                    "version {} acts on another listing or kind than version {}",
                    init.case.version, base.case.version
                ),
            });
        } else if let std::collections::btree_map::Entry::Vacant(slot) =
            versions.entry(init.case.version)
        {
            slot.insert(init);
        } else {
            duplicates += 1;
        }
    }
    let current = versions.values().next_back().copied().unwrap_or(base);
    let mut targets: BTreeMap<TargetUnit, TargetFacts> = BTreeMap::new();
    for init in versions.values() {
        for t in &init.targets {
            targets.entry(t.clone()).or_default();
        }
    }
    let measure_codes: BTreeSet<&str> = current.measures.iter().map(|m| m.code.as_str()).collect();

    for e in &entries {
        let Event::CaseStep(step) = &e.entry.event else {
            continue;
        };
        let at = position(&e.location);
        let on = china_date(e.entry.accepted_at_ms);
        let mut ignore = |reason: String| {
            ignored.push(IgnoredEntry {
                entry: at.clone(),
                reason,
            })
        };
        let version = step.case.version;
        if !versions.contains_key(&version) {
            ignore(format!(
                "step for version {version}, which was never initiated"
            ));
            continue;
        }
        let Some(facts) = targets.get_mut(&step.responder) else {
            ignore(format!(
                "{} is not a target of case {case_id}",
                unit_name(&step.responder)
            ));
            continue;
        };
        let by_initiator = matches!(
            step.step,
            CaseStepKind::Pushed | CaseStepKind::Overdue | CaseStepKind::Lifted { .. }
        );
        if by_initiator {
            if e.entry.origin != initiator_origin {
                ignore(format!(
                    "only the initiator {initiator_origin} pushes, marks overdue and lifts; this step is from {}",
                    e.entry.origin
                ));
                continue;
            }
        } else {
            if e.entry.origin != step.responder.node {
                ignore(format!(
                    "a step of responder {} must be in that node's log, not {}",
                    unit_name(&step.responder),
                    e.entry.origin
                ));
                continue;
            }
            if let Some(department) = &step.responder.department {
                if e.entry.authority.as_deref() != Some(department.as_str()) {
                    ignore(format!(
                        "a step of department {department} must be written for that authority, not {:?}",
                        e.entry.authority
                    ));
                    continue;
                }
            }
        }
        match &step.step {
            CaseStepKind::Pushed => {
                if let std::collections::btree_map::Entry::Vacant(slot) =
                    facts.pushed.entry(version)
                {
                    slot.insert(on);
                } else {
                    duplicates += 1;
                }
            }
            CaseStepKind::Overdue => {
                facts.overdue.insert(version);
            }
            CaseStepKind::Lifted { reason } => {
                if facts.lift.is_none() {
                    facts.lift = Some(LiftView {
                        reason: (*reason).into(),
                        on,
                        entry: Some(at),
                    });
                }
            }
            CaseStepKind::Acknowledged { accepted, reason } => {
                facts.ack = Some(Acknowledgement {
                    accepted: *accepted,
                    reason: reason.clone(),
                    on,
                    version,
                    entry: at,
                });
            }
            CaseStepKind::Executed {
                measure_code,
                result,
                detail,
                business_item,
                executed_on,
            } => {
                if !measure_codes.contains(measure_code.as_str()) {
                    ignore(format!(
                        "measure {measure_code} is not among the measures of case {case_id}"
                    ));
                    continue;
                }
                facts.results.insert(
                    measure_code.clone(),
                    MeasureResult {
                        result: (*result).into(),
                        detail: detail.clone(),
                        business_item: business_item.clone(),
                        executed_on: *executed_on,
                        recorded_on: on,
                        entry: at,
                    },
                );
            }
            CaseStepKind::LiftAcknowledged => {
                facts.lift_ack.get_or_insert(on);
            }
            CaseStepKind::Closed => {
                facts.closed.get_or_insert(on);
            }
        }
    }

    let listing = ListingOutcome::fold(inputs, &base.listing, today);
    let suspended =
        listing.lift.is_none() && listing.open.as_ref().is_some_and(|o| o.suspends_measures);
    let target_states: Vec<TargetState> = targets
        .into_iter()
        .map(|(unit, facts)| {
            target_state(
                unit,
                facts,
                &versions,
                current,
                listing.lift.as_ref(),
                today,
            )
        })
        .collect();
    let all =
        |f: &dyn Fn(&TargetState) -> bool| !target_states.is_empty() && target_states.iter().all(f);
    let lifted = listing.lift.is_some() || all(&|t| t.lift.is_some());
    let status = if lifted {
        if all(&|t| t.lift_acknowledged_on.is_some()) {
            CaseStatus::Closed
        } else {
            CaseStatus::Lifted
        }
    } else if suspended {
        CaseStatus::Suspended
    } else if all(&|t| matches!(t.phase, TargetPhase::Closed | TargetPhase::Refused)) {
        CaseStatus::Closed
    } else {
        CaseStatus::Open
    };
    Some(CaseState {
        case_id,
        version: current.case.version,
        kind: current.kind.into(),
        status,
        initiator: Initiator {
            origin: initiator_origin,
            authority: base_entry.entry.authority.clone(),
            submitted_by: base_entry.entry.submitted_by.clone(),
            initiated_on: china_date(base_entry.entry.accepted_at_ms),
            entry: position(&base_entry.location),
        },
        listing: EntryPosition::of(&base.listing),
        list_kind: inputs.listing.as_ref().map(|l| l.list_kind.clone()),
        catalogue_edition: current.catalogue_edition.clone(),
        measures: current
            .measures
            .iter()
            .map(|m| MeasureView {
                code: m.code.clone(),
                text: m.text.clone(),
                legal_basis: m.legal_basis.clone(),
            })
            .collect(),
        respond_by: current.respond_by,
        measures_paused: suspended,
        objection: listing.open,
        lift: listing.lift,
        targets: target_states,
        entries: inputs.entries.len() as u64,
        duplicates,
        ignored,
    })
}

/// What became of the listing: an open objection, or the end that lifts every measure.
struct ListingOutcome {
    open: Option<ObjectionView>,
    lift: Option<LiftView>,
}

impl ListingOutcome {
    fn fold(inputs: &CaseInputs, listing: &EntryRef, today: NaiveDate) -> ListingOutcome {
        let mut events: Vec<&CaseEntry> = inputs.listing_events.iter().collect();
        events.sort_by(|a, b| a.location.cmp(&b.location));
        let mut opened: BTreeMap<&str, ObjectionView> = BTreeMap::new();
        let mut resolved: BTreeSet<&str> = BTreeSet::new();
        let mut lift: Option<LiftView> = None;
        for e in events {
            let at = position(&e.location);
            let on = china_date(e.entry.accepted_at_ms);
            let (target, end) = match &e.entry.event {
                Event::ObjectionOpened {
                    objection_id,
                    target,
                    suspends_measures,
                    ..
                } => {
                    if target == listing {
                        opened
                            .entry(objection_id.as_str())
                            .or_insert(ObjectionView {
                                objection_id: objection_id.clone(),
                                suspends_measures: *suspends_measures,
                                entry: at,
                            });
                    }
                    continue;
                }
                Event::ObjectionResolved {
                    objection_id,
                    target,
                    outcome,
                    ..
                } => {
                    if target == listing {
                        resolved.insert(objection_id.as_str());
                    }
                    let end =
                        (*outcome == ObjectionOutcome::Upheld).then_some(LiftReason::Corrected);
                    (target, end)
                }
                // 移出 ends publication like a repair (终止公示): the measures go with it.
                Event::RepairApproved { target, .. } | Event::ListingRemoved { target, .. } => {
                    (target, Some(LiftReason::Repaired))
                }
                Event::RecordWithdrawn { target, .. } => (target, Some(LiftReason::Revoked)),
                _ => continue,
            };
            if let (true, Some(reason), None) = (target == listing, end, &lift) {
                lift = Some(LiftView {
                    reason: reason.into(),
                    on,
                    entry: Some(at),
                });
            }
        }
        if lift.is_none() {
            let ended = inputs
                .listing
                .as_ref()
                .filter(|l| &l.at == listing)
                .and_then(|l| l.valid_until)
                .filter(|until| *until < today);
            lift = ended.map(|until| LiftView {
                reason: LiftReasonName::Expired,
                on: until.succ_opt().unwrap_or(until),
                entry: None,
            });
        }
        let open = opened
            .into_values()
            .rfind(|o| !resolved.contains(o.objection_id.as_str()));
        ListingOutcome { open, lift }
    }
}

fn target_state(
    unit: TargetUnit,
    facts: TargetFacts,
    versions: &BTreeMap<u32, &CaseInitiation>,
    current: &CaseInitiation,
    case_lift: Option<&LiftView>,
    today: NaiveDate,
) -> TargetState {
    let latest_pushed = facts.pushed.keys().next_back().copied();
    let respond_by = latest_pushed
        .and_then(|v| versions.get(&v))
        .map_or(current.respond_by, |init| init.respond_by);
    let accepted = facts.ack.as_ref().map(|a| a.accepted);
    let measures: Vec<TargetMeasure> = current
        .measures
        .iter()
        .map(|m| {
            let result = facts.results.get(&m.code).cloned();
            let state = match result.as_ref().map(|r| r.result) {
                None => MeasureState::Pending,
                Some(ResultName::Punished | ResultName::Rewarded) => MeasureState::Executed,
                Some(ResultName::NoRelatedBusiness | ResultName::NotApplicable) => {
                    MeasureState::NotApplicable
                }
                Some(ResultName::Deferred) => MeasureState::Deferred,
            };
            TargetMeasure {
                code: m.code.clone(),
                state,
                result,
            }
        })
        .collect();
    let complete = !measures.is_empty()
        && measures.iter().all(|m| {
            matches!(
                m.state,
                MeasureState::Executed | MeasureState::NotApplicable
            )
        });
    let feedback_on = complete
        .then(|| {
            measures
                .iter()
                .filter_map(|m| m.result.as_ref().map(|r| r.recorded_on))
                .max()
        })
        .flatten();
    let lift = facts.lift.or_else(|| case_lift.cloned());
    let overdue_now = accepted.is_none()
        && latest_pushed.is_some()
        && today > respond_by
        && lift.is_none()
        && facts.closed.is_none();
    let overdue_recorded =
        accepted.is_none() && latest_pushed.is_some_and(|v| facts.overdue.contains(&v));
    let phase = if lift.is_some() {
        if facts.lift_ack.is_some() {
            TargetPhase::LiftAcknowledged
        } else {
            TargetPhase::Lifted
        }
    } else if facts.closed.is_some() {
        TargetPhase::Closed
    } else if accepted == Some(false) {
        TargetPhase::Refused
    } else if accepted == Some(true) && complete {
        TargetPhase::Feedback
    } else if accepted == Some(true) {
        TargetPhase::Acknowledged
    } else if latest_pushed.is_none() {
        TargetPhase::NotPushed
    } else if overdue_now || overdue_recorded {
        TargetPhase::Overdue
    } else {
        TargetPhase::Pushed
    };
    TargetState {
        node: unit.node,
        department: unit.department,
        phase,
        pushed_versions: facts.pushed.keys().copied().collect(),
        first_pushed_on: facts.pushed.values().min().copied(),
        respond_by,
        overdue_versions: facts.overdue.into_iter().collect(),
        overdue_now,
        acknowledgement: facts.ack,
        measures,
        feedback_on,
        lift,
        lift_acknowledged_on: facts.lift_ack,
        closed_on: facts.closed,
    }
}

/// `node` or `node/department` for messages.
pub fn unit_name(unit: &TargetUnit) -> String {
    match &unit.department {
        Some(d) => format!("{}/{d}", unit.node),
        None => unit.node.clone(),
    }
}

/// Whether `result` fits a case of `kind` (已激励 only in reward cases, 已惩戒 only in
/// punishment cases).
pub fn result_fits(kind: CaseKindName, result: ExecutionResult) -> bool {
    !matches!(
        (kind, result),
        (CaseKindName::Reward, ExecutionResult::Punished)
            | (CaseKindName::Punishment, ExecutionResult::Rewarded)
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use credx_protocol::entry::{
        CaseKey, CaseKind, CaseStep, ExecutionResult, MeasureRef, ENVELOPE_VERSION,
    };
    use credx_protocol::merkle::Hash;

    use super::*;

    const INITIATOR: &str = "420281.credx";
    const RESPONDER: &str = "460200.credx";
    const DEPARTMENT: &str = "11460200PDY0004130";

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
    }

    fn at(origin: &str, index: u64, authority: &str, event: Event) -> CaseEntry {
        CaseEntry {
            location: EntryLocation {
                origin: origin.to_owned(),
                index,
            },
            entry: Entry {
                version: ENVELOPE_VERSION,
                origin: origin.to_owned(),
                authority: Some(authority.to_owned()),
                submitted_by: "test".to_owned(),
                subject: None,
                business_key: None,
                // 2026-11-30 12:00 in Beijing, one second per index.
                accepted_at_ms: 1_796_011_200_000 + index * 1_000,
                event,
            },
        }
    }

    fn unit() -> TargetUnit {
        TargetUnit {
            node: RESPONDER.to_owned(),
            department: Some(DEPARTMENT.to_owned()),
        }
    }

    fn step(kind: CaseStepKind) -> Event {
        Event::CaseStep(CaseStep {
            case: CaseKey {
                case_id: "C1".to_owned(),
                version: 1,
            },
            responder: unit(),
            step: kind,
        })
    }

    fn listing() -> EntryRef {
        EntryRef {
            origin: INITIATOR.to_owned(),
            index: 0,
            leaf_hash: Hash([7; 32]),
        }
    }

    fn entries() -> Vec<CaseEntry> {
        let initiator = "11420281PDY0005270";
        let init = Event::CaseInitiated(CaseInitiation {
            case: CaseKey {
                case_id: "C1".to_owned(),
                version: 1,
            },
            kind: CaseKind::Punishment,
            listing: listing(),
            catalogue_edition: "2024".to_owned(),
            measures: vec![MeasureRef {
                code: "CJ01".to_owned(),
                text: "限制".to_owned(),
                legal_basis: "法".to_owned(),
            }],
            targets: vec![unit()],
            respond_by: day(7),
        });
        vec![
            at(INITIATOR, 1, initiator, init),
            at(INITIATOR, 2, initiator, step(CaseStepKind::Pushed)),
            // A repeated push of the same version.
            at(INITIATOR, 3, initiator, step(CaseStepKind::Pushed)),
            at(
                RESPONDER,
                0,
                DEPARTMENT,
                step(CaseStepKind::Acknowledged {
                    accepted: true,
                    reason: String::new(),
                }),
            ),
            at(
                RESPONDER,
                1,
                DEPARTMENT,
                step(CaseStepKind::Executed {
                    measure_code: "CJ01".to_owned(),
                    result: ExecutionResult::Punished,
                    detail: String::new(),
                    business_item: String::new(),
                    executed_on: day(1),
                }),
            ),
            // Forged: a third node writing the responder's refusal.
            at(
                "430100.credx",
                0,
                "11430100PDY0000110",
                step(CaseStepKind::Acknowledged {
                    accepted: false,
                    reason: "x".to_owned(),
                }),
            ),
            // The responder cannot push to itself.
            at(RESPONDER, 2, DEPARTMENT, step(CaseStepKind::Pushed)),
        ]
    }

    #[test]
    fn the_fold_ignores_arrival_order_duplicates_and_foreign_steps() {
        let forward = CaseInputs {
            entries: entries(),
            ..CaseInputs::default()
        };
        let mut reversed = forward.clone();
        reversed.entries.reverse();
        let state = fold(&forward, day(1)).unwrap();
        assert_eq!(fold(&reversed, day(1)).unwrap(), state);
        assert_eq!(state.duplicates, 1);
        assert_eq!(state.ignored.len(), 2, "{:?}", state.ignored);
        let target = &state.targets[0];
        assert_eq!(target.phase, TargetPhase::Feedback);
        assert_eq!(target.pushed_versions, vec![1]);
        assert_eq!(state.status, CaseStatus::Open);
    }

    #[test]
    fn a_suspending_objection_pauses_and_a_repair_lifts_every_target() {
        let objection = |index, event| at(INITIATOR, index, "11420281PDY0005270", event);
        let opened = objection(
            10,
            Event::ObjectionOpened {
                objection_id: "YY".to_owned(),
                target: listing(),
                grounds: "g".to_owned(),
                suspends_measures: true,
            },
        );
        let mut inputs = CaseInputs {
            entries: entries(),
            listing: None,
            listing_events: vec![opened],
        };
        let state = fold(&inputs, day(1)).unwrap();
        assert_eq!(state.status, CaseStatus::Suspended);
        assert!(state.measures_paused);
        inputs.listing_events.push(objection(
            11,
            Event::RepairApproved {
                repair_id: "XF".to_owned(),
                target: listing(),
                approved_on: day(1),
                basis: "b".to_owned(),
            },
        ));
        let state = fold(&inputs, day(1)).unwrap();
        assert_eq!(state.status, CaseStatus::Lifted);
        assert!(!state.measures_paused);
        assert_eq!(state.targets[0].phase, TargetPhase::Lifted);
        assert_eq!(
            state.lift.as_ref().map(|l| l.reason),
            Some(LiftReasonName::Repaired)
        );
    }
}
