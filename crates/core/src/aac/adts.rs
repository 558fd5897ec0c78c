//! ADTS (Audio Data Transport Stream) headers that frame AAC in MPEG-TS.

pub use crate::error::AdtsError;

use super::config::AacConfig;

/// Sampling frequencies by ADTS `sampling_frequency_index`.
pub const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// A validated ADTS fixed + variable header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AdtsHeader {
    /// The stream parameters the header announces.
    pub config: AacConfig,
    /// Whole frame length, header included.
    pub frame_len: usize,
    /// 7 bytes, or 9 when a CRC follows the header.
    pub header_len: usize,
    /// `number_of_raw_data_blocks_in_frame + 1`.
    pub raw_blocks: u8,
}

impl AdtsHeader {
    /// Length of a header without CRC.
    pub const MIN_LEN: usize = 7;

    /// Parses and validates the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<AdtsHeader, AdtsError> {
        if data.len() < 2 {
            return Err(AdtsError::Incomplete);
        }
        if data[0] != 0xff || data[1] & 0xf6 != 0xf0 {
            return Err(AdtsError::NoSync);
        }
        if data.len() < Self::MIN_LEN {
            return Err(AdtsError::Incomplete);
        }
        let protection_absent = data[1] & 1 == 1;
        let profile = data[2] >> 6;
        let sampling_index = (data[2] >> 2) & 0x0f;
        let channel_config = ((data[2] & 1) << 2) | (data[3] >> 6);
        let frame_len = (((data[3] & 0x03) as usize) << 11)
            | ((data[4] as usize) << 3)
            | (data[5] >> 5) as usize;
        let raw_blocks = (data[6] & 0x03) + 1;
        let header_len = if protection_absent { 7 } else { 9 };
        let sample_rate = *SAMPLE_RATES
            .get(sampling_index as usize)
            .ok_or(AdtsError::Invalid("reserved sampling frequency index"))?;
        if profile == 3 {
            return Err(AdtsError::Invalid("reserved profile"));
        }
        if frame_len <= header_len {
            return Err(AdtsError::Invalid("frame shorter than its header"));
        }
        Ok(AdtsHeader {
            config: AacConfig {
                object_type: profile + 1,
                sampling_index,
                sample_rate,
                channel_config,
            },
            frame_len,
            header_len,
            raw_blocks,
        })
    }
}

/// Writes a 7-byte ADTS header (no CRC) for a raw AAC payload.
pub fn write_adts_header(config: &AacConfig, payload_len: usize, out: &mut Vec<u8>) {
    let frame_len = payload_len + 7;
    let profile = config.object_type.saturating_sub(1) & 0x03;
    out.extend_from_slice(&[
        0xff,
        0xf1,
        (profile << 6) | ((config.sampling_index & 0x0f) << 2) | ((config.channel_config >> 2) & 1),
        ((config.channel_config & 3) << 6) | ((frame_len >> 11) & 0x03) as u8,
        ((frame_len >> 3) & 0xff) as u8,
        (((frame_len & 7) << 5) as u8) | 0x1f,
        0xfc,
    ]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_a_header() {
        let config = AacConfig {
            object_type: 2,
            sampling_index: 3,
            sample_rate: 48000,
            channel_config: 2,
        };
        let mut buf = Vec::new();
        write_adts_header(&config, 300, &mut buf);
        let h = AdtsHeader::parse(&buf).unwrap();
        assert_eq!(h.config, config);
        assert_eq!((h.frame_len, h.header_len, h.raw_blocks), (307, 7, 1));
        assert_eq!(config.audio_specific_config(), [0x11, 0x90]);
    }

    #[test]
    fn rejects_bad_headers() {
        assert_eq!(AdtsHeader::parse(&[0xff]), Err(AdtsError::Incomplete));
        assert_eq!(
            AdtsHeader::parse(&[0x12, 0x34, 0, 0, 0, 0, 0]),
            Err(AdtsError::NoSync)
        );
        // sampling index 15
        assert!(matches!(
            AdtsHeader::parse(&[0xff, 0xf1, 0x3c, 0x80, 0x20, 0x1f, 0xfc]),
            Err(AdtsError::Invalid(_))
        ));
    }
}
