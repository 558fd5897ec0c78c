//! Fragmented MP4 for cht: a writer that records a live stream as a
//! crash-safe fMP4 segment, and a reader for those segments and for
//! ordinary (progressive) MP4 files.
//!
//! **Writing is push-driven.** The recorder hands each [`VideoPacket`]
//! and [`AudioPacket`] to a [`FragmentWriter`] in arrival order; each track
//! is described by its codec's sample entry (`avc1`, `hvc1`, `mp4v`,
//! `mp4a`, `ac-3`, `ec-3`, `Opus`; the one place a new codec is added on
//! the writing side), with any number of audio tracks; the writer
//! owns the timeline (origin at the segment's first timestamp, jumps and
//! wraps clamped so decode times stay monotonic) and decides where fragments
//! are cut (every keyframe, at least every `fragment_ms`, and when the buffer
//! grows too large). Each fragment reaches the output in one `write_all` +
//! `flush`, so a file cut at any moment is the init segment plus whole
//! fragments plus at most one partial fragment that readers skip.
//!
//! **Reading is pull-driven.** [`probe`] summarises a file from its box
//! headers, `moov` and `moof` boxes without touching sample data;
//! [`Mp4Samples`] yields samples in decode order, reading each sample's bytes
//! when asked; [`Mp4Demuxer`] turns them into the same `cht_core::DemuxItem`s
//! the TS demuxer produces. All seek instead of loading the file, tolerate a
//! truncated tail, and treat every size in the file as untrusted.
//!
//! Not here: demuxing MPEG-TS, decoding, seeking by time, edit lists, encryption, or rewriting a finished file
//! into a progressive MP4.
//!
//! [`VideoPacket`]: cht_core::VideoPacket
//! [`AudioPacket`]: cht_core::AudioPacket

mod box_reader;
mod box_writer;
mod codec_config;
mod demux;
mod error;
mod fragment;
mod init_segment;
mod movie;
mod movie_fragment;
mod mp4_file;
mod probe;
mod sample_entry;
mod sample_table;
mod samples;
mod timeline;
mod writer;

pub use demux::Mp4Demuxer;
pub use error::Fmp4Error;
pub use movie::TrackKind;
pub use probe::{duration_of, probe, probe_bytes, probe_reader, Mp4Info, TrackInfo};
pub use samples::{Mp4Sample, Mp4Samples};
pub use writer::{
    check_audio, check_video, FragmentInfo, FragmentOptions, FragmentWriter, SegmentSummary,
};

#[cfg(test)]
mod reader_tests;
