//! Running a speech-to-text command on each finished chunk, off the caller's
//! thread.
//!
//! The caller only enqueues (never waits): the queue is bounded and a full
//! queue drops the chunk with a warning and a count. One worker runs the
//! command per chunk, with the chunk path as last argument, kills it after a
//! timeout, and stores its stdout as `transcript/chunk_NNNN.txt`, listed in
//! `transcript/index.json`. Both files appear atomically.
//!
//! The command runs in a process group of its own: a timeout or a stop
//! kills it with everything it started, and what it leaves running when it
//! exits is killed too, so no transcriber outlives cht.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, waitid, Pid, Signal, WaitId, WaitIdOptions};
use serde_json::json;

use crate::chunker::ChunkInfo;
use crate::error::{AudioError, Result};
use crate::index::{write_atomically, JsonIndex};

/// What the hook did so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HookStats {
    /// Chunks handed to the command.
    pub submitted: u64,
    /// Transcripts written.
    pub completed: u64,
    /// Commands that could not start, exited non-zero, or whose output could not be stored.
    pub failed: u64,
    /// Commands killed after the timeout.
    pub timed_out: u64,
    /// Chunks dropped because the queue was full.
    pub dropped: u64,
}

#[derive(Default)]
struct Counters {
    submitted: AtomicU64,
    completed: AtomicU64,
    failed: AtomicU64,
    timed_out: AtomicU64,
    dropped: AtomicU64,
    /// Set on drop: stop after (and cut short) the current command.
    abandon: AtomicBool,
}

impl Counters {
    fn snapshot(&self) -> HookStats {
        HookStats {
            submitted: self.submitted.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            timed_out: self.timed_out.load(Ordering::Relaxed),
            dropped: self.dropped.load(Ordering::Relaxed),
        }
    }
}

/// A transcription command run on every chunk handed to [`submit`](Self::submit).
pub struct TranscriptHook {
    queue: Option<SyncSender<ChunkInfo>>,
    worker: Option<JoinHandle<()>>,
    counters: Arc<Counters>,
}

/// A transcript that was written: the chunk, and the transcript's path
/// relative to the session (`transcript/chunk_0000.txt`).
pub type TranscriptDone = Box<dyn FnMut(&ChunkInfo, &str) + Send>;

/// Everything the worker needs.
struct Worker {
    on_done: Option<TranscriptDone>,
    argv: Vec<String>,
    dir: PathBuf,
    dir_name: String,
    timeout: Duration,
    index: JsonIndex,
    counters: Arc<Counters>,
}

/// How one command run ended.
enum Outcome {
    Exited(ExitStatus, Vec<u8>, String),
    TimedOut,
    Abandoned,
}

impl TranscriptHook {
    /// How long one run of the command may take before it is killed.
    pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(120);
    /// Chunks waiting for the command at most; later ones are dropped and counted.
    pub const DEFAULT_QUEUE: usize = 8;

    /// `cmd` is split shell-like (quotes, no shell); the chunk path is
    /// appended as the last argument.
    pub fn new(cmd: String, transcript_dir: impl Into<PathBuf>) -> Result<Self> {
        Self::with_limits(
            cmd,
            transcript_dir,
            Self::DEFAULT_TIMEOUT,
            Self::DEFAULT_QUEUE,
        )
    }

    /// A hook with its own timeout and queue length.
    pub fn with_limits(
        cmd: String,
        transcript_dir: impl Into<PathBuf>,
        timeout: Duration,
        queue_len: usize,
    ) -> Result<Self> {
        Self::spawn(cmd, transcript_dir.into(), timeout, queue_len, None)
    }

    /// Like [`new`](Self::new), calling `on_done` on the worker thread after
    /// each transcript is stored.
    pub fn with_callback(
        cmd: String,
        transcript_dir: impl Into<PathBuf>,
        on_done: TranscriptDone,
    ) -> Result<Self> {
        Self::spawn(
            cmd,
            transcript_dir.into(),
            Self::DEFAULT_TIMEOUT,
            Self::DEFAULT_QUEUE,
            Some(on_done),
        )
    }

    fn spawn(
        cmd: String,
        transcript_dir: PathBuf,
        timeout: Duration,
        queue_len: usize,
        on_done: Option<TranscriptDone>,
    ) -> Result<Self> {
        let argv = shlex::split(&cmd)
            .filter(|a| !a.is_empty())
            .ok_or(AudioError::BadCommand(cmd))?;
        let dir: PathBuf = transcript_dir;
        std::fs::create_dir_all(&dir).map_err(AudioError::io(&dir))?;
        let index = JsonIndex::load(dir.join("index.json"))?;
        let dir_name = dir.file_name().map_or_else(
            || "transcript".to_owned(),
            |n| n.to_string_lossy().into_owned(),
        );
        let counters = Arc::new(Counters::default());
        let (queue, jobs) = sync_channel(queue_len.max(1));
        let worker = Worker {
            on_done,
            argv,
            dir,
            dir_name,
            timeout,
            index,
            counters: counters.clone(),
        };
        let handle = thread::Builder::new()
            .name("cht-transcribe".into())
            .spawn(move || worker.run(jobs))
            .map_err(AudioError::io("<transcription worker thread>"))?;
        Ok(TranscriptHook {
            queue: Some(queue),
            worker: Some(handle),
            counters,
        })
    }

    /// Queues `chunk` for transcription. Never blocks: a full queue drops it.
    pub fn submit(&self, chunk: &ChunkInfo) {
        self.counters.submitted.fetch_add(1, Ordering::Relaxed);
        let Some(queue) = &self.queue else { return };
        match queue.try_send(chunk.clone()) {
            Ok(()) => {}
            Err(TrySendError::Full(c)) => {
                self.counters.dropped.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(chunk = %c.id, "transcription queue full; chunk not transcribed");
            }
            Err(TrySendError::Disconnected(c)) => {
                self.counters.failed.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(chunk = %c.id, "transcription worker is gone; chunk not transcribed");
            }
        }
    }

    /// What the hook did so far.
    pub fn stats(&self) -> HookStats {
        self.counters.snapshot()
    }

    /// Waits until every queued chunk has been transcribed (or failed).
    pub fn finish(mut self) -> HookStats {
        self.queue.take();
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
        self.counters.snapshot()
    }
}

impl Drop for TranscriptHook {
    /// Stops without draining the queue: the running command is killed.
    fn drop(&mut self) {
        self.counters.abandon.store(true, Ordering::Relaxed);
        self.queue.take();
        if let Some(h) = self.worker.take() {
            let _ = h.join();
        }
    }
}

impl Worker {
    fn run(mut self, jobs: Receiver<ChunkInfo>) {
        for chunk in jobs {
            if self.counters.abandon.load(Ordering::Relaxed) {
                break;
            }
            self.transcribe(&chunk);
        }
    }

    fn transcribe(&mut self, chunk: &ChunkInfo) {
        let started = Instant::now();
        match self.run_command(&chunk.path) {
            Ok(Outcome::Exited(status, stdout, _)) if status.success() => {
                match self.store(chunk, &stdout) {
                    Ok(()) => {
                        self.counters.completed.fetch_add(1, Ordering::Relaxed);
                        let path = format!("{}/{}.txt", self.dir_name, chunk.id);
                        if let Some(done) = self.on_done.as_mut() {
                            done(chunk, &path);
                        }
                        tracing::debug!(chunk = %chunk.id, secs = started.elapsed().as_secs_f64(), "transcribed");
                    }
                    Err(e) => self.fail(chunk, &format!("could not store transcript: {e}")),
                }
            }
            Ok(Outcome::Exited(status, _, stderr)) => self.fail(
                chunk,
                &format!("command failed ({status}): {}", tail(&stderr, 400)),
            ),
            Ok(Outcome::TimedOut) => {
                self.counters.timed_out.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(chunk = %chunk.id, timeout = ?self.timeout, "transcription command timed out; killed");
            }
            Ok(Outcome::Abandoned) => {}
            Err(e) => self.fail(chunk, &format!("command could not run: {e}")),
        }
    }

    fn fail(&self, chunk: &ChunkInfo, why: &str) {
        self.counters.failed.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(chunk = %chunk.id, "transcription: {why}");
    }

    fn run_command(&self, chunk_path: &Path) -> std::io::Result<Outcome> {
        let mut child = GroupChild::spawn(
            Command::new(&self.argv[0])
                .args(&self.argv[1..])
                .arg(chunk_path)
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped()),
        )?;
        // Pipes are drained on their own threads so a chatty command cannot
        // fill a pipe and stall before the timeout.
        let stdout = read_in_background(child.child.stdout.take());
        let stderr = read_in_background(child.child.stderr.take());
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            if let Some(status) = child.try_wait()? {
                break status;
            }
            if self.counters.abandon.load(Ordering::Relaxed) {
                child.kill();
                return Ok(Outcome::Abandoned);
            }
            if Instant::now() >= deadline {
                child.kill();
                return Ok(Outcome::TimedOut);
            }
            thread::sleep(POLL);
        };
        let out = stdout.join().unwrap_or_default();
        let err = stderr.join().unwrap_or_default();
        Ok(Outcome::Exited(
            status,
            out,
            String::from_utf8_lossy(&err).into_owned(),
        ))
    }

    fn store(&mut self, chunk: &ChunkInfo, text: &[u8]) -> Result<()> {
        let name = format!("{}.txt", chunk.id);
        write_atomically(&self.dir.join(&name), text)?;
        self.index.append(json!({
            "id": chunk.id,
            "path": format!("{}/{name}", self.dir_name),
            "chunk": chunk.rel_path,
            "segment": chunk.segment,
            "start": chunk.start,
            "duration": chunk.duration,
            "session_start": chunk.session_start,
        }))
    }
}

fn read_in_background<R: Read + Send + 'static>(pipe: Option<R>) -> JoinHandle<Vec<u8>> {
    thread::spawn(move || {
        let mut buf = Vec::new();
        if let Some(mut p) = pipe {
            let _ = p.read_to_end(&mut buf);
        }
        buf
    })
}

/// How often a running command is looked at.
const POLL: Duration = Duration::from_millis(20);

/// A command in a process group of its own, so that it and everything it
/// started are killed together.
struct GroupChild {
    child: Child,
    group: Option<Pid>,
}

impl GroupChild {
    fn spawn(command: &mut Command) -> std::io::Result<Self> {
        let child = command.process_group(0).spawn()?;
        let group = i32::try_from(child.id()).ok().and_then(Pid::from_raw);
        Ok(GroupChild { child, group })
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
        let _ = kill_process_group(group, Signal::KILL);
        self.child.wait().map(Some)
    }

    fn kill(&mut self) {
        match self.group {
            Some(group) => {
                let _ = kill_process_group(group, Signal::KILL);
            }
            None => {
                let _ = self.child.kill();
            }
        }
        let _ = self.child.wait();
    }
}

fn tail(s: &str, max: usize) -> &str {
    let s = s.trim_end();
    let mut start = s.len().saturating_sub(max);
    while !s.is_char_boundary(start) {
        start += 1;
    }
    &s[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(dir: &Path, n: u32) -> ChunkInfo {
        let path = dir.join(format!("chunk_{n:04}.wav"));
        std::fs::write(&path, b"RIFF").expect("write");
        ChunkInfo {
            id: format!("chunk_{n:04}"),
            number: n,
            path,
            rel_path: format!("audio/chunk_{n:04}.wav"),
            start: n as f64 * 10.0,
            session_start: 100.0 + n as f64 * 10.0,
            duration: 10.0,
            segment: 0,
            frames: 160_000,
            sample_rate: 16_000,
            channels: 1,
        }
    }

    #[test]
    fn stores_stdout_and_indexes_it() {
        let dir = tempfile::tempdir().expect("tempdir");
        let transcripts = dir.path().join("transcript");
        let hook = TranscriptHook::new(
            r#"sh -c 'echo "words of $(basename "$1")"' hook"#.into(),
            &transcripts,
        )
        .expect("hook");
        hook.submit(&chunk(dir.path(), 0));
        hook.submit(&chunk(dir.path(), 1));
        let stats = hook.finish();
        assert_eq!((stats.completed, stats.failed, stats.dropped), (2, 0, 0));
        let text = std::fs::read_to_string(transcripts.join("chunk_0001.txt")).expect("txt");
        assert_eq!(text, "words of chunk_0001.wav\n");
        let index: serde_json::Value =
            serde_json::from_slice(&std::fs::read(transcripts.join("index.json")).expect("index"))
                .expect("json");
        assert_eq!(index[1]["path"], "transcript/chunk_0001.txt");
        assert_eq!(index[1]["chunk"], "audio/chunk_0001.wav");
        assert_eq!(index[1]["start"], 10.0);
        assert_eq!(index[1]["segment"], 0);
        assert_eq!(index[1]["session_start"], 110.0);
    }

    #[test]
    fn failures_and_timeouts_are_counted_not_stored() {
        let dir = tempfile::tempdir().expect("tempdir");
        let failing = TranscriptHook::new(
            "sh -c 'echo oops >&2; exit 3' x".into(),
            dir.path().join("t1"),
        )
        .expect("hook");
        failing.submit(&chunk(dir.path(), 0));
        assert_eq!(failing.finish().failed, 1);
        assert!(!dir.path().join("t1/chunk_0000.txt").exists());

        let slow = TranscriptHook::with_limits(
            "sh -c 'exec sleep 30' x".into(),
            dir.path().join("t2"),
            Duration::from_millis(200),
            4,
        )
        .expect("hook");
        let t = Instant::now();
        slow.submit(&chunk(dir.path(), 0));
        let stats = slow.finish();
        assert_eq!(stats.timed_out, 1);
        assert!(t.elapsed() < Duration::from_secs(10));
        assert!(!dir.path().join("t2/chunk_0000.txt").exists());
    }

    #[test]
    fn a_timed_out_command_leaves_nothing_running() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pid_file = dir.path().join("grandchild.pid");
        // The shell starts a grandchild and waits: killing only the shell
        // would leave `sleep` running.
        let cmd = format!(
            "sh -c 'sleep 30 & echo $! > {}; wait' x",
            pid_file.display()
        );
        let hook =
            TranscriptHook::with_limits(cmd, dir.path().join("t"), Duration::from_millis(300), 1)
                .expect("hook");
        hook.submit(&chunk(dir.path(), 0));
        assert_eq!(hook.finish().timed_out, 1);
        let pid = std::fs::read_to_string(&pid_file).expect("pid file");
        let stat = format!("/proc/{}/stat", pid.trim());
        // Gone, or a zombie waiting for init to reap it (SIGKILL takes
        // effect when the process is next scheduled: give it a moment).
        let running = || std::fs::read_to_string(&stat).is_ok_and(|s| !s.contains(") Z "));
        let deadline = Instant::now() + Duration::from_secs(2);
        while running() && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(10));
        }
        let alive = running();
        assert!(!alive, "the command's child {pid} outlived it");
    }

    #[test]
    fn a_full_queue_drops_without_blocking() {
        let dir = tempfile::tempdir().expect("tempdir");
        let hook = TranscriptHook::with_limits(
            "sh -c 'exec sleep 30' x".into(),
            dir.path().join("t"),
            Duration::from_millis(300),
            1,
        )
        .expect("hook");
        let t = Instant::now();
        for n in 0..6 {
            hook.submit(&chunk(dir.path(), n));
        }
        assert!(t.elapsed() < Duration::from_millis(100), "submit blocked");
        let stats = hook.stats();
        assert_eq!(stats.submitted, 6);
        assert!(stats.dropped >= 4, "{stats:?}");
        drop(hook);
    }

    #[test]
    fn rejects_an_empty_or_unbalanced_command() {
        assert!(matches!(
            TranscriptHook::new("".into(), "/tmp/x"),
            Err(AudioError::BadCommand(_))
        ));
        assert!(matches!(
            TranscriptHook::new("echo 'oops".into(), "/tmp/x"),
            Err(AudioError::BadCommand(_))
        ));
    }
}
