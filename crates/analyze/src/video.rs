//! Decoded pictures → scene scores → JPEG frames, for one stream at a time.

use crate::AnalyzeError;
use cht_core::{
    DecodeStats, DecoderError, DecoderRegistry, Picture, VideoDecoder, VideoPacket, VideoParams,
    CLOCK_HZ,
};
use cht_events::{Event, EventBus, WarningKind};
use cht_frames::{FrameEntry, FrameKind, FrameMeta, FrameWriterThread, FramesError};
use cht_scene::{
    Detector, FrameSignature, LumaPlane, PictureSource, SceneDetector, ScreenEvents, ScreenOptions,
    ScreenPicture, ScreenStep,
};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// What the video side of the analysis did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VideoStats {
    /// Packets pushed.
    pub access_units: u64,
    /// Pictures decoded and scored.
    pub pictures: u64,
    /// Scene cuts or new screens.
    pub cuts: u64,
    /// Frames submitted to the frame writer.
    pub frames_written: u64,
    /// Frames the writer could not take.
    pub frames_failed: u64,
    /// Access units skipped because the analysis fell behind the recorder.
    pub skipped_for_lag: u64,
    /// What the decoders did.
    pub decode: DecodeStats,
}

/// What is waiting for the frame writer, in submission order.
struct Pending {
    arrived: Option<Instant>,
    reply: Option<mpsc::Sender<Result<FrameEntry, FramesError>>>,
}

/// The frame writer thread with the bookkeeping to match each written entry
/// to its request (latency, or a waiting `capture`). Shared by the analysis
/// thread and the control API.
pub struct FrameSink {
    writer: FrameWriterThread,
    pending: Arc<Mutex<VecDeque<Pending>>>,
    /// Serialises submissions so `pending` has the writer's order.
    submit_order: Mutex<()>,
}

impl FrameSink {
    pub fn spawn(
        store: cht_frames::FrameStore,
        bus: EventBus,
    ) -> Result<Arc<FrameSink>, AnalyzeError> {
        let pending: Arc<Mutex<VecDeque<Pending>>> = Arc::default();
        let queue = pending.clone();
        let on_written = move |result: Result<FrameEntry, FramesError>| {
            let done = queue.lock().ok().and_then(|mut q| q.pop_front());
            let latency_ms = done
                .as_ref()
                .and_then(|p| p.arrived)
                .map(|t| t.elapsed().as_secs_f64() * 1e3);
            match &result {
                Ok(entry) => bus.emit(Event::Frame {
                    entry: entry.clone(),
                    latency_ms,
                }),
                Err(e) => bus.warn(WarningKind::FrameWriteFailed, e.to_string()),
            }
            if let Some(reply) = done.and_then(|p| p.reply) {
                let _ = reply.send(result);
            }
        };
        let writer =
            FrameWriterThread::spawn(store, FrameWriterThread::DEFAULT_QUEUE_LEN, on_written)?;
        Ok(Arc::new(FrameSink {
            writer,
            pending,
            submit_order: Mutex::new(()),
        }))
    }

    /// Queues a frame (blocks while the writer's short queue is full).
    fn submit(
        &self,
        picture: Picture,
        meta: FrameMeta,
        pending: Pending,
    ) -> Result<(), FramesError> {
        let _order = self
            .submit_order
            .lock()
            .map_err(|_| FramesError::WriterGone)?;
        if let Ok(mut q) = self.pending.lock() {
            q.push_back(pending);
        }
        let result = self.writer.submit(picture, meta);
        if result.is_err() {
            if let Ok(mut q) = self.pending.lock() {
                q.pop_back();
            }
        }
        result
    }

    /// Writes a frame now and waits for its index entry.
    pub fn write_now(&self, picture: Picture, meta: FrameMeta) -> Result<FrameEntry, FramesError> {
        let (reply, answer) = mpsc::channel();
        self.submit(
            picture,
            meta,
            Pending {
                arrived: None,
                reply: Some(reply),
            },
        )?;
        answer.recv().map_err(|_| FramesError::WriterGone)?
    }

    pub fn mark_sent(&self, ids: Vec<String>) -> Result<usize, FramesError> {
        self.writer.mark_sent(ids)
    }

    pub fn entries(&self) -> Result<Vec<FrameEntry>, FramesError> {
        self.writer.entries()
    }
}

/// The last decoded picture, for a manual capture.
#[derive(Clone)]
pub struct LatestPicture {
    pub picture: Arc<Picture>,
    pub segment: u32,
    /// Where the segment begins on the session's timeline.
    pub segment_start: f64,
    pub timestamp: f64,
}

/// Decodes one stream, scores every picture and writes the pictures its
/// detector asks for: with the default detector, the settled picture of each
/// new screen and update pictures (see `cht_scene::screen`); in ffmpeg mode,
/// the first picture of each segment and every frame whose score passes the
/// threshold. Driven by pushes of packets.
pub struct VideoAnalyzer {
    decoders: DecoderRegistry,
    /// The track's parameters, announced before its packets.
    params: Option<VideoParams>,
    decoder: Option<Box<dyn VideoDecoder>>,
    scorer: Scorer,
    sink: Arc<FrameSink>,
    bus: EventBus,
    segment: u32,
    /// Where the segment begins on the session's timeline.
    segment_start: f64,
    origin: i64,
    wrote_first: bool,
    prev: Option<Arc<Picture>>,
    /// The frame the screen detector asked to keep (the screen before a
    /// change under way).
    kept: Option<Arc<Picture>>,
    arrivals: VecDeque<(i64, Instant)>,
    latest: Arc<Mutex<Option<LatestPicture>>>,
    stats: VideoStats,
    /// The undecodable format last reported, so that it is reported once
    /// per segment rather than per access unit.
    reported_format: Option<String>,
    /// A codec without a decoder was reported (once per run).
    reported_codec: bool,
}

/// The rule that picks pictures.
#[allow(clippy::large_enum_variant, reason = "one per analyser")]
enum Scorer {
    /// ffmpeg's `select` score: the frame at each cut.
    Ffmpeg(SceneDetector),
    /// New screens with settled pictures, and updates.
    Screen(ScreenEvents),
}

impl Scorer {
    fn new(detector: Detector, screen: &ScreenOptions) -> Result<Self, AnalyzeError> {
        Ok(match detector {
            Detector::Ffmpeg => Scorer::Ffmpeg(SceneDetector::new(screen.threshold)?),
            Detector::Default => {
                if !(0.0..=1.0).contains(&screen.threshold) {
                    return Err(cht_scene::SceneError::BadThreshold(screen.threshold).into());
                }
                Scorer::Screen(ScreenEvents::new(screen.clone()))
            }
        })
    }
}

/// A picture chosen by a detector, about to be written.
struct Chosen {
    picture: Arc<Picture>,
    meta: FrameMeta,
}

impl VideoAnalyzer {
    /// An analyzer writing to `sink`; `screen.threshold` is the threshold of
    /// either detector, the rest applies to the default one.
    pub fn new(
        sink: Arc<FrameSink>,
        bus: EventBus,
        decoders: DecoderRegistry,
        detector: Detector,
        screen: ScreenOptions,
    ) -> Result<Self, AnalyzeError> {
        Ok(VideoAnalyzer {
            decoders,
            params: None,
            decoder: None,
            scorer: Scorer::new(detector, &screen)?,
            sink,
            bus,
            segment: 0,
            segment_start: 0.0,
            origin: 0,
            wrote_first: false,
            prev: None,
            kept: None,
            arrivals: VecDeque::new(),
            latest: Arc::default(),
            stats: VideoStats::default(),
            reported_format: None,
            reported_codec: false,
        })
    }

    pub fn latest_picture(&self) -> Arc<Mutex<Option<LatestPicture>>> {
        self.latest.clone()
    }

    pub fn stats(&self) -> VideoStats {
        let mut s = self.stats.clone();
        if let Some(d) = &self.decoder {
            s.decode += d.stats();
        }
        s
    }

    /// The track's codec parameters (first, or changed). New parameters get
    /// a new decoder, which starts at the next keyframe (the one the new
    /// parameter sets came with).
    pub fn set_params(&mut self, params: &VideoParams) -> Result<(), AnalyzeError> {
        // New parameter sets (a new picture size) get a decoder of their
        // own too: decoders take the track's parameter sets, not the
        // stream's in-band ones, which bit errors can corrupt.
        let same_decoder = self.params.as_ref().is_some_and(|p| {
            p.codec == params.codec
                && p.format == params.format
                && p.extra_data == params.extra_data
        });
        self.params = Some(params.clone());
        if !same_decoder && self.decoder.is_some() {
            self.drain()?;
            self.decoder = self.new_decoder()?;
        }
        Ok(())
    }

    /// A decoder for the current parameters; `None` (reported once) when
    /// the codec has no decoder.
    fn new_decoder(&mut self) -> Result<Option<Box<dyn VideoDecoder>>, AnalyzeError> {
        let Some(params) = &self.params else {
            return Ok(None);
        };
        match self.decoders.video_decoder(params) {
            Ok(decoder) => Ok(Some(decoder)),
            Err(e @ DecoderError::NoDecoder(_)) => {
                if !std::mem::replace(&mut self.reported_codec, true) {
                    self.bus.warn(WarningKind::UnsupportedVideo, e.to_string());
                }
                Ok(None)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// A new segment: time 0 is `origin_pts` (its first keyframe); it
    /// begins at `segment_start` on the session's timeline.
    pub fn start_segment(
        &mut self,
        segment: u32,
        origin_pts: i64,
        segment_start: f64,
    ) -> Result<(), AnalyzeError> {
        self.finish_segment()?;
        self.decoder = self.new_decoder()?;
        self.reported_format = None;
        self.segment = segment;
        self.segment_start = segment_start;
        self.origin = origin_pts;
        self.wrote_first = false;
        Ok(())
    }

    /// Changes the threshold for the frames still to come.
    pub fn set_threshold(&mut self, threshold: f64) -> Result<(), AnalyzeError> {
        match &mut self.scorer {
            Scorer::Screen(screen) => {
                if !(0.0..=1.0).contains(&threshold) {
                    return Err(cht_scene::SceneError::BadThreshold(threshold).into());
                }
                screen.set_threshold(threshold);
            }
            Scorer::Ffmpeg(detector) => {
                if (threshold - detector.threshold()).abs() > f64::EPSILON {
                    *detector = SceneDetector::new(threshold)?;
                    // The new detector has no history: seed it with the last picture.
                    if let Some(prev) = &self.prev {
                        detector.push(&luma(prev)?)?;
                    }
                }
            }
        }
        Ok(())
    }

    pub fn push(&mut self, au: &VideoPacket, arrived: Option<Instant>) -> Result<(), AnalyzeError> {
        self.stats.access_units += 1;
        if let Some(t) = arrived {
            self.arrivals.push_back((au.pts, t));
            while self.arrivals.len() > 64 {
                self.arrivals.pop_front();
            }
        }
        let Some(decoder) = self.decoder.as_mut() else {
            return Ok(());
        };
        let mut pictures = Vec::new();
        decoder.decode(au, &mut |p| pictures.push(p))?;
        let format = decoder.unsupported_format();
        if format != self.reported_format.as_deref() {
            if let Some(f) = format {
                let message = format!("no scene frames until the sender changes format ({f}); the recording is unaffected");
                self.bus.warn(WarningKind::UnsupportedVideo, message);
            }
            self.reported_format = format.map(str::to_string);
        }
        for p in pictures {
            self.on_picture(p)?;
        }
        Ok(())
    }

    /// Some access units were skipped: drain what the decoder holds and
    /// restart it at the next keyframe (the detector keeps its history, so a
    /// change during the gap still shows as a cut).
    pub fn gap(&mut self, skipped: u64) -> Result<(), AnalyzeError> {
        self.stats.skipped_for_lag += skipped;
        self.drain()?;
        self.decoder = self.new_decoder()?;
        Ok(())
    }

    /// End of the segment: the pictures still in the decoder are scored and
    /// a change still under way gets its picture.
    pub fn finish_segment(&mut self) -> Result<(), AnalyzeError> {
        self.drain()?;
        self.decoder = None;
        if let Scorer::Screen(screen) = &mut self.scorer {
            let step = screen.finish();
            if let Some(last) = self.prev.clone() {
                let chosen = self.choose_screen_pictures(&step, &last);
                self.write_chosen(chosen);
            }
        }
        self.prev = None;
        self.kept = None;
        Ok(())
    }

    fn drain(&mut self) -> Result<(), AnalyzeError> {
        if let Some(mut decoder) = self.decoder.take() {
            let mut pictures = Vec::new();
            decoder.flush(&mut |p| pictures.push(p));
            self.stats.decode += decoder.stats();
            for p in pictures {
                self.on_picture(p)?;
            }
        }
        Ok(())
    }

    fn on_picture(&mut self, picture: Picture) -> Result<(), AnalyzeError> {
        self.stats.pictures += 1;
        let timestamp = self.seconds(picture.pts);
        let picture = Arc::new(picture);
        let resized = self
            .prev
            .as_ref()
            .is_some_and(|p| (p.width, p.height) != (picture.width, picture.height));
        if resized {
            self.report_resize(&picture);
        }
        let chosen = match &mut self.scorer {
            Scorer::Ffmpeg(detector) => {
                let score = match self.prev.as_ref().filter(|_| !resized) {
                    Some(prev) => detector.push_after(&luma(prev)?, &luma(&picture)?)?,
                    None => detector.push(&luma(&picture)?)?,
                };
                let first = !self.wrote_first || resized;
                self.wrote_first = true;
                if score.is_cut || first {
                    let mut meta = FrameMeta::event(timestamp, self.segment, score.score);
                    meta.cause = Some(if first { "start" } else { "scene_cut" });
                    vec![Chosen {
                        picture: picture.clone(),
                        meta,
                    }]
                } else {
                    Vec::new()
                }
            }
            Scorer::Screen(screen) => {
                let signature = FrameSignature::of(&luma(&picture)?)?;
                let step = screen.push(Arc::new(signature), timestamp);
                let chosen = self.choose_screen_pictures(&step, &picture);
                if step.keep_current {
                    self.kept = Some(picture.clone());
                }
                chosen
            }
        };
        self.write_chosen(chosen);
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(LatestPicture {
                picture: picture.clone(),
                segment: self.segment,
                segment_start: self.segment_start,
                timestamp,
            });
        }
        self.prev = Some(picture);
        Ok(())
    }

    /// A new picture size on the same stream: the detector starts again
    /// (and counts it as an event); said once per change.
    fn report_resize(&self, picture: &Picture) {
        if let Some(prev) = &self.prev {
            self.bus.warn(WarningKind::ResolutionChange,
                format!(
                    "the picture size changed from {}x{} to {}x{} at {:.3} s; scene detection starts again",
                    prev.width,
                    prev.height,
                    picture.width,
                    picture.height,
                    self.seconds(picture.pts)
                ),
            );
        }
    }

    fn seconds(&self, pts: i64) -> f64 {
        (pts - self.origin) as f64 / CLOCK_HZ as f64
    }

    /// The pictures a screen-detector step asks for; `current` is the frame
    /// just pushed.
    fn choose_screen_pictures(&self, step: &ScreenStep, current: &Arc<Picture>) -> Vec<Chosen> {
        step.pictures
            .iter()
            .filter_map(|p| {
                let picture = match p.source {
                    PictureSource::Current => Some(current.clone()),
                    PictureSource::Previous => self.prev.clone(),
                    PictureSource::Kept => self.kept.clone(),
                }?;
                Some(Chosen {
                    picture,
                    meta: screen_meta(p, self.segment),
                })
            })
            .collect()
    }

    fn write_chosen(&mut self, chosen: Vec<Chosen>) {
        for Chosen { picture, meta } in chosen {
            let meta = meta.in_session(self.segment_start);
            if meta.kind == FrameKind::Event {
                self.stats.cuts += 1;
            }
            let arrived = self.arrival_of(picture.pts);
            let pending = Pending {
                arrived,
                reply: None,
            };
            match self.sink.submit(Picture::clone(&picture), meta, pending) {
                Ok(()) => self.stats.frames_written += 1,
                Err(e) => {
                    self.stats.frames_failed += 1;
                    self.bus.warn(WarningKind::FrameWriteFailed, e.to_string());
                }
            }
        }
    }

    fn arrival_of(&self, pts: i64) -> Option<Instant> {
        self.arrivals
            .iter()
            .find(|(p, _)| *p == pts)
            .map(|(_, t)| *t)
    }
}

fn luma(p: &Picture) -> Result<LumaPlane<'_>, AnalyzeError> {
    Ok(LumaPlane::new(&p.y, p.width, p.height, p.y_stride)?)
}

/// The index fields of a picture the screen detector chose.
pub(crate) fn screen_meta(p: &ScreenPicture, segment: u32) -> FrameMeta {
    FrameMeta {
        timestamp: p.event_time,
        segment,
        score: p.score,
        kind: if p.cause.is_event() {
            FrameKind::Event
        } else {
            FrameKind::Update
        },
        picture_time: Some(p.picture_time),
        cause: Some(p.cause.name()),
        segment_start: 0.0,
    }
}
