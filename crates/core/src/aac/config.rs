//! The AAC stream parameters and the AudioSpecificConfig that carries them.

use bytes::Bytes;
use serde::Serialize;

use super::adts::SAMPLE_RATES;
use super::FRAME_SAMPLES;
use crate::bits::BitReader;
use crate::params::{AudioCodec, AudioParams};

/// AAC stream parameters, from an ADTS header or an AudioSpecificConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AacConfig {
    /// MPEG-4 audio object type (2 = AAC-LC).
    pub object_type: u8,
    /// `sampling_frequency_index` (15: explicit rate).
    pub sampling_index: u8,
    /// Samples per second.
    pub sample_rate: u32,
    /// Channel configuration (1 = mono, 2 = stereo, ...; 0 = in the stream).
    pub channel_config: u8,
}

impl AacConfig {
    /// The 2-byte AudioSpecificConfig that MP4 `esds` and decoders expect.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let v: u16 = ((self.object_type as u16 & 0x1f) << 11)
            | ((self.sampling_index as u16 & 0x0f) << 7)
            | ((self.channel_config as u16 & 0x0f) << 3);
        v.to_be_bytes()
    }

    /// Reads the leading fields of an AudioSpecificConfig.
    pub fn from_audio_specific_config(asc: &[u8]) -> Option<AacConfig> {
        let mut r = BitReader::new(asc);
        let mut object_type = r.read_bits(5)?;
        if object_type == 31 {
            object_type = 32 + r.read_bits(6)?;
        }
        let sampling_index = r.read_bits(4)? as u8;
        let sample_rate = if sampling_index == 15 {
            r.read_bits(24)?
        } else {
            *SAMPLE_RATES.get(usize::from(sampling_index))?
        };
        let channel_config = r.read_bits(4)? as u8;
        if sample_rate == 0 {
            return None;
        }
        Some(AacConfig {
            object_type: u8::try_from(object_type).ok()?,
            sampling_index,
            sample_rate,
            channel_config,
        })
    }

    /// Channel count implied by the channel configuration.
    pub fn channels(&self) -> u16 {
        match self.channel_config {
            7 => 8,
            c => c as u16,
        }
    }

    /// Duration of one AAC frame in 90 kHz ticks (fractional at 44.1 kHz).
    pub fn frame_duration_90k(&self) -> f64 {
        f64::from(FRAME_SAMPLES) * f64::from(crate::CLOCK_HZ) / f64::from(self.sample_rate)
    }

    /// The codec parameters of a track with this configuration.
    pub fn audio_params(&self) -> AudioParams {
        AudioParams {
            track: 0,
            codec: AudioCodec::Aac,
            sample_rate: self.sample_rate,
            channels: self.channels(),
            frame_samples: FRAME_SAMPLES,
            extra_data: Bytes::copy_from_slice(&self.audio_specific_config()),
        }
    }

    /// The AAC configuration of codec parameters (`None` for other codecs
    /// or an unreadable AudioSpecificConfig).
    pub fn of(params: &AudioParams) -> Option<AacConfig> {
        if params.codec != AudioCodec::Aac {
            return None;
        }
        AacConfig::from_audio_specific_config(&params.extra_data)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audio_specific_config_round_trips() {
        let config = AacConfig {
            object_type: 2,
            sampling_index: 4,
            sample_rate: 44100,
            channel_config: 2,
        };
        assert_eq!(config.audio_specific_config(), [0x12, 0x10]);
        assert_eq!(
            AacConfig::from_audio_specific_config(&config.audio_specific_config()),
            Some(config)
        );
        assert_eq!(AacConfig::of(&config.audio_params()), Some(config));
        assert_eq!(AacConfig::from_audio_specific_config(&[0x12]), None);
    }
}
