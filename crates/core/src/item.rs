//! What a demuxer hands out: the one item type that every reader (MPEG-TS
//! live or from a file, MP4) produces and every stage consumes.

use std::fmt;

use crate::packet::{AudioPacket, VideoPacket};
use crate::params::{AudioCodec, AudioParams, VideoCodec, VideoParams};

/// One demuxed event, delivered in arrival (decode) order.
///
/// Parameters come before the first packet of their track and again
/// whenever they change; a packet belongs to the parameters announced last.
#[derive(Debug, Clone, PartialEq)]
pub enum DemuxItem {
    /// The streams the source announces (first, and whenever the list
    /// changes): which tracks to expect, and what is not recorded.
    Tracks(TrackList),
    /// The video track's codec parameters (first, or changed).
    VideoParams(VideoParams),
    /// An audio track's codec parameters (first, or changed).
    AudioParams(AudioParams),
    /// One coded picture.
    Video(VideoPacket),
    /// One coded audio frame of one audio track.
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

/// The streams of a source as its table of contents lists them (MPEG-TS:
/// the PMTs of every program; MP4: the `moov`), before any packet: what
/// will be followed, and what will not, with why.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrackList {
    /// The video stream followed, and its codec.
    pub video: Option<VideoCodec>,
    /// The audio tracks followed, in track order.
    pub audio: Vec<AnnouncedAudio>,
    /// The streams that are not followed.
    pub ignored: Vec<IgnoredStream>,
}

/// An audio track a source announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AnnouncedAudio {
    /// Its number ([`AudioParams::track`]).
    pub track: u8,
    /// Its codec when the table names it; `None` when the first frame tells
    /// (MPEG audio of any layer, private data without a descriptor).
    pub codec: Option<AudioCodec>,
}

/// A stream that cht does not record, and what the sender can do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoredStream {
    /// Where it is: the MPEG-TS PID, or the MP4 track ID.
    pub id: u32,
    /// What it is and where ("DTS audio (stream type 0x82, PID 0x103)").
    pub what: String,
    /// How to have it recorded, when the sender can ("send AAC: `-c:a
    /// aac`"); `None` for streams that are not audio or video.
    pub fix: Option<String>,
}

impl fmt::Display for IgnoredStream {
    /// One sentence: what the stream is, that it is not recorded, the fix.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} is not recorded", self.what)?;
        match &self.fix {
            Some(fix) => write!(f, "; to record it, {fix}"),
            None => Ok(()),
        }
    }
}
