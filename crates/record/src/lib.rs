//! The recorder stage: demuxed items in, crash-safe fMP4 segments out.
//!
//! [`SegmentRecorder`] is pushed `cht_core::DemuxItem`s in arrival order and
//! decides when a segment can start (a keyframe with its parameters, and the
//! audio parameters or enough video to know there is none), then feeds the
//! [`cht_fmp4::FragmentWriter`]. [`remux_file`] drives it from a TS file;
//! [`LiveRecorder`] is the live pipeline's recording stage, one segment per
//! sender connection, a sibling of the relay and the analysis that reports
//! its own life as events and status. Nothing here decodes media, relays
//! bytes or analyses pictures.

mod error;
mod live;
mod remux;
mod segment;

pub use error::RecordError;
pub use live::{LiveRecorder, RecorderStatus};
pub use remux::{remux_file, RemuxSummary};
pub use segment::{
    FinishedSegment, SegmentEvent, SegmentOptions, SegmentPaths, SegmentRecorder, SegmentStats,
};
