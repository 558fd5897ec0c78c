//! The recorder stage: demuxed TS items in, crash-safe fMP4 segments out.
//!
//! [`SegmentRecorder`] is pushed [`cht_ts::DemuxItem`]s in arrival order and
//! decides when a segment can start (a keyframe with its SPS/PPS, and the
//! audio configuration or enough video to know there is none), then feeds the
//! [`cht_fmp4::FragmentWriter`]. [`remux_file`] drives it from a TS file;
//! [`LiveRecorder`] drives it from the TCP ingest, one segment per sender
//! connection. Nothing here decodes media or analyses pictures: the live
//! recorder only hands items on to an optional [`ItemTap`] for that.

mod live;
mod remux;
mod segment;

pub use live::{ItemTap, LiveOptions, LiveRecorder, LiveStats};
pub use remux::{remux_file, RemuxSummary};
pub use segment::{SegmentOptions, SegmentRecorder, SegmentStats};

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {source}")]
    Mp4 {
        path: PathBuf,
        #[source]
        source: cht_fmp4::Fmp4Error,
    },
    #[error(transparent)]
    Session(#[from] cht_session::SessionError),
    #[error("{0}: no H.264 video or AAC audio found in the stream")]
    NoMedia(PathBuf),
}
