//! What cht tells people and agents as it works: one JSON object per event.

use cht_frames::FrameEntry;
use serde::Serialize;
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

/// Events, serialized as `{"event":"frame",...}`.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    SenderConnected {
        peer: String,
    },
    SenderDisconnected {
        peer: String,
        reason: String,
    },
    SegmentStarted {
        segment: u32,
        path: String,
    },
    SegmentFinished {
        segment: u32,
        path: String,
        duration: f64,
        video_samples: u64,
        audio_samples: u64,
    },
    /// A frame written to `frames/` (the `index.json` entry).
    Frame {
        #[serde(flatten)]
        entry: FrameEntry,
        /// From the access unit's arrival to the index update, live only.
        #[serde(skip_serializing_if = "Option::is_none")]
        latency_ms: Option<f64>,
    },
    AudioChunk {
        id: String,
        path: String,
        start: f64,
        duration: f64,
        segment: u32,
    },
    Transcript {
        id: String,
        path: String,
        chunk: String,
    },
    Warning {
        kind: String,
        message: String,
    },
    Stats(serde_json::Value),
}

/// An event with the wall-clock time it happened.
#[derive(Debug, Clone, Serialize)]
pub struct EventRecord {
    /// Seconds since the Unix epoch.
    pub time: f64,
    #[serde(flatten)]
    pub event: Event,
}

impl EventRecord {
    pub fn to_json(&self) -> String {
        serde_json::to_string(self)
            .unwrap_or_else(|e| format!("{{\"event\":\"warning\",\"message\":\"{e}\"}}"))
    }
}

/// Fans events out to subscribers (stdout printer, SSE clients, tests).
/// Emitting never blocks: a subscriber that does not keep up loses events
/// (counted in its [`Subscription::missed`]) rather than slowing cht.
#[derive(Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<SubscriberSlot>>>,
}

struct SubscriberSlot {
    tx: SyncSender<Arc<EventRecord>>,
    missed: Arc<std::sync::atomic::AtomicU64>,
}

pub struct Subscription {
    pub events: Receiver<Arc<EventRecord>>,
    missed: Arc<std::sync::atomic::AtomicU64>,
}

impl Subscription {
    pub fn missed(&self) -> u64 {
        self.missed.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl EventBus {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let (tx, events) = sync_channel(capacity.max(1));
        let missed = Arc::new(std::sync::atomic::AtomicU64::new(0));
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(SubscriberSlot {
                tx,
                missed: missed.clone(),
            });
        }
        Subscription { events, missed }
    }

    pub fn emit(&self, event: Event) {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let record = Arc::new(EventRecord { time, event });
        let Ok(mut subs) = self.subscribers.lock() else {
            return;
        };
        subs.retain(|s| match s.tx.try_send(record.clone()) {
            Ok(()) => true,
            Err(TrySendError::Full(_)) => {
                s.missed.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    pub fn warn(&self, kind: &str, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!("{kind}: {message}");
        self.emit(Event::Warning {
            kind: kind.to_string(),
            message,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_reach_every_subscriber_and_slow_ones_lose_not_block() {
        let bus = EventBus::new();
        let fast = bus.subscribe(100);
        let slow = bus.subscribe(1);
        for i in 0..3 {
            bus.emit(Event::Warning {
                kind: "test".into(),
                message: format!("{i}"),
            });
        }
        let got: Vec<_> = fast.events.try_iter().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(slow.events.try_iter().count(), 1);
        assert_eq!(slow.missed(), 2);
        let json: serde_json::Value = serde_json::from_str(&got[0].to_json()).unwrap();
        assert_eq!(json["event"], "warning");
        assert_eq!(json["message"], "0");
        assert!(json["time"].as_f64().unwrap() > 1.6e9);
        drop(fast);
        bus.emit(Event::Warning {
            kind: "x".into(),
            message: "y".into(),
        });
        assert_eq!(
            bus.subscribers.lock().unwrap().len(),
            1,
            "closed subscribers are dropped"
        );
    }
}
