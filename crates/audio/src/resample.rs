//! Continuous sample-rate conversion of a stream pushed in arbitrary pieces.
//!
//! One resampler runs over a whole stream, so chunk boundaries chosen later
//! on its output never show a seam: there is no per-chunk filter start-up.

use rubato::audioadapter_buffers::direct::InterleavedSlice;
use rubato::{Fft, FixedSync, Indexing, Resampler};

use crate::error::AudioError;

/// Input block the FFT resampler is built for: one AAC frame.
const BLOCK: usize = 1024;

/// Streaming wrapper over rubato's synchronous FFT resampler: trims its
/// start-up delay, and on [`finish`](Self::finish) drains its tail so the
/// output holds exactly `ceil(input × ratio)` frames, the same as rubato's
/// whole-clip `process_all`. Equal rates pass through untouched.
pub struct StreamResampler {
    fft: Option<Fft<f32>>,
    channels: usize,
    /// Interleaved input not yet given to the resampler (< one block).
    pending: Vec<f32>,
    scratch: Vec<f32>,
    delay_left: usize,
    frames_in: u64,
    frames_out: u64,
}

impl StreamResampler {
    /// A resampler from `input_rate` to `output_rate` for interleaved `channels`.
    pub fn new(input_rate: u32, output_rate: u32, channels: usize) -> Result<Self, AudioError> {
        let fft = if input_rate == output_rate {
            None
        } else {
            let fft = new_fft(input_rate, output_rate, channels)?;
            Some(fft)
        };
        let delay_left = fft.as_ref().map_or(0, |f| f.output_delay());
        let scratch_len = fft.as_ref().map_or(0, |f| f.output_frames_max() * channels);
        Ok(StreamResampler {
            fft,
            channels,
            pending: Vec::with_capacity(BLOCK * channels * 2),
            scratch: vec![0.0; scratch_len],
            delay_left,
            frames_in: 0,
            frames_out: 0,
        })
    }

    /// Resamples interleaved `input`, appending what is ready to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<f32>) -> Result<(), AudioError> {
        self.frames_in += (input.len() / self.channels) as u64;
        if self.fft.is_none() {
            self.frames_out += (input.len() / self.channels) as u64;
            out.extend_from_slice(input);
            return Ok(());
        }
        self.pending.extend_from_slice(input);
        let block = BLOCK * self.channels;
        let mut used = 0;
        while self.pending.len() - used >= block {
            self.process(used, BLOCK, out)?;
            used += block;
        }
        self.pending.drain(..used);
        Ok(())
    }

    /// Flushes the resampler's tail: after this the output is complete.
    pub fn finish(&mut self, out: &mut Vec<f32>) -> Result<(), AudioError> {
        let Some(fft) = &self.fft else { return Ok(()) };
        let expected = (fft.resample_ratio() * self.frames_in as f64).ceil() as u64;
        let before = out.len();
        let partial = self.pending.len() / self.channels;
        if partial > 0 {
            self.process(0, partial, out)?;
            self.pending.clear();
        }
        while self.frames_out < expected {
            self.process(0, 0, out)?;
        }
        let excess = (self.frames_out - expected) as usize * self.channels;
        out.truncate(out.len().max(before + excess) - excess);
        self.frames_out = expected;
        Ok(())
    }

    /// Runs one resampler call on `frames` pending frames from `offset`
    /// (fewer than a block are zero-padded by rubato).
    fn process(
        &mut self,
        offset: usize,
        frames: usize,
        out: &mut Vec<f32>,
    ) -> Result<(), AudioError> {
        let Some(fft) = self.fft.as_mut() else {
            return Ok(());
        };
        let ch = self.channels;
        let input = InterleavedSlice::new(&self.pending[offset..offset + frames * ch], ch, frames)
            .map_err(|e| AudioError::Resampler(e.to_string()))?;
        let capacity = self.scratch.len() / ch;
        let mut output = InterleavedSlice::new_mut(&mut self.scratch, ch, capacity)
            .map_err(|e| AudioError::Resampler(e.to_string()))?;
        let indexing = Indexing::new().partial_len(frames);
        let (_, written) = fft
            .process_into_buffer(&input, &mut output, Some(&indexing))
            .map_err(|e| AudioError::Resampler(e.to_string()))?;
        let trim = self.delay_left.min(written);
        self.delay_left -= trim;
        out.extend_from_slice(&self.scratch[trim * ch..written * ch]);
        self.frames_out += (written - trim) as u64;
        Ok(())
    }
}

/// The resampler both the stream and the whole-track paths use; building it
/// in one place is what makes their outputs identical.
pub(crate) fn new_fft(
    input_rate: u32,
    output_rate: u32,
    channels: usize,
) -> Result<Fft<f32>, AudioError> {
    Fft::<f32>::new(
        input_rate as usize,
        output_rate as usize,
        BLOCK,
        channels,
        FixedSync::Input,
    )
    .map_err(|e| AudioError::Resampler(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sine(freq: f32, rate: u32, frames: usize) -> Vec<f32> {
        (0..frames)
            .map(|i| (i as f32 * freq * std::f32::consts::TAU / rate as f32).sin() * 0.5)
            .collect()
    }

    #[test]
    fn streamed_output_equals_whole_clip_output() {
        let input = sine(440.0, 48000, 48000 + 777);
        let mut streamed = Vec::new();
        let mut r = StreamResampler::new(48000, 16000, 1).expect("valid rates");
        // Uneven pieces, some smaller and some larger than a block.
        let mut rest = &input[..];
        for piece in [1, 1023, 1024, 3000, 5, 2048].iter().cycle() {
            let n = (*piece).min(rest.len());
            r.push(&rest[..n], &mut streamed).expect("push");
            rest = &rest[n..];
            if rest.is_empty() {
                break;
            }
        }
        r.finish(&mut streamed).expect("finish");

        let mut whole = new_fft(48000, 16000, 1).expect("fft");
        let adapter = InterleavedSlice::new(&input, 1, input.len()).expect("adapter");
        let reference = whole
            .process_all(&adapter, input.len(), None)
            .expect("process_all")
            .take_data();
        assert_eq!(streamed.len(), (input.len() as f64 / 3.0).ceil() as usize);
        assert_eq!(streamed, reference);
    }

    /// Amplitude and phase (in samples) of a `freq` sine in `out[range]`.
    fn fit_sine(out: &[f32], range: std::ops::Range<usize>, freq: f64, rate: f64) -> (f64, f64) {
        let w = freq * std::f64::consts::TAU / rate;
        let (mut s, mut c) = (0.0f64, 0.0f64);
        let n = range.len() as f64 / 2.0;
        for i in range {
            let x = out[i];
            s += x as f64 * (w * i as f64).sin();
            c += x as f64 * (w * i as f64).cos();
        }
        ((s * s + c * c).sqrt() / n, c.atan2(s) / w)
    }

    #[test]
    fn keeps_amplitude_and_timing_of_a_sine() {
        for input_rate in [44100, 48000, 32000] {
            let input = sine(1000.0, input_rate, input_rate as usize);
            let mut out = Vec::new();
            let mut r = StreamResampler::new(input_rate, 16000, 1).expect("valid rates");
            r.push(&input, &mut out).expect("push");
            r.finish(&mut out).expect("finish");
            assert_eq!(out.len(), 16000);
            // Away from the edges: the same sine at 16 kHz, with the start-up
            // delay trimmed (rubato leaves at most half an input sample).
            let (amp, shift) = fit_sine(&out, 1000..15000, 1000.0, 16000.0);
            assert!((amp - 0.5).abs() < 0.005, "{input_rate}: amplitude {amp}");
            assert!(
                shift.abs() < 0.25,
                "{input_rate}: shifted by {shift} output samples"
            );
        }
    }

    #[test]
    fn equal_rates_pass_through() {
        let mut r = StreamResampler::new(48000, 48000, 2).expect("valid rates");
        let mut out = Vec::new();
        r.push(&[0.1, 0.2, 0.3, 0.4], &mut out).expect("push");
        r.finish(&mut out).expect("finish");
        assert_eq!(out, vec![0.1, 0.2, 0.3, 0.4]);
    }
}
