//! The event vocabulary: one JSON object per event.

use cht_frames::FrameEntry;
use serde::Serialize;

/// Something that happened, serialized as `{"event":"<kind>",...}`; see the
/// crate documentation for every message with an example.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A sender connected (emitted by the recorder).
    SenderConnected {
        /// `IP:port` of the sender.
        peer: String,
    },
    /// The sender went away (emitted by the recorder).
    SenderDisconnected {
        /// `IP:port` of the sender.
        peer: String,
        /// `closed`, `idle`, `shutdown`, `replaced` or `error: ...`.
        reason: String,
    },
    /// A segment file was created: it holds the init segment and is
    /// playable as it grows (emitted by the recorder).
    SegmentStarted {
        /// Its number.
        segment: u32,
        /// The file.
        path: String,
        /// Where it begins on the session's timeline, seconds.
        start: f64,
    },
    /// A segment file is complete (emitted by the recorder; `--on-segment`
    /// runs on this event).
    SegmentFinished {
        /// Its number.
        segment: u32,
        /// The file.
        path: String,
        /// Seconds of media.
        duration: f64,
        /// Video samples written.
        video_samples: u64,
        /// Audio samples written.
        audio_samples: u64,
        /// Bytes of the file.
        bytes: u64,
    },
    /// A frame written to `frames/` (the `index.json` entry).
    Frame {
        /// The index entry, field for field.
        #[serde(flatten)]
        entry: FrameEntry,
        /// From the packet's arrival to the index update, live only.
        #[serde(skip_serializing_if = "Option::is_none")]
        latency_ms: Option<f64>,
    },
    /// An audio chunk written to `audio/` (the `index.json` entry).
    AudioChunk {
        /// `chunk_0000`, ...
        id: String,
        /// Relative to the session directory.
        path: String,
        /// Seconds on the segment's clock.
        start: f64,
        /// Seconds.
        duration: f64,
        /// The segment it belongs to.
        segment: u32,
        /// `start` on the session's timeline.
        session_start: f64,
    },
    /// The transcript of an audio chunk (the output of `--on-audio-chunk`).
    Transcript {
        /// The chunk's id.
        id: String,
        /// The transcript file, relative to the session directory.
        path: String,
        /// The chunk's file, relative to the session directory.
        chunk: String,
        /// The segment the chunk belongs to.
        segment: u32,
        /// The chunk's start, seconds on the segment's clock.
        start: f64,
        /// The chunk's length, seconds.
        duration: f64,
        /// `start` on the session's timeline.
        session_start: f64,
    },
    /// Something went wrong or was skipped; cht goes on.
    Warning {
        /// What kind of problem.
        kind: WarningKind,
        /// What happened and, when the fix is the sender's, the fix.
        message: String,
    },
    /// The live status, every 5 s: the `GET /status` object.
    Stats(serde_json::Value),
}

impl Event {
    /// The kind, as the `event` field of its JSON says it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::SenderConnected { .. } => "sender_connected",
            Event::SenderDisconnected { .. } => "sender_disconnected",
            Event::SegmentStarted { .. } => "segment_started",
            Event::SegmentFinished { .. } => "segment_finished",
            Event::Frame { .. } => "frame",
            Event::AudioChunk { .. } => "audio_chunk",
            Event::Transcript { .. } => "transcript",
            Event::Warning { .. } => "warning",
            Event::Stats(_) => "stats",
        }
    }
}

/// What a [`Event::Warning`] is about, serialized in `snake_case`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// The input lost packets or its timeline jumped (per discontinuity).
    Discontinuity,
    /// Writing the segment failed: the rest of the connection is not recorded.
    RecordingFailed,
    /// A stream the sender sends is not recorded (a codec or stream type
    /// cht does not record, a second video stream, a track that began
    /// after the segment started); named once, with the fix when the
    /// sender can change it.
    TrackNotRecorded,
    /// The analysis fell behind the recording and skipped to a keyframe.
    AnalysisLag,
    /// Stopping promptly left media unanalysed (it is in the recording).
    AnalysisBacklog,
    /// The video cannot be decoded for scene frames (codec or format); the
    /// recording is unaffected.
    UnsupportedVideo,
    /// The audio cannot be decoded into chunks; the recording is unaffected.
    AudioUnsupported,
    /// The picture size changed mid-segment; scene detection starts again.
    ResolutionChange,
    /// The video analysis failed on something (the next packet is tried).
    VideoAnalysis,
    /// The audio analysis failed on something (the next packet is tried).
    AudioAnalysis,
    /// A frame could not be written.
    FrameWriteFailed,
    /// A picture chosen for a frame did not decode again.
    FrameLost,
}

impl WarningKind {
    /// The kind as it appears in the JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            WarningKind::Discontinuity => "discontinuity",
            WarningKind::RecordingFailed => "recording_failed",
            WarningKind::TrackNotRecorded => "track_not_recorded",
            WarningKind::AnalysisLag => "analysis_lag",
            WarningKind::AnalysisBacklog => "analysis_backlog",
            WarningKind::UnsupportedVideo => "unsupported_video",
            WarningKind::AudioUnsupported => "audio_unsupported",
            WarningKind::ResolutionChange => "resolution_change",
            WarningKind::VideoAnalysis => "video_analysis",
            WarningKind::AudioAnalysis => "audio_analysis",
            WarningKind::FrameWriteFailed => "frame_write_failed",
            WarningKind::FrameLost => "frame_lost",
        }
    }
}

impl std::fmt::Display for WarningKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event with the wall-clock time it happened.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Seconds since the Unix epoch.
    pub time: f64,
    /// What happened.
    #[serde(flatten)]
    pub event: Event,
    /// Its number on the bus that emitted it (0 for a record made
    /// elsewhere); see [`crate::EventId`]. Not part of the JSON.
    #[serde(skip)]
    pub seq: u64,
}

impl EventRecord {
    /// The record as one line of JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"event\":\"warning\",\"message\":\"{e}\"}}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_the_json_tags() {
        let events = [
            Event::SenderConnected { peer: "p".into() },
            Event::SenderDisconnected {
                peer: "p".into(),
                reason: "closed".into(),
            },
            Event::SegmentStarted {
                segment: 0,
                path: "x".into(),
                start: 0.0,
            },
            Event::SegmentFinished {
                segment: 0,
                path: "x".into(),
                duration: 1.0,
                video_samples: 1,
                audio_samples: 1,
                bytes: 1,
            },
            Event::AudioChunk {
                id: "c".into(),
                path: "p".into(),
                start: 0.0,
                duration: 1.0,
                segment: 0,
                session_start: 0.0,
            },
            Event::Transcript {
                id: "c".into(),
                path: "p".into(),
                chunk: "c".into(),
                segment: 0,
                start: 0.0,
                duration: 1.0,
                session_start: 0.0,
            },
            Event::Warning {
                kind: WarningKind::FrameLost,
                message: "m".into(),
            },
            Event::Stats(serde_json::json!({})),
        ];
        for event in events {
            let json = serde_json::to_value(&event).expect("serializes");
            assert_eq!(json["event"], event.kind());
        }
    }

    #[test]
    fn warning_kinds_serialize_as_their_names() {
        for kind in [
            WarningKind::Discontinuity,
            WarningKind::RecordingFailed,
            WarningKind::TrackNotRecorded,
            WarningKind::AnalysisLag,
            WarningKind::AnalysisBacklog,
            WarningKind::UnsupportedVideo,
            WarningKind::AudioUnsupported,
            WarningKind::ResolutionChange,
            WarningKind::VideoAnalysis,
            WarningKind::AudioAnalysis,
            WarningKind::FrameWriteFailed,
            WarningKind::FrameLost,
        ] {
            let json = serde_json::to_value(kind).expect("serializes");
            assert_eq!(json, kind.as_str(), "{kind:?}");
        }
    }
}
