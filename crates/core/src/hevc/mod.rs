//! HEVC's parameter-set parser: NAL unit types (IRAP pictures are
//! keyframes), the SPS fields a muxer needs (profile, tier, level, chroma
//! format, bit depth, cropped size) and the `hvcC` decoder configuration
//! record (ISO/IEC 14496-15, 8.3.3), built from VPS/SPS/PPS, parsed and
//! serialized.
//!
//! HEVC's Annex-B framing is H.264's: [`crate::h264::annexb_nals`],
//! [`crate::h264::annexb_to_avcc`] and [`crate::h264::nal_to_rbsp`] apply
//! as they are.

mod config;
mod sps;

pub use config::{HevcConfigError, HevcDecoderConfig};
pub use sps::{parse_sps, HevcSps, ProfileTierLevel};

use crate::params::{PacketFormat, VideoCodec, VideoParams};

/// NAL unit types cht cares about (ITU-T H.265 Table 7-1).
pub mod nal_type {
    /// First IRAP type (BLA_W_LP); IRAP pictures are 16..=23.
    pub const IRAP_FIRST: u8 = 16;
    /// Last IRAP type (reserved IRAP 23).
    pub const IRAP_LAST: u8 = 23;
    /// Video parameter set.
    pub const VPS: u8 = 32;
    /// Sequence parameter set.
    pub const SPS: u8 = 33;
    /// Picture parameter set.
    pub const PPS: u8 = 34;
    /// Access unit delimiter.
    pub const AUD: u8 = 35;
    /// Prefix supplemental enhancement information.
    pub const PREFIX_SEI: u8 = 39;
}

/// The `nal_unit_type` of an HEVC NAL unit (two-byte header first).
pub fn nal_unit_type(nal: &[u8]) -> u8 {
    nal.first().map_or(u8::MAX, |b| (b >> 1) & 0x3f)
}

/// True for the NAL unit types of coded slices (VCL, 0..=31).
pub fn is_vcl(nal_type: u8) -> bool {
    nal_type < 32
}

/// True for an intra random access point: a picture decodable without
/// earlier ones (IDR, CRA, BLA), which MP4 marks as a sync sample.
pub fn is_irap(nal_type: u8) -> bool {
    (nal_type::IRAP_FIRST..=nal_type::IRAP_LAST).contains(&nal_type)
}

/// The codec parameters of an HEVC track whose packets are `format`,
/// described by `config`; the size comes from its first SPS. `None` when
/// that SPS does not parse.
pub fn video_params(config: &HevcDecoderConfig, format: PacketFormat) -> Option<VideoParams> {
    let sps = config.first_sps()?;
    Some(VideoParams {
        codec: VideoCodec::Hevc,
        width: sps.width,
        height: sps.height,
        format,
        extra_data: config.to_bytes().into(),
    })
}

#[cfg(test)]
pub(crate) mod test_data {
    //! Parameter sets of an x265 stream (Main, 320x240, level 2), as
    //! `ffmpeg -c:v libx265` sends them.

    pub const VPS: &[u8] = &[
        0x40, 0x01, 0x0c, 0x01, 0xff, 0xff, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00,
        0x03, 0x00, 0x00, 0x03, 0x00, 0x3c, 0x95, 0x98, 0x09,
    ];
    pub const SPS: &[u8] = &[
        0x42, 0x01, 0x01, 0x01, 0x60, 0x00, 0x00, 0x03, 0x00, 0x90, 0x00, 0x00, 0x03, 0x00, 0x00,
        0x03, 0x00, 0x3c, 0xa0, 0x0a, 0x08, 0x0f, 0x16, 0x59, 0x59, 0xa4, 0x93, 0x2b, 0xc0, 0x5a,
        0x02, 0x00, 0x00, 0x03, 0x00, 0x02, 0x00, 0x00, 0x03, 0x00, 0x32, 0x10,
    ];
    pub const PPS: &[u8] = &[0x44, 0x01, 0xc1, 0x72, 0xb4, 0x62, 0x40];
}
