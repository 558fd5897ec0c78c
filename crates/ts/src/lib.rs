//! A push-driven MPEG-TS demuxer for a live stream: one video track and
//! every audio track of every program.
//!
//! The caller pushes bytes as they arrive (TCP reads split anywhere) and
//! receives `cht_core`'s [`DemuxItem`]s through a [`DemuxSink`], in arrival
//! order: the track list (what is followed, and what is not, with why),
//! codec parameters, whole video access units (H.264 and HEVC in Annex-B,
//! MPEG-2 video, as sent), single audio frames (AAC from ADTS or LATM,
//! MPEG audio, AC-3/E-AC-3, Opus) and discontinuities: the same items the
//! MP4 reader produces. Like ripgrep's searcher, the demuxer drives the sink; it
//! never pulls from a reader and owns no I/O or threads.
//!
//! What it does: 188/192/204-byte packet framing with resync after garbage,
//! PAT/PMT tracking (including PMT updates that add a track), continuity
//! checks, PES reassembly (bounded and unbounded), 33-bit PTS/DTS unwrapping
//! shared by all tracks, parameter-set and audio-config tracking; stream
//! types and descriptors (registration, DVB AC-3/E-AC-3/Opus) tell the
//! codecs, and private data without a descriptor is probed. Damage is never
//! silent: lost video packets give `damaged` access units, lost audio bytes are
//! dropped and counted, and every anomaly shows up in [`DemuxStats`].
//!
//! What it is NOT for: decoding, remuxing, PCR/clock recovery, scrambled
//! streams, a second video stream, or codecs cht does not record (DTS,
//! LPCM, subtitles, data): those are named in the track list and their
//! packets ignored and counted.
//!
//! Packet headers are parsed by hand on the hot path (the `mpeg2ts` crate's
//! per-packet reader allocates and is far slower); PAT/PMT tables are parsed
//! by `mpeg2ts`, one packet at a time.

#![forbid(unsafe_code)]

mod audio;
mod continuity;
mod demuxer;
mod error;
mod framing;
mod item;
mod packet;
mod pes;
mod psi;
mod router;
mod sink;
mod stats;
mod streams;
mod video;

#[cfg(test)]
mod test_stream;

/// The demuxer's items are the core's, shared with every other reader.
pub use cht_core::{DemuxItem, Discontinuity, DiscontinuityKind};
pub use demuxer::{demux_all, Demuxed, TsDemuxer};
pub use sink::DemuxSink;
pub use stats::DemuxStats;
