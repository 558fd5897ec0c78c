//! `cargo xtask demo`: watch cht work with no sender of your own. Runs
//! `cht record --demo` (the built-in sender: synthetic slides, a pointer,
//! typing and a sound loop, encoded in-process and sent over TCP) for a
//! while, then shows the session it recorded.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use std::process::Command;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let secs: u32 = match args.iter().position(|a| a == "--secs") {
        Some(i) => args.get(i + 1).context("--secs needs a number")?.parse()?,
        None => 20,
    };
    let cht = crate::build_cht()?;
    let sessions = std::env::var("CHT_SESSIONS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from("sessions"));
    eprintln!("xtask demo: recording the built-in demo source for {secs} s (watch live: mpv udp://127.0.0.1:4445)");
    let status = Command::new(&cht)
        .args([
            "record",
            "--demo",
            "--demo-duration",
            &format!("{secs}s"),
            "--control",
            "off",
            "--sessions-dir",
        ])
        .arg(&sessions)
        .status()
        .context("cannot start cht record")?;
    if !status.success() {
        bail!("cht record exited with {status}");
    }
    let session = newest_session(&sessions)?;
    let id = session
        .file_name()
        .and_then(|n| n.to_str())
        .context("session name")?;
    crate::run(
        Command::new(&cht)
            .arg("--sessions-dir")
            .arg(&sessions)
            .args(["sessions", "show", id]),
    )?;
    eprintln!(
        "xtask demo: frames in {}, audio chunks in {}",
        session.join("frames").display(),
        session.join("audio").display()
    );
    Ok(())
}

fn newest_session(dir: &Path) -> anyhow::Result<PathBuf> {
    // The one just created is the most recently modified.
    std::fs::read_dir(dir)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .max_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
        .with_context(|| format!("no session in {}", dir.display()))
}
