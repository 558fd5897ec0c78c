//! Typed errors: what the caller can act on, and why one frame was lost.

use std::path::PathBuf;

/// Errors of the audio stage. Per-frame damage is not an error here: it is a
/// counted skip (see [`crate::AudioStats`]).
#[derive(Debug, thiserror::Error)]
pub enum AudioError {
    /// The stream is AAC but not AAC-LC with a standard channel
    /// configuration. Reported once per configuration; later frames of the
    /// same configuration are counted and skipped.
    #[error(
        "unsupported AAC stream (object type {object_type}, channel config {channel_config}, \
         {sample_rate} Hz): {reason}; only AAC-LC (1 to 8 channels) is decoded into chunks \
         (the recording keeps it): have the sender encode AAC-LC (`-c:a aac`)"
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
    /// AAC whose layout is in a program config element (channel
    /// configuration 0), joined after the one frame that carries it: the
    /// channel count is unknown, so it is neither decoded nor recorded.
    #[error(
        "AAC audio with its channel layout in a program config element (ffmpeg writes one for \
         2.1 and 6.1) was joined after the first frame, the only one that carries the layout: \
         it is neither recorded nor decoded into chunks; restart the sender while cht \
         listens, or send a standard layout (`-ac 2` or `-ac 6`)"
    )]
    LayoutMissed,
    /// The stream is neither AAC nor MPEG audio: nothing here decodes it.
    /// Reported once per configuration, like [`AudioError::UnsupportedCodec`].
    #[error(
        "{0} audio cannot be decoded into chunks (the recording keeps it): chunks need AAC \
         or MP3 audio; have the sender encode AAC (`-c:a aac`)"
    )]
    NoDecoder(cht_core::AudioCodec),
    /// The decoder refused the stream's parameters.
    #[error("{codec} audio cannot be decoded into chunks (the recording keeps it): {reason}")]
    Unsupported {
        /// The codec.
        codec: cht_core::AudioCodec,
        /// What the decoder said.
        reason: String,
    },
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
    /// True for the errors about the stream itself (its codec or
    /// configuration cannot be decoded), which are reported once and end
    /// nothing but the chunks of that track.
    pub fn is_unsupported_stream(&self) -> bool {
        matches!(
            self,
            AudioError::UnsupportedCodec { .. }
                | AudioError::NoDecoder(_)
                | AudioError::Unsupported { .. }
                | AudioError::LayoutMissed
        )
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> AudioError {
        let path = path.into();
        move |source| AudioError::Io { path, source }
    }

    pub(crate) fn wav(path: impl Into<PathBuf>) -> impl FnOnce(hound::Error) -> AudioError {
        let path = path.into();
        move |source| AudioError::Wav { path, source }
    }
}

/// Why one audio frame produced no audio (it becomes silence).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    /// The packet codes several AAC frames (an ADTS frame with several raw
    /// data blocks): they cannot be told apart without their positions.
    #[error("{0} raw data blocks in one ADTS frame are not supported")]
    MultipleRawBlocks(u32),
    /// Symphonia refused the frame.
    #[error("decode failed: {0}")]
    Decode(String),
    /// Symphonia produced an unexpected number of samples.
    #[error("decoder produced {got} samples per channel instead of {expected}")]
    WrongLength {
        /// Samples per channel produced.
        got: usize,
        /// Samples per channel a frame holds.
        expected: usize,
    },
    /// Symphonia panicked on the frame.
    #[error("audio decoder panicked; it was rebuilt")]
    Panicked,
}
