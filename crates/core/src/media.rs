//! The typed items that flow between stages.

use bytes::Bytes;
use serde::Serialize;

/// MPEG system clock for PTS/DTS: 90 kHz.
pub const CLOCK_HZ: u32 = 90_000;

/// H.264 stream parameters, taken from the in-band SPS/PPS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VideoConfig {
    pub width: u32,
    pub height: u32,
    pub profile_idc: u8,
    /// The constraint-flags byte of the SPS (`profile_compatibility` in avcC).
    pub constraint_flags: u8,
    pub level_idc: u8,
    pub chroma_format_idc: u8,
    pub bit_depth_luma: u8,
    pub bit_depth_chroma: u8,
    /// SPS NAL unit (header byte included, no start code).
    #[serde(skip)]
    pub sps: Bytes,
    /// PPS NAL unit (header byte included, no start code).
    #[serde(skip)]
    pub pps: Bytes,
}

impl VideoConfig {
    /// `avc1.PPCCLL` as used in MIME codec strings.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02x}{:02x}{:02x}",
            self.profile_idc, self.constraint_flags, self.level_idc
        )
    }
}

/// AAC stream parameters, taken from the ADTS header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AudioConfig {
    /// MPEG-4 audio object type (2 = AAC-LC).
    pub object_type: u8,
    pub sampling_index: u8,
    pub sample_rate: u32,
    /// ADTS channel configuration (1 = mono, 2 = stereo, ...).
    pub channel_config: u8,
}

impl AudioConfig {
    /// The 2-byte AudioSpecificConfig that MP4 `esds` and decoders expect.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let v: u16 = ((self.object_type as u16 & 0x1f) << 11)
            | ((self.sampling_index as u16 & 0x0f) << 7)
            | ((self.channel_config as u16 & 0x0f) << 3);
        v.to_be_bytes()
    }

    /// Channel count implied by the channel configuration.
    pub fn channels(&self) -> u16 {
        match self.channel_config {
            7 => 8,
            c => c as u16,
        }
    }

    /// Samples per channel in one AAC frame.
    pub const fn samples_per_frame(&self) -> u32 {
        1024
    }

    /// Duration of one AAC frame in 90 kHz ticks (fractional at 44.1 kHz).
    pub fn frame_duration_90k(&self) -> f64 {
        1024.0 * CLOCK_HZ as f64 / self.sample_rate as f64
    }
}

/// One H.264 access unit (a whole picture), Annex-B bytes as sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoAccessUnit {
    /// Presentation time, 90 kHz, unwrapped.
    pub pts: i64,
    /// Decode time, 90 kHz, unwrapped (equal to `pts` when the PES had none).
    pub dts: i64,
    /// Contains an IDR slice.
    pub keyframe: bool,
    /// Some TS packets of this access unit were lost (continuity error):
    /// recorders may keep it, decoders should expect garbage.
    pub damaged: bool,
    pub data: Bytes,
}

/// One AAC frame: a whole ADTS frame, header included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioFrame {
    /// Presentation time, 90 kHz, unwrapped.
    pub pts: i64,
    pub config: AudioConfig,
    /// Whole ADTS frame.
    pub data: Bytes,
    /// Length of the ADTS header (7, or 9 with CRC).
    pub header_len: u8,
}

impl AudioFrame {
    /// Raw AAC payload (the ADTS header stripped), as MP4 stores it.
    pub fn payload(&self) -> &[u8] {
        &self.data[self.header_len as usize..]
    }
}
