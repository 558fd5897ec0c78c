//! Errors: the JSON error answer of every endpoint, and what can stop a
//! server from starting.

use std::net::SocketAddr;

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

use crate::catalog::CatalogError;

/// Longest plain-text error of axum's that is turned into JSON.
const MAX_ERROR_BODY: usize = 64 << 10;

/// An error answer: `{"error": message}` with a status.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    message: String,
}

impl ApiError {
    /// An answer with this status and message.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 500.
    pub fn internal(message: impl ToString) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message.to_string())
    }

    /// 404 for the live endpoints of a server that records nothing.
    pub fn not_recording() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "nothing is being recorded by this server: the live endpoints (/status, /capture, /threshold, /frames, /events) are those of `cht record`; finished sessions are under /sessions",
        )
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "error": self.message }))).into_response()
    }
}

impl From<CatalogError> for ApiError {
    fn from(e: CatalogError) -> Self {
        let status = match &e {
            CatalogError::InvalidId(_) | CatalogError::BadRequest(_) => StatusCode::BAD_REQUEST,
            CatalogError::NoSession(_)
            | CatalogError::NoPicture { .. }
            | CatalogError::NoSegment { .. } => StatusCode::NOT_FOUND,
            CatalogError::Busy { .. } => StatusCode::CONFLICT,
            CatalogError::Files(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

/// axum's own rejections (wrong method, bad query, ...) come as plain text
/// or an empty body: give every error the API's JSON shape.
pub(crate) async fn errors_as_json(response: Response) -> Response {
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

/// What stops a server from starting.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The address is not loopback.
    #[error("the {what} only listens on loopback (127.0.0.1 or ::1), not {addr}: it is for this machine only")]
    NotLoopback {
        /// Which server.
        what: &'static str,
        /// The address asked for.
        addr: SocketAddr,
    },
    /// The address is taken or not ours.
    #[error("cannot listen for the {what} on {addr}: {source}")]
    Bind {
        /// Which server.
        what: &'static str,
        /// The address asked for.
        addr: SocketAddr,
        /// What the system said.
        #[source]
        source: std::io::Error,
    },
    /// The runtime or its thread could not start.
    #[error("cannot start the {what}: {source}")]
    Start {
        /// Which server.
        what: &'static str,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The token could not be written.
    #[error("cannot keep the {what}'s token: {source}")]
    Token {
        /// Which server.
        what: &'static str,
        /// What failed.
        #[source]
        source: crate::token::TokenError,
    },
}
