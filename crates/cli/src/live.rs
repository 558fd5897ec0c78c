//! The live pipeline of `cht record`, composed: the ingest drives a fan-out
//! that demuxes each connection once and feeds every stage (relay,
//! recorder, analysis, status reporter) as siblings. Which stages there are
//! is decided in `record.rs`; none of them knows the others.

use cht_core::{Connection, DemuxItem, LiveStage};
use cht_events::{Event, EventBus, StatusBoard, StatusCell};
use cht_ingest::{DisconnectReason, IngestSink, RelayStats, UdpRelay};
use cht_session::Session;
use cht_ts::TsDemuxer;
use serde::Serialize;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// What the input stage reports in the live status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InputStatus {
    /// The session being recorded.
    pub session: String,
    /// Bytes received from senders.
    pub bytes_in: u64,
    /// Over the last rate window.
    pub input_kbps: f64,
    /// Video packets per second over the last rate window.
    pub input_fps: f64,
    /// Continuity errors in the input (lost TS packets).
    pub cc_errors: u64,
}

impl InputStatus {
    /// The input's status for `session`, added to `board` (first, so that
    /// the session is on the board before anything else is).
    pub fn on_board(session: &Session, board: &StatusBoard) -> StatusCell<InputStatus> {
        let status = StatusCell::new(InputStatus {
            session: session.id.to_string(),
            ..InputStatus::default()
        });
        board.add(status.clone());
        status
    }
}

/// One connection being demuxed.
struct Live {
    connection: Connection,
    demuxer: TsDemuxer,
    /// The track list and the track parameters in force (each audio
    /// track's), handed on again when the connection goes on in a new
    /// segment.
    tracks: Option<DemuxItem>,
    video_params: Option<DemuxItem>,
    audio_params: Vec<DemuxItem>,
}

/// Rates are measured over windows of this length.
const RATE_WINDOW: Duration = Duration::from_secs(5);

/// The [`IngestSink`] of `cht record`: numbers each connection with the
/// session's next segment, demuxes it once, and hands every byte and every
/// item to each stage in turn.
pub struct FanOut<'s> {
    session: Session,
    stages: Vec<&'s mut dyn LiveStage>,
    live: Option<Live>,
    items: Vec<DemuxItem>,
    status: StatusCell<InputStatus>,
    /// (bytes, video packets) at the start of the rate window.
    window: (Instant, u64, u64),
    video_units: u64,
    /// Video and audio packets delivered, over all connections.
    packets: u64,
}

impl<'s> FanOut<'s> {
    /// A fan-out for `session`, reporting its counters in `status`.
    pub fn new(session: Session, status: StatusCell<InputStatus>) -> Self {
        FanOut {
            session,
            stages: Vec::new(),
            live: None,
            items: Vec::new(),
            status,
            window: (Instant::now(), 0, 0),
            video_units: 0,
            packets: 0,
        }
    }

    /// Adds a stage; stages are fed in the order they were added.
    pub fn with_stage(mut self, stage: &'s mut dyn LiveStage) -> Self {
        self.stages.push(stage);
        self
    }

    /// Ends the connection in progress, if any (when the ingest stops).
    pub fn finish(&mut self) {
        self.end_connection("shutdown");
    }

    fn start_connection(&mut self, peer: SocketAddr) {
        let segment = match self.session.next_segment_number() {
            Ok(n) => n,
            Err(e) => {
                tracing::error!("cannot start a segment for {peer}: {e}");
                return;
            }
        };
        // Where the segment sits in the session: after the ones on disk.
        let session_start = self
            .session
            .layout()
            .next_segment_start(&mut cht_fmp4::duration_of)
            .unwrap_or_else(|e| {
                tracing::warn!("cannot place segment {segment} in the session ({e}): its session times start at 0");
                0.0
            });
        let connection = Connection {
            segment,
            peer,
            session_start,
        };
        for stage in self.stages.iter_mut() {
            stage.connection_started(&connection);
        }
        self.live = Some(Live {
            connection,
            demuxer: TsDemuxer::new(),
            tracks: None,
            video_params: None,
            audio_params: Vec::new(),
        });
    }

    fn end_connection(&mut self, reason: &str) {
        let Some(mut live) = self.live.take() else {
            return;
        };
        let mut items = std::mem::take(&mut self.items);
        live.demuxer.finish(&mut items);
        self.deliver(&mut items);
        self.items = items;
        report_damage(live.demuxer.stats());
        let cc_errors = live.demuxer.stats().cc_errors;
        self.status.update(|s| s.cc_errors += cc_errors);
        for stage in self.stages.iter_mut() {
            stage.connection_ended(&live.connection, reason);
        }
    }

    fn deliver(&mut self, items: &mut Vec<DemuxItem>) {
        for item in items.drain(..) {
            self.video_units += u64::from(matches!(item, DemuxItem::Video(_)));
            self.packets += u64::from(matches!(item, DemuxItem::Video(_) | DemuxItem::Audio(_)));
            for stage in self.stages.iter_mut() {
                stage.item(&item);
            }
            if let Some(live) = self.live.as_mut() {
                match &item {
                    DemuxItem::Tracks(_) => live.tracks = Some(item),
                    DemuxItem::VideoParams(_) => live.video_params = Some(item),
                    DemuxItem::AudioParams(p) => {
                        let track = p.track;
                        live.audio_params.retain(
                            |a| !matches!(a, DemuxItem::AudioParams(old) if old.track == track),
                        );
                        live.audio_params.push(item);
                    }
                    _ => {}
                }
            }
        }
        self.new_segment_if_asked();
    }

    /// A stage asked to go on in a new segment (the recorder, once it can
    /// write again): every stage ends the current segment and starts the
    /// next, numbered from the session, and gets the track parameters in
    /// force again; the segment starts at the next keyframe.
    fn new_segment_if_asked(&mut self) {
        let Some(reason) = self.stages.iter_mut().find_map(|s| s.wants_new_segment()) else {
            return;
        };
        let Some(live) = self.live.as_mut() else {
            return;
        };
        let segment = match self.session.next_segment_number() {
            Ok(n) => n.max(live.connection.segment.saturating_add(1)),
            Err(e) => {
                tracing::error!("cannot number a new segment: {e}");
                return;
            }
        };
        tracing::info!("going on in segment {segment}: {reason}");
        let old = live.connection.clone();
        live.connection.segment = segment;
        // It follows what the old segment holds (its complete fragments).
        if let Ok(start) = self
            .session
            .layout()
            .next_segment_start(&mut cht_fmp4::duration_of)
        {
            live.connection.session_start = start;
        }
        let new = live.connection.clone();
        let params: Vec<DemuxItem> = [live.tracks.clone(), live.video_params.clone()]
            .into_iter()
            .flatten()
            .chain(live.audio_params.iter().cloned())
            .collect();
        for stage in self.stages.iter_mut() {
            stage.segment_changed(&old, &new);
            for item in &params {
                stage.item(item);
            }
        }
    }

    fn update_rates(&mut self) {
        let (since, bytes_then, units_then) = self.window;
        let secs = since.elapsed().as_secs_f64();
        if secs < RATE_WINDOW.as_secs_f64() {
            return;
        }
        let units = self.video_units;
        self.status.update(|s| {
            s.input_kbps = (s.bytes_in - bytes_then) as f64 * 8.0 / 1000.0 / secs;
            s.input_fps = (units - units_then) as f64 / secs;
            self.window = (Instant::now(), s.bytes_in, units);
        });
    }
}

/// Input damage is logged once per connection, with what it cost.
fn report_damage(demux: &cht_ts::DemuxStats) {
    if demux.skipped_bytes > 0 || demux.cc_errors > 0 || demux.damaged_video_units > 0 {
        tracing::warn!(
            "input damage on this connection: {} garbage bytes skipped ({} resyncs), {} continuity errors, {} damaged video units, {} audio bytes dropped",
            demux.skipped_bytes,
            demux.resyncs,
            demux.cc_errors,
            demux.damaged_video_units,
            demux.dropped_audio_bytes
        );
    }
}

impl IngestSink for FanOut<'_> {
    fn connected(&mut self, peer: SocketAddr) {
        self.end_connection("replaced");
        self.start_connection(peer);
    }

    fn data(&mut self, bytes: &[u8]) {
        let received = bytes.len() as u64;
        self.status.update(|s| s.bytes_in += received);
        let Some(live) = self.live.as_mut() else {
            return;
        };
        for stage in self.stages.iter_mut() {
            stage.data(bytes);
        }
        let mut items = std::mem::take(&mut self.items);
        live.demuxer.push(bytes, &mut items);
        self.deliver(&mut items);
        self.items = items;
    }

    fn disconnected(&mut self, _peer: SocketAddr, reason: &DisconnectReason) {
        let reason = match reason {
            DisconnectReason::Closed => "closed".to_string(),
            DisconnectReason::Idle => "idle".to_string(),
            DisconnectReason::Shutdown => "shutdown".to_string(),
            DisconnectReason::Error(e) => format!("error: {e}"),
        };
        self.end_connection(&reason);
    }

    /// Complete access units and audio frames: bytes alone do not keep a
    /// sender from being dropped as idle.
    fn progress(&self) -> Option<u64> {
        Some(self.packets)
    }

    fn tick(&mut self) {
        self.update_rates();
        for stage in self.stages.iter_mut() {
            stage.tick();
        }
        self.new_segment_if_asked();
    }
}

impl Drop for FanOut<'_> {
    fn drop(&mut self) {
        self.finish();
    }
}

/// The relay as a stage, with its counters on the status board.
pub struct RelayStage {
    relay: UdpRelay,
    status: StatusCell<RelayStatus>,
}

/// What the relay reports in the live status.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RelayStatus {
    /// Datagrams sent and dropped.
    pub relay: RelayStats,
}

impl RelayStage {
    /// The relay, its status on `board`.
    pub fn new(relay: UdpRelay, board: &StatusBoard) -> Self {
        let status = StatusCell::default();
        board.add(status.clone());
        RelayStage { relay, status }
    }

    fn publish(&self) {
        let stats = self.relay.stats();
        self.status.update(|s| s.relay = stats);
    }
}

impl LiveStage for RelayStage {
    fn data(&mut self, bytes: &[u8]) {
        self.relay.data(bytes);
    }

    /// The relay follows the connection, not its segments.
    fn segment_changed(&mut self, _old: &Connection, _new: &Connection) {}

    fn connection_ended(&mut self, connection: &Connection, reason: &str) {
        self.relay.connection_ended(connection, reason);
        self.publish();
    }

    fn tick(&mut self) {
        self.publish();
    }
}

/// Every `every`: the `stats` event with the whole live status (the
/// terminal prints it as one line while a sender is connected:
/// `crate::terminal`).
pub struct StatusReporter {
    board: StatusBoard,
    bus: EventBus,
    every: Duration,
    last: Instant,
}

impl StatusReporter {
    /// A reporter of `board` on `bus`.
    pub fn new(board: StatusBoard, bus: EventBus, every: Duration) -> Self {
        StatusReporter {
            board,
            bus,
            every,
            last: Instant::now(),
        }
    }
}

impl LiveStage for StatusReporter {
    fn tick(&mut self) {
        if self.last.elapsed() < self.every {
            return;
        }
        self.last = Instant::now();
        self.bus
            .emit(Event::Stats(self.board.snapshot().into_value()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cht_session::SessionsDir;
    use std::sync::{Arc, Mutex};

    /// A stage that writes down what it is fed.
    #[derive(Default)]
    struct Log(Arc<Mutex<Vec<String>>>);

    impl LiveStage for Log {
        fn connection_started(&mut self, c: &Connection) {
            self.push(format!("start {}", c.segment));
        }
        fn data(&mut self, bytes: &[u8]) {
            self.push(format!("data {}", bytes.len()));
        }
        fn item(&mut self, item: &DemuxItem) {
            if let DemuxItem::Video(v) = item {
                self.push(format!("video {}", v.pts));
            }
        }
        fn connection_ended(&mut self, c: &Connection, reason: &str) {
            self.push(format!("end {} {reason}", c.segment));
        }
    }

    impl Log {
        fn push(&self, line: String) {
            if let Ok(mut l) = self.0.lock() {
                l.push(line);
            }
        }
    }

    fn stream() -> Vec<u8> {
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/fixtures/av_high.ts"
        ))
        .expect("fixture")
    }

    #[test]
    fn every_stage_sees_every_byte_and_item_of_each_connection() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let session = SessionsDir::new(tmp.path()).create_new().expect("session");
        let board = StatusBoard::new();
        let (mut a, mut b) = (Log::default(), Log::default());
        let (seen_a, seen_b) = (a.0.clone(), b.0.clone());
        let data = stream();
        {
            let input = InputStatus::on_board(&session, &board);
            let mut fan = FanOut::new(session.clone(), input)
                .with_stage(&mut a)
                .with_stage(&mut b);
            let peer: SocketAddr = "127.0.0.1:5000".parse().expect("addr");
            fan.connected(peer);
            for piece in data.chunks(65536) {
                fan.data(piece);
            }
            fan.disconnected(peer, &DisconnectReason::Closed);
            fan.connected(peer);
            fan.data(&data[..1000]);
        }
        let a = seen_a.lock().expect("log").clone();
        assert_eq!(a, *seen_b.lock().expect("log"), "siblings see the same");
        assert_eq!(a.first().map(String::as_str), Some("start 0"));
        let first_end = a.iter().position(|l| l == "end 0 closed");
        let first = &a[..first_end.expect("the first connection ended")];
        assert_eq!(first.iter().filter(|l| l.starts_with("video")).count(), 300);
        let data_lines = first.iter().filter(|l| l.starts_with("data")).count();
        assert_eq!(data_lines, data.len().div_ceil(65536));
        assert_eq!(a.last().map(String::as_str), Some("end 0 shutdown"));
        let status = board.snapshot();
        assert_eq!(
            status.get("bytes_in").and_then(serde_json::Value::as_u64),
            Some(data.len() as u64 + 1000)
        );
        let line = crate::terminal::status_line(&status.into_value());
        assert!(line.contains(" in ("), "{line}");
    }
}
