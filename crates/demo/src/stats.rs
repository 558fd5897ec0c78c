//! Counters of what the demo produced and sent.

use std::time::Duration;

/// Totals for one demo run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DemoStats {
    /// Pictures encoded.
    pub video_frames: u64,
    /// IDR access units among `video_frames`.
    pub keyframes: u64,
    /// AAC frames sent.
    pub audio_frames: u64,
    /// TS bytes produced (and, from `send_demo`, written to the socket).
    pub bytes: u64,
    /// Media time covered, in seconds.
    pub media_secs: f64,
    /// Wall-clock time spent sending; zero for an unpaced `DemoSource`.
    pub elapsed: Duration,
    /// Worst delay of a chunk behind its real-time schedule, in seconds:
    /// near zero when rendering and encoding keep up.
    pub max_lateness_secs: f64,
}
