//! The `stsd` sample entries cht records, one per codec: `avc1` + `avcC`
//! (H.264), `hvc1` + `hvcC` (HEVC), `mp4v` + `esds` (MPEG-2 video),
//! `mp4a` + `esds` (AAC; MPEG audio as object type 0x6B/0x69), `ac-3` +
//! `dac3` and `ec-3` + `dec3` (AC-3, E-AC-3), `Opus` + `dOps`.
//!
//! This is the extension point for new codecs: a [`SampleEntry`] says how
//! the codec is described in `moov` and how its packets are stored as
//! samples, and [`for_video`] / [`for_audio`] pick it by codec. Everything
//! else in the writer is codec-neutral.

use cht_core::aac::{AacConfig, ProgramConfig};
use cht_core::h264::{annexb_nals, annexb_to_avcc, AvcDecoderConfig};
use cht_core::hevc::HevcDecoderConfig;
use cht_core::mpeg2::SequenceHeader;
use cht_core::{AudioCodec, AudioParams, PacketFormat, VideoCodec, VideoParams, CLOCK_HZ};

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
    fn append_sample(&self, packet: &[u8], out: &mut Vec<u8>) -> usize {
        out.extend_from_slice(packet);
        packet.len()
    }
}

/// The sample entry of a video track with these parameters.
pub(crate) fn for_video(params: &VideoParams) -> Result<Box<dyn SampleEntry>, Fmp4Error> {
    Ok(match params.codec {
        VideoCodec::H264 => Box::new(NalVideo::avc1(params)?),
        VideoCodec::Hevc => Box::new(NalVideo::hvc1(params)?),
        VideoCodec::Mpeg2Video => Box::new(Mp4v::new(params)?),
    })
}

/// The sample entry of an audio track with these parameters.
pub(crate) fn for_audio(params: &AudioParams) -> Result<Box<dyn SampleEntry>, Fmp4Error> {
    match params.codec {
        AudioCodec::Aac => match AacConfig::of(params) {
            Some(config) => Ok(Box::new(Mp4a::aac(config, params)?)),
            None => Err(Fmp4Error::InvalidConfig(
                "AAC without a readable AudioSpecificConfig",
            )),
        },
        AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3 => Ok(Box::new(Mp4a::mpeg(params)?)),
        AudioCodec::Ac3 | AudioCodec::Eac3 => Ok(Box::new(Dolby::new(params)?)),
        AudioCodec::Opus => Ok(Box::new(Opus::new(params)?)),
    }
}

/// Writes a `VisualSampleEntry`'s fields up to its child boxes.
fn write_visual_fields(buf: &mut Vec<u8>, width: u16, height: u16) {
    buf.put_zeros(6);
    buf.put_u16(1); // data_reference_index: the one `url ` entry in dref
    buf.put_zeros(16); // pre_defined, reserved, pre_defined[3]
    buf.put_u16(width);
    buf.put_u16(height);
    buf.put_u32(0x0048_0000); // 72 dpi
    buf.put_u32(0x0048_0000);
    buf.put_u32(0);
    buf.put_u16(1); // frame_count
    buf.put_zeros(32); // compressorname
    buf.put_u16(0x0018); // depth
    buf.put_u16(0xffff); // pre_defined = -1
}

/// Writes an `AudioSampleEntry`'s fields up to its child boxes.
fn write_audio_fields(buf: &mut Vec<u8>, channels: u16, sample_rate: u32) {
    buf.put_zeros(6);
    buf.put_u16(1); // data_reference_index
    buf.put_zeros(8); // version, revision, vendor
    buf.put_u16(channels);
    buf.put_u16(16); // samplesize
    buf.put_u32(0); // pre_defined, reserved
                    // 16.16 fixed point cannot hold 88.2/96 kHz; decoders use the
                    // configuration record then.
    let rate = if sample_rate <= 0xffff {
        sample_rate << 16
    } else {
        0
    };
    buf.put_u32(rate);
}

fn size_u16(params: &VideoParams) -> Result<(u16, u16), Fmp4Error> {
    let width =
        u16::try_from(params.width).map_err(|_| Fmp4Error::InvalidConfig("width over 65535"))?;
    let height =
        u16::try_from(params.height).map_err(|_| Fmp4Error::InvalidConfig("height over 65535"))?;
    Ok((width, height))
}

/// H.264 (`avc1` + `avcC`) and HEVC (`hvc1` + `hvcC`): samples are NAL
/// units with 4-byte lengths, the parameter sets also kept in band.
struct NalVideo {
    fourcc: &'static [u8; 4],
    record_fourcc: &'static [u8; 4],
    width: u16,
    height: u16,
    format: PacketFormat,
    /// The decoder configuration record, as the samples are stored
    /// (4-byte lengths).
    record: Vec<u8>,
}

impl NalVideo {
    fn avc1(params: &VideoParams) -> Result<Self, Fmp4Error> {
        let (width, height) = size_u16(params)?;
        let mut config = AvcDecoderConfig::parse(&params.extra_data)
            .map_err(|_| Fmp4Error::InvalidConfig("unreadable avcC record"))?;
        let valid =
            |sets: &[bytes::Bytes], min: usize| sets.first().is_some_and(|s| s.len() >= min);
        if !valid(&config.sps, 4) || !valid(&config.pps, 1) {
            return Err(Fmp4Error::InvalidConfig("missing SPS or PPS"));
        }
        config.nal_length_size = 4;
        Ok(NalVideo {
            fourcc: b"avc1",
            record_fourcc: b"avcC",
            width,
            height,
            format: params.format,
            record: config.to_bytes(),
        })
    }

    fn hvc1(params: &VideoParams) -> Result<Self, Fmp4Error> {
        let (width, height) = size_u16(params)?;
        let mut config = HevcDecoderConfig::parse(&params.extra_data)
            .map_err(|_| Fmp4Error::InvalidConfig("unreadable hvcC record"))?;
        if config.first_sps().is_none() {
            return Err(Fmp4Error::InvalidConfig("missing or unreadable HEVC SPS"));
        }
        config.nal_length_size = 4;
        Ok(NalVideo {
            fourcc: b"hvc1",
            record_fourcc: b"hvcC",
            width,
            height,
            format: params.format,
            record: config.to_bytes(),
        })
    }
}

impl SampleEntry for NalVideo {
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
        let entry = begin_box(buf, self.fourcc);
        write_visual_fields(buf, self.width, self.height);
        let record = begin_box(buf, self.record_fourcc);
        buf.extend_from_slice(&self.record);
        end_box(buf, record);
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

/// Writes a descriptor tag and its length (one byte below 128, otherwise
/// the 4-byte form).
fn put_descriptor_header(buf: &mut Vec<u8>, tag: u8, len: usize) {
    buf.put_u8(tag);
    if len < 0x80 {
        buf.put_u8(len as u8);
    } else {
        let len = len.min(0x0fff_ffff) as u32;
        for shift in [21, 14, 7] {
            buf.put_u8(0x80 | ((len >> shift) & 0x7f) as u8);
        }
        buf.put_u8((len & 0x7f) as u8);
    }
}

fn descriptor_len(len: usize) -> usize {
    if len < 0x80 {
        2 + len
    } else {
        5 + len
    }
}

/// An `esds` box: one ES descriptor with its decoder configuration
/// (`objectTypeIndication`, stream type, decoder specific info).
fn write_esds(buf: &mut Vec<u8>, track_id: u32, object_type: u8, stream_type: u8, dsi: &[u8]) {
    let esds = begin_full_box(buf, b"esds", 0, 0);
    let dsi_len = if dsi.is_empty() {
        0
    } else {
        descriptor_len(dsi.len())
    };
    let decoder_config_len = 13 + dsi_len;
    let sl_config_len = 1;
    let es_len = 3 + descriptor_len(decoder_config_len) + descriptor_len(sl_config_len);
    put_descriptor_header(buf, 0x03, es_len); // ES_DescrTag
    buf.put_u16(track_id as u16);
    buf.put_u8(0); // no stream dependence, URL or OCR stream
    put_descriptor_header(buf, 0x04, decoder_config_len); // DecoderConfigDescrTag
    buf.put_u8(object_type);
    buf.put_u8((stream_type << 2) | 1); // upStream 0, reserved 1
    buf.put_u8(0);
    buf.put_u16(0); // bufferSizeDB (24 bits, unknown)
    buf.put_u32(0); // maxBitrate (unknown)
    buf.put_u32(0); // avgBitrate (unknown)
    if !dsi.is_empty() {
        put_descriptor_header(buf, 0x05, dsi.len()); // DecSpecificInfoTag
        buf.extend_from_slice(dsi);
    }
    put_descriptor_header(buf, 0x06, sl_config_len); // SLConfigDescrTag
    buf.put_u8(0x02); // predefined: reserved for MP4 files
    end_box(buf, esds);
}

/// Stream types of the MPEG-4 systems layer.
const VISUAL_STREAM: u8 = 0x04;
const AUDIO_STREAM: u8 = 0x05;

/// MPEG-2 (and MPEG-1) video: `mp4v` with `esds` (object type 0x60..=0x65
/// by profile, 0x6A for MPEG-1); samples are the coded pictures as sent,
/// the decoder configuration the sequence header.
struct Mp4v {
    width: u16,
    height: u16,
    object_type: u8,
    sequence: Vec<u8>,
}

impl Mp4v {
    fn new(params: &VideoParams) -> Result<Self, Fmp4Error> {
        let (width, height) = size_u16(params)?;
        let header = SequenceHeader::parse(&params.extra_data).ok_or(Fmp4Error::InvalidConfig(
            "unreadable MPEG-2 sequence header",
        ))?;
        Ok(Mp4v {
            width,
            height,
            object_type: header.object_type(),
            sequence: params.extra_data.to_vec(),
        })
    }
}

impl SampleEntry for Mp4v {
    fn kind(&self) -> TrackKind {
        TrackKind::Video
    }

    fn timescale(&self) -> u32 {
        CLOCK_HZ
    }

    fn size(&self) -> (u32, u32) {
        (u32::from(self.width), u32::from(self.height))
    }

    fn write(&self, buf: &mut Vec<u8>, track_id: u32) {
        let entry = begin_box(buf, b"mp4v");
        write_visual_fields(buf, self.width, self.height);
        write_esds(
            buf,
            track_id,
            self.object_type,
            VISUAL_STREAM,
            &self.sequence,
        );
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        !packet.is_empty()
    }
}

/// `mp4a` with `esds`: AAC (object type 0x40, the AudioSpecificConfig as
/// decoder specific info; samples are raw AAC frames) or MPEG audio (0x6B
/// or 0x69, no decoder specific info; samples are whole frames).
struct Mp4a {
    object_type: u8,
    sample_rate: u32,
    channels: u16,
    dsi: Vec<u8>,
}

impl Mp4a {
    fn aac(config: AacConfig, params: &AudioParams) -> Result<Self, Fmp4Error> {
        if config.sample_rate == 0 {
            return Err(Fmp4Error::InvalidConfig("AAC without a sample rate"));
        }
        let channels = match config.channel_config {
            0 => ProgramConfig::from_audio_specific_config(&params.extra_data)
                .map(|pce| pce.channels())
                .ok_or(Fmp4Error::InvalidConfig(
                    "AAC whose channel layout (a program config element, sent in the \
                     stream's first frame only) never arrived: the stream was joined late; \
                     restart the sender while cht listens, or send `-ac 2` or `-ac 6`",
                ))?,
            _ => config.channels(),
        };
        Ok(Mp4a {
            object_type: 0x40,
            sample_rate: config.sample_rate,
            channels,
            // As received: LATM configurations may be longer than 2 bytes.
            dsi: params.extra_data.to_vec(),
        })
    }

    fn mpeg(params: &AudioParams) -> Result<Self, Fmp4Error> {
        if params.sample_rate == 0 || params.channels == 0 {
            return Err(Fmp4Error::InvalidConfig(
                "MPEG audio without sample rate or channels",
            ));
        }
        Ok(Mp4a {
            object_type: cht_core::mpa::object_type(params.sample_rate),
            sample_rate: params.sample_rate,
            channels: params.channels,
            dsi: Vec::new(),
        })
    }
}

impl SampleEntry for Mp4a {
    fn kind(&self) -> TrackKind {
        TrackKind::Audio
    }

    fn timescale(&self) -> u32 {
        self.sample_rate
    }

    fn size(&self) -> (u32, u32) {
        (0, 0)
    }

    fn write(&self, buf: &mut Vec<u8>, track_id: u32) {
        let entry = begin_box(buf, b"mp4a");
        write_audio_fields(buf, self.channels, self.sample_rate);
        write_esds(buf, track_id, self.object_type, AUDIO_STREAM, &self.dsi);
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        !packet.is_empty()
    }
}

/// AC-3 (`ac-3` + `dac3`) and E-AC-3 (`ec-3` + `dec3`): samples are whole
/// sync frames.
struct Dolby {
    eac3: bool,
    sample_rate: u32,
    channels: u16,
    specific: Vec<u8>,
}

impl Dolby {
    fn new(params: &AudioParams) -> Result<Self, Fmp4Error> {
        let eac3 = params.codec == AudioCodec::Eac3;
        let expected = if eac3 { 5 } else { 3 };
        if params.extra_data.len() < expected || params.sample_rate == 0 {
            return Err(Fmp4Error::InvalidConfig(
                "AC-3 without its dac3/dec3 fields",
            ));
        }
        Ok(Dolby {
            eac3,
            sample_rate: params.sample_rate,
            channels: params.channels,
            specific: params.extra_data.to_vec(),
        })
    }
}

impl SampleEntry for Dolby {
    fn kind(&self) -> TrackKind {
        TrackKind::Audio
    }

    fn timescale(&self) -> u32 {
        self.sample_rate
    }

    fn size(&self) -> (u32, u32) {
        (0, 0)
    }

    fn write(&self, buf: &mut Vec<u8>, _track_id: u32) {
        let (fourcc, specific) = if self.eac3 {
            (b"ec-3", b"dec3")
        } else {
            (b"ac-3", b"dac3")
        };
        let entry = begin_box(buf, fourcc);
        write_audio_fields(buf, self.channels, self.sample_rate);
        let child = begin_box(buf, specific);
        buf.extend_from_slice(&self.specific);
        end_box(buf, child);
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        packet.starts_with(&[0x0b, 0x77])
    }
}

/// Opus: `Opus` with `dOps`; samples are Opus packets (48 kHz timeline).
struct Opus {
    channels: u16,
    dops: Vec<u8>,
}

impl Opus {
    fn new(params: &AudioParams) -> Result<Self, Fmp4Error> {
        if cht_core::opus::OpusConfig::from_dops(&params.extra_data).is_none() {
            return Err(Fmp4Error::InvalidConfig("Opus without its dOps fields"));
        }
        Ok(Opus {
            channels: params.channels,
            dops: params.extra_data.to_vec(),
        })
    }
}

impl SampleEntry for Opus {
    fn kind(&self) -> TrackKind {
        TrackKind::Audio
    }

    fn timescale(&self) -> u32 {
        cht_core::opus::SAMPLE_RATE
    }

    fn size(&self) -> (u32, u32) {
        (0, 0)
    }

    fn write(&self, buf: &mut Vec<u8>, _track_id: u32) {
        let entry = begin_box(buf, b"Opus");
        write_audio_fields(buf, self.channels, cht_core::opus::SAMPLE_RATE);
        let dops = begin_box(buf, b"dOps");
        buf.extend_from_slice(&self.dops);
        end_box(buf, dops);
        end_box(buf, entry);
    }

    fn accepts(&self, packet: &[u8]) -> bool {
        !packet.is_empty()
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
    fn unusable_configurations_are_refused_with_the_reason() {
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
            Some("invalid codec configuration: unreadable hvcC record")
        );
        let opus = AudioParams {
            track: 0,
            codec: AudioCodec::Opus,
            sample_rate: 48000,
            channels: 2,
            frame_samples: 960,
            extra_data: Default::default(),
        };
        assert!(for_audio(&opus).is_err());
    }

    #[test]
    fn long_descriptors_use_the_four_byte_length_form() {
        let mut buf = Vec::new();
        write_esds(&mut buf, 1, 0x61, VISUAL_STREAM, &[7; 150]);
        // box header 8 + version/flags 4, then ES_Descr with a 4-byte length.
        assert_eq!(
            &buf[12..17],
            &[0x03, 0x80, 0x80, 0x81, 3 + 5 + 13 + 5 + 150 + 3 - 128]
        );
        assert_eq!(buf.len(), 12 + 5 + 3 + 5 + 13 + 5 + 150 + 3);
    }
}
