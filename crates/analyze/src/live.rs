//! Analysis beside a live recording: a stage of the live pipeline, a
//! sibling of the recorder fed by the same fan-out.

use crate::audio::AudioAnalyzer;
use crate::queue::WorkQueue;
use crate::video::{FrameSink, LatestPicture, VideoAnalyzer, VideoStats};
use crate::AnalyzeError;
use cht_audio::{AudioOptions, AudioStats};
use cht_core::{
    AudioPacket, AudioParams, Connection, DecoderRegistry, DemuxItem, Gated, LiveStage,
    SegmentGate, SegmentStart, VideoPacket, VideoParams,
};
use cht_events::{EventBus, LiveStatus, StatusBoard, StatusCell, WarningKind};
use cht_frames::{FrameEntry, FrameMeta, FrameStore};
use cht_scene::{Detector, ScreenOptions};
use cht_session::Session;
use serde::Serialize;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Instant;

/// What the live analysis does (the CLI maps `cht record`'s flags onto it).
#[derive(Debug, Clone)]
pub struct AnalysisOptions {
    /// The video decoders, by codec.
    pub decoders: DecoderRegistry,
    /// Which scene detector picks the pictures.
    pub detector: Detector,
    /// On ffmpeg's `scene` scale, 0..=1.
    pub threshold: f64,
    /// Seconds the screen must be still before the default detector takes
    /// a change's picture.
    pub settle: f64,
    /// `None`: no audio chunks.
    pub audio: Option<AudioOptions>,
    /// Command run on each finished audio chunk.
    pub transcribe: Option<String>,
    /// Access units queued for decoding at most; beyond this the analysis
    /// skips to the next keyframe (the recording never waits).
    pub video_queue_bytes: usize,
    /// Audio packets queued at most; beyond this a packet is lost (and
    /// replaced by silence).
    pub audio_queue_bytes: usize,
}

impl Default for AnalysisOptions {
    fn default() -> Self {
        AnalysisOptions {
            decoders: crate::default_decoders(),
            detector: Detector::Default,
            threshold: 0.3,
            settle: ScreenOptions::default().settle,
            audio: Some(AudioOptions::default()),
            transcribe: None,
            // Bounded so a long recording at full speed stays small: a
            // lagging analysis skips to the next keyframe instead.
            video_queue_bytes: 8 << 20,
            audio_queue_bytes: 1 << 20,
        }
    }
}

enum VideoWork {
    Params(VideoParams),
    Start {
        segment: u32,
        origin: i64,
        segment_start: f64,
    },
    Unit(VideoPacket, Instant),
    Gap(u64),
    SetThreshold(f64),
    End,
}

enum AudioWork {
    Start {
        segment: u32,
        origin: i64,
        /// The segment's audio tracks.
        tracks: Vec<AudioParams>,
        segment_start: f64,
    },
    Frame(AudioParams, AudioPacket),
    End,
}

/// What happens to media still queued when the analysis stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backlog {
    /// Analyse it all before returning.
    Analyse,
    /// Drop it, counted and reported (stopping promptly).
    Abandon,
}

/// Which frames [`LiveControl::frames`] lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameFilter {
    /// Every entry of the index.
    All,
    /// Only entries not yet marked as sent to the agent.
    Unsent,
}

/// What the analysis reports in the live status (`GET /status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct AnalysisStatus {
    /// `default` or `ffmpeg`.
    pub detector: String,
    /// The scene threshold in force.
    pub threshold: f64,
    /// How long the last analysed access unit waited after arriving.
    pub analysis_lag_ms: f64,
    /// The longest such wait so far.
    pub max_analysis_lag_ms: f64,
    /// Compressed video waiting to be decoded.
    pub video_queue_bytes: usize,
    /// The video side's counters.
    pub video: VideoStats,
    /// The audio side's counters.
    pub audio: AudioStats,
}

struct Shared {
    sink: Arc<FrameSink>,
    latest: Arc<Mutex<Option<LatestPicture>>>,
    video_q: Arc<WorkQueue<VideoWork>>,
    status: StatusCell<AnalysisStatus>,
    board: StatusBoard,
    bus: EventBus,
}

/// The control side of a live analysis (for the HTTP API): cheap to clone.
#[derive(Clone)]
pub struct LiveControl(Arc<Shared>);

impl LiveControl {
    /// The bus the analysis (and the whole recording) reports on.
    pub fn bus(&self) -> &EventBus {
        &self.0.bus
    }

    /// The live status of every stage on the board the analysis was
    /// started with (its own fields included).
    pub fn status(&self) -> LiveStatus {
        let queued = self.0.video_q.queued_bytes();
        self.update(|s| s.video_queue_bytes = queued);
        self.0.board.snapshot()
    }

    /// Scene threshold for the frames still to come (0..=1).
    pub fn set_threshold(&self, threshold: f64) -> Result<(), String> {
        if !(0.0..=1.0).contains(&threshold) || threshold.is_nan() {
            return Err(format!(
                "threshold must be between 0 and 1, not {threshold}"
            ));
        }
        self.update(|s| s.threshold = threshold);
        self.0
            .video_q
            .push_control(VideoWork::SetThreshold(threshold));
        Ok(())
    }

    /// Writes the most recent decoded picture now, marked `"manual": true`.
    pub fn capture(&self) -> Result<Option<FrameEntry>, AnalyzeError> {
        let latest = self.0.latest.lock().ok().and_then(|l| l.clone());
        let Some(latest) = latest else {
            return Ok(None);
        };
        let meta =
            FrameMeta::manual(latest.timestamp, latest.segment).in_session(latest.segment_start);
        Ok(Some(
            self.0.sink.write_now((*latest.picture).clone(), meta)?,
        ))
    }

    /// The entries of the frames index that `filter` selects.
    pub fn frames(&self, filter: FrameFilter) -> Result<Vec<FrameEntry>, AnalyzeError> {
        let mut entries = self.0.sink.entries()?;
        if filter == FrameFilter::Unsent {
            entries.retain(|e| !e.sent_to_agent);
        }
        Ok(entries)
    }

    /// Flips `sent_to_agent` for these ids; returns how many changed.
    pub fn mark_sent(&self, ids: Vec<String>) -> Result<usize, AnalyzeError> {
        Ok(self.0.sink.mark_sent(ids)?)
    }

    fn update(&self, f: impl FnOnce(&mut AnalysisStatus)) {
        self.0.status.update(f);
    }
}

/// Per-connection state of the analysis: the gate that starts the
/// segment, and what follows it.
struct Stream {
    gate: SegmentGate,
    state: StreamState,
}

/// A segment's analysis after the gate.
struct StreamState {
    /// The connection's first segment (a segment is this plus its part).
    first_segment: u32,
    segment: u32,
    /// Where the segment begins on the session's timeline.
    segment_start: f64,
    /// The clock origin of the connection's first segment.
    first_origin: Option<i64>,
    /// The session's layout (its segment listing).
    layout: cht_session::Layout,
    /// The segment's tracks, once it started.
    video: bool,
    /// The audio track chunked, once the segment started.
    audio_track: Option<u8>,
    started: bool,
    audio_params: Option<AudioParams>,
    /// Access units dropped since the queue was last full.
    skipped: u64,
    skipping: bool,
}

/// Where a segment's work goes.
struct Queues<'a> {
    video: &'a WorkQueue<VideoWork>,
    audio: &'a WorkQueue<AudioWork>,
    bus: &'a EventBus,
}

/// The analysis stage of the live pipeline: it only queues work for the
/// video and audio threads (never blocking the other stages), which write
/// frames and chunks and report them as events.
pub struct LiveAnalysis {
    control: LiveControl,
    audio_q: Arc<WorkQueue<AudioWork>>,
    workers: Vec<JoinHandle<()>>,
    conn: Option<Stream>,
    layout: cht_session::Layout,
    /// Set when stopping promptly: pending transcriptions are cut short.
    abandon: Arc<AtomicBool>,
}

impl LiveAnalysis {
    /// Starts the worker threads for `session`; frames, chunks and
    /// warnings go to `bus`, the analysis' status onto `board` (which the
    /// control API's [`LiveControl::status`] reads).
    pub fn start(
        session: &Session,
        opts: AnalysisOptions,
        bus: EventBus,
        board: StatusBoard,
    ) -> Result<Self, AnalyzeError> {
        // A resumed session may hold chunks a killed recorder never
        // finished: in no index, their audio in the recording.
        for path in session.layout().remove_partial_chunks()? {
            tracing::warn!(
                "removed {}, an audio chunk a stopped recorder left unfinished (its audio is in the recording; `cht analyze --session` makes chunks of it)",
                path.display()
            );
        }
        let store = FrameStore::open(session.frames_dir())?;
        let sink = FrameSink::spawn(store, bus.clone())?;
        let screen = ScreenOptions {
            threshold: opts.threshold,
            settle: opts.settle,
            ..ScreenOptions::default()
        };
        let mut video = VideoAnalyzer::new(
            sink.clone(),
            bus.clone(),
            opts.decoders.clone(),
            opts.detector,
            screen,
        )?;
        let video_q = Arc::new(WorkQueue::new(opts.video_queue_bytes));
        let abandon = Arc::new(AtomicBool::new(false));
        let audio_q = Arc::new(WorkQueue::new(opts.audio_queue_bytes));
        let status = StatusCell::new(AnalysisStatus {
            detector: format!("{:?}", opts.detector).to_lowercase(),
            threshold: opts.threshold,
            ..AnalysisStatus::default()
        });
        board.add(status.clone());
        let control = LiveControl(Arc::new(Shared {
            sink,
            latest: video.latest_picture(),
            video_q: video_q.clone(),
            status,
            board,
            bus: bus.clone(),
        }));
        let mut workers = vec![spawn("cht-video", {
            let (q, control) = (video_q, control.clone());
            move || video_worker(&mut video, &q, &control)
        })?];
        if let Some(audio_opts) = opts.audio {
            let audio = AudioAnalyzer::new(
                session.audio_dir(),
                session.transcript_dir(),
                audio_opts,
                opts.transcribe.clone(),
                bus,
            )?;
            let (q, control, abandon) = (audio_q.clone(), control.clone(), abandon.clone());
            workers.push(spawn("cht-audio", move || {
                audio_worker(audio, &q, &control, &abandon)
            })?);
        } else {
            audio_q.close();
        }
        Ok(LiveAnalysis {
            control,
            audio_q,
            workers,
            conn: None,
            layout: session.layout(),
            abandon,
        })
    }

    /// The control side (status, capture, threshold, frames), for the control API.
    pub fn control(&self) -> LiveControl {
        self.control.clone()
    }

    /// Finishes and stops. With [`Backlog::Analyse`] the whole backlog is
    /// analysed; with [`Backlog::Abandon`] (Ctrl-C, SIGTERM: exit promptly)
    /// media still queued is dropped, counted and reported (the recording
    /// has it all, for `cht analyze --session`), while the segment's frames
    /// and the chunk in progress are still finished.
    pub fn finish(mut self, backlog: Backlog) {
        self.end_connection();
        let abandon_backlog = backlog == Backlog::Abandon;
        self.abandon.store(abandon_backlog, Ordering::SeqCst);
        if abandon_backlog {
            let video = self.control.0.video_q.discard_media();
            let audio = self.audio_q.discard_media();
            if video + audio > 0 {
                self.control.0.bus.warn(WarningKind::AnalysisBacklog,
                    format!("stopping: {video} access units and {audio} audio frames were not analysed (they are in the recording; `cht analyze --session` covers them)"),
                );
            }
        }
        self.control.0.video_q.close();
        self.audio_q.close();
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
        let _ = self.control.0.sink.entries(); // waits for queued JPEGs
    }

    /// Ends the segment: what the gate still holds starts it if it is
    /// playable, then both workers finish it.
    fn end_connection(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let queues = Queues {
            video: &self.control.0.video_q,
            audio: &self.audio_q,
            bus: &self.control.0.bus,
        };
        let state = &mut conn.state;
        conn.gate.finish(&mut |gated| state.take(gated, &queues));
        if state.started {
            queues.video.push_control(VideoWork::End);
            queues.audio.push_control(AudioWork::End);
        }
    }
}

impl StreamState {
    fn take(&mut self, gated: Gated<'_>, q: &Queues<'_>) {
        match gated {
            Gated::Start(start) => self.start(start, q),
            Gated::End => self.end(q),
            Gated::Item(DemuxItem::VideoParams(p)) if self.video => {
                q.video.push_control(VideoWork::Params(p.clone()))
            }
            Gated::Item(DemuxItem::AudioParams(p)) if Some(p.track) == self.audio_track => {
                self.audio_params = Some(p.clone())
            }
            Gated::Item(DemuxItem::Video(au)) if self.video => self.on_video(au, q),
            Gated::Item(DemuxItem::Audio(f)) if Some(f.track) == self.audio_track => {
                self.on_audio(f, q)
            }
            Gated::Item(_) => {}
        }
    }

    /// The segment's clock starts: tell both workers, with the tracks'
    /// parameters. A track the segment does not have is not analysed (the
    /// recording does not hold it either).
    fn start(&mut self, start: &SegmentStart, q: &Queues<'_>) {
        self.started = true;
        self.segment = self.first_segment.saturating_add(start.part);
        self.video = start.video.is_some();
        self.audio_params = crate::audio::chunk_track(&start.audio).cloned();
        self.audio_track = self.audio_params.as_ref().map(|a| a.track);
        // A later part of the connection starts where the recorder listed
        // it (it is fed first), or else where its clock says.
        let origin0 = *self.first_origin.get_or_insert(start.origin);
        let segment_start = if start.part == 0 {
            self.segment_start
        } else {
            self.listed_start(self.segment).unwrap_or_else(|| {
                cht_session::round_ms(
                    self.segment_start + (start.origin - origin0) as f64 / 90_000.0,
                )
            })
        };
        let (segment, origin) = (self.segment, start.origin);
        if let Some(params) = &start.video {
            q.video.push_control(VideoWork::Params(params.clone()));
            q.video.push_control(VideoWork::Start {
                segment,
                origin,
                segment_start,
            });
        }
        if self.audio_track.is_some() {
            q.audio.push_control(AudioWork::Start {
                segment,
                origin,
                tracks: start.audio.clone(),
                segment_start,
            });
        }
    }

    /// Where `stream/index.json` places `segment` in the session.
    fn listed_start(&self, segment: u32) -> Option<f64> {
        let index =
            cht_session::JsonIndex::<cht_session::SegmentEntry>::load(self.layout.segment_index())
                .ok()?;
        let entry = index.entries().iter().rev().find(|e| e.segment == segment);
        entry.map(|e| e.start)
    }

    /// The segment ends; the connection goes on in the next one.
    fn end(&mut self, q: &Queues<'_>) {
        if self.started {
            q.video.push_control(VideoWork::End);
            q.audio.push_control(AudioWork::End);
        }
        self.started = false;
        self.skipping = false;
    }

    fn on_video(&mut self, au: &VideoPacket, q: &Queues<'_>) {
        if self.skipping && !au.keyframe {
            self.skipped += 1;
            return;
        }
        if q.video
            .try_push(VideoWork::Unit(au.clone(), Instant::now()), au.data.len())
        {
            if self.skipping {
                self.skipping = false;
                q.video.push_control(VideoWork::Gap(self.skipped));
                q.bus.warn(
                    WarningKind::AnalysisLag,
                    format!(
                        "analysis fell behind: skipped {} access units to the next keyframe",
                        self.skipped
                    ),
                );
                self.skipped = 0;
            }
        } else {
            self.skipping = true;
            self.skipped += 1;
        }
    }

    fn on_audio(&mut self, frame: &AudioPacket, q: &Queues<'_>) {
        let Some(params) = self.audio_params.clone() else {
            return;
        };
        // A full queue loses this frame; the pipeline fills the PTS gap
        // with silence, so the timeline stays aligned.
        q.audio
            .try_push(AudioWork::Frame(params, frame.clone()), frame.data.len());
    }
}

impl LiveStage for LiveAnalysis {
    fn connection_started(&mut self, connection: &Connection) {
        self.end_connection();
        self.conn = Some(Stream {
            gate: SegmentGate::new(),
            state: StreamState {
                first_segment: connection.segment,
                segment: connection.segment,
                segment_start: connection.session_start,
                first_origin: None,
                layout: self.layout.clone(),
                video: false,
                audio_track: None,
                started: false,
                audio_params: None,
                skipped: 0,
                skipping: false,
            },
        });
    }

    fn item(&mut self, item: &DemuxItem) {
        let Some(conn) = self.conn.as_mut() else {
            return;
        };
        let queues = Queues {
            video: &self.control.0.video_q,
            audio: &self.audio_q,
            bus: &self.control.0.bus,
        };
        let state = &mut conn.state;
        conn.gate
            .push(item, &mut |gated| state.take(gated, &queues));
    }

    fn connection_ended(&mut self, _connection: &Connection, _reason: &str) {
        self.end_connection();
    }

    fn tick(&mut self) {
        let queued = self.control.0.video_q.queued_bytes();
        self.control.update(|s| s.video_queue_bytes = queued);
    }
}

fn spawn(name: &str, f: impl FnOnce() + Send + 'static) -> Result<JoinHandle<()>, AnalyzeError> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .map_err(|source| AnalyzeError::Io {
            path: PathBuf::from(name),
            source,
        })
}

fn video_worker(video: &mut VideoAnalyzer, q: &WorkQueue<VideoWork>, control: &LiveControl) {
    let bus = control.bus().clone();
    while let Some(work) = q.pop() {
        let result = match work {
            VideoWork::Params(p) => video.set_params(&p),
            VideoWork::Start {
                segment,
                origin,
                segment_start,
            } => video.start_segment(segment, origin, segment_start),
            VideoWork::Unit(au, arrived) => {
                let lag = arrived.elapsed().as_secs_f64() * 1e3;
                control.update(|s| {
                    s.analysis_lag_ms = lag;
                    s.max_analysis_lag_ms = s.max_analysis_lag_ms.max(lag);
                });
                video.push(&au, Some(arrived))
            }
            VideoWork::Gap(n) => video.gap(n),
            VideoWork::SetThreshold(t) => video.set_threshold(t),
            VideoWork::End => video.finish_segment(),
        };
        if let Err(e) = result {
            bus.warn(WarningKind::VideoAnalysis, e.to_string());
        }
        let stats = video.stats();
        control.update(|s| s.video = stats);
    }
    if let Err(e) = video.finish_segment() {
        bus.warn(WarningKind::VideoAnalysis, e.to_string());
    }
}

fn audio_worker(
    mut audio: AudioAnalyzer,
    q: &WorkQueue<AudioWork>,
    control: &LiveControl,
    abandon: &AtomicBool,
) {
    let bus = control.bus().clone();
    while let Some(work) = q.pop() {
        let result = match work {
            AudioWork::Start {
                segment,
                origin,
                tracks,
                segment_start,
            } => {
                let chosen = crate::audio::chunk_track(&tracks).map(|a| a.track);
                audio.note_tracks(&tracks, chosen);
                audio.start_segment(segment, origin, segment_start)
            }
            AudioWork::Frame(p, f) => audio.push(&p, &f),
            AudioWork::End => audio.finish_segment(),
        };
        if let Err(e) = result {
            bus.warn(WarningKind::AudioAnalysis, e.to_string());
        }
        let stats = audio.stats();
        control.update(|s| s.audio = stats);
    }
    // A normal end waits for the transcriptions still running; a prompt
    // stop finishes the chunk in progress and cuts them short.
    let result = if abandon.load(Ordering::SeqCst) {
        audio.finish_segment()
    } else {
        audio.finish().map(|_| ())
    };
    if let Err(e) = result {
        bus.warn(WarningKind::AudioAnalysis, e.to_string());
    }
}
