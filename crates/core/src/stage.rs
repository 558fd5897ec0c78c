//! The stages of the live pipeline as the fan-out drives them: socket →
//! demux → {relay, recorder, analysis, ...}, siblings that each get every
//! byte and every item, and none of which knows the others.

use std::net::SocketAddr;

use crate::item::DemuxItem;

/// One sender's connection, recorded as one segment.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    /// The segment it is recorded into (`recording_NNN.mp4`), also the
    /// `segment` of its frames and audio chunks.
    pub segment: u32,
    /// The sender.
    pub peer: SocketAddr,
    /// Where the segment begins on the session's timeline, seconds (the
    /// sum of the durations of the segments before it): the session time of
    /// its time 0.
    pub session_start: f64,
}

/// A stage of the live pipeline. The fan-out calls, per connection:
/// `connection_started`, then for each read from the socket `data` (the
/// bytes as received) followed by `item` for every item the demuxer made of
/// them, then `connection_ended`; and `tick` at least every 100 ms.
///
/// Every method has a no-op default: a stage implements what it uses. A
/// stage must not block: every other stage, and the socket, wait for it.
pub trait LiveStage {
    /// A sender connected.
    fn connection_started(&mut self, _connection: &Connection) {}
    /// Bytes as read from the socket, split anywhere (the relay's input).
    fn data(&mut self, _bytes: &[u8]) {}
    /// One demuxed item, in arrival order.
    fn item(&mut self, _item: &DemuxItem) {}
    /// The connection ended (`closed`, `idle`, `shutdown`, `replaced`,
    /// `error: ...`); the demuxer's last items came before.
    fn connection_ended(&mut self, _connection: &Connection, _reason: &str) {}
    /// Housekeeping, with or without data.
    fn tick(&mut self) {}
    /// Asked after each batch of items and each tick: `Some(reason)` asks
    /// the fan-out to go on in a new segment now (the recorder, once it can
    /// write again after a failed write).
    fn wants_new_segment(&mut self) -> Option<String> {
        None
    }
    /// The connection goes on in a new segment (`new.segment`), as a stage
    /// asked. By default the old segment ends and the new one starts as if
    /// the sender had reconnected; the fan-out then hands on the track
    /// parameters in force again, so the new segment can start at the next
    /// keyframe.
    fn segment_changed(&mut self, old: &Connection, new: &Connection) {
        self.connection_ended(old, "new segment");
        self.connection_started(new);
    }
}
