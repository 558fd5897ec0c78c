//! Video access units: keyframe detection and parameter-set tracking into
//! the track's [`VideoParams`], for each video codec cht records (H.264,
//! HEVC, MPEG-2 video).
//!
//! Only the headers before the first coded slice are looked at: parameter
//! sets precede the slices of an access unit, and all slices of one access
//! unit agree on being a keyframe or not. So the cost per access unit does
//! not grow with the picture size.

use std::ops::Range;

use bytes::Bytes;
use cht_core::h264::{is_intra_slice, nal_type, sei_has_recovery_point, AvcDecoderConfig};
use cht_core::hevc::{self, HevcDecoderConfig};
use cht_core::mpeg2::{self, PictureHead};
use cht_core::{PacketFormat, VideoCodec, VideoParams};

/// What the head of an access unit holds: whether it is a keyframe, and
/// where its parameter sets are (H.264: SPS, PPS; HEVC: VPS, SPS, PPS;
/// MPEG-2: the sequence header).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct AccessUnitHead {
    /// Decoding can start here: an IDR picture, or one with a recovery
    /// point SEI (intra refresh, open GOP); HEVC: an IRAP picture; MPEG-2:
    /// an I picture.
    pub keyframe: bool,
    /// The first slice is an I slice (decodable on its own, though later
    /// pictures may refer past it).
    pub intra: bool,
    pub sets: [Option<Range<usize>>; 3],
}

impl AccessUnitHead {
    /// An H.264 access unit: IDR slices and pictures with a recovery point
    /// SEI are keyframes.
    pub fn scan(au: &[u8]) -> AccessUnitHead {
        let mut head = AccessUnitHead::default();
        let mut next = next_nal(au, 0);
        while let Some(start) = next {
            let kind = au[start] & 0x1f;
            next = next_nal(au, start + 1);
            let end = next.map_or(au.len(), |n| n.saturating_sub(3).max(start));
            if (nal_type::SLICE..=nal_type::IDR).contains(&kind) {
                head.keyframe |= kind == nal_type::IDR;
                head.intra = kind == nal_type::IDR || is_intra_slice(&au[start..end]);
                break;
            }
            match kind {
                nal_type::SEI => head.keyframe |= sei_has_recovery_point(&au[start..end]),
                nal_type::SPS | nal_type::PPS => {
                    let slot = if kind == nal_type::SPS { 1 } else { 2 };
                    let range = start..trim_trailing_zeros(au, start, end);
                    head.sets[slot].get_or_insert(range);
                }
                _ => {}
            }
        }
        head
    }

    /// An HEVC access unit: IRAP pictures (IDR, CRA, BLA) are keyframes.
    pub fn scan_hevc(au: &[u8]) -> AccessUnitHead {
        scan_nals(au, |header| {
            let kind = hevc::nal_unit_type(header);
            if hevc::is_vcl(kind) {
                return Nal::Slice(hevc::is_irap(kind));
            }
            match kind {
                hevc::nal_type::VPS => Nal::Set(0),
                hevc::nal_type::SPS => Nal::Set(1),
                hevc::nal_type::PPS => Nal::Set(2),
                _ => Nal::Other,
            }
        })
    }

    /// An MPEG-2 picture: I pictures are keyframes.
    pub fn scan_mpeg2(picture: &[u8]) -> AccessUnitHead {
        let head = PictureHead::scan(picture);
        AccessUnitHead {
            keyframe: head.is_keyframe(),
            intra: head.is_keyframe(),
            sets: [head.sequence, None, None],
        }
    }
}

enum Nal {
    /// A coded slice: a keyframe's or not.
    Slice(bool),
    /// A parameter set, by slot.
    Set(usize),
    Other,
}

fn scan_nals(au: &[u8], classify: impl Fn(&[u8]) -> Nal) -> AccessUnitHead {
    let mut head = AccessUnitHead::default();
    let mut next = next_nal(au, 0);
    while let Some(start) = next {
        let kind = classify(&au[start..]);
        if let Nal::Slice(keyframe) = kind {
            head.keyframe = keyframe;
            head.intra = keyframe;
            break;
        }
        next = next_nal(au, start + 1);
        if let Nal::Set(slot) = kind {
            let end = next.map_or(au.len(), |n| n.saturating_sub(3).max(start));
            let range = start..trim_trailing_zeros(au, start, end);
            head.sets[slot].get_or_insert(range);
        }
    }
    head
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

/// A codec's parameter sets by slot (H.264: SPS, PPS in slots 1, 2; HEVC:
/// VPS, SPS, PPS; MPEG-2: the sequence header in slot 0).
type ParameterSets = [Option<Bytes>; 3];

/// One video track's codec, parameter sets in force, and the codec
/// parameters they make.
///
/// A bit error the transport did not notice can change a parameter set
/// and still leave it well formed (a flipped bit in the VUI, say), and a
/// wrong one costs every picture until the next change. So once the stream
/// has parameter sets it has seen twice, different ones of the same
/// picture size are adopted only when they come again at the next
/// keyframe; a new picture size (a sender changing resolution) is adopted
/// at once, and so is anything that differs from sets seen only once (the
/// first sets of a damaged stream may be the damaged ones).
#[derive(Debug)]
pub(crate) struct VideoParser {
    codec: VideoCodec,
    sets: ParameterSets,
    params: Option<VideoParams>,
    /// Different parameter sets seen once, waiting to come again.
    pending: Option<ParameterSets>,
    /// The sets in force came at least twice.
    confirmed: bool,
}

impl VideoParser {
    pub fn new(codec: VideoCodec) -> Self {
        VideoParser {
            codec,
            sets: [None, None, None],
            params: None,
            pending: None,
            confirmed: false,
        }
    }

    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    pub fn params(&self) -> Option<&VideoParams> {
        self.params.as_ref()
    }

    /// Scans an access unit's head.
    pub fn scan(&self, au: &[u8]) -> AccessUnitHead {
        match self.codec {
            VideoCodec::H264 => AccessUnitHead::scan(au),
            VideoCodec::Hevc => AccessUnitHead::scan_hevc(au),
            VideoCodec::Mpeg2Video => AccessUnitHead::scan_mpeg2(au),
        }
    }

    /// Takes in the parameter sets found in the first `intact` bytes of an
    /// access unit; returns the parameters to announce when they changed.
    pub fn update(
        &mut self,
        au: &Bytes,
        head: &AccessUnitHead,
        intact: usize,
    ) -> Option<VideoParams> {
        // Only parameter sets received intact are taken, and an H.264 SPS
        // must be plausible.
        let mut sets = self.sets.clone();
        let mut came = false;
        for (slot, range) in head.sets.iter().enumerate() {
            let Some(range) = range.as_ref().filter(|r| r.end <= intact) else {
                continue;
            };
            let nal = &au[range.clone()];
            if self.codec == VideoCodec::H264 && slot == 1 && !plausible_sps(nal) {
                continue;
            }
            sets[slot] = Some(au.slice(range.clone()));
            came = true;
        }
        if !came {
            return None;
        }
        if sets == self.sets {
            self.pending = None;
            self.confirmed = self.params.is_some();
            return None;
        }
        let Some(params) = self.make_params(&sets) else {
            if !self.complete(&sets) {
                // Not complete yet: keep what came.
                self.sets = sets;
            }
            return None;
        };
        let again = self.pending.as_ref() == Some(&sets);
        let adopt = match &self.params {
            None => true,
            Some(current) => {
                !self.confirmed
                    || again
                    || (current.width, current.height) != (params.width, params.height)
            }
        };
        if !adopt {
            self.pending = Some(sets);
            return None;
        }
        self.pending = None;
        self.confirmed = again;
        self.sets = sets;
        if self.params.as_ref() == Some(&params) {
            return None;
        }
        self.params = Some(params.clone());
        Some(params)
    }

    /// Every parameter set the codec needs is there.
    fn complete(&self, sets: &ParameterSets) -> bool {
        let [vps, sps, pps] = sets;
        match self.codec {
            VideoCodec::H264 => sps.is_some() && pps.is_some(),
            VideoCodec::Hevc => vps.is_some() && sps.is_some() && pps.is_some(),
            VideoCodec::Mpeg2Video => vps.is_some(),
        }
    }

    fn make_params(&self, sets: &ParameterSets) -> Option<VideoParams> {
        let [vps, sps, pps] = sets;
        match self.codec {
            VideoCodec::H264 => {
                let config = AvcDecoderConfig::from_parameter_sets(sps.clone()?, pps.clone()?)?;
                cht_core::h264::video_params(&config, PacketFormat::Elementary)
            }
            VideoCodec::Hevc => {
                let config = HevcDecoderConfig::from_parameter_sets(
                    vps.clone()?,
                    sps.clone()?,
                    pps.clone()?,
                )?;
                hevc::video_params(&config, PacketFormat::Elementary)
            }
            VideoCodec::Mpeg2Video => mpeg2::video_params(vps.clone()?),
        }
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
        assert_eq!(&data[head.sets[1].clone().unwrap()], SPS_1080P);
        assert_eq!(&data[head.sets[2].clone().unwrap()], PPS);
        let p = AccessUnitHead::scan(&au(&[&[0x09, 0xf0], &[0x41, 0x9a]]));
        assert_eq!(p, AccessUnitHead::default());
        // x264's intra refresh: no IDR, a recovery point SEI.
        let refresh = au(&[&[0x06, 0x06, 0x02, 0x9c, 0x80, 0x80], &[0x41, 0x9a]]);
        assert!(AccessUnitHead::scan(&refresh).keyframe);
        // A non-IDR I slice (first_mb 0, slice_type 7): intra, not a keyframe.
        let intra = au(&[&[0x21, 0x88, 0x84]]);
        let head = AccessUnitHead::scan(&intra);
        assert!(head.intra && !head.keyframe);
    }

    #[test]
    fn hevc_irap_pictures_and_parameter_sets() {
        use crate::test_stream::{HEVC_PPS, HEVC_SPS, HEVC_VPS};
        let idr = au(&[
            &[0x46, 0x01, 0x50],
            HEVC_VPS,
            HEVC_SPS,
            HEVC_PPS,
            &[0x26, 0x01, 0xaf],
        ]);
        let mut parser = VideoParser::new(VideoCodec::Hevc);
        let head = parser.scan(&idr);
        assert!(head.keyframe, "IDR_W_RADL is a keyframe");
        let params = parser
            .update(&idr, &head, idr.len())
            .expect("HEVC parameters");
        assert_eq!(
            (params.codec, params.width, params.height),
            (VideoCodec::Hevc, 320, 240)
        );
        assert_eq!(params.codec_string(), "hvc1.1.6.L60.90");
        let trailing = au(&[&[0x02, 0x01, 0xd0]]);
        assert!(!parser.scan(&trailing).keyframe, "TRAIL_R is not");
        let cra = au(&[&[0x2a, 0x01, 0xaf]]);
        assert!(parser.scan(&cra).keyframe, "CRA is");
    }

    #[test]
    fn announces_params_once_and_on_change() {
        let mut params = VideoParser::new(VideoCodec::H264);
        let first = au(&[SPS_1080P, PPS, &[0x65, 1]]);
        let head = AccessUnitHead::scan(&first);
        assert_eq!(
            params.update(&first, &head, head.sets[2].clone().unwrap().end - 1),
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
        let mut params = VideoParser::new(VideoCodec::H264);
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
