//! `cargo xtask`: the project's developer commands (build, run, test, demo,
//! measure). Plain Rust so it works on a machine that has only cargo.

mod corpus;
mod demo;
mod deps;
mod measure;
mod memory;
mod testing;

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

const USAGE: &str = "\
cargo xtask <command> [args]

commands:
  record [ARGS..]   build cht in release and run `cht record` (defaults: listen
                    127.0.0.1:4444, relay to udp 127.0.0.1:4445, ./sessions);
                    extra ARGS go to `cht record` (see `cht record --help`)
  demo [--secs N]   no sender needed: `cht record --demo` for N s (default 20):
                    synthetic slides, pointer, typing and sound sent over TCP
                    into the recorder; then shows the session it recorded
  test [--no-fuzz]  install missing Debian packages the tests use (ffmpeg, nasm,
                    GStreamer, chromium),
                    check the lints (clippy and rustdoc, warnings as errors),
                    run the whole test suite, then a short run of each fuzz target
  lint              only the lint check of `test`
  fuzz [SECS]       run every cargo-fuzz target for SECS seconds each (default 20)
  bench-remux [N]   time `cht remux` against ffmpeg's fragmented-MP4 remux on a
                    1080p 60 s clip (made once with ffmpeg), N runs each
  screen-corpus [..] capture, label and encode the labelled corpus of real screen
                    content (Xvfb + real programs); see `screen-corpus --help`
  eval-scenes [..]  score `cht analyze` on that corpus (event P/R/F1, final-content
                    coverage, pictures per event, latency); see `eval-scenes --help`
  screen-fixtures   capture the scene detector's small test clips under
                    tests/fixtures/screen/ (real programs, with label sidecars)
  bench-live [SECS] CPU share of a live `cht record` fed a 1080p30 screen share in
                    real time, for both detectors, against ffmpeg decoding it
  memory [MIN] [--debug]  peak and drift of the resident set of `cht record`
                    (analysis on) over MIN minutes of media sent at full speed
                    (default 120); fails over 64 MB or beyond ±5 MB of drift
  bench-analyze [N] time `cht analyze` against ffmpeg's scene select on the same
                    clip, GOP-parallel against --jobs 1, and each tool's H.264
                    decoder on one thread
";

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let cmd = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    match cmd.as_str() {
        "record" => record(&rest),
        "demo" => demo::run(&rest),
        "test" => testing::test(&rest),
        "lint" => testing::lint(),
        "bench-remux" => measure::bench_remux(&rest),
        "bench-analyze" => measure::bench_analyze(&rest),
        "bench-live" => measure::bench_live(&rest),
        "memory" => memory::memory(&rest),
        "screen-corpus" => corpus::screen_corpus(&rest),
        "eval-scenes" => corpus::eval::eval_scenes(&rest),
        "screen-fixtures" => corpus::fixtures::screen_fixtures(&rest),
        "fuzz" => testing::fuzz(rest.first().map(|s| s.parse()).transpose()?.unwrap_or(20)),
        "" | "help" | "-h" | "--help" => {
            print!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command {other:?}\n\n{USAGE}"),
    }
}

/// The workspace root (xtask lives one level below it).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask is inside the workspace")
        .to_path_buf()
}

/// `cargo` (the one running xtask) in the workspace root.
pub fn cargo() -> Command {
    let mut c = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    c.current_dir(root());
    c
}

/// Builds `cht` in release and returns its path.
pub fn build_cht() -> anyhow::Result<PathBuf> {
    deps::ensure_build_tools()?;
    run(cargo().args(["build", "--release", "--quiet", "-p", "cht"]))?;
    Ok(root().join("target/release/cht"))
}

/// Runs a command; a non-zero exit is an error.
pub fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let status = cmd
        .status()
        .with_context(|| format!("cannot run {cmd:?}"))?;
    if !status.success() {
        bail!("{cmd:?} failed: {status}");
    }
    Ok(())
}

fn record(args: &[String]) -> anyhow::Result<()> {
    let cht = build_cht()?;
    eprintln!("xtask: no sender at hand? run `cargo xtask demo` to record the bundled clip");
    let status = Command::new(cht).arg("record").args(args).status()?;
    if !status.success() {
        bail!("cht record exited with {status}");
    }
    Ok(())
}
