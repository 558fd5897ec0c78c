//! `cht sessions list|show|delete`: read-only views of the sessions directory,
//! and deletion on request.

use crate::cli::{SessionsArgs, SessionsCommand};
use anyhow::{bail, Context};
use cht_session::{Layout, Session, SessionsDir};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{BufRead, IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Serialize)]
pub struct SessionSummary {
    pub id: String,
    pub path: PathBuf,
    pub segments: usize,
    /// Seconds, read from the recordings themselves.
    pub duration_secs: f64,
    pub frames: usize,
    pub audio_chunks: usize,
    pub transcripts: usize,
    pub bytes: u64,
    /// Segments that could not be read (damaged beyond the readable prefix).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<PathBuf>,
}

pub fn run(args: SessionsArgs, sessions_dir: PathBuf) -> anyhow::Result<()> {
    let dir = SessionsDir::new(sessions_dir);
    match args.command {
        SessionsCommand::List { json } => list(&dir, json),
        SessionsCommand::Show { id, json } => show(&dir, &id, json),
        SessionsCommand::Delete { ids, yes } => delete(&dir, &ids, yes),
    }
}

fn list(dir: &SessionsDir, json: bool) -> anyhow::Result<()> {
    let sessions = dir
        .list()
        .with_context(|| format!("cannot list {}", dir.root().display()))?;
    let summaries: Vec<SessionSummary> = sessions.iter().map(summarize).collect();
    if json {
        return crate::stdout_line(&serde_json::to_string_pretty(&summaries)?);
    }
    if summaries.is_empty() {
        return crate::stdout_line(&format!("no sessions in {}", dir.root().display()));
    }
    let mut out = String::new();
    writeln!(
        out,
        "{:<24} {:>8} {:>10} {:>7} {:>7} {:>10}",
        "ID", "SEGMENTS", "DURATION", "FRAMES", "CHUNKS", "SIZE"
    )?;
    for s in &summaries {
        writeln!(
            out,
            "{:<24} {:>8} {:>10} {:>7} {:>7} {:>10}",
            s.id,
            s.segments,
            format_duration(s.duration_secs),
            s.frames,
            s.audio_chunks,
            format_bytes(s.bytes)
        )?;
    }
    crate::stdout_line(out.trim_end())
}

fn show(dir: &SessionsDir, id: &str, json: bool) -> anyhow::Result<()> {
    let session = dir.open(id)?;
    let summary = summarize(&session);
    if json {
        return crate::stdout_line(&serde_json::to_string_pretty(&summary)?);
    }
    let mut out = String::new();
    writeln!(out, "session   {}", summary.id)?;
    writeln!(out, "path      {}", summary.path.display())?;
    writeln!(
        out,
        "segments  {} ({})",
        summary.segments,
        format_duration(summary.duration_secs)
    )?;
    for segment in session.segments().unwrap_or_default() {
        let (n, path) = (segment.number, segment.path);
        match cht_fmp4::probe(&path) {
            Ok(info) => writeln!(
                out,
                "  {n:03}  {:>10}  {}{}",
                format_duration(info.duration_seconds),
                path.display(),
                if info.truncated_tail {
                    "  (truncated tail: recording was interrupted)"
                } else {
                    ""
                }
            )?,
            Err(e) => writeln!(out, "  {n:03}  unreadable: {e}")?,
        }
    }
    writeln!(out, "frames    {}", summary.frames)?;
    writeln!(out, "audio     {} chunks", summary.audio_chunks)?;
    writeln!(out, "transcripts {}", summary.transcripts)?;
    writeln!(out, "size      {}", format_bytes(summary.bytes))?;
    crate::stdout_line(out.trim_end())
}

fn delete(dir: &SessionsDir, ids: &[String], yes: bool) -> anyhow::Result<()> {
    // Validate every id before deleting anything.
    let sessions: Vec<Session> = ids
        .iter()
        .map(|id| dir.open(id))
        .collect::<Result<_, _>>()?;
    // A session being recorded (or analysed into) is not deleted: its
    // lock names the process. The locks are held until the deletion.
    let _locks = sessions
        .iter()
        .map(|s| s.layout().lock_for_update())
        .collect::<Result<Vec<_>, _>>()?;
    if !yes {
        if !std::io::stdin().is_terminal() {
            bail!("refusing to delete without confirmation: pass --yes");
        }
        let names: Vec<&str> = sessions.iter().map(|s| s.id.as_str()).collect();
        eprint!(
            "delete {} session(s): {}? [y/N] ",
            names.len(),
            names.join(", ")
        );
        std::io::stderr().flush()?;
        let mut answer = String::new();
        std::io::stdin().lock().read_line(&mut answer)?;
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            eprintln!("nothing deleted");
            return Ok(());
        }
    }
    for s in sessions {
        // A session that is a symlink (inside the sessions dir) loses the link only.
        let meta = std::fs::symlink_metadata(&s.path)?;
        if meta.file_type().is_symlink() {
            std::fs::remove_file(&s.path)
        } else {
            std::fs::remove_dir_all(&s.path)
        }
        .with_context(|| format!("cannot delete {}", s.path.display()))?;
        crate::stdout_line(&format!("deleted {}", s.id))?;
    }
    Ok(())
}

pub fn summarize(session: &Session) -> SessionSummary {
    let segments = session.segments().unwrap_or_default();
    let mut duration_secs = 0.0;
    let mut unreadable = Vec::new();
    for segment in &segments {
        match cht_fmp4::probe(&segment.path) {
            Ok(info) => duration_secs += info.duration_seconds,
            Err(_) => unreadable.push(segment.path.clone()),
        }
    }
    SessionSummary {
        id: session.id.to_string(),
        path: session.path.clone(),
        segments: segments.len(),
        duration_secs,
        frames: json_array_len(&Layout::index_of(&session.frames_dir())),
        audio_chunks: json_array_len(&Layout::index_of(&session.audio_dir())),
        transcripts: json_array_len(&Layout::index_of(&session.transcript_dir())),
        bytes: session.layout().disk_size(),
        unreadable,
    }
}

fn json_array_len(path: &Path) -> usize {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<Vec<serde_json::Value>>(&b).ok())
        .map_or(0, |v| v.len())
}

fn format_duration(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

fn format_bytes(b: u64) -> String {
    match b {
        b if b >= 1 << 30 => format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64),
        b if b >= 1 << 20 => format!("{:.1} MiB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{:.1} KiB", b as f64 / 1024.0),
        b => format!("{b} B"),
    }
}
