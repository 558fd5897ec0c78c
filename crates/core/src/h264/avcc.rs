//! The `avcC` AVCDecoderConfigurationRecord (ISO/IEC 14496-15, 5.3.3): the
//! H.264 decoder configuration an MP4 sample entry carries, and cht's
//! [`VideoParams::extra_data`](crate::VideoParams::extra_data) for H.264.

use bytes::Bytes;

pub use crate::error::AvcConfigError;

use super::nal::avcc_to_annexb;
use super::sps::{parse_sps, Sps};

/// Profiles whose avcC carries chroma format and bit depths (ISO 14496-15).
fn has_high_profile_extension(profile_idc: u8) -> bool {
    matches!(profile_idc, 100 | 110 | 122 | 144)
}

/// H.264 decoder configuration: what a decoder needs before the first
/// sample, and how samples frame their NAL units.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    /// `AVCProfileIndication`.
    pub profile_idc: u8,
    /// `profile_compatibility`: the SPS constraint flags.
    pub constraint_flags: u8,
    /// `AVCLevelIndication`.
    pub level_idc: u8,
    /// Bytes of the length prefix before each NAL unit in a sample (1, 2 or 4).
    pub nal_length_size: u8,
    /// SPS NAL units, header byte included.
    pub sps: Vec<Bytes>,
    /// PPS NAL units, header byte included.
    pub pps: Vec<Bytes>,
}

impl AvcDecoderConfig {
    /// The record for one SPS and one PPS as found in band (Annex-B
    /// streams): samples will carry 4-byte lengths. `None` when the SPS does
    /// not parse or a parameter set cannot be stored.
    pub fn from_parameter_sets(sps: Bytes, pps: Bytes) -> Option<AvcDecoderConfig> {
        let parsed = parse_sps(&sps)?;
        let storable = |n: &Bytes| !n.is_empty() && n.len() <= usize::from(u16::MAX);
        if sps.len() < 4 || !storable(&sps) || !storable(&pps) {
            return None;
        }
        Some(AvcDecoderConfig {
            profile_idc: parsed.profile_idc,
            constraint_flags: parsed.constraint_flags,
            level_idc: parsed.level_idc,
            nal_length_size: 4,
            sps: vec![sps],
            pps: vec![pps],
        })
    }

    /// Parses an avcC payload (the box body).
    pub fn parse(record: &[u8]) -> Result<AvcDecoderConfig, AvcConfigError> {
        let mut r = Fields(record);
        if r.u8()? != 1 {
            return Err(AvcConfigError("unknown configuration version"));
        }
        let profile_idc = r.u8()?;
        let constraint_flags = r.u8()?;
        let level_idc = r.u8()?;
        let nal_length_size = (r.u8()? & 3) + 1;
        if nal_length_size == 3 {
            return Err(AvcConfigError("3-byte NAL lengths are not allowed"));
        }
        let sps_count = r.u8()? & 0x1f;
        let sps = r.parameter_sets(usize::from(sps_count))?;
        let pps_count = r.u8()?;
        let pps = r.parameter_sets(usize::from(pps_count))?;
        Ok(AvcDecoderConfig {
            profile_idc,
            constraint_flags,
            level_idc,
            nal_length_size,
            sps,
            pps,
        })
    }

    /// The record's bytes (the avcC box body). High profiles get the
    /// chroma format and bit-depth extension, read from the first SPS.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = vec![
            1, // configurationVersion
            self.profile_idc,
            self.constraint_flags,
            self.level_idc,
            0xfc | (self.nal_length_size.saturating_sub(1) & 3),
            0xe0 | (self.sps.len().min(31) as u8),
        ];
        for sps in self.sps.iter().take(31) {
            put_parameter_set(&mut buf, sps);
        }
        buf.push(self.pps.len().min(255) as u8);
        for pps in self.pps.iter().take(255) {
            put_parameter_set(&mut buf, pps);
        }
        if has_high_profile_extension(self.profile_idc) {
            let (chroma, luma, chroma_depth) = self.first_sps().map_or((1, 8, 8), |s| {
                (s.chroma_format_idc, s.bit_depth_luma, s.bit_depth_chroma)
            });
            buf.push(0xfc | (chroma & 3));
            buf.push(0xf8 | (luma.saturating_sub(8) & 7));
            buf.push(0xf8 | (chroma_depth.saturating_sub(8) & 7));
            buf.push(0); // numOfSequenceParameterSetExt
        }
        buf
    }

    /// The first SPS, parsed.
    pub fn first_sps(&self) -> Option<Sps> {
        self.sps.first().and_then(|s| parse_sps(s))
    }

    /// `avc1.PPCCLL` as used in MIME codec strings.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.constraint_flags, self.level_idc
        )
    }

    /// All SPS and PPS as Annex-B, to feed a decoder before the first sample.
    pub fn parameter_sets_annexb(&self) -> Vec<u8> {
        let mut out = Vec::new();
        for nal in self.sps.iter().chain(&self.pps) {
            out.extend_from_slice(&[0, 0, 0, 1]);
            out.extend_from_slice(nal);
        }
        out
    }

    /// Appends one length-prefixed sample converted to Annex-B.
    pub fn sample_to_annexb(&self, sample: &[u8], out: &mut Vec<u8>) {
        avcc_to_annexb(sample, usize::from(self.nal_length_size), out);
    }
}

fn put_parameter_set(buf: &mut Vec<u8>, nal: &[u8]) {
    let len = nal.len().min(usize::from(u16::MAX));
    buf.extend_from_slice(&(len as u16).to_be_bytes());
    buf.extend_from_slice(&nal[..len]);
}

/// A cursor over the record's fields; every read fails past the end.
struct Fields<'a>(&'a [u8]);

impl Fields<'_> {
    fn u8(&mut self) -> Result<u8, AvcConfigError> {
        let (&b, rest) = self.0.split_first().ok_or(AvcConfigError("truncated"))?;
        self.0 = rest;
        Ok(b)
    }

    fn parameter_sets(&mut self, count: usize) -> Result<Vec<Bytes>, AvcConfigError> {
        let mut sets = Vec::with_capacity(count.min(32));
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([self.u8()?, self.u8()?]));
            if self.0.len() < len {
                return Err(AvcConfigError("truncated"));
            }
            let (nal, rest) = self.0.split_at(len);
            sets.push(Bytes::copy_from_slice(nal));
            self.0 = rest;
        }
        Ok(sets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: [u8; 27] = [
        0x67, 0x64, 0x00, 0x28, 0xac, 0xd9, 0x40, 0x78, 0x02, 0x27, 0xe5, 0xc0, 0x44, 0x00, 0x00,
        0x03, 0x00, 0x04, 0x00, 0x00, 0x03, 0x00, 0xf0, 0x3c, 0x60, 0xc6, 0x58,
    ];
    const PPS: [u8; 6] = [0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    #[test]
    fn record_round_trips_with_the_high_profile_extension() {
        let config = AvcDecoderConfig::from_parameter_sets(
            Bytes::from_static(&SPS),
            Bytes::from_static(&PPS),
        )
        .expect("x264 parameter sets");
        assert_eq!(config.codec_string(), "avc1.640028");
        let bytes = config.to_bytes();
        assert_eq!(&bytes[..8], &[1, 0x64, 0x00, 0x28, 0xff, 0xe1, 0, 27]);
        assert_eq!(&bytes[bytes.len() - 4..], &[0xfd, 0xf8, 0xf8, 0]);
        assert_eq!(AvcDecoderConfig::parse(&bytes), Ok(config.clone()));
        let mut annexb = config.parameter_sets_annexb();
        assert_eq!(annexb.len(), 4 + 27 + 4 + 6);
        annexb.clear();
        config.sample_to_annexb(&[0, 0, 0, 2, 0x65, 0x88], &mut annexb);
        assert_eq!(annexb, [0, 0, 0, 1, 0x65, 0x88]);
    }

    #[test]
    fn refuses_bad_records_and_parameter_sets() {
        assert!(
            AvcDecoderConfig::from_parameter_sets(Bytes::from_static(&PPS), Bytes::new()).is_none()
        );
        assert_eq!(
            AvcDecoderConfig::parse(&[2, 0x64]),
            Err(AvcConfigError("unknown configuration version"))
        );
        assert_eq!(
            AvcDecoderConfig::parse(&[1, 0x64, 0, 0x28, 0xfe, 0xe1]),
            Err(AvcConfigError("3-byte NAL lengths are not allowed"))
        );
        assert_eq!(
            AvcDecoderConfig::parse(&[1, 0x64, 0, 0x28, 0xff, 0xe1, 0, 40, 0x67]),
            Err(AvcConfigError("truncated"))
        );
    }
}
