//! H.264 Annex-B byte streams: start-code splitting, NAL types, RBSP.

/// NAL unit types cht cares about (ITU-T H.264 Table 7-1).
pub mod nal_type {
    /// Coded slice of a non-IDR picture.
    pub const SLICE: u8 = 1;
    /// Coded slice of an IDR picture.
    pub const IDR: u8 = 5;
    /// Supplemental enhancement information.
    pub const SEI: u8 = 6;
    /// Sequence parameter set.
    pub const SPS: u8 = 7;
    /// Picture parameter set.
    pub const PPS: u8 = 8;
    /// Access unit delimiter.
    pub const AUD: u8 = 9;
}

/// The `nal_unit_type` of a NAL unit (header byte first).
pub fn nal_unit_type(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| b & 0x1f)
}

/// The `nal_ref_idc` of a NAL unit: 0 when no other picture refers to it.
pub fn nal_ref_idc(nal: &[u8]) -> u8 {
    nal.first().map_or(0, |b| (b >> 5) & 3)
}

/// Whether an access unit's coded slices all have `nal_ref_idc` 0: no other
/// picture is predicted from it (x264's non-reference B-frames), so a decoder
/// may skip it and lose only its own picture. `false` when it has no slice.
pub fn is_disposable<'a>(mut nals: impl Iterator<Item = &'a [u8]>) -> bool {
    let mut slices = false;
    let all_unreferenced = nals.all(|nal| {
        let is_slice = (1..=5).contains(&nal_unit_type(nal));
        slices |= is_slice;
        !is_slice || nal_ref_idc(nal) == 0
    });
    slices && all_unreferenced
}

/// Iterates the NAL units of a buffer of length-prefixed NAL units (an MP4
/// sample), prefixes of `len_size` bytes removed; stops at a truncated one.
pub fn length_prefixed_nals(data: &[u8], len_size: usize) -> impl Iterator<Item = &[u8]> {
    let mut pos = 0;
    std::iter::from_fn(move || {
        let prefix = data.get(pos..pos + len_size)?;
        let len = prefix.iter().fold(0usize, |a, &b| (a << 8) | b as usize);
        let nal = data.get(pos + len_size..pos + len_size + len)?;
        pos += len_size + len;
        Some(nal)
    })
}

/// Iterates the NAL units of an Annex-B buffer, start codes removed.
///
/// Trailing zero bytes before a start code (`trailing_zero_8bits`, or the
/// leading zero of a 4-byte start code) are not part of the NAL unit.
pub fn annexb_nals(data: &[u8]) -> AnnexBNals<'_> {
    let pos = find_start_code(data, 0).map_or(data.len(), |(_, end)| end);
    AnnexBNals { data, pos }
}

/// The iterator of [`annexb_nals`].
pub struct AnnexBNals<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for AnnexBNals<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        while self.pos < self.data.len() {
            let start = self.pos;
            let (nal_end, next) = match find_start_code(self.data, start) {
                Some((sc, end)) => (sc, end),
                None => (self.data.len(), self.data.len()),
            };
            self.pos = next;
            let mut end = nal_end;
            while end > start && self.data[end - 1] == 0 {
                end -= 1;
            }
            if end > start {
                return Some(&self.data[start..end]);
            }
        }
        None
    }
}

/// Finds the next `00 00 01` at or after `from`: (position, position after it).
///
/// Scans for the `01` byte with `memchr` (SIMD) and checks the two zeros
/// before it: in coded slice data `01` bytes are rare enough that this runs
/// at memory speed, and the remux path scans every byte of every picture.
fn find_start_code(data: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from + 2;
    while i < data.len() {
        let one = i + memchr::memchr(1, &data[i..])?;
        if data[one - 1] == 0 && data[one - 2] == 0 {
            return Some((one - 2, one + 1));
        }
        i = one + 1;
    }
    None
}

/// Converts Annex-B to length-prefixed NAL units (4-byte big-endian sizes),
/// the `avc1` sample format of MP4. Returns the number of bytes appended.
pub fn annexb_to_avcc(data: &[u8], out: &mut Vec<u8>) -> usize {
    let before = out.len();
    for nal in annexb_nals(data) {
        out.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        out.extend_from_slice(nal);
    }
    out.len() - before
}

/// Converts length-prefixed NAL units (`len_size` bytes each) back to Annex-B.
/// Stops at the first truncated unit.
pub fn avcc_to_annexb(data: &[u8], len_size: usize, out: &mut Vec<u8>) {
    let mut pos = 0;
    while pos + len_size <= data.len() {
        let len = data[pos..pos + len_size]
            .iter()
            .fold(0usize, |a, &b| (a << 8) | b as usize);
        pos += len_size;
        let Some(nal) = data.get(pos..pos + len) else {
            break;
        };
        out.extend_from_slice(&[0, 0, 0, 1]);
        out.extend_from_slice(nal);
        pos += len;
    }
}

/// Removes emulation-prevention bytes (`00 00 03` -> `00 00`), giving the RBSP.
pub fn nal_to_rbsp(nal: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(nal.len());
    let mut zeros = 0;
    for &b in nal {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// The NAL unit payload of an RBSP: an emulation prevention byte (`03`)
/// after every two zero bytes followed by a byte of 0 to 3 (the inverse of
/// [`nal_to_rbsp`]).
pub fn rbsp_to_nal(rbsp: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(rbsp.len() + rbsp.len() / 64);
    let mut zeros = 0;
    for &b in rbsp {
        if zeros >= 2 && b <= 3 {
            out.push(3);
            zeros = 0;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// True when an SEI NAL unit carries a recovery point (payload type 6):
/// decoding can start at its picture (intra refresh, open GOP), as x264's
/// `-intra-refresh` marks the start of each refresh.
pub fn sei_has_recovery_point(sei: &[u8]) -> bool {
    let rbsp = nal_to_rbsp(sei.get(1..).unwrap_or_default());
    let mut pos = 0;
    // sei_message()s until the rbsp trailing bits.
    while pos < rbsp.len() && rbsp[pos] != 0x80 {
        let mut read = || {
            let mut value = 0usize;
            while let Some(&b) = rbsp.get(pos) {
                pos += 1;
                value += usize::from(b);
                if b != 0xff {
                    return Some(value);
                }
            }
            None
        };
        let (Some(kind), Some(size)) = (read(), read()) else {
            return false;
        };
        if kind == 6 {
            return true;
        }
        pos += size;
    }
    false
}

/// True when a coded slice NAL unit is an I (or SI) slice: the picture
/// needs no other to decode, though later ones may still refer past it
/// unless it is an IDR.
pub fn is_intra_slice(slice: &[u8]) -> bool {
    let head = nal_to_rbsp(&slice[1.min(slice.len())..slice.len().min(16)]);
    let mut r = crate::BitReader::new(&head);
    let _first_mb = r.read_ue();
    matches!(r.read_ue(), Some(2 | 4 | 7 | 9))
}

/// True when the access unit holds an IDR slice.
pub fn is_idr_access_unit(data: &[u8]) -> bool {
    annexb_nals(data).any(|n| nal_unit_type(n) == nal_type::IDR)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emulation_prevention_is_added_back_where_it_is_needed() {
        assert_eq!(
            rbsp_to_nal(&[0, 0, 1, 0, 0, 0, 5]),
            [0, 0, 3, 1, 0, 0, 3, 0, 5]
        );
        assert_eq!(rbsp_to_nal(&[0, 0, 4, 0, 0]), [0, 0, 4, 0, 0]);
        let nal = [0x65, 0, 0, 3, 0, 7, 0, 0, 3, 3, 0, 0, 3, 1];
        assert_eq!(rbsp_to_nal(&nal_to_rbsp(&nal)), nal);
    }

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let au = [
            0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x67, 1, 2, 0, 0, 0, 0, 1, 0x65, 9,
        ];
        let nals: Vec<_> = annexb_nals(&au).collect();
        assert_eq!(nals, vec![&[0x09, 0xf0][..], &[0x67, 1, 2], &[0x65, 9]]);
        assert!(is_idr_access_unit(&au));
        let mut avcc = Vec::new();
        annexb_to_avcc(&au, &mut avcc);
        assert_eq!(&avcc[..6], &[0, 0, 0, 2, 0x09, 0xf0]);
        let mut back = Vec::new();
        avcc_to_annexb(&avcc, 4, &mut back);
        assert_eq!(annexb_nals(&back).collect::<Vec<_>>(), nals);
    }

    #[test]
    fn start_codes_at_every_position_are_found() {
        // A start code right at the start, back to back, and at the very end.
        let data = [0, 0, 1, 0, 0, 1, 0x41, 0, 0, 1, 0x65, 1, 1, 0, 0, 1];
        assert_eq!(
            annexb_nals(&data).collect::<Vec<_>>(),
            vec![&[0x41][..], &[0x65, 1, 1]]
        );
        assert_eq!(find_start_code(&data, 1), Some((3, 6)));
        assert_eq!(find_start_code(&[0, 1, 0, 0], 0), None);
    }

    #[test]
    fn garbage_without_start_code_yields_nothing() {
        assert_eq!(annexb_nals(&[1, 2, 3, 4, 5]).count(), 0);
        assert_eq!(annexb_nals(&[]).count(), 0);
    }

    #[test]
    fn rbsp_removes_emulation_prevention() {
        assert_eq!(
            nal_to_rbsp(&[0x67, 0, 0, 3, 1, 0, 0, 3]),
            vec![0x67, 0, 0, 1, 0, 0]
        );
    }
}

#[cfg(test)]
mod disposable_tests {
    use super::*;

    #[test]
    fn only_access_units_whose_slices_are_all_unreferenced_are_disposable() {
        // AUD, then a slice with nal_ref_idc 0 (type 1: 0x01) or 2 (0x41).
        let b_frame = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x01, 0x9e, 0x11];
        let p_frame = [0, 0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x41, 0x9a, 0x22];
        let idr = [
            0, 0, 1, 0x67, 0x64, 0, 0, 1, 0x68, 0xee, 0, 0, 1, 0x65, 0x88,
        ];
        let mixed = [0, 0, 1, 0x01, 0x9e, 0, 0, 1, 0x21, 0x9e];
        let no_slice = [0, 0, 1, 0x09, 0xf0, 0, 0, 1, 0x06, 0x05];
        assert!(is_disposable(annexb_nals(&b_frame)));
        assert!(!is_disposable(annexb_nals(&p_frame)));
        assert!(!is_disposable(annexb_nals(&idr)));
        assert!(!is_disposable(annexb_nals(&mixed)));
        assert!(!is_disposable(annexb_nals(&no_slice)));
        let sample = [0, 0, 0, 2, 0x09, 0xf0, 0, 0, 0, 3, 0x01, 0x9e, 0x11];
        assert!(is_disposable(length_prefixed_nals(&sample, 4)));
        let truncated = [0, 0, 0, 9, 0x01];
        assert_eq!(length_prefixed_nals(&truncated, 4).count(), 0);
    }
}
