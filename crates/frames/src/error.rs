//! Errors of the frame store.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum FramesError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// An existing `index.json` that does not parse as an array of frame
    /// entries. It is never overwritten: a human has to look at it.
    #[error("corrupt frame index {path}: {reason}")]
    CorruptIndex { path: PathBuf, reason: String },
    #[error("picture cannot be encoded: {0}")]
    BadPicture(String),
    #[error("JPEG encoding failed: {0}")]
    Jpeg(#[from] jpeg_encoder::EncodingError),
    /// The writer thread stopped (it panicked or was shut down).
    #[error("frame writer thread is gone")]
    WriterGone,
}

impl FramesError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> FramesError {
        let path = path.into();
        move |source| FramesError::Io { path, source }
    }
}
