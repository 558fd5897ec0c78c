//! The push-driven audio stage: coded audio packets (AAC, MPEG audio) in,
//! finished WAV chunks out.

use std::path::Path;
use std::time::Duration;

use cht_core::{AudioPacket, AudioParams, CLOCK_HZ};

use crate::chunker::{ChunkInfo, Chunker};
use crate::decode::AudioFrameDecoder;
use crate::error::{AudioError, FrameError, Result};
use crate::options::{AudioFormat, AudioOptions};
use crate::resample::StreamResampler;
use crate::sample::{downmix_weighted, extend_i16};
use crate::stats::{AudioStats, RateLimit};
use crate::timeline::{Placement, Timeline};

/// Decodes, resamples and chunks the audio of one segment.
///
/// Memory stays bounded: less than one coded frame waits in the resampler and
/// about 2 s of PCM around the next cut waits in the chunker; the rest is on
/// disk in the chunk's `.part` file. Dropped without [`finish`](Self::finish)
/// (or killed), it leaves that `.part` playable up to its last flush.
pub struct AudioPipeline {
    opts: AudioOptions,
    origin_pts: i64,
    segment: u32,
    chunker: Chunker,
    /// Decoder, resampler and clock of the current run of audio.
    run: Option<Run>,
    /// A configuration already reported as unsupported: its frames are skipped quietly.
    refused: Option<AudioParams>,
    /// Chunks finished during a call that then failed; returned next time.
    undelivered: Vec<ChunkInfo>,
    stats: AudioStats,
    warn_limit: RateLimit,
    mono: Vec<f32>,
    resampled: Vec<f32>,
    pcm16: Vec<i16>,
}

struct Run {
    params: AudioParams,
    decoder: AudioFrameDecoder,
    /// The decoder's speech-mix weights.
    weights: Vec<f32>,
    resampler: StreamResampler,
    timeline: Timeline,
}

impl AudioPipeline {
    /// Chunks go to `audio_dir` (created if needed), numbered after those
    /// already listed in its `index.json` or present on disk. Times are
    /// seconds from `origin_pts` (90 kHz), the segment's first video frame.
    pub fn new(
        audio_dir: impl AsRef<Path>,
        segment: u32,
        origin_pts: i64,
        opts: AudioOptions,
    ) -> Result<Self> {
        opts.validate()?;
        let placeholder = AudioFormat::Speech16kMono.output_spec(
            &cht_core::aac::AacConfig {
                object_type: 2,
                sampling_index: 8,
                sample_rate: AudioFormat::SPEECH_RATE,
                channel_config: 1,
            }
            .audio_params(),
        );
        let chunker = Chunker::new(audio_dir.as_ref(), segment, opts.chunk_secs, placeholder)?;
        Ok(AudioPipeline {
            opts,
            origin_pts,
            segment,
            chunker,
            run: None,
            refused: None,
            undelivered: Vec::new(),
            stats: AudioStats::default(),
            warn_limit: RateLimit::new(Duration::from_secs(5)),
            mono: Vec::new(),
            resampled: Vec::new(),
            pcm16: Vec::new(),
        })
    }

    /// The same, for a segment that begins at `segment_start` on the
    /// session's timeline: chunks carry session times too.
    pub fn in_session(mut self, segment_start: f64) -> Self {
        self.chunker.segment_start = segment_start;
        self
    }

    /// Takes one packet of a track with these parameters; returns the
    /// chunks it completed. New parameters end the current run of audio
    /// (its chunk is finished) and start another.
    ///
    /// Damaged frames and PTS gaps are counted and become silence. The only
    /// errors about the stream itself are those of
    /// [`AudioError::is_unsupported_stream`], returned once per
    /// configuration; I/O errors are returned as they come.
    pub fn push(&mut self, params: &AudioParams, frame: &AudioPacket) -> Result<Vec<ChunkInfo>> {
        let mut done = std::mem::take(&mut self.undelivered);
        match self.push_frame(params, frame, &mut done) {
            Ok(()) => Ok(done),
            Err(e) => {
                self.undelivered = done;
                Err(e)
            }
        }
    }

    /// Ends the segment: drains the resampler and closes the last chunk.
    pub fn finish(&mut self) -> Result<Vec<ChunkInfo>> {
        let mut done = std::mem::take(&mut self.undelivered);
        match self.end_run(&mut done) {
            Ok(()) => Ok(done),
            Err(e) => {
                self.undelivered = done;
                Err(e)
            }
        }
    }

    /// What happened to the audio so far.
    pub fn stats(&self) -> AudioStats {
        self.stats
    }

    fn push_frame(
        &mut self,
        params: &AudioParams,
        frame: &AudioPacket,
        done: &mut Vec<ChunkInfo>,
    ) -> Result<()> {
        self.stats.frames_in += 1;
        if self.refused.as_ref() == Some(params) {
            self.stats.frames_unsupported += 1;
            return Ok(());
        }
        if self.run.as_ref().is_some_and(|r| &r.params != params) {
            self.end_run(done)?;
        }
        if self.run.is_none() {
            self.start_run(params, frame)?;
        }
        match self.run.as_ref().map(|r| r.timeline.place(frame.pts)) {
            Some(Placement::AfterGap(frames)) => self.fill_gap(frames, done)?,
            Some(Placement::Overlap) => {
                self.stats.frames_dropped += 1;
                self.warn(frame, "audio frame overlaps audio already placed; dropped");
                return Ok(());
            }
            Some(Placement::Discontinuity) => {
                self.stats.discontinuities += 1;
                self.warn(
                    frame,
                    "audio PTS jumped too far to fill; starting a new chunk",
                );
                self.end_run(done)?;
                self.start_run(params, frame)?;
            }
            Some(Placement::InSequence) | None => {}
        }
        self.decode_and_feed(frame, done)
    }

    fn start_run(&mut self, params: &AudioParams, frame: &AudioPacket) -> Result<()> {
        let decoder = match AudioFrameDecoder::for_params(params) {
            Ok(d) => d,
            Err(e) => {
                tracing::debug!(segment = self.segment, error = %e, "audio track cannot be transcribed");
                self.refused = Some(params.clone());
                self.stats.frames_unsupported += 1;
                return Err(e);
            }
        };
        let spec = self.opts.format.output_spec(params);
        let resampler =
            StreamResampler::new(params.sample_rate, spec.sample_rate, spec.channels as usize)?;
        let anchor_secs = (frame.pts as i128 - self.origin_pts as i128) as f64 / CLOCK_HZ as f64;
        self.chunker.start_run(anchor_secs, spec);
        let frame_samples = decoder.frame_samples();
        self.run = Some(Run {
            params: params.clone(),
            weights: decoder.speech_weights().to_vec(),
            decoder,
            resampler,
            timeline: Timeline::new(frame.pts, params.sample_rate, frame_samples),
        });
        Ok(())
    }

    fn end_run(&mut self, done: &mut Vec<ChunkInfo>) -> Result<()> {
        let Some(mut run) = self.run.take() else {
            return Ok(());
        };
        self.resampled.clear();
        run.resampler.finish(&mut self.resampled)?;
        self.write_resampled(done)?;
        let last = self.chunker.end_run()?;
        self.account(last.into_iter().collect(), done);
        Ok(())
    }

    fn fill_gap(&mut self, frames: u64, done: &mut Vec<ChunkInfo>) -> Result<()> {
        self.stats.gaps += 1;
        self.stats.gap_frames += frames;
        tracing::debug!(
            segment = self.segment,
            frames,
            "audio gap filled with silence"
        );
        for _ in 0..frames {
            self.feed_silence(1, done)?;
        }
        Ok(())
    }

    fn decode_and_feed(&mut self, frame: &AudioPacket, done: &mut Vec<ChunkInfo>) -> Result<()> {
        let Some(run) = self.run.as_mut() else {
            return Ok(());
        };
        let format = self.opts.format;
        self.resampled.clear();
        let Run {
            decoder,
            resampler,
            weights,
            ..
        } = run;
        let lost_blocks = match decoder.decode_packet(frame) {
            Ok(pcm) => {
                self.stats.frames_decoded += 1;
                resample_into(
                    format,
                    pcm,
                    weights,
                    &mut self.mono,
                    resampler,
                    &mut self.resampled,
                )?;
                run.timeline.advance(1);
                None
            }
            Err(FrameError::MultipleRawBlocks(n)) => {
                Some((n as u64, FrameError::MultipleRawBlocks(n)))
            }
            Err(e) => Some((1, e)),
        };
        if let Some((blocks, error)) = lost_blocks {
            self.stats.decode_errors += 1;
            self.warn(
                frame,
                &format!("audio frame lost ({error}); inserted silence"),
            );
            return self.feed_silence(blocks, done);
        }
        self.write_resampled(done)
    }

    /// Feeds `frames` frames' worth of silence through the same path as
    /// decoded audio, so the resampler stays continuous.
    fn feed_silence(&mut self, frames: u64, done: &mut Vec<ChunkInfo>) -> Result<()> {
        let Some(len) = self
            .run
            .as_ref()
            .map(|r| r.decoder.frame_samples() * r.decoder.channels())
        else {
            return Ok(());
        };
        let silence = vec![0.0f32; len];
        for _ in 0..frames {
            let Some(run) = self.run.as_mut() else {
                return Ok(());
            };
            self.resampled.clear();
            resample_into(
                self.opts.format,
                &silence,
                &run.weights,
                &mut self.mono,
                &mut run.resampler,
                &mut self.resampled,
            )?;
            run.timeline.advance(1);
            self.write_resampled(done)?;
        }
        Ok(())
    }

    fn write_resampled(&mut self, done: &mut Vec<ChunkInfo>) -> Result<()> {
        self.pcm16.clear();
        extend_i16(&self.resampled, &mut self.pcm16);
        let chunks = self.chunker.push(&self.pcm16)?;
        self.account(chunks, done);
        Ok(())
    }

    fn account(&mut self, chunks: Vec<ChunkInfo>, done: &mut Vec<ChunkInfo>) {
        self.stats.chunks_written += chunks.len() as u64;
        self.stats.frames_out += chunks.iter().map(|c| c.frames).sum::<u64>();
        done.extend(chunks);
    }

    fn warn(&mut self, frame: &AudioPacket, what: &str) {
        if let Some(suppressed) = self.warn_limit.allow() {
            tracing::warn!(
                segment = self.segment,
                pts = frame.pts,
                suppressed,
                "{what}"
            );
        }
    }
}

/// Downmixes (speech format, one weight per channel) and resamples
/// interleaved `pcm` into `out`.
fn resample_into(
    format: AudioFormat,
    pcm: &[f32],
    weights: &[f32],
    mono: &mut Vec<f32>,
    resampler: &mut StreamResampler,
    out: &mut Vec<f32>,
) -> Result<(), AudioError> {
    match format {
        AudioFormat::Speech16kMono => {
            mono.clear();
            downmix_weighted(pcm, weights, mono);
            resampler.push(mono, out)
        }
        AudioFormat::Source => resampler.push(pcm, out),
    }
}
