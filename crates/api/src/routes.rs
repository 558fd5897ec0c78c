//! The endpoints: one table ([`ROUTES`]) that builds the router and that
//! the OpenAPI document is checked against.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put, MethodRouter};
use axum::{Json, Router};
use cht_analyze::LiveControl;
use cht_events::LiveStatus;
use cht_frames::FrameEntry;
use serde::Deserialize;
use serde_json::{json, Value};
use tokio::sync::watch;

use crate::catalog::{
    transcript_text, Catalog, CatalogError, FrameQuery, SessionInfo, TimelineEntry,
};
use crate::error::{errors_as_json, ApiError};

/// What every handler reads.
#[derive(Clone)]
pub struct ApiState {
    pub(crate) catalog: Arc<Catalog>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl ApiState {
    pub(crate) fn live(&self) -> Result<(&str, &LiveControl), ApiError> {
        let session = self
            .catalog
            .live_session()
            .ok_or_else(ApiError::not_recording)?;
        let control = self
            .catalog
            .live_control(session)
            .ok_or_else(ApiError::not_recording)?;
        Ok((session, control))
    }
}

/// One endpoint: its method, its path as the OpenAPI document writes it
/// (`{name}` for a parameter, `{name}.jpg` for one with a suffix), and its
/// handler.
pub struct Route {
    /// `GET`, `POST`, `PUT`.
    pub method: &'static str,
    /// The path, as in the document.
    pub path: &'static str,
    handler: fn() -> MethodRouter<ApiState>,
}

impl Route {
    /// The path as the router matches it: a parameter with a suffix
    /// (`{frame}.jpg`) takes the whole segment, the handler checks the
    /// suffix.
    pub fn router_path(&self) -> String {
        self.path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.split_once('}')) {
                    Some((name, suffix)) if !suffix.is_empty() => format!("{{{name}}}"),
                    _ => segment.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Every endpoint of the API.
pub const ROUTES: &[Route] = &[
    Route {
        method: "GET",
        path: "/openapi.json",
        handler: || get(openapi),
    },
    Route {
        method: "GET",
        path: "/sessions",
        handler: || get(list_sessions),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}",
        handler: || get(show_session),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/timeline",
        handler: || get(session_timeline),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/frames",
        handler: || get(session_frames),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/frames/{frame}.jpg",
        handler: || get(picture),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/stream/{segment}.mp4",
        handler: || get(crate::media::segment),
    },
    Route {
        method: "POST",
        path: "/sessions/{id}/frames/sent",
        handler: || post(session_mark_sent),
    },
    Route {
        method: "GET",
        path: "/sessions/{id}/transcript",
        handler: || get(transcript),
    },
    Route {
        method: "GET",
        path: "/status",
        handler: || get(status),
    },
    Route {
        method: "POST",
        path: "/capture",
        handler: || post(capture),
    },
    Route {
        method: "PUT",
        path: "/threshold",
        handler: || put(set_threshold),
    },
    Route {
        method: "GET",
        path: "/frames",
        handler: || get(live_frames),
    },
    Route {
        method: "POST",
        path: "/frames/sent",
        handler: || post(live_mark_sent),
    },
    Route {
        method: "GET",
        path: "/events",
        handler: || get(crate::sse::events),
    },
];

/// The API's router over `catalog`; SSE streams end when `shutdown` turns
/// true. Put the guard layer ([`crate::guard::LocalGuardLayer`]) in front
/// of it (as [`crate::serve`] does).
pub fn router(catalog: Catalog, shutdown: watch::Receiver<bool>) -> Router {
    let state = ApiState {
        catalog: Arc::new(catalog),
        shutdown,
    };
    ROUTES
        .iter()
        .fold(Router::new(), |router, route| {
            router.route(&route.router_path(), (route.handler)())
        })
        .fallback(unknown_path)
        .layer(axum::middleware::map_response(errors_as_json))
        .with_state(state)
}

async fn unknown_path() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; GET /openapi.json describes them all",
    )
}

async fn openapi() -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        crate::openapi::DOCUMENT,
    )
        .into_response()
}

/// Runs a call that reads or writes files off the async threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, CatalogError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::from)
}

fn path_param(path: Result<Path<String>, PathRejection>) -> Result<String, ApiError> {
    path.map(|Path(id)| id)
        .map_err(|e| ApiError::bad_request(e.to_string()))
}

async fn list_sessions(State(state): State<ApiState>) -> Result<Json<Vec<SessionInfo>>, ApiError> {
    let catalog = state.catalog.clone();
    Ok(Json(blocking(move || catalog.sessions()).await?))
}

async fn show_session(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<SessionInfo>, ApiError> {
    let id = path_param(id)?;
    let catalog = state.catalog.clone();
    Ok(Json(blocking(move || catalog.session(&id)).await?))
}

async fn session_timeline(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Vec<TimelineEntry>>, ApiError> {
    let id = path_param(id)?;
    let catalog = state.catalog.clone();
    Ok(Json(blocking(move || catalog.timeline(&id)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FramesParams {
    #[serde(default)]
    unsent: bool,
    since: Option<f64>,
}

fn frame_query(query: Result<Query<FramesParams>, QueryRejection>) -> Result<FrameQuery, ApiError> {
    let Query(params) = query.map_err(|e| {
        ApiError::bad_request(format!(
            "{e}; expected ?unsent=true|false and ?since=SECONDS (session time)"
        ))
    })?;
    Ok(FrameQuery {
        unsent: params.unsent,
        since: finite_since(params.since)?,
    })
}

fn finite_since(since: Option<f64>) -> Result<Option<f64>, ApiError> {
    match since {
        Some(t) if !t.is_finite() => Err(ApiError::bad_request(
            "since must be a number of seconds (session time)",
        )),
        other => Ok(other),
    }
}

async fn session_frames(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<FramesParams>, QueryRejection>,
) -> Result<Json<Vec<FrameEntry>>, ApiError> {
    let id = path_param(id)?;
    let query = frame_query(query)?;
    let catalog = state.catalog.clone();
    Ok(Json(blocking(move || catalog.frames(&id, query)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PictureParams {
    width: Option<u32>,
}

async fn picture(
    State(state): State<ApiState>,
    path: Result<Path<(String, String)>, PathRejection>,
    query: Result<Query<PictureParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let Path((id, file)) = path.map_err(|e| ApiError::bad_request(e.to_string()))?;
    let Query(params) = query
        .map_err(|e| ApiError::bad_request(format!("{e}; expected ?width=PIXELS (16 or more)")))?;
    let Some(frame) = file.strip_suffix(".jpg").map(str::to_string) else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no picture {file:?}: pictures are /sessions/{{id}}/frames/F0001.jpg"),
        ));
    };
    if let Some(width) = params.width.filter(|w| *w < cht_frames::MIN_WIDTH) {
        return Err(ApiError::bad_request(format!(
            "width {width} is too small (at least {})",
            cht_frames::MIN_WIDTH
        )));
    }
    let catalog = state.catalog.clone();
    let jpeg = blocking(move || {
        let jpeg = catalog.picture(&id, &frame)?;
        match params.width {
            Some(width) => cht_frames::scale_jpeg(&jpeg, width)
                .map_err(|e| CatalogError::Files(format!("{frame}: {e}"))),
            None => Ok(jpeg),
        }
    })
    .await?;
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/jpeg")),
            // A written picture never changes.
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, max-age=86400, immutable"),
            ),
        ],
        jpeg,
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TranscriptParams {
    since: Option<f64>,
}

async fn transcript(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    query: Result<Query<TranscriptParams>, QueryRejection>,
) -> Result<Response, ApiError> {
    let id = path_param(id)?;
    let Query(params) = query.map_err(|e| {
        ApiError::bad_request(format!("{e}; expected ?since=SECONDS (session time)"))
    })?;
    let since = finite_since(params.since)?;
    let catalog = state.catalog.clone();
    let lines = blocking(move || catalog.transcript(&id, since)).await?;
    Ok((
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        )],
        transcript_text(&lines),
    )
        .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkSent {
    ids: Vec<String>,
}

fn mark_sent_body(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let MarkSent { ids } = serde_json::from_slice(body).map_err(|e| {
        ApiError::bad_request(format!(r#"{e}; expected {{"ids": ["F0001", ...]}}"#))
    })?;
    Ok(ids)
}

async fn session_mark_sent(
    State(state): State<ApiState>,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = path_param(id)?;
    let ids = mark_sent_body(&body)?;
    let catalog = state.catalog.clone();
    let updated = blocking(move || catalog.mark_sent(&id, &ids)).await?;
    Ok(Json(json!({ "updated": updated })))
}

async fn status(State(state): State<ApiState>) -> Result<Json<LiveStatus>, ApiError> {
    Ok(Json(state.live()?.1.status()))
}

/// The body, if any, is ignored (the guard has made sure it is JSON).
async fn capture(
    State(state): State<ApiState>,
) -> Result<(StatusCode, Json<FrameEntry>), ApiError> {
    let control = state.live()?.1.clone();
    let captured = tokio::task::spawn_blocking(move || control.capture())
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    match captured {
        Some(entry) => Ok((StatusCode::CREATED, Json(entry))),
        None => Err(ApiError::new(
            StatusCode::CONFLICT,
            "no frame has been decoded yet: nothing to capture",
        )),
    }
}

async fn set_threshold(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let control = state.live()?.1;
    let threshold = parse_threshold_body(&body).map_err(ApiError::bad_request)?;
    control
        .set_threshold(threshold)
        .map_err(ApiError::bad_request)?;
    Ok(Json(json!({ "threshold": threshold })))
}

/// `{"threshold": 0.2}` or a bare `0.2`.
fn parse_threshold_body(body: &[u8]) -> Result<f64, String> {
    const EXPECTED: &str =
        r#"expected {"threshold": T} or a bare number T, with T between 0 and 1"#;
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("body is not JSON ({e}); {EXPECTED}"))?;
    let threshold = match &value {
        Value::Number(n) => n.as_f64(),
        Value::Object(fields) if fields.len() == 1 => {
            fields.get("threshold").and_then(Value::as_f64)
        }
        _ => None,
    };
    threshold.ok_or_else(|| EXPECTED.to_string())
}

async fn live_frames(
    State(state): State<ApiState>,
    query: Result<Query<FramesParams>, QueryRejection>,
) -> Result<Json<Vec<FrameEntry>>, ApiError> {
    let id = state.live()?.0.to_string();
    let query = frame_query(query)?;
    let catalog = state.catalog.clone();
    Ok(Json(blocking(move || catalog.frames(&id, query)).await?))
}

async fn live_mark_sent(
    State(state): State<ApiState>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = state.live()?.0.to_string();
    let ids = mark_sent_body(&body)?;
    let catalog = state.catalog.clone();
    let updated = blocking(move || catalog.mark_sent(&id, &ids)).await?;
    Ok(Json(json!({ "updated": updated })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixed_parameters_take_the_whole_segment() {
        let picture = ROUTES
            .iter()
            .find(|r| r.path.ends_with(".jpg"))
            .expect("the picture route");
        assert_eq!(picture.router_path(), "/sessions/{id}/frames/{frame}");
        let plain = ROUTES
            .iter()
            .find(|r| r.path == "/sessions/{id}/timeline")
            .expect("timeline");
        assert_eq!(plain.router_path(), plain.path);
    }

    #[test]
    fn threshold_bodies() {
        assert_eq!(parse_threshold_body(b"0.25"), Ok(0.25));
        assert_eq!(parse_threshold_body(br#"{"threshold": 0.5}"#), Ok(0.5));
        for bad in [
            &b"[0.2]"[..],
            b"\"0.2\"",
            br#"{"threshold": 0.2, "x": 1}"#,
            b"",
        ] {
            assert!(parse_threshold_body(bad).is_err());
        }
    }
}
