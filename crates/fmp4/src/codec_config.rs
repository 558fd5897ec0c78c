//! Reading the codec description of a track: the first `stsd` sample entry,
//! with its decoder configuration (`avcC`, `hvcC`, `esds`, `dac3`, `dec3`,
//! `dOps`), into cht's codec parameters.

use bytes::Bytes;
use cht_core::aac::AacConfig;
use cht_core::h264::AvcDecoderConfig;
use cht_core::hevc::HevcDecoderConfig;
use cht_core::opus::OpusConfig;
use cht_core::{AudioCodec, AudioParams, PacketFormat, VideoCodec, VideoParams};

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
    /// The codec parameters, for codecs cht reads.
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
        b"hvc1" | b"hev1" => parse_hevc_entry(fourcc, entry),
        b"mp4v" => parse_mp4v_entry(entry),
        b"mp4a" => parse_mp4a_entry(entry),
        b"ac-3" | b"ec-3" => parse_dolby_entry(fourcc, entry),
        b"Opus" => parse_opus_entry(entry),
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

/// The size fields of a `VisualSampleEntry` and its child boxes.
fn visual_entry(fourcc: [u8; 4], entry: &[u8]) -> Result<(u32, u32, &[u8]), Fmp4Error> {
    let mut r = FieldReader::new(fourcc, entry);
    r.skip(24)?;
    let width = u32::from(r.u16()?);
    let height = u32::from(r.u16()?);
    r.skip(VISUAL_ENTRY_LEN - 28)?;
    Ok((width, height, r.rest()))
}

fn parse_hevc_entry(fourcc: [u8; 4], entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let (width, height, children) = visual_entry(fourcc, entry)?;
    let record = find_child(children, b"hvcC");
    let config = record
        .map(HevcDecoderConfig::parse)
        .transpose()
        .map_err(|e| Fmp4Error::malformed(b"hvcC", e.0))?;
    let codec = config.as_ref().map_or_else(
        || fourcc_string(&fourcc),
        |c| {
            c.codec_string()
                .replacen("hvc1", &fourcc_string(&fourcc), 1)
        },
    );
    let video_params = config.zip(record).map(|(c, record)| VideoParams {
        codec: VideoCodec::Hevc,
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
        video_params,
        ..Default::default()
    })
}

fn parse_mp4v_entry(entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let (width, height, children) = visual_entry(*b"mp4v", entry)?;
    let mut info = SampleEntryInfo {
        codec: "mp4v".into(),
        width: Some(width),
        height: Some(height),
        ..Default::default()
    };
    if let Some(esds) = find_child(children, b"esds") {
        let (oti, dsi) = parse_esds(esds)?;
        info.codec = format!("mp4v.{oti:x}");
        // MPEG-1/2 video: the decoder configuration is the sequence header.
        if (0x60..=0x65).contains(&oti) || oti == 0x6a {
            info.video_params = dsi
                .map(Bytes::copy_from_slice)
                .and_then(cht_core::mpeg2::video_params)
                .map(|p| VideoParams { width, height, ..p });
        }
    }
    Ok(info)
}

/// The channel count and sample-rate fields of an `AudioSampleEntry` and
/// its child boxes.
fn audio_entry(fourcc: [u8; 4], entry: &[u8]) -> Result<(u16, u32, &[u8]), Fmp4Error> {
    let mut r = FieldReader::new(fourcc, entry);
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
    Ok((channels, rate_16_16 >> 16, r.rest()))
}

fn parse_dolby_entry(fourcc: [u8; 4], entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let (channels, rate, children) = audio_entry(fourcc, entry)?;
    let eac3 = &fourcc == b"ec-3";
    let specific = find_child(children, if eac3 { b"dec3" } else { b"dac3" });
    let mut info = SampleEntryInfo {
        codec: fourcc_string(&fourcc),
        sample_rate: Some(rate).filter(|&r| r > 0),
        channels: Some(channels),
        ..Default::default()
    };
    if let Some(specific) = specific.filter(|s| s.len() >= 3) {
        let dac3_channels = (!eac3)
            .then(|| cht_core::ac3::dac3_channels(specific))
            .flatten();
        if let Some((c, _)) = dac3_channels {
            info.channels = Some(c);
        }
        info.audio_params = Some(AudioParams {
            track: 0,
            codec: if eac3 {
                AudioCodec::Eac3
            } else {
                AudioCodec::Ac3
            },
            sample_rate: rate,
            channels: info.channels.unwrap_or(2),
            frame_samples: 1536,
            extra_data: Bytes::copy_from_slice(specific),
        })
        .filter(|p| p.sample_rate > 0);
    }
    Ok(info)
}

fn parse_opus_entry(entry: &[u8]) -> Result<SampleEntryInfo, Fmp4Error> {
    let (channels, _, children) = audio_entry(*b"Opus", entry)?;
    let config = find_child(children, b"dOps").and_then(OpusConfig::from_dops);
    let mut info = SampleEntryInfo {
        codec: "opus".into(),
        sample_rate: Some(cht_core::opus::SAMPLE_RATE),
        channels: Some(channels),
        ..Default::default()
    };
    if let Some(config) = config {
        info.channels = Some(u16::from(config.channels));
        // Packets are typically 20 ms; each carries its own duration.
        info.audio_params = Some(config.audio_params(960));
    }
    Ok(info)
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
        if matches!(object_type_indication, 0x69 | 0x6b) {
            info.audio_params = mpeg_audio_params(channels, rate_16_16 >> 16);
            return Ok(info);
        }
        let pce = asc
            .filter(|_| audio.is_some_and(|a| a.channel_config == 0))
            .and_then(cht_core::aac::ProgramConfig::from_audio_specific_config);
        if let Some(a) = &audio {
            info.sample_rate = Some(a.sample_rate);
            if a.channel_config > 0 {
                info.channels = Some(a.channels());
            }
        }
        if let Some(pce) = &pce {
            info.channels = Some(pce.channels());
        }
        info.audio_params = audio
            .filter(|_| object_type_indication == 0x40)
            .zip(asc)
            .map(|(a, asc)| AudioParams {
                channels: pce.as_ref().map_or(a.channels(), |p| p.channels()),
                extra_data: Bytes::copy_from_slice(asc),
                ..a.audio_params()
            });
        info.audio = audio;
    }
    Ok(info)
}

/// MPEG audio in `mp4a` (object type 0x6B/0x69): the frames describe
/// themselves; the layer (and so the codec) is read from the first sample
/// by whoever decodes it, MP3 being what such tracks almost always hold.
fn mpeg_audio_params(channels: u16, sample_rate: u32) -> Option<AudioParams> {
    (sample_rate > 0).then(|| AudioParams {
        track: 0,
        codec: AudioCodec::Mp3,
        sample_rate,
        channels: channels.clamp(1, 2),
        frame_samples: if sample_rate >= 32_000 { 1152 } else { 576 },
        extra_data: Bytes::new(),
    })
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
