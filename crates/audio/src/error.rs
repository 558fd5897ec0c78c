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
        /// MPEG-4 audio object type.
        object_type: u8,
        /// Channel configuration.
        channel_config: u8,
        /// Samples per second.
        sample_rate: u32,
        /// What is not supported.
        reason: String,
    },
    /// The stream is not AAC: nothing here decodes it. Reported once per
    /// configuration, like [`AudioError::UnsupportedCodec`].
    #[error(
        "{0} audio cannot be decoded into chunks (the recording is unaffected): \
         have the sender encode AAC (`-c:a aac`)"
    )]
    NoDecoder(cht_core::AudioCodec),
    /// The resampler could not be built.
    #[error("resampler setup failed: {0}")]
    Resampler(String),
    /// Options out of range.
    #[error("invalid audio options: {0}")]
    InvalidOptions(&'static str),
    /// Reading or writing a file failed.
    #[error("I/O error on {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// Writing a WAV file failed.
    #[error("WAV error on {path}: {source}")]
    Wav {
        /// The file.
        path: PathBuf,
        /// What failed.
        #[source]
        source: hound::Error,
    },
    /// An index file is not a JSON array of entries.
    #[error("{path} is not a JSON array of entries: {reason}")]
    Index {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
    /// The `--on-audio-chunk` command cannot be split into arguments.
    #[error("transcription command is empty or badly quoted: {0:?}")]
    BadCommand(String),
}

/// This crate's results.
pub type Result<T, E = AudioError> = std::result::Result<T, E>;

impl From<cht_session::SessionError> for AudioError {
    fn from(e: cht_session::SessionError) -> Self {
        match e {
            cht_session::SessionError::CorruptIndex { path, reason } => {
                AudioError::Index { path, reason }
            }
            cht_session::SessionError::Io { path, source } => AudioError::Io { path, source },
            other => AudioError::Io {
                path: PathBuf::new(),
                source: std::io::Error::other(other.to_string()),
            },
        }
    }
}

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
    /// The packet codes several AAC frames (an ADTS frame with several raw
    /// data blocks): they cannot be told apart without their positions.
    #[error("{0} raw data blocks in one ADTS frame are not supported")]
    MultipleRawBlocks(u32),
    /// Symphonia refused the frame.
    #[error("AAC decode failed: {0}")]
    Decode(String),
    /// Symphonia produced an unexpected number of samples.
    #[error("decoder produced {got} frames instead of 1024")]
    WrongLength {
        /// Samples per channel produced.
        got: usize,
    },
    /// Symphonia panicked on the frame.
    #[error("AAC decoder panicked; it was rebuilt")]
    Panicked,
}
