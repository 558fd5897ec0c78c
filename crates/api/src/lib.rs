//! cht's HTTP API: what an agent or a page needs of every session, and,
//! inside `cht record`, of the recording under way.
//!
//! | method | path | what |
//! |---|---|---|
//! | GET | `/sessions` | every session ([`SessionInfo`]), newest first |
//! | GET | `/sessions/{id}` | one session: segments, duration, recording now or not |
//! | GET | `/sessions/{id}/timeline` | pictures, chunks, transcripts and segments in time order ([`TimelineEntry`]) |
//! | GET | `/sessions/{id}/frames` | picture entries; `?unsent=true`, `?since=SECONDS` |
//! | GET | `/sessions/{id}/frames/{frame}.jpg` | a picture; `?width=PIXELS` for a smaller one |
//! | GET | `/sessions/{id}/stream/{segment}.mp4` | a segment file, with byte ranges (`<video>` seeks, a live page follows it as it grows) |
//! | POST | `/sessions/{id}/frames/sent` | `{"ids": ["F0001"]}` → `{"updated": n}` |
//! | GET | `/sessions/{id}/transcript` | the transcripts as text; `?since=SECONDS` |
//! | GET | `/status` | the live status (live) |
//! | POST | `/capture` | writes the current picture now (live) |
//! | PUT | `/threshold` | `{"threshold": 0.2}`: scene threshold (live) |
//! | GET | `/frames` | the live session's picture entries (live) |
//! | POST | `/frames/sent` | marks the live session's pictures as sent (live) |
//! | GET | `/events` | Server-Sent Events with ids (live) |
//! | GET | `/openapi.json` | the OpenAPI 3.1 description of all of the above |
//!
//! "Live" endpoints answer 404 where nothing is recorded (`cht serve`).
//! Every error is `{"error": "..."}` with a 4xx/5xx status.
//!
//! **Times.** Everything carries its segment time (seconds on its segment's
//! clock, whose 0 is the segment's first picture) and its session time (the
//! segment's start on the session's timeline plus the segment time; see
//! `cht_session::SegmentTiming`). The timeline, the frame entries, the
//! chunks and the transcripts all use the same placement.
//!
//! **Security.** Loopback is not private: every request passes the
//! [`guard`] (a local `Host`, no foreign `Origin`, the per-run bearer token
//! of [`token`], JSON for every change) and the server runs under the
//! limits of [`http`]. [`serve`] puts it all together; [`router`] is the API
//! alone, for a server that adds pages of its own.
//!
//! Not here: recording, analysis (the API reads their files and calls the
//! analysis' `LiveControl`), the command line.

mod catalog;
pub mod client;
mod error;
pub mod guard;
pub mod http;
mod media;
mod openapi;
mod routes;
mod server;
mod sse;
pub mod token;

pub use catalog::{
    clock, transcript_text, Catalog, CatalogError, FrameQuery, SegmentInfo, SessionInfo,
    TimelineEntry, TranscriptLine,
};
pub use error::{ApiError, ServeError};
pub use openapi::DOCUMENT as OPENAPI;
pub use routes::{router, Route, ROUTES};
pub use server::{serve, ApiServer, ServeOptions};
