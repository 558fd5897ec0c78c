//! The video decoder interface and the registry that picks a decoder by
//! codec, so that no stage names a decoder crate.

use serde::Serialize;

pub use crate::error::DecoderError;
use crate::packet::VideoPacket;
use crate::params::{VideoCodec, VideoParams};
use crate::picture::Picture;

/// Counters of what happened to the packets fed to a decoder.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DecodeStats {
    /// Pictures handed out.
    pub decoded: u64,
    /// Packets the demuxer flagged damaged; not decoded.
    pub skipped_damaged: u64,
    /// Packets dropped while waiting for a keyframe to resynchronise (after
    /// damage or a decoder error, or when a stream is joined mid-GOP).
    pub skipped_until_idr: u64,
    /// Packets the decoder refused (corrupt data, missing references) or
    /// that hold no coded picture at all.
    pub errors: u64,
    /// Packets that went into the decoder but never came out as a picture
    /// (refused, or still held back when the decoder resynchronised).
    pub lost: u64,
    /// Packets of a stream format the decoder cannot decode (see
    /// [`VideoDecoder::unsupported_format`]); not decoded.
    pub unsupported: u64,
    /// Packets that were damaged (in transport or in their bits) and were
    /// decoded with the damaged parts concealed from the previous picture.
    pub concealed: u64,
    /// Damaged packets that could not be decoded at all: the picture before
    /// them was handed out again with their timestamp (frame-copy
    /// concealment), so the stream keeps one picture per packet.
    pub repeated: u64,
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
        self.concealed += b.concealed;
        self.repeated += b.repeated;
    }
}

impl std::ops::Sub for DecodeStats {
    type Output = DecodeStats;
    /// What happened between two readings of one decoder's totals.
    fn sub(self, b: DecodeStats) -> DecodeStats {
        DecodeStats {
            decoded: self.decoded.saturating_sub(b.decoded),
            skipped_damaged: self.skipped_damaged.saturating_sub(b.skipped_damaged),
            skipped_until_idr: self.skipped_until_idr.saturating_sub(b.skipped_until_idr),
            errors: self.errors.saturating_sub(b.errors),
            lost: self.lost.saturating_sub(b.lost),
            unsupported: self.unsupported.saturating_sub(b.unsupported),
            concealed: self.concealed.saturating_sub(b.concealed),
            repeated: self.repeated.saturating_sub(b.repeated),
        }
    }
}

/// A video decoder for one track: packets in decode order in, pictures in
/// display order out, each with the presentation time of the packet it was
/// coded in.
///
/// Bad input (damaged or undecodable packets) is a counted skip in
/// [`DecodeStats`], never an error: decoding resumes at the next keyframe.
pub trait VideoDecoder: Send {
    /// Decodes one packet and hands every picture that became ready to
    /// `out`. `Err` only when the decoder itself cannot go on (a fresh
    /// library instance cannot be created).
    fn decode(
        &mut self,
        packet: &VideoPacket,
        out: &mut dyn FnMut(Picture),
    ) -> Result<(), DecoderError>;

    /// Hands out every picture still held back for reordering, e.g. at the
    /// end of a stream. Decoding then resumes at the next keyframe.
    fn flush(&mut self, out: &mut dyn FnMut(Picture));

    /// Ends a GOP decoded on its own: hands out every picture still held
    /// back, as [`flush`](Self::flush) does, and leaves the decoder ready
    /// for another GOP of the same track, which must begin with a keyframe
    /// (other packets are skipped until one comes). A decoder that can keep
    /// its state (picture buffers) across GOPs spares the setup a fresh one
    /// costs; the pictures are the same. Defaults to `flush`.
    fn end_gop(&mut self, out: &mut dyn FnMut(Picture)) {
        self.flush(out);
    }

    /// What happened to the packets so far.
    fn stats(&self) -> DecodeStats;

    /// Why the stream is not being decoded, if its format (profile, chroma
    /// format, bit depth...) is one this decoder cannot decode: a sentence
    /// that says what the sender should change.
    fn unsupported_format(&self) -> Option<&str>;

    /// Whether `packet` may be left undecoded at the cost of its own picture
    /// only: no other picture is predicted from it (an H.264 picture with
    /// `nal_ref_idc` 0, most B-frames). Callers that need fewer pictures
    /// (the default detector offline) skip such packets.
    fn is_disposable(&self, packet: &VideoPacket) -> bool {
        let _ = packet;
        false
    }

    /// What each packet of a GOP (a keyframe and the packets up to the
    /// next) is to the others, for a caller that decodes only some of its
    /// pictures. The decoder also gets ready to take the GOP with packets
    /// left out as the roles allow. Defaults to
    /// [`is_disposable`](Self::is_disposable) for each packet.
    fn plan_gop(&mut self, packets: &[VideoPacket]) -> Vec<PacketRole> {
        packets
            .iter()
            .map(|p| match self.is_disposable(p) {
                true => PacketRole::Disposable,
                false => PacketRole::Reference,
            })
            .collect()
    }

    /// Decodes `packet`, which [`plan_gop`](Self::plan_gop) called
    /// [`PacketRole::Optional`], only if `wanted` says so when shown the
    /// picture decoded last, not handed out yet (for a B-frame in the
    /// middle of a run, the picture after the run); returns whether it was
    /// decoded. Defaults to decoding it.
    fn decode_optional(
        &mut self,
        packet: &VideoPacket,
        out: &mut dyn FnMut(Picture),
        wanted: &mut dyn FnMut(Option<&Picture>) -> bool,
    ) -> Result<bool, DecoderError> {
        let _ = wanted;
        self.decode(packet, out)?;
        Ok(true)
    }
}

/// What a packet of a GOP is to the pictures decoded after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketRole {
    /// Other pictures are predicted from it: it is always decoded.
    Reference,
    /// No picture is predicted from it (H.264 `nal_ref_idc` 0): leaving it
    /// undecoded loses its own picture only.
    Disposable,
    /// Pictures are predicted from it, but only disposable and other
    /// optional ones: when those are left undecoded, it may be too
    /// ([`VideoDecoder::decode_optional`]), and any other optional one
    /// decoded or not. x264's B-pyramid reference B-frames with one
    /// reference frame (`veryfast`).
    Optional,
}

/// Makes a decoder for a track.
pub type VideoDecoderFactory = fn(&VideoParams) -> Result<Box<dyn VideoDecoder>, DecoderError>;

/// The decoders available, by codec (as Symphonia's codec registry).
/// Decoder crates register themselves; stages ask for a decoder by the
/// track's parameters and get [`DecoderError::NoDecoder`] for a codec
/// nobody registered.
#[derive(Debug, Clone, Default)]
pub struct DecoderRegistry {
    video: Vec<(VideoCodec, VideoDecoderFactory)>,
}

impl DecoderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the decoder for `codec`.
    pub fn register_video(&mut self, codec: VideoCodec, factory: VideoDecoderFactory) {
        self.video.retain(|(c, _)| *c != codec);
        self.video.push((codec, factory));
    }

    /// True when a decoder for `codec` is registered.
    pub fn decodes(&self, codec: VideoCodec) -> bool {
        self.video.iter().any(|(c, _)| *c == codec)
    }

    /// A decoder for a track with these parameters.
    pub fn video_decoder(
        &self,
        params: &VideoParams,
    ) -> Result<Box<dyn VideoDecoder>, DecoderError> {
        let factory = self
            .video
            .iter()
            .find(|(c, _)| *c == params.codec)
            .map(|(_, f)| f)
            .ok_or(DecoderError::NoDecoder(params.codec))?;
        factory(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::PacketFormat;

    struct Counting(DecodeStats);

    impl VideoDecoder for Counting {
        fn decode(
            &mut self,
            packet: &VideoPacket,
            out: &mut dyn FnMut(Picture),
        ) -> Result<(), DecoderError> {
            self.0.decoded += 1;
            out(Picture {
                pts: packet.pts,
                width: 2,
                height: 2,
                y: vec![16; 4],
                u: vec![128],
                v: vec![128],
                y_stride: 2,
                uv_stride: 1,
                colour: Default::default(),
            });
            Ok(())
        }
        fn flush(&mut self, _out: &mut dyn FnMut(Picture)) {}
        fn stats(&self) -> DecodeStats {
            self.0
        }
        fn unsupported_format(&self) -> Option<&str> {
            None
        }
    }

    fn counting(_: &VideoParams) -> Result<Box<dyn VideoDecoder>, DecoderError> {
        Ok(Box::new(Counting(DecodeStats::default())))
    }

    fn params(codec: VideoCodec) -> VideoParams {
        VideoParams {
            codec,
            width: 2,
            height: 2,
            format: PacketFormat::Elementary,
            extra_data: Default::default(),
        }
    }

    #[test]
    fn registry_finds_decoders_by_codec_and_names_missing_ones() {
        let mut registry = DecoderRegistry::new();
        registry.register_video(VideoCodec::H264, counting);
        assert!(registry.decodes(VideoCodec::H264));
        let mut decoder = registry
            .video_decoder(&params(VideoCodec::H264))
            .expect("registered");
        let packet = VideoPacket {
            pts: 3000,
            dts: 3000,
            keyframe: true,
            damaged: false,
            data: Default::default(),
        };
        let mut pts = Vec::new();
        decoder
            .decode(&packet, &mut |p| pts.push(p.pts))
            .expect("decodes");
        assert_eq!((pts, decoder.stats().decoded), (vec![3000], 1));
        let missing = registry.video_decoder(&params(VideoCodec::Hevc));
        let message = missing.err().map(|e| e.to_string()).unwrap_or_default();
        assert!(message.starts_with("HEVC cannot be decoded"), "{message}");
    }
}
