//! The built-in demo sender: a synthetic screen share, made in-process and
//! sent as a live MPEG-TS stream (H.264 + AAC) over TCP.
//!
//! It lets a newcomer with no ffmpeg and no second machine watch the
//! recorder work: slides that switch every few seconds (scene cuts), a
//! moving mouse pointer and text being typed (small changes that are not
//! cuts), and a looping voice clip (audio chunks). Pictures are drawn into
//! I420 buffers with the `font8x8` bitmap font, encoded with openh264
//! (Baseline, IDR at each slide switch and at least every 2 s), and muxed
//! with `mpeg2ts` the way ffmpeg's muxer lays out a stream: PAT/PMT every
//! 100 ms, video on PID 0x100 with the PCR, ADTS audio on 0x101, timestamps
//! starting at 1.4 s, an access unit delimiter before every picture.
//!
//! Who drives: [`DemoSource`] is pulled: the caller asks for the next chunk
//! of TS bytes and gets it as fast as it can be made, with its media time.
//! [`send_demo`] is that caller for the real thing: it connects to the
//! recorder and pushes chunks over TCP at real-time pace.
//!
//! What it is NOT for: testing robustness (the stream is clean: no loss, no
//! garbage, no timestamp wraps within 26 h), or reading, recording or
//! analysing anything. It never runs ffmpeg.

mod audio_loop;
mod colour;
mod deck;
mod error;
mod options;
mod picture;
mod pointer;
mod renderer;
mod sender;
mod source;
mod stats;
mod text;
mod ts_mux;
mod video_encoder;

pub use error::DemoError;
pub use options::DemoOptions;
pub use sender::send_demo;
pub use source::{DemoSource, START_PTS};
pub use stats::DemoStats;
pub use ts_mux::{AUDIO_PID, PMT_PID, VIDEO_PID};
