//! `cht status`, `cht capture`, `cht threshold`, `cht frames`: thin blocking
//! HTTP clients of a running `cht record`'s control API (see `control.rs`).
//! Each sends one request and prints the JSON answer, pretty, on stdout.
//! They find the recorder's token themselves (see `token.rs`) and send it as
//! `Authorization: Bearer`, with a JSON body on every change.

use crate::cli::{ControlArgs, FramesArgs, FramesCommand, ThresholdArgs};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

/// A capture waits for a JPEG to be encoded; everything else is instant.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no cht record running with a control API on {addr} ({source}); start one with `cht record`, or pass --control ADDR")]
    NotRunning {
        addr: SocketAddr,
        source: ureq::Error,
    },
    #[error("{request}: {source}")]
    Transport {
        request: String,
        source: ureq::Error,
    },
    #[error("{request}: {message} (HTTP {status})")]
    Refused {
        request: String,
        status: u16,
        message: String,
    },
    #[error("{request}: the answer is not JSON: {body:?}")]
    NotJson { request: String, body: String },
    /// cht record answers but no token was found to send it.
    #[error("{request}: refused without a token: {reason}")]
    NoToken { request: String, reason: String },
}

pub fn status(args: &ControlArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    print_json(&ControlClient::for_args(args, sessions_dir).call(Method::Get, "/status", None)?)
}

pub fn capture(args: &ControlArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    print_json(&ControlClient::for_args(args, sessions_dir).call(Method::Post, "/capture", None)?)
}

pub fn threshold(args: &ThresholdArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    let body = json!({ "threshold": args.threshold });
    print_json(&ControlClient::for_args(&args.control, sessions_dir).call(
        Method::Put,
        "/threshold",
        Some(body),
    )?)
}

pub fn frames(args: &FramesArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    let client = ControlClient::for_args(&args.control, sessions_dir);
    let answer = match &args.command {
        Some(FramesCommand::Sent { ids }) => {
            client.call(Method::Post, "/frames/sent", Some(json!({ "ids": ids })))?
        }
        None if args.unsent => client.call(Method::Get, "/frames?unsent=true", None)?,
        None => client.call(Method::Get, "/frames", None)?,
    };
    print_json(&answer)
}

fn print_json(value: &Value) -> anyhow::Result<()> {
    crate::stdout_line(&serde_json::to_string_pretty(value)?)
}

#[derive(Debug, Clone, Copy)]
pub enum Method {
    Get,
    Post,
    Put,
}

pub struct ControlClient {
    addr: SocketAddr,
    /// The token, or why there is none (said only if the server wants one).
    token: Result<String, String>,
    agent: ureq::Agent,
}

impl ControlClient {
    /// A client of `--control ADDR`, with the token of that recorder.
    pub fn for_args(args: &ControlArgs, sessions_dir: &Path) -> Self {
        let token = cht_api::token::find(args.control, sessions_dir, args.token_file.as_deref());
        Self::new(args.control, token.map_err(|e| e.to_string()))
    }

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
