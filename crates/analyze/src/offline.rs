//! Offline analysis: the same frames and chunks as live, from a file or a
//! session, with GOPs decoded in parallel.
//!
//! Video is split at IDR frames; each GOP is decoded on rayon's pool (each
//! thread keeping its decoder for the next GOP) and its consecutive
//! pictures are compared there (the expensive part), while the calling
//! thread reads on. The scores are concluded in order on the calling
//! thread, the first picture of each GOP compared with the last of the
//! previous one, so the result is the same as a single decoder's.
//! Pictures are not kept: the first and last of each GOP are, with the
//! default detector the first frames of still screens and what its copy
//! run ahead asked for ([`DetectorAhead`]); any other picture a decision
//! needs is decoded again (encoders put IDRs at cuts, so that is rare and
//! short).

use crate::audio::AudioAnalyzer;
use crate::source::{self, AnalyzeInput};
use crate::AnalyzeError;
use cht_audio::{AudioOptions, AudioStats};
use cht_core::{
    AudioPacket, AudioParams, DecodeStats, DecoderError, DecoderRegistry, DemuxItem, Gated,
    PacketRole, Picture, SegmentGate, SegmentStart, VideoDecoder, VideoPacket, VideoParams,
    CLOCK_HZ,
};
use cht_events::{Event, EventBus, WarningKind};
use cht_frames::{FrameKind, FrameMeta, FrameStore};
use cht_scene::scan::{FrameDiff, FrameScanner, Measures};
use cht_scene::{
    hard_cut, Cause, Detector, FrameSignature, Kernel, LumaPlane, PictureSource, SceneDetector,
    ScreenEvents, ScreenOptions, ScreenPicture,
};
use cht_session::Layout;
use serde::Serialize;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::sync::{mpsc, Arc};
use std::time::Instant;

/// GOPs being decoded or waiting to be concluded, per thread.
const GOPS_IN_FLIGHT_PER_THREAD: usize = 3;
/// Compressed video in flight at most.
const IN_FLIGHT_BYTES: usize = 128 << 20;

/// The packets of one GOP and the parameters of their track.
struct Gop {
    params: Option<VideoParams>,
    packets: Vec<VideoPacket>,
}

/// A GOP handed to the pool, and where its result will arrive.
struct InFlight {
    gop: Arc<Gop>,
    bytes: usize,
    result: mpsc::Receiver<Result<GopResult, AnalyzeError>>,
}

/// What the offline analysis does (the CLI maps `cht analyze`'s flags onto it).
#[derive(Debug, Clone)]
pub struct OfflineOptions {
    /// The video decoders, by codec.
    pub decoders: DecoderRegistry,
    /// Which scene detector picks the pictures.
    pub detector: Detector,
    /// On ffmpeg's `scene` scale, 0..=1.
    pub threshold: f64,
    /// Seconds of stillness before the default detector takes a picture.
    pub settle: f64,
    /// `None`: no audio chunks.
    pub audio: Option<AudioOptions>,
    /// Decoding threads (0: one per core).
    pub threads: usize,
    /// Decode every picture, also those no other picture refers to. The
    /// default detector does not need them (its decisions hold on the
    /// pictures around them, ±1 frame), and skips them: a third to a half of
    /// the decoding of a stream with B-frames. It also skips the optional
    /// reference pictures (x264's B-pyramid middle B-frames that no P-frame
    /// refers to) where the screen hardly moved around them. ffmpeg mode
    /// always decodes every picture.
    pub every_picture: bool,
}

impl Default for OfflineOptions {
    fn default() -> Self {
        OfflineOptions {
            decoders: crate::default_decoders(),
            detector: Detector::Default,
            threshold: 0.3,
            settle: ScreenOptions::default().settle,
            audio: Some(AudioOptions::default()),
            threads: 0,
            every_picture: false,
        }
    }
}

/// What an offline analysis did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalyzeSummary {
    /// Segments (files) read.
    pub segments: u32,
    /// GOPs decoded.
    pub gops: u64,
    /// Pictures scored.
    pub pictures: u64,
    /// Scene cuts (ffmpeg mode).
    pub cuts: u64,
    /// Event pictures written (new screens); the rest are updates.
    pub events: u64,
    /// Pictures that had to be decoded a second time to be written (the
    /// decoding threads keep only the first and last of each GOP).
    pub pictures_decoded_again: u64,
    /// Pictures the default detector left undecoded (see
    /// [`OfflineOptions::every_picture`]): disposable ones and the optional
    /// ones counted below.
    pub pictures_not_decoded: u64,
    /// Optional reference pictures (x264's B-pyramid middle B-frames no
    /// P-frame refers to) left undecoded because the screen hardly moved
    /// around them.
    pub optional_pictures_not_decoded: u64,
    /// Frames written.
    pub frames_written: u64,
    /// Audio chunks written.
    pub audio_chunks: u64,
    /// Decoding threads used.
    pub threads: usize,
    /// Wall-clock seconds the analysis took.
    pub seconds: f64,
    /// What the decoders did, over all GOPs.
    pub decode: DecodeStats,
    /// Why (part of) the video could not be decoded, when its format is one
    /// openh264 cannot decode (see `decode.unsupported`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_video: Option<String>,
    /// What the audio side did.
    pub audio: AudioStats,
    /// Why the audio could not be decoded into chunks, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unsupported_audio: Option<String>,
    /// The video codec of the last segment with video.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub video_codec: Option<cht_core::VideoCodec>,
    /// The audio codecs of the last segment with audio, by track.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub audio_codecs: Vec<cht_core::AudioCodec>,
}

/// One scored picture, for `cht scores`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameScoreLine {
    /// 0-based, over the whole input.
    pub frame_index: u64,
    /// The segment the picture belongs to.
    pub segment: u32,
    /// Seconds from the first picture of the segment.
    pub pts_time: f64,
    /// The detector's score, 0..=1.
    pub score: f64,
    /// The picture is a cut (ffmpeg mode: the score passes the threshold).
    pub cut: bool,
}

/// Progress reports: (bytes read so far, total bytes).
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// Writes the frames (`frames/F*.jpg` + `index.json`) and audio chunks
/// (`audio/chunk_*.wav` + `index.json`) of `input` into the session layout
/// `out` (a session, or `cht analyze --out DIR`), replacing the frames and
/// chunks an earlier analysis left there.
pub fn analyze(
    input: &AnalyzeInput,
    out: &Layout,
    opts: &OfflineOptions,
    bus: &EventBus,
    progress: Progress<'_>,
) -> Result<AnalyzeSummary, AnalyzeError> {
    // The results replace those of an earlier analysis into the same place.
    let (frames, chunks) = out.remove_analysis()?;
    if frames + chunks > 0 {
        tracing::info!(
            "replacing an earlier analysis in {}: {frames} frames and {chunks} audio chunks removed",
            out.root().display()
        );
    }
    let store = FrameStore::open(out.frames_dir())?;
    let audio = match opts.audio {
        Some(a) => Some(AudioAnalyzer::new(
            out.audio_dir(),
            out.transcript_dir(),
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
    /// ffmpeg mode: `diffs[i]` is picture `i + 1` against picture `i`.
    diffs: Vec<FrameDiff>,
    /// Default detector: each picture's signature (an unchanged screen
    /// shares one).
    signatures: Vec<Arc<FrameSignature>>,
    first: Option<Arc<Picture>>,
    last: Option<Arc<Picture>>,
    stats: DecodeStats,
    unsupported: Option<String>,
    /// Pictures not decoded (disposable and optional ones).
    skipped: u64,
    /// Of those, optional reference pictures.
    skipped_optional: u64,
    /// Default detector: pictures kept besides the first and the last (the
    /// first frames of still screens), by index.
    kept: Vec<(usize, Arc<Picture>)>,
    /// Default detector: the pictures the detector run ahead asked for,
    /// and the last frames of still screens.
    fallback: Vec<(usize, Arc<Picture>)>,
}

struct Run {
    pool: rayon::ThreadPool,
    /// Decode disposable pictures too (see `OfflineOptions::every_picture`).
    every_picture: bool,
    decoders: Arc<DecoderRegistry>,
    /// The decoder of the last GOP decoded (or decoded again) on this
    /// thread; the pool's threads keep theirs in `SPARE_DECODER`.
    spare_decoder: Option<SpareDecoder>,
    store: Option<FrameStore>,
    audio: Option<AudioAnalyzer>,
    bus: EventBus,
    detector: SceneDetector,
    /// The default detector (`None` in ffmpeg mode).
    screen: Option<ScreenEvents>,
    scanner: FrameScanner,
    /// Concluded GOPs whose pictures a later decision may still show.
    recent: VecDeque<RecentGop>,
    gop_seq: u64,
    /// The last frame concluded, and the frame the screen detector kept.
    prev_frame: Option<FrameRef>,
    kept_frame: Option<FrameRef>,
    summary: AnalyzeSummary,
    started: Instant,
    frame_index: u64,
    // per segment
    /// The segment number of the file being read.
    file_segment: u32,
    segment: u32,
    /// Where the segment begins on the session's timeline.
    segment_start: f64,
    origin: Option<i64>,
    wrote_first: bool,
    prev_last: Option<Arc<Picture>>,
    video_params: Option<VideoParams>,
    audio_params: Option<AudioParams>,
    gop: Gop,
    in_flight: VecDeque<InFlight>,
    in_flight_bytes: usize,
    /// Decides when each segment starts, and its clock.
    gate: SegmentGate,
    /// The tracks of the segment, once it started: the video, and the
    /// audio track chunked.
    has_video: bool,
    audio_track: Option<u8>,
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
            every_picture: opts.every_picture,
            detector: SceneDetector::new(opts.threshold)?,
            screen: (opts.detector == Detector::Default).then(|| {
                ScreenEvents::new(ScreenOptions {
                    threshold: opts.threshold,
                    settle: opts.settle,
                    ..ScreenOptions::default()
                })
            }),
            scanner: FrameScanner::new(Kernel::best()).measuring(Measures::SadOnly),
            recent: VecDeque::new(),
            gop_seq: 0,
            prev_frame: None,
            kept_frame: None,
            pool,
            decoders: Arc::new(opts.decoders.clone()),
            spare_decoder: None,
            store,
            audio,
            bus,
            summary,
            started: Instant::now(),
            frame_index: 0,
            file_segment: 0,
            segment: 0,
            segment_start: 0.0,
            origin: None,
            wrote_first: false,
            prev_last: None,
            video_params: None,
            audio_params: None,
            gop: Gop {
                params: None,
                packets: Vec::new(),
            },
            in_flight: VecDeque::new(),
            in_flight_bytes: 0,
            gate: SegmentGate::new(),
            has_video: false,
            audio_track: None,
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
        for file in input.segments()? {
            self.start_segment(file.segment, file.session_start);
            let mut items = source::open(&file)?;
            let mut last_report = 0;
            while let Some(item) = items.next() {
                self.on_item(&item?, on_frame)?;
                let read = items.bytes_read();
                if read - last_report > (1 << 20) {
                    last_report = read;
                    progress(done_before + read, total);
                }
            }
            done_before += std::fs::metadata(&file.path).map_or(0, |m| m.len());
            self.end_segment(on_frame)?;
            progress(done_before, total);
        }
        Ok(())
    }

    fn finish(mut self) -> Result<AnalyzeSummary, AnalyzeError> {
        if let Some(audio) = self.audio.take() {
            self.summary.unsupported_audio = audio.refusal().map(str::to_string);
            self.summary.audio = audio.finish()?;
            self.summary.audio_chunks = self.summary.audio.chunks_written;
        }
        self.summary.seconds = self.started.elapsed().as_secs_f64();
        Ok(self.summary)
    }

    fn start_segment(&mut self, segment: u32, segment_start: f64) {
        self.summary.segments += 1;
        self.file_segment = segment;
        self.segment = segment;
        self.segment_start = segment_start;
        self.origin = None;
        self.gate = SegmentGate::new();
        self.has_video = false;
        self.audio_track = None;
        self.video_params = None;
        self.audio_params = None;
        self.forget_pictures();
    }

    /// A new segment's pictures are compared with nothing before it.
    fn forget_pictures(&mut self) {
        self.wrote_first = false;
        self.prev_last = None;
        self.detector.reset();
        self.recent.clear();
        self.prev_frame = None;
        self.kept_frame = None;
    }

    /// Everything the current segment has is concluded: its last GOP, the
    /// GOPs in flight, the screen detector's pending pictures, its audio.
    fn conclude_segment(
        &mut self,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        self.close_gop(on_frame)?;
        while !self.in_flight.is_empty() {
            self.conclude_oldest(on_frame)?;
        }
        self.finish_screen()?;
        if let Some(audio) = self.audio.as_mut() {
            audio.finish_segment()?;
        }
        Ok(())
    }

    /// A segment of the file ends and the next begins (the gate found media
    /// the segment's tracks could not hold): what the current one has is
    /// concluded, as at the end of a file.
    fn end_part(&mut self, on_frame: &mut dyn FnMut(&FrameScoreLine)) -> Result<(), AnalyzeError> {
        self.conclude_segment(on_frame)?;
        self.summary.segments += 1;
        self.forget_pictures();
        Ok(())
    }

    fn end_segment(
        &mut self,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        // What the gate still holds starts the segment if it is playable.
        let mut gate = std::mem::take(&mut self.gate);
        let mut result = Ok(());
        gate.finish(&mut |gated| {
            if result.is_ok() {
                result = self.take(gated, on_frame);
            }
        });
        self.gate = gate;
        result?;
        self.conclude_segment(on_frame)
    }

    /// One item of the segment, through the segment gate.
    fn on_item(
        &mut self,
        item: &DemuxItem,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        let mut gate = std::mem::take(&mut self.gate);
        let mut result = Ok(());
        gate.push(item, &mut |gated| {
            if result.is_ok() {
                result = self.take(gated, on_frame);
            }
        });
        self.gate = gate;
        result
    }

    /// What the gate hands on: the start, then the segment's items. A track
    /// the segment does not have is not analysed (a recording of the same
    /// input would not hold it).
    fn take(
        &mut self,
        gated: Gated<'_>,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        match gated {
            Gated::Start(start) => self.start(start),
            Gated::End => self.end_part(on_frame),
            Gated::Item(DemuxItem::VideoParams(p)) => {
                self.video_params = Some(p.clone());
                Ok(())
            }
            Gated::Item(DemuxItem::AudioParams(p)) if Some(p.track) == self.audio_track => {
                self.audio_params = Some(p.clone());
                Ok(())
            }
            Gated::Item(DemuxItem::Video(au)) if self.has_video => {
                self.on_video(au.clone(), on_frame)
            }
            Gated::Item(DemuxItem::Audio(f)) if Some(f.track) == self.audio_track => {
                self.on_audio(f)
            }
            Gated::Item(_) => Ok(()),
        }
    }

    /// The segment's clock starts at the gate's origin.
    fn start(&mut self, start: &SegmentStart) -> Result<(), AnalyzeError> {
        if start.part > 0 {
            // The file goes on in a new segment (see `end_part`).
            self.segment = self.file_segment.saturating_add(start.part);
        }
        self.origin = Some(start.origin);
        self.has_video = start.video.is_some();
        self.video_params = start.video.clone();
        self.audio_params = crate::audio::chunk_track(&start.audio).cloned();
        self.audio_track = self.audio_params.as_ref().map(|a| a.track);
        if let Some(video) = &start.video {
            self.summary.video_codec = Some(video.codec);
        }
        if !start.audio.is_empty() {
            self.summary.audio_codecs = start.audio.iter().map(|a| a.codec).collect();
        }
        match self.audio.as_mut() {
            Some(audio) if self.audio_track.is_some() => {
                audio.note_tracks(&start.audio, self.audio_track);
                audio.start_segment(self.segment, start.origin, self.segment_start)
            }
            _ => Ok(()),
        }
    }

    fn on_video(
        &mut self,
        au: VideoPacket,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        if au.keyframe {
            self.close_gop(on_frame)?;
        }
        if self.gop.packets.is_empty() {
            self.gop.params = self.video_params.clone();
        }
        self.gop.packets.push(au);
        Ok(())
    }

    fn on_audio(&mut self, frame: &AudioPacket) -> Result<(), AnalyzeError> {
        match (&self.audio_params, self.audio.as_mut()) {
            (Some(params), Some(audio)) => audio.push(params, frame),
            _ => Ok(()),
        }
    }

    /// Hands the GOP just completed to the pool (or, with one thread,
    /// decodes it here) and concludes the oldest GOPs once enough are in
    /// flight: decoding overlaps reading and concluding.
    fn close_gop(&mut self, on_frame: &mut dyn FnMut(&FrameScoreLine)) -> Result<(), AnalyzeError> {
        if self.gop.packets.is_empty() {
            return Ok(());
        }
        let empty = Gop {
            params: None,
            packets: Vec::new(),
        };
        let gop = Arc::new(std::mem::replace(&mut self.gop, empty));
        if self.summary.threads <= 1 {
            let mode = self.scan_mode(&gop);
            let result = decode_gop(&self.decoders, &gop, mode, &mut self.spare_decoder);
            return self.conclude_gop(&gop, result?, on_frame);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let (work, mode) = (gop.clone(), self.scan_mode(&gop));
        let decoders = self.decoders.clone();
        self.pool.spawn(move || {
            let result =
                SPARE_DECODER.with_borrow_mut(|spare| decode_gop(&decoders, &work, mode, spare));
            let _ = tx.send(result);
        });
        let bytes = gop.packets.iter().map(|au| au.data.len()).sum::<usize>();
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

    fn scan_mode(&self, gop: &Gop) -> ScanMode {
        match &self.screen {
            Some(screen) => ScanMode::Signatures {
                every_picture: self.every_picture,
                ahead: Box::new(DetectorAhead {
                    detector: screen.clone(),
                    origin: self.origin,
                    previous: None,
                    kept: None,
                    wanted: gop.packets.len() > 1,
                }),
            },
            None => ScanMode::Diffs(self.scanner.measures()),
        }
    }

    fn conclude_gop(
        &mut self,
        gop: &Arc<Gop>,
        result: GopResult,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        self.summary.gops += 1;
        self.summary.decode += result.stats;
        self.summary.pictures_not_decoded += result.skipped;
        self.summary.optional_pictures_not_decoded += result.skipped_optional;
        if self.summary.unsupported_video.is_none() {
            self.summary.unsupported_video = result.unsupported.clone();
        }
        if result.first.is_none() {
            return Ok(());
        }
        if self.screen.is_some() {
            self.conclude_screen_gop(gop, result, on_frame)
        } else {
            self.conclude_ffmpeg_gop(gop, result, on_frame)
        }
    }

    fn conclude_ffmpeg_gop(
        &mut self,
        gop: &Gop,
        result: GopResult,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
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
            let line = self.score_line(*pts, score.score, score.is_cut);
            on_frame(&line);
            if score.is_cut || !self.wrote_first {
                let cause = if self.wrote_first {
                    "scene_cut"
                } else {
                    "start"
                };
                self.wrote_first = true;
                let mut meta = FrameMeta::event(line.pts_time, line.segment, score.score);
                meta.cause = Some(cause);
                let picture = match i {
                    0 => result.first.clone(),
                    i if i + 1 == result.pts.len() => result.last.clone(),
                    _ => {
                        self.summary.pictures_decoded_again += 1;
                        redecode(&self.decoders, gop, result.pts[i], &mut self.spare_decoder)?
                            .map(Arc::new)
                    }
                };
                self.write_picture(picture, meta)?;
            }
        }
        self.prev_last = result.last;
        Ok(())
    }

    fn score_line(&mut self, pts: i64, score: f64, cut: bool) -> FrameScoreLine {
        let line = FrameScoreLine {
            frame_index: self.frame_index,
            segment: self.segment,
            pts_time: segment_seconds(self.origin, pts),
            score,
            cut,
        };
        self.frame_index += 1;
        line
    }

    /// Runs the default detector over a GOP's signatures, in order, and
    /// writes the pictures it asks for.
    fn conclude_screen_gop(
        &mut self,
        gop: &Arc<Gop>,
        result: GopResult,
        on_frame: &mut dyn FnMut(&FrameScoreLine),
    ) -> Result<(), AnalyzeError> {
        self.gop_seq += 1;
        let seq = self.gop_seq;
        let mut kept = result.kept.clone();
        let last_index = result.pts.len().saturating_sub(1);
        kept.extend(result.first.clone().map(|p| (0, p)));
        kept.extend(result.last.clone().map(|p| (last_index, p)));
        self.recent.push_back(RecentGop {
            seq,
            gop: gop.clone(),
            pts: result.pts.clone(),
            signatures: result.signatures.clone(),
            kept,
            fallback: result.fallback.clone(),
        });
        for (i, (pts, signature)) in result.pts.iter().zip(&result.signatures).enumerate() {
            let Some(screen) = self.screen.as_mut() else {
                break;
            };
            let line = segment_seconds(self.origin, *pts);
            let step = screen.push(signature.clone(), line);
            self.summary.pictures += 1;
            let score_line = self.score_line(*pts, step.motion, false);
            on_frame(&score_line);
            let current = FrameRef { gop: seq, index: i };
            for picture in &step.pictures {
                let frame = match picture.source {
                    PictureSource::Current => Some(current),
                    PictureSource::Previous => self.prev_frame,
                    PictureSource::Kept => self.kept_frame,
                };
                self.write_screen_picture(picture, frame)?;
            }
            if step.keep_current {
                self.kept_frame = Some(current);
            }
            self.prev_frame = Some(current);
        }
        self.forget_old_gops();
        Ok(())
    }

    /// Drops concluded GOPs no decision can refer to any more (older than
    /// the kept frame and the previous one), keeping a few for safety.
    fn forget_old_gops(&mut self) {
        let oldest_needed = [self.kept_frame, self.prev_frame]
            .iter()
            .flatten()
            .map(|f| f.gop)
            .min()
            .unwrap_or(self.gop_seq);
        while self.recent.len() > 2 && self.recent.front().is_some_and(|g| g.seq < oldest_needed) {
            self.recent.pop_front();
        }
    }

    /// The end of a segment: a change still under way gets its picture.
    fn finish_screen(&mut self) -> Result<(), AnalyzeError> {
        let Some(screen) = self.screen.as_mut() else {
            return Ok(());
        };
        let step = screen.finish();
        for picture in &step.pictures {
            let frame = match picture.source {
                PictureSource::Current | PictureSource::Previous => self.prev_frame,
                PictureSource::Kept => self.kept_frame,
            };
            self.write_screen_picture(picture, frame)?;
        }
        Ok(())
    }

    /// Writes the picture of `frame` for a detector decision. A settled
    /// screen that stays unchanged to the end of its GOP is shown by the
    /// GOP's last picture, which is at hand, instead of decoding the GOP
    /// again; `signatures` are those of the GOP being concluded.
    fn write_screen_picture(
        &mut self,
        chosen: &ScreenPicture,
        frame: Option<FrameRef>,
    ) -> Result<(), AnalyzeError> {
        let mut meta = crate::video::screen_meta(chosen, self.segment);
        if chosen.cause == Cause::ResolutionChange {
            self.bus.warn(
                WarningKind::ResolutionChange,
                format!(
                    "the picture size changed at {:.3} s; scene detection starts again",
                    chosen.event_time
                ),
            );
        }
        let Some(frame) = frame else {
            return self.write_picture(None, meta);
        };
        let Some(recent) = self.recent.iter().find(|g| g.seq == frame.gop) else {
            return self.write_picture(None, meta);
        };
        // A picture at hand of the same screen, the nearest to the frame
        // asked for (the first frame of the still screen, when kept), or
        // the frame itself decoded again. A shot cut's picture is taken in
        // continuous motion (footage), where no two frames are the same
        // screen: a later frame of the same shot (no cut in between) stands
        // for it, as settled as the frame asked for or more.
        let bound = self
            .screen
            .as_ref()
            .map_or(ScreenOptions::default().bound, |s| s.options().bound);
        let same_screen = |from: usize, to: usize| {
            let (lo, hi) = (from.min(to), from.max(to));
            let wanted = &recent.signatures[frame.index];
            let same = || {
                recent.signatures[lo..=hi]
                    .iter()
                    .all(|s| s.changed_share(wanted) <= SUBSTITUTE_SAME)
            };
            // Not past the bound, where a picture in continuous motion is
            // taken at the latest.
            let within_bound = || {
                segment_seconds(self.origin, recent.pts[from])
                    <= chosen.event_time + bound + FRAME_SLACK
            };
            let later_in_shot = || {
                chosen.cause == Cause::ShotCut
                    && from > to
                    && within_bound()
                    && recent.signatures[lo..=hi]
                        .windows(2)
                        .all(|w| !hard_cut(&w[0], &w[1]))
            };
            same() || later_in_shot()
        };
        let nearest = |pictures: &'_ [(usize, Arc<Picture>)]| {
            pictures
                .iter()
                .filter(|(j, _)| {
                    (recent.pts[*j] - recent.pts[frame.index]).abs() <= SUBSTITUTE_WITHIN
                })
                .filter(|(j, _)| *j == frame.index || same_screen(*j, frame.index))
                .min_by_key(|(j, _)| (recent.pts[*j] - recent.pts[frame.index]).abs())
                .cloned()
        };
        // The detector run ahead kept the pictures of its own decisions,
        // mostly the frames asked for, and the last frames of still screens
        // are the screens before changes: a fallback only, as the first
        // frame of the still screen is the better picture when there is one.
        let at_hand = nearest(&recent.kept).or_else(|| nearest(&recent.fallback));
        let (index, picture) = match at_hand {
            Some((j, picture)) => (j, Some(picture)),
            None => {
                self.summary.pictures_decoded_again += 1;
                let pts = recent.pts[frame.index];
                (
                    frame.index,
                    redecode(&self.decoders, &recent.gop, pts, &mut self.spare_decoder)?
                        .map(Arc::new),
                )
            }
        };
        if index != frame.index {
            meta.picture_time = Some(segment_seconds(self.origin, recent.pts[index]));
        }
        self.write_picture(picture, meta)
    }

    fn write_picture(
        &mut self,
        picture: Option<Arc<Picture>>,
        meta: FrameMeta,
    ) -> Result<(), AnalyzeError> {
        let Some(store) = self.store.as_mut() else {
            return Ok(());
        };
        let Some(picture) = picture else {
            self.bus.warn(
                WarningKind::FrameLost,
                format!(
                    "picture at {:.3} s did not decode again",
                    meta.picture_time.unwrap_or(meta.timestamp)
                ),
            );
            return Ok(());
        };
        if meta.kind == FrameKind::Event {
            self.summary.events += 1;
        }
        let entry = store.write(&picture, meta.in_session(self.segment_start))?;
        self.summary.frames_written += 1;
        self.bus.emit(Event::Frame {
            entry,
            latency_ms: None,
        });
        Ok(())
    }
}

/// A picture of a concluded GOP: the GOP's sequence number and the
/// picture's index in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FrameRef {
    gop: u64,
    index: usize,
}

/// A concluded GOP, kept while a decision may still show one of its
/// pictures: compressed, with its first and last pictures decoded.
struct RecentGop {
    seq: u64,
    gop: Arc<Gop>,
    pts: Vec<i64>,
    signatures: Vec<Arc<FrameSignature>>,
    /// The decoded pictures at hand: first, last, first frames of still
    /// screens; by index.
    kept: Vec<(usize, Arc<Picture>)>,
    /// The pictures the detector run ahead asked for and the last frames of
    /// still screens, by index.
    fallback: Vec<(usize, Arc<Picture>)>,
}

/// Finds, while a GOP decodes, the first frames of screens that then stay
/// still for `STILL_FRAMES` frames, and the last frames of such screens
/// before they change, and keeps up to `MAX_KEPT` of them: the settled
/// pictures the default detector will ask for, and the still screens
/// before a change it pictures as updates, are there without decoding the
/// GOP again.
#[derive(Default)]
struct StillStarts {
    /// The first frame of the current screen: index, picture, signature,
    /// and how many frames have shown the same screen since.
    candidate: Option<(usize, Arc<Picture>, Arc<FrameSignature>, usize)>,
    previous: Option<Arc<FrameSignature>>,
    /// The frame before this one, and how many frames before it showed
    /// the same screen without a break.
    last: Option<(usize, Arc<Picture>)>,
    still_run: usize,
}

/// Frames a screen must stay the same for its first (or last) frame to be
/// kept.
const STILL_FRAMES: usize = 5;
/// First frames of still screens kept per GOP, and as many last frames.
const MAX_KEPT: usize = 6;

impl StillStarts {
    fn push(
        &mut self,
        index: usize,
        picture: &Arc<Picture>,
        signature: &Arc<FrameSignature>,
        kept: &mut Vec<(usize, Arc<Picture>)>,
        ends: &mut Vec<(usize, Arc<Picture>)>,
    ) {
        let changed = self
            .previous
            .as_ref()
            .is_none_or(|p| signature.changed_share(p) > SAME_SCREEN);
        self.previous = Some(signature.clone());
        let last = self.last.replace((index, picture.clone()));
        if changed && self.still_run + 1 >= STILL_FRAMES && ends.len() < MAX_KEPT {
            ends.extend(last);
        }
        self.still_run = if changed { 0 } else { self.still_run + 1 };
        if changed {
            self.candidate = Some((index, picture.clone(), signature.clone(), 0));
            return;
        }
        let Some((start, first, sig, count)) = self.candidate.take() else {
            return;
        };
        if signature.changed_share(&sig) > SAME_SCREEN {
            return;
        }
        if count + 1 >= STILL_FRAMES {
            if kept.len() < MAX_KEPT {
                kept.push((start, first));
            }
        } else {
            self.candidate = Some((start, first, sig, count + 1));
        }
    }
}

/// Two frames show the same screen when at most this share of their cells
/// differ (a pointer, a caret).
const SAME_SCREEN: f64 = 0.0015;
/// A picture at hand may stand for the one asked for when at most this
/// share of their cells differ (a pointer that moved, a character typed
/// while the screen settled).
const SUBSTITUTE_SAME: f64 = 0.005;
/// A frame's worth of seconds at 30 fps, for comparing frame times.
const FRAME_SLACK: f64 = 0.034;
/// A settled screen's picture may be taken from a later frame of the same
/// screen at most this much later (90 kHz ticks): `picture_time` stays
/// close to when the screen settled.
const SUBSTITUTE_WITHIN: i64 = CLOCK_HZ as i64;

/// What the decoding threads compute for each picture.
enum ScanMode {
    /// ffmpeg mode: the difference with the previous picture.
    Diffs(Measures),
    /// The default detector: the picture's signature; disposable pictures
    /// are not decoded unless `every_picture`.
    Signatures {
        every_picture: bool,
        ahead: Box<DetectorAhead>,
    },
}

/// The default detector run ahead over a GOP while it decodes, to keep the
/// pictures it will most likely ask for: the settled screen after a
/// change, whose region that keeps moving (a clock, a pointer, an
/// animation) only the detector knows to ignore. It starts from a copy of
/// the detector's state when the GOP was read, which misses the GOPs still
/// in flight (the copy is taken at the same point of the reading however
/// fast the threads are, so the pictures written do not depend on
/// timing); the decisions that count are made later in order, so a
/// picture it did not keep is decoded again ([`redecode`]); its own
/// decisions are thrown away.
struct DetectorAhead {
    detector: ScreenEvents,
    /// The segment's first PTS, as the decisions in order use it.
    origin: Option<i64>,
    /// This GOP's picture before the current one, and the one the
    /// detector kept last.
    previous: Option<(usize, Arc<Picture>)>,
    kept: Option<(usize, Arc<Picture>)>,
    /// Off for a GOP of one picture (nothing to keep besides it).
    wanted: bool,
}

impl DetectorAhead {
    fn push(
        &mut self,
        index: usize,
        picture: &Arc<Picture>,
        signature: &Arc<FrameSignature>,
        kept: &mut Vec<(usize, Arc<Picture>)>,
    ) {
        if !self.wanted {
            return;
        }
        let time = segment_seconds(self.origin, picture.pts);
        let step = self.detector.push(signature.clone(), time);
        for wanted in &step.pictures {
            let frame = match wanted.source {
                PictureSource::Current => Some((index, picture.clone())),
                PictureSource::Previous => self.previous.clone(),
                PictureSource::Kept => self.kept.clone(),
            };
            if let Some((j, p)) = frame {
                if kept.len() < MAX_KEPT && kept.iter().all(|(k, _)| *k != j) {
                    kept.push((j, p));
                }
            }
        }
        if step.keep_current {
            self.kept = Some((index, picture.clone()));
        }
        self.previous = Some((index, picture.clone()));
    }
}

/// Seconds from the segment's first PTS to `pts`: the clock of the score
/// lines and of the screen detector, in order and run ahead alike (0 while
/// the segment's first PTS is not known).
fn segment_seconds(origin: Option<i64>, pts: i64) -> f64 {
    (pts - origin.unwrap_or(pts)) as f64 / CLOCK_HZ as f64
}

/// A decoder kept from one GOP for the next of the same track (see
/// [`VideoDecoder::end_gop`]), with the parameters it was made for.
type SpareDecoder = (VideoParams, Box<dyn VideoDecoder>);

thread_local! {
    /// A decoding thread's spare decoder. The pool (and so the threads)
    /// belongs to one run, with one decoder registry.
    static SPARE_DECODER: std::cell::RefCell<Option<SpareDecoder>> =
        const { std::cell::RefCell::new(None) };
}

/// A decoder for the GOP's track, the spare one when it decodes the same
/// track: `Ok(Err(reason))` when nothing decodes its codec (or the GOP came
/// before any parameters).
fn gop_decoder(
    decoders: &DecoderRegistry,
    gop: &Gop,
    spare: &mut Option<SpareDecoder>,
) -> Result<Result<Box<dyn VideoDecoder>, String>, AnalyzeError> {
    let Some(params) = &gop.params else {
        return Ok(Err("video packets before the codec parameters".into()));
    };
    if let Some((_, decoder)) = spare.take_if(|(made_for, _)| made_for == params) {
        return Ok(Ok(decoder));
    }
    match decoders.video_decoder(params) {
        Ok(decoder) => Ok(Ok(decoder)),
        Err(e @ DecoderError::NoDecoder(_)) => Ok(Err(e.to_string())),
        Err(e) => Err(e.into()),
    }
}

/// Keeps `decoder`, whose GOP has ended, as the spare.
fn keep_decoder(gop: &Gop, decoder: Box<dyn VideoDecoder>, spare: &mut Option<SpareDecoder>) {
    if let Some(params) = &gop.params {
        *spare = Some((params.clone(), decoder));
    }
}

/// Decodes a GOP with its own decoder and compares consecutive pictures
/// (ffmpeg mode) or takes each picture's signature (default detector).
fn decode_gop(
    decoders: &DecoderRegistry,
    gop: &Gop,
    mode: ScanMode,
    spare: &mut Option<SpareDecoder>,
) -> Result<GopResult, AnalyzeError> {
    let (measures, skip_disposable, mut ahead) = match mode {
        ScanMode::Diffs(m) => (m, false, None),
        ScanMode::Signatures {
            every_picture,
            ahead,
        } => (Measures::SadOnly, !every_picture, Some(ahead)),
    };
    let mut scanner = FrameScanner::new(Kernel::best()).measuring(measures);
    let mut out = GopResult {
        pts: Vec::new(),
        diffs: Vec::new(),
        signatures: Vec::new(),
        first: None,
        last: None,
        stats: DecodeStats::default(),
        unsupported: None,
        skipped: 0,
        skipped_optional: 0,
        kept: Vec::new(),
        fallback: Vec::new(),
    };
    let mut still = StillStarts::default();
    let mut decoder = match gop_decoder(decoders, gop, spare)? {
        Ok(decoder) => decoder,
        Err(reason) => {
            out.stats.unsupported = gop.packets.len() as u64;
            out.unsupported = Some(reason);
            return Ok(out);
        }
    };
    let before = decoder.stats();
    let mut error = None;
    // The signature of the last picture handed out (display order), for
    // deciding on an optional picture after it.
    let last_signature: RefCell<Option<Arc<FrameSignature>>> = RefCell::new(None);
    let mut on_picture = |p: Picture| {
        let p = Arc::new(p);
        match ahead.as_mut() {
            Some(ahead) => match luma(&p).and_then(|l| Ok(FrameSignature::of(&l)?)) {
                Ok(signature) => {
                    // An unchanged screen shares the previous signature.
                    let signature = match out.signatures.last() {
                        Some(last) if **last == signature => last.clone(),
                        _ => Arc::new(signature),
                    };
                    still.push(
                        out.signatures.len(),
                        &p,
                        &signature,
                        &mut out.kept,
                        &mut out.fallback,
                    );
                    ahead.push(out.signatures.len(), &p, &signature, &mut out.fallback);
                    *last_signature.borrow_mut() = Some(signature.clone());
                    out.signatures.push(signature);
                }
                Err(_) => {
                    error.get_or_insert("a picture could not be measured");
                    return;
                }
            },
            None => {
                if let Some(prev) = &out.last {
                    let diff = match (luma(prev), luma(&p)) {
                        (Ok(a), Ok(b)) if a.same_size(&b) => {
                            scanner.scan_after(&a, &b).cloned().ok()
                        }
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
            }
        }
        out.first.get_or_insert_with(|| p.clone());
        out.pts.push(p.pts);
        out.last = Some(p);
    };
    let roles = match skip_disposable {
        true => decoder.plan_gop(&gop.packets),
        false => vec![PacketRole::Reference; gop.packets.len()],
    };
    for (au, role) in gop.packets.iter().zip(roles) {
        match role {
            PacketRole::Disposable => out.skipped += 1,
            PacketRole::Reference => decoder.decode(au, &mut on_picture)?,
            PacketRole::Optional => {
                let before = last_signature.borrow().clone();
                let mut wanted = |after: Option<&Picture>| screen_moved(before.as_deref(), after);
                if !decoder.decode_optional(au, &mut on_picture, &mut wanted)? {
                    tracing::trace!(pts = au.pts, "optional picture left undecoded");
                    out.skipped += 1;
                    out.skipped_optional += 1;
                }
            }
        }
    }
    decoder.end_gop(&mut on_picture);
    out.stats = decoder.stats() - before;
    out.unsupported = decoder.unsupported_format().map(str::to_string);
    keep_decoder(gop, decoder, spare);
    if let Some(e) = error {
        tracing::warn!("{e}: the rest of the GOP is not scored");
    }
    Ok(out)
}

/// Share of the cells (see [`FrameSignature::changed_share`]) that must
/// differ between the pictures around an optional one (a B-pyramid's
/// middle B-frame) for it to be decoded: more than a pointer and a few
/// typed characters move in the frames between two P-frames (65 cells at
/// 1080p, a 64x64 pixel area). Chosen on the screen corpus's tune half:
/// the largest value that keeps its event F1 and coverage (0.005 lost
/// events there).
const OPTIONAL_PICTURE_CHANGE: f64 = 0.002;

/// Whether the screen moved between the picture before an optional one
/// and the picture after it by more than a pointer or typing does, so that
/// the optional picture may show where a new screen began: decoded, the
/// default detector's event times are as exact as with every reference
/// picture decoded; a still screen, or one where only the pointer or the
/// caret moves, costs no decode. Unknown counts as moved.
fn screen_moved(before: Option<&FrameSignature>, after: Option<&Picture>) -> bool {
    let (Some(before), Some(after)) = (before, after) else {
        return true;
    };
    match luma(after).and_then(|l| Ok(FrameSignature::of(&l)?)) {
        Ok(signature) => before.changed_share(&signature) > OPTIONAL_PICTURE_CHANGE,
        Err(_) => true,
    }
}

/// Decodes `gop` again up to the picture with `pts`.
fn redecode(
    decoders: &DecoderRegistry,
    gop: &Gop,
    pts: i64,
    spare: &mut Option<SpareDecoder>,
) -> Result<Option<Picture>, AnalyzeError> {
    let Ok(mut decoder) = gop_decoder(decoders, gop, spare)? else {
        return Ok(None);
    };
    let mut found = None;
    // (The picture wanted is one no other depends on only if it is itself
    // disposable; the others need no disposable picture.)
    let wanted_disposable = gop
        .packets
        .iter()
        .any(|au| au.pts == pts && decoder.is_disposable(au));
    let mut keep = |p: Picture| {
        if p.pts == pts {
            found = Some(p);
        }
    };
    for au in &gop.packets {
        if !wanted_disposable && decoder.is_disposable(au) {
            continue;
        }
        decoder.decode(au, &mut keep)?;
        if au.pts == pts {
            // Its picture comes out by the end of the GOP at the latest.
            break;
        }
    }
    decoder.end_gop(&mut keep);
    keep_decoder(gop, decoder, spare);
    Ok(found)
}

fn luma(p: &Picture) -> Result<LumaPlane<'_>, AnalyzeError> {
    Ok(LumaPlane::new(&p.y, p.width, p.height, p.y_stride)?)
}
