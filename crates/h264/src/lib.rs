//! H.264 access units in, YUV 4:2:0 pictures out, each with its presentation
//! time.
//!
//! This crate wraps the `openh264` decoder (built from bundled source, with
//! the workspace's speed patches in `vendor/openh264-sys2`) and
//! adds what the library lacks for a live MPEG-TS stream: a PTS for every
//! output picture (openh264 carries no timestamps and reorders B-frames),
//! recovery after lost or corrupt access units (counted skips until the next
//! IDR, never a panic), and owned pictures that can cross threads.
//!
//! It is NOT a demuxer (access units come from `cht-ts`), does not convert to
//! RGB or write images (`cht-frames` does), and does not score scenes.
//!
//! Push model: the caller drives. [`VideoDecoder::decode`] takes one access
//! unit and hands zero or more finished [`Picture`]s, in display order, to a
//! callback; [`VideoDecoder::flush`] drains the pictures still held back for
//! reordering at the end of a stream.

mod colour;
mod decoder;
mod error;
mod format;
mod pending_pts;
mod picture;

pub use colour::{colour_info_from_sps, ColourInfo, MatrixCoefficients};
pub use decoder::{DecodeStats, VideoDecoder};
pub use error::H264Error;
pub use format::UnsupportedFormat;
pub use picture::Picture;
