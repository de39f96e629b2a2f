//! The department HTTP API (issue 5, items 2–3): an axum router the daemon mounts.
//!
//! * `POST /v1/records` — submit licence/penalty records, one or up to 10,000 per request
//!   ([`submit`]); every rejected record gets every finding, the rest are stored; a known
//!   business key makes an amendment.
//! * `POST /v1/records/withdraw` — 行政处罚法 Art. 48 withdrawals ([`withdraw`]).
//! * `GET /v1/subjects/{code}` — public or shared view of a subject ([`views`]), with
//!   [`mask`] and [`publication`] deciding what the public sees.
//! * `GET /v1/subjects/{code}/report` and `/report.html` — the credit report ([`report`]).
//! * `POST /v1/lists`, `/v1/lists/{target}/remove`, `/v1/objections`,
//!   `/v1/objections/{id}/resolve`, `/v1/repairs` — credit workflows as log entries
//!   ([`workflows`]).
//! * `POST /v1/cases`, `/v1/cases/{id}/steps`, `/v1/cases/{id}/overdue-check`,
//!   `GET /v1/cases/{id}`, `/v1/cases/statistics` — joint reward/punishment cases
//!   ([`cases`], state folded by [`crate::cases`]).
//! * `GET /openapi.json` — the OpenAPI document ([`openapi`]).
//!
//! Departments authenticate with bearer tokens ([`tokens`], [`auth`]); every entry they
//! write names them in `submitted_by`. Writes go through the node's [`credx_storage::Sequencer`]:
//! an answer is sent only once the entries are durable and covered by a signed checkpoint.

pub mod auth;
mod batch_input;
pub mod bundle;
pub mod cases;
pub mod error;
mod handlers;
pub mod mask;
pub mod openapi;
pub mod publication;
pub mod report;
pub mod state;
pub mod submit;
pub mod tokens;
pub mod views;
pub mod withdraw;
pub mod workflows;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::Router;

pub use error::{ApiError, ErrorBody};
pub use openapi::ApiDoc;
pub use state::{ApiState, Clock};
pub use tokens::{TokenEntry, TokenError, TokenStore, View};

/// Most records one `POST /v1/records` may carry.
pub const MAX_BATCH_RECORDS: usize = 10_000;
/// Largest request body accepted (10,000 records of up to ~6 KiB of JSON each).
pub const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The department API's routes, ready to be served or nested by the daemon.
pub fn router(state: ApiState) -> Router {
    Router::new()
        .route("/v1/records", post(handlers::post_records))
        .route("/v1/records/withdraw", post(handlers::post_withdraw))
        .route("/v1/subjects/{code}", get(handlers::get_subject))
        .route("/v1/subjects/{code}/report", get(handlers::get_report))
        .route(
            "/v1/subjects/{code}/report.html",
            get(handlers::get_report_html),
        )
        .route("/v1/subjects/{code}/bundle", get(bundle::route::get_bundle))
        .route("/v1/lists", post(handlers::post_list_entry))
        .route(
            "/v1/lists/{target}/remove",
            post(handlers::post_remove_listing),
        )
        .route("/v1/objections", post(handlers::post_objection))
        .route(
            "/v1/objections/{id}/resolve",
            post(handlers::post_resolve_objection),
        )
        .route("/v1/repairs", post(handlers::post_repair))
        .route("/v1/cases", post(cases::post_case))
        .route("/v1/cases/statistics", get(cases::get_statistics))
        .route("/v1/cases/{id}", get(cases::get_case))
        .route("/v1/cases/{id}/steps", post(cases::post_step))
        .route(
            "/v1/cases/{id}/overdue-check",
            post(cases::post_overdue_check),
        )
        .route("/openapi.json", get(openapi::openapi_json))
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(state)
}
