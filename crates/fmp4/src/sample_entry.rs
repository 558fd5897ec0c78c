//! The `stsd` sample entries cht records, one per codec: `avc1` + `avcC`
//! for H.264 and `mp4a` + `esds` for AAC.
//!
//! This is the extension point for new codecs (`hvc1` + `hvcC`, `.mp3`,
//! `ac-3` + `dac3`, `Opus` + `dOps`): a [`SampleEntry`] says how the codec
//! is described in `moov` and how its packets are stored as samples, and
//! [`for_video`] / [`for_audio`] pick it by codec. Everything else in the
//! writer is codec-neutral.

use cht_core::aac::AacConfig;
use cht_core::h264::{annexb_nals, annexb_to_avcc, AvcDecoderConfig};
use cht_core::{AudioParams, PacketFormat, VideoCodec, VideoParams, CLOCK_HZ};

use crate::box_writer::{begin_box, begin_full_box, end_box, PutBe};
use crate::error::Fmp4Error;
use crate::movie::TrackKind;

/// How one codec is described in `stsd` and how its packets become samples.
pub(crate) trait SampleEntry: Send {
    /// Video or audio: the handler, media header and `tkhd` fields follow.
    fn kind(&self) -> TrackKind;
    /// Units per second of the track's timeline.
    fn timescale(&self) -> u32;
    /// Presentation size for `tkhd` (0 x 0 for audio).
    fn size(&self) -> (u32, u32);
    /// Appends the sample entry box.
    fn write(&self, buf: &mut Vec<u8>, track_id: u32);
    /// False for a packet that holds nothing this codec can store.
    fn accepts(&self, packet: &[u8]) -> bool;
    /// Appends one packet as the codec's MP4 samples store it; returns the
    /// bytes appended.
    fn append_sample(&self, packet: &[u8], out: &mut Vec<u8>) -> usize;
}

/// The sample entry of a video track with these parameters.
pub(crate) fn for_video(params: &VideoParams) -> Result<Box<dyn SampleEntry>, Fmp4Error> {
    match params.codec {
        VideoCodec::H264 => Ok(Box::new(Avc1::new(params)?)),
        other => Err(Fmp4Error::UnsupportedCodec(other.name())),
    }
}

/// The sample entry of an audio track with these parameters.
pub(crate) fn for_audio(params: &AudioParams) -> Result<Box<dyn SampleEntry>, Fmp4Error> {
    match AacConfig::of(params) {
        Some(config) => Ok(Box::new(Mp4a::new(config)?)),
        None if params.codec == cht_core::AudioCodec::Aac => Err(Fmp4Error::InvalidConfig(
            "AAC without a readable AudioSpecificConfig",
        )),
        None => Err(Fmp4Error::UnsupportedCodec(params.codec.name())),
    }
}

/// H.264: `avc1` with `avcC`; samples are NAL units with 4-byte lengths.
struct Avc1 {
    width: u16,
    height: u16,
    format: PacketFormat,
    /// The avcC record, as the samples are stored (4-byte lengths).
    record: Vec<u8>,
}

impl Avc1 {
    fn new(params: &VideoParams) -> Result<Self, Fmp4Error> {
        let width = u16::try_from(params.width)
            .map_err(|_| Fmp4Error::InvalidConfig("width over 65535"))?;
        let height = u16::try_from(params.height)
            .map_err(|_| Fmp4Error::InvalidConfig("height over 65535"))?;
        let mut config = AvcDecoderConfig::parse(&params.extra_data)
            .map_err(|_| Fmp4Error::InvalidConfig("unreadable avcC record"))?;
        let valid =
            |sets: &[bytes::Bytes], min: usize| sets.first().is_some_and(|s| s.len() >= min);
        if !valid(&config.sps, 4) || !valid(&config.pps, 1) {
            return Err(Fmp4Error::InvalidConfig("missing SPS or PPS"));
        }
        config.nal_length_size = 4;
        Ok(Avc1 {
            width,
            height,
            format: params.format,
            record: config.to_bytes(),
        })
    }
}

impl SampleEntry for Avc1 {
    fn kind(&self) -> TrackKind {
        TrackKind::Video
    }

    fn timescale(&self) -> u32 {
        CLOCK_HZ
    }

    fn size(&self) -> (u32, u32) {
        (u32::from(self.width), u32::from(self.height))
    }

    fn write(&self, buf: &mut Vec<u8>, _track_id: u32) {
        let entry = begin_box(buf, b"avc1");
        buf.put_zeros(6);
        buf.put_u16(1); // data_reference_index: the one `url ` entry in dref
        buf.put_zeros(16); // pre_defined, reserved, pre_defined[3]
        buf.put_u16(self.width);
        buf.put_u16(self.height);
        buf.put_u32(0x0048_0000); // 72 dpi
        buf.put_u32(0x0048_0000);
        buf.put_u32(0);
        buf.put_u16(1); // frame_count
        buf.put_zeros(32); // compressorname
        buf.put_u16(0x0018); // depth
        buf.put_u16(0xffff); // pre_defined = -1
        let avcc = begin_box(buf, b"avcC");
        buf.extend_from_slice(&self.record);
        end_box(buf, avcc);
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        match self.format {
            PacketFormat::Elementary => annexb_nals(packet).next().is_some(),
            PacketFormat::LengthPrefixed { .. } => !packet.is_empty(),
        }
    }

    fn append_sample(&self, packet: &[u8], out: &mut Vec<u8>) -> usize {
        match self.format {
            PacketFormat::Elementary => annexb_to_avcc(packet, out),
            PacketFormat::LengthPrefixed { length_size: 4 } => {
                out.extend_from_slice(packet);
                packet.len()
            }
            PacketFormat::LengthPrefixed { length_size } => {
                relength(packet, usize::from(length_size), out)
            }
        }
    }
}

/// Rewrites NAL units with `from`-byte lengths to 4-byte lengths.
fn relength(packet: &[u8], from: usize, out: &mut Vec<u8>) -> usize {
    let before = out.len();
    let mut pos = 0;
    while pos + from <= packet.len() {
        let len = packet[pos..pos + from]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | usize::from(b));
        pos += from;
        let Some(nal) = packet.get(pos..pos + len) else {
            break;
        };
        out.extend_from_slice(&(len as u32).to_be_bytes());
        out.extend_from_slice(nal);
        pos += len;
    }
    out.len() - before
}

/// AAC: `mp4a` with `esds`; samples are raw AAC frames.
struct Mp4a {
    config: AacConfig,
}

impl Mp4a {
    fn new(config: AacConfig) -> Result<Self, Fmp4Error> {
        if config.sample_rate == 0 || config.channel_config == 0 {
            return Err(Fmp4Error::InvalidConfig(
                "AAC without sample rate or channel configuration",
            ));
        }
        Ok(Mp4a { config })
    }

    fn write_esds(&self, buf: &mut Vec<u8>, track_id: u32) {
        let asc = self.config.audio_specific_config();
        let esds = begin_full_box(buf, b"esds", 0, 0);
        // Descriptor lengths below are single bytes: every payload is < 128.
        let decoder_specific_len = asc.len() as u8;
        let decoder_config_len = 13 + 2 + decoder_specific_len;
        let sl_config_len = 1u8;
        let es_len = 3 + 2 + decoder_config_len + 2 + sl_config_len;
        buf.put_u8(0x03); // ES_DescrTag
        buf.put_u8(es_len);
        buf.put_u16(track_id as u16);
        buf.put_u8(0); // no stream dependence, URL or OCR stream
        buf.put_u8(0x04); // DecoderConfigDescrTag
        buf.put_u8(decoder_config_len);
        buf.put_u8(0x40); // objectTypeIndication: MPEG-4 Audio
        buf.put_u8((0x05 << 2) | 1); // streamType audio, upStream 0, reserved 1
        buf.put_u8(0);
        buf.put_u16(0); // bufferSizeDB (24 bits, unknown)
        buf.put_u32(0); // maxBitrate (unknown)
        buf.put_u32(0); // avgBitrate (unknown)
        buf.put_u8(0x05); // DecSpecificInfoTag
        buf.put_u8(decoder_specific_len);
        buf.extend_from_slice(&asc);
        buf.put_u8(0x06); // SLConfigDescrTag
        buf.put_u8(sl_config_len);
        buf.put_u8(0x02); // predefined: reserved for MP4 files
        end_box(buf, esds);
    }
}

impl SampleEntry for Mp4a {
    fn kind(&self) -> TrackKind {
        TrackKind::Audio
    }

    fn timescale(&self) -> u32 {
        self.config.sample_rate
    }

    fn size(&self) -> (u32, u32) {
        (0, 0)
    }

    fn write(&self, buf: &mut Vec<u8>, track_id: u32) {
        let entry = begin_box(buf, b"mp4a");
        buf.put_zeros(6);
        buf.put_u16(1); // data_reference_index
        buf.put_zeros(8); // version, revision, vendor
        buf.put_u16(self.config.channels());
        buf.put_u16(16); // samplesize
        buf.put_u32(0); // pre_defined, reserved
                        // 16.16 fixed point cannot hold 88.2/96 kHz; decoders use the ASC then.
        let rate = if self.config.sample_rate <= 0xffff {
            self.config.sample_rate << 16
        } else {
            0
        };
        buf.put_u32(rate);
        self.write_esds(buf, track_id);
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        !packet.is_empty()
    }

    fn append_sample(&self, packet: &[u8], out: &mut Vec<u8>) -> usize {
        out.extend_from_slice(packet);
        packet.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_prefixes_are_rewritten_to_four_bytes() {
        let mut out = Vec::new();
        assert_eq!(relength(&[0, 2, 0x65, 1, 0, 1, 0x41, 9], 2, &mut out), 11);
        assert_eq!(out, [0, 0, 0, 2, 0x65, 1, 0, 0, 0, 1, 0x41]);
    }

    #[test]
    fn codecs_without_a_sample_entry_are_named() {
        let params = VideoParams {
            codec: VideoCodec::Hevc,
            width: 64,
            height: 64,
            format: PacketFormat::Elementary,
            extra_data: Default::default(),
        };
        let error = for_video(&params).err().map(|e| e.to_string());
        assert_eq!(
            error.as_deref(),
            Some("HEVC cannot be recorded yet: no MP4 sample entry for it")
        );
    }
}
