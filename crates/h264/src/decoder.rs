//! The push-model decoder: packets in, timed pictures out.

use crate::references::{optional_references, ParameterSets, Unit};
use cht_core::h264::{
    annexb_nals, is_disposable, length_prefixed_nals, nal_type, nal_unit_type, parse_sps,
    sps_allowing_frame_num_gaps, AvcDecoderConfig, Sps,
};
use cht_core::{
    ColourInfo, DecodeStats, DecoderError, PacketFormat, PacketRole, Picture, VideoCodec,
    VideoDecoder, VideoPacket, VideoParams,
};
use openh264::decoder::{DecodedYUV, Decoder, DecoderConfig, ErrorConcealment, Flush};
use openh264::OpenH264API;

use crate::format::UnsupportedFormat;
use crate::pending_pts::PendingPts;
use crate::picture::copy_picture;

/// H.264 decoder for one video track. Feed access units in decode order.
///
/// Output pictures are in display order, a few access units behind the
/// input when the stream has B-frames. Damage costs what ffmpeg's would:
/// openh264's error concealment copies the macroblocks of a damaged or
/// missing slice from the previous picture (motion-compensated), so a
/// damaged access unit is still a picture and the rest of the GOP decodes
/// (counted as `concealed` in [`DecodeStats`]). Only what concealment
/// cannot cover (no reference lists, out of memory) costs the access units
/// up to the next keyframe.
///
/// openh264 cannot be drained and then fed again (its picture buffers leak
/// and it fails with "out of memory" a GOP later), so every drain retires
/// the openh264 instance and the next IDR starts a fresh one.
pub struct H264Decoder {
    /// `None` while waiting for an IDR.
    decoder: Option<Decoder>,
    output: PictureOutput,
    warned: bool,
    /// Set by a keyframe whose SPS openh264 cannot decode; cleared by one
    /// it can. The text is what [`VideoDecoder::unsupported_format`] says.
    unsupported: Option<(UnsupportedFormat, String)>,
    /// Set by [`H264Decoder::end_gop`]: the openh264 instance is kept, and
    /// the next access unit it takes must be a keyframe.
    awaiting_keyframe: bool,
    /// For length-prefixed packets (MP4): the parameter sets to put in
    /// front of each keyframe, and a buffer for the Annex-B openh264 reads.
    length_prefixed: Option<LengthPrefixed>,
    /// The track's parameter sets (Annex-B), fed to every fresh openh264
    /// instance: a keyframe without its own SPS/PPS (a GOP decoded on its
    /// own, an encoder that sends them once, a damaged stream) still decodes.
    track_parameter_sets: Option<Vec<u8>>,
    /// The access unit as openh264 gets it, when it is rewritten.
    scratch: Vec<u8>,
    /// The parameter sets openh264 gets say that `frame_num` may skip
    /// values: set once a GOP is planned with optional references left
    /// out (see [`VideoDecoder::plan_gop`]).
    gaps_allowed: bool,
}

/// What converting MP4 samples to the Annex-B openh264 reads takes.
struct LengthPrefixed {
    config: AvcDecoderConfig,
    parameter_sets: Vec<u8>,
    annexb: Vec<u8>,
}

/// Everything that turns a raw openh264 picture into a [`Picture`]; kept
/// apart from the decoder so a borrowed openh264 picture can be copied out.
#[derive(Default)]
struct PictureOutput {
    pending: PendingPts,
    /// Decoded pictures (openh264 hands them out in decode order, each
    /// with its own PTS) waiting for display order: a picture goes out once
    /// no access unit still in the decoder can show before it.
    ready: std::collections::BTreeMap<i64, Picture>,
    /// The last picture handed out, kept once the stream showed damage: it
    /// stands in for a picture that could not be decoded at all.
    last_out: Option<Picture>,
    /// The timestamp of the last picture openh264 handed out.
    last_emitted: Option<i64>,
    colour: ColourInfo,
    stats: DecodeStats,
}

/// An access unit delimiter NAL (`primary_pic_type` 7: any slice type).
const ACCESS_UNIT_DELIMITER: [u8; 6] = [0, 0, 0, 1, 0x09, 0xF0];

/// openh264 holds at most 16 pictures for reordering; more timestamps than
/// that pending means pictures vanished without an error.
const MAX_PENDING: usize = 20;

impl H264Decoder {
    /// A decoder for Annex-B packets (as MPEG-TS carries them).
    pub fn new() -> Result<Self, DecoderError> {
        // Fail early if the library cannot start; the instance itself is
        // created at the first IDR.
        open_openh264()?;
        Ok(H264Decoder {
            decoder: None,
            output: PictureOutput::default(),
            warned: false,
            unsupported: None,
            awaiting_keyframe: false,
            length_prefixed: None,
            track_parameter_sets: None,
            scratch: Vec::new(),
            gaps_allowed: false,
        })
    }

    /// A decoder for a track with these parameters: Annex-B packets, or
    /// length-prefixed ones (MP4) with the parameter sets of the `avcC`
    /// record in [`VideoParams::extra_data`].
    pub fn for_params(params: &VideoParams) -> Result<Self, DecoderError> {
        let mut decoder = H264Decoder::new()?;
        if params.format == PacketFormat::Elementary {
            decoder.track_parameter_sets = AvcDecoderConfig::parse(&params.extra_data)
                .ok()
                .map(|c| c.parameter_sets_annexb());
        }
        if let PacketFormat::LengthPrefixed { .. } = params.format {
            let config =
                AvcDecoderConfig::parse(&params.extra_data).map_err(|e| DecoderError::Init {
                    codec: VideoCodec::H264,
                    reason: e.to_string(),
                })?;
            decoder.length_prefixed = Some(LengthPrefixed {
                parameter_sets: config.parameter_sets_annexb(),
                config,
                annexb: Vec::new(),
            });
        }
        Ok(decoder)
    }

    /// What happened to the packets so far.
    pub fn stats(&self) -> DecodeStats {
        self.output.stats
    }

    /// The format that stopped decoding, if any, with the SPS that
    /// describes it.
    pub fn unsupported(&self) -> Option<&UnsupportedFormat> {
        self.unsupported.as_ref().map(|(format, _)| format)
    }

    /// Decodes one packet and hands every picture that became ready to
    /// `out`. Damaged or undecodable input is a counted skip, not an error;
    /// `Err` only when a fresh openh264 instance cannot be created.
    pub fn decode(
        &mut self,
        au: &VideoPacket,
        out: &mut dyn FnMut(Picture),
    ) -> Result<(), DecoderError> {
        let Some(mut lp) = self.length_prefixed.take() else {
            return match self.track_parameter_sets.take() {
                Some(sets) => {
                    // In-band parameter sets are replaced by the track's:
                    // a bit error in an SPS must not reconfigure (or exhaust)
                    // the decoder; a real change comes as new track
                    // parameters, which get a new decoder.
                    let mut annexb = std::mem::take(&mut self.scratch);
                    annexb.clear();
                    if au.keyframe {
                        annexb.extend_from_slice(&sets);
                    }
                    for nal in annexb_nals(&au.data) {
                        if !matches!(nal_unit_type(nal), nal_type::SPS | nal_type::PPS) {
                            annexb.extend_from_slice(&[0, 0, 0, 1]);
                            annexb.extend_from_slice(nal);
                        }
                    }
                    self.track_parameter_sets = Some(sets);
                    let result = self.decode_annexb(au, &annexb, out);
                    self.scratch = annexb;
                    result
                }
                None => self.decode_annexb(au, &au.data, out),
            };
        };
        // The parameter sets go in front of every keyframe, so that each
        // GOP decodes on its own, as it would from a TS stream.
        lp.annexb.clear();
        if au.keyframe {
            lp.annexb.extend_from_slice(&lp.parameter_sets);
        }
        lp.config.sample_to_annexb(&au.data, &mut lp.annexb);
        if self.gaps_allowed && annexb_nals(&lp.annexb).any(|n| nal_unit_type(n) == nal_type::SPS) {
            // A sample's own SPS (a recording keeps the sender's in front of
            // each keyframe) must allow the gaps too.
            lp.annexb = with_frame_num_gaps_allowed(&lp.annexb).unwrap_or(lp.annexb);
        }
        let result = self.decode_annexb(au, &lp.annexb, out);
        self.length_prefixed = Some(lp);
        result
    }

    fn decode_annexb(
        &mut self,
        au: &VideoPacket,
        data: &[u8],
        out: &mut dyn FnMut(Picture),
    ) -> Result<(), DecoderError> {
        if !has_coded_slice(data) {
            // openh264 would swallow it silently and its PTS would then be
            // handed to the next picture.
            self.output.stats.errors += 1;
            return Ok(());
        }
        let keyframe_sps = au
            .keyframe
            .then(|| annexb_nals(data).find(|n| nal_unit_type(n) == nal_type::SPS))
            .flatten()
            .and_then(parse_sps);
        if let Some(sps) = keyframe_sps {
            self.output.update_colour(&sps);
            self.check_format(&sps, out);
        }
        if self.unsupported.is_some() {
            self.output.stats.unsupported += 1;
            return Ok(());
        }
        if self.awaiting_keyframe {
            if !au.keyframe {
                self.output.stats.skipped_until_idr += 1;
                return Ok(());
            }
            self.awaiting_keyframe = false;
        }
        let decoder = match (&mut self.decoder, au.keyframe) {
            (Some(decoder), _) => decoder,
            (None, true) => {
                self.warned = false;
                let fresh = self.fresh_openh264()?;
                self.decoder.insert(fresh)
            }
            (None, false) => {
                self.output.stats.skipped_until_idr += 1;
                return Ok(());
            }
        };
        self.output.pending.push(au.pts);
        let (fatal, damaged) = match decoder.decode_concealing(data, au.pts as u64) {
            Ok(result) => {
                if let Some(yuv) = &result.picture {
                    self.output.emit(yuv, out);
                }
                (result.fatal(), result.damaged() || au.damaged)
            }
            Err(_) => (true, true),
        };
        if fatal {
            self.output.stats.errors += 1;
            self.warn_once("openh264 ran out of memory on a damaged access unit");
            // Pictures still held back in openh264 are dropped; those
            // already out carry their own PTS and are shown. A fresh
            // instance goes on at once: with concealment, the next
            // pictures are repaired from what it decodes, as ffmpeg's are.
            self.retire_decoder();
            self.output.release(out, true);
            self.decoder = Some(self.fresh_openh264()?);
        } else if damaged {
            self.output.stats.concealed += 1;
        }
        self.output.forget_vanished_pictures(out);
        Ok(())
    }

    /// Hands out every picture still held back for reordering, e.g. at the
    /// end of a stream. Decoding then resumes at the next IDR.
    pub fn flush(&mut self, out: &mut dyn FnMut(Picture)) {
        if let Some(mut decoder) = self.decoder.take() {
            // The last access unit's picture is finished by the end mark.
            if let Ok(result) = decoder.decode_concealing(&[], 0) {
                if let Some(yuv) = &result.picture {
                    self.output.emit(yuv, out);
                }
            }
            match decoder.flush_remaining() {
                Ok(pictures) => pictures.iter().for_each(|yuv| self.output.emit(yuv, out)),
                Err(_) => self.output.stats.errors += 1,
            }
        }
        self.retire_decoder();
        self.output.release(out, true);
    }

    /// Ends a GOP decoded on its own and keeps the openh264 instance for
    /// the next one: an access unit delimiter ends the last access unit,
    /// whose picture comes out, where [`flush`](Self::flush)'s end of
    /// stream would leave the instance unable to take another GOP. The
    /// next GOP's IDR resets openh264's references, so its pictures are
    /// those a fresh instance decodes, without setting up its picture
    /// buffers again (a memset of every buffer of the DPB).
    pub fn end_gop(&mut self, out: &mut dyn FnMut(Picture)) {
        let Some(decoder) = self.decoder.as_mut() else {
            return self.flush(out);
        };
        match decoder.decode_concealing(&ACCESS_UNIT_DELIMITER, 0) {
            Ok(result) => {
                if let Some(yuv) = &result.picture {
                    self.output.emit(yuv, out);
                }
            }
            Err(_) => return self.flush(out),
        }
        if self.output.pending.smallest().is_some() {
            // Something is still inside openh264: only a new instance is
            // sure not to hand it out later.
            return self.flush(out);
        }
        self.output.release(out, true);
        self.awaiting_keyframe = true;
        self.warned = false;
    }

    /// Which access units of a GOP are optional reference pictures (see
    /// `references`). Only for a track whose parameter sets this decoder
    /// feeds itself, rewritten to tell openh264 to expect the gaps: TS
    /// packets (their own parameter sets are replaced by the track's) and
    /// MP4 samples (their own SPS are rewritten too).
    fn optional_references(&self, packets: &[VideoPacket]) -> Vec<bool> {
        let none = vec![false; packets.len()];
        let mut sets = ParameterSets::default();
        let track_sets = match (&self.length_prefixed, &self.track_parameter_sets) {
            (Some(lp), _) => &lp.parameter_sets,
            (None, Some(sets)) => sets,
            (None, None) => return none,
        };
        annexb_nals(track_sets).for_each(|nal| sets.add(nal));
        let mut units = Vec::with_capacity(packets.len());
        for packet in packets {
            let unit = match &self.length_prefixed {
                Some(lp) => {
                    let nals =
                        || length_prefixed_nals(&packet.data, lp.config.nal_length_size as usize);
                    let rewritable = |n: &[u8]| {
                        nal_unit_type(n) != nal_type::SPS
                            || sps_allowing_frame_num_gaps(n).is_some()
                    };
                    if !nals().all(rewritable) {
                        return none;
                    }
                    Unit::read(nals(), &mut sets, true)
                }
                None => Unit::read(annexb_nals(&packet.data), &mut sets, false),
            };
            match unit {
                Some(unit) => units.push(unit),
                None => return none,
            }
        }
        optional_references(&units)
    }

    /// From now on openh264 gets the track's SPS with
    /// `gaps_in_frame_num_value_allowed_flag` set, so that a `frame_num`
    /// skipped on purpose is no loss to conceal; the next keyframe brings
    /// it. `false` when the parameter sets cannot be rewritten.
    fn allow_frame_num_gaps(&mut self) -> bool {
        if self.gaps_allowed {
            return true;
        }
        let sets = match (&mut self.length_prefixed, &mut self.track_parameter_sets) {
            (Some(lp), _) => &mut lp.parameter_sets,
            (None, Some(sets)) => sets,
            (None, None) => return false,
        };
        let Some(rewritten) = with_frame_num_gaps_allowed(sets) else {
            return false;
        };
        *sets = rewritten;
        self.gaps_allowed = true;
        true
    }

    /// See [`VideoDecoder::decode_optional`]. The access unit before this
    /// one is ended first (an access unit delimiter), so its picture comes
    /// out of openh264 and waits, behind this one's timestamp, to be shown
    /// to `wanted`.
    pub fn decode_optional(
        &mut self,
        au: &VideoPacket,
        out: &mut dyn FnMut(Picture),
        wanted: &mut dyn FnMut(Option<&Picture>) -> bool,
    ) -> Result<bool, DecoderError> {
        let ready = !self.awaiting_keyframe && self.unsupported.is_none() && !au.keyframe;
        let Some(decoder) = self.decoder.as_mut().filter(|_| ready && self.gaps_allowed) else {
            self.decode(au, out)?;
            return Ok(true);
        };
        self.output.pending.push(au.pts);
        self.output.last_emitted = None;
        if let Ok(result) = decoder.decode_concealing(&ACCESS_UNIT_DELIMITER, 0) {
            if let Some(yuv) = &result.picture {
                self.output.emit(yuv, out);
            }
        }
        self.output.pending.remove(au.pts);
        let latest = self
            .output
            .last_emitted
            .and_then(|pts| self.output.ready.get(&pts));
        if wanted(latest) {
            self.decode(au, out)?;
            return Ok(true);
        }
        self.output.release(out, false);
        Ok(false)
    }

    /// Follows the stream's format from each keyframe's SPS: a format
    /// openh264 cannot decode stops decoding (the pictures already decoded
    /// are handed out first) until a decodable one comes.
    fn check_format(&mut self, sps: &Sps, out: &mut dyn FnMut(Picture)) {
        let verdict = UnsupportedFormat::check(sps);
        if verdict == self.unsupported().copied() {
            return;
        }
        // Not logged here: a caller with many decoders (one per GOP) would
        // repeat it; callers report `unsupported_format` once.
        if verdict.is_some() {
            self.flush(out);
        }
        self.unsupported = verdict.map(|format| (format, format.to_string()));
    }

    /// A new openh264 instance, given the track's parameter sets.
    fn fresh_openh264(&self) -> Result<Decoder, DecoderError> {
        let mut fresh = open_openh264()?;
        if let Some(sets) = &self.track_parameter_sets {
            // Parameter sets alone produce no picture.
            let _ = fresh.decode_concealing(sets, 0);
        }
        Ok(fresh)
    }

    fn retire_decoder(&mut self) {
        self.decoder = None;
        self.output.give_up_pending();
    }

    /// One log line per burst of damage: the flag resets at the next keyframe.
    fn warn_once(&mut self, reason: &str) {
        if !self.warned {
            tracing::warn!(
                reason,
                "h264: skipping access units until the next keyframe"
            );
            self.warned = true;
        }
    }
}

impl VideoDecoder for H264Decoder {
    fn decode(
        &mut self,
        packet: &VideoPacket,
        out: &mut dyn FnMut(Picture),
    ) -> Result<(), DecoderError> {
        H264Decoder::decode(self, packet, out)
    }

    fn flush(&mut self, out: &mut dyn FnMut(Picture)) {
        H264Decoder::flush(self, out)
    }

    fn end_gop(&mut self, out: &mut dyn FnMut(Picture)) {
        H264Decoder::end_gop(self, out)
    }

    fn stats(&self) -> DecodeStats {
        H264Decoder::stats(self)
    }

    /// Why the stream is not being decoded, if its last SPS describes a
    /// format openh264 cannot decode (4:4:4, 4:2:2, 10-bit, interlaced).
    fn unsupported_format(&self) -> Option<&str> {
        self.unsupported.as_ref().map(|(_, text)| text.as_str())
    }

    /// Disposable: the access units whose slices all have `nal_ref_idc` 0;
    /// optional: x264's B-pyramid middle B-frames where nothing else
    /// refers to them (see `references`).
    fn plan_gop(&mut self, packets: &[VideoPacket]) -> Vec<PacketRole> {
        let optional = self.optional_references(packets);
        let optional_ok = optional.contains(&true) && self.allow_frame_num_gaps();
        packets
            .iter()
            .zip(optional)
            .map(|(p, o)| match (self.is_disposable(p), o && optional_ok) {
                (true, _) => PacketRole::Disposable,
                (false, true) => PacketRole::Optional,
                (false, false) => PacketRole::Reference,
            })
            .collect()
    }

    fn decode_optional(
        &mut self,
        packet: &VideoPacket,
        out: &mut dyn FnMut(Picture),
        wanted: &mut dyn FnMut(Option<&Picture>) -> bool,
    ) -> Result<bool, DecoderError> {
        H264Decoder::decode_optional(self, packet, out, wanted)
    }

    /// An access unit whose slices all have `nal_ref_idc` 0.
    fn is_disposable(&self, packet: &VideoPacket) -> bool {
        match &self.length_prefixed {
            Some(lp) => is_disposable(length_prefixed_nals(
                &packet.data,
                lp.config.nal_length_size as usize,
            )),
            None => is_disposable(annexb_nals(&packet.data)),
        }
    }
}

/// An Annex-B buffer with every SPS allowing gaps in `frame_num` (see
/// [`sps_allowing_frame_num_gaps`]); `None` if one cannot be rewritten.
fn with_frame_num_gaps_allowed(annexb: &[u8]) -> Option<Vec<u8>> {
    let mut rewritten = Vec::with_capacity(annexb.len() + 8);
    for nal in annexb_nals(annexb) {
        rewritten.extend_from_slice(&[0, 0, 0, 1]);
        match nal_unit_type(nal) {
            nal_type::SPS => rewritten.extend_from_slice(&sps_allowing_frame_num_gaps(nal)?),
            _ => rewritten.extend_from_slice(nal),
        }
    }
    Some(rewritten)
}

/// True when the access unit carries at least one coded slice (NAL types
/// 1..=5), i.e. can produce a picture.
fn has_coded_slice(access_unit: &[u8]) -> bool {
    annexb_nals(access_unit).any(|nal| (1..=5).contains(&nal_unit_type(nal)))
}

fn open_openh264() -> Result<Decoder, DecoderError> {
    // The default flush-after-every-decode mode fails most access units of
    // B-frame streams; pictures come out as reordering allows instead.
    // Concealment as ffmpeg does it: a damaged slice's macroblocks are
    // predicted from the previous picture with their neighbours' motion.
    let config = DecoderConfig::new()
        .flush_after_decode(Flush::NoFlush)
        .error_concealment(ErrorConcealment::SliceMvCopyCrossIdr);
    Decoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| DecoderError::Init {
        codec: VideoCodec::H264,
        reason: e.to_string(),
    })
}

impl PictureOutput {
    fn emit(&mut self, yuv: &DecodedYUV<'_>, out: &mut dyn FnMut(Picture)) {
        // openh264 hands back the PTS given with the picture's access unit;
        // a picture of no pending access unit would be an invented one.
        let pts = yuv.timestamp().as_millis() as i64;
        if !self.pending.remove(pts) {
            self.stats.errors += 1;
            return;
        }
        self.last_emitted = Some(pts);
        match copy_picture(yuv, pts, self.colour) {
            Some(picture) => {
                self.ready.insert(pts, picture);
            }
            None => self.stats.errors += 1,
        }
        self.release(out, false);
    }

    /// Hands out, in display order, the pictures no pending access unit
    /// can precede (all of them at the end).
    fn release(&mut self, out: &mut dyn FnMut(Picture), all: bool) {
        while let Some(entry) = self.ready.first_entry() {
            if !all && self.pending.smallest().is_some_and(|p| p < *entry.key()) {
                break;
            }
            let picture = entry.remove();
            if self.stats.concealed > 0 {
                self.last_out = Some(picture.clone());
            }
            self.stats.decoded += 1;
            out(picture);
        }
    }

    /// An access unit that will not come out as a picture (openh264
    /// dropped it, or the decoder is being replaced): the picture before
    /// it stands in, as frame-copy concealment does, so the stream keeps
    /// its pictures and timestamps; without one it is lost.
    fn stand_in(&mut self, pts: i64) {
        let before = self
            .ready
            .range(..pts)
            .next_back()
            .map(|(_, p)| p)
            .or(self.last_out.as_ref());
        match before {
            Some(p) if self.stats.concealed > 0 => {
                let copy = Picture { pts, ..p.clone() };
                self.ready.insert(pts, copy);
                self.stats.repeated += 1;
            }
            _ => self.stats.lost += 1,
        }
    }

    fn forget_vanished_pictures(&mut self, out: &mut dyn FnMut(Picture)) {
        while self.pending.len() > MAX_PENDING {
            if let Some(pts) = self.pending.pop_smallest() {
                self.stand_in(pts);
            }
        }
        self.release(out, false);
    }

    /// Everything still pending is given up (the decoder goes).
    fn give_up_pending(&mut self) {
        while let Some(pts) = self.pending.pop_smallest() {
            self.stand_in(pts);
        }
    }

    /// Takes the colour description of a keyframe's SPS.
    fn update_colour(&mut self, sps: &Sps) {
        if let Some(info) = sps.colour {
            self.colour = info;
        }
    }
}
