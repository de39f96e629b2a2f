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
