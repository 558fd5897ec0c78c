//! Live recording: one segment per sender connection, as a stage of the
//! live pipeline.

use crate::{FinishedSegment, SegmentOptions, SegmentRecorder};
use cht_core::{Connection, DemuxItem, LiveStage};
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
    /// Writes that failed (the rest of that connection is not recorded).
    pub write_errors: u64,
}

struct Current {
    connection: Connection,
    recorder: SegmentRecorder,
    started: bool,
    /// What was named as not recorded on this connection (said once).
    named: Vec<String>,
}

/// Records every connection into the next segment of a session: a
/// [`LiveStage`] fed by the fan-out. It reports its own life on the bus
/// (`sender_connected`, `segment_started`, `segment_finished`,
/// `sender_disconnected`, discontinuity and recording warnings) and its
/// counters in a [`RecorderStatus`].
pub struct LiveRecorder {
    session: Session,
    opts: SegmentOptions,
    bus: EventBus,
    status: StatusCell<RecorderStatus>,
    current: Option<Current>,
    /// Bytes of the finished segments.
    finished_bytes: u64,
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
        self.status.update(|s| s.write_errors += 1);
        self.bus.emit(Event::Warning {
            kind: WarningKind::RecordingFailed,
            message,
        });
    }

    fn finish_segment(&mut self, cur: Current) {
        let path = cur.recorder.path().to_path_buf();
        match cur.recorder.finish() {
            Ok(Some(FinishedSegment { summary, stats })) => {
                tracing::info!(
                    "segment {} finished: {:.1} s, {} video + {} audio samples, {} fragments; {}",
                    path.display(),
                    summary.duration_seconds,
                    summary.video_samples,
                    summary.audio_samples,
                    summary.fragments,
                    stats
                );
                self.segment_finished(cur.connection.segment, &path, &summary);
            }
            Ok(None) => {
                tracing::warn!("connection ended before any playable media: no segment written")
            }
            Err(e) => self.report_failure(format!("finishing {}: {e}", path.display())),
        }
    }

    /// Lists the new segment in `stream/index.json` with its place in the
    /// session, so that readers place it as the analysis did.
    fn list_segment(&self, connection: &Connection, path: &Path) {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let entry = SegmentEntry {
            segment: connection.segment,
            path: format!("{STREAM_DIR}/{name}"),
            start: connection.session_start,
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
}

impl LiveStage for LiveRecorder {
    fn connection_started(&mut self, connection: &Connection) {
        if let Some(cur) = self.current.take() {
            self.finish_segment(cur);
        }
        let path = self.session.segment_path(connection.segment);
        self.current = Some(Current {
            connection: connection.clone(),
            recorder: SegmentRecorder::new(path, self.opts),
            started: false,
            named: Vec::new(),
        });
        let (peer, segment) = (connection.peer.to_string(), connection.segment);
        self.status.update(|s| {
            s.connected = true;
            s.peer = Some(peer.clone());
            s.segment = Some(segment);
        });
        self.bus.emit(Event::SenderConnected { peer });
    }

    fn item(&mut self, item: &DemuxItem) {
        if let DemuxItem::Discontinuity(d) = item {
            let what = format!("{:?} on PID {:#x}", d.kind, d.pid);
            self.bus.emit(Event::Warning {
                kind: WarningKind::Discontinuity,
                message: what.clone(),
            });
            self.warn_limited(&what);
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let mut notices = cur.recorder.take_notices();
        if let DemuxItem::Tracks(list) = item {
            notices.extend(list.ignored.iter().map(|s| s.to_string()));
        }
        let pushed = cur.recorder.push(item);
        notices.extend(cur.recorder.take_notices());
        notices.retain(|n| !cur.named.contains(n));
        cur.named.extend(notices.iter().cloned());
        for notice in notices {
            self.bus.warn(WarningKind::TrackNotRecorded, notice);
        }
        let Some(cur) = self.current.as_mut() else {
            return;
        };
        let started_now = !cur.started && cur.recorder.is_started();
        cur.started |= started_now;
        let connection = cur.connection.clone();
        let path = cur.recorder.path().to_path_buf();
        if let Err(e) = pushed {
            self.report_failure(format!("{e}: the rest of this connection is not recorded"));
        }
        if started_now {
            self.list_segment(&connection, &path);
            self.bus.emit(Event::SegmentStarted {
                segment: connection.segment,
                path: path.display().to_string(),
                start: connection.session_start,
            });
        }
    }

    fn connection_ended(&mut self, connection: &Connection, reason: &str) {
        if let Some(cur) = self.current.take() {
            self.finish_segment(cur);
        }
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
        if let Some(cur) = self.current.take() {
            let connection = cur.connection.clone();
            self.finish_segment(cur);
            self.connection_ended(&connection, "shutdown");
        }
    }
}
