//! The push-model decoder: access units in, timed pictures out.

use cht_core::nal::{annexb_nals, nal_type, nal_unit_type};
use cht_core::sps::{parse_sps, Sps};
use cht_core::VideoAccessUnit;
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, Flush};
use openh264::OpenH264API;

use crate::colour::{colour_info_from_sps, ColourInfo};
use crate::error::H264Error;
use crate::format::UnsupportedFormat;
use crate::pending_pts::PendingPts;
use crate::picture::Picture;

/// Counters of what happened to the access units fed in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct DecodeStats {
    /// Pictures handed out.
    pub decoded: u64,
    /// Access units the demuxer flagged damaged; not decoded.
    pub skipped_damaged: u64,
    /// Access units dropped while waiting for an IDR to resynchronise (after
    /// damage or a decoder error, or when a stream is joined mid-GOP).
    pub skipped_until_idr: u64,
    /// Access units openh264 refused (corrupt data, missing references) or
    /// that hold no coded slice at all.
    pub errors: u64,
    /// Access units that went into the decoder but never came out as a
    /// picture (refused, or still held back when the decoder resynchronised).
    pub lost: u64,
    /// Access units of a stream format openh264 cannot decode (see
    /// [`VideoDecoder::unsupported_format`]); not decoded.
    pub unsupported: u64,
}

impl std::ops::AddAssign for DecodeStats {
    /// Totals over several decoders (one per segment or per GOP).
    fn add_assign(&mut self, b: DecodeStats) {
        self.decoded += b.decoded;
        self.skipped_damaged += b.skipped_damaged;
        self.skipped_until_idr += b.skipped_until_idr;
        self.errors += b.errors;
        self.lost += b.lost;
        self.unsupported += b.unsupported;
    }
}

/// H.264 decoder for one video track. Feed access units in decode order.
///
/// Output pictures are in display order, a few access units behind the
/// input when the stream has B-frames. A damaged access unit, or one the
/// decoder refuses, costs every access unit up to the next IDR (counted in
/// [`DecodeStats`]); decoding then resumes on its own.
///
/// openh264 cannot be drained and then fed again (its picture buffers leak
/// and it fails with "out of memory" a GOP later), so every drain retires
/// the openh264 instance and the next IDR starts a fresh one.
pub struct VideoDecoder {
    /// `None` while waiting for an IDR.
    decoder: Option<Decoder>,
    output: PictureOutput,
    warned: bool,
    /// Set by a keyframe whose SPS openh264 cannot decode; cleared by one
    /// it can.
    unsupported: Option<UnsupportedFormat>,
}

/// Everything that turns a raw openh264 picture into a [`Picture`]; kept
/// apart from the decoder so a borrowed openh264 picture can be copied out.
#[derive(Default)]
struct PictureOutput {
    pending: PendingPts,
    colour: ColourInfo,
    stats: DecodeStats,
}

/// openh264 holds at most 16 pictures for reordering; more timestamps than
/// that pending means pictures vanished without an error.
const MAX_PENDING: usize = 20;

impl VideoDecoder {
    pub fn new() -> Result<Self, H264Error> {
        // Fail early if the library cannot start; the instance itself is
        // created at the first IDR.
        open_openh264()?;
        Ok(VideoDecoder {
            decoder: None,
            output: PictureOutput::default(),
            warned: false,
            unsupported: None,
        })
    }

    /// Decodes one access unit and hands every picture that became ready to
    /// `out`. Damaged or undecodable input is a counted skip, not an error;
    /// `Err` only when a fresh openh264 instance cannot be created.
    pub fn decode(
        &mut self,
        au: &VideoAccessUnit,
        out: &mut impl FnMut(Picture),
    ) -> Result<(), H264Error> {
        if au.damaged {
            self.output.stats.skipped_damaged += 1;
            self.warn_once("damaged access unit");
            self.flush(out);
            return Ok(());
        }
        if !has_coded_slice(&au.data) {
            // openh264 would swallow it silently and its PTS would then be
            // handed to the next picture.
            self.output.stats.errors += 1;
            return Ok(());
        }
        let keyframe_sps = au
            .keyframe
            .then(|| annexb_nals(&au.data).find(|n| nal_unit_type(n) == nal_type::SPS))
            .flatten();
        if let Some(sps) = keyframe_sps {
            self.output.update_colour(sps);
            if let Some(parsed) = parse_sps(sps) {
                self.check_format(&parsed, out);
            }
        }
        if self.unsupported.is_some() {
            self.output.stats.unsupported += 1;
            return Ok(());
        }
        let decoder = match (&mut self.decoder, au.keyframe) {
            (Some(decoder), _) => decoder,
            (None, true) => {
                self.warned = false;
                self.decoder.insert(open_openh264()?)
            }
            (None, false) => {
                self.output.stats.skipped_until_idr += 1;
                return Ok(());
            }
        };
        self.output.pending.push(au.pts);
        match decoder.decode(&au.data) {
            Ok(Some(yuv)) => self.output.emit(&yuv, out),
            Ok(None) => {}
            Err(e) => {
                self.output.stats.errors += 1;
                self.warn_once(&e.to_string());
                // Pictures still held back may include the refused one, half
                // decoded; they are dropped rather than shown with a
                // timestamp that might be wrong.
                self.retire_decoder();
            }
        }
        self.output.forget_vanished_pictures();
        Ok(())
    }

    /// Hands out every picture still held back for reordering, e.g. at the
    /// end of a stream. Decoding then resumes at the next IDR.
    pub fn flush(&mut self, out: &mut impl FnMut(Picture)) {
        if let Some(mut decoder) = self.decoder.take() {
            match decoder.flush_remaining() {
                Ok(pictures) => pictures.iter().for_each(|yuv| self.output.emit(yuv, out)),
                Err(_) => self.output.stats.errors += 1,
            }
        }
        self.retire_decoder();
    }

    pub fn stats(&self) -> DecodeStats {
        self.output.stats
    }

    /// Why the stream is not being decoded, if its last SPS describes a
    /// format openh264 cannot decode (4:4:4, 4:2:2, 10-bit, interlaced).
    /// Its `Display` says what the sender should change.
    pub fn unsupported_format(&self) -> Option<UnsupportedFormat> {
        self.unsupported
    }

    /// Follows the stream's format from each keyframe's SPS: a format
    /// openh264 cannot decode stops decoding (the pictures already decoded
    /// are handed out first) until a decodable one comes.
    fn check_format(&mut self, sps: &Sps, out: &mut impl FnMut(Picture)) {
        let verdict = UnsupportedFormat::check(sps);
        if verdict == self.unsupported {
            return;
        }
        // Not logged here: a caller with many decoders (one per GOP) would
        // repeat it; callers report `unsupported_format` once.
        if verdict.is_some() {
            self.flush(out);
        }
        self.unsupported = verdict;
    }

    fn retire_decoder(&mut self) {
        self.decoder = None;
        self.output.stats.lost += self.output.pending.clear() as u64;
    }

    /// One log line per burst of damage: the flag resets at the next IDR.
    fn warn_once(&mut self, reason: &str) {
        if !self.warned {
            tracing::warn!(reason, "h264: skipping access units until the next IDR");
            self.warned = true;
        }
    }
}

/// True when the access unit carries at least one coded slice (NAL types
/// 1..=5), i.e. can produce a picture.
fn has_coded_slice(access_unit: &[u8]) -> bool {
    annexb_nals(access_unit).any(|nal| (1..=5).contains(&nal_unit_type(nal)))
}

fn open_openh264() -> Result<Decoder, H264Error> {
    // The default flush-after-every-decode mode fails most access units of
    // B-frame streams; pictures come out as reordering allows instead.
    let config = DecoderConfig::new().flush_after_decode(Flush::NoFlush);
    Decoder::with_api_config(OpenH264API::from_source(), config)
        .map_err(|e| H264Error::Init(e.to_string()))
}

impl PictureOutput {
    fn emit(&mut self, yuv: &DecodedYUV<'_>, out: &mut impl FnMut(Picture)) {
        // More pictures than access units would mean openh264 invented one;
        // without a timestamp it cannot be placed, so it is dropped.
        let Some(pts) = self.pending.pop_smallest() else {
            self.stats.errors += 1;
            return;
        };
        match Picture::copy_from(yuv, pts, self.colour) {
            Some(picture) => {
                self.stats.decoded += 1;
                out(picture);
            }
            None => self.stats.errors += 1,
        }
    }

    fn forget_vanished_pictures(&mut self) {
        while self.pending.len() > MAX_PENDING {
            self.pending.pop_smallest();
            self.stats.lost += 1;
        }
    }

    /// Takes the colour description of a keyframe's SPS NAL unit.
    fn update_colour(&mut self, sps: &[u8]) {
        if let Some(info) = colour_info_from_sps(sps) {
            self.colour = info;
        }
    }
}
