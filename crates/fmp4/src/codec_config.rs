//! Reading the codec description of a track: the first `stsd` sample entry,
//! with `avcC` (H.264) or `esds` (AAC) decoder configuration, into cht's
//! codec parameters.

use bytes::Bytes;
use cht_core::aac::AacConfig;
use cht_core::h264::AvcDecoderConfig;
use cht_core::{AudioParams, PacketFormat, VideoParams};

use crate::box_reader::{child_boxes, find_child, FieldReader};
use crate::error::Fmp4Error;

/// What the first sample entry of a track says.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct SampleEntryInfo {
    pub codec: String,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub sample_rate: Option<u32>,
    pub channels: Option<u16>,
    pub avc: Option<AvcDecoderConfig>,
    pub audio: Option<AacConfig>,
    /// The codec parameters, for codecs cht reads (H.264, AAC).
    pub video_params: Option<VideoParams>,
    pub audio_params: Option<AudioParams>,
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
    let avcc = find_child(r.rest(), b"avcC");
    let avc = avcc.map(parse_avcc).transpose()?;
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
    // The record as stored: samples are read back with its length size.
    let video_params = avc.as_ref().zip(avcc).map(|(c, record)| VideoParams {
        codec: cht_core::VideoCodec::H264,
        width,
        height,
        format: PacketFormat::LengthPrefixed {
            length_size: c.nal_length_size,
        },
        extra_data: Bytes::copy_from_slice(record),
    });
    Ok(SampleEntryInfo {
        codec,
        width: Some(width),
        height: Some(height),
        avc,
        video_params,
        ..Default::default()
    })
}

fn parse_avcc(payload: &[u8]) -> Result<AvcDecoderConfig, Fmp4Error> {
    AvcDecoderConfig::parse(payload).map_err(|e| Fmp4Error::malformed(b"avcC", e.0))
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
        let audio = asc.and_then(AacConfig::from_audio_specific_config);
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
        info.audio_params = audio
            .filter(|_| object_type_indication == 0x40)
            .zip(asc)
            .map(|(a, asc)| AudioParams {
                extra_data: Bytes::copy_from_slice(asc),
                ..a.audio_params()
            });
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_with_long_length_form() {
        let data = [0x05, 0x80, 0x80, 0x80, 0x02, 0x11, 0x90, 0xaa];
        let mut r = FieldReader::new(*b"esds", &data);
        assert_eq!(read_descriptor(&mut r).unwrap(), (0x05, &[0x11, 0x90][..]));
        assert_eq!(r.remaining(), 1);
    }
}
