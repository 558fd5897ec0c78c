//! The `hvcC` record: HEVCDecoderConfigurationRecord (ISO/IEC 14496-15,
//! 8.3.3.1).

use bytes::Bytes;

use super::sps::{parse_sps, HevcSps, ProfileTierLevel};
use super::{nal_type, nal_unit_type};

/// Why bytes are not a usable `hvcC` record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("invalid hvcC record: {0}")]
pub struct HevcConfigError(pub &'static str);

/// An HEVC decoder configuration: the SPS's general fields and the
/// parameter sets (VPS, SPS, PPS, in that order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HevcDecoderConfig {
    /// Profile, tier and level of the first SPS.
    pub ptl: ProfileTierLevel,
    /// 0 monochrome, 1 4:2:0, 2 4:2:2, 3 4:4:4.
    pub chroma_format_idc: u8,
    /// Bits per luma sample.
    pub bit_depth_luma: u8,
    /// Bits per chroma sample.
    pub bit_depth_chroma: u8,
    /// `numTemporalLayers`.
    pub temporal_layers: u8,
    /// `temporalIdNested`.
    pub temporal_id_nested: bool,
    /// Bytes of each NAL unit length in the samples (1, 2 or 4).
    pub nal_length_size: u8,
    /// `(nal_unit_type, NAL units)` arrays, header bytes included.
    pub arrays: Vec<(u8, Vec<Bytes>)>,
}

impl HevcDecoderConfig {
    /// A record for samples with 4-byte lengths, from a VPS, an SPS and a
    /// PPS (NAL units with their headers). `None` when they are not those
    /// NAL units or the SPS does not parse.
    pub fn from_parameter_sets(vps: Bytes, sps: Bytes, pps: Bytes) -> Option<Self> {
        let types = [nal_type::VPS, nal_type::SPS, nal_type::PPS];
        if [&vps, &sps, &pps]
            .iter()
            .zip(types)
            .any(|(nal, t)| nal.len() < 3 || nal_unit_type(nal) != t)
        {
            return None;
        }
        let parsed = parse_sps(&sps)?;
        Some(HevcDecoderConfig {
            ptl: parsed.ptl,
            chroma_format_idc: parsed.chroma_format_idc,
            bit_depth_luma: parsed.bit_depth_luma,
            bit_depth_chroma: parsed.bit_depth_chroma,
            temporal_layers: parsed.max_sub_layers,
            temporal_id_nested: parsed.temporal_id_nesting,
            nal_length_size: 4,
            arrays: types
                .into_iter()
                .zip([vec![vps], vec![sps], vec![pps]])
                .collect(),
        })
    }

    /// The NAL units of one type.
    pub fn nal_units(&self, nal_type: u8) -> &[Bytes] {
        self.arrays
            .iter()
            .find(|(t, _)| *t == nal_type)
            .map_or(&[], |(_, nals)| nals.as_slice())
    }

    /// The first SPS, parsed.
    pub fn first_sps(&self) -> Option<HevcSps> {
        parse_sps(self.nal_units(nal_type::SPS).first()?)
    }

    /// The RFC 6381 codec string (`hvc1.1.6.L93.B0`).
    pub fn codec_string(&self) -> String {
        let ptl = &self.ptl;
        let space = match ptl.profile_space {
            1 => "A",
            2 => "B",
            3 => "C",
            _ => "",
        };
        let tier = if ptl.tier { 'H' } else { 'L' };
        let mut s = format!(
            "hvc1.{space}{}.{:x}.{tier}{}",
            ptl.profile_idc,
            ptl.compatibility_flags.reverse_bits(),
            ptl.level_idc
        );
        let constraints = ptl.constraint_flags.to_be_bytes();
        let bytes = &constraints[2..];
        let used = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        for b in &bytes[..used] {
            s.push_str(&format!(".{b:X}"));
        }
        s
    }

    /// The record's bytes, as the `hvcC` box holds them.
    pub fn to_bytes(&self) -> Vec<u8> {
        let ptl = &self.ptl;
        let mut out = vec![
            1,
            (ptl.profile_space << 6) | (u8::from(ptl.tier) << 5) | (ptl.profile_idc & 0x1f),
        ];
        out.extend_from_slice(&ptl.compatibility_flags.to_be_bytes());
        out.extend_from_slice(&ptl.constraint_flags.to_be_bytes()[2..]);
        out.push(ptl.level_idc);
        out.extend_from_slice(&[0xf0, 0x00]); // min_spatial_segmentation_idc 0
        out.push(0xfc); // parallelismType 0: unknown
        out.push(0xfc | (self.chroma_format_idc & 3));
        out.push(0xf8 | (self.bit_depth_luma.saturating_sub(8) & 7));
        out.push(0xf8 | (self.bit_depth_chroma.saturating_sub(8) & 7));
        out.extend_from_slice(&[0, 0]); // avgFrameRate: unknown
        out.push(
            ((self.temporal_layers & 7) << 3)
                | (u8::from(self.temporal_id_nested) << 2)
                | (self.nal_length_size.saturating_sub(1) & 3),
        );
        out.push(self.arrays.len() as u8);
        for (kind, nals) in &self.arrays {
            // array_completeness 1: `hvc1` (the parameter sets are here).
            out.push(0x80 | (kind & 0x3f));
            out.extend_from_slice(&(nals.len() as u16).to_be_bytes());
            for nal in nals {
                let len = nal.len().min(usize::from(u16::MAX));
                out.extend_from_slice(&(len as u16).to_be_bytes());
                out.extend_from_slice(&nal[..len]);
            }
        }
        out
    }

    /// Parses a record (the payload of an `hvcC` box).
    pub fn parse(data: &[u8]) -> Result<Self, HevcConfigError> {
        let truncated = HevcConfigError("truncated");
        if data.len() < 23 {
            return Err(truncated);
        }
        if data[0] != 1 {
            return Err(HevcConfigError("unknown configuration version"));
        }
        let be = |range: std::ops::Range<usize>| {
            data[range]
                .iter()
                .fold(0u64, |a, &b| (a << 8) | u64::from(b))
        };
        let ptl = ProfileTierLevel {
            profile_space: data[1] >> 6,
            tier: data[1] & 0x20 != 0,
            profile_idc: data[1] & 0x1f,
            compatibility_flags: be(2..6) as u32,
            constraint_flags: be(6..12),
            level_idc: data[12],
        };
        let nal_length_size = (data[21] & 3) + 1;
        if nal_length_size == 3 {
            return Err(HevcConfigError("3-byte NAL lengths are not allowed"));
        }
        let mut rest = &data[23..];
        let mut take = |n: usize| -> Result<&[u8], HevcConfigError> {
            if rest.len() < n {
                return Err(truncated);
            }
            let (head, tail) = rest.split_at(n);
            rest = tail;
            Ok(head)
        };
        let mut arrays = Vec::new();
        for _ in 0..data[22] {
            let head = take(3)?;
            let count = u16::from_be_bytes([head[1], head[2]]);
            let mut nals = Vec::with_capacity(usize::from(count).min(16));
            for _ in 0..count {
                let len = take(2)?;
                let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
                nals.push(Bytes::copy_from_slice(take(len)?));
            }
            arrays.push((head[0] & 0x3f, nals));
        }
        Ok(HevcDecoderConfig {
            ptl,
            chroma_format_idc: data[16] & 3,
            bit_depth_luma: (data[17] & 7) + 8,
            bit_depth_chroma: (data[18] & 7) + 8,
            temporal_layers: (data[21] >> 3) & 7,
            temporal_id_nested: data[21] & 4 != 0,
            nal_length_size,
            arrays,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hevc::test_data::{PPS, SPS, VPS};

    fn config() -> HevcDecoderConfig {
        HevcDecoderConfig::from_parameter_sets(
            Bytes::from_static(VPS),
            Bytes::from_static(SPS),
            Bytes::from_static(PPS),
        )
        .expect("x265 parameter sets")
    }

    #[test]
    fn record_round_trips() {
        let config = config();
        assert_eq!(config.codec_string(), "hvc1.1.6.L60.90");
        let bytes = config.to_bytes();
        assert_eq!(&bytes[..2], &[1, 0x01]);
        assert_eq!(bytes[12], 60);
        assert_eq!(bytes[21], 0x0f, "1 temporal layer, nested, 4-byte lengths");
        assert_eq!(bytes.len(), 23 + 3 * 5 + VPS.len() + SPS.len() + PPS.len());
        assert_eq!(HevcDecoderConfig::parse(&bytes), Ok(config.clone()));
        assert_eq!(
            config.first_sps().map(|s| (s.width, s.height)),
            Some((320, 240))
        );
    }

    #[test]
    fn refuses_bad_records_and_parameter_sets() {
        let swapped = HevcDecoderConfig::from_parameter_sets(
            Bytes::from_static(SPS),
            Bytes::from_static(VPS),
            Bytes::from_static(PPS),
        );
        assert_eq!(swapped, None);
        let bytes = config().to_bytes();
        for len in [0, 10, 22, 30, bytes.len() - 1] {
            assert!(
                HevcDecoderConfig::parse(&bytes[..len]).is_err(),
                "{len} bytes"
            );
        }
        let mut v2 = bytes.clone();
        v2[0] = 2;
        assert!(HevcDecoderConfig::parse(&v2).is_err());
    }
}
