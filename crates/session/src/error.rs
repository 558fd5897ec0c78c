//! The one error type of this crate.

use std::path::PathBuf;

/// What went wrong with a session or one of its files.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The id is not a plain, short name.
    #[error("invalid session id {id:?}: {reason}")]
    InvalidId {
        /// The id given.
        id: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// No such session.
    #[error("session {id:?} not found in {dir}")]
    NotFound {
        /// The id given.
        id: String,
        /// The sessions directory.
        dir: PathBuf,
    },
    /// A symlinked session points outside the sessions directory.
    #[error("session {id:?} resolves outside the sessions directory {dir}")]
    Escapes {
        /// The id given.
        id: String,
        /// The sessions directory.
        dir: PathBuf,
    },
    /// An index file is not a JSON array of entries; it is left untouched.
    #[error("{path} is not a JSON array of entries: {reason}")]
    CorruptIndex {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        reason: String,
    },
    /// Another cht process holds the session (a recorder, an analysis).
    #[error("session {id:?} is in use by cht process {pid} (its lock {path}); stop that process first")]
    Locked {
        /// The session.
        id: String,
        /// The process holding it (0 when its lock file names none).
        pid: u32,
        /// The lock file.
        path: PathBuf,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
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
