//! Live recording: the segments of each sender connection, as a stage of
//! the live pipeline.

use crate::{SegmentEvent, SegmentOptions, SegmentRecorder};
use cht_core::{Connection, DemuxItem, DiscontinuityKind, LiveStage};
use cht_events::{Event, EventBus, StatusCell, WarningKind};
use cht_fmp4::SegmentSummary;
use cht_session::{JsonIndex, SegmentEntry, Session, STREAM_DIR};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// What the recorder reports in the live status (`GET /status`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct RecorderStatus {
    /// A sender is connected.
    pub connected: bool,
    /// `IP:port` of the sender.
    pub peer: Option<String>,
    /// The segment being recorded.
    pub segment: Option<u32>,
    /// Segments finished with media in them.
    pub segments_recorded: u64,
    /// Bytes in segment files, the one being written included.
    pub bytes_written: u64,
    /// Writes that failed.
    pub write_errors: u64,
    /// Why nothing is being recorded right now (a failed write, until a new
    /// segment starts); `None` while recording works.
    pub error: Option<String>,
}

struct Current {
    connection: Connection,
    recorder: SegmentRecorder,
    /// What was named as not recorded on this connection (said once).
    named: Vec<String>,
}

/// Free space a failed recording waits for before it starts its next
/// segment (at least; more when its fragments are larger).
const RESUME_FREE_BYTES: u64 = 4 << 20;
/// How often a failed recording checks for free space.
const RESUME_CHECK_EVERY: Duration = Duration::from_secs(1);

/// Records every connection into the next segments of a session: a
/// [`LiveStage`] fed by the fan-out. It reports its own life on the bus
/// (`sender_connected`, `segment_started`, `segment_finished`,
/// `sender_disconnected`, discontinuity and recording warnings) and its
/// counters in a [`RecorderStatus`].
///
/// A failed write (a full disk) cuts the segment back to its last complete
/// fragment, reports a `recording_failed` warning and the status `error`,
/// and, once there is room again, asks the fan-out for a new segment
/// ([`LiveStage::wants_new_segment`]), which starts at the next keyframe.
pub struct LiveRecorder {
    session: Session,
    opts: SegmentOptions,
    bus: EventBus,
    status: StatusCell<RecorderStatus>,
    current: Option<Current>,
    /// Bytes of the finished segments.
    finished_bytes: u64,
    /// The largest segment file so far: what the next one may need.
    largest_fragment_hint: u64,
    last_resume_check: Option<Instant>,
    jumps_said: u64,
    /// Session time at which the connection's last finished segment ends.
    parts_end: f64,
    last_warning: Option<Instant>,
    suppressed: u64,
}

impl LiveRecorder {
    /// Records into `session`, reporting on `bus`.
    pub fn new(session: Session, opts: SegmentOptions, bus: EventBus) -> Self {
        LiveRecorder {
            session,
            opts,
            bus,
            status: StatusCell::default(),
            current: None,
            finished_bytes: 0,
            largest_fragment_hint: 0,
            last_resume_check: None,
            jumps_said: 0,
            parts_end: 0.0,
            last_warning: None,
            suppressed: 0,
        }
    }

    /// The recorder's status, for the status board.
    pub fn status(&self) -> StatusCell<RecorderStatus> {
        self.status.clone()
    }

    /// Damage comes in bursts: one line per second at most, with a count.
    fn warn_limited(&mut self, what: &str) {
        self.suppressed += 1;
        if self
            .last_warning
            .is_none_or(|t| t.elapsed() >= Duration::from_secs(1))
        {
            tracing::warn!(
                "stream discontinuity: {what} ({} in the last burst)",
                self.suppressed
            );
            self.suppressed = 0;
            self.last_warning = Some(Instant::now());
        }
    }

    fn report_failure(&mut self, message: String) {
        tracing::error!("{message}");
        let error = message.clone();
        self.status.update(|s| {
            s.write_errors += 1;
            s.error = Some(error);
        });
        self.bus.emit(Event::Warning {
            kind: WarningKind::RecordingFailed,
            message,
        });
    }

    fn start(&mut self, connection: &Connection) {
        let session = self.session.clone();
        let first = connection.segment;
        let recorder = SegmentRecorder::with_paths(
            Box::new(move |part| session.segment_path(first.saturating_add(part))),
            self.opts,
        );
        self.current = Some(Current {
            connection: connection.clone(),
            recorder,
            named: Vec::new(),
        });
        self.jumps_said = 0;
        self.parts_end = connection.session_start;
        self.status.update(|s| s.segment = Some(first));
    }

    fn finish_current(&mut self) {
        let Some(cur) = self.current.take() else {
            return;
        };
        let first = cur.connection.segment;
        let (events, result) = cur.recorder.finish_all();
        let any = !events.is_empty();
        self.report_events(&cur.connection, events);
        match result {
            Ok(()) if !any => {
                tracing::warn!("connection ended before any playable media: no segment written")
            }
            Ok(()) => {}
            Err(e) => self.report_failure(format!("finishing segment {first}: {e}")),
        }
    }

    /// Says what happened to the segment files.
    fn report_events(&mut self, connection: &Connection, events: Vec<SegmentEvent>) {
        let first = connection.segment;
        for event in events {
            match event {
                SegmentEvent::Started { part, path } => {
                    let segment = first.saturating_add(part);
                    // A later part of the connection starts where the parts
                    // before it end, as the session's timeline places
                    // segments.
                    let start = cht_session::round_ms(if part == 0 {
                        connection.session_start
                    } else {
                        self.parts_end
                    });
                    self.parts_end = start;
                    self.status.update(|s| {
                        s.segment = Some(segment);
                        s.error = None;
                    });
                    self.list_segment(segment, start, &path);
                    self.bus.emit(Event::SegmentStarted {
                        segment,
                        path: path.display().to_string(),
                        start,
                    });
                }
                SegmentEvent::Finished(done) => {
                    let segment = first.saturating_add(done.part);
                    self.parts_end += done.summary.duration_seconds;
                    tracing::info!(
                        "segment {} finished: {:.1} s, {} video + {} audio samples, {} fragments; {}",
                        done.path.display(),
                        done.summary.duration_seconds,
                        done.summary.video_samples,
                        done.summary.audio_samples,
                        done.summary.fragments,
                        done.stats
                    );
                    self.segment_finished(segment, &done.path, &done.summary);
                }
            }
        }
    }

    /// Lists the new segment in `stream/index.json` with its place in the
    /// session, so that readers place it as the analysis did.
    fn list_segment(&self, segment: u32, start: f64, path: &Path) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entry = SegmentEntry {
            segment,
            path: format!("{STREAM_DIR}/{name}"),
            start,
            duration: None,
            started_at: Some(cht_session::unix_now()),
            extra: Default::default(),
        };
        let listed = JsonIndex::load(self.session.layout().segment_index())
            .and_then(|mut index| index.append(entry));
        if let Err(e) = listed {
            tracing::warn!("the segment is recorded but not listed: {e}");
        }
    }

    /// Its duration, once finished.
    fn list_duration(&self, segment: u32, duration: f64) {
        let listed = JsonIndex::<SegmentEntry>::load(self.session.layout().segment_index())
            .and_then(|mut index| {
                index.update(|entries| {
                    let entry = entries.iter_mut().rev().find(|e| e.segment == segment);
                    entry
                        .map(|e| e.duration = Some(cht_session::round_ms(duration)))
                        .is_some()
                })
            });
        if let Err(e) = listed {
            tracing::warn!("the segment's duration is not listed: {e}");
        }
    }

    fn segment_finished(&mut self, segment: u32, path: &Path, summary: &SegmentSummary) {
        self.list_duration(segment, summary.duration_seconds);
        self.finished_bytes += summary.bytes_written;
        if summary.fragments > 0 {
            let per_fragment = summary.bytes_written / u64::from(summary.fragments);
            self.largest_fragment_hint = self.largest_fragment_hint.max(per_fragment);
        }
        let bytes_written = self.finished_bytes;
        self.status.update(|s| {
            s.segments_recorded += 1;
            s.bytes_written = bytes_written;
        });
        self.bus.emit(Event::SegmentFinished {
            segment,
            path: path.display().to_string(),
            duration: summary.duration_seconds,
            video_samples: summary.video_samples,
            audio_samples: summary.audio_samples,
            bytes: summary.bytes_written,
        });
    }

    /// Reports a timestamp jump the gate stitched, once per jump.
    fn say_stitched_jumps(&mut self) {
        let Some(cur) = &self.current else { return };
        let jumps = cur.recorder.stats().timestamp_jumps;
        if jumps > self.jumps_said {
            let segment = cur.connection.segment;
            self.jumps_said = jumps;
            tracing::warn!(
                "segment {segment}: the sender's timestamps jumped; stitched into the segment's timeline ({jumps} so far)"
            );
        }
    }

    /// Room for the next segment: the free space of the stream directory.
    fn has_room(&self) -> bool {
        let needed = RESUME_FREE_BYTES.max(4 * self.largest_fragment_hint);
        match nix::sys::statvfs::statvfs(&self.session.stream_dir()) {
            Ok(fs) => {
                let free = fs.blocks_available().saturating_mul(fs.fragment_size());
                free >= needed
            }
            Err(_) => false,
        }
    }
}

impl LiveStage for LiveRecorder {
    fn connection_started(&mut self, connection: &Connection) {
        self.finish_current();
        self.start(connection);
        let peer = connection.peer.to_string();
        self.status.update(|s| {
            s.connected = true;
            s.peer = Some(peer.clone());
        });
        self.bus.emit(Event::SenderConnected { peer });
    }

    fn item(&mut self, item: &DemuxItem) {
        if let DemuxItem::Discontinuity(d) = item {
            let what = match d.kind {
                DiscontinuityKind::PtsJump { from, to } => format!(
                    "timestamps jumped by {:+.3} s on PID {:#x}; stitched into the segment's timeline",
                    (to - from) as f64 / 90_000.0,
                    d.pid
                ),
                kind => format!("{kind:?} on PID {:#x}", d.pid),
            };
            self.bus.emit(Event::Warning {
                kind: WarningKind::Discontinuity,
                message: what.clone(),
            });
            self.warn_limited(&what);
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let failed_before = cur.recorder.has_failed();
        let mut notices = cur.recorder.take_notices();
        if let DemuxItem::Tracks(list) = item {
            notices.extend(list.ignored.iter().map(|s| s.to_string()));
        }
        let pushed = cur.recorder.push(item);
        notices.extend(cur.recorder.take_notices());
        notices.retain(|n| !cur.named.contains(n));
        cur.named.extend(notices.iter().cloned());
        let events = cur.recorder.take_events();
        for notice in notices {
            self.bus.warn(WarningKind::TrackNotRecorded, notice);
        }
        let Some(cur) = self.current.as_ref() else {
            return;
        };
        let connection = cur.connection.clone();
        self.report_events(&connection, events);
        if let Err(e) = pushed {
            if !failed_before {
                self.report_failure(format!(
                    "{e}: the segment keeps its complete fragments; recording goes on in a new segment once there is room"
                ));
                self.last_resume_check = Some(Instant::now());
            }
        }
        self.say_stitched_jumps();
    }

    fn connection_ended(&mut self, connection: &Connection, reason: &str) {
        self.finish_current();
        self.status.update(|s| {
            s.connected = false;
            s.peer = None;
            s.segment = None;
        });
        self.bus.emit(Event::SenderDisconnected {
            peer: connection.peer.to_string(),
            reason: reason.to_string(),
        });
    }

    fn wants_new_segment(&mut self) -> Option<String> {
        let failed = self
            .current
            .as_ref()
            .is_some_and(|c| c.recorder.has_failed());
        if !failed
            || self
                .last_resume_check
                .is_some_and(|t| t.elapsed() < RESUME_CHECK_EVERY)
        {
            return None;
        }
        self.last_resume_check = Some(Instant::now());
        self.has_room()
            .then(|| "there is room again after a failed write".to_string())
    }

    fn segment_changed(&mut self, _old: &Connection, new: &Connection) {
        self.finish_current();
        self.start(new);
    }

    fn tick(&mut self) {
        let current = self
            .current
            .as_ref()
            .and_then(|c| c.recorder.summary())
            .map_or(0, |s| s.bytes_written);
        let total = self.finished_bytes + current;
        self.status.update(|s| s.bytes_written = total);
    }
}

impl Drop for LiveRecorder {
    /// A recorder dropped mid-connection still closes its segment cleanly.
    fn drop(&mut self) {
        if let Some(cur) = self.current.as_ref() {
            let connection = cur.connection.clone();
            self.connection_ended(&connection, "shutdown");
        }
    }
}
