//! The HTTP handlers: extract, hand the blocking work (validation, RocksDB, waiting for the
//! sequencer) to the blocking pool, answer JSON.

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::response::Html;
use axum::Json;
use credx_protocol::entry::SubjectId;

use super::auth::Caller;
use super::error::{ApiError, ErrorBody};
use super::report::{credit_report, render_html, CreditReport};
use super::state::ApiState;
use super::submit::{submit_batch, BatchReport};
use super::tokens::View;
use super::views::{parse_subject, subject_view, SubjectQuery, SubjectView};
use super::withdraw::{withdraw, WithdrawRequest, WithdrawResponse};
use super::workflows::{
    approve_repair, open_objection, remove_listing, resolve_objection, submit_list_entry,
    ListEntryResponse, ObjectionRequest, RemoveRequest, RepairRefusalBody, RepairRequest,
    ResolveRequest, WorkflowError, WorkflowResponse,
};
use axum::extract::rejection::PathRejection;
use credx_protocol::record::ListEntry;

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ApiError::Internal(format!("request task failed: {e}")))?
}

/// Submit licence (XK_*) and penalty (CF_*) records: one object, or an array of up to
/// 10,000. Every record is judged on its own; the answer lists every finding of every
/// record, and the log index of each accepted one.
#[utoipa::path(
    post,
    path = "/v1/records",
    tag = "records",
    request_body(
        content = Object,
        description = "One record object, or an array of record objects, keyed by the standard 双公示 field codes (XK_* licence, CF_* penalty).",
        content_type = "application/json"
    ),
    responses(
        (status = 200, description = "The batch was judged; accepted records are durable and checkpointed", body = BatchReport),
        (status = 400, description = "Not JSON, or no records", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 413, description = "More than 10,000 records, or body too large", body = ErrorBody),
        (status = 503, description = "The log does not accept entries now", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_records(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Bytes, BytesRejection>,
) -> Result<Json<BatchReport>, ApiError> {
    let department = caller.department()?.clone();
    let body = body.map_err(|e| ApiError::Body(e.body_text()))?;
    blocking(move || submit_batch(&state, &department, &body))
        .await
        .map(Json)
}

/// Withdraw a published decision (行政处罚法 Art. 48: changed, revoked, confirmed illegal
/// or void), with the reason, by a withdrawal entry targeting the latest entry under its
/// business key.
#[utoipa::path(
    post,
    path = "/v1/records/withdraw",
    tag = "records",
    request_body = WithdrawRequest,
    responses(
        (status = 200, description = "The withdrawal is durable and checkpointed", body = WithdrawResponse),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token may not act for this authority", body = ErrorBody),
        (status = 404, description = "No record under this business key", body = ErrorBody),
        (status = 409, description = "Already withdrawn", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_withdraw(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Json<WithdrawRequest>, JsonRejection>,
) -> Result<Json<WithdrawResponse>, ApiError> {
    let department = caller.department()?.clone();
    let Json(request) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || withdraw(&state, &department, request))
        .await
        .map(Json)
}

/// The subject and view a subject request asks for, checked against the caller's token.
pub(crate) struct SubjectRequest {
    subject: SubjectId,
    view: View,
}

impl FromRequestParts<ApiState> for SubjectRequest {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &ApiState) -> Result<Self, ApiError> {
        let caller = Caller::from_request_parts(parts, state).await?;
        let Path(code) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidSubject {
                code: e.body_text(),
            })?;
        let Query(query) = Query::<SubjectQuery>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::InvalidField {
                field: "query",
                reason: format!(
                    "{}; use ?view=public|shared and optionally &id_type=01..05",
                    e.body_text()
                ),
            })?;
        let view = caller.view(query.view)?;
        let subject = parse_subject(&code, query.id_type.as_deref())?;
        Ok(SubjectRequest { subject, view })
    }
}

/// What the node holds about a subject (USCC or personal identity number): its records
/// and its status (listings, open objections). The public view (default without a token)
/// masks personal ID numbers and hides records that are withdrawn, repaired or past their
/// publication period; the shared view (tokens with `shared`) shows everything.
#[utoipa::path(
    get,
    path = "/v1/subjects/{code}",
    tag = "subjects",
    params(("code" = String, Path, description = "USCC, or a natural person's identity number"), SubjectQuery),
    responses(
        (status = 200, description = "The subject view", body = SubjectView),
        (status = 400, description = "Not a USCC or identity number", body = ErrorBody),
        (status = 401, description = "Unknown token", body = ErrorBody),
        (status = 403, description = "The token may not read the shared view", body = ErrorBody),
    ),
    security((), ("department_token" = []))
)]
pub(crate) async fn get_subject(
    State(state): State<ApiState>,
    SubjectRequest { subject, view }: SubjectRequest,
) -> Result<Json<SubjectView>, ApiError> {
    blocking(move || subject_view(&state, &subject, view))
        .await
        .map(Json)
}

/// The credit report of a subject (JSON): the subject view with a summary and the node's
/// latest signed checkpoint.
#[utoipa::path(
    get,
    path = "/v1/subjects/{code}/report",
    tag = "subjects",
    params(("code" = String, Path, description = "USCC, or a natural person's identity number"), SubjectQuery),
    responses(
        (status = 200, description = "The report", body = CreditReport),
        (status = 400, description = "Not a USCC or identity number", body = ErrorBody),
        (status = 403, description = "The token may not read the shared view", body = ErrorBody),
    ),
    security((), ("department_token" = []))
)]
pub(crate) async fn get_report(
    State(state): State<ApiState>,
    SubjectRequest { subject, view }: SubjectRequest,
) -> Result<Json<CreditReport>, ApiError> {
    blocking(move || credit_report(&state, subject_view(&state, &subject, view)?))
        .await
        .map(Json)
}

/// The credit report as a printable HTML page (no external assets).
#[utoipa::path(
    get,
    path = "/v1/subjects/{code}/report.html",
    tag = "subjects",
    params(("code" = String, Path, description = "USCC, or a natural person's identity number"), SubjectQuery),
    responses(
        (status = 200, description = "The printable report", content_type = "text/html", body = String),
        (status = 400, description = "Not a USCC or identity number", body = ErrorBody),
        (status = 403, description = "The token may not read the shared view", body = ErrorBody),
    ),
    security((), ("department_token" = []))
)]
pub(crate) async fn get_report_html(
    State(state): State<ApiState>,
    SubjectRequest { subject, view }: SubjectRequest,
) -> Result<Html<String>, ApiError> {
    blocking(move || {
        let report = credit_report(&state, subject_view(&state, &subject, view)?)?;
        Ok(Html(render_html(&report)))
    })
    .await
}

/// Put a subject on a credit list (严重失信主体名单, 守信红名单, 重点关注名单, 失信被执行人):
/// a list entry with its measures and period, checked by the protocol's list rules. A
/// known determining unit + document number makes an amendment.
#[utoipa::path(
    post,
    path = "/v1/lists",
    tag = "workflows",
    request_body(content = Object, description = "A list entry (credit-data.md §4.7): kind, subject, determining_unit, basis, document_no, reason, listed_on, valid_until, severity, status (Active), measures, remedy, source_unit.", content_type = "application/json"),
    responses(
        (status = 200, description = "The list entry is durable and checkpointed", body = ListEntryResponse),
        (status = 400, description = "The entry breaks a list rule (every finding is named)", body = ErrorBody),
        (status = 401, description = "No or unknown token", body = ErrorBody),
        (status = 403, description = "The token may not act for the determining unit", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_list_entry(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Json<ListEntry>, JsonRejection>,
) -> Result<Json<ListEntryResponse>, ApiError> {
    let department = caller.department()?.clone();
    let Json(list) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || submit_list_entry(&state, &department, list))
        .await
        .map(Json)
}

/// Open an objection (异议) on a record: measures of the listing are suspended while
/// verifying when the list says so (every list but the courts' 失信被执行人), or as asked.
#[utoipa::path(
    post,
    path = "/v1/objections",
    tag = "workflows",
    request_body = ObjectionRequest,
    responses(
        (status = 200, description = "The objection entry is durable and checkpointed", body = WorkflowResponse),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the target's authority", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 409, description = "Objection id taken, an objection is open, or the target is superseded", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_objection(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Json<ObjectionRequest>, JsonRejection>,
) -> Result<Json<WorkflowResponse>, ApiError> {
    let department = caller.department()?.clone();
    let Json(request) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || open_objection(&state, &department, request))
        .await
        .map(Json)
}

/// Decide an open objection: upheld lifts the listing and its measures; dismissed or
/// rejected resumes suspended measures.
#[utoipa::path(
    post,
    path = "/v1/objections/{id}/resolve",
    tag = "workflows",
    params(("id" = String, Path, description = "The objection_id given when it was opened")),
    request_body = ResolveRequest,
    responses(
        (status = 200, description = "The resolution entry is durable and checkpointed", body = WorkflowResponse),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the target's authority", body = ErrorBody),
        (status = 404, description = "No open objection with this id on the target", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_resolve_objection(
    State(state): State<ApiState>,
    caller: Caller,
    id: Result<Path<String>, PathRejection>,
    body: Result<Json<ResolveRequest>, JsonRejection>,
) -> Result<Json<WorkflowResponse>, ApiError> {
    let department = caller.department()?.clone();
    let Path(id) = id.map_err(|e| ApiError::InvalidField {
        field: "id",
        reason: e.body_text(),
    })?;
    let Json(request) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || resolve_objection(&state, &department, &id, request))
        .await
        .map(Json)
}

/// Approve a credit repair (信用修复): checked against the period rules (NDRC order No. 36
/// conditions (1)–(4)); publication ends, sharing stops and the listing's measures are
/// lifted.
#[utoipa::path(
    post,
    path = "/v1/repairs",
    tag = "workflows",
    request_body = RepairRequest,
    responses(
        (status = 200, description = "The repair entry is durable and checkpointed", body = WorkflowResponse),
        (status = 400, description = "A field is invalid, or the record has nothing to repair", body = ErrorBody),
        (status = 403, description = "The token may not act for the target's authority", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 409, description = "Already repaired, or the target is superseded", body = ErrorBody),
        (status = 422, description = "Not eligible yet: every unmet rule and the earliest date", body = RepairRefusalBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_repair(
    State(state): State<ApiState>,
    caller: Caller,
    body: Result<Json<RepairRequest>, JsonRejection>,
) -> Result<Json<WorkflowResponse>, WorkflowError> {
    let department = caller.department()?.clone();
    let Json(request) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || Ok(approve_repair(&state, &department, request)))
        .await?
        .map(Json)
}

/// Remove a listing before its period ends (移出), e.g. on performance.
#[utoipa::path(
    post,
    path = "/v1/lists/{target}/remove",
    tag = "workflows",
    params(("target" = String, Path, description = "The list entry as `<origin>:<index>`")),
    request_body = RemoveRequest,
    responses(
        (status = 200, description = "The removal entry is durable and checkpointed", body = WorkflowResponse),
        (status = 400, description = "A field is missing or invalid", body = ErrorBody),
        (status = 403, description = "The token may not act for the target's authority", body = ErrorBody),
        (status = 404, description = "No such entry", body = ErrorBody),
        (status = 409, description = "Not a current listing", body = ErrorBody),
    ),
    security(("department_token" = []))
)]
pub(crate) async fn post_remove_listing(
    State(state): State<ApiState>,
    caller: Caller,
    target: Result<Path<String>, PathRejection>,
    body: Result<Json<RemoveRequest>, JsonRejection>,
) -> Result<Json<WorkflowResponse>, ApiError> {
    let department = caller.department()?.clone();
    let Path(target) = target.map_err(|e| ApiError::InvalidField {
        field: "target",
        reason: e.body_text(),
    })?;
    let Json(request) = body.map_err(|e| ApiError::InvalidJson(e.body_text()))?;
    blocking(move || remove_listing(&state, &department, &target, request))
        .await
        .map(Json)
}
