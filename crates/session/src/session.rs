//! Sessions on disk.

use crate::layout::{Layout, Segment};
use crate::{SessionError, SessionId};
use std::fs;
use std::path::{Path, PathBuf};

/// The directory that holds all sessions (`--sessions-dir`, `CHT_SESSIONS_DIR`).
#[derive(Debug, Clone)]
pub struct SessionsDir {
    root: PathBuf,
}

impl SessionsDir {
    /// The sessions under `root` (which need not exist yet).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        SessionsDir { root: root.into() }
    }

    /// The directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Creates a new session named after the local time. Two sessions started
    /// in the same second get `_2`, `_3`, ... rather than sharing a directory.
    pub fn create_new(&self) -> Result<Session, SessionError> {
        fs::create_dir_all(&self.root).map_err(|e| SessionError::io(&self.root, e))?;
        let base = SessionId::now();
        for n in 1..1000 {
            let id = if n == 1 {
                base.clone()
            } else {
                SessionId::parse(&format!("{base}_{n}"))?
            };
            let path = self.root.join(id.as_str());
            match fs::create_dir(&path) {
                Ok(()) => {
                    let session = Session { id, path };
                    session.ensure_layout()?;
                    return Ok(session);
                }
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(SessionError::io(path, e)),
            }
        }
        Err(SessionError::InvalidId {
            id: base.to_string(),
            reason: "too many sessions in one second",
        })
    }

    /// Opens an existing session without creating or writing anything.
    pub fn open(&self, id: &str) -> Result<Session, SessionError> {
        let id = SessionId::parse(id)?;
        let path = self.root.join(id.as_str());
        if !path.is_dir() {
            return Err(SessionError::NotFound {
                id: id.to_string(),
                dir: self.root.clone(),
            });
        }
        self.check_inside(&id, &path)?;
        Ok(Session { id, path })
    }

    /// Opens an existing session for writing (resume): missing subdirectories
    /// are recreated.
    pub fn resume(&self, id: &str) -> Result<Session, SessionError> {
        let session = self.open(id)?;
        session.ensure_layout()?;
        Ok(session)
    }

    /// All sessions, newest first (ids sort by their timestamp).
    pub fn list(&self) -> Result<Vec<Session>, SessionError> {
        let entries = match fs::read_dir(&self.root) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(SessionError::io(&self.root, e)),
        };
        let mut sessions: Vec<Session> = entries
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .filter_map(|name| self.open(&name).ok())
            .collect();
        sessions.sort_by(|a, b| b.id.cmp(&a.id));
        Ok(sessions)
    }

    /// A symlinked session may not point outside the sessions directory.
    fn check_inside(&self, id: &SessionId, path: &Path) -> Result<(), SessionError> {
        let root = self
            .root
            .canonicalize()
            .map_err(|e| SessionError::io(&self.root, e))?;
        let real = path.canonicalize().map_err(|e| SessionError::io(path, e))?;
        if real.parent() != Some(root.as_path()) {
            return Err(SessionError::Escapes {
                id: id.to_string(),
                dir: self.root.clone(),
            });
        }
        Ok(())
    }
}

/// One session directory.
#[derive(Debug, Clone)]
pub struct Session {
    /// Its validated id (the directory's name).
    pub id: SessionId,
    /// The directory.
    pub path: PathBuf,
}

impl Session {
    /// Where the session's files are.
    pub fn layout(&self) -> Layout {
        Layout::new(&self.path)
    }

    /// Creates any missing subdirectory.
    pub fn ensure_layout(&self) -> Result<(), SessionError> {
        self.layout().ensure()
    }

    /// `stream/`.
    pub fn stream_dir(&self) -> PathBuf {
        self.layout().stream_dir()
    }

    /// `frames/`.
    pub fn frames_dir(&self) -> PathBuf {
        self.layout().frames_dir()
    }

    /// `audio/`.
    pub fn audio_dir(&self) -> PathBuf {
        self.layout().audio_dir()
    }

    /// `transcript/`.
    pub fn transcript_dir(&self) -> PathBuf {
        self.layout().transcript_dir()
    }

    /// `agent/`.
    pub fn agent_dir(&self) -> PathBuf {
        self.layout().agent_dir()
    }

    /// `stream/recording_NNN.mp4`.
    pub fn segment_path(&self, number: u32) -> PathBuf {
        self.layout().segment_path(number)
    }

    /// Existing segments, in order.
    pub fn segments(&self) -> Result<Vec<Segment>, SessionError> {
        self.layout().segments()
    }

    /// The number the next segment gets: one past the highest on disk.
    pub fn next_segment_number(&self) -> Result<u32, SessionError> {
        self.layout().next_segment_number()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layout::SUBDIRS;

    #[test]
    fn creates_layout_and_numbers_segments_from_disk() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SessionsDir::new(tmp.path().join("sessions"));
        let s = dir.create_new().unwrap();
        for sub in SUBDIRS {
            assert!(s.path.join(sub).is_dir());
        }
        assert_eq!(s.next_segment_number().unwrap(), 0);
        fs::write(s.segment_path(0), b"x").unwrap();
        fs::write(s.segment_path(4), b"x").unwrap();
        fs::write(s.stream_dir().join("recording_x.mp4"), b"x").unwrap();
        assert_eq!(s.next_segment_number().unwrap(), 5);
        let again = dir.resume(s.id.as_str()).unwrap();
        assert_eq!(again.next_segment_number().unwrap(), 5);
        assert_eq!(s.segment_path(12).file_name().unwrap(), "recording_012.mp4");
    }

    #[test]
    fn two_sessions_in_one_second_do_not_collide() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = SessionsDir::new(tmp.path());
        let a = dir.create_new().unwrap();
        let b = dir.create_new().unwrap();
        assert_ne!(a.path, b.path);
        assert_eq!(dir.list().unwrap().len(), 2);
    }

    #[test]
    fn refuses_missing_traversal_and_escaping_symlinks() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("sessions");
        fs::create_dir_all(&root).unwrap();
        let outside = tmp.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        std::os::unix::fs::symlink(&outside, root.join("evil")).unwrap();
        let dir = SessionsDir::new(&root);
        assert!(matches!(
            dir.open("evil"),
            Err(SessionError::Escapes { .. })
        ));
        assert!(matches!(
            dir.open("../outside"),
            Err(SessionError::InvalidId { .. })
        ));
        assert!(matches!(
            dir.open("nope"),
            Err(SessionError::NotFound { .. })
        ));
        assert!(dir.list().unwrap().is_empty());
    }
}
