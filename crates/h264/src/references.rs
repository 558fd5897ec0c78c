//! Which reference pictures of a GOP no other decoded picture needs.
//!
//! x264's B-pyramid makes the middle B-frame of each run a reference
//! picture, for the B-frames around it only. With `ref=1` (x264's
//! `veryfast` and faster presets, OBS's default) the next P-frame's list is
//! reordered to the P-frame before it, so once the non-reference B-frames
//! are skipped, nothing refers to that middle B-frame any more: it may be
//! skipped too. Whether that holds is read from the slice headers alone, by
//! following openh264's reference handling (its picture order counts, its
//! default lists, its list modifications, its sliding window and
//! `memory_management_control_operation` 1) twice: with every reference
//! picture decoded, and with every candidate skipped. A candidate is
//! optional only when no reference picture's lists hold it, and every
//! decoded picture gets the same picture order count and the same active
//! reference lists both ways (sorted lists keep their first entries
//! whatever subset of the candidates is skipped, so any subset may be).
//! Anything this model does not follow (fields, long-term references,
//! picture order count types 1 and 2 with B-frames, FMO, a reference that
//! is not there) leaves every picture of the GOP needed.

use cht_core::h264::{
    nal_type, nal_unit_type, parse_pps, parse_slice_header, parse_sps, ListModification,
    MemoryOperation, PictureNumbering, Pps, SliceHeader, SliceKind, Sps,
};
use std::collections::HashMap;

/// The SPS and PPS a stream has shown so far, by id.
#[derive(Debug, Default, Clone)]
pub(crate) struct ParameterSets {
    sps: HashMap<u32, Sps>,
    pps: HashMap<u32, Pps>,
}

impl ParameterSets {
    /// Takes in a parameter set NAL unit; other NAL units are ignored.
    pub fn add(&mut self, nal: &[u8]) {
        match nal_unit_type(nal) {
            nal_type::SPS => {
                if let Some(sps) = parse_sps(nal) {
                    self.sps.insert(sps.sps_id, sps);
                }
            }
            nal_type::PPS => {
                if let Some(pps) = parse_pps(nal) {
                    self.pps.insert(pps.pps_id, pps);
                }
            }
            _ => {}
        }
    }

    /// A slice's header and what reading the rest takes: `None` when it
    /// does not parse or uses what the model does not follow (fields, FMO).
    fn slice_header(&self, nal: &[u8]) -> Option<(SliceHeader, PictureNumbering, Reordering)> {
        let header = parse_slice_header(nal, |id| self.pps.get(&id), |id| self.sps.get(&id))?;
        let pps = self.pps.get(&header.pps_id)?;
        let sps = self.sps.get(&pps.sps_id)?;
        if !sps.frame_mbs_only || pps.slice_groups != 1 || header.field {
            return None;
        }
        // openh264 reorders CABAC streams of profiles above Baseline by the
        // standard's procedure (`WelsReorderRefList2`), others its own way.
        let reordering = match sps.profile_idc != 66 && pps.cabac {
            true => Reordering::Standard,
            false => Reordering::Move,
        };
        Some((header, sps.numbering, reordering))
    }
}

/// How openh264 applies a slice's list modifications.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Reordering {
    /// `WelsReorderRefList2`: the standard's procedure, the picture looked
    /// up among the short-term references, later copies of it removed,
    /// the list then padded with copies of its last entry.
    Standard,
    /// `WelsReorderRefList`: the picture looked up in the list itself and
    /// moved to its place.
    Move,
}

/// One coded picture, as far as references go. openh264 builds the lists
/// and marks the picture from its first slice, so the other slices must
/// agree with it on both: `header` is the first slice's.
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    header: SliceHeader,
    numbering: PictureNumbering,
    reordering: Reordering,
}

impl Unit {
    /// Reads the slice headers of one access unit's NAL units; parameter
    /// sets among them go to `sets` first when `in_band` (a decoder given
    /// the track's parameter sets ignores those in the stream). `None` when
    /// a slice header does not parse or uses what this model does not
    /// follow; `Some(None)` for an access unit without a slice.
    pub fn read<'a>(
        nals: impl Iterator<Item = &'a [u8]>,
        sets: &mut ParameterSets,
        in_band: bool,
    ) -> Option<Option<Unit>> {
        let mut unit: Option<Unit> = None;
        for nal in nals {
            match nal_unit_type(nal) {
                nal_type::SPS | nal_type::PPS if in_band => sets.add(nal),
                nal_type::SLICE | nal_type::IDR => {
                    let (header, numbering, reordering) = sets.slice_header(nal)?;
                    match &mut unit {
                        None => {
                            unit = Some(Unit {
                                header,
                                numbering,
                                reordering,
                            })
                        }
                        Some(first) => {
                            let h = &first.header;
                            let agrees = h.kind == header.kind
                                && h.frame_num == header.frame_num
                                && h.num_ref_idx_active == header.num_ref_idx_active
                                && h.modifications == header.modifications
                                && h.memory_operations == header.memory_operations;
                            if !agrees {
                                return None;
                            }
                        }
                    }
                }
                2..=4 => return None, // data partitioning
                _ => {}
            }
        }
        Some(unit)
    }

    fn is_reference(&self) -> bool {
        self.header.reference
    }

    /// A reference picture made of B slices only (its slices agree on the
    /// kind): one a P-frame may not need.
    fn is_candidate(&self) -> bool {
        self.is_reference() && self.header.kind == SliceKind::B
    }
}

/// Which access units of a GOP (decode order, first one an IDR) are
/// reference pictures that may be left undecoded, together with any other
/// of them and every non-reference picture. All `false` when that cannot
/// be shown.
pub(crate) fn optional_references(units: &[Option<Unit>]) -> Vec<bool> {
    let none = vec![false; units.len()];
    let candidates: Vec<bool> = units
        .iter()
        .map(|u| u.as_ref().is_some_and(Unit::is_candidate))
        .collect();
    if !candidates.contains(&true) {
        return none;
    }
    let Some(full) = simulate(units, &none) else {
        return none;
    };
    let mut needed = vec![false; units.len()];
    for picture in full.iter().flatten() {
        for &r in picture.lists.iter().flatten().flatten() {
            needed[r] = true;
        }
    }
    let optional: Vec<bool> = candidates
        .iter()
        .zip(&needed)
        .map(|(&c, &n)| c && !n)
        .collect();
    if !optional.contains(&true) {
        return none;
    }
    match simulate(units, &optional) {
        Some(without) if without == full && order_counts_hold(units, &full, &optional) => optional,
        _ => none,
    }
}

/// Each picture's order count is inferred from the previous reference
/// picture decoded (its `pic_order_cnt_lsb` wraps): that must come out the
/// same whichever of the optional pictures before it were decoded, so it
/// must be less than half the wrap away from each of them.
fn order_counts_hold(units: &[Option<Unit>], full: &[Option<Decoded>], optional: &[bool]) -> bool {
    let mut since_needed: Vec<i64> = Vec::new();
    for (i, unit) in units.iter().enumerate() {
        let (Some(unit), Some(decoded)) = (unit, &full[i]) else {
            continue;
        };
        let half = 1i64 << unit.numbering.log2_max_poc_lsb.saturating_sub(1);
        if since_needed
            .iter()
            .any(|&poc| (poc - decoded.poc).abs() >= half)
        {
            return false;
        }
        if !optional[i] {
            since_needed.clear();
        }
        since_needed.push(decoded.poc);
    }
    true
}

/// What a reference picture would be decoded with: its picture order count
/// and the active entries of its two lists (access unit indices; `None` for
/// an entry with no picture).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Decoded {
    poc: i64,
    lists: [Vec<Option<usize>>; 2],
}

/// A reference picture in the DPB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Reference {
    /// Its access unit's index in the GOP.
    index: usize,
    frame_num: u32,
    poc: i64,
}

/// The reference state openh264 keeps between pictures.
#[derive(Default)]
struct Dpb {
    /// Short-term reference pictures, the last one added first.
    short: Vec<Reference>,
    prev_lsb: i64,
    prev_msb: i64,
}

/// Follows the GOP's reference pictures in decode order, the `skipped`
/// ones left out; each one's [`Decoded`] is what it would be decoded with
/// at its place (also for a skipped one). `None` when the model cannot
/// follow the GOP.
fn simulate(units: &[Option<Unit>], skipped: &[bool]) -> Option<Vec<Option<Decoded>>> {
    let mut dpb = Dpb::default();
    let mut out = Vec::with_capacity(units.len());
    for (i, unit) in units.iter().enumerate() {
        let Some(unit) = unit.as_ref().filter(|u| u.is_reference()) else {
            out.push(None);
            continue;
        };
        let header = &unit.header;
        if (i == 0 && !header.idr) || unit.numbering.pic_order_cnt_type != 0 {
            return None;
        }
        if header.idr {
            dpb.short.clear();
            (dpb.prev_lsb, dpb.prev_msb) = (0, 0);
        }
        let (poc, lsb, msb) = order_count(header, &unit.numbering, &dpb);
        let lists = picture_lists(unit, &dpb, poc)?;
        let lists = lists.map(|l| l.iter().map(|r| r.map(|r| r.index)).collect());
        out.push(Some(Decoded { poc, lists }));
        if skipped[i] {
            continue;
        }
        (dpb.prev_lsb, dpb.prev_msb) = (lsb, msb);
        let frame_num = header.frame_num;
        mark(
            &mut dpb,
            unit,
            Reference {
                index: i,
                frame_num,
                poc,
            },
        )?;
    }
    Some(out)
}

/// openh264's picture order count (type 0): `(poc, lsb, msb)`.
fn order_count(slice: &SliceHeader, n: &PictureNumbering, dpb: &Dpb) -> (i64, i64, i64) {
    let max = 1i64 << n.log2_max_poc_lsb;
    let lsb = slice.pic_order_cnt_lsb as i64;
    let msb = if lsb < dpb.prev_lsb && dpb.prev_lsb - lsb >= max / 2 {
        dpb.prev_msb + max
    } else if lsb > dpb.prev_lsb && lsb - dpb.prev_lsb > max / 2 {
        dpb.prev_msb - max
    } else {
        dpb.prev_msb
    };
    let poc = msb + lsb + slice.delta_pic_order_cnt_bottom as i64;
    (poc, lsb, msb)
}

/// A picture's active reference lists: openh264's default order, then
/// the modifications, cut to `num_ref_idx_active`.
fn picture_lists(unit: &Unit, dpb: &Dpb, poc: i64) -> Option<[Vec<Option<Reference>>; 2]> {
    let slice = &unit.header;
    let mut lists: [Vec<Option<Reference>>; 2] = match slice.kind {
        SliceKind::I => return Some([Vec::new(), Vec::new()]),
        SliceKind::P => [dpb.short.iter().copied().map(Some).collect(), Vec::new()],
        SliceKind::B => {
            let mut before: Vec<Reference> =
                dpb.short.iter().copied().filter(|r| r.poc < poc).collect();
            let mut after: Vec<Reference> =
                dpb.short.iter().copied().filter(|r| r.poc > poc).collect();
            before.sort_by_key(|r| std::cmp::Reverse(r.poc));
            after.sort_by_key(|r| r.poc);
            let l0 = before.iter().chain(&after).copied().map(Some).collect();
            let l1 = after.iter().chain(&before).copied().map(Some).collect();
            [l0, l1]
        }
    };
    let lists_used = if slice.kind == SliceKind::B { 2 } else { 1 };
    for (x, list) in lists.iter_mut().enumerate().take(lists_used) {
        let active = slice.num_ref_idx_active[x] as usize;
        let ops = &slice.modifications[x];
        match unit.reordering {
            Reordering::Move => move_modified(list, ops, slice.frame_num, &unit.numbering)?,
            Reordering::Standard => {
                standard_modified(list, ops, slice.frame_num, &unit.numbering, dpb, active)?
            }
        }
        list.resize(active, None);
    }
    Some(lists)
}

/// `WelsReorderRefList`: each picture named is looked up in the list (the
/// last copy) by `frame_num` and moved to its place.
fn move_modified(
    list: &mut Vec<Option<Reference>>,
    ops: &[ListModification],
    frame_num: u32,
    n: &PictureNumbering,
) -> Option<()> {
    let mask = (1u32 << n.log2_max_frame_num) - 1;
    let mut predicted = frame_num;
    for (index, op) in ops.iter().enumerate() {
        predicted = match *op {
            ListModification::Subtract(d) => predicted.wrapping_sub(d) & mask,
            ListModification::Add(d) => predicted.wrapping_add(d) & mask,
            ListModification::LongTerm(_) => return None,
        };
        let found = list
            .iter()
            .rposition(|e| e.is_some_and(|r| r.frame_num == predicted))?;
        let picture = list[found];
        if list.len() <= index {
            list.resize(index + 1, None);
        }
        if found > index {
            list.remove(found);
            list.insert(index, picture);
        } else if found < index {
            list.insert(index, picture);
        }
    }
    Some(())
}

/// `WelsReorderRefList2`, on openh264's fixed array of `active + 1`
/// entries: each picture named (by its wrapped picture number) is looked
/// up among the short-term references and put at the next place, the
/// entries after it shifted; its later copies are then taken out, leaving
/// stale entries at the end; at last the entries past the list's own are
/// copies of the one before.
fn standard_modified(
    list: &mut Vec<Option<Reference>>,
    ops: &[ListModification],
    frame_num: u32,
    n: &PictureNumbering,
    dpb: &Dpb,
    active: usize,
) -> Option<()> {
    let max = 1i64 << n.log2_max_frame_num;
    let current = frame_num as i64;
    let wrapped = |r: &Reference| {
        let f = r.frame_num as i64;
        if f > current {
            f - max
        } else {
            f
        }
    };
    let available = list.len();
    list.resize(list.len().max(active + 1), None);
    let mut count = 0;
    let mut predicted = current;
    for op in ops {
        for j in (count + 1..=active).rev() {
            list[j] = list[j - 1];
        }
        predicted = match *op {
            ListModification::Subtract(d) if predicted - (d as i64) < 0 => {
                predicted - d as i64 + max
            }
            ListModification::Subtract(d) => predicted - d as i64,
            ListModification::Add(d) if predicted + (d as i64) >= max => predicted + d as i64 - max,
            ListModification::Add(d) => predicted + d as i64,
            ListModification::LongTerm(_) => return None,
        };
        if predicted > current {
            predicted -= max;
        }
        let picture = dpb
            .short
            .iter()
            .copied()
            .find(|r| wrapped(r) == predicted)?;
        list[count] = Some(picture);
        count += 1;
        let mut k = count;
        for j in count..=active {
            if let Some(r) = list[j] {
                if r != picture {
                    list[k] = Some(r);
                    k += 1;
                }
            }
        }
    }
    for i in count.max(available).max(1)..active {
        list[i] = list[i - 1];
    }
    Some(())
}

/// openh264's marking of a decoded reference picture (`WelsMarkAsRef`).
fn mark(dpb: &mut Dpb, unit: &Unit, picture: Reference) -> Option<()> {
    let header = &unit.header;
    let max_refs = unit.numbering.max_num_ref_frames as usize;
    let mask = (1u32 << unit.numbering.log2_max_frame_num) - 1;
    if header.idr {
        if header.long_term_reference {
            return None;
        }
    } else if let Some(ops) = &header.memory_operations {
        for op in ops {
            match *op {
                MemoryOperation::ShortTermUnused(d) => {
                    let target = header.frame_num.wrapping_sub(d) & mask;
                    dpb.short.retain(|r| r.frame_num != target);
                }
                MemoryOperation::Other(_) => return None,
            }
        }
    } else if dpb.short.len() >= max_refs {
        dpb.short.pop()?;
    }
    if dpb.short.len() >= max_refs.max(1) {
        // More references than the SPS allows (the pictures an operation
        // would have made unused were skipped): with error concealment on,
        // openh264 makes room as the sliding window does.
        dpb.short.pop()?;
    }
    if dpb.short.len() >= max_refs.max(1)
        || dpb.short.iter().any(|r| r.frame_num == header.frame_num)
    {
        // openh264's error paths: not followed.
        return None;
    }
    dpb.short.insert(0, picture);
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NUMBERING: PictureNumbering = PictureNumbering {
        log2_max_frame_num: 4,
        pic_order_cnt_type: 0,
        log2_max_poc_lsb: 6,
        delta_pic_order_always_zero: false,
        max_num_ref_frames: 4,
        gaps_in_frame_num_allowed: false,
        chroma_array_type: 1,
        separate_colour_plane: false,
    };

    /// A picture: kind, `nal_ref_idc` set, `frame_num`, POC lsb, list 0
    /// modifications.
    fn unit(
        kind: SliceKind,
        reference: bool,
        frame_num: u32,
        lsb: u32,
        l0: &[ListModification],
    ) -> Option<Unit> {
        let header = SliceHeader {
            reference,
            idr: kind == SliceKind::I && frame_num == 0,
            kind,
            pps_id: 0,
            frame_num,
            field: false,
            pic_order_cnt_lsb: lsb,
            delta_pic_order_cnt_bottom: 0,
            num_ref_idx_active: match kind {
                SliceKind::I => [0, 0],
                SliceKind::P => [1, 0],
                SliceKind::B => [1, 1],
            },
            modifications: [l0.to_vec(), Vec::new()],
            long_term_reference: false,
            memory_operations: None,
        };
        Some(Unit {
            header,
            numbering: NUMBERING,
            reordering: Reordering::Standard,
        })
    }

    /// x264 veryfast's pattern in decode order: I0 P4 B2(ref) b1 b3 P8 B6(ref) b5 b7;
    /// `reorder`: each P-frame's list names the P-frame before it.
    fn pyramid(reorder: bool) -> Vec<Option<Unit>> {
        let to_previous_p = [ListModification::Subtract(2)];
        let p_mods: &[ListModification] = if reorder { &to_previous_p } else { &[] };
        vec![
            unit(SliceKind::I, true, 0, 0, &[]),
            unit(SliceKind::P, true, 1, 8, &[]),
            unit(SliceKind::B, true, 2, 4, &[]),
            unit(SliceKind::B, false, 3, 2, &[]),
            unit(SliceKind::B, false, 3, 6, &[]),
            unit(SliceKind::P, true, 3, 16, p_mods),
            unit(SliceKind::B, true, 4, 12, &[]),
            unit(SliceKind::B, false, 5, 10, &[]),
            unit(SliceKind::B, false, 5, 14, &[]),
        ]
    }

    #[test]
    fn middle_b_frames_no_p_frame_names_are_optional() {
        let optional = optional_references(&pyramid(true));
        let expected = [false, false, true, false, false, false, true, false, false];
        assert_eq!(optional, expected);
    }

    #[test]
    fn a_p_frame_with_its_default_list_needs_the_b_frame_decoded_before_it() {
        // Without the reordering, P8's one-entry list is the reference
        // decoded last: B2. B6 is still named by nothing.
        let optional = optional_references(&pyramid(false));
        let expected = [false, false, false, false, false, false, true, false, false];
        assert_eq!(optional, expected);
    }

    #[test]
    fn what_the_model_does_not_follow_leaves_every_picture_needed() {
        let mut long_term = pyramid(true);
        if let Some(u) = long_term[5].as_mut() {
            u.header.memory_operations = Some(vec![MemoryOperation::Other(6)]);
        }
        assert!(!optional_references(&long_term).contains(&true));
        // A GOP that does not start at an IDR.
        let mut open = pyramid(true);
        open.remove(0);
        assert!(!optional_references(&open).contains(&true));
        // A named picture that is not there.
        let mut missing = pyramid(true);
        missing[5] = unit(SliceKind::P, true, 3, 16, &[ListModification::Subtract(5)]);
        assert!(!optional_references(&missing).contains(&true));
    }

    #[test]
    fn order_counts_far_apart_from_a_skipped_picture_keep_it_needed() {
        // POC lsb of 6 bits wraps at 64: a P-frame 16 frames (POC 32)
        // after the optional B-frame could have its order count inferred
        // from either.
        let mut far = pyramid(true);
        if let Some(u) = far[5].as_mut() {
            u.header.pic_order_cnt_lsb = 36;
        }
        let optional = optional_references(&far);
        assert!(!optional[2], "{optional:?}");
    }
}
