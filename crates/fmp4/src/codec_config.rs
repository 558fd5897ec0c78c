//! Reading the codec description of a track: the first `stsd` sample entry,
//! with `avcC` (H.264) or `esds` (AAC) decoder configuration.

use cht_core::adts::SAMPLE_RATES;
use cht_core::nal::avcc_to_annexb;
use cht_core::sps::parse_sps;
use cht_core::{AudioConfig, BitReader, VideoConfig};

use crate::box_reader::{child_boxes, find_child, FieldReader};
use crate::error::Fmp4Error;

/// H.264 decoder configuration from `avcC`: what a decoder needs before the
/// first sample, and how samples frame their NAL units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    pub profile_idc: u8,
    pub constraint_flags: u8,
    pub level_idc: u8,
    /// Bytes of the length prefix before each NAL unit in a sample (1, 2 or 4).
    pub nal_length_size: u8,
    /// SPS NAL units, header byte included.
    pub sps: Vec<Vec<u8>>,
    /// PPS NAL units, header byte included.
    pub pps: Vec<Vec<u8>>,
}

impl AvcDecoderConfig {
    /// The stream parameters in cht's own vocabulary (first SPS and PPS).
    pub fn video_config(&self) -> Option<VideoConfig> {
        let sps = self.sps.first()?;
        let pps = self.pps.first()?;
        let parsed = parse_sps(sps)?;
        Some(VideoConfig {
            width: parsed.width,
            height: parsed.height,
            profile_idc: parsed.profile_idc,
            constraint_flags: parsed.constraint_flags,
            level_idc: parsed.level_idc,
            chroma_format_idc: parsed.chroma_format_idc,
            bit_depth_luma: parsed.bit_depth_luma,
            bit_depth_chroma: parsed.bit_depth_chroma,
            sps: sps.clone().into(),
            pps: pps.clone().into(),
        })
    }

    /// All SPS and PPS as Annex-B, to feed a decoder before the first sample.
    pub fn parameter_sets_annexb(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in self.sps.iter().chain(&self.pps) {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        }
        out
    }

    /// Appends one sample converted to Annex-B.
    pub fn sample_to_annexb(&self, sample: &[u8], out: &mut Vec<u8>) {
        avcc_to_annexb(sample, usize::from(self.nal_length_size), out);
    }
}

/// What the first sample entry of a track says.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SampleEntryInfo {
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub avc: Option<AvcDecoderConfig>,
    pub audio: Option<AudioConfig>,
}

/// Bytes of a `VisualSampleEntry` before its child boxes.
const VISUAL_ENTRY_LEN: usize = 78;

/// Parses `stsd`; an unknown codec is described by its four-character code.
pub(crate) fn parse_stsd(payload: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let mut r = FieldReader::new(*b"stsd", payload);
    r.full_box_header()?;
    let _entry_count = r.u32()?;
    let Some((fourcc, entry)) = child_boxes(r.rest()).next() else {
        return Err(Fmp4Error::malformed(b"stsd", "no sample entry"));
    };
    match &fourcc {
        b"avc1" | b"avc3" => parse_avc_entry(fourcc, entry),
        b"mp4a" => parse_mp4a_entry(entry),
        _ => Ok(SampleEntryInfo {
            codec: fourcc_string(&fourcc),
            ..Default::default()
        }),
    }
}

pub(crate) fn fourcc_string(fourcc: &[u8; 4]) -> String {
    fourcc
        .iter()
        .map(|&c| {
            if (0x20..0x7f).contains(&c) {
                c as char
            } else {
                '?'
            }
        })
        .collect()
}

fn parse_avc_entry(fourcc: [u8; 4], entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let mut r = FieldReader::new(fourcc, entry);
    r.skip(24)?;
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    r.skip(VISUAL_ENTRY_LEN - 28)?;
    let avc = find_child(r.rest(), b"avcC").map(parse_avcc).transpose()?;
    let codec = match &avc {
        Some(c) => format!(
            "{}.{:02x}{:02x}{:02x}",
            fourcc_string(&fourcc),
            c.profile_idc,
            c.constraint_flags,
            c.level_idc
        ),
        None => fourcc_string(&fourcc),
    };
    Ok(SampleEntryInfo {
        codec,
        width: Some(width),
        height: Some(height),
        avc,
        ..Default::default()
    })
}

fn parse_avcc(payload: &[u8]) -> Result<AvcDecoderConfig, Fmp4Error> {
    let mut r = FieldReader::new(*b"avcC", payload);
    if r.u8()? != 1 {
        return Err(Fmp4Error::malformed(
            b"avcC",
            "unknown configuration version",
        ));
    }
    let profile_idc = r.u8()?;
    let constraint_flags = r.u8()?;
    let level_idc = r.u8()?;
    let nal_length_size = (r.u8()? & 3) + 1;
    if nal_length_size == 3 {
        return Err(Fmp4Error::malformed(
            b"avcC",
            "3-byte NAL lengths are not allowed",
        ));
    }
    let sps_count = r.u8()? & 0x1f;
    let mut sps = Vec::new();
    for _ in 0..sps_count {
        let len = usize::from(r.u16()?);
        sps.push(r.bytes(len)?.to_vec());
    }
    let pps_count = r.u8()?;
    let mut pps = Vec::new();
    for _ in 0..pps_count {
        let len = usize::from(r.u16()?);
        pps.push(r.bytes(len)?.to_vec());
    }
    Ok(AvcDecoderConfig {
        profile_idc,
        constraint_flags,
        level_idc,
        nal_length_size,
        sps,
        pps,
    })
}

fn parse_mp4a_entry(entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let mut r = FieldReader::new(*b"mp4a", entry);
    r.skip(8)?;
    let version = r.u16()?;
    r.skip(6)?;
    let channels = r.u16()?;
    r.skip(6)?;
    let rate_16_16 = r.u32()?;
    // QuickTime sound description versions 1 and 2 append fields.
    match version {
        1 => r.skip(16)?,
        2 => r.skip(36)?,
        _ => {}
    }
    let children = r.rest();
    let esds = find_child(children, b"esds")
        .or_else(|| find_child(children, b"wave").and_then(|w| find_child(w, b"esds")));
    let mut info = SampleEntryInfo {
        codec: "mp4a".into(),
        sample_rate: Some(rate_16_16 >> 16).filter(|&r| r > 0),
        channels: Some(channels),
        ..Default::default()
    };
    if let Some(esds) = esds {
        let (object_type_indication, asc) = parse_esds(esds)?;
        let audio = asc.and_then(parse_audio_specific_config);
        info.codec = match (object_type_indication, &audio) {
            (0x40, Some(a)) => format!("mp4a.40.{}", a.object_type),
            (oti, _) => format!("mp4a.{oti:02x}"),
        };
        if let Some(a) = &audio {
            info.sample_rate = Some(a.sample_rate);
            if a.channel_config > 0 {
                info.channels = Some(a.channels());
            }
        }
        info.audio = audio;
    }
    Ok(info)
}

/// A descriptor of the MPEG-4 systems layer: (tag, payload).
fn read_descriptor<'a>(r: &mut FieldReader<'a>) -> Result<(u8, &'a [u8]), Fmp4Error> {
    let tag = r.u8()?;
    let mut len = 0usize;
    for _ in 0..4 {
        let b = r.u8()?;
        len = (len << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    Ok((tag, r.bytes(len)?))
}

/// `esds` → (objectTypeIndication, DecoderSpecificInfo bytes).
fn parse_esds(payload: &[u8]) -> Result<(u8, Option<&[u8]>), Fmp4Error> {
    let mut r = FieldReader::new(*b"esds", payload);
    r.full_box_header()?;
    let (tag, es) = read_descriptor(&mut r)?;
    if tag != 0x03 {
        return Err(Fmp4Error::malformed(b"esds", "no ES descriptor"));
    }
    let mut es = FieldReader::new(*b"esds", es);
    es.u16()?; // ES_ID
    let flags = es.u8()?;
    if flags & 0x80 != 0 {
        es.skip(2)?;
    }
    if flags & 0x40 != 0 {
        let url_len = usize::from(es.u8()?);
        es.skip(url_len)?;
    }
    if flags & 0x20 != 0 {
        es.skip(2)?;
    }
    while es.remaining() > 0 {
        let (tag, body) = read_descriptor(&mut es)?;
        if tag != 0x04 {
            continue;
        }
        let mut dc = FieldReader::new(*b"esds", body);
        let oti = dc.u8()?;
        dc.skip(12)?; // stream type, buffer size, bitrates
        while dc.remaining() > 0 {
            let (tag, info) = read_descriptor(&mut dc)?;
            if tag == 0x05 {
                return Ok((oti, Some(info)));
            }
        }
        return Ok((oti, None));
    }
    Err(Fmp4Error::malformed(b"esds", "no decoder configuration"))
}

/// The leading fields of an AudioSpecificConfig.
fn parse_audio_specific_config(asc: &[u8]) -> Option<AudioConfig> {
    let mut r = BitReader::new(asc);
    let mut object_type = r.read_bits(5)?;
    if object_type == 31 {
        object_type = 32 + r.read_bits(6)?;
    }
    let sampling_index = r.read_bits(4)? as u8;
    let sample_rate = if sampling_index == 15 {
        r.read_bits(24)?
    } else {
        *SAMPLE_RATES.get(usize::from(sampling_index))?
    };
    let channel_config = r.read_bits(4)? as u8;
    if sample_rate == 0 {
        return None;
    }
    Some(AudioConfig {
        object_type: u8::try_from(object_type).ok()?,
        sampling_index,
        sample_rate,
        channel_config,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_specific_config_round_trips() {
        let config = AudioConfig {
            object_type: 2,
            sampling_index: 4,
            sample_rate: 44100,
            channel_config: 2,
        };
        assert_eq!(
            parse_audio_specific_config(&config.audio_specific_config()),
            Some(config)
        );
        assert_eq!(parse_audio_specific_config(&[0x12]), None);
    }

    #[test]
    fn descriptors_with_long_length_form() {
        let data = [0x05, 0x80, 0x80, 0x80, 0x02, 0x11, 0x90, 0xaa];
        let mut r = FieldReader::new(*b"esds", &data);
        assert_eq!(read_descriptor(&mut r).unwrap(), (0x05, &[0x11, 0x90][..]));
        assert_eq!(r.remaining(), 1);
    }
}
