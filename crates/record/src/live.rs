//! Live recording: the ingest drives a demuxer, the relay and one segment
//! per sender connection.

use crate::{RecordError, SegmentOptions, SegmentRecorder};
use cht_events::{Event, EventBus, WarningKind};
use cht_fmp4::SegmentSummary;
use cht_ingest::{DisconnectReason, IngestSink, UdpRelay};
use cht_session::Session;
use cht_ts::{DemuxItem, TsDemuxer};
use serde::Serialize;
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant};

/// Receives every demuxed item of a live recording, after the recorder has
/// written it, and the life of each connection. Used to feed analysis and
/// events; every method has a no-op default. Implementations must not block:
/// the recording waits for them.
///
/// Order per connection: `connection_started`, then `item`s (some before
/// `segment_started`, which comes once the file exists), then
/// `segment_finished` (with `None` when nothing playable arrived), then
/// `connection_ended`.
pub trait ItemTap {
    fn connection_started(&mut self, _segment: u32, _peer: SocketAddr) {}
    fn segment_started(&mut self, _segment: u32, _path: &Path) {}
    fn item(&mut self, _segment: u32, _item: &DemuxItem) {}
    fn segment_finished(&mut self, _segment: u32, _path: &Path, _summary: Option<&SegmentSummary>) {
    }
    fn connection_ended(&mut self, _segment: u32, _peer: SocketAddr, _reason: &str) {}
    /// Called at least every 100 ms with the recording's totals so far.
    fn tick(&mut self, _stats: &LiveStats) {}
}

#[derive(Debug, Clone, Default)]
pub struct LiveOptions {
    pub segment: SegmentOptions,
    /// Periodic stats in the log.
    pub stats_every: Option<Duration>,
}

/// Totals over the whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LiveStats {
    pub connections: u64,
    pub refused: u64,
    pub bytes_in: u64,
    pub segments: u64,
    pub video_units: u64,
    pub audio_frames: u64,
    pub cc_errors: u64,
    pub write_errors: u64,
    /// Bytes in segment files, the one being written included.
    pub bytes_written: u64,
}

struct Current {
    number: u32,
    peer: SocketAddr,
    demuxer: TsDemuxer,
    recorder: SegmentRecorder,
    started_logged: bool,
}

/// An [`IngestSink`] that records every connection into the next segment of
/// a session and relays the raw bytes.
pub struct LiveRecorder<'t> {
    session: Session,
    opts: LiveOptions,
    /// Where the recorder reports its own life: senders and segments.
    bus: EventBus,
    relay: Option<UdpRelay>,
    tap: Option<&'t mut dyn ItemTap>,
    current: Option<Current>,
    stats: LiveStats,
    last_stats: Instant,
    last_warning: Option<Instant>,
    suppressed: u64,
}

impl<'t> LiveRecorder<'t> {
    pub fn new(
        session: Session,
        opts: LiveOptions,
        relay: Option<UdpRelay>,
        bus: EventBus,
    ) -> Self {
        LiveRecorder {
            session,
            opts,
            bus,
            relay,
            tap: None,
            current: None,
            stats: LiveStats::default(),
            last_stats: Instant::now(),
            last_warning: None,
            suppressed: 0,
        }
    }

    pub fn with_tap(mut self, tap: &'t mut dyn ItemTap) -> Self {
        self.tap = Some(tap);
        self
    }

    pub fn stats(&self) -> &LiveStats {
        &self.stats
    }

    fn open_segment(&mut self, peer: SocketAddr) -> Result<(), RecordError> {
        let number = self.session.next_segment_number()?;
        let recorder = SegmentRecorder::new(self.session.segment_path(number), self.opts.segment);
        self.current = Some(Current {
            number,
            peer,
            demuxer: TsDemuxer::new(),
            recorder,
            started_logged: false,
        });
        self.bus.emit(Event::SenderConnected {
            peer: peer.to_string(),
        });
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.connection_started(number, peer);
        }
        Ok(())
    }

    fn close_segment(&mut self, reason: &str) {
        let Some(mut cur) = self.current.take() else {
            return;
        };
        let mut items = Vec::new();
        cur.demuxer.finish(&mut items);
        for item in &items {
            self.record(&mut cur, item);
        }
        let demux = cur.demuxer.stats().clone();
        self.stats.cc_errors += demux.cc_errors;
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
        let path = cur.recorder.path().to_path_buf();
        let finished = cur.recorder.finish();
        let summary = match &finished {
            Ok(Some((summary, _))) => Some(summary.clone()),
            _ => None,
        };
        match finished {
            Ok(Some((summary, stats))) => {
                self.stats.segments += 1;
                self.stats.bytes_written += summary.bytes_written;
                self.bus.emit(Event::SegmentFinished {
                    segment: cur.number,
                    path: path.display().to_string(),
                    duration: summary.duration_seconds,
                    video_samples: summary.video_samples,
                    audio_samples: summary.audio_samples,
                    bytes: summary.bytes_written,
                });
                tracing::info!(
                    "segment {} finished: {:.1} s, {} video + {} audio samples, {} fragments; demux {:?}; recorder {:?}",
                    path.display(),
                    summary.duration_seconds,
                    summary.video_samples,
                    summary.audio_samples,
                    summary.fragments,
                    demux,
                    stats
                );
            }
            Ok(None) => {
                tracing::warn!("connection ended before any playable media: no segment written")
            }
            Err(e) => {
                self.stats.write_errors += 1;
                tracing::error!("finishing {}: {e}", path.display());
                self.bus.emit(Event::Warning {
                    kind: WarningKind::RecordingFailed,
                    message: format!("finishing {}: {e}", path.display()),
                });
            }
        }
        self.bus.emit(Event::SenderDisconnected {
            peer: cur.peer.to_string(),
            reason: reason.to_string(),
        });
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.segment_finished(cur.number, &path, summary.as_ref());
            tap.connection_ended(cur.number, cur.peer, reason);
        }
    }

    /// Damage comes in bursts: one line per second at most, with a count.
    fn warn_limited(&mut self, what: String) {
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

    fn record(&mut self, cur: &mut Current, item: &DemuxItem) {
        match item {
            DemuxItem::Video(_) => self.stats.video_units += 1,
            DemuxItem::Audio(_) => self.stats.audio_frames += 1,
            DemuxItem::Discontinuity(d) => {
                let what = format!("{:?} on PID {:#x}", d.kind, d.pid);
                self.bus.emit(Event::Warning {
                    kind: WarningKind::Discontinuity,
                    message: what.clone(),
                });
                self.warn_limited(what)
            }
            _ => {}
        }
        if let Err(e) = cur.recorder.push(item) {
            self.stats.write_errors += 1;
            let message = format!("{e}: the rest of this connection is not recorded");
            tracing::error!("{message}");
            self.bus.emit(Event::Warning {
                kind: WarningKind::RecordingFailed,
                message,
            });
        }
        if !cur.started_logged && cur.recorder.is_started() {
            cur.started_logged = true;
            self.bus.emit(Event::SegmentStarted {
                segment: cur.number,
                path: cur.recorder.path().display().to_string(),
            });
            if let Some(tap) = self.tap.as_deref_mut() {
                tap.segment_started(cur.number, cur.recorder.path());
            }
        }
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.item(cur.number, item);
        }
    }
}

impl IngestSink for LiveRecorder<'_> {
    fn connected(&mut self, peer: SocketAddr) {
        self.stats.connections += 1;
        self.close_segment("replaced");
        if let Err(e) = self.open_segment(peer) {
            tracing::error!("cannot start a segment for {peer}: {e}");
        }
    }

    fn data(&mut self, bytes: &[u8]) {
        self.stats.bytes_in += bytes.len() as u64;
        if let Some(relay) = self.relay.as_mut() {
            relay.send(bytes);
        }
        let Some(mut cur) = self.current.take() else {
            return;
        };
        let mut items = Vec::new();
        cur.demuxer.push(bytes, &mut items);
        for item in &items {
            self.record(&mut cur, item);
        }
        self.current = Some(cur);
    }

    fn disconnected(&mut self, _peer: SocketAddr, reason: &DisconnectReason) {
        if let Some(relay) = self.relay.as_mut() {
            relay.flush();
        }
        let reason = match reason {
            DisconnectReason::Closed => "closed".to_string(),
            DisconnectReason::Idle => "idle".to_string(),
            DisconnectReason::Shutdown => "shutdown".to_string(),
            DisconnectReason::Error(e) => format!("error: {e}"),
        };
        self.close_segment(&reason);
    }

    fn refused(&mut self, _peer: SocketAddr) {
        self.stats.refused += 1;
    }

    /// Complete access units and audio frames: bytes alone do not keep a
    /// sender from being dropped as idle.
    fn progress(&self) -> Option<u64> {
        Some(self.stats.video_units + self.stats.audio_frames)
    }

    fn tick(&mut self) {
        let current = self
            .current
            .as_ref()
            .and_then(|c| c.recorder.summary())
            .map_or(0, |s| s.bytes_written);
        let mut snapshot = self.stats.clone();
        snapshot.bytes_written += current;
        if let Some(tap) = self.tap.as_deref_mut() {
            tap.tick(&snapshot);
        }
        let Some(every) = self.opts.stats_every else {
            return;
        };
        // Nothing to say while no sender is connected.
        if self.last_stats.elapsed() >= every && self.current.is_some() {
            self.last_stats = Instant::now();
            let relay = self.relay.as_ref().map(|r| r.stats());
            tracing::info!("stats: {:?}; relay {:?}", self.stats, relay);
        }
    }
}

impl Drop for LiveRecorder<'_> {
    fn drop(&mut self) {
        self.close_segment("shutdown");
    }
}
