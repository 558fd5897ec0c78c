//! Core media types shared by every cht stage, and the small bitstream
//! parsers that more than one stage needs.
//!
//! This crate is the vocabulary of the pipeline, in the way `symphonia-core`
//! is for Symphonia: codecs and their parameters ([`VideoParams`],
//! [`AudioParams`]), the packets and the [`DemuxItem`] every reader produces
//! (MPEG-TS and MP4 alike), decoded [`Picture`]s, and the [`VideoDecoder`]
//! interface with the [`DecoderRegistry`] that picks a decoder by codec.
//! Each codec's parameter-set parser lives in its own module ([`h264`],
//! [`hevc`], [`mpeg2`] video; [`aac`], [`mpa`], [`ac3`], [`opus`] audio);
//! its MP4 sample entry lives in `cht-fmp4` and its decoder, if any, in its
//! own crate. Adding a codec is: a parameter-set parser here, a
//! sample entry there, and optionally a decoder registered by codec.
//!
//! It does no I/O, owns no threads and decodes no pictures or sound.

mod bits;
mod decoder;
mod error;
mod gate;
mod item;
mod packet;
mod params;
mod picture;
mod segments;
mod stage;
#[cfg(test)]
mod test_items;
mod time;

pub mod aac;
pub mod ac3;
pub mod h264;
pub mod hevc;
pub mod mpa;
pub mod mpeg2;
pub mod opus;

pub use bits::BitReader;
pub use decoder::{
    DecodeStats, DecoderError, DecoderRegistry, PacketRole, VideoDecoder, VideoDecoderFactory,
};
pub use gate::{GateStats, Gated, SegmentStart, AUDIO_WAIT, MAX_PENDING_BYTES, VIDEO_WAIT};
pub use item::{
    AnnouncedAudio, DemuxItem, Discontinuity, DiscontinuityKind, IgnoredStream, TrackList,
};
pub use packet::{AudioPacket, VideoPacket};
pub use params::{AudioCodec, AudioParams, PacketFormat, VideoCodec, VideoParams};
pub use picture::{ColourInfo, MatrixCoefficients, Picture};
pub use segments::{SegmentGate, JUMP_AHEAD};
pub use stage::{Connection, LiveStage};
pub use time::{PtsUnwrapper, PTS_WRAP};

/// MPEG system clock for PTS/DTS: 90 kHz.
pub const CLOCK_HZ: u32 = 90_000;
