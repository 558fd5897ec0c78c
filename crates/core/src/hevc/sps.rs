//! The HEVC sequence parameter set, read up to the picture size and bit
//! depth: what the `hvcC` record and a muxer need.

use crate::bits::BitReader;
use crate::h264::nal_to_rbsp;

use super::{nal_type, nal_unit_type};

/// `profile_tier_level()`'s general fields, as `hvcC` repeats them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileTierLevel {
    /// `general_profile_space` (0).
    pub profile_space: u8,
    /// `general_tier_flag` (false: Main tier).
    pub tier: bool,
    /// `general_profile_idc` (1 Main, 2 Main 10, 3 Main Still, 4 RExt).
    pub profile_idc: u8,
    /// `general_profile_compatibility_flag[32]`, flag 0 in the top bit.
    pub compatibility_flags: u32,
    /// The 48 bits from `general_progressive_source_flag` on.
    pub constraint_flags: u64,
    /// `general_level_idc` (30 x the level: 93 = level 3.1).
    pub level_idc: u8,
}

/// The parsed subset of an HEVC SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HevcSps {
    /// `sps_max_sub_layers_minus1 + 1`.
    pub max_sub_layers: u8,
    /// `sps_temporal_id_nesting_flag`.
    pub temporal_id_nesting: bool,
    /// Profile, tier and level.
    pub ptl: ProfileTierLevel,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// Bits per luma sample.
    pub bit_depth_luma: u8,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u8,
    /// Display width after the conformance window.
    pub width: u32,
    /// Display height after the conformance window.
    pub height: u32,
}

impl HevcSps {
    /// The profile's name as the standard (and ffprobe) spells it.
    pub fn profile_name(&self) -> &'static str {
        match self.ptl.profile_idc {
            1 => "Main",
            2 => "Main 10",
            3 => "Main Still Picture",
            4 => "Rext",
            _ => "unknown profile",
        }
    }
}

/// Parses an SPS NAL unit (two-byte header first, emulation prevention in
/// place). `None` when it is not an SPS or is truncated or out of range.
pub fn parse_sps(nal: &[u8]) -> Option<HevcSps> {
    if nal_unit_type(nal) != nal_type::SPS {
        return None;
    }
    let rbsp = nal_to_rbsp(nal.get(2..)?);
    let mut r = BitReader::new(&rbsp);
    r.skip_bits(4)?; // sps_video_parameter_set_id
    let max_sub_layers_minus1 = r.read_bits(3)? as u8;
    if max_sub_layers_minus1 > 6 {
        return None;
    }
    let temporal_id_nesting = r.read_bit()?;
    let ptl = profile_tier_level(&mut r, max_sub_layers_minus1)?;
    if r.read_ue()? > 15 {
        return None; // sps_seq_parameter_set_id
    }
    let chroma_format_idc = r.read_ue()?;
    if chroma_format_idc > 3 {
        return None;
    }
    let separate_colour_plane = chroma_format_idc == 3 && r.read_bit()?;
    let width = r.read_ue()?;
    let height = r.read_ue()?;
    if width == 0 || height == 0 || width > 16888 || height > 16888 {
        return None;
    }
    let (mut crop_w, mut crop_h) = (0, 0);
    if r.read_bit()? {
        let (left, right, top, bottom) = (r.read_ue()?, r.read_ue()?, r.read_ue()?, r.read_ue()?);
        let (sub_w, sub_h) = match (chroma_format_idc, separate_colour_plane) {
            (1, _) => (2, 2),
            (2, _) => (2, 1),
            _ => (1, 1),
        };
        crop_w = sub_w * (u64::from(left) + u64::from(right));
        crop_h = sub_h * (u64::from(top) + u64::from(bottom));
    }
    let bit_depth_luma = 8 + r.read_ue()?;
    let bit_depth_chroma = 8 + r.read_ue()?;
    if bit_depth_luma > 16 || bit_depth_chroma > 16 {
        return None;
    }
    let cropped = |size: u32, crop: u64| u32::try_from(u64::from(size).checked_sub(crop)?).ok();
    Some(HevcSps {
        max_sub_layers: max_sub_layers_minus1 + 1,
        temporal_id_nesting,
        ptl,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma: bit_depth_luma as u8,
        bit_depth_chroma: bit_depth_chroma as u8,
        width: cropped(width, crop_w).filter(|&w| w > 0)?,
        height: cropped(height, crop_h).filter(|&h| h > 0)?,
    })
}

/// `profile_tier_level(1, max_sub_layers_minus1)`: the general fields, the
/// sub-layer ones skipped.
fn profile_tier_level(
    r: &mut BitReader<'_>,
    max_sub_layers_minus1: u8,
) -> Option<ProfileTierLevel> {
    let profile_space = r.read_bits(2)? as u8;
    let tier = r.read_bit()?;
    let profile_idc = r.read_bits(5)? as u8;
    let compatibility_flags = r.read_bits(32)?;
    let constraint_flags = (u64::from(r.read_bits(16)?) << 32) | u64::from(r.read_bits(32)?);
    let level_idc = r.read_bits(8)? as u8;
    let mut profile_present = [false; 8];
    let mut level_present = [false; 8];
    for i in 0..usize::from(max_sub_layers_minus1) {
        profile_present[i] = r.read_bit()?;
        level_present[i] = r.read_bit()?;
    }
    if max_sub_layers_minus1 > 0 {
        for _ in max_sub_layers_minus1..8 {
            r.skip_bits(2)?;
        }
    }
    for i in 0..usize::from(max_sub_layers_minus1) {
        if profile_present[i] {
            r.skip_bits(88)?;
        }
        if level_present[i] {
            r.skip_bits(8)?;
        }
    }
    Some(ProfileTierLevel {
        profile_space,
        tier,
        profile_idc,
        compatibility_flags,
        constraint_flags,
        level_idc,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::test_data::{SPS, VPS};

    #[test]
    fn reads_an_x265_sps() {
        let sps = parse_sps(SPS).expect("x265 SPS");
        assert_eq!((sps.width, sps.height), (320, 240));
        assert_eq!(
            (
                sps.chroma_format_idc,
                sps.bit_depth_luma,
                sps.bit_depth_chroma
            ),
            (1, 8, 8)
        );
        assert_eq!(sps.profile_name(), "Main");
        assert_eq!(sps.ptl.level_idc, 60);
        assert_eq!(sps.ptl.compatibility_flags, 0x6000_0000);
        assert_eq!(sps.ptl.constraint_flags, 0x9000_0000_0000);
        assert_eq!((sps.max_sub_layers, sps.temporal_id_nesting), (1, true));
    }

    #[test]
    fn refuses_other_nal_units_and_truncation() {
        assert_eq!(parse_sps(VPS), None);
        for len in 0..16 {
            assert_eq!(parse_sps(&SPS[..len]), None, "{len} bytes");
        }
    }
}
