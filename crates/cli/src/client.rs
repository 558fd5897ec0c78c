//! `cht status`, `cht capture`, `cht threshold`, `cht frames`: thin blocking
//! HTTP clients of a running `cht record`'s control API (see `control.rs`).
//! Each sends one request and prints the JSON answer, pretty, on stdout.
//! They find the recorder's token themselves (see `token.rs`) and send it as
//! `Authorization: Bearer`, with a JSON body on every change.

use crate::cli::{ControlArgs, FramesArgs, FramesCommand, ThresholdArgs};
use cht_api::client::{ControlClient, Method};
use serde_json::{json, Value};
use std::path::Path;

pub fn status(args: &ControlArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    print_json(&client(args, sessions_dir).call(Method::Get, "/status", None)?)
}

pub fn capture(args: &ControlArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    print_json(&client(args, sessions_dir).call(Method::Post, "/capture", None)?)
}

pub fn threshold(args: &ThresholdArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    let body = json!({ "threshold": args.threshold });
    print_json(&client(&args.control, sessions_dir).call(Method::Put, "/threshold", Some(body))?)
}

pub fn frames(args: &FramesArgs, sessions_dir: &Path) -> anyhow::Result<()> {
    let client = client(&args.control, sessions_dir);
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

/// A client of `--control ADDR`, with the token of that recorder.
fn client(args: &ControlArgs, sessions_dir: &Path) -> ControlClient {
    ControlClient::find(args.control, sessions_dir, args.token_file.as_deref())
}
