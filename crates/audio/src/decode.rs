//! One AAC frame in, 1024 interleaved `f32` sample frames out (Symphonia).

use std::panic::{catch_unwind, AssertUnwindSafe};

use cht_core::aac::AacConfig;
use cht_core::{AudioCodec, AudioPacket, AudioParams};
use symphonia::core::codecs::audio::well_known::CODEC_ID_AAC;
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration, Timestamp};
use symphonia::default::codecs::AacDecoder;

use crate::error::{AudioError, FrameError};

/// Samples per channel in one AAC-LC frame.
pub const FRAME_SAMPLES: usize = cht_core::aac::FRAME_SAMPLES as usize;

/// AAC-LC decoder for container-less frames (no ADTS header).
pub struct AacFrameDecoder {
    decoder: AacDecoder,
    config: AacConfig,
    pcm: Vec<f32>,
}

impl AacFrameDecoder {
    /// Builds a decoder for `config`. Anything but AAC-LC mono/stereo is an
    /// [`AudioError::UnsupportedCodec`].
    pub fn new(config: AacConfig) -> Result<Self, AudioError> {
        Ok(AacFrameDecoder {
            decoder: build_decoder(&config)?,
            config,
            pcm: Vec::new(),
        })
    }

    /// Builds a decoder for a track with these parameters: another codec
    /// is [`AudioError::NoDecoder`], AAC other than AAC-LC mono/stereo
    /// [`AudioError::UnsupportedCodec`].
    pub fn for_params(params: &AudioParams) -> Result<Self, AudioError> {
        match AacConfig::of(params) {
            Some(config) => Self::new(config),
            None if params.codec == AudioCodec::Aac => Err(AudioError::UnsupportedCodec {
                object_type: 0,
                channel_config: 0,
                sample_rate: params.sample_rate,
                reason: "unreadable AudioSpecificConfig".into(),
            }),
            None => Err(AudioError::NoDecoder(params.codec)),
        }
    }

    /// The stream parameters the decoder was built for.
    pub fn config(&self) -> AacConfig {
        self.config
    }

    /// Channels of the decoded PCM.
    pub fn channels(&self) -> usize {
        self.config.channels() as usize
    }

    /// Decodes one packet (one raw AAC frame) into interleaved `f32`.
    pub fn decode_packet(&mut self, packet: &AudioPacket) -> Result<&[f32], FrameError> {
        // An ADTS frame with several raw data blocks cannot be split
        // without the block positions, which only CRC-protected headers give.
        if packet.samples as usize > FRAME_SAMPLES {
            return Err(FrameError::MultipleRawBlocks(
                packet.samples / FRAME_SAMPLES as u32,
            ));
        }
        self.decode_payload(&packet.data)
    }

    /// Decodes one raw AAC frame (no ADTS header) into interleaved `f32`.
    pub fn decode_payload(&mut self, payload: &[u8]) -> Result<&[f32], FrameError> {
        let packet = PacketRef::new(
            0,
            Timestamp::new(0),
            Duration::new(FRAME_SAMPLES as u64),
            payload,
        );
        let pcm = &mut self.pcm;
        let decoder = &mut self.decoder;
        // Symphonia is not fuzzed by us; a panic on hostile input must cost
        // one frame, not the recording. The fuzz target still sees panics
        // (libFuzzer's hook aborts first).
        let outcome = catch_unwind(AssertUnwindSafe(|| match decoder.decode_ref(&packet) {
            Ok(buf) => {
                buf.copy_to_vec_interleaved::<f32>(pcm);
                Ok(buf.frames())
            }
            Err(e) => Err(FrameError::Decode(e.to_string())),
        }));
        let result = match outcome {
            Ok(r) => r,
            Err(_) => {
                self.decoder = build_decoder(&self.config).map_err(|_| FrameError::Panicked)?;
                Err(FrameError::Panicked)
            }
        };
        match result {
            Ok(FRAME_SAMPLES) => Ok(&self.pcm),
            Ok(got) => Err(FrameError::WrongLength { got }),
            Err(e) => {
                // A failed frame leaves half-updated overlap state behind.
                self.decoder.reset();
                Err(e)
            }
        }
    }
}

/// AAC-LC mono/stereo is all Symphonia decodes; say so before trying.
fn check_supported(config: &AacConfig) -> Result<(), String> {
    match config.object_type {
        2 => {}
        5 | 29 => return Err("HE-AAC (SBR/PS) is not supported".into()),
        t => return Err(format!("audio object type {t} is not AAC-LC")),
    }
    if !(1..=2).contains(&config.channel_config) {
        return Err(format!(
            "channel configuration {} (only mono and stereo)",
            config.channel_config
        ));
    }
    Ok(())
}

fn build_decoder(config: &AacConfig) -> Result<AacDecoder, AudioError> {
    let unsupported = |reason: String| AudioError::UnsupportedCodec {
        object_type: config.object_type,
        channel_config: config.channel_config,
        sample_rate: config.sample_rate,
        reason,
    };
    check_supported(config).map_err(unsupported)?;
    let mut params = AudioCodecParameters::new();
    params
        .for_codec(CODEC_ID_AAC)
        .with_sample_rate(config.sample_rate)
        .with_extra_data(Box::new(config.audio_specific_config()));
    AacDecoder::try_new(&params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(object_type: u8, channel_config: u8) -> AacConfig {
        AacConfig {
            object_type,
            sampling_index: 3,
            sample_rate: 48000,
            channel_config,
        }
    }

    #[test]
    fn refuses_he_aac_and_multichannel_with_a_typed_error() {
        for (ot, ch) in [(5, 2), (29, 2), (1, 2), (2, 6), (2, 0)] {
            match AacFrameDecoder::new(config(ot, ch)) {
                Err(AudioError::UnsupportedCodec { object_type, .. }) => {
                    assert_eq!(object_type, ot)
                }
                other => panic!("({ot},{ch}) gave {:?}", other.err()),
            }
        }
        let mp2 = AudioParams {
            codec: AudioCodec::Mp2,
            sample_rate: 48000,
            channels: 2,
            frame_samples: 1152,
            extra_data: Default::default(),
        };
        assert!(matches!(
            AacFrameDecoder::for_params(&mp2),
            Err(AudioError::NoDecoder(AudioCodec::Mp2))
        ));
        let lc = AacFrameDecoder::for_params(&config(2, 1).audio_params()).expect("AAC-LC mono");
        assert_eq!(lc.config(), config(2, 1));
    }

    #[test]
    fn garbage_payloads_are_errors_not_panics() {
        let mut dec = AacFrameDecoder::new(config(2, 2)).expect("AAC-LC stereo is supported");
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut failures = 0;
        for len in 0..400usize {
            let payload: Vec<u8> = (0..len)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            if dec.decode_payload(&payload).is_err() {
                failures += 1;
            }
        }
        assert!(
            failures > 300,
            "random bytes should rarely decode ({failures} failures)"
        );
        // Silence (an SCE/CPE of zeros is not valid, an empty frame is ID_END only).
        let end_only = [0xe0u8];
        let pcm = dec.decode_payload(&end_only);
        assert!(pcm.map(|p| p.iter().all(|&s| s == 0.0)).unwrap_or(true));
    }
}
