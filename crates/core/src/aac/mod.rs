//! AAC's parameter-set parser: the ADTS header and the LATM/LOAS framing
//! that carry AAC in MPEG-TS, and the AudioSpecificConfig that MP4 `esds` boxes and decoders expect
//! (cht's [`AudioParams::extra_data`](crate::AudioParams::extra_data) for AAC).

mod adts;
mod config;
mod latm;
mod pce;

pub use adts::{write_adts_header, AdtsError, AdtsHeader, SAMPLE_RATES};
pub use config::AacConfig;
pub use latm::{loas_frame_len, LatmError, LatmReader, LOAS_HEADER_LEN};
pub use pce::{ChannelElement, ChannelRole, ProgramConfig};

/// Samples per channel in one AAC frame.
pub const FRAME_SAMPLES: u32 = 1024;
