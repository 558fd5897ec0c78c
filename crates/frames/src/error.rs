//! Errors of the frame store.

use std::path::PathBuf;

/// What went wrong while writing or listing frames.
#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// An existing `index.json` that does not parse as an array of frame
    /// entries. It is never overwritten: a human has to look at it.
    #[error("corrupt frame index {path}: {reason}")]
    CorruptIndex {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        reason: String,
    },
    /// The picture's planes do not match its size.
    #[error("picture cannot be encoded: {0}")]
    BadPicture(String),
    /// The JPEG encoder failed.
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
    /// The writer thread stopped (it panicked or was shut down).
    #[error("frame writer thread is gone")]
    WriterGone,
}

impl From<cht_session::SessionError> for FramesError {
    fn from(e: cht_session::SessionError) -> Self {
        match e {
            cht_session::SessionError::CorruptIndex { path, reason } => {
                FramesError::CorruptIndex { path, reason }
            }
            cht_session::SessionError::Io { path, source } => FramesError::Io { path, source },
            other => FramesError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other(other.to_string()),
            },
        }
    }
}

impl FramesError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> FramesError {
        let path = path.into();
        move |source| FramesError::Io { path, source }
    }
}
