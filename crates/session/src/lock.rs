//! One writer per session: the lock a recorder (or an analysis writing into
//! the session) holds while it runs.
//!
//! `<session>/.lock` is `flock`ed exclusively and holds the owner's pid.
//! The kernel drops a `flock` when its process dies, however it dies, so a
//! lock left behind by a killed process is simply taken over; the pid in
//! the file only names the owner in the refusal.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::fcntl::{Flock, FlockArg};

use crate::SessionError;

/// The lock file's name in a session directory.
pub const LOCK_FILE: &str = ".lock";

/// A held session lock; released (and its file removed) when dropped.
#[derive(Debug)]
pub struct SessionLock {
    path: PathBuf,
    file: Option<Flock<File>>,
}

impl SessionLock {
    /// Takes the lock of the session in `dir` (id `id`), or says which
    /// process holds it.
    pub fn acquire(dir: &Path, id: &str) -> Result<Self, SessionError> {
        let path = dir.join(LOCK_FILE);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| SessionError::io(&path, e))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(mut held) => {
                let pid = std::process::id().to_string();
                held.set_len(0)
                    .and_then(|_| held.rewind())
                    .and_then(|_| held.write_all(pid.as_bytes()))
                    .and_then(|_| held.flush())
                    .map_err(|e| SessionError::io(&path, e))?;
                Ok(SessionLock {
                    path,
                    file: Some(held),
                })
            }
            Err((mut file, nix::errno::Errno::EWOULDBLOCK)) => {
                let mut text = String::new();
                let _ = file.read_to_string(&mut text);
                Err(SessionError::Locked {
                    id: id.to_string(),
                    pid: text.trim().parse().unwrap_or(0),
                    path,
                })
            }
            Err((_, errno)) => Err(SessionError::io(&path, std::io::Error::from(errno))),
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for SessionLock {
    fn drop(&mut self) {
        // Removed while still held, so no other process can be holding it.
        let _ = std::fs::remove_file(&self.path);
        drop(self.file.take());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_named_by_pid_and_released_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let lock = SessionLock::acquire(dir.path(), "s").expect("first");
        let pid = std::fs::read_to_string(lock.path()).expect("pid");
        assert_eq!(pid, std::process::id().to_string());
        match SessionLock::acquire(dir.path(), "s") {
            Err(SessionError::Locked { pid, .. }) => assert_eq!(pid, std::process::id()),
            other => panic!("{other:?}"),
        }
        drop(lock);
        assert!(!dir.path().join(LOCK_FILE).exists());
        let again = SessionLock::acquire(dir.path(), "s").expect("free again");
        drop(again);
    }

    #[test]
    fn a_lock_file_nobody_holds_is_taken_over() {
        let dir = tempfile::tempdir().expect("tempdir");
        // What a killed recorder leaves: the file, with its (dead) pid.
        std::fs::write(dir.path().join(LOCK_FILE), b"999999").expect("stale");
        let lock = SessionLock::acquire(dir.path(), "s").expect("taken over");
        let pid = std::fs::read_to_string(lock.path()).expect("pid");
        assert_eq!(pid, std::process::id().to_string());
    }
}
