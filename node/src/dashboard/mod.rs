//! The operator dashboard (issue 6 item 5): one page served by every node that polls
//! `GET /v1/health/tree` on the same node every 2 s and renders the subtree's health —
//! topology coloured by status with lag on each edge, the fleet worst first, integrity,
//! certificate and roster expiry. See docs/dashboard.md.
//!
//! The HTML, JavaScript and CSS are plain files embedded in the binary: no CDN, no build
//! step, nothing fetched from anywhere but the node (docs/decisions/0016-dashboard.md).
//! [`headless`] drives Debian's Chromium for the tests that check the page in a real
//! browser.

pub mod headless;

use axum::{
    http::{header, HeaderValue},
    response::{IntoResponse, Response},
    routing::get,
    Router,
};

/// Where the page lives; its assets are under it.
pub const PAGE_PATH: &str = "/dashboard";
/// The JSON the page polls (served by the health module, not here).
pub const HEALTH_TREE_PATH: &str = "/v1/health/tree";

const PAGE: &str = include_str!("page.html");
const SCRIPT: &str = include_str!("app.js");
const STYLE: &str = include_str!("style.css");

/// The page may load only its own assets and talk only to its own node: even an injected
/// string could not pull anything from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
    style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// Routes of the dashboard: `GET /dashboard` (and `/dashboard/`), `/dashboard/app.js`,
/// `/dashboard/style.css`. Stateless, so the daemon merges it into its HTTP router
/// (`.merge(crate::dashboard::router())`).
pub fn router() -> Router {
    Router::new()
        .route(PAGE_PATH, get(page))
        .route("/dashboard/", get(page))
        .route("/dashboard/app.js", get(script))
        .route("/dashboard/style.css", get(style))
}

async fn page() -> Response {
    asset("text/html; charset=utf-8", PAGE)
}

async fn script() -> Response {
    asset("text/javascript; charset=utf-8", SCRIPT)
}

async fn style() -> Response {
    asset("text/css; charset=utf-8", STYLE)
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            // Revalidated on every load, so an upgraded node serves its own page at once.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            (
                header::X_CONTENT_TYPE_OPTIONS,
                HeaderValue::from_static("nosniff"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(CONTENT_SECURITY_POLICY),
            ),
            (
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            ),
        ],
        body,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Nothing in the page names another host: no CDN, no font or script from elsewhere.
    #[test]
    fn assets_reference_only_the_node_itself() {
        for (name, text) in [
            ("page.html", PAGE),
            ("app.js", SCRIPT),
            ("style.css", STYLE),
        ] {
            for needle in ["http://", "https://", "//cdn", "@import", "url("] {
                assert!(!text.contains(needle), "{name} contains {needle:?}");
            }
        }
        assert!(PAGE.contains("src=\"/dashboard/app.js\""));
        assert!(PAGE.contains("href=\"/dashboard/style.css\""));
        assert!(SCRIPT.contains(&format!("'{HEALTH_TREE_PATH}'")));
    }

    /// The script writes data from the network as text only.
    #[test]
    fn script_never_writes_html() {
        for needle in [
            "innerHTML",
            "outerHTML",
            "insertAdjacentHTML",
            "document.write",
            "eval(",
        ] {
            assert!(!SCRIPT.contains(needle), "app.js uses {needle}");
        }
    }
}
