//! `--on-frame` / `--on-segment`: run a command per event, off the
//! recording's threads. Commands run one at a time on their own thread; a
//! slow or failing command is logged and never blocks the recording (events
//! arriving while the queue is full are counted and skipped).

use cht_analyze::{Event, EventBus};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

const QUEUE: usize = 64;
const TIMEOUT: Duration = Duration::from_secs(120);

/// Which events a hook runs on, and the path it is given.
pub type Pick = fn(&Event) -> Option<&str>;

pub fn frame_path(e: &Event) -> Option<&str> {
    match e {
        Event::Frame { entry, .. } => Some(&entry.path),
        _ => None,
    }
}

pub fn segment_path(e: &Event) -> Option<&str> {
    match e {
        Event::SegmentFinished { path, .. } => Some(path),
        _ => None,
    }
}

pub fn spawn(
    name: &'static str,
    cmd: &str,
    bus: &EventBus,
    base: &Path,
    pick: Pick,
) -> anyhow::Result<JoinHandle<()>> {
    let argv = shlex::split(cmd)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| anyhow::anyhow!("cannot parse {name} command {cmd:?}"))?;
    let sub = bus.subscribe(QUEUE);
    let base = base.to_path_buf();
    let handle = std::thread::Builder::new()
        .name(format!("cht-hook-{name}"))
        .spawn(move || {
            for record in sub.events.iter() {
                if let Some(path) = pick(&record.event) {
                    run_one(name, &argv, &base.join(path));
                }
            }
            if sub.missed() > 0 {
                tracing::warn!(
                    "{name} hook: {} events skipped while commands were running",
                    sub.missed()
                );
            }
        })?;
    Ok(handle)
}

fn run_one(name: &str, argv: &[String], path: &PathBuf) {
    // The command's output goes to stderr: stdout carries the JSON events.
    let stdout = std::io::stderr().as_fd_stdio();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(stdout)
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => return tracing::warn!("{name} hook {:?} could not start: {e}", argv[0]),
    };
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                return tracing::warn!("{name} hook failed ({status}) on {}", path.display())
            }
            Ok(None) if Instant::now() > deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return tracing::warn!(
                    "{name} hook timed out after {TIMEOUT:?} on {}; killed",
                    path.display()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return tracing::warn!("{name} hook: {e}"),
        }
    }
}

trait AsStdio {
    fn as_fd_stdio(&self) -> Stdio;
}

impl AsStdio for std::io::Stderr {
    fn as_fd_stdio(&self) -> Stdio {
        use std::os::fd::AsFd;
        self.as_fd()
            .try_clone_to_owned()
            .map(Stdio::from)
            .unwrap_or_else(|_| Stdio::null())
    }
}
