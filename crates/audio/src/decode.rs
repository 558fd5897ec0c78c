//! One coded audio frame in, interleaved `f32` samples out (Symphonia):
//! AAC-LC (up to 8 channels) and MPEG audio (MP1, MP2, MP3). Every other
//! codec is refused with [`AudioError::NoDecoder`], once, by the caller.

use std::panic::{catch_unwind, AssertUnwindSafe};

use cht_core::aac::{AacConfig, ChannelRole, ProgramConfig};
use cht_core::{AudioCodec, AudioPacket, AudioParams};
use symphonia::core::audio::Channels;
use symphonia::core::codecs::audio::well_known::{
    CODEC_ID_AAC, CODEC_ID_MP1, CODEC_ID_MP2, CODEC_ID_MP3,
};
use symphonia::core::codecs::audio::{AudioCodecParameters, AudioDecoder, AudioDecoderOptions};
use symphonia::core::packet::PacketRef;
use symphonia::core::units::{Duration, Timestamp};
use symphonia::default::codecs::{AacDecoder, MpaDecoder};

use crate::error::{AudioError, FrameError};

/// Samples per channel in one AAC-LC frame.
pub const FRAME_SAMPLES: usize = cht_core::aac::FRAME_SAMPLES as usize;

/// True when cht decodes the codec of these parameters into chunks (AAC
/// and MPEG audio; whether an AAC configuration is supported is only known
/// when the decoder is built).
pub fn decodes(codec: AudioCodec) -> bool {
    matches!(
        codec,
        AudioCodec::Aac | AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3
    )
}

/// Decodes one Symphonia packet into `pcm`; a panic on hostile input costs
/// the frame (the caller rebuilds the decoder), never the recording.
fn decode_into(
    decoder: &mut dyn AudioDecoder,
    payload: &[u8],
    duration: u64,
    pcm: &mut Vec<f32>,
) -> Result<usize, FrameError> {
    let packet = PacketRef::new(0, Timestamp::new(0), Duration::new(duration), payload);
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
    outcome.unwrap_or(Err(FrameError::Panicked))
}

/// AAC-LC decoder for container-less frames (no ADTS header).
pub struct AacFrameDecoder {
    decoder: AacDecoder,
    config: AacConfig,
    /// The layout of a stream with channel configuration 0.
    layout: Option<ProgramConfig>,
    pcm: Vec<f32>,
}

impl AacFrameDecoder {
    /// Builds a decoder for `config`. Anything but AAC-LC with a channel
    /// configuration of 1 to 7 is an [`AudioError::UnsupportedCodec`].
    pub fn new(config: AacConfig) -> Result<Self, AudioError> {
        Ok(AacFrameDecoder {
            decoder: build_decoder(&config, None)?,
            config,
            layout: None,
            pcm: Vec::new(),
        })
    }

    /// Builds a decoder for a track with these parameters: another codec
    /// is [`AudioError::NoDecoder`], AAC other than AAC-LC
    /// [`AudioError::UnsupportedCodec`]. A layout given by a program config
    /// element (channel configuration 0) is read from the
    /// AudioSpecificConfig.
    pub fn for_params(params: &AudioParams) -> Result<Self, AudioError> {
        match AacConfig::of(params) {
            Some(config) if config.channel_config == 0 => {
                let layout = ProgramConfig::from_audio_specific_config(&params.extra_data);
                Ok(AacFrameDecoder {
                    decoder: build_decoder(&config, layout.as_ref())?,
                    config,
                    layout,
                    pcm: Vec::new(),
                })
            }
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
        match &self.layout {
            Some(layout) => usize::from(layout.channels()),
            None => self.config.channels() as usize,
        }
    }

    /// Where each decoded channel sits, in decoding order.
    pub fn roles(&self) -> Vec<ChannelRole> {
        match &self.layout {
            Some(layout) => layout.roles(),
            None => config_roles(self.config.channel_config),
        }
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
        let result = decode_into(
            &mut self.decoder,
            payload,
            FRAME_SAMPLES as u64,
            &mut self.pcm,
        );
        if result == Err(FrameError::Panicked) {
            self.decoder = build_decoder(&self.config, self.layout.as_ref())
                .map_err(|_| FrameError::Panicked)?;
        }
        match result {
            Ok(FRAME_SAMPLES) => Ok(&self.pcm),
            Ok(got) => Err(FrameError::WrongLength {
                got,
                expected: FRAME_SAMPLES,
            }),
            Err(e) => {
                // A failed frame leaves half-updated overlap state behind.
                self.decoder.reset();
                Err(e)
            }
        }
    }
}

/// AAC-LC with a channel configuration of 1 to 7, or a layout of up to 8
/// channels in a program config element, is what Symphonia (as patched in
/// vendor/) decodes; say so before trying.
fn check_supported(config: &AacConfig, layout: Option<&ProgramConfig>) -> Result<(), String> {
    match config.object_type {
        2 => {}
        5 | 29 => return Err("HE-AAC (SBR/PS) is not supported".into()),
        t => return Err(format!("audio object type {t} is not AAC-LC")),
    }
    match (config.channel_config, layout) {
        (1..=7, _) => Ok(()),
        (0, Some(layout)) if (1..=8).contains(&layout.channels()) => {
            if layout.coupling.is_empty() {
                Ok(())
            } else {
                Err("coupling channel elements are not supported".into())
            }
        }
        (0, Some(layout)) => Err(format!(
            "{} channels (up to 8 are decoded)",
            layout.channels()
        )),
        (0, None) => Err("the channel layout never arrived".into()),
        (c, _) => Err(format!("reserved channel configuration {c}")),
    }
}

fn build_decoder(
    config: &AacConfig,
    layout: Option<&ProgramConfig>,
) -> Result<AacDecoder, AudioError> {
    let unsupported = |reason: String| AudioError::UnsupportedCodec {
        object_type: config.object_type,
        channel_config: config.channel_config,
        sample_rate: config.sample_rate,
        reason,
    };
    if config.object_type == 2 && config.channel_config == 0 && layout.is_none() {
        return Err(AudioError::LayoutMissed);
    }
    check_supported(config, layout).map_err(unsupported)?;
    let mut params = AudioCodecParameters::new();
    params
        .for_codec(CODEC_ID_AAC)
        .with_sample_rate(config.sample_rate);
    match layout {
        // Symphonia reads no PCE in an AudioSpecificConfig: it is given
        // the channel count, and skips the PCE in the first frame.
        Some(layout) => params.with_channels(Channels::Discrete(layout.channels())),
        None => params.with_extra_data(Box::new(config.audio_specific_config())),
    };
    AacDecoder::try_new(&params, &AudioDecoderOptions::default())
        .map_err(|e| unsupported(e.to_string()))
}

/// The channel roles of a standard AAC channel configuration, in AAC's
/// channel order (C, L, R, then side/back pairs, LFE last).
fn config_roles(channel_config: u8) -> Vec<ChannelRole> {
    use ChannelRole::{Centre as C, Front as F, Lfe as L, Surround as S};
    match channel_config {
        1 => vec![C],
        2 => vec![F, F],
        3 => vec![C, F, F],
        4 => vec![C, F, F, S],
        5 => vec![C, F, F, S, S],
        6 => vec![C, F, F, S, S, L],
        7 => vec![C, F, F, S, S, S, S, L],
        _ => vec![C],
    }
}

/// MPEG audio (layer I, II, III) decoder for whole frames, header included.
pub struct MpegFrameDecoder {
    decoder: MpaDecoder,
    params: AudioParams,
    pcm: Vec<f32>,
}

impl MpegFrameDecoder {
    /// A decoder for a track of MP1, MP2 or MP3 frames.
    pub fn for_params(params: &AudioParams) -> Result<Self, AudioError> {
        Ok(MpegFrameDecoder {
            decoder: build_mpeg_decoder(params)?,
            params: params.clone(),
            pcm: Vec::new(),
        })
    }

    /// Decodes one whole frame into interleaved `f32`.
    pub fn decode_packet(&mut self, packet: &AudioPacket) -> Result<&[f32], FrameError> {
        let expected = self.params.frame_samples as usize;
        let result = decode_into(
            &mut self.decoder,
            &packet.data,
            expected as u64,
            &mut self.pcm,
        );
        if result == Err(FrameError::Panicked) {
            self.decoder = build_mpeg_decoder(&self.params).map_err(|_| FrameError::Panicked)?;
        }
        match result {
            Ok(got) if got == expected => {
                if self.pcm.len() == expected * usize::from(self.params.channels) {
                    Ok(&self.pcm)
                } else {
                    Err(FrameError::WrongLength { got, expected })
                }
            }
            Ok(got) => Err(FrameError::WrongLength { got, expected }),
            Err(e) => Err(e),
        }
    }
}

fn build_mpeg_decoder(params: &AudioParams) -> Result<MpaDecoder, AudioError> {
    let codec = match params.codec {
        AudioCodec::Mp1 => CODEC_ID_MP1,
        AudioCodec::Mp2 => CODEC_ID_MP2,
        AudioCodec::Mp3 => CODEC_ID_MP3,
        other => return Err(AudioError::NoDecoder(other)),
    };
    let mut symphonia_params = AudioCodecParameters::new();
    symphonia_params
        .for_codec(codec)
        .with_sample_rate(params.sample_rate);
    MpaDecoder::try_new(&symphonia_params, &AudioDecoderOptions::default()).map_err(|e| {
        AudioError::Unsupported {
            codec: params.codec,
            reason: e.to_string(),
        }
    })
}

/// The decoder of one audio track, whatever its codec: what the pipeline
/// and the whole-track decoder use.
pub struct AudioFrameDecoder {
    inner: Inner,
    channels: usize,
    frame_samples: usize,
    weights: Vec<f32>,
}

enum Inner {
    Aac(Box<AacFrameDecoder>),
    Mpeg(Box<MpegFrameDecoder>),
}

impl AudioFrameDecoder {
    /// A decoder for a track with these parameters: AAC-LC or MPEG audio;
    /// another codec is [`AudioError::NoDecoder`], an AAC configuration
    /// Symphonia does not decode [`AudioError::UnsupportedCodec`].
    pub fn for_params(params: &AudioParams) -> Result<Self, AudioError> {
        match params.codec {
            AudioCodec::Aac => {
                let decoder = AacFrameDecoder::for_params(params)?;
                Ok(AudioFrameDecoder {
                    channels: decoder.channels(),
                    frame_samples: FRAME_SAMPLES,
                    weights: speech_weights(&decoder.roles()),
                    inner: Inner::Aac(Box::new(decoder)),
                })
            }
            AudioCodec::Mp1 | AudioCodec::Mp2 | AudioCodec::Mp3 => {
                let channels = usize::from(params.channels.clamp(1, 2));
                Ok(AudioFrameDecoder {
                    inner: Inner::Mpeg(Box::new(MpegFrameDecoder::for_params(params)?)),
                    channels,
                    frame_samples: params.frame_samples as usize,
                    weights: speech_weights(&config_roles(channels as u8)),
                })
            }
            other => Err(AudioError::NoDecoder(other)),
        }
    }

    /// Channels of the decoded PCM.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Samples per channel of one frame.
    pub fn frame_samples(&self) -> usize {
        self.frame_samples
    }

    /// The weight of each decoded channel in the speech (mono) mix: the
    /// centre and front channels carry speech, the surrounds less, the LFE
    /// nothing; they sum to 1 so the mix never clips.
    pub fn speech_weights(&self) -> &[f32] {
        &self.weights
    }

    /// Decodes one packet into interleaved `f32`.
    pub fn decode_packet(&mut self, packet: &AudioPacket) -> Result<&[f32], FrameError> {
        match &mut self.inner {
            Inner::Aac(d) => d.decode_packet(packet),
            Inner::Mpeg(d) => d.decode_packet(packet),
        }
    }
}

/// Speech-mix weights of a layout: the ITU-R BS.775 downmix (centre 1,
/// fronts 0.707, surrounds 0.5, LFE dropped), normalised to sum to 1.
fn speech_weights(roles: &[ChannelRole]) -> Vec<f32> {
    let raw: Vec<f32> = roles
        .iter()
        .map(|role| match role {
            ChannelRole::Centre => 1.0,
            ChannelRole::Front => std::f32::consts::FRAC_1_SQRT_2,
            ChannelRole::Surround => 0.5,
            ChannelRole::Lfe => 0.0,
        })
        .collect();
    let sum: f32 = raw.iter().sum();
    if sum <= 0.0 {
        return vec![1.0 / roles.len().max(1) as f32; roles.len().max(1)];
    }
    raw.iter().map(|w| w / sum).collect()
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
    fn refuses_he_aac_and_program_config_elements_with_a_typed_error() {
        assert!(
            matches!(
                AacFrameDecoder::new(config(2, 0)),
                Err(AudioError::LayoutMissed)
            ),
            "channel configuration 0 without its program config element"
        );
        for (ot, ch) in [(5, 2), (29, 2), (1, 2), (2, 8)] {
            match AacFrameDecoder::new(config(ot, ch)) {
                Err(AudioError::UnsupportedCodec { object_type, .. }) => {
                    assert_eq!(object_type, ot)
                }
                other => panic!("({ot},{ch}) gave {:?}", other.err()),
            }
        }
        let opus = AudioParams {
            track: 0,
            codec: AudioCodec::Opus,
            sample_rate: 48000,
            channels: 2,
            frame_samples: 1152,
            extra_data: Default::default(),
        };
        assert!(matches!(
            AacFrameDecoder::for_params(&opus),
            Err(AudioError::NoDecoder(AudioCodec::Opus))
        ));
        assert!(matches!(
            AudioFrameDecoder::for_params(&opus),
            Err(AudioError::NoDecoder(AudioCodec::Opus))
        ));
        let surround = AudioFrameDecoder::for_params(&config(2, 6).audio_params())
            .expect("5.1 AAC-LC is decoded");
        assert_eq!(surround.channels(), 6);
        let w = surround.speech_weights();
        assert!(w[0] > w[1] && w[1] > w[3] && w[5] == 0.0, "{w:?}");
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
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
