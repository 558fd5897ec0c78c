//! `cht`: the command-line front end. It parses arguments, sets up logging and
//! signals, and hands over to the library crates; no media logic lives here.

// The doc comments of `cli.rs` are the `--help` text, where `<id>` is a
// placeholder, not an HTML tag.
#![allow(rustdoc::invalid_html_tags)]

mod analyze;
mod cli;
mod client;
mod control;
mod hooks;
mod live;
mod mcp;
mod probe;
mod record;
mod serve;
mod sessions;
mod shutdown;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.verbose, args.quiet);
    let result = match args.command {
        cli::Command::Record(a) => record::run(a, args.sessions_dir),
        cli::Command::Probe(a) => probe::run(a),
        cli::Command::Remux(a) => record::remux(a),
        cli::Command::Sessions(a) => sessions::run(a, args.sessions_dir),
        cli::Command::Analyze(a) => analyze::analyze(a, args.sessions_dir),
        cli::Command::Scores(a) => analyze::scores(a),
        cli::Command::Status(a) => client::status(&a, &args.sessions_dir),
        cli::Command::Capture(a) => client::capture(&a, &args.sessions_dir),
        cli::Command::Threshold(a) => client::threshold(&a, &args.sessions_dir),
        cli::Command::Frames(a) => client::frames(&a, &args.sessions_dir),
        cli::Command::Serve(a) => serve::run(a, args.sessions_dir),
        cli::Command::Mcp(a) => mcp::run(a, args.sessions_dir),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Prints a line on stdout; a closed pipe (`cht probe x | head`) is not an error.
pub fn stdout_line(text: &str) -> anyhow::Result<()> {
    use std::io::Write;
    match writeln!(std::io::stdout().lock(), "{text}") {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => Ok(r?),
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let default = match (quiet, verbose) {
        (true, _) => "warn",
        (_, 0) => "info",
        (_, 1) => "debug",
        _ => "trace",
    };
    // The MCP library logs every message it handles at info.
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHT_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(format!("{default},rmcp=warn")));
    use std::io::IsTerminal;
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .init();
}
