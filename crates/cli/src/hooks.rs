//! `--on-frame` / `--on-segment`: run a command per event, off the
//! recording's threads. Commands run one at a time on their own thread; a
//! slow or failing command is logged and never blocks the recording (events
//! arriving while the queue is full are counted and skipped).
//!
//! Each command runs in a process group of its own. When it exits, what it
//! left running in that group is killed; when it times out, or is still
//! running at the shutdown bound ([`crate::shutdown::HOOK_GRACE`] after
//! Ctrl-C/SIGTERM), the whole group is killed. Nothing a hook started
//! outlives cht (short of a command that leaves its group on purpose, with
//! `setsid`).

use crate::shutdown::{kill_group, Shutdown};
use cht_events::{Event, EventBus};
use rustix::process::{waitid, Pid, WaitId, WaitIdOptions};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
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
    shutdown: Arc<Shutdown>,
) -> anyhow::Result<JoinHandle<()>> {
    let argv = shlex::split(cmd)
        .filter(|a| !a.is_empty())
        .ok_or_else(|| anyhow::anyhow!("cannot parse {name} command {cmd:?}"))?;
    let sub = bus.subscribe(QUEUE);
    let base = base.to_path_buf();
    let handle = std::thread::Builder::new()
        .name(format!("cht-hook-{name}"))
        .spawn(move || {
            let mut skipped = 0u64;
            for record in sub.events.iter() {
                let Some(path) = pick(&record.event) else {
                    continue;
                };
                if shutdown
                    .hook_deadline()
                    .is_some_and(|d| Instant::now() >= d)
                {
                    skipped += 1;
                    continue;
                }
                run_one(name, &argv, &base.join(path), &shutdown);
            }
            if skipped > 0 {
                tracing::warn!("{name} hook: not run for {skipped} events at shutdown");
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

fn run_one(name: &str, argv: &[String], path: &PathBuf, shutdown: &Shutdown) {
    // The command's output goes to stderr: stdout carries the JSON events.
    let stdout = std::io::stderr().as_fd_stdio();
    let child = Command::new(&argv[0])
        .args(&argv[1..])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(stdout)
        .process_group(0)
        .spawn();
    let child = match child {
        Ok(c) => c,
        Err(e) => return tracing::warn!("{name} hook {:?} could not start: {e}", argv[0]),
    };
    let mut child = HookChild::new(child, shutdown);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(status)) if status.success() => return,
            Ok(Some(status)) => {
                return tracing::warn!("{name} hook failed ({status}) on {}", path.display())
            }
            Ok(None) if Instant::now() > deadline => {
                child.kill();
                return tracing::warn!(
                    "{name} hook timed out after {TIMEOUT:?} on {}; killed",
                    path.display()
                );
            }
            Ok(None)
                if shutdown
                    .hook_deadline()
                    .is_some_and(|d| Instant::now() >= d) =>
            {
                child.kill();
                return tracing::warn!(
                    "{name} hook still running on {} at shutdown; killed",
                    path.display()
                );
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => {
                child.kill();
                return tracing::warn!("{name} hook: {e}");
            }
        }
    }
}

/// A hook command, leader of its own process group, known to the shutdown
/// watchdog while it runs.
struct HookChild<'s> {
    child: Child,
    group: Option<Pid>,
    shutdown: &'s Shutdown,
}

impl<'s> HookChild<'s> {
    fn new(child: Child, shutdown: &'s Shutdown) -> Self {
        let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
        if let Some(g) = group {
            shutdown.hook_started(g.as_raw_nonzero().get());
        }
        HookChild {
            child,
            group,
            shutdown,
        }
    }

    /// The exit status once the command has exited; whatever it left
    /// running in its group is killed first.
    fn try_wait(&mut self) -> std::io::Result<Option<ExitStatus>> {
        let Some(group) = self.group else {
            return self.child.try_wait();
        };
        let options = WaitIdOptions::EXITED | WaitIdOptions::NOHANG | WaitIdOptions::NOWAIT;
        if waitid(WaitId::Pid(group), options)?.is_none() {
            return Ok(None);
        }
        // Not reaped yet, so the group id cannot have been reused.
        kill_group(group.as_raw_nonzero().get());
        let status = self.child.wait();
        self.forget();
        status.map(Some)
    }

    fn kill(&mut self) {
        match self.group {
            Some(group) => kill_group(group.as_raw_nonzero().get()),
            None => {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
        self.forget();
    }

    fn forget(&mut self) {
        if let Some(group) = self.group.take() {
            self.shutdown.hook_ended(group.as_raw_nonzero().get());
        }
    }
}

impl Drop for HookChild<'_> {
    fn drop(&mut self) {
        if self.group.is_some() {
            self.kill();
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
