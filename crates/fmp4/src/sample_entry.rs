//! The `stsd` sample entries cht records: `avc1` + `avcC` for H.264 and
//! `mp4a` + `esds` for AAC.

use cht_core::{AudioConfig, VideoConfig};

use crate::box_writer::{begin_box, begin_full_box, end_box, PutBe};
use crate::error::Fmp4Error;

/// Profiles whose avcC carries chroma format and bit depths (ISO 14496-15).
fn avcc_has_high_profile_extension(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 144)
}

/// `avc1` visual sample entry with its `avcC` decoder configuration.
pub(crate) fn write_avc1(buf: &mut Vec<u8>, video: &VideoConfig) -> Result<(), Fmp4Error> {
    let width =
        u16::try_from(video.width).map_err(|_| Fmp4Error::InvalidConfig("width over 65535"))?;
    let height =
        u16::try_from(video.height).map_err(|_| Fmp4Error::InvalidConfig("height over 65535"))?;
    let entry = begin_box(buf, b"avc1");
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
    write_avcc(buf, video)?;
    end_box(buf, entry);
    Ok(())
}

fn write_avcc(buf: &mut Vec<u8>, video: &VideoConfig) -> Result<(), Fmp4Error> {
    let sps_len =
        u16::try_from(video.sps.len()).map_err(|_| Fmp4Error::InvalidConfig("SPS too long"))?;
    let pps_len =
        u16::try_from(video.pps.len()).map_err(|_| Fmp4Error::InvalidConfig("PPS too long"))?;
    if sps_len < 4 || pps_len == 0 {
        return Err(Fmp4Error::InvalidConfig("missing SPS or PPS"));
    }
    let avcc = begin_box(buf, b"avcC");
    buf.put_u8(1); // configurationVersion
    buf.put_u8(video.profile_idc);
    buf.put_u8(video.constraint_flags);
    buf.put_u8(video.level_idc);
    buf.put_u8(0xfc | 3); // lengthSizeMinusOne: samples carry 4-byte lengths
    buf.put_u8(0xe0 | 1); // one SPS
    buf.put_u16(sps_len);
    buf.extend_from_slice(&video.sps);
    buf.put_u8(1); // one PPS
    buf.put_u16(pps_len);
    buf.extend_from_slice(&video.pps);
    if avcc_has_high_profile_extension(video.profile_idc) {
        buf.put_u8(0xfc | (video.chroma_format_idc & 3));
        buf.put_u8(0xf8 | (video.bit_depth_luma.saturating_sub(8) & 7));
        buf.put_u8(0xf8 | (video.bit_depth_chroma.saturating_sub(8) & 7));
        buf.put_u8(0); // numOfSequenceParameterSetExt
    }
    end_box(buf, avcc);
    Ok(())
}

/// `mp4a` audio sample entry with its `esds` elementary stream descriptor.
pub(crate) fn write_mp4a(
    buf: &mut Vec<u8>,
    audio: &AudioConfig,
    track_id: u32,
) -> Result<(), Fmp4Error> {
    if audio.sample_rate == 0 || audio.channel_config == 0 {
        return Err(Fmp4Error::InvalidConfig(
            "AAC without sample rate or channel configuration",
        ));
    }
    let entry = begin_box(buf, b"mp4a");
    buf.put_zeros(6);
    buf.put_u16(1); // data_reference_index
    buf.put_zeros(8); // version, revision, vendor
    buf.put_u16(audio.channels());
    buf.put_u16(16); // samplesize
    buf.put_u32(0); // pre_defined, reserved
                    // 16.16 fixed point cannot hold 88.2/96 kHz; decoders use the ASC then.
    let rate = if audio.sample_rate <= 0xffff {
        audio.sample_rate << 16
    } else {
        0
    };
    buf.put_u32(rate);
    write_esds(buf, audio, track_id);
    end_box(buf, entry);
    Ok(())
}

fn write_esds(buf: &mut Vec<u8>, audio: &AudioConfig, track_id: u32) {
    let asc = audio.audio_specific_config();
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
