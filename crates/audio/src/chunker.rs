//! Cutting the output PCM stream into `chunk_NNNN.wav` files.
//!
//! The stream is cut, never re-encoded or overlapped: concatenating the
//! chunks gives the stream back sample for sample. A chunk ends at the centre
//! of the quietest 100 ms window within ±1 s of its nominal end. While being
//! written it is `chunk_NNNN.wav.part`, its header refreshed about once per
//! second of audio, so a crash leaves a playable file; it is renamed to
//! `.wav` only when complete, then listed in `index.json`.

use std::fs::{self, File};
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::json;

use crate::error::{AudioError, Result};
use crate::index::{next_chunk_number, JsonIndex};
use crate::options::OutputSpec;
use crate::quiet::quietest_cut;

/// A finished chunk, as listed in `audio/index.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChunkInfo {
    /// `chunk_0000`.
    pub id: String,
    /// The `NNNN` of the id.
    pub number: u32,
    /// Where the WAV file is on disk.
    pub path: PathBuf,
    /// The path as written to the index, relative to the session directory
    /// (`audio/chunk_0000.wav`).
    pub rel_path: String,
    /// Seconds from the segment's first video frame (may be negative).
    pub start: f64,
    /// `start` on the session's timeline (see `cht_session::SegmentTiming`).
    pub session_start: f64,
    /// Seconds.
    pub duration: f64,
    /// The segment it belongs to.
    pub segment: u32,
    /// Sample frames (at the output rate).
    pub frames: u64,
    /// Samples per second of the WAV file.
    pub sample_rate: u32,
    /// Channels of the WAV file.
    pub channels: u16,
}

type WavFile = hound::WavWriter<BufWriter<File>>;

/// The chunk being written.
struct PartFile {
    number: u32,
    path: PathBuf,
    writer: WavFile,
    frames_since_flush: usize,
}

pub(crate) struct Chunker {
    dir: PathBuf,
    dir_name: String,
    segment: u32,
    /// Where the segment begins on the session's timeline.
    pub(crate) segment_start: f64,
    index: JsonIndex,
    next_number: u32,
    chunk_secs: u32,
    spec: OutputSpec,
    /// Seconds (video clock) of frame 0 of the current run of audio.
    anchor_secs: f64,
    /// Frames since the anchor at which the current chunk starts.
    chunk_start: u64,
    part: Option<PartFile>,
    /// Frames of the current chunk already in the `.part` file.
    written: usize,
    /// Interleaved frames of the current chunk not yet written.
    tail: Vec<i16>,
}

impl Chunker {
    pub(crate) fn new(dir: &Path, segment: u32, chunk_secs: u32, spec: OutputSpec) -> Result<Self> {
        fs::create_dir_all(dir).map_err(AudioError::io(dir))?;
        let index = JsonIndex::load(dir.join("index.json"))?;
        let next_number = next_chunk_number(&index, dir)?;
        let dir_name = dir
            .file_name()
            .map_or_else(|| "audio".to_owned(), |n| n.to_string_lossy().into_owned());
        Ok(Chunker {
            dir: dir.to_owned(),
            dir_name,
            segment,
            segment_start: 0.0,
            index,
            next_number,
            chunk_secs,
            spec,
            anchor_secs: 0.0,
            chunk_start: 0,
            part: None,
            written: 0,
            tail: Vec::new(),
        })
    }

    /// Starts a new run of audio at `anchor_secs` (after the previous run was
    /// ended with [`end_run`](Self::end_run)).
    pub(crate) fn start_run(&mut self, anchor_secs: f64, spec: OutputSpec) {
        debug_assert!(self.part.is_none() && self.tail.is_empty());
        self.anchor_secs = anchor_secs;
        self.spec = spec;
        self.chunk_start = 0;
        self.written = 0;
    }

    /// Takes interleaved samples; returns the chunks this completed.
    pub(crate) fn push(&mut self, samples: &[i16]) -> Result<Vec<ChunkInfo>> {
        self.tail.extend_from_slice(samples);
        let g = self.geometry();
        let mut done = Vec::new();
        loop {
            let have = self.written + self.tail_frames();
            if have >= g.nominal + g.radius + g.half_window {
                let cut = self.choose_cut(&g);
                self.write_tail(cut - self.written)?;
                done.extend(self.close_chunk()?);
                continue;
            }
            // Frames before the earliest candidate window go to disk now, so
            // at most ~2 s of PCM stays in memory.
            let safe = g.nominal - g.radius - g.half_window;
            if self.written < safe {
                self.write_tail((safe - self.written).min(self.tail_frames()))?;
            }
            return Ok(done);
        }
    }

    /// Writes everything buffered and closes the current chunk (end of a
    /// segment, or a break in the audio timeline).
    pub(crate) fn end_run(&mut self) -> Result<Option<ChunkInfo>> {
        self.write_tail(self.tail_frames())?;
        self.close_chunk()
    }

    fn tail_frames(&self) -> usize {
        self.tail.len() / self.spec.channels as usize
    }

    fn geometry(&self) -> Geometry {
        let rate = self.spec.sample_rate as usize;
        Geometry {
            nominal: self.chunk_secs as usize * rate,
            radius: rate,
            half_window: rate / 20,
            window: rate / 10,
        }
    }

    /// The cut, in frames from the chunk start.
    fn choose_cut(&self, g: &Geometry) -> usize {
        let w = self.written;
        let cut = quietest_cut(
            &self.tail,
            self.spec.channels as usize,
            g.window,
            g.nominal - g.radius - w,
            g.nominal + g.radius - w,
            g.nominal - w,
        );
        cut + w
    }

    fn write_tail(&mut self, frames: usize) -> Result<()> {
        if frames == 0 {
            return Ok(());
        }
        if self.part.is_none() {
            self.part = Some(self.open_part()?);
        }
        let Some(part) = self.part.as_mut() else {
            return Ok(());
        };
        let n = frames * self.spec.channels as usize;
        for &s in &self.tail[..n] {
            part.writer
                .write_sample(s)
                .map_err(AudioError::wav(&part.path))?;
        }
        self.tail.drain(..n);
        self.written += frames;
        part.frames_since_flush += frames;
        if part.frames_since_flush >= self.spec.sample_rate as usize {
            // Rewrites the header sizes: the .part is now playable up to here.
            part.writer.flush().map_err(AudioError::wav(&part.path))?;
            part.frames_since_flush = 0;
        }
        Ok(())
    }

    fn open_part(&mut self) -> Result<PartFile> {
        let number = self.next_number;
        self.next_number += 1;
        let path = self.dir.join(format!("chunk_{number:04}.wav.part"));
        let spec = hound::WavSpec {
            channels: self.spec.channels,
            sample_rate: self.spec.sample_rate,
            bits_per_sample: 16,
            sample_format: hound::SampleFormat::Int,
        };
        let writer = hound::WavWriter::create(&path, spec).map_err(AudioError::wav(&path))?;
        Ok(PartFile {
            number,
            path,
            writer,
            frames_since_flush: 0,
        })
    }

    /// Finalizes the `.part`, renames it, lists it; the next chunk starts
    /// where this one ended.
    fn close_chunk(&mut self) -> Result<Option<ChunkInfo>> {
        let frames = std::mem::take(&mut self.written) as u64;
        let start_frame = self.chunk_start;
        self.chunk_start += frames;
        let Some(part) = self.part.take() else {
            return Ok(None);
        };
        part.writer
            .finalize()
            .map_err(AudioError::wav(&part.path))?;
        let id = format!("chunk_{:04}", part.number);
        let path = self.dir.join(format!("{id}.wav"));
        File::open(&part.path)
            .and_then(|f| f.sync_all())
            .map_err(AudioError::io(&part.path))?;
        fs::rename(&part.path, &path).map_err(AudioError::io(&path))?;
        let rate = self.spec.sample_rate as f64;
        let start = self.anchor_secs + start_frame as f64 / rate;
        let info = ChunkInfo {
            rel_path: format!("{}/{id}.wav", self.dir_name),
            id,
            number: part.number,
            path,
            start,
            session_start: cht_session::round_ms(self.segment_start + start),
            duration: frames as f64 / rate,
            segment: self.segment,
            frames,
            sample_rate: self.spec.sample_rate,
            channels: self.spec.channels,
        };
        self.index.append(json!({
            "id": info.id,
            "path": info.rel_path,
            "start": info.start,
            "duration": info.duration,
            "segment": info.segment,
            "session_start": info.session_start,
        }))?;
        Ok(Some(info))
    }
}

/// Chunk geometry in frames at the output rate.
struct Geometry {
    nominal: usize,
    radius: usize,
    half_window: usize,
    window: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC: OutputSpec = OutputSpec {
        sample_rate: 1000,
        channels: 1,
    };

    #[test]
    fn chunks_tile_the_stream_and_end_in_quiet_spots() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audio = dir.path().join("audio");
        let mut chunker = Chunker::new(&audio, 3, 2, SPEC).expect("chunker");
        chunker.start_run(-0.25, SPEC);
        // Loud signal with one silent gap at 2.4..2.6 s and one at 3.7..3.9 s.
        let signal: Vec<i16> = (0..7000)
            .map(|i| {
                if (2400..2600).contains(&i) || (3700..3900).contains(&i) {
                    0
                } else {
                    8000 + (i % 7) as i16
                }
            })
            .collect();
        let mut chunks = Vec::new();
        for piece in signal.chunks(333) {
            chunks.extend(chunker.push(piece).expect("push"));
        }
        chunks.extend(chunker.end_run().expect("end"));
        let frames: Vec<u64> = chunks.iter().map(|c| c.frames).collect();
        assert_eq!(frames.iter().sum::<u64>(), 7000);
        // First cut: nominal 2 s, quiet gap centre window fits 2.45..2.55.
        assert!((2450..=2550).contains(&frames[0]), "{frames:?}");
        assert_eq!(chunks[0].start, -0.25);
        assert_eq!(chunks[1].start, -0.25 + frames[0] as f64 / 1000.0);
        // Second chunk: nominal end at cut+2 s ≈ 4.5 s, gap at 3.7..3.9 is within ±1 s.
        let second_end = frames[0] + frames[1];
        assert!((3750..=3850).contains(&second_end), "{frames:?}");

        let mut joined = Vec::new();
        for c in &chunks {
            let mut r = hound::WavReader::open(&c.path).expect("wav");
            joined.extend(r.samples::<i16>().map(|s| s.expect("sample")));
        }
        assert_eq!(joined, signal);
        let index = std::fs::read_to_string(audio.join("index.json")).expect("index");
        let v: serde_json::Value = serde_json::from_str(&index).expect("json");
        assert_eq!(v[0]["path"], "audio/chunk_0000.wav");
        assert_eq!(v[1]["segment"], 3);
    }

    #[test]
    fn a_new_chunker_never_reuses_numbers() {
        let dir = tempfile::tempdir().expect("tempdir");
        for round in 0..2 {
            let mut chunker = Chunker::new(dir.path(), 0, 2, SPEC).expect("chunker");
            chunker.start_run(0.0, SPEC);
            chunker.push(&[5i16; 500]).expect("push");
            let info = chunker.end_run().expect("end").expect("a chunk");
            assert_eq!(info.number, round);
        }
        let index = std::fs::read_to_string(dir.path().join("index.json")).expect("index");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&index)
                .expect("json")
                .as_array()
                .map(Vec::len),
            Some(2)
        );
    }
}
