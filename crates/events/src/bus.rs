//! The event bus: every stage emits, any number of subscribers listen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::{Event, EventRecord, WarningKind};

/// Fans events out to subscribers (stdout printer, SSE clients, hooks,
/// tests). Emitting never blocks: a subscriber that does not keep up loses
/// events (counted in its [`Subscription::missed`]) rather than slowing cht.
#[derive(Clone, Default)]
pub struct EventBus {
    subscribers: Arc<Mutex<Vec<SubscriberSlot>>>,
}

struct SubscriberSlot {
    tx: SyncSender<Arc<EventRecord>>,
    missed: Arc<AtomicU64>,
}

/// One subscriber's end of the bus.
pub struct Subscription {
    /// The events, in the order they were emitted.
    pub events: Receiver<Arc<EventRecord>>,
    missed: Arc<AtomicU64>,
}

impl Subscription {
    /// Events dropped because this subscriber's queue was full.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
}

impl EventBus {
    /// A bus nobody listens to yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Listens to every event from now on; at most `capacity` wait unread.
    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let (tx, events) = sync_channel(capacity.max(1));
        let missed = Arc::new(AtomicU64::new(0));
        if let Ok(mut subs) = self.subscribers.lock() {
            subs.push(SubscriberSlot {
                tx,
                missed: missed.clone(),
            });
        }
        Subscription { events, missed }
    }

    /// Hands `event`, stamped with the time, to every subscriber.
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
                s.missed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(TrySendError::Disconnected(_)) => false,
        });
    }

    /// Logs a warning and emits it as an [`Event::Warning`].
    pub fn warn(&self, kind: WarningKind, message: impl Into<String>) {
        let message = message.into();
        tracing::warn!("{kind}: {message}");
        self.emit(Event::Warning { kind, message });
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
            bus.warn(WarningKind::FrameLost, format!("{i}"));
        }
        let got: Vec<_> = fast.events.try_iter().collect();
        assert_eq!(got.len(), 3);
        assert_eq!(slow.events.try_iter().count(), 1);
        assert_eq!(slow.missed(), 2);
        let json: serde_json::Value =
            serde_json::from_str(&got[0].to_json()).expect("one JSON object");
        assert_eq!(json["event"], "warning");
        assert_eq!(json["kind"], "frame_lost");
        assert_eq!(json["message"], "0");
        assert!(json["time"].as_f64().is_some_and(|t| t > 1.6e9));
        drop(fast);
        bus.warn(WarningKind::FrameLost, "y");
        assert_eq!(
            bus.subscribers.lock().map(|s| s.len()).unwrap_or(0),
            1,
            "closed subscribers are dropped"
        );
    }
}
