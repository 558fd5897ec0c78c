//! Colour signalling of an H.264 stream: the VUI `video_signal_type` of the
//! SPS (range and YUV matrix), which `cht-core`'s SPS parser stops short of.

use cht_core::nal::{nal_to_rbsp, nal_type, nal_unit_type};
use cht_core::BitReader;

/// The YUV -> RGB matrix a stream signals (`matrix_coefficients`, H.273).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MatrixCoefficients {
    /// Not signalled: consumers guess from the picture size (BT.709 for HD).
    #[default]
    Unspecified,
    Bt709,
    /// BT.601 (values 5 and 6, and FCC 4 which is close enough).
    Bt601,
    /// BT.2020 non-constant luminance.
    Bt2020,
    /// Anything else (RGB/YCgCo/SMPTE 240M...): treated as unspecified.
    Other(u8),
}

impl MatrixCoefficients {
    fn from_code(code: u8) -> Self {
        match code {
            1 => Self::Bt709,
            4..=6 => Self::Bt601,
            9 => Self::Bt2020,
            2 => Self::Unspecified,
            c => Self::Other(c),
        }
    }
}

/// How the samples of a picture map to colours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColourInfo {
    /// `video_full_range_flag`: 0..255 instead of 16..235 / 16..240.
    pub full_range: bool,
    pub matrix: MatrixCoefficients,
}

/// Reads the colour signalling of an SPS NAL unit (header byte included).
/// A missing VUI means the defaults: limited range, matrix unspecified.
/// `None` when the NAL is not a parsable SPS.
pub fn colour_info_from_sps(nal: &[u8]) -> Option<ColourInfo> {
    if nal_unit_type(nal) != nal_type::SPS || nal.len() < 4 {
        return None;
    }
    let rbsp = nal_to_rbsp(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    skip_sps_fields_before_vui(&mut r)?;
    if !r.read_bit()? {
        return Some(ColourInfo::default());
    }
    read_vui_signal_type(&mut r)
}

fn read_vui_signal_type(r: &mut BitReader) -> Option<ColourInfo> {
    if r.read_bit()? {
        // aspect_ratio_idc; 255 = Extended_SAR with explicit width/height
        if r.read_bits(8)? == 255 {
            r.skip_bits(32)?;
        }
    }
    if r.read_bit()? {
        r.skip_bits(1)?; // overscan_appropriate_flag
    }
    let mut info = ColourInfo::default();
    if r.read_bit()? {
        r.skip_bits(3)?; // video_format
        info.full_range = r.read_bit()?;
        if r.read_bit()? {
            r.skip_bits(16)?; // colour_primaries, transfer_characteristics
            info.matrix = MatrixCoefficients::from_code(r.read_bits(8)? as u8);
        }
    }
    Some(info)
}

/// Walks an SPS from `profile_idc` to just before `vui_parameters_present_flag`.
fn skip_sps_fields_before_vui(r: &mut BitReader) -> Option<()> {
    let profile_idc = r.read_bits(8)?;
    r.skip_bits(16)?; // constraint flags, level_idc
    r.read_ue()?; // seq_parameter_set_id
    if matches!(
        profile_idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    ) {
        skip_high_profile_fields(r)?;
    }
    r.read_ue()?; // log2_max_frame_num_minus4
    match r.read_ue()? {
        0 => {
            r.read_ue()?;
        }
        1 => {
            r.skip_bits(1)?;
            r.read_se()?;
            r.read_se()?;
            let cycle = r.read_ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.read_se()?;
            }
        }
        2 => {}
        _ => return None,
    }
    r.read_ue()?; // max_num_ref_frames
    r.skip_bits(1)?; // gaps_in_frame_num_value_allowed_flag
    r.read_ue()?; // pic_width_in_mbs_minus1
    r.read_ue()?; // pic_height_in_map_units_minus1
    if !r.read_bit()? {
        r.skip_bits(1)?; // mb_adaptive_frame_field_flag
    }
    r.skip_bits(1)?; // direct_8x8_inference_flag
    if r.read_bit()? {
        for _ in 0..4 {
            r.read_ue()?; // frame cropping offsets
        }
    }
    Some(())
}

fn skip_high_profile_fields(r: &mut BitReader) -> Option<()> {
    let chroma_format_idc = r.read_ue()?;
    if chroma_format_idc == 3 {
        r.skip_bits(1)?; // separate_colour_plane_flag
    }
    r.read_ue()?; // bit_depth_luma_minus8
    r.read_ue()?; // bit_depth_chroma_minus8
    r.skip_bits(1)?; // qpprime_y_zero_transform_bypass_flag
    if r.read_bit()? {
        let lists = if chroma_format_idc == 3 { 12 } else { 8 };
        for i in 0..lists {
            if r.read_bit()? {
                skip_scaling_list(r, if i < 6 { 16 } else { 64 })?;
            }
        }
    }
    Some(())
}

fn skip_scaling_list(r: &mut BitReader, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i32, 8i32);
    for _ in 0..size {
        if next != 0 {
            next = (last + r.read_se()? + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sps_without_vui_means_limited_range_unspecified_matrix() {
        // x264 1080p High SPS (cht-core's fixture) has no colour description.
        let sps = [
            0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00,
            0x00, 0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
        ];
        assert_eq!(colour_info_from_sps(&sps), Some(ColourInfo::default()));
    }

    #[test]
    fn rejects_non_sps_and_truncated_input() {
        assert_eq!(colour_info_from_sps(&[0x68, 1, 2, 3]), None);
        assert_eq!(colour_info_from_sps(&[0x67, 0x64, 0x00, 0x28]), None);
    }
}
