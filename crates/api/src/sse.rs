//! `GET /events`: the live events as Server-Sent Events, each with an `id:`.
//!
//! The stream reads the bus's numbered window of recent events
//! ([`cht_events::EventBus::after`]) rather than a queue of its own: a client
//! that reconnects with `Last-Event-ID` (browsers' `EventSource` does it by
//! itself) gets every event after that one, without loss or repeat, as long
//! as the bus still keeps it (the last [`cht_events::DEFAULT_REPLAY`]
//! events). A client further behind, or one whose id is from an earlier run
//! of cht, first gets an `events_lost` event saying how many it missed
//! (`null`: unknown), then every event kept. Pictures are never lost with
//! events: `GET /sessions/{id}/frames?unsent=true` lists them.

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use cht_events::{EventBus, EventId, EventRecord};
use futures_util::Stream;
use serde_json::json;
use tokio::sync::watch;

use crate::error::ApiError;
use crate::routes::ApiState;

/// How often an idle stream looks for new events on the bus.
const POLL: Duration = Duration::from_millis(50);
const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// Events taken from the bus at a time.
const BATCH: usize = 256;

pub(crate) async fn events(
    State(state): State<ApiState>,
    headers: HeaderMap,
) -> Result<Sse<impl Stream<Item = Result<SseEvent, Infallible>>>, ApiError> {
    let bus = state.live()?.1.bus().clone();
    let resume = match headers.get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(EventId::parse)
                .ok_or_else(|| {
                    ApiError::bad_request(
                        "Last-Event-ID is not an event id of this API (they look like 18c0f2a9d3e-42)",
                    )
                })?,
        ),
        None => None,
    };
    let feed = Feed {
        last: resume.unwrap_or_else(|| bus.last_id()),
        bus,
        shutdown: state.shutdown.clone(),
        ready: VecDeque::new(),
        ended: false,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        let event = feed.next().await?;
        Some((Ok(event), feed))
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// One client's place in the stream.
struct Feed {
    bus: EventBus,
    /// The last event handed to the client.
    last: EventId,
    shutdown: watch::Receiver<bool>,
    ready: VecDeque<SseEvent>,
    /// Shutdown came and the last events were taken.
    ended: bool,
}

impl Feed {
    /// The next event; at shutdown, what the bus already has is still
    /// delivered, then the stream ends.
    async fn next(&mut self) -> Option<SseEvent> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(event);
            }
            if self.ended {
                return None;
            }
            let stopping = *self.shutdown.borrow();
            self.fill();
            if stopping {
                self.ended = true;
                continue;
            }
            if !self.ready.is_empty() {
                continue;
            }
            let mut shutdown = self.shutdown.clone();
            tokio::select! {
                () = tokio::time::sleep(POLL) => {}
                _ = shutdown.wait_for(|stopping| *stopping) => {}
            }
        }
    }

    /// Takes the events after the last one from the bus.
    fn fill(&mut self) {
        let replay = self.bus.after(&self.last, BATCH);
        if replay.missed != Some(0) {
            let resumed_at = replay.events.first().map_or(replay.last_seq, |r| r.seq - 1);
            self.ready
                .push_back(lost(&self.bus, replay.missed, resumed_at));
        }
        for record in &replay.events {
            self.ready.push_back(sse_event(&self.bus, record));
        }
        self.last = EventId {
            run: self.bus.run().to_string(),
            seq: replay.last_seq,
        };
    }
}

/// `event:` is the event's kind, `data:` the same JSON as `--events json`,
/// `id:` its place in the stream.
fn sse_event(bus: &EventBus, record: &Arc<EventRecord>) -> SseEvent {
    SseEvent::default()
        .id(bus.id_of(record).to_string())
        .event(record.event.kind())
        .data(record.to_json())
}

/// Tells a client it missed events; its id is just before the events that
/// follow, so that a reconnect right after it does not report them again.
fn lost(bus: &EventBus, missed: Option<u64>, resumed_at: u64) -> SseEvent {
    let message = match missed {
        Some(n) => format!("{n} events were missed (the client was too far behind); pictures are all listed by GET /sessions/{{id}}/frames"),
        None => "the last event id is from an earlier run of cht: events in between are unknown; pictures are all listed by GET /sessions/{id}/frames".to_string(),
    };
    let data = json!({
        "event": "events_lost",
        "missed": missed,
        "message": message,
    });
    SseEvent::default()
        .id(EventId {
            run: bus.run().to_string(),
            seq: resumed_at,
        }
        .to_string())
        .event("events_lost")
        .data(data.to_string())
}
