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
mod terminal;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    init_logging(args.verbose, args.quiet);
    let result = match args.command {
        cli::Command::Record(a) => record::run(a, args.sessions_dir, args.quiet),
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
        cli::Command::Export(a) => serve::export(a, args.sessions_dir),
        cli::Command::Mcp(a) => mcp::run(a, args.sessions_dir),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", error_text(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error and its causes on one line, each said once: the library
/// errors already name their source in their own message (`cannot listen
/// on ADDR: Address already in use`), so a cause whose text is already
/// there is not repeated.
fn error_text(error: &anyhow::Error) -> String {
    let mut text = error.to_string();
    for cause in error.chain().skip(1) {
        let cause = cause.to_string();
        if !text.contains(&cause) {
            text.push_str(": ");
            text.push_str(&cause);
        }
    }
    text
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_cause_is_said_once() {
        let taken = std::io::Error::from(std::io::ErrorKind::AddrInUse);
        let said = taken.to_string();
        // The ingest's own error names its source, and also has it as its
        // `source()`: the message of `cht record` on a taken port.
        let error = anyhow::Error::new(cht_ingest::IngestError::Bind {
            addr: "127.0.0.1:4444".parse().expect("addr"),
            source: taken,
        });
        let text = error_text(&error);
        assert_eq!(text.matches(&said).count(), 1, "{text}");
        let error = error.context("cannot record");
        assert_eq!(
            error_text(&error),
            format!("cannot record: cannot listen on 127.0.0.1:4444: {said}")
        );
        let plain = anyhow::anyhow!("inner").context("outer");
        assert_eq!(error_text(&plain), "outer: inner");
    }
}
