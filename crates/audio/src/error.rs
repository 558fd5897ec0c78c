//! Typed errors: what the caller can act on, and why one frame was lost.

use std::path::PathBuf;

/// Errors of the audio stage. Per-frame damage is not an error here: it is a
/// counted skip (see [`crate::AudioStats`]).
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The stream is not AAC-LC mono/stereo. Reported once per configuration;
    /// later frames of the same configuration are counted and skipped.
    #[error(
        "unsupported AAC stream (object type {object_type}, channel config {channel_config}, \
         {sample_rate} Hz): {reason}; only AAC-LC mono/stereo is decoded"
    )]
    UnsupportedCodec {
        object_type: u8,
        channel_config: u8,
        sample_rate: u32,
        reason: String,
    },
    #[error("resampler setup failed: {0}")]
    Resampler(String),
    #[error("invalid audio options: {0}")]
    InvalidOptions(&'static str),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("WAV error on {path}: {source}")]
    Wav {
        path: PathBuf,
        #[source]
        source: hound::Error,
    },
    #[error("{path} is not a JSON array of entries: {reason}")]
    Index { path: PathBuf, reason: String },
    #[error("transcription command is empty or badly quoted: {0:?}")]
    BadCommand(String),
}

pub type Result<T, E = AudioError> = std::result::Result<T, E>;

impl AudioError {
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AudioError {
        let path = path.into();
        move |source| AudioError::Io { path, source }
    }

    pub(crate) fn wav(path: impl Into<PathBuf>) -> impl FnOnce(hound::Error) -> AudioError {
        let path = path.into();
        move |source| AudioError::Wav { path, source }
    }
}

/// Why one AAC frame produced no audio (it becomes silence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("ADTS header length {header_len} exceeds frame size {frame_len}")]
    Truncated { header_len: usize, frame_len: usize },
    #[error("{0} raw data blocks in one ADTS frame are not supported")]
    MultipleRawBlocks(u8),
    #[error("AAC decode failed: {0}")]
    Decode(String),
    #[error("decoder produced {got} frames instead of 1024")]
    WrongLength { got: usize },
    #[error("AAC decoder panicked; it was rebuilt")]
    Panicked,
}
