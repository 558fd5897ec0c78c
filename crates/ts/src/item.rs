//! The typed items the demuxer hands to its sink.

use cht_core::{AudioConfig, AudioFrame, VideoAccessUnit, VideoConfig};

/// One demuxed event, delivered in arrival order.
#[derive(Debug, Clone, PartialEq)]
pub enum DemuxItem {
    /// Sent before the first access unit and again whenever SPS/PPS change.
    VideoConfig(VideoConfig),
    /// Sent before the first audio frame and again whenever the ADTS
    /// configuration changes.
    AudioConfig(AudioConfig),
    /// One PES = one access unit, Annex-B bytes as sent.
    Video(VideoAccessUnit),
    /// Exactly one ADTS frame.
    Audio(AudioFrame),
    /// Something broke the continuity of a PID's packets or timeline.
    Discontinuity(Discontinuity),
}

/// A break in one PID's packet sequence or timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discontinuity {
    pub pid: u16,
    pub kind: DiscontinuityKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscontinuityKind {
    /// The continuity counter skipped: packets were lost (or reordered).
    ContinuityError { expected: u8, found: u8 },
    /// The sender flagged a discontinuity in the adaptation field.
    Indicator,
    /// The unwrapped timestamp of a track moved by more than 5 s from its
    /// previous value (video DTS, audio PES PTS).
    PtsJump { from: i64, to: i64 },
}

/// A timestamp step larger than this (90 kHz ticks, 5 s) is reported as a jump.
pub(crate) const PTS_JUMP_TICKS: i64 = 5 * cht_core::CLOCK_HZ as i64;
