//! A blocking client of a running `cht record`'s control API, for the thin
//! clients (`cht status`, `cht capture`...) and `cht mcp`: it finds the
//! recorder's token itself ([`crate::token::find`]) and sends it as
//! `Authorization: Bearer`, with a JSON body on every change.

use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// A capture waits for a JPEG to be encoded; everything else is instant.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

/// What went wrong with a request to the control API.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there.
    #[error("no cht record running with a control API on {addr} ({source}); start one with `cht record`, or pass --control ADDR")]
    NotRunning {
        /// The address tried.
        addr: SocketAddr,
        /// What the connection said.
        source: ureq::Error,
    },
    /// The request failed on the way.
    #[error("{request}: {source}")]
    Transport {
        /// `GET /status`...
        request: String,
        /// What failed.
        source: ureq::Error,
    },
    /// The API answered with an error.
    #[error("{request}: {message} (HTTP {status})")]
    Refused {
        /// `GET /status`...
        request: String,
        /// The HTTP status.
        status: u16,
        /// The API's `error` message.
        message: String,
    },
    /// The answer is not JSON.
    #[error("{request}: the answer is not JSON: {body:?}")]
    NotJson {
        /// `GET /status`...
        request: String,
        /// What came.
        body: String,
    },
    /// cht record answers but no token was found to send it.
    #[error("{request}: refused without a token: {reason}")]
    NoToken {
        /// `GET /status`...
        request: String,
        /// Why there is no token.
        reason: String,
    },
}

/// The methods the control API uses.
#[derive(Debug, Clone, Copy)]
pub enum Method {
    /// GET.
    Get,
    /// POST (with a JSON body).
    Post,
    /// PUT (with a JSON body).
    Put,
}

/// A client of one control API.
pub struct ControlClient {
    addr: SocketAddr,
    /// The token, or why there is none (said only if the server wants one).
    token: Result<String, String>,
    agent: ureq::Agent,
}

impl ControlClient {
    /// A client of the control API on `addr`, with the token of that
    /// recorder (from `token_file`, or where `cht record` writes it).
    pub fn find(addr: SocketAddr, sessions_dir: &Path, token_file: Option<&Path>) -> Self {
        let token = crate::token::find(addr, sessions_dir, token_file);
        Self::new(addr, token.map_err(|e| e.to_string()))
    }

    /// A client of `addr` sending `token` (or, with none, saying why when
    /// the server asks for one).
    pub fn new(addr: SocketAddr, token: Result<String, String>) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The API is on loopback: an HTTP_PROXY from the environment must not apply.
            .proxy(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        ControlClient {
            addr,
            token,
            agent: config.into(),
        }
    }

    /// Sends one request; a non-2xx answer becomes [`ClientError::Refused`]
    /// with the API's `error` message.
    pub fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ClientError> {
        let request = format!("{method:?} {path}").to_uppercase();
        let url = format!("http://{}{path}", self.addr);
        let bearer = self.token.as_ref().ok().map(|t| format!("Bearer {t}"));
        // Every change carries a JSON body (the API refuses anything else).
        let body = body.unwrap_or_else(|| json!({})).to_string();
        let sent = match method {
            Method::Get => {
                let mut get = self.agent.get(&url);
                if let Some(bearer) = &bearer {
                    get = get.header("Authorization", bearer);
                }
                get.call()
            }
            Method::Post | Method::Put => {
                let mut change = match method {
                    Method::Put => self.agent.put(&url),
                    _ => self.agent.post(&url),
                };
                if let Some(bearer) = &bearer {
                    change = change.header("Authorization", bearer);
                }
                change.content_type("application/json").send(body)
            }
        };
        let mut response = sent.map_err(|source| self.transport_error(&request, source))?;
        let status = response.status().as_u16();
        if status == 401 {
            if let Err(reason) = &self.token {
                return Err(ClientError::NoToken {
                    request,
                    reason: reason.clone(),
                });
            }
        }
        let text =
            response
                .body_mut()
                .read_to_string()
                .map_err(|source| ClientError::Transport {
                    request: request.clone(),
                    source,
                })?;
        let value: Value = serde_json::from_str(&text).map_err(|_| ClientError::NotJson {
            request: request.clone(),
            body: text,
        })?;
        if !(200..300).contains(&status) {
            let message = value["error"]
                .as_str()
                .map_or_else(|| value.to_string(), str::to_string);
            return Err(ClientError::Refused {
                request,
                status,
                message,
            });
        }
        Ok(value)
    }

    fn transport_error(&self, request: &str, source: ureq::Error) -> ClientError {
        let nobody_listens = match &source {
            ureq::Error::Io(e) => matches!(
                e.kind(),
                std::io::ErrorKind::ConnectionRefused
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::AddrNotAvailable
            ),
            ureq::Error::ConnectionFailed => true,
            _ => false,
        };
        if nobody_listens {
            ClientError::NotRunning {
                addr: self.addr,
                source,
            }
        } else {
            ClientError::Transport {
                request: request.to_string(),
                source,
            }
        }
    }
}
