//! Scene frames on disk: decoded pictures become `F0001.jpg`, `F0002.jpg`...
//! in a session's `frames/` directory, listed in an `index.json` that other
//! programs (the agent) read while the session runs.
//!
//! What it does: limited/full-range BT.601/709/2020 YUV 4:2:0 to RGB
//! ([`yuv420_to_rgb`]), JPEG encoding with `jpeg-encoder`, atomic files
//! (temporary name in the same directory, then rename), numbering that
//! continues across resumed sessions, and a background writer thread so JPEG
//! encoding never runs on the decoding thread.
//!
//! What it does NOT do: decide which pictures are scene changes (`cht-scene`),
//! decode video (the decoders behind `cht_core::DecoderRegistry`; pictures
//! are `cht_core::Picture`s, so this crate builds no decoder), or notify
//! anyone (callers turn the returned [`FrameEntry`]s into events).
//!
//! Push model: the caller hands pictures to [`FrameStore::write`] directly,
//! or to [`FrameWriterThread::submit`], which queues them for a worker thread
//! and blocks the submitting (analysis) thread only when that queue is full.

mod error;
mod index;
mod jpeg;
mod scale;
mod store;
mod writer_thread;
mod yuv_to_rgb;

pub use error::FramesError;
pub use index::{FrameEntry, FrameKind};
pub use jpeg::{encode_jpeg, DEFAULT_QUALITY};
pub use scale::{scale_jpeg, MIN_WIDTH};
pub use store::{FrameMeta, FrameStore, FrameStoreOptions};
pub use writer_thread::FrameWriterThread;
pub use yuv_to_rgb::{yuv420_to_rgb, YuvMatrix};
