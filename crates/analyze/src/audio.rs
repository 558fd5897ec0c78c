//! AAC frames → WAV chunks (+ transcripts), one segment at a time.

use crate::AnalyzeError;
use cht_audio::{AudioOptions, AudioPipeline, AudioStats, ChunkInfo, TranscriptHook};
use cht_core::{AudioPacket, AudioParams};
use cht_events::{Event, EventBus, WarningKind};
use std::path::PathBuf;

/// Drives an [`AudioPipeline`] per segment and reports each chunk.
pub struct AudioAnalyzer {
    audio_dir: PathBuf,
    opts: AudioOptions,
    pipeline: Option<AudioPipeline>,
    hook: Option<TranscriptHook>,
    bus: EventBus,
    /// Configurations already reported as undecodable.
    unsupported_reported: bool,
    stats: AudioStats,
}

impl AudioAnalyzer {
    /// `transcribe`: a command run on each finished chunk (its stdout goes
    /// to `transcript_dir`).
    pub fn new(
        audio_dir: PathBuf,
        transcript_dir: PathBuf,
        opts: AudioOptions,
        transcribe: Option<String>,
        bus: EventBus,
    ) -> Result<Self, AnalyzeError> {
        let hook = match transcribe {
            Some(cmd) => {
                let events = bus.clone();
                let on_done = Box::new(move |chunk: &ChunkInfo, path: &str| {
                    events.emit(Event::Transcript {
                        id: chunk.id.clone(),
                        path: path.into(),
                        chunk: chunk.rel_path.clone(),
                        segment: chunk.segment,
                        start: chunk.start,
                        duration: chunk.duration,
                        session_start: chunk.session_start,
                    })
                });
                Some(TranscriptHook::with_callback(cmd, transcript_dir, on_done)?)
            }
            None => None,
        };
        Ok(AudioAnalyzer {
            audio_dir,
            opts,
            pipeline: None,
            hook,
            bus,
            unsupported_reported: false,
            stats: AudioStats::default(),
        })
    }

    pub fn stats(&self) -> AudioStats {
        let mut s = self.stats;
        if let Some(p) = &self.pipeline {
            s += p.stats();
        }
        s
    }

    /// A segment whose clock starts at `origin_pts` and which begins at
    /// `segment_start` on the session's timeline.
    pub fn start_segment(
        &mut self,
        segment: u32,
        origin_pts: i64,
        segment_start: f64,
    ) -> Result<(), AnalyzeError> {
        self.finish_segment()?;
        self.pipeline = Some(
            AudioPipeline::new(&self.audio_dir, segment, origin_pts, self.opts)?
                .in_session(segment_start),
        );
        Ok(())
    }

    pub fn push(&mut self, params: &AudioParams, frame: &AudioPacket) -> Result<(), AnalyzeError> {
        let Some(pipeline) = self.pipeline.as_mut() else {
            return Ok(());
        };
        match pipeline.push(params, frame) {
            Ok(chunks) => self.report(&chunks),
            Err(
                cht_audio::AudioError::UnsupportedCodec { .. }
                | cht_audio::AudioError::NoDecoder(_),
            ) if self.unsupported_reported => {}
            Err(
                e @ (cht_audio::AudioError::UnsupportedCodec { .. }
                | cht_audio::AudioError::NoDecoder(_)),
            ) => {
                self.unsupported_reported = true;
                self.bus.warn(
                    WarningKind::AudioUnsupported,
                    format!("{e}; video analysis goes on"),
                );
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    pub fn finish_segment(&mut self) -> Result<(), AnalyzeError> {
        if let Some(mut pipeline) = self.pipeline.take() {
            let chunks = pipeline.finish();
            self.stats += pipeline.stats();
            self.report(&chunks?);
        }
        Ok(())
    }

    /// Finishes the segment and waits for pending transcriptions.
    pub fn finish(mut self) -> Result<AudioStats, AnalyzeError> {
        self.finish_segment()?;
        if let Some(hook) = self.hook.take() {
            let h = hook.finish();
            if h.failed + h.timed_out + h.dropped > 0 {
                tracing::warn!(
                    "transcription: {} failed, {} timed out, {} dropped",
                    h.failed,
                    h.timed_out,
                    h.dropped
                );
            }
        }
        Ok(self.stats)
    }

    fn report(&self, chunks: &[ChunkInfo]) {
        for c in chunks {
            self.bus.emit(Event::AudioChunk {
                id: c.id.clone(),
                path: c.rel_path.clone(),
                start: c.start,
                duration: c.duration,
                segment: c.segment,
                session_start: c.session_start,
            });
            if let Some(hook) = &self.hook {
                hook.submit(c);
            }
        }
    }
}
