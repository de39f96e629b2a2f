//! `POST /v1/records/withdraw`: 行政处罚法 Art. 48 — a changed, revoked, illegal or void
//! decision is withdrawn from publication, with its reason, by a `RecordWithdrawn` entry
//! that targets the latest entry under the record's business key.

use credx_protocol::entry::{Entry, Event, WithdrawalKind, ENVELOPE_VERSION};
use credx_protocol::ident::Uscc;
use credx_protocol::record::BusinessKey;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::ApiError;
use super::state::ApiState;
use super::submit::{append, latest_entry};
use super::tokens::TokenEntry;
use super::views::EntryPosition;

/// Longest withdrawal reason accepted (the entry's bound on reasons, in characters of
/// up to three UTF-8 bytes).
const MAX_REASON_CHARS: usize = 4000;

/// Why a decision is withdrawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WithdrawalKindDto {
    /// 变更
    Changed,
    /// 撤销
    Revoked,
    /// 确认违法
    ConfirmedIllegal,
    /// 确认无效
    ConfirmedVoid,
    /// Entered in error by the department.
    EnteredInError,
}

impl From<WithdrawalKindDto> for WithdrawalKind {
    fn from(k: WithdrawalKindDto) -> WithdrawalKind {
        match k {
            WithdrawalKindDto::Changed => WithdrawalKind::Changed,
            WithdrawalKindDto::Revoked => WithdrawalKind::Revoked,
            WithdrawalKindDto::ConfirmedIllegal => WithdrawalKind::ConfirmedIllegal,
            WithdrawalKindDto::ConfirmedVoid => WithdrawalKind::ConfirmedVoid,
            WithdrawalKindDto::EnteredInError => WithdrawalKind::EnteredInError,
        }
    }
}

impl From<WithdrawalKind> for WithdrawalKindDto {
    fn from(k: WithdrawalKind) -> WithdrawalKindDto {
        match k {
            WithdrawalKind::Changed => WithdrawalKindDto::Changed,
            WithdrawalKind::Revoked => WithdrawalKindDto::Revoked,
            WithdrawalKind::ConfirmedIllegal => WithdrawalKindDto::ConfirmedIllegal,
            WithdrawalKind::ConfirmedVoid => WithdrawalKindDto::ConfirmedVoid,
            WithdrawalKind::EnteredInError => WithdrawalKindDto::EnteredInError,
        }
    }
}

/// A withdrawal request.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WithdrawRequest {
    /// USCC of the deciding authority (CF_CFJGDM / XK_XKJGDM).
    pub authority: String,
    /// Decision document number (CF_WSH / XK_WSH).
    pub document_no: String,
    /// Licence number (XK_XKBH), for licences submitted with one: it is part of their key.
    #[serde(default)]
    pub licence_no: Option<String>,
    pub kind: WithdrawalKindDto,
    /// The reason, published with the withdrawal.
    pub reason: String,
}

/// The stored withdrawal.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct WithdrawResponse {
    pub origin: String,
    /// Index of the withdrawal entry in this node's log.
    pub log_index: u64,
    /// The entry withdrawn (the latest under the business key).
    pub target: EntryPosition,
    pub business_key: String,
    pub submitted_by: String,
    pub checkpoint_size: u64,
}

/// Stores a withdrawal (blocking: runs on the blocking pool).
pub(crate) fn withdraw(
    state: &ApiState,
    department: &TokenEntry,
    request: WithdrawRequest,
) -> Result<WithdrawResponse, ApiError> {
    let authority = request.authority.trim().to_ascii_uppercase();
    if let Err(e) = Uscc::parse(&authority) {
        return Err(ApiError::InvalidField {
            field: "authority",
            reason: format!("{authority:?} is not a valid USCC ({e}); give the deciding authority's code (CF_CFJGDM / XK_XKJGDM)"),
        });
    }
    if request.document_no.trim().is_empty() {
        return Err(ApiError::InvalidField {
            field: "document_no",
            reason: "is empty; give the decision document number (CF_WSH / XK_WSH)".into(),
        });
    }
    let reason = request.reason.trim();
    if reason.is_empty() || reason.chars().count() > MAX_REASON_CHARS {
        return Err(ApiError::InvalidField {
            field: "reason",
            reason: format!("must state why the decision is withdrawn, 1 to {MAX_REASON_CHARS} characters (it is published with the withdrawal)"),
        });
    }
    if !department.may_submit_for(&authority) {
        return Err(ApiError::AuthorityOutOfScope {
            department: department.department.clone(),
            authority,
        });
    }
    let key = BusinessKey::licence(
        &authority,
        &request.document_no,
        request.licence_no.as_deref(),
    );

    let _writes = state.lock_writes()?;
    let target = latest_entry(state, &key.to_string())?.ok_or_else(|| ApiError::NotFound {
        what: format!("a record with business key {key}"),
    })?;
    let target_bytes = state
        .store
        .read_entries(&target.origin, target.index, 1)?
        .into_iter()
        .next()
        .ok_or_else(|| {
            ApiError::Internal(format!(
                "entry {}#{} is indexed but missing",
                target.origin, target.index
            ))
        })?;
    let target_entry = Entry::decode(&target_bytes).map_err(|e| {
        ApiError::Internal(format!("entry {}#{}: {e}", target.origin, target.index))
    })?;
    if let Event::RecordWithdrawn { .. } = target_entry.event {
        return Err(ApiError::Conflict(format!(
            "the record with business key {key} is already withdrawn (entry {}#{}); resubmit the record first if it is published again",
            target.origin, target.index
        )));
    }
    let entry = Entry {
        version: ENVELOPE_VERSION,
        origin: state.origin.to_string(),
        authority: Some(key.authority.clone()),
        submitted_by: department.department.clone(),
        subject: target_entry.subject.clone(),
        business_key: Some(key.clone()),
        accepted_at_ms: state.now_ms(),
        event: Event::RecordWithdrawn {
            target: target.clone(),
            kind: request.kind.into(),
            reason: reason.to_owned(),
        },
    };
    let encoded = entry.encode().map_err(|e| ApiError::InvalidField {
        field: "reason",
        reason: e.to_string(),
    })?;
    let (log_index, checkpoint_size) = append(state, vec![encoded.into_bytes()])?
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::Internal("the sequencer acknowledged no entry".into()))?;
    Ok(WithdrawResponse {
        origin: state.origin.to_string(),
        log_index,
        target: EntryPosition::of(&target),
        business_key: key.to_string(),
        submitted_by: department.department.clone(),
        checkpoint_size,
    })
}
