//! The OpenAPI document, generated from the handlers' annotations and the response types,
//! so it cannot drift from what the code serves.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::cases::{
    self, CaseWriteResponse, InitiateRequest, OverdueRequest, StepAction, StepRequest,
    TargetUnitDto,
};
use super::error::ErrorBody;
use super::handlers;
use super::report::{CreditReport, ReportCheckpoint, ReportSummary};
use super::submit::{BatchReport, FindingReport, Outcome, RecordResult};
use super::tokens::View;
use super::views::{
    EntryPosition, ListingView, RecordState, RecordView, StatusView, SubjectInfo, SubjectView,
};
use super::withdraw::{WithdrawRequest, WithdrawResponse, WithdrawalKindDto};
use super::workflows::{
    ListEntryResponse, ObjectionOutcomeDto, ObjectionRequest, RemoveRequest, RepairRefusalBody,
    RepairRequest, ResolveRequest, TargetRef, WorkflowResponse,
};
use crate::cases::{CaseState, CaseStatistics};

#[derive(Debug, OpenApi)]
#[openapi(
    info(
        title = "credx department API",
        description = "Submit 双公示 licence and penalty records, withdraw decisions (行政处罚法 Art. 48), and read subject views and credit reports. Department requests carry `Authorization: Bearer <token>`; a token is scoped to the authority codes it may submit for and to the views it may read. Errors are JSON `{error, message}` with a stable `error` code."
    ),
    paths(
        handlers::post_records,
        handlers::post_withdraw,
        handlers::get_subject,
        handlers::get_report,
        handlers::get_report_html,
        handlers::post_list_entry,
        handlers::post_objection,
        handlers::post_resolve_objection,
        handlers::post_repair,
        handlers::post_remove_listing,
        cases::post_case,
        cases::post_step,
        cases::post_overdue_check,
        cases::get_case,
        cases::get_statistics,
        super::bundle::route::get_bundle,
        openapi_json
    ),
    components(schemas(
        ErrorBody, BatchReport, RecordResult, FindingReport, Outcome, WithdrawRequest,
        WithdrawResponse, WithdrawalKindDto, SubjectView, SubjectInfo, StatusView, ListingView,
        RecordView, RecordState, EntryPosition, View, CreditReport, ReportSummary,
        ReportCheckpoint,
        TargetRef, ObjectionRequest, ObjectionOutcomeDto, ResolveRequest, RepairRequest,
        RemoveRequest, WorkflowResponse, ListEntryResponse, RepairRefusalBody,
        InitiateRequest, StepRequest, StepAction, OverdueRequest, CaseWriteResponse,
        TargetUnitDto, CaseState, CaseStatistics
    )),
    modifiers(&DepartmentToken),
    tags(
        (name = "records", description = "Submission and withdrawal by departments"),
        (name = "subjects", description = "Subject views and credit reports"),
        (name = "workflows", description = "List entries, objections, credit repair and listing removal, each a log entry"),
        (name = "cases", description = "Joint reward/punishment cases (联合奖惩): initiation with catalogue measures, responders' steps, overdue and re-push, folded state and statistics"),
        (name = "meta", description = "This document")
    )
)]
pub struct ApiDoc;

struct DepartmentToken;

impl Modify for DepartmentToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "department_token",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

/// The OpenAPI 3.1 document of this API.
#[utoipa::path(
    get,
    path = "/openapi.json",
    tag = "meta",
    responses((status = 200, description = "OpenAPI document", content_type = "application/json", body = Object))
)]
pub(crate) async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
