//! The on-disk layout of a cht session:
//! `<sessions-dir>/<id>/{stream,frames,audio,transcript,agent}`.
//!
//! This crate names, validates, creates and finds sessions and the numbered
//! files inside them (`stream/recording_NNN.mp4`). It decides *where* things
//! go; it writes no media and keeps no counters in memory: the next segment
//! number always comes from what is on disk, so a resumed session never
//! overwrites anything.
//!
//! Session ids come from users and agents, so they are validated before they
//! touch the file system: `..`, separators, absolute paths and symlinks that
//! leave the sessions directory are refused.

mod id;
mod session;

pub use id::{validate_session_id, SessionId};
pub use session::{Session, SessionsDir, SUBDIRS};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("invalid session id {id:?}: {reason}")]
    InvalidId { id: String, reason: &'static str },
    #[error("session {id:?} not found in {dir}")]
    NotFound { id: String, dir: PathBuf },
    #[error("session {id:?} resolves outside the sessions directory {dir}")]
    Escapes { id: String, dir: PathBuf },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl SessionError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        SessionError::Io {
            path: path.into(),
            source,
        }
    }
}
