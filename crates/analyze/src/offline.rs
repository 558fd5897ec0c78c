//! Offline analysis: the same frames and chunks as live, from a file or a
//! session, with GOPs decoded in parallel.
//!
//! Video is split at IDR frames; each GOP gets its own decoder on rayon's
//! pool and its consecutive pictures are compared there (the expensive part),
//! while the calling thread reads on. The scores are concluded in order on
//! the calling thread, the first picture of each GOP compared with the last
//! of the previous one, so the result is the same as a single decoder's. Pictures are not kept: the
//! first and last of each GOP are, and a cut elsewhere in a GOP is decoded
//! again (encoders put IDRs at cuts, so that is rare and short).

use crate::audio::AudioAnalyzer;
use crate::source::{self, AnalyzeInput};
use crate::{AnalyzeError, Event, EventBus};
use cht_audio::{AudioOptions, AudioStats};
use cht_core::{AudioFrame, VideoAccessUnit, CLOCK_HZ};
use cht_frames::{FrameMeta, FrameStore};
use cht_h264::{DecodeStats, Picture, UnsupportedFormat, VideoDecoder};
use cht_scene::scan::{FrameDiff, FrameScanner, Measures};
use cht_scene::{Detector, FrameScore, Kernel, LumaPlane, SceneDetector};
use cht_ts::DemuxItem;
use serde::Serialize;
use std::collections::VecDeque;
use std::path::Path;
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// Audio before the first keyframe by more than this is not analysed.
const AUDIO_LEAD: i64 = CLOCK_HZ as i64;
/// GOPs being decoded or waiting to be concluded, per thread.
const GOPS_IN_FLIGHT_PER_THREAD: usize = 3;
/// Compressed video in flight at most.
const IN_FLIGHT_BYTES: usize = 128 << 20;

/// A GOP handed to the pool, and where its result will arrive.
struct InFlight {
    gop: Arc<Vec<VideoAccessUnit>>,
    bytes: usize,
    result: mpsc::Receiver<Result<GopResult, AnalyzeError>>,
}

#[derive(Debug, Clone)]
pub struct OfflineOptions {
    pub detector: Detector,
    pub threshold: f64,
    /// `None`: no audio chunks.
    pub audio: Option<AudioOptions>,
    /// Decoding threads (0: one per core).
    pub threads: usize,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions {
            detector: Detector::Default,
            threshold: 0.3,
            audio: Some(AudioOptions::default()),
            threads: 0,
        }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalyzeSummary {
    pub segments: u32,
    pub gops: u64,
    pub pictures: u64,
    pub cuts: u64,
    pub frames_written: u64,
    pub audio_chunks: u64,
    pub threads: usize,
    pub seconds: f64,
    pub decode: DecodeStats,
    /// Why (part of) the video could not be decoded, when its format is one
    /// openh264 cannot decode (see `decode.unsupported`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_video: Option<String>,
    pub audio: AudioStats,
}

/// One scored picture, for `cht scores`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameScoreLine {
    /// 0-based, over the whole input.
    pub frame_index: u64,
    pub segment: u32,
    /// Seconds from the first picture of the segment.
    pub pts_time: f64,
    pub score: f64,
    pub cut: bool,
}

/// Progress reports: (bytes read so far, total bytes).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Writes `out/frames/F*.jpg` + `index.json` and `out/audio/chunk_*.wav` +
/// `index.json` for `input`.
pub fn analyze(
    input: &AnalyzeInput,
    out: &Path,
    opts: &OfflineOptions,
    bus: &EventBus,
    progress: Progress<'_>,
) -> Result<AnalyzeSummary, AnalyzeError> {
    let store = FrameStore::open(out.join("frames"))?;
    let audio = match opts.audio {
        Some(a) => Some(AudioAnalyzer::new(
            out.join("audio"),
            out.join("transcript"),
            a,
            None,
            bus.clone(),
        )?),
        None => None,
    };
    let mut run = Run::new(opts, Some(store), audio, bus.clone())?;
    run.input(input, &mut |_| {}, progress)?;
    run.finish()
}

/// Scores every picture of `input` without writing anything.
pub fn scores(
    input: &AnalyzeInput,
    opts: &OfflineOptions,
    on_frame: &mut dyn FnMut(&FrameScoreLine),
) -> Result<AnalyzeSummary, AnalyzeError> {
    let mut run = Run::new(opts, None, None, EventBus::new())?;
    run.input(input, on_frame, &mut |_, _| {})?;
    run.finish()
}

/// The decoded and compared pictures of one GOP.
struct GopResult {
    pts: Vec<i64>,
    /// `diffs[i]`: picture `i + 1` against picture `i`.
    diffs: Vec<FrameDiff>,
    first: Option<Arc<Picture>>,
    last: Option<Arc<Picture>>,
    stats: DecodeStats,
    unsupported: Option<UnsupportedFormat>,
}

struct Run {
    pool: rayon::ThreadPool,
    store: Option<FrameStore>,
    audio: Option<AudioAnalyzer>,
    bus: EventBus,
    detector: SceneDetector,
    scanner: FrameScanner,
    summary: AnalyzeSummary,
    started: Instant,
    frame_index: u64,
    // per segment
    segment: u32,
    origin: Option<i64>,
    wrote_first: bool,
    prev_last: Option<Arc<Picture>>,
    gop: Vec<VideoAccessUnit>,
    in_flight: VecDeque<InFlight>,
    in_flight_bytes: usize,
    pending_audio: Vec<AudioFrame>,
}

impl Run {
    fn new(
        opts: &OfflineOptions,
        store: Option<FrameStore>,
        audio: Option<AudioAnalyzer>,
        bus: EventBus,
    ) -> Result<Self, AnalyzeError> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(opts.threads)
            .thread_name(|i| format!("cht-gop-{i}"))
            .build()
            .map_err(|e| AnalyzeError::Io {
                path: "<thread pool>".into(),
                source: std::io::Error::other(e),
            })?;
        let summary = AnalyzeSummary {
            threads: pool.current_num_threads(),
            ..AnalyzeSummary::default()
        };
        Ok(Run {
            detector: SceneDetector::new(opts.detector, opts.threshold)?,
            scanner: FrameScanner::new(Kernel::best())
                .measuring(Measures::for_detector(opts.detector)),
            pool,
            store,
            audio,
            bus,
            summary,
            started: Instant::now(),
            frame_index: 0,
            segment: 0,
            origin: None,
            wrote_first: false,
            prev_last: None,
            gop: Vec::new(),
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            pending_audio: Vec::new(),
        })
    }

    fn input(
        &mut self,
        input: &AnalyzeInput,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
        progress: Progress<'_>,
    ) -> Result<(), AnalyzeError> {
        let total = input.total_bytes();
        let mut done_before = 0;
        for (segment, path, is_mp4) in input.segments()? {
            self.start_segment(segment);
            let mut items = source::open(&path, is_mp4)?;
            let mut last_report = 0;
            while let Some(item) = items.next() {
                match item? {
                    DemuxItem::Video(au) => self.on_video(au, on_frame)?,
                    DemuxItem::Audio(f) => self.on_audio(f)?,
                    _ => {}
                }
                let read = items.bytes_read();
                if read - last_report > (1 << 20) {
                    last_report = read;
                    progress(done_before + read, total);
                }
            }
            done_before += std::fs::metadata(&path).map_or(0, |m| m.len());
            self.end_segment(on_frame)?;
            progress(done_before, total);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<AnalyzeSummary, AnalyzeError> {
        if let Some(audio) = self.audio.take() {
            self.summary.audio = audio.finish()?;
            self.summary.audio_chunks = self.summary.audio.chunks_written;
        }
        self.summary.seconds = self.started.elapsed().as_secs_f64();
        Ok(self.summary)
    }

    fn start_segment(&mut self, segment: u32) {
        self.summary.segments += 1;
        self.segment = segment;
        self.origin = None;
        self.wrote_first = false;
        self.prev_last = None;
        self.pending_audio.clear();
        self.detector.reset();
    }

    fn end_segment(
        &mut self,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        self.close_gop(on_frame)?;
        while !self.in_flight.is_empty() {
            self.conclude_oldest(on_frame)?;
        }
        if self.origin.is_none() {
            // Audio only: the clock starts at the first audio frame.
            if let Some(first) = self.pending_audio.first().map(|f| f.pts) {
                self.start_audio(first)?;
            }
        }
        if let Some(audio) = self.audio.as_mut() {
            audio.finish_segment()?;
        }
        Ok(())
    }

    fn on_video(
        &mut self,
        au: VideoAccessUnit,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        if self.origin.is_none() {
            if !au.keyframe {
                return Ok(());
            }
            self.start_audio(au.pts)?;
        }
        if au.keyframe {
            self.close_gop(on_frame)?;
        }
        self.gop.push(au);
        Ok(())
    }

    fn on_audio(&mut self, frame: AudioFrame) -> Result<(), AnalyzeError> {
        match (self.origin, self.audio.as_mut()) {
            (_, None) => Ok(()),
            (None, Some(_)) => {
                self.pending_audio.push(frame);
                Ok(())
            }
            (Some(origin), Some(audio)) if frame.pts >= origin - AUDIO_LEAD => audio.push(&frame),
            _ => Ok(()),
        }
    }

    fn start_audio(&mut self, origin: i64) -> Result<(), AnalyzeError> {
        self.origin = Some(origin);
        if let Some(audio) = self.audio.as_mut() {
            audio.start_segment(self.segment, origin)?;
            for f in std::mem::take(&mut self.pending_audio) {
                if f.pts >= origin - AUDIO_LEAD {
                    audio.push(&f)?;
                }
            }
        }
        Ok(())
    }

    /// Hands the GOP just completed to the pool (or, with one thread,
    /// decodes it here) and concludes the oldest GOPs once enough are in
    /// flight: decoding overlaps reading and concluding.
    fn close_gop(&mut self, on_frame: &mut dyn FnMut(&FrameScoreLine)) -> Result<(), AnalyzeError> {
        if self.gop.is_empty() {
            return Ok(());
        }
        let gop = Arc::new(std::mem::take(&mut self.gop));
        if self.summary.threads <= 1 {
            let result = decode_gop(&gop, self.scanner.measures());
            return self.conclude_gop(&gop, result?, on_frame);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let (work, measures) = (gop.clone(), self.scanner.measures());
        self.pool.spawn(move || {
            let _ = tx.send(decode_gop(&work, measures));
        });
        let bytes = gop.iter().map(|au| au.data.len()).sum::<usize>();
        self.in_flight_bytes += bytes;
        self.in_flight.push_back(InFlight {
            gop,
            bytes,
            result: rx,
        });
        while self.in_flight.len() > GOPS_IN_FLIGHT_PER_THREAD * self.summary.threads
            || self.in_flight_bytes > IN_FLIGHT_BYTES
        {
            self.conclude_oldest(on_frame)?;
        }
        Ok(())
    }

    fn conclude_oldest(
        &mut self,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        let Some(next) = self.in_flight.pop_front() else {
            return Ok(());
        };
        self.in_flight_bytes -= next.bytes;
        let result = next.result.recv().map_err(|_| AnalyzeError::WorkerGone)?;
        self.conclude_gop(&next.gop, result?, on_frame)
    }

    fn conclude_gop(
        &mut self,
        gop: &[VideoAccessUnit],
        result: GopResult,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        self.summary.gops += 1;
        self.summary.decode += result.stats;
        if let (Some(format), None) = (result.unsupported, &self.summary.unsupported_video) {
            self.summary.unsupported_video = Some(format.to_string());
        }
        let Some(first) = result.first.clone() else {
            return Ok(());
        };
        let boundary = match &self.prev_last {
            Some(prev) if prev.width == first.width && prev.height == first.height => Some(
                self.scanner
                    .scan_after(&luma(prev)?, &luma(&first)?)?
                    .clone(),
            ),
            _ => None,
        };
        for (i, pts) in result.pts.iter().enumerate() {
            let diff = if i == 0 {
                boundary.as_ref()
            } else {
                result.diffs.get(i - 1)
            };
            let score = self.detector.push_diff(diff);
            self.summary.pictures += 1;
            self.summary.cuts += score.is_cut as u64;
            let origin = self.origin.unwrap_or(*pts);
            let line = FrameScoreLine {
                frame_index: self.frame_index,
                segment: self.segment,
                pts_time: (*pts - origin) as f64 / CLOCK_HZ as f64,
                score: score.score,
                cut: score.is_cut,
            };
            self.frame_index += 1;
            on_frame(&line);
            if score.is_cut || !self.wrote_first {
                self.wrote_first = true;
                self.write_frame(gop, &result, i, &line, &score)?;
            }
        }
        self.prev_last = result.last;
        Ok(())
    }

    fn write_frame(
        &mut self,
        gop: &[VideoAccessUnit],
        result: &GopResult,
        i: usize,
        line: &FrameScoreLine,
        score: &FrameScore,
    ) -> Result<(), AnalyzeError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let picture = match i {
            0 => result.first.clone(),
            i if i + 1 == result.pts.len() => result.last.clone(),
            _ => redecode(gop, result.pts[i])?.map(Arc::new),
        };
        let Some(picture) = picture else {
            self.bus.warn(
                "frame_lost",
                format!("picture at {:.3} s did not decode again", line.pts_time),
            );
            return Ok(());
        };
        let meta = FrameMeta {
            timestamp: line.pts_time,
            segment: line.segment,
            score: score.score,
            manual: false,
        };
        let entry = store.write(&picture, meta)?;
        self.summary.frames_written += 1;
        self.bus.emit(Event::Frame {
            entry,
            latency_ms: None,
        });
        Ok(())
    }
}

/// Decodes a GOP with its own decoder and compares consecutive pictures.
fn decode_gop(gop: &[VideoAccessUnit], measures: Measures) -> Result<GopResult, AnalyzeError> {
    let mut decoder = VideoDecoder::new()?;
    let mut scanner = FrameScanner::new(Kernel::best()).measuring(measures);
    let mut out = GopResult {
        pts: Vec::new(),
        diffs: Vec::new(),
        first: None,
        last: None,
        stats: DecodeStats::default(),
        unsupported: None,
    };
    let mut error = None;
    let mut on_picture = |p: Picture| {
        let p = Arc::new(p);
        if let Some(prev) = &out.last {
            let diff = match (luma(prev), luma(&p)) {
                (Ok(a), Ok(b)) if a.same_size(&b) => scanner.scan_after(&a, &b).cloned().ok(),
                _ => None,
            };
            match diff {
                Some(d) => out.diffs.push(d),
                None => {
                    error.get_or_insert("picture size changed inside a GOP");
                    return;
                }
            }
        }
        out.first.get_or_insert_with(|| p.clone());
        out.pts.push(p.pts);
        out.last = Some(p);
    };
    for au in gop {
        decoder.decode(au, &mut on_picture)?;
    }
    decoder.flush(&mut on_picture);
    out.stats = decoder.stats();
    out.unsupported = decoder.unsupported_format();
    if let Some(e) = error {
        tracing::warn!("{e}: the rest of the GOP is not scored");
    }
    Ok(out)
}

/// Decodes `gop` again up to the picture with `pts`.
fn redecode(gop: &[VideoAccessUnit], pts: i64) -> Result<Option<Picture>, AnalyzeError> {
    let mut decoder = VideoDecoder::new()?;
    let mut found = None;
    for au in gop {
        decoder.decode(au, &mut |p| {
            if p.pts == pts {
                found = Some(p);
            }
        })?;
        if found.is_some() {
            return Ok(found);
        }
    }
    decoder.flush(&mut |p| {
        if p.pts == pts {
            found = Some(p);
        }
    });
    Ok(found)
}

fn luma(p: &Picture) -> Result<LumaPlane<'_>, AnalyzeError> {
    Ok(LumaPlane::new(&p.y, p.width, p.height, p.y_stride)?)
}
