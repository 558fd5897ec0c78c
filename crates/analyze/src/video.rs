//! Decoded pictures → scene scores → JPEG frames, for one stream at a time.

use crate::{AnalyzeError, Event, EventBus};
use cht_core::{VideoAccessUnit, CLOCK_HZ};
use cht_frames::{FrameEntry, FrameMeta, FrameWriterThread, FramesError};
use cht_h264::{DecodeStats, Picture, VideoDecoder};
use cht_scene::{Detector, LumaPlane, SceneDetector};
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Debug, Clone, Default, Serialize)]
pub struct VideoStats {
    pub access_units: u64,
    pub pictures: u64,
    pub cuts: u64,
    pub frames_written: u64,
    pub frames_failed: u64,
    /// Access units skipped because the analysis fell behind the recorder.
    pub skipped_for_lag: u64,
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
                Err(e) => bus.warn("frame_write_failed", e.to_string()),
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
    pub timestamp: f64,
}

/// Decodes one stream, scores every picture and writes the first picture of
/// each segment and every scene cut. Driven by pushes of access units.
pub struct VideoAnalyzer {
    decoder: Option<VideoDecoder>,
    detector: SceneDetector,
    sink: Arc<FrameSink>,
    bus: EventBus,
    segment: u32,
    origin: i64,
    wrote_first: bool,
    prev: Option<Arc<Picture>>,
    arrivals: VecDeque<(i64, Instant)>,
    latest: Arc<Mutex<Option<LatestPicture>>>,
    stats: VideoStats,
    /// The undecodable format last reported, so that it is reported once
    /// per segment rather than per access unit.
    reported_format: Option<cht_h264::UnsupportedFormat>,
}

impl VideoAnalyzer {
    pub fn new(
        sink: Arc<FrameSink>,
        bus: EventBus,
        detector: Detector,
        threshold: f64,
    ) -> Result<Self, AnalyzeError> {
        Ok(VideoAnalyzer {
            decoder: None,
            detector: SceneDetector::new(detector, threshold)?,
            sink,
            bus,
            segment: 0,
            origin: 0,
            wrote_first: false,
            prev: None,
            arrivals: VecDeque::new(),
            latest: Arc::default(),
            stats: VideoStats::default(),
            reported_format: None,
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

    /// A new segment: time 0 is `origin_pts` (its first keyframe).
    pub fn start_segment(&mut self, segment: u32, origin_pts: i64) -> Result<(), AnalyzeError> {
        self.finish_segment()?;
        self.decoder = Some(VideoDecoder::new()?);
        self.reported_format = None;
        self.segment = segment;
        self.origin = origin_pts;
        self.wrote_first = false;
        Ok(())
    }

    /// Changes the threshold for the frames still to come.
    pub fn set_threshold(&mut self, threshold: f64) -> Result<(), AnalyzeError> {
        if (threshold - self.detector.threshold()).abs() > f64::EPSILON {
            let detector = self.detector.detector();
            self.detector = SceneDetector::new(detector, threshold)?;
            // The new detector has no history: seed it with the last picture.
            if let Some(prev) = &self.prev {
                self.detector.push(&luma(prev)?)?;
            }
        }
        Ok(())
    }

    pub fn push(
        &mut self,
        au: &VideoAccessUnit,
        arrived: Option<Instant>,
    ) -> Result<(), AnalyzeError> {
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
        if let Some(f) = format.filter(|_| format != self.reported_format) {
            let message = format!("no scene frames until the sender changes format ({f}); the recording is unaffected");
            self.bus.warn("unsupported_video", message);
        }
        self.reported_format = format;
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
        self.decoder = Some(VideoDecoder::new()?);
        Ok(())
    }

    /// End of the segment: the pictures still in the decoder are scored.
    pub fn finish_segment(&mut self) -> Result<(), AnalyzeError> {
        self.drain()?;
        self.decoder = None;
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
        let score = match &self.prev {
            Some(prev) => self.detector.push_after(&luma(prev)?, &luma(&picture)?)?,
            None => self.detector.push(&luma(&picture)?)?,
        };
        let timestamp = (picture.pts - self.origin) as f64 / CLOCK_HZ as f64;
        self.stats.cuts += score.is_cut as u64;
        if score.is_cut || !self.wrote_first {
            self.wrote_first = true;
            let arrived = self.arrival_of(picture.pts);
            let meta = FrameMeta {
                timestamp,
                segment: self.segment,
                score: score.score,
                manual: false,
            };
            match self.sink.submit(
                picture.clone(),
                meta,
                Pending {
                    arrived,
                    reply: None,
                },
            ) {
                Ok(()) => self.stats.frames_written += 1,
                Err(e) => {
                    self.stats.frames_failed += 1;
                    self.bus.warn("frame_write_failed", e.to_string());
                }
            }
        }
        let picture = Arc::new(picture);
        if let Ok(mut latest) = self.latest.lock() {
            *latest = Some(LatestPicture {
                picture: picture.clone(),
                segment: self.segment,
                timestamp,
            });
        }
        self.prev = Some(picture);
        Ok(())
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
