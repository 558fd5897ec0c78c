//! Who writes a session now: the lock file `<session>/.lock`.
//!
//! Every `index.json` of a session has one writer at a time (it keeps the
//! entries in memory and rewrites the file). A `cht record` holds the lock
//! for as long as it records, with a description of itself in the file (its
//! process id and control API address), so that any other process knows the
//! session is being recorded now and where to send changes (marking frames
//! as sent goes through the recorder's API). A process that changes a
//! finished session (`cht serve`, `cht mcp`) holds the lock only for that
//! change and writes nothing into the file.
//!
//! The lock is an advisory `flock` on the open file: the kernel releases it
//! when the process exits, even by a crash, so a lock is never stale (the
//! description a crashed recorder left is ignored, as no lock holds it).
//! The holder removes the file when it lets go (a taker checks that the
//! file it locked is still the one at the path, and starts again if not),
//! so a session nobody writes has no lock file.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::SessionError;

/// The lock file in a session directory.
pub const LOCK_FILE: &str = ".lock";

/// How long [`SessionLock::for_update`] waits for another short update.
const UPDATE_WAIT: Duration = Duration::from_millis(500);
/// Longest description read.
const MAX_DESCRIPTION: u64 = 4096;

/// The `cht record` process recording a session, as it describes itself in
/// the lock file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecorderInfo {
    /// Its process id.
    pub pid: u32,
    /// Its control API address (`127.0.0.1:4446`), if it serves one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<String>,
    /// When it started recording this session, seconds since the Unix epoch.
    pub since: f64,
}

impl RecorderInfo {
    /// This process, from now, with no control API yet.
    pub fn this_process() -> Self {
        RecorderInfo {
            pid: std::process::id(),
            control: None,
            since: crate::unix_now(),
        }
    }
}

/// A held lock on a session; released when dropped.
#[derive(Debug)]
pub struct SessionLock {
    file: File,
    path: PathBuf,
}

/// How taking the lock went, once.
enum Attempt {
    Held(File),
    Busy(File),
    /// The file was removed by its last holder meanwhile: open it again.
    Gone,
}

/// Opens the lock file and tries to lock it exclusively.
fn attempt(path: &Path) -> Result<Attempt, SessionError> {
    let file = open(path)?;
    match file.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => return Ok(Attempt::Busy(file)),
        Err(TryLockError::Error(e)) => return Err(SessionError::io(path, e)),
    }
    let same = match (file.metadata(), std::fs::metadata(path)) {
        (Ok(held), Ok(now)) => held.ino() == now.ino() && held.dev() == now.dev(),
        _ => false,
    };
    Ok(if same {
        Attempt::Held(file)
    } else {
        Attempt::Gone
    })
}

impl SessionLock {
    /// Takes the session for recording, describing the recorder in the file.
    /// Fails with [`SessionError::Busy`] if any process holds it.
    pub fn for_recording(root: &Path, info: &RecorderInfo) -> Result<Self, SessionError> {
        let path = root.join(LOCK_FILE);
        let file = loop {
            match attempt(&path)? {
                Attempt::Held(file) => break file,
                Attempt::Busy(mut file) => return Err(busy(root, &mut file)),
                Attempt::Gone => continue,
            }
        };
        let mut lock = SessionLock { file, path };
        lock.describe(info)
            .map_err(|e| SessionError::io(&lock.path, e))?;
        Ok(lock)
    }

    /// Takes the session for one short change (marking frames as sent),
    /// waiting a moment for another short change to end. Fails with
    /// [`SessionError::Busy`] while a recorder holds it.
    pub fn for_update(root: &Path) -> Result<Self, SessionError> {
        let path = root.join(LOCK_FILE);
        let deadline = std::time::Instant::now() + UPDATE_WAIT;
        let file = loop {
            match attempt(&path)? {
                Attempt::Held(file) => break file,
                Attempt::Gone => continue,
                Attempt::Busy(mut file) => {
                    if read_description(&mut file).is_some()
                        || std::time::Instant::now() >= deadline
                    {
                        return Err(busy(root, &mut file));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
        };
        // What a crashed recorder left describes nobody.
        if file.metadata().is_ok_and(|m| m.len() > 0) {
            let _ = file.set_len(0);
        }
        Ok(SessionLock { file, path })
    }

    /// Replaces the recorder's description (e.g. once its control API
    /// listens).
    pub fn describe(&mut self, info: &RecorderInfo) -> std::io::Result<()> {
        let text = serde_json::to_vec(info).map_err(std::io::Error::other)?;
        self.file.set_len(0)?;
        self.file.seek(SeekFrom::Start(0))?;
        self.file.write_all(&text)?;
        self.file.flush()
    }
}

impl Drop for SessionLock {
    /// Removes the file while still holding it, then lets go.
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The recorder recording the session at `root` now, if any.
pub fn recorder_of(root: &Path) -> Option<RecorderInfo> {
    let mut file = File::open(root.join(LOCK_FILE)).ok()?;
    match file.try_lock_shared() {
        Ok(()) => {
            let _ = file.unlock();
            None
        }
        Err(TryLockError::WouldBlock) => read_description(&mut file),
        Err(TryLockError::Error(_)) => None,
    }
}

fn open(path: &Path) -> Result<File, SessionError> {
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|e| SessionError::io(path, e))
}

fn read_description(file: &mut File) -> Option<RecorderInfo> {
    let mut text = Vec::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.take(MAX_DESCRIPTION).read_to_end(&mut text).ok()?;
    serde_json::from_slice(&text).ok()
}

fn busy(root: &Path, file: &mut File) -> SessionError {
    SessionError::Busy {
        dir: root.to_path_buf(),
        recorder: read_description(file),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_recorder_excludes_writers_and_is_seen_until_it_lets_go() {
        let dir = tempfile::tempdir().expect("tempdir");
        assert_eq!(recorder_of(dir.path()), None, "no lock file yet");
        let mut info = RecorderInfo::this_process();
        let mut recording = SessionLock::for_recording(dir.path(), &info).expect("lock");
        assert_eq!(recorder_of(dir.path()), Some(info.clone()));
        info.control = Some("127.0.0.1:4446".into());
        recording.describe(&info).expect("describe");
        assert_eq!(
            recorder_of(dir.path()).and_then(|r| r.control),
            Some("127.0.0.1:4446".into())
        );
        match SessionLock::for_update(dir.path()) {
            Err(SessionError::Busy { recorder, .. }) => assert_eq!(recorder, Some(info.clone())),
            other => panic!("expected busy, got {other:?}"),
        }
        assert!(matches!(
            SessionLock::for_recording(dir.path(), &info),
            Err(SessionError::Busy { .. })
        ));
        drop(recording);
        assert_eq!(recorder_of(dir.path()), None);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let update = SessionLock::for_update(dir.path()).expect("free");
        assert_eq!(
            recorder_of(dir.path()),
            None,
            "a short update is no recorder"
        );
        drop(update);
    }

    #[test]
    fn a_description_left_by_a_crash_describes_nobody() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(LOCK_FILE),
            br#"{"pid":1,"control":"127.0.0.1:1","since":1.0}"#,
        )
        .expect("write");
        assert_eq!(recorder_of(dir.path()), None);
        drop(SessionLock::for_update(dir.path()).expect("not busy"));
        assert!(
            !dir.path().join(LOCK_FILE).exists(),
            "nobody holds it: no file"
        );
    }
}
