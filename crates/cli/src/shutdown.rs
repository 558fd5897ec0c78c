//! Stopping `cht record` within a bound, whatever its hooks do.
//!
//! The first Ctrl-C or SIGTERM asks for a stop: the ingest finishes the
//! fragment in progress, the analysis drops its backlog, and hook commands
//! get until [`HOOK_GRACE`] after the request; then their process groups are
//! killed. Should anything still hold the exit up at [`EXIT_BOUND`] (say, a
//! transcription the end of a `--once` run was waiting for), a watchdog
//! kills every hook group, removes the token file and exits with status 1:
//! the recording is fragmented MP4, whole up to its last complete fragment.
//! A second Ctrl-C does the same at once. Either way cht is gone within 3 s.

use anyhow::Context;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Hook commands still running this long after the stop request are killed.
pub const HOOK_GRACE: Duration = Duration::from_secs(2);
/// The watchdog forces the exit this long after the stop request (the
/// promise is 3 s; this leaves room for a loaded machine).
pub const EXIT_BOUND: Duration = Duration::from_millis(2500);

/// The stop request and what must not outlive the process.
pub struct Shutdown {
    stop: Arc<AtomicBool>,
    requested: OnceLock<Instant>,
    /// Process groups of hook commands running now.
    groups: Mutex<HashSet<i32>>,
    /// Files to remove however the process ends (the control token).
    files: Mutex<Vec<PathBuf>>,
}

impl Shutdown {
    /// Installs the Ctrl-C/SIGTERM handler and the exit watchdog.
    pub fn install() -> anyhow::Result<Arc<Shutdown>> {
        let shutdown = Arc::new(Shutdown {
            stop: Arc::new(AtomicBool::new(false)),
            requested: OnceLock::new(),
            groups: Mutex::new(HashSet::new()),
            files: Mutex::new(Vec::new()),
        });
        let handler = shutdown.clone();
        ctrlc::set_handler(move || {
            if handler.requested.get().is_some() {
                eprintln!("cht: second interrupt, exiting now");
                handler.exit_now(130);
            }
            handler.request();
            eprintln!(
                "cht: stopping (finishing the current fragment; interrupt again to exit now)"
            );
        })
        .context("cannot install the Ctrl-C handler")?;
        let watchdog = shutdown.clone();
        std::thread::Builder::new()
            .name("cht-shutdown".into())
            .spawn(move || watchdog.watch())
            .context("cannot start the shutdown watchdog")?;
        Ok(shutdown)
    }

    /// The flag the ingest, the control API and the demo source poll.
    pub fn flag(&self) -> Arc<AtomicBool> {
        self.stop.clone()
    }

    fn request(&self) {
        let _ = self.requested.set(Instant::now());
        self.stop.store(true, Ordering::SeqCst);
    }

    /// Whether a stop was asked for (by a signal, not by the end of a run).
    pub fn requested(&self) -> bool {
        self.requested.get().is_some()
    }

    /// When running hooks must be killed; `None` while no stop is asked for.
    pub fn hook_deadline(&self) -> Option<Instant> {
        self.requested.get().map(|t| *t + HOOK_GRACE)
    }

    /// A hook command started in process group `group`.
    pub fn hook_started(&self, group: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.insert(group);
        }
    }

    /// The hook command of `group` has been reaped.
    pub fn hook_ended(&self, group: i32) {
        if let Ok(mut groups) = self.groups.lock() {
            groups.remove(&group);
        }
    }

    /// `path` is removed at exit, even a forced one.
    pub fn remove_at_exit(&self, path: PathBuf) {
        if let Ok(mut files) = self.files.lock() {
            files.push(path);
        }
    }

    fn watch(&self) {
        loop {
            std::thread::sleep(Duration::from_millis(20));
            if let Some(at) = self.requested.get() {
                if at.elapsed() >= EXIT_BOUND {
                    eprintln!(
                        "cht: still stopping after {:.1} s: exiting now (recordings are whole up to their last fragment)",
                        EXIT_BOUND.as_secs_f64()
                    );
                    self.exit_now(1);
                }
            }
        }
    }

    /// Kills every hook group, removes the files, exits.
    fn exit_now(&self, code: i32) -> ! {
        if let Ok(groups) = self.groups.lock() {
            for &group in groups.iter() {
                kill_group(group);
            }
        }
        // Commands started elsewhere (the transcription hook) lead groups
        // of their own too.
        for group in child_group_leaders() {
            kill_group(group);
        }
        if let Ok(files) = self.files.lock() {
            for file in files.iter() {
                let _ = std::fs::remove_file(file);
            }
        }
        std::process::exit(code)
    }
}

/// This process's children that lead a process group of their own (what
/// `process_group(0)` started), from /proc.
fn child_group_leaders() -> Vec<i32> {
    let me = std::process::id().to_string();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .filter_map(|e| e.ok())
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                return false;
            };
            // "pid (comm) state ppid pgrp ...": comm may hold anything.
            let mut fields = stat
                .rsplit_once(')')
                .map_or("", |(_, rest)| rest)
                .split_whitespace();
            let (ppid, pgrp) = (fields.nth(1), fields.next());
            ppid == Some(me.as_str()) && pgrp == Some(pid.to_string().as_str())
        })
        .collect()
}

/// SIGKILL to a whole process group.
pub fn kill_group(group: i32) {
    if let Some(pid) = rustix::process::Pid::from_raw(group) {
        let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
    }
}
