//! Audio frames (AAC, MPEG audio) → WAV chunks (+ transcripts), one
//! segment at a time, from one audio track of each segment.

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
    /// What was already reported as undecodable (said once).
    reported: Vec<String>,
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
            reported: Vec::new(),
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
            Err(e) if e.is_unsupported_stream() => {
                let message = format!("audio track {}: {e}; video analysis goes on", params.track);
                if !self.reported.contains(&message) {
                    self.bus
                        .warn(WarningKind::AudioUnsupported, message.clone());
                    self.reported.push(message);
                }
            }
            Err(e) => return Err(e.into()),
        }
        Ok(())
    }

    /// The first reason given why audio could not be decoded into chunks.
    pub fn refusal(&self) -> Option<&str> {
        self.reported
            .iter()
            .find(|m| !m.starts_with("audio chunks come from"))
            .map(String::as_str)
    }

    /// Says once which track the chunks come from when a segment has
    /// several audio tracks.
    pub fn note_tracks(&mut self, audio: &[AudioParams], chosen: Option<u8>) {
        if audio.len() < 2 {
            return;
        }
        let others: Vec<String> = audio
            .iter()
            .filter(|a| Some(a.track) != chosen)
            .map(|a| format!("track {} ({})", a.track, a.codec))
            .collect();
        let message = format!(
            "audio chunks come from track {}; {} recorded, not chunked",
            chosen.map_or("none".to_string(), |t| t.to_string()),
            others.join(", ")
        );
        if !self.reported.contains(&message) {
            tracing::info!("{message}");
            self.reported.push(message);
        }
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

/// The audio track a segment's chunks come from: the first one cht can
/// decode, or else the first one (whose refusal is then reported, with the
/// fix, when its packets arrive).
pub fn chunk_track(audio: &[AudioParams]) -> Option<&AudioParams> {
    audio
        .iter()
        .find(|a| cht_audio::AudioFrameDecoder::for_params(a).is_ok())
        .or_else(|| audio.first())
}
