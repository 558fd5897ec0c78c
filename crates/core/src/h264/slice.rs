//! Picture parameter sets and slice headers, read up to the reference
//! picture marking: what following the references between the pictures of
//! a stream takes (which pictures a slice may predict from, and which
//! pictures its picture makes unused), without decoding any slice data.

use super::nal::{nal_ref_idc, nal_to_rbsp, nal_type, nal_unit_type};
use super::sps::Sps;
use crate::bits::BitReader;

/// The parsed subset of a PPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pps {
    /// `pic_parameter_set_id`.
    pub pps_id: u32,
    /// `seq_parameter_set_id`.
    pub sps_id: u32,
    /// `entropy_coding_mode_flag`: CABAC.
    pub cabac: bool,
    /// `bottom_field_pic_order_in_frame_present_flag`.
    pub bottom_field_pic_order_in_frame_present: bool,
    /// `num_slice_groups_minus1 + 1` (more than one: FMO).
    pub slice_groups: u32,
    /// `num_ref_idx_l0/l1_default_active_minus1 + 1`.
    pub num_ref_idx_default_active: [u32; 2],
    /// `weighted_pred_flag` (explicit weights in P slices).
    pub weighted_pred: bool,
    /// `weighted_bipred_idc` (1: explicit weights in B slices).
    pub weighted_bipred_idc: u8,
    /// `redundant_pic_cnt_present_flag`.
    pub redundant_pic_cnt_present: bool,
}

/// Parses a PPS NAL unit (header byte included) as far as [`Pps`] goes.
/// `None` if it is not a PPS or is truncated.
pub fn parse_pps(nal: &[u8]) -> Option<Pps> {
    if nal_unit_type(nal) != nal_type::PPS {
        return None;
    }
    let rbsp = nal_to_rbsp(&nal[1..]);
    let mut r = BitReader::new(&rbsp);
    let pps_id = r.read_ue()?;
    let sps_id = r.read_ue()?;
    if pps_id > 255 || sps_id > 31 {
        return None;
    }
    let cabac = r.read_bit()?;
    let bottom_field_pic_order_in_frame_present = r.read_bit()?;
    let slice_groups = r.read_ue()?.checked_add(1)?;
    if slice_groups > 1 {
        // The slice group map is not read: nothing after it is needed to
        // tell that this PPS uses FMO.
        return Some(Pps {
            pps_id,
            sps_id,
            cabac,
            bottom_field_pic_order_in_frame_present,
            slice_groups,
            num_ref_idx_default_active: [1, 1],
            weighted_pred: false,
            weighted_bipred_idc: 0,
            redundant_pic_cnt_present: false,
        });
    }
    let l0 = r.read_ue()?.checked_add(1)?;
    let l1 = r.read_ue()?.checked_add(1)?;
    let weighted_pred = r.read_bit()?;
    let weighted_bipred_idc = r.read_bits(2)? as u8;
    r.read_se()?; // pic_init_qp_minus26
    r.read_se()?; // pic_init_qs_minus26
    r.read_se()?; // chroma_qp_index_offset
    r.read_bit()?; // deblocking_filter_control_present_flag
    r.read_bit()?; // constrained_intra_pred_flag
    let redundant_pic_cnt_present = r.read_bit()?;
    if l0 > 32 || l1 > 32 {
        return None;
    }
    Some(Pps {
        pps_id,
        sps_id,
        cabac,
        bottom_field_pic_order_in_frame_present,
        slice_groups,
        num_ref_idx_default_active: [l0, l1],
        weighted_pred,
        weighted_bipred_idc,
        redundant_pic_cnt_present,
    })
}

/// A slice's type, as far as references go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceKind {
    /// P or SP: one reference list.
    P,
    /// B: two reference lists.
    B,
    /// I or SI: no references.
    I,
}

/// One `ref_pic_list_modification` operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListModification {
    /// `modification_of_pic_nums_idc` 0: the short-term picture whose
    /// picture number is this much below the one predicted.
    Subtract(u32),
    /// `modification_of_pic_nums_idc` 1: ... this much above.
    Add(u32),
    /// `modification_of_pic_nums_idc` 2: a long-term picture.
    LongTerm(u32),
}

/// One `memory_management_control_operation` (adaptive reference marking).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemoryOperation {
    /// 1: the short-term picture `difference_of_pic_nums_minus1 + 1` below
    /// the current picture number becomes unused.
    ShortTermUnused(u32),
    /// 2 to 6: long-term marking or a reset of every reference (the
    /// operation code).
    Other(u32),
}

/// The fields of a slice header that say which pictures it refers to and
/// what its picture does to the reference pictures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SliceHeader {
    /// The NAL unit's `nal_ref_idc` is not 0: the picture is a reference.
    pub reference: bool,
    /// An IDR slice.
    pub idr: bool,
    /// P, B or I.
    pub kind: SliceKind,
    /// `pic_parameter_set_id`.
    pub pps_id: u32,
    /// `frame_num`.
    pub frame_num: u32,
    /// A field, not a frame (`field_pic_flag`).
    pub field: bool,
    /// `pic_order_cnt_lsb` (picture order count type 0).
    pub pic_order_cnt_lsb: u32,
    /// `delta_pic_order_cnt_bottom` (type 0, when the PPS has it).
    pub delta_pic_order_cnt_bottom: i32,
    /// `num_ref_idx_l0/l1_active_minus1 + 1` (the PPS's defaults unless
    /// overridden); 0 for the lists a slice of its kind does not have.
    pub num_ref_idx_active: [u32; 2],
    /// The list modifications, per list.
    pub modifications: [Vec<ListModification>; 2],
    /// IDR: `long_term_reference_flag`.
    pub long_term_reference: bool,
    /// `Some` when `adaptive_ref_pic_marking_mode_flag` is set: the
    /// operations (empty when the list is); `None`: the sliding window.
    pub memory_operations: Option<Vec<MemoryOperation>>,
}

/// Parses the header of a coded slice NAL unit (types 1 and 5, header byte
/// included) with its parameter sets, looked up by id. `None` when it is
/// not such a slice, a parameter set is missing, or it is truncated.
pub fn parse_slice_header<'a>(
    nal: &[u8],
    pps_of: impl Fn(u32) -> Option<&'a Pps>,
    sps_of: impl Fn(u32) -> Option<&'a Sps>,
) -> Option<SliceHeader> {
    let unit_type = nal_unit_type(nal);
    if unit_type != nal_type::SLICE && unit_type != nal_type::IDR {
        return None;
    }
    let idr = unit_type == nal_type::IDR;
    let reference = nal_ref_idc(nal) != 0;
    // The header is at most a few hundred bytes; the slice data after it
    // is not needed.
    let rbsp = nal_to_rbsp(&nal[1..nal.len().min(1024)]);
    let mut r = BitReader::new(&rbsp);
    r.read_ue()?; // first_mb_in_slice
    let kind = match r.read_ue()? % 5 {
        0 | 3 => SliceKind::P,
        1 => SliceKind::B,
        _ => SliceKind::I,
    };
    let pps_id = r.read_ue()?;
    let pps = pps_of(pps_id)?;
    let sps = sps_of(pps.sps_id)?;
    let n = &sps.numbering;
    if n.separate_colour_plane {
        r.skip_bits(2)?; // colour_plane_id
    }
    let frame_num = r.read_bits(n.log2_max_frame_num as u32)?;
    let mut field = false;
    if !sps.frame_mbs_only {
        field = r.read_bit()?;
        if field {
            r.read_bit()?; // bottom_field_flag
        }
    }
    if idr {
        r.read_ue()?; // idr_pic_id
    }
    let (mut pic_order_cnt_lsb, mut delta_pic_order_cnt_bottom) = (0, 0);
    match n.pic_order_cnt_type {
        0 => {
            pic_order_cnt_lsb = r.read_bits(n.log2_max_poc_lsb as u32)?;
            if pps.bottom_field_pic_order_in_frame_present && !field {
                delta_pic_order_cnt_bottom = r.read_se()?;
            }
        }
        1 if !n.delta_pic_order_always_zero => {
            r.read_se()?;
            if pps.bottom_field_pic_order_in_frame_present && !field {
                r.read_se()?;
            }
        }
        _ => {}
    }
    if pps.redundant_pic_cnt_present {
        r.read_ue()?;
    }
    if kind == SliceKind::B {
        r.read_bit()?; // direct_spatial_mv_pred_flag
    }
    let mut num_ref_idx_active = match kind {
        SliceKind::P => [pps.num_ref_idx_default_active[0], 0],
        SliceKind::B => pps.num_ref_idx_default_active,
        SliceKind::I => [0, 0],
    };
    if kind != SliceKind::I && r.read_bit()? {
        num_ref_idx_active[0] = r.read_ue()?.checked_add(1)?;
        if kind == SliceKind::B {
            num_ref_idx_active[1] = r.read_ue()?.checked_add(1)?;
        }
    }
    if num_ref_idx_active.iter().any(|&n| n > 32) {
        return None;
    }
    let lists = match kind {
        SliceKind::P => 1,
        SliceKind::B => 2,
        SliceKind::I => 0,
    };
    let mut modifications = [Vec::new(), Vec::new()];
    for list in modifications.iter_mut().take(lists) {
        *list = read_list_modification(&mut r)?;
    }
    let explicit_weights = match kind {
        SliceKind::P => pps.weighted_pred,
        SliceKind::B => pps.weighted_bipred_idc == 1,
        SliceKind::I => false,
    };
    if explicit_weights {
        skip_pred_weight_table(&mut r, &num_ref_idx_active[..lists], n.chroma_array_type)?;
    }
    let (mut long_term_reference, mut memory_operations) = (false, None);
    if reference {
        if idr {
            r.read_bit()?; // no_output_of_prior_pics_flag
            long_term_reference = r.read_bit()?;
        } else if r.read_bit()? {
            memory_operations = Some(read_memory_operations(&mut r)?);
        }
    }
    Some(SliceHeader {
        reference,
        idr,
        kind,
        pps_id,
        frame_num,
        field,
        pic_order_cnt_lsb,
        delta_pic_order_cnt_bottom,
        num_ref_idx_active,
        modifications,
        long_term_reference,
        memory_operations,
    })
}

/// `ref_pic_list_modification_flag_lX` and its operations.
fn read_list_modification(r: &mut BitReader) -> Option<Vec<ListModification>> {
    let mut ops = Vec::new();
    if !r.read_bit()? {
        return Some(ops);
    }
    loop {
        let op = match r.read_ue()? {
            0 => ListModification::Subtract(r.read_ue()?.checked_add(1)?),
            1 => ListModification::Add(r.read_ue()?.checked_add(1)?),
            2 => ListModification::LongTerm(r.read_ue()?),
            3 => return Some(ops),
            _ => return None,
        };
        ops.push(op);
        if ops.len() > 33 {
            return None;
        }
    }
}

fn skip_pred_weight_table(r: &mut BitReader, active: &[u32], chroma_array_type: u8) -> Option<()> {
    r.read_ue()?; // luma_log2_weight_denom
    if chroma_array_type != 0 {
        r.read_ue()?; // chroma_log2_weight_denom
    }
    for &n in active {
        for _ in 0..n {
            if r.read_bit()? {
                r.read_se()?;
                r.read_se()?;
            }
            if chroma_array_type != 0 && r.read_bit()? {
                for _ in 0..4 {
                    r.read_se()?;
                }
            }
        }
    }
    Some(())
}

fn read_memory_operations(r: &mut BitReader) -> Option<Vec<MemoryOperation>> {
    let mut ops = Vec::new();
    loop {
        let op = r.read_ue()?;
        match op {
            0 => return Some(ops),
            1 => ops.push(MemoryOperation::ShortTermUnused(
                r.read_ue()?.checked_add(1)?,
            )),
            2 | 4 => {
                r.read_ue()?;
                ops.push(MemoryOperation::Other(op));
            }
            3 => {
                r.read_ue()?;
                r.read_ue()?;
                ops.push(MemoryOperation::Other(op));
            }
            5 => ops.push(MemoryOperation::Other(op)),
            6 => {
                r.read_ue()?;
                ops.push(MemoryOperation::Other(op));
            }
            _ => return None,
        }
        if ops.len() > 66 {
            return None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::h264::{parse_sps, sps_allowing_frame_num_gaps};

    fn hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap_or(0))
            .collect()
    }

    // x264 veryfast, 1920x1080 High, 3 B-frames in a pyramid, one reference
    // frame, weighted P prediction (the bench's screen clip); the slices are
    // cut after their headers. Values checked against ffmpeg's
    // `-bsf:v trace_headers`.
    const SPS: &str = "67640028acd940780227e59a808080a0000003002000000781e30632c0";
    const PPS: &str = "68efbcb0";
    /// The B-pyramid's middle B-frame: a reference, sliding window.
    const B_REFERENCE: &str = "419e414217ff00000300010e8bcb140cc8034af9bd95d000";
    /// The P-frame after it: its list reordered to the P-frame before, and
    /// the B-frame before that made unused.
    const P_REORDERED: &str = "419a65344ca7877ffe8cb0000a07dc1006dce160f1056371";

    fn header(slice: &str) -> Option<SliceHeader> {
        let (sps, pps) = (parse_sps(&hex(SPS))?, parse_pps(&hex(PPS))?);
        parse_slice_header(
            &hex(slice),
            |id| (id == 0).then_some(&pps),
            |id| (id == 0).then_some(&sps),
        )
    }

    #[test]
    fn reads_the_numbering_of_the_sps_and_the_defaults_of_the_pps() {
        let n = parse_sps(&hex(SPS)).map(|s| s.numbering);
        let n = n.expect("valid sps");
        assert_eq!(
            (
                n.log2_max_frame_num,
                n.pic_order_cnt_type,
                n.log2_max_poc_lsb
            ),
            (4, 0, 6)
        );
        assert_eq!((n.max_num_ref_frames, n.chroma_array_type), (4, 1));
        assert!(!n.gaps_in_frame_num_allowed);
        let pps = parse_pps(&hex(PPS)).expect("valid pps");
        assert_eq!(pps.num_ref_idx_default_active, [1, 1]);
        assert!(pps.weighted_pred && pps.cabac);
        assert_eq!((pps.weighted_bipred_idc, pps.slice_groups), (2, 1));
    }

    #[test]
    fn reads_a_reference_b_slice() {
        let h = header(B_REFERENCE).expect("parses");
        assert!(h.reference && !h.idr && !h.field);
        assert_eq!(h.kind, SliceKind::B);
        assert_eq!((h.frame_num, h.pic_order_cnt_lsb), (2, 2));
        assert_eq!(h.num_ref_idx_active, [1, 1]);
        assert_eq!(h.modifications, [vec![], vec![]]);
        assert_eq!(h.memory_operations, None);
    }

    #[test]
    fn reads_list_modifications_after_a_weight_table_and_the_marking() {
        let h = header(P_REORDERED).expect("parses");
        assert_eq!(h.kind, SliceKind::P);
        assert_eq!((h.frame_num, h.pic_order_cnt_lsb), (3, 10));
        assert_eq!(h.num_ref_idx_active, [1, 0]);
        assert_eq!(h.modifications[0], vec![ListModification::Subtract(2)]);
        assert_eq!(
            h.memory_operations,
            Some(vec![MemoryOperation::ShortTermUnused(3)])
        );
    }

    #[test]
    fn a_slice_without_its_parameter_sets_or_cut_short_is_not_read() {
        let sps = parse_sps(&hex(SPS)).expect("valid sps");
        assert_eq!(
            parse_slice_header(&hex(P_REORDERED), |_| None, |_| Some(&sps)),
            None
        );
        assert_eq!(header(&P_REORDERED[..8]), None);
        assert_eq!(header(SPS), None);
    }

    #[test]
    fn allowing_frame_num_gaps_changes_that_flag_only() {
        let sps = hex(SPS);
        let allowed = sps_allowing_frame_num_gaps(&sps).expect("rewritten");
        let (before, after) = (
            parse_sps(&sps).expect("valid"),
            parse_sps(&allowed).expect("valid"),
        );
        assert!(after.numbering.gaps_in_frame_num_allowed);
        let mut expected = before;
        expected.numbering.gaps_in_frame_num_allowed = true;
        assert_eq!(after, expected);
        // One bit differs; the emulation prevention bytes are kept.
        assert_eq!(allowed.len(), sps.len());
        let bits: u32 = sps
            .iter()
            .zip(&allowed)
            .map(|(a, b)| (a ^ b).count_ones())
            .sum();
        assert_eq!(bits, 1);
        assert_eq!(sps_allowing_frame_num_gaps(&hex(PPS)), None);
        // A header byte alone (a damaged sample) is no SPS to rewrite.
        assert_eq!(sps_allowing_frame_num_gaps(&[0x67]), None);
    }
}
