//! H.264 packets in, YUV 4:2:0 pictures out, each with its presentation
//! time: cht-core's [`VideoDecoder`] for H.264.
//!
//! This crate wraps the `openh264` decoder (built from bundled source, with
//! the workspace's speed patches in `vendor/openh264-sys2`) and
//! adds what the library lacks for a live MPEG-TS stream: a PTS for every
//! output picture (openh264 carries no timestamps and reorders B-frames),
//! recovery after lost or corrupt access units (counted skips until the next
//! IDR, never a panic), owned pictures that can cross threads, and a check
//! of the stream's format (4:4:4, 10-bit and interlaced streams are refused
//! once, with the fix). Packets come as the track's parameters say: Annex-B
//! as sent in MPEG-TS, or length-prefixed as MP4 stores them.
//!
//! It is NOT a demuxer (packets come from `cht-ts` or `cht-fmp4`), does not
//! convert to RGB or write images (`cht-frames` does), and does not score
//! scenes. Stages do not name this crate's decoder: they ask a
//! [`DecoderRegistry`] in which [`register`] put it.
//!
//! Push model: the caller drives. `decode` takes one packet and hands zero
//! or more finished pictures, in display order, to a callback; `flush`
//! drains the pictures still held back for reordering at the end of a
//! stream. A caller that needs only some pictures asks `plan_gop` which
//! packets of a GOP may be left out: the disposable ones, and x264's
//! B-pyramid middle B-frames when nothing else refers to them (read from
//! the slice headers by `references`).

mod decoder;
mod format;
mod pending_pts;
mod picture;
mod references;

pub use decoder::H264Decoder;
pub use format::UnsupportedFormat;

use cht_core::{DecoderError, DecoderRegistry, VideoCodec, VideoDecoder, VideoParams};

/// Makes an [`H264Decoder`] for a track (the registry's factory).
pub fn new_decoder(params: &VideoParams) -> Result<Box<dyn VideoDecoder>, DecoderError> {
    Ok(Box::new(H264Decoder::for_params(params)?))
}

/// Registers the H.264 decoder.
pub fn register(registry: &mut DecoderRegistry) {
    registry.register_video(VideoCodec::H264, new_decoder);
}
