//! The event bus: every stage emits, any number of subscribers listen.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::event::{Event, EventRecord, WarningKind};

/// Events kept for clients that come back ([`EventBus::after`]).
pub const DEFAULT_REPLAY: usize = 2048;

/// Fans events out to subscribers (stdout printer, hooks, tests), and keeps
/// the last events, numbered, for clients that read them by id (the SSE
/// stream of the HTTP API, which resumes after a reconnect where it
/// stopped). Emitting never blocks: a subscriber that does not keep up
/// loses events (counted in its [`Subscription::missed`]) rather than
/// slowing cht, and only the last [`DEFAULT_REPLAY`] events are kept.
#[derive(Clone)]
pub struct EventBus {
    shared: Arc<Mutex<Shared>>,
    run: Arc<str>,
}

struct Shared {
    subscribers: Vec<SubscriberSlot>,
    /// The last events, oldest first, numbered without gaps.
    replay: VecDeque<Arc<EventRecord>>,
    replay_len: usize,
    /// The number of the last event emitted (0: none yet).
    last_seq: u64,
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

/// Where an event is in the stream: the bus's run (one per process) and its
/// number there. As text (an SSE `id:`), `<run>-<seq>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventId {
    /// The bus it comes from (different in every run of cht).
    pub run: String,
    /// Its number on that bus, from 1, without gaps.
    pub seq: u64,
}

impl EventId {
    /// Parses `<run>-<seq>`; `None` for anything else.
    pub fn parse(text: &str) -> Option<EventId> {
        let (run, seq) = text.trim().rsplit_once('-')?;
        let valid_run =
            !run.is_empty() && run.len() <= 32 && run.bytes().all(|b| b.is_ascii_alphanumeric());
        valid_run.then_some(())?;
        Some(EventId {
            run: run.to_string(),
            seq: seq.parse().ok()?,
        })
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.run, self.seq)
    }
}

/// The events after a given one, as far as the bus still has them.
#[derive(Debug, Default)]
pub struct Replay {
    /// The events, oldest first.
    pub events: Vec<Arc<EventRecord>>,
    /// Events that came after the given one but are no longer kept (the
    /// reader is too far behind); `None` when the given id is from another
    /// run, so that how many were missed is unknown.
    pub missed: Option<u64>,
    /// The number of the last event returned (or the given one, when none
    /// is): where to read on from.
    pub last_seq: u64,
}

impl Default for EventBus {
    fn default() -> Self {
        Self::with_replay(DEFAULT_REPLAY)
    }
}

impl EventBus {
    /// A bus nobody listens to yet, keeping the last [`DEFAULT_REPLAY`] events.
    pub fn new() -> Self {
        Self::default()
    }

    /// A bus keeping the last `len` events for [`EventBus::after`].
    pub fn with_replay(len: usize) -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        // Different in every run, so that an id of a run before is told apart.
        let run = format!(
            "{:x}",
            (nanos as u64) ^ (u64::from(std::process::id()) << 40)
        );
        EventBus {
            shared: Arc::new(Mutex::new(Shared {
                subscribers: Vec::new(),
                replay: VecDeque::with_capacity(len.min(DEFAULT_REPLAY)),
                replay_len: len.max(1),
                last_seq: 0,
            })),
            run: run.into(),
        }
    }

    /// This bus's run, the first part of every [`EventId`] it gives.
    pub fn run(&self) -> &str {
        &self.run
    }

    /// The id of the last event emitted so far (`<run>-0` before any).
    pub fn last_id(&self) -> EventId {
        EventId {
            run: self.run.to_string(),
            seq: self.shared.lock().map_or(0, |s| s.last_seq),
        }
    }

    /// The id of an event of this bus.
    pub fn id_of(&self, record: &EventRecord) -> EventId {
        EventId {
            run: self.run.to_string(),
            seq: record.seq,
        }
    }

    /// Listens to every event from now on; at most `capacity` wait unread.
    pub fn subscribe(&self, capacity: usize) -> Subscription {
        let (tx, events) = sync_channel(capacity.max(1));
        let missed = Arc::new(AtomicU64::new(0));
        if let Ok(mut shared) = self.shared.lock() {
            shared.subscribers.push(SubscriberSlot {
                tx,
                missed: missed.clone(),
            });
        }
        Subscription { events, missed }
    }

    /// The events after `id` still kept, `max` at most. An id of another
    /// run (cht was restarted) gives every event kept, with `missed: None`.
    pub fn after(&self, id: &EventId, max: usize) -> Replay {
        let Ok(shared) = self.shared.lock() else {
            return Replay::default();
        };
        let oldest = shared.replay.front().map_or(shared.last_seq + 1, |r| r.seq);
        let (from, missed) = if id.run != *self.run {
            (oldest, None)
        } else if id.seq + 1 < oldest {
            (oldest, Some(oldest - id.seq - 1))
        } else {
            // An id from the future reads on from now.
            ((id.seq + 1).min(shared.last_seq + 1), Some(0))
        };
        let skip = usize::try_from(from - oldest).unwrap_or(usize::MAX);
        let events: Vec<Arc<EventRecord>> =
            shared.replay.iter().skip(skip).take(max).cloned().collect();
        let last_seq = events.last().map_or(from - 1, |r| r.seq);
        Replay {
            events,
            missed,
            last_seq,
        }
    }

    /// Hands `event`, stamped with the time and its number, to every
    /// subscriber, and keeps it for [`EventBus::after`].
    pub fn emit(&self, event: Event) {
        let time = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0.0, |d| d.as_secs_f64());
        let Ok(mut shared) = self.shared.lock() else {
            return;
        };
        shared.last_seq += 1;
        let record = Arc::new(EventRecord {
            time,
            event,
            seq: shared.last_seq,
        });
        if shared.replay.len() >= shared.replay_len {
            shared.replay.pop_front();
        }
        shared.replay.push_back(record.clone());
        shared
            .subscribers
            .retain(|s| match s.tx.try_send(record.clone()) {
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
        assert!(json.get("seq").is_none(), "the number is not in the JSON");
        drop(fast);
        bus.warn(WarningKind::FrameLost, "y");
        assert_eq!(
            bus.shared.lock().map(|s| s.subscribers.len()).unwrap_or(0),
            1,
            "closed subscribers are dropped"
        );
    }

    fn messages(replay: &Replay) -> Vec<String> {
        replay
            .events
            .iter()
            .map(|r| match &r.event {
                Event::Warning { message, .. } => message.clone(),
                _ => String::new(),
            })
            .collect()
    }

    #[test]
    fn readers_resume_after_an_id_until_they_fall_out_of_the_window() {
        let bus = EventBus::with_replay(4);
        let start = bus.last_id();
        assert_eq!(start.seq, 0);
        for i in 1..=3 {
            bus.warn(WarningKind::FrameLost, format!("{i}"));
        }
        let all = bus.after(&start, 100);
        assert_eq!(messages(&all), ["1", "2", "3"]);
        assert_eq!((all.missed, all.last_seq), (Some(0), 3));
        let id = bus.id_of(&all.events[1]);
        assert_eq!(id.to_string(), format!("{}-2", bus.run()));
        assert_eq!(EventId::parse(&id.to_string()), Some(id.clone()));
        let rest = bus.after(&id, 100);
        assert_eq!(messages(&rest), ["3"]);
        let first_only = bus.after(&start, 1);
        assert_eq!(
            (messages(&first_only), first_only.last_seq),
            (vec!["1".to_string()], 1)
        );
        let none = bus.after(&bus.last_id(), 100);
        assert!(none.events.is_empty());
        assert_eq!(none.last_seq, 3, "nothing new: read on from the same place");

        for i in 4..=9 {
            bus.warn(WarningKind::FrameLost, format!("{i}"));
        }
        let behind = bus.after(&id, 100);
        assert_eq!(messages(&behind), ["6", "7", "8", "9"]);
        assert_eq!(behind.missed, Some(3), "3, 4 and 5 are gone");

        let other_run = EventId {
            run: "0ther".into(),
            seq: 2,
        };
        let restarted = bus.after(&other_run, 100);
        assert_eq!(messages(&restarted), ["6", "7", "8", "9"]);
        assert_eq!((restarted.missed, restarted.last_seq), (None, 9));
        for bad in ["", "12", "-3", "a-b", "a b-3", "x-"] {
            assert_eq!(EventId::parse(bad), None, "{bad:?}");
        }
    }
}
