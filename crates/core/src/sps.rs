//! H.264 sequence parameter set: the fields cht needs (profile, level,
//! chroma format, bit depth, cropped picture size).

use crate::bits::BitReader;
use crate::nal::{nal_to_rbsp, nal_type, nal_unit_type};

/// The parsed subset of an SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    pub profile_idc: u8,
    pub constraint_flags: u8,
    pub level_idc: u8,
    pub sps_id: u32,
    pub chroma_format_idc: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
    /// Display width after cropping.
    pub width: u32,
    /// Display height after cropping.
    pub height: u32,
    /// Progressive frames only (no field or MBAFF coding).
    pub frame_mbs_only: bool,
}

impl Sps {
    /// The profile's name as the standard (and ffprobe) spells it.
    pub fn profile_name(&self) -> &'static str {
        match self.profile_idc {
            66 if self.constraint_flags & 0x40 != 0 => "Constrained Baseline",
            66 => "Baseline",
            77 => "Main",
            88 => "Extended",
            100 => "High",
            110 => "High 10",
            122 => "High 4:2:2",
            244 => "High 4:4:4 Predictive",
            44 => "CAVLC 4:4:4 Intra",
            _ => "unknown profile",
        }
    }
}

/// Profiles whose SPS carries chroma format, bit depth and scaling lists.
fn has_high_profile_fields(profile_idc: u8) -> bool {
    matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

fn skip_scaling_list(r: &mut BitReader, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            let delta = r.read_se()?;
            next = (last + delta + 256).rem_euclid(256);
        }
        last = if next == 0 { last } else { next };
    }
    Some(())
}

/// Parses an SPS NAL unit (header byte included). `None` if it is not an SPS
/// or is truncated/invalid.
pub fn parse_sps(nal: &[u8]) -> Option<Sps> {
    if nal_unit_type(nal) != nal_type::SPS || nal.len() < 4 {
        return None;
    }
    let rbsp = nal_to_rbsp(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    let profile_idc = r.read_bits(8)? as u8;
    let constraint_flags = r.read_bits(8)? as u8;
    let level_idc = r.read_bits(8)? as u8;
    let sps_id = r.read_ue()?;
    if sps_id > 31 {
        return None;
    }
    let (mut chroma_format_idc, mut bit_depth_luma, mut bit_depth_chroma) = (1u32, 8u32, 8u32);
    let mut separate_colour_plane = false;
    if has_high_profile_fields(profile_idc) {
        chroma_format_idc = r.read_ue()?;
        if chroma_format_idc > 3 {
            return None;
        }
        if chroma_format_idc == 3 {
            separate_colour_plane = r.read_bit()?;
        }
        bit_depth_luma = r.read_ue()? + 8;
        bit_depth_chroma = r.read_ue()? + 8;
        if bit_depth_luma > 14 || bit_depth_chroma > 14 {
            return None;
        }
        r.read_bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.read_bit()? {
            let lists = if chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.read_bit()? {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.read_ue()?; // log2_max_frame_num_minus4
    match r.read_ue()? {
        0 => {
            r.read_ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.read_bit()?;
            r.read_se()?;
            r.read_se()?;
            let n = r.read_ue()?;
            if n > 255 {
                return None;
            }
            for _ in 0..n {
                r.read_se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.read_ue()?; // max_num_ref_frames
    r.read_bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = r.read_ue()? as u64 + 1;
    let height_map_units = r.read_ue()? as u64 + 1;
    let frame_mbs_only = r.read_bit()?;
    if !frame_mbs_only {
        r.read_bit()?; // mb_adaptive_frame_field_flag
    }
    r.read_bit()?; // direct_8x8_inference_flag
    let (mut crop_l, mut crop_r, mut crop_t, mut crop_b) = (0u64, 0u64, 0u64, 0u64);
    if r.read_bit()? {
        crop_l = r.read_ue()? as u64;
        crop_r = r.read_ue()? as u64;
        crop_t = r.read_ue()? as u64;
        crop_b = r.read_ue()? as u64;
    }
    let frame_height_mul = if frame_mbs_only { 1 } else { 2 };
    let (sub_w, sub_h) = match (chroma_format_idc, separate_colour_plane) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let (crop_unit_x, crop_unit_y) = if chroma_format_idc == 0 || separate_colour_plane {
        (1, frame_height_mul)
    } else {
        (sub_w, sub_h * frame_height_mul)
    };
    let full_w = width_mbs * 16;
    let full_h = height_map_units * 16 * frame_height_mul;
    let width = full_w.checked_sub(crop_unit_x * (crop_l + crop_r))?;
    let height = full_h.checked_sub(crop_unit_y * (crop_t + crop_b))?;
    if width == 0 || height == 0 || width > 16384 || height > 16384 {
        return None;
    }
    Some(Sps {
        profile_idc,
        constraint_flags,
        level_idc,
        sps_id,
        chroma_format_idc: chroma_format_idc as u8,
        bit_depth_luma: bit_depth_luma as u8,
        bit_depth_chroma: bit_depth_chroma as u8,
        frame_mbs_only,
        width: width as u32,
        height: height as u32,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_x264_high_profile_1080p() {
        // SPS of an x264 1920x1080 High@4.0 stream (1088 coded, cropped to 1080).
        let sps = [
            0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
            0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
        ];
        let s = parse_sps(&sps).expect("valid sps");
        assert_eq!((s.profile_idc, s.level_idc), (100, 40));
        assert_eq!((s.width, s.height), (1920, 1080));
        assert_eq!(s.chroma_format_idc, 1);
        assert_eq!(s.bit_depth_luma, 8);
    }

    #[test]
    fn reads_interlaced_coding_and_names_the_profile() {
        // x264 720x576 interlaced (tff), High@3.0: height counts both fields.
        let sps = [
            0x67, 0x64, 0x00, 0x1e, 0xac, 0xd9, 0x40, 0xb4, 0x24, 0xd8, 0x08, 0x80, 0x00, 0x00,
            0x03, 0x00, 0x80, 0x00, 0x00, 0x19, 0x0f, 0x8a, 0x14, 0xcb,
        ];
        let s = parse_sps(&sps).expect("valid sps");
        assert!(!s.frame_mbs_only);
        assert_eq!((s.width, s.height), (720, 576));
        assert_eq!(s.profile_name(), "High");
        let progressive = [
            0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
            0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
        ];
        assert!(parse_sps(&progressive).unwrap().frame_mbs_only);
    }

    #[test]
    fn rejects_truncated_and_foreign_nals() {
        assert_eq!(parse_sps(&[0x67, 0x64, 0x00]), None);
        assert_eq!(parse_sps(&[0x68, 0x64, 0x00, 0x28, 0xac]), None);
        assert_eq!(parse_sps(&[]), None);
    }
}
