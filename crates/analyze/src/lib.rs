//! Analysis stages: H.264 → scene scoring → JPEG frames + `index.json`, and
//! AAC → WAV chunks (+ transcripts), for a live recording or offline.
//!
//! Live, [`LiveAnalysis`] is a stage of the live pipeline (a
//! `cht_core::LiveStage`, a sibling of the recorder): it only queues items
//! (never blocking the other stages; a full queue makes the video side skip
//! to the next keyframe, counted and reported as lag) and two worker
//! threads drive the video and the audio analyzer. Offline,
//! [`analyze`] reads a TS file, an MP4 file or a session and decodes GOPs in
//! parallel. Both push what they produce into a `cht_events::EventBus`.
//!
//! Not here: demuxing (cht-ts), recording (cht-record), the codecs and the
//! scorer themselves (cht-h264, cht-audio, cht-scene), JPEG and index files
//! (cht-frames).

mod audio;
mod error;
mod live;
mod offline;
mod queue;
mod source;
mod video;

pub use error::AnalyzeError;
pub use live::{AnalysisOptions, AnalysisStatus, Backlog, FrameFilter, LiveAnalysis, LiveControl};
pub use offline::{analyze, scores, AnalyzeSummary, FrameScoreLine, OfflineOptions, Progress};
pub use source::{AnalyzeInput, Container, InputFile};
pub use video::VideoStats;

/// The decoders cht ships, by codec: H.264 (openh264).
pub fn default_decoders() -> cht_core::DecoderRegistry {
    let mut registry = cht_core::DecoderRegistry::new();
    cht_h264::register(&mut registry);
    registry
}
