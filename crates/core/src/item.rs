//! What a demuxer hands out: the one item type that every reader (MPEG-TS
//! live or from a file, MP4) produces and every stage consumes.

use crate::packet::{AudioPacket, VideoPacket};
use crate::params::{AudioParams, VideoParams};

/// One demuxed event, delivered in arrival (decode) order.
///
/// Parameters come before the first packet of their track and again
/// whenever they change; a packet belongs to the parameters announced last.
#[derive(Debug, Clone, PartialEq)]
pub enum DemuxItem {
    /// The video track's codec parameters (first, or changed).
    VideoParams(VideoParams),
    /// The audio track's codec parameters (first, or changed).
    AudioParams(AudioParams),
    /// One coded picture.
    Video(VideoPacket),
    /// One coded audio frame.
    Audio(AudioPacket),
    /// Something broke the continuity of a track's packets or timeline.
    Discontinuity(Discontinuity),
}

impl DemuxItem {
    /// Bytes of coded media the item carries (0 for parameters and
    /// discontinuities).
    pub fn media_len(&self) -> usize {
        match self {
            DemuxItem::Video(p) => p.data.len(),
            DemuxItem::Audio(p) => p.data.len(),
            _ => 0,
        }
    }
}

/// A break in one track's packet sequence or timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discontinuity {
    /// The MPEG-TS PID it happened on.
    pub pid: u16,
    /// What broke.
    pub kind: DiscontinuityKind,
}

/// What kind of break a [`Discontinuity`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscontinuityKind {
    /// The continuity counter skipped: packets were lost (or reordered).
    ContinuityError {
        /// The counter the next packet should have had.
        expected: u8,
        /// The counter it had.
        found: u8,
    },
    /// The sender flagged a discontinuity in the adaptation field.
    Indicator,
    /// The unwrapped timestamp of a track moved by more than 5 s from its
    /// previous value (video DTS, audio PES PTS).
    PtsJump {
        /// The previous timestamp, 90 kHz.
        from: i64,
        /// The new one.
        to: i64,
    },
}
