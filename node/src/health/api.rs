//! `GET /v1/health` (this node's entry) and `GET /v1/health/tree` (this node and every
//! roster node of its subtree, worst first, with integrity facts). No authentication and
//! no personal data: operators' dashboards and `credx status --tree` read them.

use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};

use super::book::HealthBook;
use crate::sync::context::now_ms;

/// The health routes, on their own state; the daemon merges them into its router.
pub fn router(book: Arc<HealthBook>) -> Router {
    Router::new()
        .route("/v1/health", get(own))
        .route("/v1/health/tree", get(tree))
        .with_state(book)
}

async fn own(State(book): State<Arc<HealthBook>>) -> Response {
    // Store reads: off the async workers.
    match tokio::task::spawn_blocking(move || book.own_view(now_ms())).await {
        Ok(view) => Json(view).into_response(),
        Err(e) => failed(e),
    }
}

async fn tree(State(book): State<Arc<HealthBook>>) -> Response {
    match tokio::task::spawn_blocking(move || book.tree(now_ms())).await {
        Ok(tree) => Json(tree).into_response(),
        Err(e) => failed(e),
    }
}

fn failed(error: tokio::task::JoinError) -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!("building the health view failed: {error}"),
    )
        .into_response()
}
