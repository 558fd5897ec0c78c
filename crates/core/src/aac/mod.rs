//! AAC's parameter-set parser: the ADTS header that frames AAC in MPEG-TS,
//! and the AudioSpecificConfig that MP4 `esds` boxes and decoders expect
//! (cht's [`AudioParams::extra_data`](crate::AudioParams::extra_data) for AAC).

mod adts;
mod config;

pub use adts::{write_adts_header, AdtsError, AdtsHeader, SAMPLE_RATES};
pub use config::AacConfig;

/// Samples per channel in one AAC frame.
pub const FRAME_SAMPLES: u32 = 1024;
