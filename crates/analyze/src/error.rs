//! The one error type of this crate.

use std::path::PathBuf;

/// Why an analysis stopped or a call failed (input damage is never an
/// error: it is counted, and undecodable media reported once as a warning).
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    /// Writing a frame or the frame index failed.
    #[error(transparent)]
    Frames(#[from] cht_frames::FramesError),
    /// Writing an audio chunk or its index failed.
    #[error(transparent)]
    Audio(#[from] cht_audio::AudioError),
    /// The scene detector refused its options.
    #[error(transparent)]
    Scene(#[from] cht_scene::SceneError),
    /// A decoder could not be created.
    #[error(transparent)]
    Decode(#[from] cht_core::DecoderError),
    /// An MP4 input could not be read.
    #[error("{path}: {source}")]
    Mp4 {
        /// The file.
        path: PathBuf,
        /// What the reader said.
        #[source]
        source: cht_fmp4::Fmp4Error,
    },
    /// A file could not be read or a thread not started.
    #[error("{path}: {source}")]
    Io {
        /// The file (or the thread's name).
        path: PathBuf,
        /// What failed.
        #[source]
        source: std::io::Error,
    },
    /// The session's segments could not be listed.
    #[error(transparent)]
    Session(#[from] cht_session::SessionError),
    /// A decoding thread stopped without an answer.
    #[error("the analysis worker stopped")]
    WorkerGone,
}
