//! `GET /v1/subjects/{code}/bundle`: the verification bundle of a subject, as JSON that
//! `credx verify BUNDLE --root-vkey F` checks offline.
//!
//! Public for organisations: a bundle holds the USCC (public), the status (list kinds,
//! periods, measure codes, entry references), hashes, signatures and the roster — no record
//! columns. A natural person's bundle cannot be masked: the subject and its status carry the
//! identity number, from which the map key is derived, so a verifier needs it whole. It is
//! therefore served only to a department token that may read the shared view.

use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::header::CONTENT_TYPE;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use credx_protocol::entry::SubjectId;

use super::{add_entries, bundle_for, BundleBuildError};
use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::state::ApiState;
use crate::api::tokens::View;
use crate::api::views::{parse_subject, SubjectQuery};

/// Why a bundle request was refused.
#[derive(Debug, thiserror::Error)]
pub enum BundleRefusal {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error(transparent)]
    Build(#[from] BundleBuildError),
    #[error("the bundle of a natural person carries the full identity number (the status map key is derived from it and a verifier needs it whole), which the public view masks; request it with a department token that may read the shared view")]
    PersonNeedsSharedView,
}

impl BundleRefusal {
    /// Stable code and HTTP status.
    pub fn code_and_status(&self) -> (&'static str, StatusCode) {
        use BundleBuildError as B;
        let unavailable = StatusCode::SERVICE_UNAVAILABLE;
        match self {
            BundleRefusal::Api(e) => (e.code(), e.status()),
            BundleRefusal::PersonNeedsSharedView => {
                ("person_needs_shared_view", StatusCode::FORBIDDEN)
            }
            BundleRefusal::Build(e) => match e {
                B::AwaitingCosignature { .. } => ("awaiting_cosignature", unavailable),
                B::QuorumOutOfReach { .. } => ("quorum_out_of_reach", unavailable),
                B::RootKeptMoving { .. } => ("log_busy", unavailable),
                B::NoCheckpoint { .. } => ("no_checkpoint_yet", unavailable),
                B::Sequencer(_) => ("log_unavailable", unavailable),
                B::NoRoster => ("no_roster", unavailable),
                B::RosterExpired { .. } => ("roster_expired", unavailable),
                B::NotInRoster { .. } => ("not_in_roster", unavailable),
                B::Storage(_) | B::Cosignatures(_) | B::EntryMissing { .. } => {
                    ("storage_error", StatusCode::INTERNAL_SERVER_ERROR)
                }
                B::Encode { .. } => ("internal_error", StatusCode::INTERNAL_SERVER_ERROR),
            },
        }
    }
}

impl IntoResponse for BundleRefusal {
    fn into_response(self) -> Response {
        if let BundleRefusal::Api(e) = self {
            return e.into_response();
        }
        let (code, status) = self.code_and_status();
        if status.is_server_error() {
            tracing::info!(code, error = %self, "bundle request not answered");
        }
        let body = ErrorBody {
            error: code.to_owned(),
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}

/// The verification bundle of a subject (decision 0014): its status (or absence) proven
/// under a status root anchored in this node's log, the anchor's tlog-proof against a
/// checkpoint cosigned by every ancestor up to the national node, and the signed roster.
/// Check it offline with `credx verify BUNDLE --root-vkey national.vkey`; it trusts
/// nothing from this node. An unknown subject gets an absence proof. In the shared view
/// (a department token) the bundle also carries the entries behind the status, each with a
/// tlog-proof against a checkpoint of its own log meeting the same quorum; the public bundle
/// does not (record bytes hold personal ID numbers that cannot be masked).
#[utoipa::path(
    get,
    path = "/v1/subjects/{code}/bundle",
    tag = "subjects",
    params(("code" = String, Path, description = "USCC, or a natural person's identity number (shared view only)"), SubjectQuery),
    responses(
        (status = 200, description = "The bundle (JSON document, protocol bundle version 1)", content_type = "application/json", body = Object),
        (status = 400, description = "Not a USCC or identity number", body = ErrorBody),
        (status = 401, description = "Unknown token", body = ErrorBody),
        (status = 403, description = "A natural person's bundle without a token that may read the shared view (`person_needs_shared_view`)", body = ErrorBody),
        (status = 503, description = "Not answerable yet: `awaiting_cosignature` (retry after this node's next upload to its parent), `quorum_out_of_reach` (ask the ancestor named), `log_busy`, `log_unavailable`, `no_checkpoint_yet`, `roster_expired`, `no_roster`", body = ErrorBody),
    ),
    security((), ("department_token" = []))
)]
pub(crate) async fn get_bundle(
    State(state): State<ApiState>,
    caller: Caller,
    code: Result<Path<String>, PathRejection>,
    query: Result<Query<SubjectQuery>, QueryRejection>,
) -> Result<Response, BundleRefusal> {
    let Path(code) = code.map_err(|e| ApiError::InvalidSubject {
        code: e.body_text(),
    })?;
    let Query(query) = query.map_err(|e| ApiError::InvalidField {
        field: "query",
        reason: format!(
            "{}; use ?id_type=01..05 for a person's document, ?view=shared with a department token",
            e.body_text()
        ),
    })?;
    let view = caller.view(query.view)?;
    let subject = parse_subject(&code, query.id_type.as_deref())?;
    if matches!(subject, SubjectId::Person { .. }) && view != View::Shared {
        return Err(BundleRefusal::PersonNeedsSharedView);
    }
    let json = tokio::task::spawn_blocking(move || {
        let mut bundle = bundle_for(&state, &subject)?;
        if view == View::Shared {
            add_entries(&state, &mut bundle)?;
        }
        bundle
            .to_json()
            .map_err(|e| BundleBuildError::encode("bundle", e).into())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("request task failed: {e}")))?
    .map_err(|e: BundleRefusal| e)?;
    Ok(([(CONTENT_TYPE, "application/json")], json).into_response())
}
