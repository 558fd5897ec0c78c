//! What cht tells people and agents as it works: the event vocabulary
//! ([`Event`]), the bus every stage emits on ([`EventBus`]) and the live
//! status each stage publishes ([`StatusBoard`]).
//!
//! Each stage emits its own events: the recorder the sender and segment
//! lifecycle, the analysis frames, chunks and transcripts, every stage its
//! warnings. Subscribers (`cht record --events json` on stdout, the control
//! API's `GET /events`, `--on-frame` and `--on-segment`) see one stream.
//! Emitting never blocks the pipeline: a subscriber that falls behind loses
//! events and is told how many.
//!
//! Not here: producing any of it (the stages do), transport (the CLI prints
//! lines and serves Server-Sent Events).
//!
//! # Messages
//!
//! Every message is one JSON object on one line with `time` (seconds since
//! the Unix epoch) and `event` (its kind); the other fields depend on the
//! kind. Fields may be added; none is removed or changes meaning. The
//! examples below are checked by `cargo test`.
//!
//! ### `sender_connected`
//! A sender connected; a segment will follow once playable media arrives.
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::SenderConnected { peer: "127.0.0.1:51234".into() };
//! # let json = r#"
//! {"time":1764253920.5,"event":"sender_connected","peer":"127.0.0.1:51234"}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253920.5, event }.to_json(), json.trim());
//! ```
//!
//! ### `segment_started`
//! The segment file exists and holds the init segment: players can open it
//! while it grows. `start` is where it begins on the session's timeline
//! (the sum of the durations of the segments before it).
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::SegmentStarted { segment: 0, path: "sessions/20261127_101500/stream/recording_000.mp4".into(), start: 0.0 };
//! # let json = r#"
//! {"time":1764253920.6,"event":"segment_started","segment":0,"path":"sessions/20261127_101500/stream/recording_000.mp4","start":0.0}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253920.6, event }.to_json(), json.trim());
//! ```
//!
//! ### `frame`
//! A frame was written: the `frames/index.json` entry, field for field, and,
//! live, how long after the picture's packet arrived the entry was on disk.
//! `timestamp` (when the change began) and `picture_time` (the frame shown)
//! are on the segment's clock; `session_time` and `session_picture_time`
//! are the same on the session's timeline.
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let entry = serde_json::from_str(r#"{"id":"F0002","timestamp":4.0,"path":"frames/F0002.jpg","sent_to_agent":false,"segment":1,"score":0.61,"kind":"event","picture_time":4.4,"cause":"screen_change","session_time":29.04,"session_picture_time":29.44}"#).unwrap();
//! # let event = Event::Frame { entry, latency_ms: Some(52.5) };
//! # let json = r#"
//! {"time":1764253924.9,"event":"frame","id":"F0002","timestamp":4.0,"path":"frames/F0002.jpg","sent_to_agent":false,"segment":1,"score":0.61,"kind":"event","picture_time":4.4,"cause":"screen_change","session_time":29.04,"session_picture_time":29.44,"latency_ms":52.5}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253924.9, event }.to_json(), json.trim());
//! ```
//!
//! ### `audio_chunk`
//! An audio chunk was written: the `audio/index.json` entry's main fields.
//! `start` is on the segment's clock (negative when audio began before the
//! first picture), `session_start` on the session's timeline.
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::AudioChunk { id: "chunk_0000".into(), path: "audio/chunk_0000.wav".into(), start: -0.021, duration: 9.642, segment: 0, session_start: -0.021 };
//! # let json = r#"
//! {"time":1764253930.1,"event":"audio_chunk","id":"chunk_0000","path":"audio/chunk_0000.wav","start":-0.021,"duration":9.642,"segment":0,"session_start":-0.021}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253930.1, event }.to_json(), json.trim());
//! ```
//!
//! ### `transcript`
//! `--on-audio-chunk` finished a chunk; its standard output is the file.
//! The chunk's segment and times come along (the `transcript/index.json`
//! entry).
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::Transcript { id: "chunk_0000".into(), path: "transcript/chunk_0000.txt".into(), chunk: "audio/chunk_0000.wav".into(), segment: 0, start: -0.021, duration: 9.642, session_start: -0.021 };
//! # let json = r#"
//! {"time":1764253931.7,"event":"transcript","id":"chunk_0000","path":"transcript/chunk_0000.txt","chunk":"audio/chunk_0000.wav","segment":0,"start":-0.021,"duration":9.642,"session_start":-0.021}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253931.7, event }.to_json(), json.trim());
//! ```
//!
//! ### `warning`
//! Something was skipped or cannot be done; cht goes on. `kind` is one of
//! `discontinuity`, `recording_failed`, `track_not_recorded`,
//! `analysis_lag`, `analysis_backlog`, `unsupported_video`,
//! `audio_unsupported`, `resolution_change`, `video_analysis`,
//! `audio_analysis`, `frame_write_failed`, `frame_lost` (see
//! [`WarningKind`]); `message` says what happened and, when the fix is the
//! sender's, the fix.
//! ```
//! # use cht_events::{Event, EventRecord, WarningKind};
//! # let event = Event::Warning { kind: WarningKind::AnalysisLag, message: "analysis fell behind: skipped 12 access units to the next keyframe".into() };
//! # let json = r#"
//! {"time":1764253940.2,"event":"warning","kind":"analysis_lag","message":"analysis fell behind: skipped 12 access units to the next keyframe"}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253940.2, event }.to_json(), json.trim());
//! ```
//! A stream the sender sends that is not recorded is named once per
//! connection, with the fix:
//! ```
//! # use cht_events::{Event, EventRecord, WarningKind};
//! # let event = Event::Warning { kind: WarningKind::TrackNotRecorded, message: "DTS audio (stream type 0x82) on PID 0x102 is not recorded; to record it, have the sender encode AAC (`-c:a aac`)".into() };
//! # let json = r#"
//! {"time":1764253940.3,"event":"warning","kind":"track_not_recorded","message":"DTS audio (stream type 0x82) on PID 0x102 is not recorded; to record it, have the sender encode AAC (`-c:a aac`)"}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253940.3, event }.to_json(), json.trim());
//! ```
//!
//! ### `stats`
//! Every 5 s: the live status, the object `GET /status` returns; each stage
//! contributes its own fields (see [`StatusBoard`]).
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let status = serde_json::json!({"session": "20261127_101500", "connected": true, "bytes_in": 2418024, "bytes_written": 2391205});
//! # let event = Event::Stats(status);
//! # let json = r#"
//! {"time":1764253945.0,"event":"stats","bytes_in":2418024,"bytes_written":2391205,"connected":true,"session":"20261127_101500"}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253945.0, event }.to_json(), json.trim());
//! ```
//!
//! ### `segment_finished`
//! The segment file is complete (the sender went away or cht stopped):
//! `--on-segment` runs on it.
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::SegmentFinished { segment: 0, path: "sessions/20261127_101500/stream/recording_000.mp4".into(), duration: 25.04, video_samples: 751, audio_samples: 1174, bytes: 3254110 };
//! # let json = r#"
//! {"time":1764253946.3,"event":"segment_finished","segment":0,"path":"sessions/20261127_101500/stream/recording_000.mp4","duration":25.04,"video_samples":751,"audio_samples":1174,"bytes":3254110}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253946.3, event }.to_json(), json.trim());
//! ```
//!
//! ### `sender_disconnected`
//! The sender went away: `reason` is `closed`, `idle` (nothing for
//! `--idle-timeout`), `shutdown`, `replaced` or `error: ...`.
//! ```
//! # use cht_events::{Event, EventRecord};
//! # let event = Event::SenderDisconnected { peer: "127.0.0.1:51234".into(), reason: "closed".into() };
//! # let json = r#"
//! {"time":1764253946.3,"event":"sender_disconnected","peer":"127.0.0.1:51234","reason":"closed"}
//! # "#;
//! # assert_eq!(EventRecord { seq: 0, time: 1764253946.3, event }.to_json(), json.trim());
//! ```

mod bus;
mod event;
mod status;

pub use bus::{EventBus, EventId, Replay, Subscription, DEFAULT_REPLAY};
pub use event::{Event, EventRecord, WarningKind};
pub use status::{LiveStatus, StatusBoard, StatusCell};
