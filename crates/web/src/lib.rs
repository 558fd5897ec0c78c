//! cht's browser view: pages for people, over the HTTP API of `cht_api`.
//!
//! | path | page |
//! |---|---|
//! | `/` | the sessions: date, length, pictures, chunks, size, recording now |
//! | `/view/{id}` | one session: its video (the segments in order), its pictures as a strip under it, its transcript beside it; the live view when it is the session `cht record` records |
//! | `/assets/cht.js`, `/assets/cht.css` | the script and style sheet |
//!
//! The pages are plain HTML, CSS and JavaScript compiled into the binary
//! (no build step). They read everything from the API (`/sessions`,
//! `/sessions/{id}/timeline`, the segment files with byte ranges, `/events`)
//! on the same origin, so they pass the same guard: a browser logs in once
//! with the URL holding the token and then carries an HttpOnly,
//! SameSite=Strict cookie (`cht_api::guard`).
//!
//! **Playing a session.** One `<video>` plays the segment files one after
//! the other, switching its `src` when a segment ends (each segment is a
//! whole fMP4 file with its own init segment, so no byte juggling is needed
//! and the browser's own demuxer seeks with ranged GETs). A session time
//! `T` in segment `s` is media time `s.media_start + T - s.start`.
//!
//! **The live view.** While `cht record` records the session, the page
//! feeds the segment being written to Media Source Extensions: it reads the
//! growing file with ranged GETs (`bytes=N-`, a 416 meaning nothing new
//! yet), appends every complete top-level box (init segment, then each
//! `moof`+`mdat` as the recorder flushes it) and plays near the end of what
//! is buffered. New pictures and transcripts arrive as Server-Sent Events;
//! a new segment (the sender reconnected) starts a new media source.
//!
//! [`export`] writes the same page into a folder that opens from `file://`.

mod export;

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

pub use export::{export, ExportError, ExportSummary};

/// The page shell (both pages; the script tells them apart by the path).
const PAGE: &str = include_str!("../assets/page.html");
/// The script.
pub const SCRIPT: &str = include_str!("../assets/cht.js");
/// The style sheet.
pub const STYLE: &str = include_str!("../assets/cht.css");

/// What the pages may load: their own origin only (the live view's media
/// source is a `blob:` URL); never framed by another page.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
                   media-src 'self' blob:; connect-src 'self'; base-uri 'none'; \
                   form-action 'none'; frame-ancestors 'none'";

/// The page as served (assets from `/assets/`, data from the API).
fn served_page() -> String {
    PAGE.replace("{{ASSETS}}", "/assets/")
        .replace("{{HOME}}", "/")
        .replace("{{DATA}}", "")
}

/// The page of an exported folder (assets beside it, data in `data.js`).
pub(crate) fn exported_page() -> String {
    PAGE.replace("{{ASSETS}}", "")
        .replace("{{HOME}}", "index.html")
        .replace("{{DATA}}", "<script src=\"data.js\"></script>\n")
}

/// The pages' routes, to merge with `cht_api::router` (whose guard layer
/// then covers them too).
pub fn router<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new()
        .route("/", get(|| async { page() }))
        .route("/view/{id}", get(|| async { page() }))
        .route(
            "/assets/cht.js",
            get(|| async { asset("text/javascript; charset=utf-8", SCRIPT) }),
        )
        .route(
            "/assets/cht.css",
            get(|| async { asset("text/css; charset=utf-8", STYLE) }),
        )
}

fn page() -> Response {
    let mut response = (StatusCode::OK, served_page()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    // The assets change with the binary: revalidate, never stale.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    async fn get_path(path: &str) -> Response {
        router::<()>()
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("answer")
    }

    #[tokio::test]
    async fn pages_and_assets_are_served_with_their_types_and_policy() {
        for (path, kind) in [
            ("/", "text/html"),
            ("/view/20261127_101500", "text/html"),
            ("/assets/cht.js", "text/javascript"),
            ("/assets/cht.css", "text/css"),
        ] {
            let response = get_path(path).await;
            assert_eq!(response.status(), StatusCode::OK, "{path}");
            let content_type = response.headers()[header::CONTENT_TYPE]
                .to_str()
                .expect("ascii");
            assert!(content_type.starts_with(kind), "{path}: {content_type}");
            if kind == "text/html" {
                assert!(response.headers()[header::CONTENT_SECURITY_POLICY]
                    .to_str()
                    .expect("ascii")
                    .contains("frame-ancestors 'none'"));
            }
        }
        assert_eq!(get_path("/view/a/b").await.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn the_page_templates_are_filled() {
        for page in [served_page(), exported_page()] {
            assert!(!page.contains("{{"), "{page}");
        }
        assert!(served_page().contains("src=\"/assets/cht.js\""));
        let exported = exported_page();
        assert!(exported.contains("src=\"cht.js\""));
        assert!(
            exported.find("data.js").expect("data") < exported.find("cht.js").expect("script"),
            "the data is loaded before the script"
        );
    }
}
