//! The loopback control API of `cht record`: HTTP/JSON over 127.0.0.1 so a
//! person (`cht status`, `cht capture`, ...) or an agent can look at and steer
//! a running recording.
//!
//! It serves requests; it never drives the recording. Every call goes through
//! [`LiveControl`], and events come from the [`cht_events::EventBus`],
//! which drops events for a slow SSE client rather than slowing cht. The
//! server runs a small tokio runtime on its own thread, so the rest of cht
//! stays synchronous.
//!
//! | method | path           | what                                              |
//! |--------|----------------|---------------------------------------------------|
//! | GET    | `/status`      | the [`cht_events::LiveStatus`] JSON               |
//! | POST   | `/capture`     | writes the latest picture now (201), 409 if none  |
//! | PUT    | `/threshold`   | `{"threshold": 0.2}` or `0.2`: scene threshold    |
//! | GET    | `/frames`      | index entries; `?unsent=true` for unsent only     |
//! | POST   | `/frames/sent` | `{"ids": ["F0001"]}` → `{"updated": n}`           |
//! | GET    | `/events`      | Server-Sent Events, one `--events json` object each |
//!
//! Every error, including unknown paths and wrong methods, is a JSON body
//! `{"error": "..."}` with a 4xx/5xx status.
//!
//! Loopback is not private (a web page, another local user can reach it):
//! every request passes the [`crate::guard`] rules first (a local Host, no
//! foreign Origin, the per-run bearer token of [`crate::token`], JSON for
//! every change), and the server runs under the limits of [`crate::http`].

use crate::guard::{LocalGuardLayer, Policy};
use crate::token::ControlToken;
use axum::body::Bytes;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use cht_analyze::{AnalyzeError, FrameFilter, LiveControl};
use cht_events::{EventRecord, LiveStatus, Subscription};
use cht_frames::FrameEntry;
use futures_util::Stream;
use serde::Deserialize;
use serde_json::{json, Value};
use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::TryRecvError;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::watch;

/// How often the Ctrl-C flag is looked at.
const STOP_POLL: Duration = Duration::from_millis(100);
/// How often an idle SSE stream looks for new events on the bus.
const SSE_POLL: Duration = Duration::from_millis(50);
const SSE_KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events one SSE client may have pending before the bus drops its events.
const SSE_QUEUE: usize = 1024;
/// After shutdown is asked for, connections get this long to finish (well
/// inside the shutdown bound of [`crate::shutdown::EXIT_BOUND`]).
const SHUTDOWN_GRACE: Duration = Duration::from_millis(1500);
/// Longest plain-text error of axum's that is turned into JSON.
const MAX_ERROR_BODY: usize = 64 << 10;

#[derive(Debug, thiserror::Error)]
pub enum ControlError {
    #[error("the control API only listens on loopback (127.0.0.1 or ::1), not {0}: it is for this machine only; use --control off to disable it")]
    NotLoopback(SocketAddr),
    #[error("cannot listen for the control API on {addr}: {source} (another cht record running? choose another --control ADDR or --control off)")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot start the control API: {0}")]
    Start(#[source] std::io::Error),
    #[error("cannot keep the control API's token: {0}")]
    Token(#[from] crate::token::TokenError),
}

/// A running control API. Dropping it (or [`ControlServer::shutdown`])
/// stops it: open requests get a short grace, SSE streams end.
pub struct ControlServer {
    pub addr: SocketAddr,
    /// Removed when the server is dropped (after the thread has stopped).
    pub token: ControlToken,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ControlServer {
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    fn stop_and_join(&mut self) {
        self.shutdown.send_replace(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for ControlServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}

/// Binds `addr` now (so a taken port fails `cht record` at start), writes
/// the token file for the bound address, and serves on a thread of its own
/// until shut down or until `stop` is set.
pub fn serve(
    addr: SocketAddr,
    control: LiveControl,
    stop: Arc<AtomicBool>,
    sessions_dir: &Path,
) -> Result<ControlServer, ControlError> {
    if !addr.ip().is_loopback() {
        return Err(ControlError::NotLoopback(addr));
    }
    let listener = TcpListener::bind(addr).map_err(|source| ControlError::Bind { addr, source })?;
    let bound = listener.local_addr().map_err(ControlError::Start)?;
    let token = ControlToken::create(bound, sessions_dir)?;
    listener
        .set_nonblocking(true)
        .map_err(ControlError::Start)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(ControlError::Start)?;
    let (shutdown, _) = watch::channel(false);
    let policy = Policy::new("control API", bound.port(), token.secret());
    let app = router(ApiState {
        control,
        shutdown: shutdown.subscribe(),
    })
    .layer(LocalGuardLayer::new(policy));
    let signal = shutdown.clone();
    let thread = std::thread::Builder::new()
        .name("cht-control".into())
        .spawn(move || run_server(runtime, listener, app, signal, stop))
        .map_err(ControlError::Start)?;
    Ok(ControlServer {
        addr: bound,
        token,
        shutdown,
        thread: Some(thread),
    })
}

fn run_server(
    runtime: tokio::runtime::Runtime,
    listener: TcpListener,
    app: Router,
    shutdown: watch::Sender<bool>,
    stop: Arc<AtomicBool>,
) {
    runtime.block_on(async move {
        let listener = match tokio::net::TcpListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => return tracing::error!("control API: {e}"),
        };
        tokio::spawn(watch_stop_flag(stop, shutdown.clone()));
        crate::http::serve(
            "control API",
            listener,
            app,
            crate::http::Limits::for_this_process(),
            shutdown.subscribe(),
            SHUTDOWN_GRACE,
        )
        .await;
    });
    // A capture may still be waiting for its JPEG; do not wait for it.
    runtime.shutdown_timeout(Duration::from_millis(200));
}

async fn shutdown_requested(mut shutdown: watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}

/// Ctrl-C sets `stop`; the server stops with the recording.
async fn watch_stop_flag(stop: Arc<AtomicBool>, shutdown: watch::Sender<bool>) {
    let mut tick = tokio::time::interval(STOP_POLL);
    loop {
        tick.tick().await;
        if stop.load(Ordering::SeqCst) {
            shutdown.send_replace(true);
        }
        if *shutdown.borrow() {
            return;
        }
    }
}

#[derive(Clone)]
struct ApiState {
    control: LiveControl,
    shutdown: watch::Receiver<bool>,
}

fn router(state: ApiState) -> Router {
    Router::new()
        .route("/status", get(status))
        .route("/capture", post(capture))
        .route("/threshold", put(set_threshold))
        .route("/frames", get(frames))
        .route("/frames/sent", post(mark_sent))
        .route("/events", get(events))
        .fallback(unknown_path)
        .layer(axum::middleware::map_response(errors_as_json))
        .with_state(state)
}

/// An error answer: `{"error": message}` with a status.
#[derive(Debug)]
struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    fn internal(message: impl ToString) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

async fn unknown_path() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no such endpoint; try GET /status, POST /capture, PUT /threshold, GET /frames, POST /frames/sent, GET /events",
    )
}

/// axum's own rejections (wrong method, bad query, ...) come as plain text
/// or an empty body: give every error the API's JSON shape.
async fn errors_as_json(response: Response) -> Response {
    let status = response.status();
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, MAX_ERROR_BODY)
        .await
        .unwrap_or_default();
    let text = String::from_utf8_lossy(&text).trim().to_string();
    let message = if text.is_empty() {
        status.canonical_reason().unwrap_or("error").to_lowercase()
    } else {
        text
    };
    let mut json = ApiError::new(status, message).into_response();
    if let Some(allow) = parts.headers.get(header::ALLOW) {
        json.headers_mut().insert(header::ALLOW, allow.clone());
    }
    json
}

/// Runs a call that may wait (for the frame writer) off the async threads.
async fn blocking<T: Send + 'static>(
    call: impl FnOnce() -> Result<T, AnalyzeError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(call)
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)
}

async fn status(State(state): State<ApiState>) -> Json<LiveStatus> {
    Json(state.control.status())
}

/// The body, if any, is ignored (the guard has made sure it is JSON).
async fn capture(
    State(state): State<ApiState>,
) -> Result<(StatusCode, Json<FrameEntry>), ApiError> {
    let control = state.control.clone();
    match blocking(move || control.capture()).await? {
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
    let threshold = parse_threshold_body(&body).map_err(ApiError::bad_request)?;
    state
        .control
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FramesQuery {
    #[serde(default)]
    unsent: bool,
}

async fn frames(
    State(state): State<ApiState>,
    query: Result<Query<FramesQuery>, QueryRejection>,
) -> Result<Json<Vec<FrameEntry>>, ApiError> {
    let Query(query) = query.map_err(|e| {
        ApiError::bad_request(format!("{e}; expected ?unsent=true or ?unsent=false"))
    })?;
    let control = state.control.clone();
    let filter = if query.unsent {
        FrameFilter::Unsent
    } else {
        FrameFilter::All
    };
    Ok(Json(blocking(move || control.frames(filter)).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MarkSent {
    ids: Vec<String>,
}

async fn mark_sent(State(state): State<ApiState>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let MarkSent { ids } = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(r#"{e}; expected {{"ids": ["F0001", ...]}}"#))
    })?;
    let control = state.control.clone();
    let updated = blocking(move || control.mark_sent(ids)).await?;
    Ok(Json(json!({ "updated": updated })))
}

async fn events(
    State(state): State<ApiState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let feed = SseFeed {
        subscription: state.control.bus().subscribe(SSE_QUEUE),
        shutdown: state.shutdown,
        missed: 0,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(SSE_KEEP_ALIVE))
}

/// One SSE client's view of the bus. The bus's channel is synchronous and
/// never blocks the sender, so it is polled; the stream ends at shutdown.
struct SseFeed {
    subscription: Subscription,
    shutdown: watch::Receiver<bool>,
    missed: u64,
}

impl SseFeed {
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if *self.shutdown.borrow() {
                return None;
            }
            if let Some(note) = self.missed_note() {
                return Some(note);
            }
            match self.subscription.events.try_recv() {
                Ok(record) => return Some(sse_event(&record)),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {}
            }
            tokio::select! {
                () = tokio::time::sleep(SSE_POLL) => {}
                () = shutdown_requested(self.shutdown.clone()) => return None,
            }
        }
    }

    /// A comment line when the bus dropped events for this client.
    fn missed_note(&mut self) -> Option<SseEvent> {
        let missed = self.subscription.missed();
        if missed == self.missed {
            return None;
        }
        let note = SseEvent::default().comment(format!(
            "missed {} events (client too slow)",
            missed - self.missed
        ));
        self.missed = missed;
        Some(note)
    }
}

/// `event:` is the event's kind, `data:` the same JSON as `--events json`.
fn sse_event(record: &EventRecord) -> SseEvent {
    #[derive(Deserialize)]
    struct Kind {
        event: String,
    }
    let json = record.to_json();
    let event = SseEvent::default();
    let event = match serde_json::from_str::<Kind>(&json) {
        Ok(kind) => event.event(kind.event),
        Err(_) => event,
    };
    event.data(json)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_bodies() {
        assert_eq!(parse_threshold_body(br#"{"threshold": 0.2}"#), Ok(0.2));
        assert_eq!(parse_threshold_body(b" 0.45\n"), Ok(0.45));
        assert_eq!(parse_threshold_body(b"1"), Ok(1.0));
        assert!(parse_threshold_body(b"").is_err());
        assert!(parse_threshold_body(b"abc").is_err());
        assert!(parse_threshold_body(br#"{"threshold": "0.2"}"#).is_err());
        assert!(parse_threshold_body(br#"{"thresh": 0.2}"#).is_err());
        assert!(parse_threshold_body(br#"[0.2]"#).is_err());
    }
}
