//! Core media types shared by every cht stage, and the few small bitstream
//! parsers that more than one stage needs (H.264 NAL/SPS, ADTS headers,
//! MPEG timestamp unwrapping).
//!
//! This crate is the vocabulary of the pipeline, in the way `symphonia-core`
//! is for Symphonia: the TS demuxer produces these types, the fMP4 writer, the
//! decoders and the analysers consume them. It does no I/O, owns no threads
//! and decodes no pictures or sound; those live in their own crates.

mod bits;

pub mod adts;
pub mod media;
pub mod nal;
pub mod sps;
pub mod time;

pub use bits::BitReader;
pub use media::{AudioConfig, AudioFrame, VideoAccessUnit, VideoConfig, CLOCK_HZ};
pub use time::PtsUnwrapper;
