//! H.264 access units: keyframe detection and SPS/PPS tracking into the
//! track's [`VideoParams`].
//!
//! Only the NAL units before the first slice are looked at: parameter sets
//! precede the slices of an access unit, and all slices of one access unit
//! agree on being IDR or not. So the cost per access unit does not grow with
//! the picture size.

use std::ops::Range;

use bytes::Bytes;
use cht_core::h264::{is_intra_slice, nal_type, sei_has_recovery_point, AvcDecoderConfig};
use cht_core::{PacketFormat, VideoParams};

/// What the head of an access unit holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccessUnitHead {
    /// Decoding can start here: an IDR picture, or one with a recovery
    /// point SEI (intra refresh, open GOP).
    pub keyframe: bool,
    /// The first slice is an I slice (decodable on its own, though later
    /// pictures may refer past it).
    pub intra: bool,
    pub sps: Option<Range<usize>>,
    pub pps: Option<Range<usize>>,
}

impl AccessUnitHead {
    pub fn scan(au: &[u8]) -> AccessUnitHead {
        let mut head = AccessUnitHead::default();
        let mut next = next_nal(au, 0);
        while let Some(start) = next {
            let kind = au[start] & 0x1f;
            next = next_nal(au, start + 1);
            if (nal_type::SLICE..=nal_type::IDR).contains(&kind) {
                head.keyframe |= kind == nal_type::IDR;
                let end = next.map_or(au.len(), |n| n.saturating_sub(3).max(start));
                head.intra = kind == nal_type::IDR || is_intra_slice(&au[start..end]);
                break;
            }
            if kind == nal_type::SEI {
                let end = next.map_or(au.len(), |n| n.saturating_sub(3).max(start));
                head.keyframe |= sei_has_recovery_point(&au[start..end]);
            }
            if kind == nal_type::SPS || kind == nal_type::PPS {
                let end = next.map_or(au.len(), |n| n.saturating_sub(3).max(start));
                let range = start..trim_trailing_zeros(au, start, end);
                let slot = if kind == nal_type::SPS {
                    &mut head.sps
                } else {
                    &mut head.pps
                };
                slot.get_or_insert(range);
            }
        }
        head
    }
}

/// Index of the NAL header byte after the next `00 00 01` at or after `from`.
fn next_nal(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while let Some(offset) = memchr::memchr(1, data.get(i..)?) {
        let one = i + offset;
        if one >= 2 && data[one - 1] == 0 && data[one - 2] == 0 && one + 1 < data.len() {
            return Some(one + 1);
        }
        i = one + 1;
    }
    None
}

fn trim_trailing_zeros(data: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && data[end - 1] == 0 {
        end -= 1;
    }
    end
}

/// Profiles an H.264 SPS can name (ITU-T H.264 A.2, G, H); any other
/// value is a bit error.
const KNOWN_PROFILES: [u8; 16] = [
    44, 66, 77, 83, 86, 88, 100, 110, 118, 122, 128, 134, 135, 138, 139, 244,
];

/// An SPS that parses, with a known profile and level: what a bit error
/// most often breaks (a flipped bit in an Exp-Golomb field shifts every
/// field after it).
fn plausible_sps(nal: &[u8]) -> bool {
    cht_core::h264::parse_sps(nal).is_some_and(|sps| {
        KNOWN_PROFILES.contains(&sps.profile_idc)
            && (9..=62).contains(&sps.level_idc)
            && sps.bit_depth_luma <= 14
            && sps.bit_depth_chroma <= 14
    })
}

/// The parameter sets in force, and the codec parameters they make.
///
/// A bit error the transport did not notice can change an SPS or PPS and
/// still leave it well formed (a flipped bit in the VUI, say), and a wrong
/// one costs every picture until the next change. So once the stream has
/// parameter sets it has seen twice, different ones of the same picture
/// size are adopted only when they come again at the next keyframe; a new
/// picture size (a sender changing resolution) is adopted at once, and so
/// is anything that differs from sets seen only once (the first sets of a
/// damaged stream may be the damaged ones).
#[derive(Debug, Default)]
pub(crate) struct ParameterSets {
    sps: Option<Bytes>,
    pps: Option<Bytes>,
    params: Option<VideoParams>,
    /// Different parameter sets seen once, waiting to come again.
    pending: Option<(Bytes, Bytes)>,
    /// The sets in force came at least twice.
    confirmed: bool,
}

impl ParameterSets {
    pub fn params(&self) -> Option<&VideoParams> {
        self.params.as_ref()
    }

    /// Takes in the parameter sets found in the first `intact` bytes of an
    /// access unit; returns the parameters to announce when they changed.
    pub fn update(
        &mut self,
        au: &Bytes,
        head: &AccessUnitHead,
        intact: usize,
    ) -> Option<VideoParams> {
        // Only parameter sets received intact are taken, and an SPS must
        // be plausible.
        let sps_ok = head
            .sps
            .as_ref()
            .is_some_and(|r| plausible_sps(&au[r.clone()]));
        let take = |range: &Option<std::ops::Range<usize>>, ok: bool| {
            range
                .as_ref()
                .filter(|r| ok && r.end <= intact)
                .map(|r| au.slice(r.clone()))
        };
        let (new_sps, new_pps) = (take(&head.sps, sps_ok), take(&head.pps, true));
        if new_sps.is_none() && new_pps.is_none() {
            return None;
        }
        let sps = new_sps.or_else(|| self.sps.clone());
        let pps = new_pps.or_else(|| self.pps.clone());
        if sps == self.sps && pps == self.pps {
            self.pending = None;
            self.confirmed = self.params.is_some();
            return None;
        }
        let (Some(s), Some(p)) = (sps.clone(), pps.clone()) else {
            // Not complete yet: keep what came.
            self.sps = sps;
            self.pps = pps;
            return None;
        };
        let config = AvcDecoderConfig::from_parameter_sets(s.clone(), p.clone())?;
        let params = cht_core::h264::video_params(&config, PacketFormat::Elementary)?;
        let candidate = (s, p);
        let again = self.pending.as_ref() == Some(&candidate);
        let adopt = match &self.params {
            None => true,
            Some(current) => {
                !self.confirmed
                    || again
                    || (current.width, current.height) != (params.width, params.height)
            }
        };
        if !adopt {
            self.pending = Some(candidate);
            return None;
        }
        self.pending = None;
        self.confirmed = again;
        self.sps = sps;
        self.pps = pps;
        if self.params.as_ref() == Some(&params) {
            return None;
        }
        self.params = Some(params.clone());
        Some(params)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_stream::{PPS, SPS_1080P};

    fn au(nals: &[&[u8]]) -> Bytes {
        let mut v = Vec::new();
        for n in nals {
            v.extend_from_slice(&[0, 0, 0, 1]);
            v.extend_from_slice(n);
        }
        Bytes::from(v)
    }

    #[test]
    fn finds_parameter_sets_and_idr() {
        let data = au(&[&[0x09, 0xf0], SPS_1080P, PPS, &[0x65, 0x88, 0, 0, 1]]);
        let head = AccessUnitHead::scan(&data);
        assert!(head.keyframe);
        assert_eq!(&data[head.sps.clone().unwrap()], SPS_1080P);
        assert_eq!(&data[head.pps.clone().unwrap()], PPS);
        let p = AccessUnitHead::scan(&au(&[&[0x09, 0xf0], &[0x41, 0x9a]]));
        assert_eq!(
            p,
            AccessUnitHead {
                keyframe: false,
                intra: false,
                sps: None,
                pps: None
            }
        );
        // x264's intra refresh: no IDR, a recovery point SEI.
        let refresh = au(&[&[0x06, 0x06, 0x02, 0x9c, 0x80, 0x80], &[0x41, 0x9a]]);
        assert!(AccessUnitHead::scan(&refresh).keyframe);
        // A non-IDR I slice (first_mb 0, slice_type 7): intra, not a keyframe.
        let intra = au(&[&[0x21, 0x88, 0x84]]);
        let head = AccessUnitHead::scan(&intra);
        assert!(head.intra && !head.keyframe);
    }

    #[test]
    fn announces_params_once_and_on_change() {
        let mut params = ParameterSets::default();
        let first = au(&[SPS_1080P, PPS, &[0x65, 1]]);
        let head = AccessUnitHead::scan(&first);
        assert_eq!(
            params.update(&first, &head, head.pps.clone().unwrap().end - 1),
            None,
            "PPS not intact"
        );
        let config = params.update(&first, &head, first.len()).unwrap();
        assert_eq!(
            (config.width, config.height, config.codec_string().as_str()),
            (1920, 1080, "avc1.640028")
        );
        assert_eq!(params.update(&first, &head, first.len()), None);
        let other_pps = au(&[SPS_1080P, &[0x68, 0xeb, 0xe3, 0xcb], &[0x65, 1]]);
        let other_head = AccessUnitHead::scan(&other_pps);
        // The sets in force came twice (above): others wait.
        assert_eq!(
            params.update(&other_pps, &other_head, usize::MAX),
            None,
            "different parameter sets of the same size wait for the next keyframe"
        );
        let changed = params.update(&other_pps, &other_head, usize::MAX).unwrap();
        let record = AvcDecoderConfig::parse(&changed.extra_data).unwrap();
        assert_eq!(&record.pps[0][..], &[0x68, 0xeb, 0xe3, 0xcb]);
    }

    #[test]
    fn parameter_sets_changed_once_by_a_bit_error_are_ignored() {
        let mut params = ParameterSets::default();
        let good = au(&[SPS_1080P, PPS, &[0x65, 1]]);
        let head = AccessUnitHead::scan(&good);
        let first = params.update(&good, &head, usize::MAX).unwrap();
        assert_eq!(params.update(&good, &head, usize::MAX), None);
        let flipped = au(&[SPS_1080P, &[0x68, 0xeb, 0xe3, 0xcb], &[0x65, 1]]);
        let flipped_head = AccessUnitHead::scan(&flipped);
        assert_eq!(params.update(&flipped, &flipped_head, usize::MAX), None);
        // The next keyframe brings the sets in force again: nothing changes,
        // and the flipped ones are forgotten.
        assert_eq!(params.update(&good, &head, usize::MAX), None);
        assert_eq!(params.update(&flipped, &flipped_head, usize::MAX), None);
        assert_eq!(params.params(), Some(&first));
    }
}
