//! Analysis stages: H.264 → scene scoring → JPEG frames + `index.json`, and
//! AAC → WAV chunks (+ transcripts), for a live recording or offline.
//!
//! Live, [`LiveAnalysis`] is a stage of the live pipeline (a
//! `cht_core::LiveStage`, a sibling of the recorder): it only queues items
//! (never blocking the other stages; a full queue makes the video side skip
//! to the next keyframe, counted and reported as lag) and two worker
//! threads drive [`VideoAnalyzer`] and [`AudioAnalyzer`]. Offline,
//! [`analyze`] reads a TS file, an MP4 file or a session and decodes GOPs in
//! parallel. Both push what they produce into a `cht_events::EventBus`.
//!
//! Not here: demuxing (cht-ts), recording (cht-record), the codecs and the
//! scorer themselves (cht-h264, cht-audio, cht-scene), JPEG and index files
//! (cht-frames).

mod audio;
mod live;
mod offline;
mod queue;
mod source;
mod video;

pub use audio::AudioAnalyzer;
pub use live::{AnalysisOptions, AnalysisStatus, LiveAnalysis, LiveControl};
pub use offline::{analyze, scores, AnalyzeSummary, FrameScoreLine, OfflineOptions, Progress};
pub use source::AnalyzeInput;
pub use video::{FrameSink, LatestPicture, VideoAnalyzer, VideoStats};

use std::path::PathBuf;

/// The decoders cht ships, by codec: H.264 (openh264).
pub fn default_decoders() -> cht_core::DecoderRegistry {
    let mut registry = cht_core::DecoderRegistry::new();
    cht_h264::register(&mut registry);
    registry
}

#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error(transparent)]
    Frames(#[from] cht_frames::FramesError),
    #[error(transparent)]
    Audio(#[from] cht_audio::AudioError),
    #[error(transparent)]
    Scene(#[from] cht_scene::SceneError),
    #[error(transparent)]
    Decode(#[from] cht_core::DecoderError),
    #[error("{path}: {source}")]
    Mp4 {
        path: PathBuf,
        #[source]
        source: cht_fmp4::Fmp4Error,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Session(#[from] cht_session::SessionError),
    #[error("{0}: no H.264 video found")]
    NoVideo(PathBuf),
    #[error("the analysis worker stopped")]
    WorkerGone,
}
