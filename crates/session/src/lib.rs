//! The on-disk layout of a cht session:
//! `<sessions-dir>/<id>/{stream,frames,audio,transcript,agent}`.
//!
//! This crate owns the layout: it names, validates, creates and finds
//! sessions, lists their segments (the one listing `cht probe`, `cht
//! sessions` and `cht analyze` share), numbers the files inside them
//! (`stream/recording_NNN.mp4`, `frames/F0001.jpg`, `audio/chunk_0000.wav`)
//! and writes the `index.json` files consumers read, atomically. It decides
//! *where* things go; it writes no media and keeps no counters in memory:
//! the next number always comes from what is on disk, so a resumed session
//! never overwrites anything.
//!
//! It also says where everything sits in time (the session's timeline:
//! segment time and session time, see [`SegmentTiming`]) and who writes a
//! session now (the lock of a recording, see [`SessionLock`]).
//!
//! Session ids come from users and agents, so they are validated before they
//! touch the file system: `..`, separators, absolute paths and symlinks that
//! leave the sessions directory are refused.

mod atomic;
mod error;
mod id;
mod index;
mod layout;
mod lock;
pub mod numbering;
mod session;
mod timeline;

pub use atomic::{write_atomically, Durability};
pub use error::SessionError;
pub use id::{validate_session_id, SessionId};
pub use index::{JsonIndex, INDEX_FILE};
pub use layout::{
    Layout, Segment, AGENT_DIR, AUDIO_DIR, FRAMES_DIR, STREAM_DIR, SUBDIRS, TRANSCRIPT_DIR,
};
pub use lock::{recorder_of, RecorderInfo, SessionLock, LOCK_FILE};
pub use session::{Session, SessionsDir};
pub use timeline::{round_ms, SegmentEntry, SegmentTiming};

/// Seconds since the Unix epoch, now.
pub fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}
