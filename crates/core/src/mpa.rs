//! MPEG audio (MPEG-1/2/2.5 Layer I, II, III: MP1, MP2, MP3) frame
//! headers. Each frame describes itself; MP4 stores whole frames, header
//! included, in an `mp4a` entry whose `esds` names MPEG-1 (0x6B) or
//! MPEG-2 (0x69) audio.

use bytes::Bytes;

use crate::params::{AudioCodec, AudioParams};

/// A validated MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MpaHeader {
    /// 1 for MPEG-1, 2 for MPEG-2, 25 for MPEG-2.5.
    pub version: u8,
    /// 1, 2 or 3.
    pub layer: u8,
    /// Bits per second.
    pub bitrate: u32,
    /// Samples per second.
    pub sample_rate: u32,
    /// 1 or 2.
    pub channels: u16,
    /// Bytes of the whole frame, header included.
    pub frame_len: usize,
    /// Samples per channel the frame codes.
    pub samples: u32,
}

/// Why bytes are not an MPEG audio frame header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MpaError {
    /// Fewer than 4 bytes.
    #[error("need more bytes for an MPEG audio header")]
    Incomplete,
    /// No frame sync.
    #[error("no MPEG audio frame sync")]
    NoSync,
    /// A reserved or unusable field (free format, bad bitrate or rate).
    #[error("invalid MPEG audio header: {0}")]
    Invalid(&'static str),
}

const BITRATES_V1: [[u16; 14]; 3] = [
    [
        32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
    ],
    [
        32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
    ],
    [
        32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
    ],
];
const BITRATES_V2: [[u16; 14]; 2] = [
    [
        32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
    ],
    [8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
];
const RATES_V1: [u32; 3] = [44100, 48000, 32000];

impl MpaHeader {
    /// Bytes of a header.
    pub const LEN: usize = 4;

    /// Parses and validates the header at the start of `data`.
    pub fn parse(data: &[u8]) -> Result<MpaHeader, MpaError> {
        if data.len() < 2 {
            return Err(MpaError::Incomplete);
        }
        if data[0] != 0xff || data[1] & 0xe0 != 0xe0 {
            return Err(MpaError::NoSync);
        }
        let version = match (data[1] >> 3) & 3 {
            0 => 25,
            2 => 2,
            3 => 1,
            _ => return Err(MpaError::Invalid("reserved version")),
        };
        let layer = match (data[1] >> 1) & 3 {
            1 => 3,
            2 => 2,
            3 => 1,
            _ => return Err(MpaError::Invalid("reserved layer")),
        };
        if data.len() < Self::LEN {
            return Err(MpaError::Incomplete);
        }
        let bitrate_index = usize::from(data[2] >> 4);
        let rate_index = usize::from((data[2] >> 2) & 3);
        let padding = u32::from((data[2] >> 1) & 1);
        if bitrate_index == 0 {
            return Err(MpaError::Invalid("free-format bitrate"));
        }
        if bitrate_index == 15 || rate_index == 3 {
            return Err(MpaError::Invalid("reserved bitrate or sample rate"));
        }
        let kbps = if version == 1 {
            BITRATES_V1[usize::from(layer) - 1][bitrate_index - 1]
        } else {
            BITRATES_V2[usize::from(layer > 1)][bitrate_index - 1]
        };
        let bitrate = u32::from(kbps) * 1000;
        let sample_rate =
            RATES_V1[rate_index] >> (u32::from(version > 1) + u32::from(version == 25));
        let samples = match (layer, version) {
            (1, _) => 384,
            (3, 2 | 25) => 576,
            _ => 1152,
        };
        let frame_len = if layer == 1 {
            (12 * bitrate / sample_rate + padding) * 4
        } else {
            samples / 8 * bitrate / sample_rate + padding
        };
        Ok(MpaHeader {
            version,
            layer,
            bitrate,
            sample_rate,
            channels: if data[3] >> 6 == 3 { 1 } else { 2 },
            frame_len: frame_len as usize,
            samples,
        })
    }

    /// The codec: MP1, MP2 or MP3 by layer.
    pub fn codec(&self) -> AudioCodec {
        match self.layer {
            1 => AudioCodec::Mp1,
            2 => AudioCodec::Mp2,
            _ => AudioCodec::Mp3,
        }
    }

    /// The codec parameters of a track of such frames (track 0).
    pub fn audio_params(&self) -> AudioParams {
        AudioParams {
            track: 0,
            codec: self.codec(),
            sample_rate: self.sample_rate,
            channels: self.channels,
            frame_samples: self.samples,
            extra_data: Bytes::new(),
        }
    }
}

/// The MPEG-4 systems `objectTypeIndication` of MPEG audio at this rate,
/// as ffmpeg writes it: 0x6B (ISO/IEC 11172-3, MPEG-1 rates) from 32 kHz,
/// 0x69 (ISO/IEC 13818-3, MPEG-2 half rates) below.
pub fn object_type(sample_rate: u32) -> u8 {
    if sample_rate >= 32_000 {
        0x6b
    } else {
        0x69
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_layer_two_and_three_headers() {
        // MPEG-1 layer II, 48 kHz mono, 64 kbit/s.
        let mp2 = MpaHeader::parse(&[0xff, 0xfd, 0x44, 0xc4]).unwrap();
        assert_eq!(
            (mp2.version, mp2.layer, mp2.codec()),
            (1, 2, AudioCodec::Mp2)
        );
        assert_eq!(
            (mp2.sample_rate, mp2.channels, mp2.bitrate),
            (48000, 1, 64000)
        );
        assert_eq!((mp2.frame_len, mp2.samples), (192, 1152));
        // LAME's MP3: MPEG-1 layer III 44.1 kHz stereo 128 kbit/s, padded.
        let mp3 = MpaHeader::parse(&[0xff, 0xfb, 0x92, 0x64]).unwrap();
        assert_eq!((mp3.layer, mp3.sample_rate, mp3.channels), (3, 44100, 2));
        assert_eq!(mp3.frame_len, 418);
        // MPEG-2 layer III at 24 kHz: 576 samples.
        let lsf = MpaHeader::parse(&[0xff, 0xf3, 0x84, 0xc0]).unwrap();
        assert_eq!((lsf.version, lsf.sample_rate, lsf.samples), (2, 24000, 576));
        assert_eq!(
            (object_type(lsf.sample_rate), object_type(44100)),
            (0x69, 0x6b)
        );
    }

    #[test]
    fn refuses_bad_headers() {
        assert_eq!(MpaHeader::parse(&[0xff]), Err(MpaError::Incomplete));
        assert_eq!(MpaHeader::parse(&[0xff, 0x12, 0, 0]), Err(MpaError::NoSync));
        assert!(matches!(
            MpaHeader::parse(&[0xff, 0xfd, 0x04, 0xc4]),
            Err(MpaError::Invalid(_))
        ));
        assert!(matches!(
            MpaHeader::parse(&[0xff, 0xf9, 0x44, 0xc4]),
            Err(MpaError::Invalid(_))
        ));
    }
}
