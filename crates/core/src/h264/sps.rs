//! The H.264 sequence parameter set, read once through the VUI: profile,
//! level, chroma format, bit depth, cropped picture size, field coding and
//! the colour description. Every stage that needs one of these (the TS
//! demuxer, the MP4 sample entry, the decoder's format check and colours)
//! reads it from this one parser.

use super::nal::{nal_to_rbsp, nal_type, nal_unit_type, rbsp_to_nal};
use crate::bits::BitReader;
use crate::picture::{ColourInfo, MatrixCoefficients};

/// The parsed subset of an SPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sps {
    /// `profile_idc` (66 Baseline, 77 Main, 100 High, ...).
    pub profile_idc: u8,
    /// The constraint-flags byte (`profile_compatibility` in avcC).
    pub constraint_flags: u8,
    /// `level_idc` (31 = level 3.1).
    pub level_idc: u8,
    /// `seq_parameter_set_id`.
    pub sps_id: u32,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// Bits per luma sample.
    pub bit_depth_luma: u8,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u8,
    /// Display width after cropping.
    pub width: u32,
    /// Display height after cropping.
    pub height: u32,
    /// Progressive frames only (no field or MBAFF coding).
    pub frame_mbs_only: bool,
    /// How pictures are numbered and referenced: what a slice header's
    /// `frame_num` and picture order count mean.
    pub numbering: PictureNumbering,
    /// Range and matrix from the VUI's `video_signal_type` (the defaults
    /// when the SPS has no VUI); `None` when the VUI is present but
    /// truncated, so callers keep what they knew.
    pub colour: Option<ColourInfo>,
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

/// The SPS fields that say how pictures are numbered and how many are kept
/// for reference (what reading a slice header and following the references
/// between pictures take).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PictureNumbering {
    /// Bits of a slice header's `frame_num` (`log2_max_frame_num`).
    pub log2_max_frame_num: u8,
    /// `pic_order_cnt_type` (0, 1 or 2).
    pub pic_order_cnt_type: u8,
    /// Bits of `pic_order_cnt_lsb` (type 0 only).
    pub log2_max_poc_lsb: u8,
    /// `delta_pic_order_always_zero_flag` (type 1 only).
    pub delta_pic_order_always_zero: bool,
    /// `max_num_ref_frames`: the sliding window's size.
    pub max_num_ref_frames: u32,
    /// `gaps_in_frame_num_value_allowed_flag`.
    pub gaps_in_frame_num_allowed: bool,
    /// `ChromaArrayType` (0 for monochrome or separate colour planes): a
    /// slice's weight table has chroma weights unless it is 0.
    pub chroma_array_type: u8,
    /// Separate colour planes: a slice header carries `colour_plane_id`.
    pub separate_colour_plane: bool,
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

/// Chroma format and bit depths (High profiles only; 4:2:0 8-bit otherwise).
struct SampleFormat {
    chroma_format_idc: u32,
    separate_colour_plane: bool,
    bit_depth_luma: u32,
    bit_depth_chroma: u32,
}

fn read_sample_format(r: &mut BitReader, profile_idc: u8) -> Option<SampleFormat> {
    let mut format = SampleFormat {
        chroma_format_idc: 1,
        separate_colour_plane: false,
        bit_depth_luma: 8,
        bit_depth_chroma: 8,
    };
    if !has_high_profile_fields(profile_idc) {
        return Some(format);
    }
    format.chroma_format_idc = r.read_ue()?;
    if format.chroma_format_idc > 3 {
        return None;
    }
    if format.chroma_format_idc == 3 {
        format.separate_colour_plane = r.read_bit()?;
    }
    format.bit_depth_luma = r.read_ue()? + 8;
    format.bit_depth_chroma = r.read_ue()? + 8;
    if format.bit_depth_luma > 14 || format.bit_depth_chroma > 14 {
        return None;
    }
    r.read_bit()?; // qpprime_y_zero_transform_bypass_flag
    if r.read_bit()? {
        let lists = if format.chroma_format_idc == 3 { 12 } else { 8 };
        for i in 0..lists {
            if r.read_bit()? {
                skip_scaling_list(r, if i < 6 { 16 } else { 64 })?;
            }
        }
    }
    Some(format)
}

/// `log2_max_frame_num` .. `gaps_in_frame_num_value_allowed_flag`; also
/// where that last flag is, in bits from the start of the RBSP.
fn read_numbering(r: &mut BitReader, format: &SampleFormat) -> Option<(PictureNumbering, usize)> {
    let log2_max_frame_num = r.read_ue()? + 4;
    let pic_order_cnt_type = r.read_ue()?;
    let (mut log2_max_poc_lsb, mut delta_pic_order_always_zero) = (0, false);
    match pic_order_cnt_type {
        0 => log2_max_poc_lsb = r.read_ue()? + 4,
        1 => {
            delta_pic_order_always_zero = r.read_bit()?;
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
    if log2_max_frame_num > 16 || log2_max_poc_lsb > 16 {
        return None;
    }
    let max_num_ref_frames = r.read_ue()?;
    let gaps_flag_at = r.bit_position();
    let gaps_in_frame_num_allowed = r.read_bit()?;
    let chroma_array_type = if format.separate_colour_plane {
        0
    } else {
        format.chroma_format_idc as u8
    };
    let numbering = PictureNumbering {
        log2_max_frame_num: log2_max_frame_num as u8,
        pic_order_cnt_type: pic_order_cnt_type as u8,
        log2_max_poc_lsb: log2_max_poc_lsb as u8,
        delta_pic_order_always_zero,
        max_num_ref_frames,
        gaps_in_frame_num_allowed,
        chroma_array_type,
        separate_colour_plane: format.separate_colour_plane,
    };
    Some((numbering, gaps_flag_at))
}

/// The fields of an SPS up to `gaps_in_frame_num_value_allowed_flag`, and
/// where that flag is, in bits from the start of the RBSP.
struct Head {
    profile_idc: u8,
    constraint_flags: u8,
    level_idc: u8,
    sps_id: u32,
    format: SampleFormat,
    numbering: PictureNumbering,
    gaps_flag_at: usize,
}

/// Reads an SPS's RBSP (header byte removed) up to [`Head`].
fn read_head(r: &mut BitReader) -> Option<Head> {
    let profile_idc = r.read_bits(8)? as u8;
    let constraint_flags = r.read_bits(8)? as u8;
    let level_idc = r.read_bits(8)? as u8;
    let sps_id = r.read_ue()?;
    if sps_id > 31 {
        return None;
    }
    let format = read_sample_format(r, profile_idc)?;
    let (numbering, gaps_flag_at) = read_numbering(r, &format)?;
    Some(Head {
        profile_idc,
        constraint_flags,
        level_idc,
        sps_id,
        format,
        numbering,
        gaps_flag_at,
    })
}

/// The SPS NAL unit with `gaps_in_frame_num_value_allowed_flag` set: a
/// decoder given it takes a picture whose `frame_num` skips some as
/// intended, not as a loss to conceal. (A decoder that leaves reference
/// pictures undecoded on purpose, where no picture it decodes refers to
/// them, feeds it this.) `None` if `nal` is not a parseable SPS.
pub fn sps_allowing_frame_num_gaps(nal: &[u8]) -> Option<Vec<u8>> {
    if nal_unit_type(nal) != nal_type::SPS {
        return None;
    }
    let mut rbsp = nal_to_rbsp(&nal[1..]);
    let at = read_head(&mut BitReader::new(&rbsp))?.gaps_flag_at;
    rbsp[at / 8] |= 0x80 >> (at % 8);
    let mut out = vec![nal[0]];
    out.extend_from_slice(&rbsp_to_nal(&rbsp));
    Some(out)
}

/// Parses an SPS NAL unit (header byte included). `None` if it is not an SPS
/// or is truncated/invalid before the VUI.
pub fn parse_sps(nal: &[u8]) -> Option<Sps> {
    if nal_unit_type(nal) != nal_type::SPS || nal.len() < 4 {
        return None;
    }
    let rbsp = nal_to_rbsp(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    let Head {
        profile_idc,
        constraint_flags,
        level_idc,
        sps_id,
        format,
        numbering,
        gaps_flag_at: _,
    } = read_head(&mut r)?;
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
    let (sub_w, sub_h) = match (format.chroma_format_idc, format.separate_colour_plane) {
        (1, _) => (2, 2),
        (2, _) => (2, 1),
        _ => (1, 1),
    };
    let (crop_unit_x, crop_unit_y) =
        if format.chroma_format_idc == 0 || format.separate_colour_plane {
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
    let colour = read_vui_colour(&mut r);
    Some(Sps {
        profile_idc,
        constraint_flags,
        level_idc,
        sps_id,
        chroma_format_idc: format.chroma_format_idc as u8,
        bit_depth_luma: format.bit_depth_luma as u8,
        bit_depth_chroma: format.bit_depth_chroma as u8,
        frame_mbs_only,
        numbering,
        width: width as u32,
        height: height as u32,
        colour,
    })
}

/// `vui_parameters_present_flag` and the VUI up to `matrix_coefficients`.
/// A missing VUI means the defaults: limited range, matrix unspecified.
fn read_vui_colour(r: &mut BitReader) -> Option<ColourInfo> {
    if !r.read_bit()? {
        return Some(ColourInfo::default());
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// SPS of an x264 1920x1080 High@4.0 stream (1088 coded, cropped to 1080),
    /// without a colour description.
    const SPS_1080P: [u8; 27] = [
        0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00,
        0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
    ];

    #[test]
    fn parses_x264_high_profile_1080p() {
        let s = parse_sps(&SPS_1080P).expect("valid sps");
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
        assert!(parse_sps(&SPS_1080P).expect("valid sps").frame_mbs_only);
    }

    #[test]
    fn rejects_truncated_and_foreign_nals() {
        assert_eq!(parse_sps(&[0x67, 0x64, 0x00]), None);
        assert_eq!(parse_sps(&[0x68, 0x64, 0x00, 0x28, 0xac]), None);
        assert_eq!(parse_sps(&[0x67, 0x64, 0x00, 0x28]), None);
        assert_eq!(parse_sps(&[]), None);
    }

    #[test]
    fn sps_without_vui_means_limited_range_unspecified_matrix() {
        let s = parse_sps(&SPS_1080P).expect("valid sps");
        assert_eq!(s.colour, Some(ColourInfo::default()));
    }

    #[test]
    fn reads_the_colour_description_of_the_vui() {
        // Baseline 64x64, VUI with video_signal_type: full range, BT.709
        // (colour_primaries 1, transfer 1, matrix 1).
        let mut w = BitWriter::default();
        w.bits(66, 8); // profile_idc
        w.bits(0, 8); // constraint flags
        w.bits(30, 8); // level
        w.ue(0); // sps id
        w.ue(0); // log2_max_frame_num_minus4
        w.ue(2); // pic_order_cnt_type
        w.ue(1); // max_num_ref_frames
        w.bits(0, 1); // gaps
        w.ue(3); // width in mbs - 1
        w.ue(3); // height in map units - 1
        w.bits(1, 1); // frame_mbs_only
        w.bits(1, 1); // direct_8x8
        w.bits(0, 1); // no cropping
        w.bits(1, 1); // vui present
        w.bits(0, 1); // no aspect ratio
        w.bits(0, 1); // no overscan info
        w.bits(1, 1); // video_signal_type present
        w.bits(5, 3); // video_format
        w.bits(1, 1); // full range
        w.bits(1, 1); // colour description present
        w.bits(1, 8);
        w.bits(1, 8);
        w.bits(1, 8); // matrix BT.709
        w.bits(1, 1); // rbsp stop bit
        let mut nal = vec![0x67];
        nal.extend(w.finish());
        let s = parse_sps(&nal).expect("valid sps");
        assert_eq!((s.width, s.height), (64, 64));
        assert_eq!(
            s.colour,
            Some(ColourInfo {
                full_range: true,
                matrix: MatrixCoefficients::Bt709
            })
        );
        // Cut inside the colour description: the SPS still parses, the
        // colour is unknown.
        let cut = &nal[..nal.len() - 2];
        let s = parse_sps(cut).expect("fields before the VUI are intact");
        assert_eq!(s.colour, None);
    }

    #[derive(Default)]
    struct BitWriter {
        bytes: Vec<u8>,
        used: u32,
    }

    impl BitWriter {
        fn bits(&mut self, value: u32, n: u32) {
            for i in (0..n).rev() {
                if self.used & 7 == 0 {
                    self.bytes.push(0);
                }
                let bit = ((value >> i) & 1) as u8;
                let last = self.bytes.len() - 1;
                self.bytes[last] |= bit << (7 - self.used % 8);
                self.used += 1;
            }
        }

        fn ue(&mut self, value: u32) {
            let v = value + 1;
            let len = 32 - v.leading_zeros();
            self.bits(0, len - 1);
            self.bits(v, len);
        }

        fn finish(self) -> Vec<u8> {
            self.bytes
        }
    }
}
