//! Request-level errors of the department API: a stable `error` code for programs and a
//! message that tells the department what to do next.
//!
//! Per-record problems in a batch are not errors: they are findings in the batch report,
//! so that one bad record never costs the rest of the batch.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// Why a request was refused as a whole.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("no Authorization header; send `Authorization: Bearer <token>` with the department token the node operator issued")]
    MissingToken,
    #[error("the bearer token is not known to this node (mistyped, revoked, or issued by another node); ask the node operator for a valid token")]
    InvalidToken,
    #[error("the token of department {department:?} may not read the {view} view; ask the node operator to add the view to the token, or request the public view")]
    ViewNotPermitted {
        department: String,
        view: &'static str,
    },
    #[error("the token of department {department:?} may not submit for authority {authority}; use that authority's token or ask the node operator to extend the scope")]
    AuthorityOutOfScope {
        department: String,
        authority: String,
    },
    #[error("the request body could not be read: {0}; send at most {max_bytes} bytes of UTF-8 JSON", max_bytes = super::MAX_BODY_BYTES)]
    Body(String),
    #[error("the request body is not valid JSON ({0}); send one record object or an array of record objects keyed by the standard XK_*/CF_* field codes")]
    InvalidJson(String),
    #[error(
        "the batch holds {count} records, more than {max}; split it into batches of at most {max}"
    )]
    BatchTooLarge { count: usize, max: usize },
    #[error("the batch holds no records; send one record object or a non-empty array")]
    EmptyBatch,
    #[error("invalid field {field:?}: {reason}")]
    InvalidField { field: &'static str, reason: String },
    #[error("{what} is not known to this node; check the authority code and document number (and licence number for licences)")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    #[error("subject code {code:?} is neither a USCC nor a resident ID number; give a USCC, an 18-digit resident ID, or add ?id_type=02..05 for other identity documents")]
    InvalidSubject { code: String },
    #[error("the node's log is not accepting entries right now ({0}); nothing of this request was stored beyond what the response says, retry later or tell the node operator")]
    SequencerUnavailable(String),
    #[error("the node's storage failed ({0}); retry later or tell the node operator")]
    Storage(String),
    #[error("internal error: {0}; tell the node operator")]
    Internal(String),
}

impl ApiError {
    /// The stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::MissingToken => "missing_token",
            ApiError::InvalidToken => "invalid_token",
            ApiError::ViewNotPermitted { .. } => "view_not_permitted",
            ApiError::AuthorityOutOfScope { .. } => "authority_out_of_scope",
            ApiError::Body(_) => "unreadable_body",
            ApiError::InvalidJson(_) => "invalid_json",
            ApiError::BatchTooLarge { .. } => "batch_too_large",
            ApiError::EmptyBatch => "empty_batch",
            ApiError::InvalidField { .. } => "invalid_field",
            ApiError::NotFound { .. } => "not_found",
            ApiError::Conflict(_) => "conflict",
            ApiError::InvalidSubject { .. } => "invalid_subject_code",
            ApiError::SequencerUnavailable(_) => "log_unavailable",
            ApiError::Storage(_) => "storage_error",
            ApiError::Internal(_) => "internal_error",
        }
    }

    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::MissingToken | ApiError::InvalidToken => StatusCode::UNAUTHORIZED,
            ApiError::ViewNotPermitted { .. } | ApiError::AuthorityOutOfScope { .. } => {
                StatusCode::FORBIDDEN
            }
            ApiError::Body(_) | ApiError::BatchTooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::InvalidJson(_)
            | ApiError::EmptyBatch
            | ApiError::InvalidField { .. }
            | ApiError::InvalidSubject { .. } => StatusCode::BAD_REQUEST,
            ApiError::NotFound { .. } => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::SequencerUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Storage(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

impl From<credx_storage::StorageError> for ApiError {
    fn from(e: credx_storage::StorageError) -> Self {
        ApiError::Storage(e.to_string())
    }
}

/// The JSON body of every refused request.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable code: `missing_token`, `invalid_token`, `view_not_permitted`,
    /// `authority_out_of_scope`, `unreadable_body`, `invalid_json`, `batch_too_large`,
    /// `empty_batch`, `invalid_field`, `not_found`, `conflict`, `invalid_subject_code`,
    /// `log_unavailable`, `storage_error`, `internal_error`.
    pub error: String,
    /// What went wrong and what to do next.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        if status.is_server_error() {
            tracing::warn!(code = self.code(), error = %self, "department API request failed");
        }
        let body = ErrorBody {
            error: self.code().to_owned(),
            message: self.to_string(),
        };
        (status, Json(body)).into_response()
    }
}
