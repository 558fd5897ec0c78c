//! Decoding a whole track in one pass, without chunking: the reference the
//! chunked stream must equal sample for sample, and a tool for offline use.

use cht_core::{AudioPacket, AudioParams};
use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::Resampler;

use crate::decode::AudioFrameDecoder;
use crate::error::{AudioError, Result};
use crate::options::AudioFormat;
use crate::resample::new_fft;
use crate::sample::{downmix_weighted, extend_i16};

/// PCM of a whole track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodedAudio {
    /// Samples per second.
    pub sample_rate: u32,
    /// Channels (interleaved).
    pub channels: u16,
    /// Interleaved 16-bit samples.
    pub samples: Vec<i16>,
    /// Frames that failed to decode (each became a frame of silence).
    pub decode_errors: u64,
}

/// Decodes the `frames` of a track with these parameters back to back
/// (their PTS are ignored) and converts the whole track at once with
/// rubato's `process_all`.
pub fn decode_whole_track(
    params: &AudioParams,
    frames: &[AudioPacket],
    format: AudioFormat,
) -> Result<DecodedAudio> {
    if frames.is_empty() {
        return Err(AudioError::InvalidOptions("no audio frames to decode"));
    }
    let spec = format.output_spec(params);
    let mut decoder = AudioFrameDecoder::for_params(params)?;
    let weights = decoder.speech_weights().to_vec();
    let mut decode_errors = 0;
    let mut pcm = Vec::new();
    let silence = vec![0.0f32; decoder.frame_samples() * decoder.channels()];
    for frame in frames {
        let decoded = decoder.decode_packet(frame).unwrap_or_else(|_| {
            decode_errors += 1;
            &silence
        });
        match format {
            AudioFormat::Speech16kMono => downmix_weighted(decoded, &weights, &mut pcm),
            AudioFormat::Source => pcm.extend_from_slice(decoded),
        }
    }
    let out_channels = spec.channels as usize;
    let converted = if spec.sample_rate == params.sample_rate {
        pcm
    } else {
        let input_frames = pcm.len() / out_channels;
        let input = InterleavedSlice::new(&pcm, out_channels, input_frames)
            .map_err(|e| AudioError::Resampler(e.to_string()))?;
        new_fft(params.sample_rate, spec.sample_rate, out_channels)?
            .process_all(&input, input_frames, None)
            .map_err(|e| AudioError::Resampler(e.to_string()))?
            .take_data()
    };
    let mut samples = Vec::with_capacity(converted.len());
    extend_i16(&converted, &mut samples);
    Ok(DecodedAudio {
        sample_rate: spec.sample_rate,
        channels: spec.channels,
        samples,
        decode_errors,
    })
}
