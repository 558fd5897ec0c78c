//! What the chunks should look like.

use cht_core::AudioParams;

use crate::error::{AudioError, Result};

/// PCM layout of the WAV chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AudioFormat {
    /// 16 kHz mono 16-bit: what speech-to-text engines expect.
    #[default]
    Speech16kMono,
    /// The stream's own rate and channels, 16-bit.
    Source,
}

/// Sample rate and channel count of the produced PCM.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputSpec {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels.
    pub channels: u16,
}

impl AudioFormat {
    /// The sample rate of [`AudioFormat::Speech16kMono`].
    pub const SPEECH_RATE: u32 = 16_000;

    /// The PCM layout this format gives for a stream of `config`.
    pub fn output_spec(self, config: &AudioParams) -> OutputSpec {
        match self {
            AudioFormat::Speech16kMono => OutputSpec {
                sample_rate: Self::SPEECH_RATE,
                channels: 1,
            },
            AudioFormat::Source => OutputSpec {
                sample_rate: config.sample_rate,
                channels: config.channels,
            },
        }
    }
}

/// Options of an [`crate::AudioPipeline`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioOptions {
    /// Nominal chunk length; each cut moves by up to ±1 s to a quiet spot.
    pub chunk_secs: u32,
    /// PCM layout of the chunks.
    pub format: AudioFormat,
}

impl Default for AudioOptions {
    fn default() -> Self {
        AudioOptions {
            chunk_secs: 10,
            format: AudioFormat::default(),
        }
    }
}

impl AudioOptions {
    /// The cut search spans ±1 s, so shorter chunks could come out empty.
    pub const MIN_CHUNK_SECS: u32 = 2;

    pub(crate) fn validate(&self) -> Result<()> {
        if self.chunk_secs < Self::MIN_CHUNK_SECS {
            return Err(AudioError::InvalidOptions("chunk_secs must be at least 2"));
        }
        Ok(())
    }
}
