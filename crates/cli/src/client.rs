//! `cht status`, `cht capture`, `cht threshold`, `cht frames`: thin blocking
//! HTTP clients of a running `cht record`'s control API (see `control.rs`).
//! Each sends one request and prints the JSON answer, pretty, on stdout.

use crate::cli::{ControlArgs, FramesArgs, FramesCommand, ThresholdArgs};
use serde_json::{json, Value};
use std::net::SocketAddr;
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
}

pub fn status(args: &ControlArgs) -> anyhow::Result<()> {
    print_json(&ControlClient::new(args.control).call(Method::Get, "/status", None)?)
}

pub fn capture(args: &ControlArgs) -> anyhow::Result<()> {
    print_json(&ControlClient::new(args.control).call(Method::Post, "/capture", None)?)
}

pub fn threshold(args: &ThresholdArgs) -> anyhow::Result<()> {
    let body = json!({ "threshold": args.threshold });
    print_json(&ControlClient::new(args.control.control).call(
        Method::Put,
        "/threshold",
        Some(body),
    )?)
}

pub fn frames(args: &FramesArgs) -> anyhow::Result<()> {
    let client = ControlClient::new(args.control.control);
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
    agent: ureq::Agent,
}

impl ControlClient {
    pub fn new(addr: SocketAddr) -> Self {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            // The API is on loopback: an HTTP_PROXY from the environment must not apply.
            .proxy(None)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(Some(REQUEST_TIMEOUT))
            .build();
        ControlClient {
            addr,
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
        let sent = match (method, body) {
            (Method::Get, _) => self.agent.get(&url).call(),
            (Method::Post, None) => self.agent.post(&url).send_empty(),
            (Method::Post, Some(body)) => self
                .agent
                .post(&url)
                .content_type("application/json")
                .send(body.to_string()),
            (Method::Put, body) => self
                .agent
                .put(&url)
                .content_type("application/json")
                .send(body.unwrap_or(Value::Null).to_string()),
        };
        let mut response = sent.map_err(|source| self.transport_error(&request, source))?;
        let status = response.status().as_u16();
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
