//! `cargo xtask demo`: watch cht record with no sender of your own. It starts
//! `cht record`, plays the bundled clip into it over TCP at real-time pace
//! (pure Rust, no ffmpeg), then probes the session it recorded.

use anyhow::{bail, Context};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const CLIP: &str = "tests/fixtures/av_high.ts";
const CLIP_SECS: f64 = 10.0;

pub fn run(args: &[String]) -> anyhow::Result<()> {
    let fast = args.iter().any(|a| a == "--fast");
    let cht = crate::build_cht()?;
    let clip = std::fs::read(crate::root().join(CLIP)).with_context(|| format!("cannot read {CLIP}"))?;
    let sessions = std::env::var("CHT_SESSIONS_DIR").map(PathBuf::from).unwrap_or_else(|_| PathBuf::from("sessions"));
    let port = free_port()?;
    let addr = format!("127.0.0.1:{port}");
    let mut child = Command::new(&cht)
        .args(["record", "--once", "--listen", &addr, "--sessions-dir"])
        .arg(&sessions)
        .spawn()
        .context("cannot start cht record")?;
    let mut conn = connect(&addr)?;
    eprintln!("xtask demo: sending {CLIP} ({} bytes) to tcp://{addr}{}", clip.len(), if fast { "" } else { " in real time" });
    send_paced(&mut conn, &clip, if fast { 0.0 } else { CLIP_SECS })?;
    drop(conn);
    let status = child.wait()?;
    if !status.success() {
        bail!("cht record exited with {status}");
    }
    let session = newest_session(&sessions)?;
    eprintln!("xtask demo: recorded into {}", session.display());
    crate::run(Command::new(&cht).arg("probe").arg(&session))
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn connect(addr: &str) -> anyhow::Result<TcpStream> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match TcpStream::connect(addr) {
            Ok(s) => return Ok(s),
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => bail!("cht record did not start listening on {addr}: {e}"),
        }
    }
}

fn send_paced(conn: &mut TcpStream, data: &[u8], secs: f64) -> anyhow::Result<()> {
    let start = Instant::now();
    let chunk = 188 * 70;
    for (i, piece) in data.chunks(chunk).enumerate() {
        if secs > 0.0 {
            let due = Duration::from_secs_f64(secs * (i * chunk) as f64 / data.len() as f64);
            if let Some(wait) = due.checked_sub(start.elapsed()) {
                std::thread::sleep(wait);
            }
        }
        conn.write_all(piece)?;
    }
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
