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
    /// Another process records the session (or changes it right now): a
    /// second recorder, an analysis into it and its deletion are refused.
    #[error("{} is in use by another cht process{}: stop that process first (marking pictures sent goes through its control API)", .dir.display(), holder(.recorder))]
    Busy {
        /// The session directory.
        dir: PathBuf,
        /// The recorder, as it describes itself.
        recorder: Option<crate::RecorderInfo>,
    },
    /// An index file is not a JSON array of entries; it is left untouched.
    #[error("{path} is not a JSON array of entries: {reason}")]
    CorruptIndex {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        reason: String,
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

fn holder(recorder: &Option<crate::RecorderInfo>) -> String {
    match recorder {
        Some(r) => match &r.control {
            Some(control) => format!(" (pid {}, control API on {control})", r.pid),
            None => format!(" (pid {})", r.pid),
        },
        None => String::new(),
    }
}
